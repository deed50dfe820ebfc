"""Evaluate sympy expressions at many points at once with numpy, without code generation.

References are sympy expressions made once per problem set; they are evaluated here at the
sample points. A small tree walk over the functions mcgrade produces is faster to set up
than ``lambdify`` (which compiles source text) and covers Heaviside and DiracDelta the way
grading needs: a kink is never sampled, so DiracDelta is 0 wherever it is evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import sympy as sp

from mcgrade.expressions.reciprocal import RECIPROCAL

_FUNCTIONS: dict[type, Callable[..., np.ndarray]] = {
    sp.exp: np.exp, sp.log: np.log, sp.sin: np.sin, sp.cos: np.cos, sp.tan: np.tan,
    sp.asin: np.arcsin, sp.acos: np.arccos, sp.atan: np.arctan, sp.sinh: np.sinh,
    sp.cosh: np.cosh, sp.tanh: np.tanh, sp.asinh: np.arcsinh, sp.acosh: np.arccosh,
    sp.atanh: np.arctanh, sp.Abs: np.abs, sp.sign: np.sign,
    **{getattr(sp, name): function for name, function in RECIPROCAL.items()},
}
_RELATIONS: dict[type, Callable[..., np.ndarray]] = {
    sp.StrictLessThan: np.less, sp.LessThan: np.less_equal,
    sp.StrictGreaterThan: np.greater, sp.GreaterThan: np.greater_equal,
    sp.Equality: np.equal, sp.Unequality: np.not_equal,
}


class Unsupported(ValueError):
    """An expression node this evaluator does not know."""


def evaluate_scalar(expr: Any, values: Mapping[sp.Symbol, np.ndarray], count: int
                    ) -> np.ndarray:
    """``expr`` at ``count`` points: an array (count,), NaN where it is undefined."""
    memo: dict[Any, np.ndarray] = {}

    def walk(e: Any) -> Any:
        if e in memo:
            return memo[e]
        result = _node(e, walk, values)
        memo[e] = result
        return result

    with np.errstate(all="ignore"):
        value = walk(expr if isinstance(expr, sp.Basic) else sp.Float(expr))
    return np.broadcast_to(np.asarray(value, dtype=float), (count,))


def _node(e: Any, walk: Callable[[Any], Any], values: Mapping[sp.Symbol, np.ndarray]) -> Any:
    if e.is_Symbol:
        return values[e]
    if e.is_Number or e.is_NumberSymbol:
        return float(e) if e.is_real else np.nan
    if e is sp.S.ImaginaryUnit:
        return np.nan
    if e.is_Add:
        return sum(walk(a) for a in e.args)
    if e.is_Mul:
        result: Any = 1.0
        for a in e.args:
            result = result * walk(a)
        return result
    if e.is_Pow:
        base, exponent = walk(e.base), walk(e.exp)
        return np.power(np.asarray(base, dtype=float), exponent)
    kind = type(e)
    if kind in _FUNCTIONS:
        return _FUNCTIONS[kind](walk(e.args[0]))
    if kind is sp.Heaviside:
        at_zero = float(e.args[1]) if len(e.args) > 1 else 0.5
        return np.heaviside(walk(e.args[0]), at_zero)
    if kind is sp.DiracDelta:
        return np.where(walk(e.args[0]) == 0, np.inf, 0.0)
    if kind in (sp.Max, sp.Min):
        combine = np.maximum if kind is sp.Max else np.minimum
        result = walk(e.args[0])
        for a in e.args[1:]:
            result = combine(result, walk(a))
        return result
    if kind is sp.Piecewise:
        chosen: Any = np.nan
        for expr, cond in reversed(e.args):   # earlier pieces win
            chosen = np.where(walk(cond), walk(expr), chosen)
        return chosen
    if kind in _RELATIONS:
        return _RELATIONS[kind](walk(e.lhs), walk(e.rhs))
    if e is sp.true:
        return True
    if e is sp.false:
        return False
    if kind is sp.And:
        return np.logical_and.reduce([walk(a) for a in e.args])
    if kind is sp.Or:
        return np.logical_or.reduce([walk(a) for a in e.args])
    if kind is sp.Not:
        return np.logical_not(walk(e.args[0]))
    raise Unsupported(f"cannot evaluate {kind.__name__} numerically")


def evaluate_value(value: Any, values: Mapping[sp.Symbol, np.ndarray], count: int
                   ) -> np.ndarray:
    """A sympy scalar or matrix at ``count`` points: an array (count, rows, cols)."""
    if isinstance(value, sp.MatrixBase):
        rows, cols = value.shape
        flat = [evaluate_scalar(entry, values, count) for entry in value]
        return np.stack(flat, axis=-1).reshape(count, rows, cols)
    return evaluate_scalar(value, values, count).reshape(count, 1, 1)
