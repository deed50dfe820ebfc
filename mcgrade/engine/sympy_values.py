"""A sympy value (a reference made at a declared size) at one point, in one of the exact
arithmetics of ``mcgrade.engine.arithmetic``: entry symbols bound to its scalars."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import sympy as sp

from mcgrade.engine.arithmetic import Arithmetic, ExactBackend, NotExact, Value, add_all

_SYMPY_FUNCTIONS: dict[type, str] = {
    **{getattr(sp, name): name for name in (
        "exp", "log", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
        "asinh", "acosh", "atanh", "sec", "csc", "cot", "asec", "acsc", "acot", "sech",
        "csch", "coth", "asech", "acsch", "acoth")},
}


class SympyWalk:
    """A sympy scalar at one point, entry symbols bound to scalars of one arithmetic."""

    def __init__(self, arithmetic: Arithmetic, table: Mapping[sp.Symbol, Any]) -> None:
        self.a, self.table = arithmetic, table
        self.memo: dict[Any, Any] = {}

    def __call__(self, e: Any) -> Any:
        if e in self.memo:
            return self.memo[e]
        result = self._node(e)
        self.memo[e] = result
        return result

    def _node(self, e: Any) -> Any:
        a = self.a
        if e.is_Symbol:
            return self.table[e]
        if e.is_Rational:
            return a.number(Fraction(int(e.p), int(e.q)))
        if e is sp.pi or e is sp.E:
            return a.constant("pi" if e is sp.pi else "E")
        if e.is_Add:
            return add_all([self(x) for x in e.args], a.number(Fraction(0)))
        if e.is_Mul:
            result = a.number(Fraction(1))
            for x in e.args:
                result = result * self(x)
            return result
        if e.is_Pow:
            if e.exp.is_Rational:
                return a.power(self(e.base), Fraction(int(e.exp.p), int(e.exp.q)))
            return a.function("exp", self(e.exp) * a.function("log", self(e.base)))
        kind = type(e)
        if kind in _SYMPY_FUNCTIONS:
            return a.function(_SYMPY_FUNCTIONS[kind], self(e.args[0]))
        if kind in (sp.Abs, sp.sign, sp.Heaviside):
            if kind is sp.Heaviside and len(e.args) > 1:
                raise NotExact("Heaviside with a value at 0")
            backend = ExactBackend(a, {})
            name = {sp.Abs: "Abs", sp.sign: "sign", sp.Heaviside: "Heaviside"}[kind]
            return backend._kinked(name, self(e.args[0]), a.number(Fraction(0)),
                                   a.number(Fraction(1)))
        if kind is sp.DiracDelta:          # a kink is never sampled, so DiracDelta is 0
            if a.known_sign(self(e.args[0])) == 0:
                raise NotExact("at a kink")
            return a.number(Fraction(0))
        if kind in (sp.Max, sp.Min):
            pick = 1 if kind is sp.Max else -1
            values = [self(x) for x in e.args]
            best = values[0]
            for v in values[1:]:
                best = v if a.known_sign(v - best) * pick > 0 else best
            return best
        if kind is sp.Piecewise:
            for expr, cond in e.args:
                if self._holds(cond):
                    return self(expr)
            raise NotExact("no piece applies")
        raise NotExact(f"{kind.__name__}")

    def _holds(self, cond: Any) -> bool:
        if cond is sp.true:
            return True
        if cond is sp.false:
            return False
        if isinstance(cond, sp.And):
            return all(self._holds(c) for c in cond.args)
        if isinstance(cond, sp.Or):
            return any(self._holds(c) for c in cond.args)
        if isinstance(cond, sp.Not):
            return not self._holds(cond.args[0])
        if isinstance(cond, sp.core.relational.Relational):
            s = self.a.known_sign(self(cond.lhs) - self(cond.rhs))
            return {"<": s < 0, "<=": s <= 0, ">": s > 0, ">=": s >= 0, "==": s == 0,
                    "!=": s != 0}[cond.rel_op]
        raise NotExact(f"condition {type(cond).__name__}")


def evaluate_sympy(value: Any, arithmetic: Arithmetic, table: Mapping[sp.Symbol, Any]
                   ) -> Value:
    walk = SympyWalk(arithmetic, table)
    try:
        if isinstance(value, sp.MatrixBase):
            return Value(value.rows, value.cols, [walk(e) for e in value])
        return Value(1, 1, [walk(value if isinstance(value, sp.Basic) else sp.Integer(0))])
    except ZeroDivisionError:
        raise NotExact("division by zero") from None
