# Typical mistakes on problem_sets/loss.yaml ("The gradient of the loss"), one per
# problem, each commented with the diagnosis it should get:
#
#     mcgrade grade examples/loss_mistakes.py --problems problem_sets/loss.yaml
import numpy as np

# mse_dw: the gradient as a column (denominator layout) -> transposed (half credit)
mse_dw = "2/N * X.T @ (X @ w + b - y)"

# mse_db: forgot to sum over the examples -> author-mistake
mse_db = "2/N * (X @ w + b - y)"


# mse_grad_fn: right values, returned as a 1-D array -> flat-array
def mse_grad_fn(w, b, X, y):
    errors = X @ w + b - y
    return (2 / len(y) * errors.T @ X).ravel()


# grad_shape: the shape of X itself (denominator layout) -> transposed
grad_shape = ("N", "n")

# relu_dw: the ReLU treated as the identity (its active branch) -> piecewise-branch
relu_dw = "2/N * (X @ w + b - y).T @ X"

# relu_db: the error taken as y - a instead of a - y -> sign
relu_db = "2/N * sum((y - relu(X @ w + b)) * Heaviside(X @ w + b))"


# relu_grad_fn: no mask for the inactive examples -> piecewise-branch
def relu_grad_fn(w, b, X, y):
    z = X @ w + b
    return 2 / len(y) * (z - y).T @ X


# relu_dw_at: every neuron treated as active -> author-mistake
relu_dw_at = np.array([[-4 / 3, -10 / 3]])
