# Reference solution to problem_sets/elementwise.yaml ("Element-wise binary operators").
# Every answer is correct, so it scores full marks:
#
#     mcgrade grade examples/elementwise_solution.py --problems problem_sets/elementwise.yaml
#
# Output i depends only on w_i and x_i, so every Jacobian is diagonal.
import numpy as np

# add_dw: d(w_i + x_i)/dw_i = 1.
add_dw = "eye(n)"

# add_dx: the same by x.
add_dx = "diag(ones(n, 1))"

# sub_dw: d(w_i - x_i)/dw_i = 1.
sub_dw = "eye(n)"

# sub_dx: d(w_i - x_i)/dx_i = -1.
sub_dx = "-1 * eye(n)"

# mul_dw: d(w_i x_i)/dw_i = x_i.
mul_dw = "diag(x)"

# mul_dx: d(w_i x_i)/dx_i = w_i.
mul_dx = "diag(w)"

# div_dw: d(w_i/x_i)/dw_i = 1/x_i.
div_dw = "diag(1/x)"

# div_dx: d(w_i/x_i)/dx_i = -w_i/x_i^2.
div_dx = "-diag(w) @ diag(x**-2)"

# mul_at: diag(x) at x = [3, -1], as a 2-D numpy array.
mul_at = np.diag([3.0, -1.0])

# general_dw: 2 w_i e^{x_i} on the diagonal.
general_dw = "2 * diag(w) @ diag(exp(x))"
