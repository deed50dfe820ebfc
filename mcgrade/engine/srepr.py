"""Reading sympy answers back: ``srepr`` text → sympy objects, through a whitelist.

A submission's sympy values cross the sandbox boundary as ``sympy.srepr`` text, which is
Python call syntax (``Add(Symbol('x'), Integer(2))``). Calling ``eval`` or ``sympify`` on
it would run whatever the student wrote, so this module parses it with ``ast`` and builds
each node itself: only the sympy classes below, positional arguments of the right kinds,
symbol assumptions as keyword flags, bounded numbers, and bounded sizes.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

import sympy as sp

from mcgrade.errors import ExpressionError

MAX_TEXT = 200_000
MAX_DEPTH = 100
MAX_DIGITS = 30
MAX_RESULT_DIGITS = 10_000

from sympy.core.symbol import Str  # noqa: E402
from sympy.functions.elementary.piecewise import ExprCondPair  # noqa: E402
from sympy.matrices.expressions.matexpr import MatrixElement  # noqa: E402

_CLASSES: dict[str, Callable[..., Any]] = {
    "MatrixElement": MatrixElement, "ExprCondPair": ExprCondPair, "Str": Str} | {
    name: getattr(sp, name) for name in (
        "Add", "Mul", "Pow", "Integer", "Rational", "Float", "Symbol", "MatrixSymbol",
        "MatAdd", "MatMul", "MatPow", "Transpose", "Inverse", "Identity", "ZeroMatrix",
        "OneMatrix", "HadamardProduct", "Trace", "Determinant",
        "DiagMatrix", "DiagonalMatrix",
        "exp", "log", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
        "asinh", "acosh", "atanh", "sec", "csc", "cot", "asec", "acsc", "acot", "sech",
        "csch", "coth", "asech", "acsch", "acoth", "Abs", "sign", "Heaviside", "DiracDelta",
        "Max", "Min",
        "Piecewise", "StrictGreaterThan", "StrictLessThan", "GreaterThan",
        "LessThan", "Equality", "Unequality", "And", "Or", "Not",
        "ImmutableDenseMatrix", "MutableDenseMatrix",
    )
}
_CONSTANTS = {"pi": sp.pi, "E": sp.E, "true": sp.true, "false": sp.false, "oo": sp.oo,
              "zoo": sp.zoo, "nan": sp.nan, "I": sp.I, "Half": sp.S.Half,
              "One": sp.S.One, "Zero": sp.S.Zero, "NegativeOne": sp.S.NegativeOne}
_ASSUMPTIONS = {"real", "positive", "negative", "nonnegative", "nonpositive", "nonzero",
                "integer", "rational", "finite", "commutative", "complex", "extended_real"}
_MATRICES = {"ImmutableDenseMatrix", "MutableDenseMatrix"}


def read_srepr(text: str) -> Any:
    """The sympy object ``text`` describes; ExpressionError if it is outside the whitelist."""
    if len(text) > MAX_TEXT:
        raise ExpressionError(f"the sympy answer is {len(text):,} characters long; the limit "
                              f"is {MAX_TEXT:,}")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError) as exc:
        if isinstance(exc, RecursionError) or "nested" in str(exc):   # Python's own limit
            raise ExpressionError(f"the sympy answer is nested more than {MAX_DEPTH} "
                                  "deep") from None
        raise ExpressionError("the sympy answer could not be read back") from None
    try:
        return _Reader().build(tree.body, 0)
    except (TypeError, ValueError, AttributeError, IndexError, ZeroDivisionError,
            RecursionError, sp.SympifyError) as exc:
        raise ExpressionError(f"the sympy answer could not be rebuilt: {exc}") from None


class _Reader:
    def build(self, node: ast.AST, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the sympy answer is nested more than {MAX_DEPTH} deep")
        if isinstance(node, ast.Name):
            if node.id in _CONSTANTS:
                return _CONSTANTS[node.id]
            raise ExpressionError(f"{node.id!r} is not something a sympy answer can hold")
        if isinstance(node, ast.List):
            return [self.build(e, depth + 1) for e in node.elts]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self.call(node, depth)
        raise ExpressionError("the sympy answer holds something other than sympy objects")

    def call(self, node: ast.Call, depth: int) -> Any:
        name = node.func.id  # type: ignore[attr-defined]
        if name in _CONSTANTS and not node.args and not node.keywords:
            return _CONSTANTS[name]
        if name not in _CLASSES:
            raise ExpressionError(f"{name} is not something a sympy answer can hold")
        if name in ("Integer", "Rational"):
            return _CLASSES[name](*(self.integer(a) for a in node.args))
        if name == "Float":
            return self.float(node)
        if name in ("Symbol", "Str"):
            return self.symbol(name, node)
        if name == "MatrixSymbol":
            first = node.args[0] if node.args else None
            label = (first.value if isinstance(first, ast.Constant) else
                     self.symbol("Str", first).name if isinstance(first, ast.Call) else None)
            if not isinstance(label, str) or not label.isidentifier():
                raise ExpressionError("a MatrixSymbol needs a name")
            rows, cols = (self.build(a, depth + 1) for a in node.args[1:3])
            return sp.MatrixSymbol(label, rows, cols)
        if node.keywords:
            raise ExpressionError(f"{name} takes no keyword arguments here")
        args = [self.build(a, depth + 1) for a in node.args]
        if name in _MATRICES:
            return self.matrix(args)
        if name == "Pow":
            _check_power(*args)
        return _CLASSES[name](*args)

    def integer(self, node: ast.AST) -> int:
        negative = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
        target = node.operand if negative else node  # type: ignore[attr-defined]
        if not (isinstance(target, ast.Constant) and type(target.value) is int):
            raise ExpressionError("Integer and Rational take whole numbers")
        if target.value.bit_length() > 3.33 * MAX_DIGITS:
            raise ExpressionError(f"a number longer than {MAX_DIGITS} digits")
        return -target.value if negative else target.value

    def float(self, node: ast.Call) -> Any:
        if not node.args or not isinstance(node.args[0], ast.Constant) or not isinstance(
                node.args[0].value, str) or len(node.args[0].value) > 40:
            raise ExpressionError("Float takes a short decimal string")
        precision = 53
        for keyword in node.keywords:
            if keyword.arg != "precision" or not isinstance(keyword.value, ast.Constant) \
                    or type(keyword.value.value) is not int or not 1 <= keyword.value.value <= 200:
                raise ExpressionError("Float takes only a precision up to 200 bits")
            precision = keyword.value.value
        return sp.Float(node.args[0].value, precision=precision)

    def symbol(self, kind: str, node: ast.Call | None) -> Any:
        if node is None or len(node.args) != 1 or not isinstance(node.args[0], ast.Constant) \
                or not isinstance(node.args[0].value, str):
            raise ExpressionError(f"{kind} takes a name")
        label = node.args[0].value
        if not label.isidentifier() or len(label) > 50:
            raise ExpressionError(f"{label[:50]!r} is not a usable symbol name")
        flags = {}
        for keyword in node.keywords:
            if keyword.arg not in _ASSUMPTIONS or not isinstance(keyword.value, ast.Constant) \
                    or type(keyword.value.value) is not bool:
                raise ExpressionError(f"{keyword.arg!r} is not a symbol assumption")
            flags[keyword.arg] = keyword.value.value
        return sp.Symbol(label, **flags) if kind == "Symbol" else Str(label)

    @staticmethod
    def matrix(args: list[Any]) -> Any:
        if len(args) != 1 or not isinstance(args[0], list) or not args[0]:
            raise ExpressionError("a Matrix takes a list of rows")
        rows = args[0]
        if not all(isinstance(r, list) for r in rows):
            rows = [[entry] for entry in rows]
        width = len(rows[0])
        if width == 0 or any(len(r) != width for r in rows) or len(rows) * width > 2500:
            raise ExpressionError("a Matrix needs rows of equal length (at most 2,500 entries)")
        return sp.ImmutableMatrix(rows)


def _check_power(base: Any, exponent: Any, *rest: Any) -> None:
    """Refuse powers whose value would take long to compute (10**10**20)."""
    if not (getattr(base, "is_Number", False) and getattr(exponent, "is_Number", False)):
        return
    if base == 0 or abs(base) == 1:
        return
    digits = abs(float(exponent)) * abs(math.log10(abs(float(base)))) if base.is_finite \
        else 0
    if digits > MAX_RESULT_DIGITS:
        raise ExpressionError("a power in the sympy answer is too large to compute")
