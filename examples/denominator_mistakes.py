# Typical mistakes on problem_sets/denominator.yaml ("Core gradients in denominator
# layout"), one per problem, each commented with the diagnosis it should get. The most
# common one is the numerator layout of Parr & Howard carried over (a row for a column):
#
#     mcgrade grade examples/denominator_mistakes.py --problems problem_sets/denominator.yaml
import numpy as np

# grad_aTx: the gradient as a row (numerator layout) -> transposed
grad_aTx = "a.T"

# grad_xTAx: x.T (A + A.T), the numerator-layout row -> transposed
grad_xTAx = "x.T @ (A + A.T)"

# grad_xTSx: forgot the factor 2 of the product rule -> scale-factor
grad_xTSx = "S @ x"

# grad_at: the right numbers as a row (numerator layout) -> transposed
grad_at = np.array([[2.0, 4.0, 6.0]])

# jac_Wx: the numerator-layout Jacobian W (rows are gradients) -> transposed
jac_Wx = "W"

# jac_shape: outputs by inputs (numerator layout) -> transposed
jac_shape = ("m", "n")

# dz_dw: w.T @ x taken for the element-wise w * x, so diag(x) -> elementwise-vs-matrix
dz_dw = "diag(x)"

# neuron_dw: the ReLU treated as the identity (its active branch) -> piecewise-branch
neuron_dw = "x"

# loss_grad: the error taken as y - X w instead of X w - y -> sign
loss_grad = "2 * X.T @ (y - X @ w)"

# grad_trace: entry (j, i) for entry (i, j), as in numerator layout -> transposed
grad_trace = "C"

# grad_logdet: 1/det(Y), dropped the inner derivative d det(Y)/dY -> wrong-shape
grad_logdet = "1/det(Y)"

# hess_xAx: assumed A symmetric -> author-mistake
hess_xAx = "2*A"
