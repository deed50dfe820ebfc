# Reference solution to problem_sets/jacobians.yaml ("Jacobians and their shapes"). Every
# answer is correct, so it scores full marks:
#
#     mcgrade grade examples/jacobians_solution.py --problems problem_sets/jacobians.yaml
#
# Numerator layout: one row per output, one column per input.
import numpy as np

# jac_fg: row 1 is the gradient of 3s^2 t, row 2 that of 2s + t^8.
jac_fg = "Matrix([[6*s*t, 3*s**2], [2, 8*t**7]])"

# jac_fg_at: the same at (s, t) = (1, -1), as a nested list.
jac_fg_at = [[-6, 3], [2, -8]]

# jac_identity: dx_i/dx_j is 1 on the diagonal, 0 elsewhere.
jac_identity = "eye(n)"

# jac_shape: m outputs by n inputs (a tuple of dimension names).
jac_shape = ("m", "n")

# shape_vec_by_scalar: a vector by a scalar is a column.
shape_vec_by_scalar = "(n, 1)"

# shape_scalar_by_matrix: a scalar by an m×n matrix is n×m in numerator layout.
shape_scalar_by_matrix = "n x m"

# jac_affine: the constant c drops out; row i is row i of W.
jac_affine = "W"

# grad_by_matrix: d(u_i W_ij x_j)/dW_ij = u_i x_j, placed at (j, i).
grad_by_matrix = "x @ u.T"

# jac_sin: element-wise, so diagonal.
jac_sin = "diag(cos(x))"

# jac_softplus: e^x/(1 + e^x) is the sigmoid, on the diagonal.
jac_softplus = "diag(exp(x) / (1 + exp(x)))"
