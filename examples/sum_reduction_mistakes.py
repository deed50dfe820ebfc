# Typical mistakes on problem_sets/sum_reduction.yaml ("Vector sum reduction"), one per
# problem, each commented with the diagnosis it should get:
#
#     mcgrade grade examples/sum_reduction_mistakes.py --problems problem_sets/sum_reduction.yaml
import numpy as np

# sum_dx: a column -> transposed (half credit)
sum_dx = "ones(n, 1)"

# sum_xz_dx: the Jacobian of x z, not reduced by the sum -> elementwise-vs-matrix
sum_xz_dx = "z * eye(n)"

# sum_xz_dz: forgot to sum -> author-mistake
sum_xz_dz = "x"

# sum_exp_dx: the Jacobian of exp(x) before the sum -> elementwise-vs-matrix
sum_exp_dx = "diag(exp(x))"

# dot_dw: a column -> transposed (half credit)
dot_dw = "x"

# mean_dx: dropped the constant 1/n -> author-mistake
mean_dx = "ones(1, n)"

# sum_Wx_dx: dropped the sum's Jacobian ones(1, m) (a chain-rule term) -> author-mistake
sum_Wx_dx = "W"

# sum_cubes_at: right numbers in a 1-D array -> flat-array
sum_cubes_at = np.array([3.0, 3.0, 12.0])

# shape_sum_by_W: the shape of W (denominator layout) -> transposed
shape_sum_by_W = ("m", "n")
