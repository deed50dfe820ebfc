# Reference solution to problem_sets/scalar_expansion.yaml ("Scalar expansion"). Every
# answer is correct, so it scores full marks:
#
#     mcgrade grade examples/scalar_expansion_solution.py --problems problem_sets/scalar_expansion.yaml
#
# A scalar z next to a vector stands for z·1; the derivative of a vector by a scalar is a
# column.

# add_dx: y_i = x_i + z, so the identity.
add_dx = "eye(n)"

# add_dz: every dy_i/dz is 1: a column of n ones.
add_dz = "ones(n, 1)"

# mul_dx: z on the diagonal.
mul_dx = "z * eye(n)"

# mul_dz: d(x_i z)/dz = x_i, a column.
mul_dz = "x"

# sub_dz: every dy_i/dz is -1.
sub_dz = "-ones(n, 1)"

# div_dz: d(x_i/z)/dz = -x_i/z^2.
div_dz = "-x * z**-2"

# layer_db: b is expanded to the m outputs of W x.
layer_db = "ones(m, 1)"

# shape_dz: a column with n entries.
shape_dz = ("n", 1)

# expand_at: e^b x at b = 0.
expand_at = "x"
