# Typical mistakes on problem_sets/jacobians.yaml ("Jacobians and their shapes"), one per
# problem, each commented with the diagnosis it should get:
#
#     mcgrade grade examples/jacobians_mistakes.py --problems problem_sets/jacobians.yaml
import numpy as np

# jac_fg: gradients as columns instead of rows -> transposed (half credit)
jac_fg = "Matrix([[6*s*t, 2], [3*s**2, 8*t**7]])"

# jac_fg_at: the same, in numbers -> transposed
jac_fg_at = np.array([[-6.0, 2.0], [3.0, -8.0]])

# jac_identity: the diagonal as a vector, without diag -> elementwise-vs-matrix
jac_identity = "ones(n, 1)"

# jac_shape: inputs by outputs -> transposed
jac_shape = ("n", "m")

# shape_vec_by_scalar: a row -> transposed
shape_vec_by_scalar = (1, "n")

# shape_scalar_by_matrix: the shape of W itself (denominator layout) -> transposed
shape_scalar_by_matrix = ("m", "n")

# jac_affine: columns are gradients -> transposed (half credit)
jac_affine = "W.T"

# grad_by_matrix: entry (i, j) = df/dW_ij (denominator layout) -> transposed (half credit)
grad_by_matrix = "u @ x.T"

# jac_sin: forgot diag -> elementwise-vs-matrix
jac_sin = "cos(x)"

# jac_softplus: dropped the inner chain-rule term e^x -> author-mistake
jac_softplus = "diag(1/(1 + exp(x)))"
