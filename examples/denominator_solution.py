# Reference solution to problem_sets/denominator.yaml ("Core gradients in denominator
# layout"). Every answer is correct, so it scores full marks:
#
#     mcgrade grade examples/denominator_solution.py --problems problem_sets/denominator.yaml
#
# Denominator layout is the transpose of Parr & Howard's numerator layout: the gradient of
# a scalar by an n×1 column is an n×1 column, the derivative of an m-vector by an
# n-vector is n×m (column i is the gradient of output i), and of a scalar by an m×n
# matrix it is m×n.
import numpy as np

# grad_aTx: a.T @ x = sum_i a_i x_i, so df/dx_i = a_i: the column a.
grad_aTx = "a"

# grad_xTAx: the product rule gives A x + A.T x, both n×1.
grad_xTAx = "(A + A.T) @ x"

# grad_xTSx: S.T = S, so the two terms are equal.
grad_xTSx = "2 * S @ x"

# grad_at: 2x at x = [1, 2, 3], a 3×1 column.
grad_at = np.array([[2.0], [4.0], [6.0]])

# jac_Wx: column i is the gradient of (W x)_i = W[i, :] @ x: row i of W, as a column.
jac_Wx = "W.T"

# jac_shape: inputs by outputs, n×m.
jac_shape = ("n", "m")

# dz_dw: z = w.T @ x + b, so dz/dw_i = x_i: the column x.
dz_dw = "x"

# neuron_dw: relu'(z) times the column x; relu'(z) is 1 for z > 0 and 0 for z < 0.
neuron_dw = "Heaviside(w.T @ x + b) * x"

# loss_grad: with e = X @ w - y, the chain rule gives X.T (2 e), an n×1 column.
loss_grad = "2 * X.T @ (X @ w - y)"

# grad_trace: tr(C M) = sum_ij C_ji M_ij, so entry (i, j) is C_ji: the matrix C.T.
grad_trace = "C.T"

# grad_logdet: d det(Y)/dY_ij is the cofactor det(Y) inv(Y)_ji, divided by det(Y).
grad_logdet = "inv(Y).T"

# hess_xAx: the derivative of the gradient (A + A.T) x, symmetric in both layouts.
hess_xAx = "A + A.T"
