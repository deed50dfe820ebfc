# Typical mistakes on problem_sets/neuron.yaml ("Gradient of a neuron and of a loss"), one
# per problem, each commented with the diagnosis it should get:
#
#     mcgrade grade examples/neuron_mistakes.py --problems problem_sets/neuron.yaml
import numpy as np

# dz_dw: the gradient as a column (denominator layout) -> transposed (half credit)
dz_dw = "x"

# dz_db: b treated as a constant, like x -> author-mistake
dz_db = 0

# grad_shape: the shape of w itself, a column -> transposed
grad_shape = ("n", 1)

# jac_shape: the shape of W @ x, not of its Jacobian -> wrong-shape
jac_shape = ("m", 1)

# jac_Wx: columns are gradients (denominator layout) -> transposed
jac_Wx = "W.T"

# jac_wx_elementwise: the diagonal as a vector, without diag -> elementwise-vs-matrix
jac_wx_elementwise = "w"

# expand_db: one derivative, forgetting that y has n entries -> wrong-shape
expand_db = "1"

# expand_dx: every y_i taken to depend on every x_j -> author-mistake
expand_dx = "ones(n, n)"

# sum_grad: a column of ones -> transposed
sum_grad = "ones(n, 1)"

# sum_sq_grad: dropped the factor 2 of d(x_i^2)/dx_i -> scale-factor
sum_sq_grad = "x.T"

# neuron_dw: relu(z) itself in place of its derivative relu'(z) -> author-mistake
neuron_dw = "relu(w.T @ x + b) * x.T"

# neuron_db: the ReLU treated as the identity (its active branch) -> piecewise-branch
neuron_db = "1"

# neuron_at: right numbers, but a 1-D array -> flat-array
neuron_at = np.array([2.0, 1.0])

# layer_jac: no relu'(z) mask, every neuron taken as active -> piecewise-branch
layer_jac = "W"

# loss_grad: the error taken as y - X w instead of X w - y -> sign
loss_grad = "2 * (y - X @ w).T @ X"

# hess_xAx: forgot that x appears twice in x.T A x (a factor 2) -> scale-factor
hess_xAx = "A"

# grad_uv: the partials stacked as a column -> transposed
grad_uv = "Matrix([[6*u*v], [3*u**2]])"
