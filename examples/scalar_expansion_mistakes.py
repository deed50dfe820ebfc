# Typical mistakes on problem_sets/scalar_expansion.yaml ("Scalar expansion"), one per
# problem, each commented with the diagnosis it should get:
#
#     mcgrade grade examples/scalar_expansion_mistakes.py --problems problem_sets/scalar_expansion.yaml

# add_dx: every y_i depends on every x_j? No -> not-equivalent
add_dx = "ones(n, n)"

# add_dz: a row -> transposed (half credit)
add_dz = "ones(1, n)"

# mul_dx: the diagonal as a vector, without diag -> elementwise-vs-matrix
mul_dx = "z * ones(n, 1)"

# mul_dz: a row -> transposed (half credit)
mul_dz = "x.T"

# sub_dz: forgot the minus sign -> sign
sub_dz = "ones(n, 1)"

# div_dz: lost the minus sign of d(1/z)/dz -> sign
div_dz = "x / z**2"

# layer_db: b expanded to the inputs' size instead of the outputs' -> author-mistake
layer_db = "ones(n, 1)"

# shape_dz: a row's shape -> transposed
shape_dz = (1, "n")

# expand_at: twice the derivative -> scale-factor (2)
expand_at = "2*x"
