# Reference solution to problem_sets/identities.yaml ("Matrix-calculus identities"). Every
# answer is correct, so it scores full marks:
#
#     mcgrade grade examples/identities_solution.py --problems problem_sets/identities.yaml
#
# Numerator layout: the derivative of a scalar by an n×1 column is a 1×n row, of an
# m-vector by an n-vector m×n (row i is the gradient of output i), of a scalar by an m×n
# matrix n×m.

# grad_aTx: a^T x = sum_i a_i x_i, so df/dx_i = a_i: the row a^T.
grad_aTx = "a.T"

# grad_xTAx: x appears twice, product rule: x^T A + (A x)^T = x^T (A + A^T).
grad_xTAx = "x.T @ (A + A.T)"

# grad_xTSx: the same with S^T = S: x^T (S + S^T) = 2 x^T S.
grad_xTSx = "2 * x.T @ S"

# jac_Ax: output i is row i of A dotted with x, so row i of the Jacobian is row i of A.
jac_Ax = "A"

# jac_Bx: the same argument for m×n B: an m×n Jacobian.
jac_Bx = "B"

# grad_norm_sq: ||x||^2 = x^T x, whose gradient is 2 x^T.
grad_norm_sq = "2 * x.T"

# grad_norm: ||x|| = sqrt(u) with u = x^T x: (1/(2 sqrt(u))) * 2 x^T = x^T/||x||.
grad_norm = "x.T / norm(x)"

# softmax_jac: ds_i/dz_j = s_i (delta_ij - s_j), i.e. diag(s) - s s^T.
softmax_jac = "diag(softmax(z)) - softmax(z) @ softmax(z).T"

# logsumexp_grad: (1/sum_j e^{z_j}) e^{z_i} = softmax(z)_i, as a row.
logsumexp_grad = "softmax(z).T"

# chain_sin: cos of the inner function, times the inner derivative 2t.
chain_sin = "2*t*cos(t**2)"

# expanded_power: the power rule, times d(s + t + 1)/dt = 1.
expanded_power = "20*(s + t + 1)**19"

# total_derivative: df/dt + (df/du)(du/dt) = u cos(t) + sin(t) * 2t, with u = t^2.
total_derivative = "t**2*cos(t) + sin(t)*2*t"

# chain_sigmoid: the outer Jacobian diag(sigma'(Wx)) times the inner Jacobian W.
chain_sigmoid = "diag(sigmoid(W @ x) * (1 - sigmoid(W @ x))) @ W"

# directional: the gradient exp(x)^T applied to the direction v.
directional = "exp(x).T @ v"

# grad_trace: tr(CX) = sum_ij C_ji X_ij, so entry (j, i) of the derivative is C_ji: C.
grad_trace = "C"

# grad_logdet: d log det Y/dY_ij = (Y^{-1})_ji, which is entry (j, i) of Y^{-1}.
grad_logdet = "inv(Y)"
