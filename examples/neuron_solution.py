# Sample submission: a model solution to problem_sets/neuron.yaml ("Gradient of a neuron
# and of a loss"), written the way a strong student might. Every answer is correct, so it
# scores full marks:
#
#     mcgrade grade examples/neuron_solution.py --problems problem_sets/neuron.yaml
#
# Answers are strings in mcgrade's expression language (numpy-like: @ is the matrix
# product, * and ** are element-wise, .T transposes), a shape tuple, or numbers.
import numpy as np

# z = w.T @ x + b; numerator layout: the gradient by a column is a row.
dz_dw = "x.T"
dz_db = 1

# Shapes, in terms of the dimensions.
grad_shape = (1, "n")
jac_shape = ("m", "n")

# Jacobians.
jac_Wx = "W"
jac_wx_elementwise = "diag(w)"         # element-wise product: a diagonal Jacobian

# Scalar expansion and sum reduction.
expand_db = "ones(n, 1)"
expand_dx = "eye(n)"
sum_grad = "ones(n).T"
sum_sq_grad = "2*x.T"

# The neuron: relu'(z) is a step, written with Heaviside (Piecewise or sign work too).
neuron_dw = "Heaviside(w.T @ x + b) * x.T"
neuron_db = "Piecewise((1, w.T @ x + b > 0), (0, True))"

# At w = [1, -1], x = [2, 1], b = 0 the neuron is active (z = 1), so the gradient is x.T.
neuron_at = np.array([[2.0, 1.0]])

# A layer of ReLUs: row i of the Jacobian is relu'(z_i) times row i of W.
layer_jac = "diag(Heaviside(W @ x + c)) @ W"

# Squared-error loss over N examples, by the chain rule through the errors e = X @ w - y.
loss_grad = "2 * (X @ w - y).T @ X"

hess_xAx = "A + A.T"                   # = 2A, since A is symmetric
grad_uv = "Matrix([[6*u*v, 3*u**2]])"
