"""The whitelisting reader of sympy answers: round trips, and refusals."""

from __future__ import annotations

import pytest
import sympy as sp

from mcgrade.engine.srepr import read_srepr
from mcgrade.errors import ExpressionError

n = sp.Symbol("n", integer=True)
x, A = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("A", n, n)
z = sp.Symbol("z", real=True)


@pytest.mark.parametrize("value", [
    x.T * A * x, sp.Matrix([[sp.Symbol("x_1"), 2]]), sp.Piecewise((1, z > 0), (0, True)),
    sp.sqrt(2) * sp.pi * sp.E + sp.Float(0.5) + sp.Rational(1, 3), x[0, 0], sp.Heaviside(z),
    sp.Identity(n), sp.HadamardProduct(x, x), sp.Inverse(A), sp.Max(0, z), sp.exp(-z),
    sp.Trace(A), sp.Determinant(A), sp.ZeroMatrix(n, 1), 1 / (1 + sp.exp(-z)),
    sp.Abs(z) * sp.sign(z), sp.ImmutableMatrix([[z, 1], [2, z**2]]),
    *(getattr(sp, name)(z) for name in ("sec", "csc", "cot", "asec", "acsc", "acot", "sech",
                                         "csch", "coth", "asech", "acsch", "acoth")),
    sp.sqrt(3) / 3 + 2 ** sp.Rational(1, 3), sp.ImmutableMatrix(sp.diag(z, 2, z**2)),
])
def test_round_trip(value) -> None:
    assert read_srepr(sp.srepr(value)) == value


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('true')",
     "the sympy answer holds something other than sympy objects"),
    ("eval('1')", "eval is not something a sympy answer can hold"),
    ("lambdify(Symbol('x'), Symbol('x'))", "lambdify is not something a sympy answer can hold"),
    ("Symbol('x').__class__", "the sympy answer holds something other than sympy objects"),
    ("Symbol('x', evaluate=eval)", "'evaluate' is not a symbol assumption"),
    ("Symbol('a b')", "'a b' is not a usable symbol name"),
    ("Pow(Integer(10), Integer(10000000000))", "a power in the sympy answer is too large to "
                                               "compute"),
    ("Integer(" + "9" * 50 + ")", "a number longer than 30 digits"),
    ("Add(" * 200 + "Integer(1)" + ")" * 200, "the sympy answer is nested more than 100 deep"),
    ("x" * 300_000, "the sympy answer is 300,000 characters long; the limit is 200,000"),
    ("ImmutableDenseMatrix([[Integer(1)], [Integer(1), Integer(2)]])",
     "a Matrix needs rows of equal length (at most 2,500 entries)"),
])
def test_refusals(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        read_srepr(text)
    assert str(info.value) == message
