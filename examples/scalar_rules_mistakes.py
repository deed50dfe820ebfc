# Typical mistakes on problem_sets/scalar_rules.yaml ("Review of scalar derivative rules"),
# one per problem, each commented with the diagnosis it should get. Grade it with:
#
#     mcgrade grade examples/scalar_rules_mistakes.py --problems problem_sets/scalar_rules.yaml

# power_rule: forgot to bring the exponent down -> scale-factor (1/5)
power_rule = "x**4"

# constant_multiple: dropped the constant c -> author-mistake
constant_multiple = "3*x**2"

# sum_rule: kept the constant term -> author-mistake
sum_rule = "3*x**2 + 4 - 7"

# product_rule: the product of the derivatives -> author-mistake
product_rule = "2*x*exp(x)"

# quotient_rule: f g' - f' g, the numerator the wrong way round -> sign
quotient_rule = "(2*x**2 - (x**2 + 1)) / (x**2 + 1)**2"

# quotient_at: the same slip, at x = 2 -> sign
quotient_at = 0.12

# chain_log: dropped the inner derivative 2x (a chain-rule term) -> author-mistake
chain_log = "1 / (x**2 + 1)"

# chain_exp: dropped the inner derivative -x (a chain-rule term) -> author-mistake
chain_exp = "exp(-x**2/2)"

# product_log: one term of the product rule -> author-mistake
product_log = "log(x)"

# sigmoid_deriv: the sigmoid itself -> author-mistake
sigmoid_deriv = "sigmoid(x)"

# tanh_deriv: wrong sign inside -> author-mistake
tanh_deriv = "1 + tanh(x)**2"

# relu_deriv: only the active branch (x > 0) -> piecewise-branch
relu_deriv = "1"
