"""The exact backend: scalars are sympy expressions, everything else ImmutableMatrix.

A 1×1 result is always returned as a scalar, so "a 1×1 matrix and a scalar are
interchangeable" holds by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import sympy as sp

_CMP = {"<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge}


def sigmoid(z: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-z))


def relu(z: sp.Expr) -> sp.Expr:
    # evaluate=False: sympy's Max simplification costs ~10 ms per call and buys nothing here
    return sp.Max(0, z, evaluate=False)


ELEMENTWISE: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos,
    "tan": sp.tan, "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "sinh": sp.sinh,
    "cosh": sp.cosh, "tanh": sp.tanh, "asinh": sp.asinh, "acosh": sp.acosh,
    "atanh": sp.atanh, "sigmoid": sigmoid, "relu": relu, "Abs": sp.Abs, "sign": sp.sign,
    "Heaviside": sp.Heaviside,
    **{name: getattr(sp, name) for name in ("sec", "csc", "cot", "asec", "acsc", "acot",
                                            "sech", "csch", "coth", "asech", "acsch",
                                            "acoth")},
}


def as_matrix(value: Any) -> sp.ImmutableMatrix:
    return value if isinstance(value, sp.MatrixBase) else sp.ImmutableMatrix([[value]])


def normal(value: Any) -> Any:
    """Collapse a 1×1 matrix to its entry; make other matrices immutable."""
    if isinstance(value, sp.MatrixBase):
        if value.shape == (1, 1):
            return value[0, 0]
        return sp.ImmutableMatrix(value)
    return value


def entries(value: Any) -> list[Any]:
    return list(value) if isinstance(value, sp.MatrixBase) else [value]


def determinant(matrix: sp.MatrixBase) -> Any:
    """Berkowitz: no division, and no simplification along the way."""
    return matrix.det(method="berkowitz")


def inverse(matrix: sp.MatrixBase) -> sp.ImmutableMatrix:
    return sp.ImmutableMatrix(matrix.adjugate() / determinant(matrix))


def _zip(op: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    """Apply ``op`` element-wise, broadcasting a scalar operand."""
    a_is, b_is = isinstance(a, sp.MatrixBase), isinstance(b, sp.MatrixBase)
    if a_is and b_is and a.shape != b.shape:      # a 1×1 matrix broadcasts as a scalar
        a, a_is = (a[0, 0], False) if a.shape == (1, 1) else (a, a_is)
        b, b_is = (b[0, 0], False) if b.shape == (1, 1) else (b, b_is)
    if not a_is and not b_is:
        return op(a, b)
    if a_is and b_is:
        return sp.ImmutableMatrix(a.rows, a.cols, [op(x, y) for x, y in zip(a, b)])
    if a_is:
        return a.applyfunc(lambda x: op(x, b))
    return b.applyfunc(lambda y: op(a, y))


class SympyBackend:
    """Evaluates with ``env`` mapping symbol names to sympy values."""

    def __init__(self, env: Mapping[str, Any]) -> None:
        self.env = env

    def number(self, value: Fraction) -> Any:
        return sp.Rational(value.numerator, value.denominator)

    def constant(self, name: str) -> Any:
        return {"pi": sp.pi, "E": sp.E}[name]

    def symbol(self, name: str) -> Any:
        return self.env[name]

    def dimension(self, size: int) -> Any:
        return sp.Integer(size)

    def unary(self, op: str, a: Any) -> Any:
        if op == "neg":
            return -a
        if op == "transpose":
            return a.T if isinstance(a, sp.MatrixBase) else a
        if op == "diag-matrix":
            return sp.ImmutableMatrix(sp.diag(*entries(a)))
        m = as_matrix(a)                                       # diag-vector
        return normal(sp.ImmutableMatrix([m[i, i] for i in range(m.rows)]))

    def binary(self, op: str, a: Any, b: Any) -> Any:
        if op == "@":
            return normal(as_matrix(a) * as_matrix(b))
        function = {"+": lambda x, y: x + y, "-": lambda x, y: x - y,
                    "*": lambda x, y: x * y, "/": lambda x, y: x / y,
                    "**": lambda x, y: x ** y}[op]
        return _zip(function, a, b)

    def call(self, name: str, args: list[Any], shape: tuple[int, int]) -> Any:
        if name in ELEMENTWISE:
            function = ELEMENTWISE[name]
            (a,) = args
            return a.applyfunc(function) if isinstance(a, sp.MatrixBase) else function(a)
        if name in ("Max", "Min"):
            return _zip(sp.Max if name == "Max" else sp.Min, *args)
        values = entries(args[0])
        if name == "softmax":
            exps = [sp.exp(z) for z in values]
            total = sp.Add(*exps)
            return normal(sp.ImmutableMatrix(shape[0], shape[1], [e / total for e in exps]))
        if name == "logsumexp":
            return sp.log(sp.Add(*(sp.exp(z) for z in values)))
        if name == "norm":
            return sp.sqrt(sp.Add(*(z ** 2 for z in values)))
        if name == "sum":
            return sp.Add(*values)
        if name == "dot":
            return sp.Add(*(x * y for x, y in zip(values, entries(args[1]))))
        matrix = as_matrix(args[0])
        if name == "trace":
            return matrix.trace()
        if name == "det":
            return determinant(matrix)
        if name == "inv":
            return normal(inverse(matrix))
        raise AssertionError(f"no sympy implementation of {name}")

    def index(self, a: Any, row: int, col: int, shape: tuple[int, int]) -> Any:
        return a[row, col] if isinstance(a, sp.MatrixBase) else a

    def sum_axis(self, a: Any, axis: int) -> Any:
        m = as_matrix(a)
        if axis == 0:
            return normal(sp.ImmutableMatrix([[sp.Add(*m.col(j)) for j in range(m.cols)]]))
        return normal(sp.ImmutableMatrix([sp.Add(*m.row(i)) for i in range(m.rows)]))

    def fill(self, name: str, rows: int, cols: int) -> Any:
        if name == "eye":
            return normal(sp.ImmutableMatrix(sp.eye(rows, cols)))
        return normal(sp.ImmutableMatrix(sp.ones(rows, cols) if name == "ones"
                                         else sp.zeros(rows, cols)))

    def matrix(self, values: list[Any], rows: int, cols: int) -> Any:
        return normal(sp.ImmutableMatrix(rows, cols, values))

    def piecewise(self, pieces: list[Any], shape: tuple[int, int]) -> Any:
        count = shape[0] * shape[1]
        spread = [list(p) if isinstance(p, list) else
                  entries(p) if isinstance(p, sp.MatrixBase) else [p] * count
                  for p in pieces]
        cells = [sp.Piecewise(*[(spread[k][i], spread[k + 1][i])
                                for k in range(0, len(pieces), 2)]) for i in range(count)]
        return normal(sp.ImmutableMatrix(shape[0], shape[1], cells))

    def compare(self, op: str, a: Any, b: Any) -> Any:
        """A relation, or a list of them for matrices (sympy matrices hold expressions,
        not relations)."""
        if not isinstance(a, sp.MatrixBase) and not isinstance(b, sp.MatrixBase):
            return _CMP[op](a, b)
        count = (a if isinstance(a, sp.MatrixBase) else b).rows * (
            a if isinstance(a, sp.MatrixBase) else b).cols
        left = entries(a) * (1 if isinstance(a, sp.MatrixBase) else count)
        right = entries(b) * (1 if isinstance(b, sp.MatrixBase) else count)
        return [_CMP[op](x, y) for x, y in zip(left, right)]

    def true(self) -> Any:
        return sp.true
