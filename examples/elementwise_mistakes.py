# Typical mistakes on problem_sets/elementwise.yaml ("Element-wise binary operators"), one
# per problem, each commented with the diagnosis it should get:
#
#     mcgrade grade examples/elementwise_mistakes.py --problems problem_sets/elementwise.yaml
import numpy as np

# add_dw: the diagonal as a vector, without diag -> elementwise-vs-matrix
add_dw = "ones(n, 1)"

# add_dx: a scalar for an n×n Jacobian -> wrong-shape
add_dx = "1"

# sub_dw: carried the minus sign over to w -> sign
sub_dw = "-eye(n)"

# sub_dx: forgot the minus sign -> sign
sub_dx = "eye(n)"

# mul_dw: forgot diag -> elementwise-vs-matrix
mul_dw = "x"

# mul_dx: the derivative by w instead -> not-equivalent
mul_dx = "diag(x)"

# div_dw: forgot diag -> elementwise-vs-matrix
div_dw = "1/x"

# div_dx: lost the minus sign of d(1/x)/dx -> sign
div_dx = "diag(w / x**2)"

# mul_at: the diagonal only, as a 1-D array -> elementwise-vs-matrix
mul_at = np.array([3.0, -1.0])

# general_dw: dropped the factor exp(x) -> author-mistake
general_dw = "diag(2*w)"
