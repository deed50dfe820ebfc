# Typical mistakes on problem_sets/partials_gradients.yaml ("Partial derivatives and
# gradients"), one per problem, each commented with the diagnosis it should get:
#
#     mcgrade grade examples/partials_gradients_mistakes.py --problems problem_sets/partials_gradients.yaml
import numpy as np

# df_dx: treated y as 0 instead of as a constant factor -> author-mistake
df_dx = "6*x"

# df_dy: differentiated by x instead -> author-mistake
df_dy = "6*x*y"

# grad_f: a column, the denominator-layout habit -> transposed (half credit)
grad_f = "Matrix([[6*x*y], [3*x**2]])"

# grad_g: both signs flipped -> sign
grad_g = "Matrix([[-2, -8*y**7]])"

# grad_f_at: right numbers in a 1-D array, which has no orientation -> flat-array
grad_f_at = np.array([-12.0, 12.0])

# grad_xyz: dropped the chain-rule factors z and y of d(e^{yz}) -> author-mistake
grad_xyz = "exp(y*z) * Matrix([[1, x, x]])"

# grad_shape: a column's shape -> transposed
grad_shape = (3, 1)

# grad_vec: a column -> transposed (half credit)
grad_vec = "3*v**2"
