# Sample submission (fictional student "Alice") for problem_sets/neuron.yaml, showing what
# mcgrade reports for a realistic mix of answers: most are right, some are transposed
# (column gradients, the habit of denominator layout), and a few are wrong in the ways
# students usually are wrong. Grade it with:
#
#     mcgrade grade examples/neuron_alice.py --problems problem_sets/neuron.yaml
import numpy as np

# Gradient of z = w.T @ x + b. I think of gradients as columns... (transposed: half credit)
dz_dw = "x"
dz_db = 1.0

grad_shape = (1, "n")
jac_shape = ("n", "m")                 # rows and columns swapped

jac_Wx = "W.T"                         # transposed
jac_wx_elementwise = "w"               # forgot the diag

expand_db = "ones(n)"
expand_dx = "eye(n)"
sum_grad = "ones(1, n)"
sum_sq_grad = "x.T"                    # dropped the factor 2

# Neuron activation relu(w.T @ x + b)
neuron_dw = "x.T"                      # forgot relu'(z)
neuron_db = "(sign(w.T @ x + b) + 1)/2"

neuron_at = np.array([2.0, 1.0])       # right numbers, but a 1-D array

layer_jac = "diag(Heaviside(W @ x + c)) @ W"

loss_grad = "2 * X.T @ (X @ w - y)"    # the denominator-layout form (transposed)

hess_xAx = "2*A"
grad_uv = "Matrix([[6*u*v, 3*u**2]])"
