"""Layout conventions: SPEC §3's table, in both layouts, and the arithmetic behind it."""

from __future__ import annotations

import pytest
import sympy as sp

from mcgrade.engine.conventions import (
    TensorDerivativeError,
    arrange,
    derivative,
    hessian,
    hessian_shape,
    stack,
)


@pytest.mark.parametrize("of, wrt, numerator", [
    ((1, 1), (1, 1), (1, 1)),                 # scalar by scalar
    ((1, 1), ("n", 1), (1, "n")),             # gradient of a scalar: a row
    ((1, 1), (1, "n"), (1, "n")),             # by a row vector: still one row of partials
    (("m", 1), (1, 1), ("m", 1)),             # vector by scalar: a column
    (("m", 1), ("n", 1), ("m", "n")),         # Jacobian: m×n, rows are gradients
    ((1, "m"), ("n", 1), ("m", "n")),         # a row vector is its m components
    ((1, 1), ("m", "n"), ("n", "m")),         # scalar by matrix: n×m
    (("m", "n"), (1, 1), ("m", "n")),         # matrix by scalar: same shape
])
def test_arrangement_in_both_layouts(of: tuple, wrt: tuple, numerator: tuple) -> None:
    assert arrange(of, wrt, "numerator").shape == numerator
    assert arrange(of, wrt, "denominator").shape == numerator[::-1]


@pytest.mark.parametrize("of, wrt", [(("m", 1), ("m", "n")), (("m", "n"), ("n", 1)),
                                     (("m", "n"), ("m", "n"))])
def test_third_order_tensors_are_refused(of: tuple, wrt: tuple) -> None:
    with pytest.raises(TensorDerivativeError, match="third-order tensor"):
        arrange(of, wrt, "numerator")


def test_descriptions_name_the_layout() -> None:
    assert arrange((1, 1), ("n", 1), "numerator").describe() == (
        "in numerator layout the derivative of a scalar by an n×1 vector is a 1×n row")
    assert arrange((1, 1), ("n", 1), "denominator").describe() == (
        "in denominator layout the derivative of a scalar by an n×1 vector is an n×1 column")
    assert arrange(("m", 1), ("n", 1), "numerator").describe() == (
        "in numerator layout the derivative of an m×1 vector by an n×1 vector is an m×n "
        "matrix")


def _vector(name: str, size: int) -> sp.ImmutableMatrix:
    return sp.ImmutableMatrix([[sp.Symbol(f"{name}_{i}")] for i in range(size)])


def test_jacobian_rows_are_gradients_in_numerator_layout() -> None:
    x = _vector("x", 3)
    W = sp.ImmutableMatrix(2, 3, lambda i, j: sp.Symbol(f"W_{i}_{j}"))
    assert derivative(W @ x, x, "numerator") == W
    assert derivative(W @ x, x, "denominator") == W.T
    # sympy's own Jacobian is numerator layout, and agrees
    assert derivative(W @ x, x, "numerator") == (W @ x).jacobian(x)


def test_gradient_of_a_scalar_is_a_row_in_numerator_layout() -> None:
    x, a = _vector("x", 3), _vector("a", 3)
    f = (a.T @ x)[0, 0]
    assert derivative(f, x, "numerator") == a.T
    assert derivative(f, x, "denominator") == a


def test_sympy_matrix_symbol_diff_is_denominator_layout() -> None:
    # Why conventions.py differentiates entry by entry: MatrixSymbol.diff is the other way.
    A = sp.MatrixSymbol("A", 2, 3)
    x = sp.MatrixSymbol("x", 3, 1)
    assert (A * x).diff(x) == A.T


def test_scalar_by_matrix_entry_positions() -> None:
    X = sp.ImmutableMatrix(2, 3, lambda i, j: sp.Symbol(f"X_{i}_{j}"))
    f = X[0, 2] * 5
    numerator = derivative(f, X, "numerator")
    assert numerator.shape == (3, 2) and numerator[2, 0] == 5
    assert derivative(f, X, "denominator")[0, 2] == 5


def test_hessian_and_list_wrt() -> None:
    x, y = sp.symbols("x y")
    f = x**2 * y
    assert derivative(f, stack([x, y]), "numerator") == sp.ImmutableMatrix([[2*x*y, x**2]])
    assert hessian(f, stack([x, y])) == sp.ImmutableMatrix([[2*y, 2*x], [2*x, 0]])
    assert hessian_shape(("n", 1)) == ("n", "n")
    with pytest.raises(TensorDerivativeError):
        hessian_shape(("m", "n"))
