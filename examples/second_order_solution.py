# Reference solution to problem_sets/second_order.yaml ("Hessians, directional derivatives
# and Taylor approximation"). Every answer is correct, so it scores full marks:
#
#     mcgrade grade examples/second_order_solution.py --problems problem_sets/second_order.yaml
import numpy as np

# hess_pq: gradient [3p^2 q, p^3 + 2q], differentiated again by p and q.
hess_pq = "Matrix([[6*p*q, 3*p**2], [3*p**2, 2]])"

# hess_pq_at: at (1, 2).
hess_pq_at = np.array([[12.0, 3.0], [3.0, 2.0]])

# hess_quadratic: the symmetric part of B (a.T @ x is linear: no second derivative).
hess_quadratic = "B/2 + B.T/2"

# hess_sum_exp: no mixed partials.
hess_sum_exp = "diag(exp(x))"

# hess_logistic: sigma'(s) a a^T with s = a^T x.
hess_logistic = "exp(a.T @ x) / (1 + exp(a.T @ x))**2 * (a @ a.T)"

# dir_quadratic: the gradient 2 x^T A times the direction v.
dir_quadratic = "2 * v.T @ A @ x"

# dir_value: [2pq, p^2] = [4, 1] dotted with (3/5, 4/5).
dir_value = 3.2

# dir_second: v^T diag(e^x) v = sum_i e^{x_i} v_i^2.
dir_second = "sum(exp(x) * v**2)"

# taylor_grad: [2pq, p^2 + 3q^2] at (1, 1).
taylor_grad = [[2, 4]]

# taylor_hess: [[2q, 2p], [2p, 6q]] at (1, 1).
taylor_hess = [[2, 2], [2, 6]]

# taylor_quadratic: f + grad f d + d^T H d / 2 with d = (p - 1, q - 1).
taylor_quadratic = "2 + 2*(p - 1) + 4*(q - 1) + (p - 1)**2 + 2*(p - 1)*(q - 1) + 3*(q - 1)**2"

# taylor_value: 2 + (0.2 - 0.8) + (0.02 - 0.08 + 0.24)/2.
taylor_value = 1.49

# taylor_model: sum_i e^{x_i}(1 + d_i + d_i^2/2).
taylor_model = "sum(exp(x) * (1 + d + d**2/2))"
