# Sample submission: a model solution to problem_sets/neuron.yaml ("Gradient of a neuron
# and of a loss"), written the way a strong student might. Every answer is correct, so it
# scores full marks:
#
#     mcgrade grade examples/neuron_solution.py --problems problem_sets/neuron.yaml
#
# Answers are strings in mcgrade's expression language (numpy-like: @ is the matrix
# product, * and ** are element-wise, .T transposes), a shape tuple, or numbers.
import numpy as np

# dz_dw: z = w.T @ x + b; numerator layout, so the gradient by a column is a row
dz_dw = "x.T"

# dz_db: b enters z once, with coefficient 1
dz_db = 1

# grad_shape: a scalar by an n-vector is 1 x n
grad_shape = (1, "n")

# jac_shape: an m-vector by an n-vector is m x n (outputs by inputs)
jac_shape = ("m", "n")

# jac_Wx: the Jacobian of W x is W itself (its rows are the gradients)
jac_Wx = "W"

# jac_wx_elementwise: an element-wise product has a diagonal Jacobian
jac_wx_elementwise = "diag(w)"

# expand_db: b added to every entry; each output moves one for one with b
expand_db = "ones(n, 1)"

# expand_dx: x + b*1 by x is the identity
expand_dx = "eye(n)"

# sum_grad: each x_i counts once in the sum
sum_grad = "ones(n).T"

# sum_sq_grad: d(x_i**2)/dx_i = 2 x_i, as a row
sum_sq_grad = "2*x.T"

# neuron_dw: relu'(z) is a step, written with Heaviside (Piecewise or sign work too)
neuron_dw = "Heaviside(w.T @ x + b) * x.T"

# neuron_db: the same step, times dz/db = 1
neuron_db = "Piecewise((1, w.T @ x + b > 0), (0, True))"

# neuron_at: at w = [1, -1], x = [2, 1], b = 0 the neuron is active (z = 1): x.T
neuron_at = np.array([[2.0, 1.0]])

# layer_jac: row i of the Jacobian is relu'(z_i) times row i of W
layer_jac = "diag(Heaviside(W @ x + c)) @ W"

# loss_grad: the chain rule through the errors e = X @ w - y
loss_grad = "2 * (X @ w - y).T @ X"

# hess_xAx: A + A.T, which is 2A when A is symmetric
hess_xAx = "A + A.T"

# grad_uv: f = 3 u**2 v, so [df/du, df/dv] = [6uv, 3u**2], a 1 x 2 row
grad_uv = "Matrix([[6*u*v, 3*u**2]])"
