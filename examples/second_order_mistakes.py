# Typical mistakes on problem_sets/second_order.yaml ("Hessians, directional derivatives
# and Taylor approximation"), one per problem, each commented with the diagnosis it should
# get:
#
#     mcgrade grade examples/second_order_mistakes.py --problems problem_sets/second_order.yaml
import numpy as np

# hess_pq: forgot the mixed partials -> author-mistake
hess_pq = "Matrix([[6*p*q, 0], [0, 2]])"

# hess_pq_at: every entry doubled -> scale-factor (2)
hess_pq_at = np.array([[24.0, 6.0], [6.0, 4.0]])

# hess_quadratic: assumed B symmetric -> author-mistake
hess_quadratic = "B"

# hess_sum_exp: the diagonal as a vector, without diag -> elementwise-vs-matrix
hess_sum_exp = "exp(x)"

# hess_logistic: dropped the chain-rule factor sigma'(a.T x) -> author-mistake
hess_logistic = "a @ a.T"

# dir_quadratic: the gradient, not applied to the direction v -> author-mistake
dir_quadratic = "2 * x.T @ A"

# dir_value: stepped in the direction -u -> sign
dir_value = -3.2

# dir_second: the first directional derivative -> author-mistake
dir_second = "exp(x).T @ v"

# taylor_grad: right numbers in a 1-D array -> flat-array
taylor_grad = np.array([2.0, 4.0])

# taylor_hess: halved (the ½ of the model put inside H) -> scale-factor (1/2)
taylor_hess = [[1, 1], [1, 3]]

# taylor_quadratic: the mixed term of d^T H d counted once, not twice -> author-mistake
taylor_quadratic = "2 + 2*(p - 1) + 4*(q - 1) + (2*(p - 1)**2 + 2*(p - 1)*(q - 1) + 6*(q - 1)**2) / 2"

# taylor_value: forgot the ½ of the quadratic term -> not-equivalent
taylor_value = 1.58

# taylor_model: forgot the ½ of the quadratic term -> author-mistake
taylor_model = "sum(exp(x)) + exp(x).T @ d + d.T @ diag(exp(x)) @ d"
