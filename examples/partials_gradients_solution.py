# Reference solution to problem_sets/partials_gradients.yaml ("Partial derivatives and
# gradients"). Every answer is correct, so it scores full marks:
#
#     mcgrade grade examples/partials_gradients_solution.py --problems problem_sets/partials_gradients.yaml
#
# In numerator layout a gradient is a ROW: Matrix([[df/dx, df/dy]]), and by an n×1 column
# vector it is 1×n.
import numpy as np

# df_dx: hold y fixed; 3y * d(x^2)/dx.
df_dx = "6*x*y"

# df_dy: hold x fixed; 3x^2 is a constant factor of y.
df_dy = "3*x**2"

# grad_f: the two partials, side by side in a row.
grad_f = "Matrix([[6*x*y, 3*x**2]])"

# grad_g: d(2x)/dx = 2 and d(y^8)/dy = 8y^7.
grad_g = "Matrix([[2, 8*y**7]])"

# grad_f_at: [6xy, 3x^2] at (2, -1), a 1×2 numpy array.
grad_f_at = np.array([[-12.0, 12.0]])

# grad_xyz: e^{yz}, and the chain rule brings down z (resp. y).
grad_xyz = "exp(y*z) * Matrix([[1, x*z, x*y]])"

# grad_shape: one row, one column per variable.
grad_shape = (1, 3)

# grad_vec: entry i is 3 v_i^2; transpose the column v**2 into a row.
grad_vec = "3*transpose(v**2)"
