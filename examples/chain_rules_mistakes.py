# Typical mistakes on problem_sets/chain_rules.yaml ("The chain rules"), one per problem,
# each commented with the diagnosis it should get:
#
#     mcgrade grade examples/chain_rules_mistakes.py --problems problem_sets/chain_rules.yaml

# chain_single: dropped the innermost chain-rule term 3x^2 -> author-mistake
chain_single = "2*cos(x**3) / sin(x**3)"

# chain_at: dropped the inner derivative 2x = 2 -> scale-factor (1/2)
chain_at = 12

# partials_xu: a column -> transposed (half credit)
partials_xu = "Matrix([[u], [x + cos(u)]])"

# total_derivative: only the partial by x, the path through u dropped -> author-mistake
total_derivative = "x**2"

# total_two_paths: only the path through q -> author-mistake
total_two_paths = "cos(t)**3"

# vec_chain_scalar: a row -> transposed (half credit)
vec_chain_scalar = "Matrix([[2/x, 3*cos(3*x)]])"

# jac_outer: the diagonal as a vector, without diag -> elementwise-vs-matrix
jac_outer = "Matrix([[1/g[0]], [cos(g[1])]])"

# vec_chain_layer: dropped the outer Jacobian diag(1 - tanh^2) -> author-mistake
vec_chain_layer = "W"

# chain_relu: the active branch used everywhere -> piecewise-branch
chain_relu = "6*(3*x - 1)"

# vec_chain_shape: the shapes multiplied the wrong way round -> transposed
vec_chain_shape = ("n", "k")
