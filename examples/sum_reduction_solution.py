# Reference solution to problem_sets/sum_reduction.yaml ("Vector sum reduction"). Every
# answer is correct, so it scores full marks:
#
#     mcgrade grade examples/sum_reduction_solution.py --problems problem_sets/sum_reduction.yaml
#
# A sum is a scalar: its derivative by an n×1 vector is a 1×n row.
import numpy as np

# sum_dx: each x_j contributes 1.
sum_dx = "ones(n, 1).T"

# sum_xz_dx: each x_j contributes z.
sum_xz_dx = "z * ones(1, n)"

# sum_xz_dz: the sum of the derivatives x_i.
sum_xz_dz = "ones(1, n) @ x"

# sum_exp_dx: entry j is e^{x_j}.
sum_exp_dx = "transpose(exp(x))"

# dot_dw: ones(1, n) @ diag(x) = x.T.
dot_dw = "ones(1, n) @ diag(x)"

# mean_dx: the constant 1/n stays.
mean_dx = "ones(1, n) / n"

# sum_Wx_dx: the column sums of W.
sum_Wx_dx = "sum(W, 0)"

# sum_cubes_at: 3 x_j^2 at [1, -1, 2], as a 1×3 array.
sum_cubes_at = np.array([[3.0, 3.0, 12.0]])

# shape_sum_by_W: a scalar by an m×n matrix is n×m in numerator layout.
shape_sum_by_W = ("n", "m")
