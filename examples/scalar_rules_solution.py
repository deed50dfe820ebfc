# Reference solution to problem_sets/scalar_rules.yaml ("Review of scalar derivative
# rules"). Every answer is correct, so it scores full marks:
#
#     mcgrade grade examples/scalar_rules_solution.py --problems problem_sets/scalar_rules.yaml
#
# Answers are strings in mcgrade's expression language (numpy-like: ** is the power), or
# numbers for the problems that ask for a value at a point.

# power_rule: the exponent comes down, and drops by one.
power_rule = "5*x**4"

# constant_multiple: the constant c is carried along.
constant_multiple = "3*c*x**2"

# sum_rule: term by term; the constant -7 has derivative 0.
sum_rule = "3*x**2 + 4"

# product_rule: (fg)' = f'g + fg'.
product_rule = "(2*x + x**2)*exp(x)"

# quotient_rule: (f'g - fg')/g^2 = ((x^2 + 1) - x*2x)/(x^2 + 1)^2.
quotient_rule = "(x**2 + 1 - 2*x**2) / (x**2 + 1)**2"

# quotient_at: (1 - 4)/25 at x = 2, given as a number.
quotient_at = -0.12

# chain_log: (1/u)(du/dx) with u = x^2 + 1.
chain_log = "2*x / (x**2 + 1)"

# chain_exp: e^u times du/dx = -x.
chain_exp = "-x*exp(-x**2/2)"

# product_log: ln x + x(1/x).
product_log = "log(x) + 1"

# sigmoid_deriv: e^{-x}/(1 + e^{-x})^2, which is sigma(x)(1 - sigma(x)).
sigmoid_deriv = "exp(-x) / (1 + exp(-x))**2"

# tanh_deriv: 1/cosh^2 x = 1 - tanh^2 x.
tanh_deriv = "1/cosh(x)**2"

# relu_deriv: 0 for x < 0, 1 for x > 0.
relu_deriv = "Piecewise((1, x > 0), (0, True))"
