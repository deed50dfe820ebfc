# Typical mistakes on problem_sets/identities.yaml ("Matrix-calculus identities"), one per
# problem, each commented with the diagnosis it should get:
#
#     mcgrade grade examples/identities_mistakes.py --problems problem_sets/identities.yaml

# grad_aTx: the gradient as a column (denominator layout) -> transposed
grad_aTx = "a"

# grad_xTAx: assumed A symmetric, as for S -> author-mistake
grad_xTAx = "2 * x.T @ A"

# grad_xTSx: forgot the 2 (one of the two places x appears) -> scale-factor (1/2)
grad_xTSx = "x.T @ S"

# jac_Ax: columns are gradients (denominator layout) -> transposed
jac_Ax = "A.T"

# jac_Bx: the same, with a non-square B -> transposed
jac_Bx = "B.T"

# grad_norm_sq: d(u^2)/du = 2u, but dropped the inner derivative du/dx -> wrong-shape
grad_norm_sq = "2 * norm(x)"

# grad_norm: 1/(2 sqrt(u)) times du/dx, but du/dx taken as x^T, not 2x^T -> scale-factor (1/2)
grad_norm = "x.T / (2 * norm(x))"

# softmax_jac: only the diagonal s_i (1 - s_i), the terms i != j forgotten -> author-mistake
softmax_jac = "diag(softmax(z) * (1 - softmax(z)))"

# logsumexp_grad: dropped the outer derivative 1/sum_j e^{z_j} of the log -> author-mistake
logsumexp_grad = "exp(z).T"

# chain_sin: dropped the inner derivative 2t -> author-mistake
chain_sin = "cos(t**2)"

# expanded_power: ^ for a power -> unparseable
expanded_power = "20*(s + t + 1)^19"

# total_derivative: only the partial by t, the path through u dropped -> author-mistake
total_derivative = "t**2 * cos(t)"

# chain_sigmoid: sigma'(z) misremembered as sigma(z)(sigma(z) - 1) -> sign
chain_sigmoid = "diag(sigmoid(W @ x) * (sigmoid(W @ x) - 1)) @ W"

# directional: the gradient, not applied to the direction v -> wrong-shape
directional = "exp(x).T"

# grad_trace: entry (i, j) = df/dX_ij (denominator layout) -> transposed
grad_trace = "C.T"

# grad_logdet: the cookbook's Y^{-T}, which is denominator layout -> transposed
grad_logdet = "inv(Y).T"
