# Reference solution to problem_sets/loss.yaml ("The gradient of the loss"). Every answer
# is correct, so it scores full marks:
#
#     mcgrade grade examples/loss_solution.py --problems problem_sets/loss.yaml
#
# With e = X @ w + b - y (the errors), C = sum(e**2)/N, so dC/de = (2/N) e^T and the chain
# rule multiplies by de/dw = X, or by de/db = ones(N, 1).
import numpy as np

# mse_dw: (2/N) e^T X, a 1×n row.
mse_dw = "2/N * (X @ w + b - y).T @ X"

# mse_db: (2/N) e^T ones(N, 1), the sum of the errors.
mse_db = "2 * sum(X @ w + b - y) / N"


# mse_grad_fn: the same gradient, computed with numpy.
def mse_grad_fn(w, b, X, y):
    errors = X @ w + b - y
    return 2 / len(y) * errors.T @ X


# grad_shape: a scalar by an N×n matrix is n×N in numerator layout.
grad_shape = ("n", "N")

# relu_dw: only active examples (z > 0) pass their error back.
relu_dw = "2/N * ((relu(X @ w + b) - y) * Heaviside(X @ w + b)).T @ X"

# relu_db: the same errors, summed.
relu_db = "2/N * sum(Piecewise((X @ w + b - y, X @ w + b > 0), (0, True)))"


# relu_grad_fn: mask the errors of the inactive examples.
def relu_grad_fn(w, b, X, y):
    z = X @ w + b
    active = (z > 0).astype(float)
    return 2 / len(y) * ((np.maximum(z, 0) - y) * active).T @ X


# relu_dw_at: z = [-1/2, -1/2, 1/2]; only example 3 is active: (2/3)(1/2 - 1)[1, 1].
relu_dw_at = np.array([[-1 / 3, -1 / 3]])
