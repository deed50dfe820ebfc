# Reference solution to problem_sets/chain_rules.yaml ("The chain rules"). Every answer
# is correct, so it scores full marks:
#
#     mcgrade grade examples/chain_rules_solution.py --problems problem_sets/chain_rules.yaml
#
# The single-variable chain rule multiplies the derivatives of the links; the total
# derivative adds the paths; the vector chain rule multiplies Jacobians, outer on the left.

# chain_single: (1/u3)(2 u2)(cos u1)(3x^2) = 6x^2 cos(x^3)/sin(x^3).
chain_single = "6*x**2 / tan(x**3)"

# chain_at: 3(x^2 + 1)^2 * 2x at x = 1 is 3*4*2.
chain_at = 24

# partials_xu: [df/dx, df/du], a row.
partials_xu = "Matrix([[u, x + cos(u)]])"

# total_derivative: u + (x + cos u)(2x) with u = x^2.
total_derivative = "x**2 + (x + cos(x**2))*2*x"

# total_two_paths: 2pq(-sin t) + p^2 cos t with p = cos t, q = sin t.
total_two_paths = "2*cos(t)*sin(t)*(-sin(t)) + cos(t)**2*cos(t)"

# vec_chain_scalar: (df/dg)(dg/dx) = diag(1/g1, cos g2) @ [2x, 3]^T, a column.
vec_chain_scalar = "Matrix([[1/x**2, 0], [0, cos(3*x)]]) @ Matrix([[2*x], [3]])"

# jac_outer: ln and sin each act on one entry of g: a diagonal Jacobian.
jac_outer = "diag(Matrix([[1/g[0]], [cos(g[1])]]))"

# vec_chain_layer: diag(tanh'(z)) @ W for z = W v + c.
vec_chain_layer = "diag(1 - tanh(W @ v + c)**2) @ W"

# chain_relu: 2 relu(z) relu'(z) * 3, and relu(z) relu'(z) = relu(z).
chain_relu = "6*(3*x - 1)*Heaviside(3*x - 1)"

# vec_chain_shape: (k×m)(m×m)(m×n) = k×n.
vec_chain_shape = ("k", "n")
