"""The derivatives of the language's element-wise functions, for exact forward mode
(``mcgrade.engine.exact_forward``): f'(u) written with the operations of the backend one
level down, from u and the value f(u) already computed.

Written with backend operations rather than as numbers, a slope is itself differentiated
when that backend is forward mode again (a Hessian's forward-over-forward): exp's slope
is its value, whose own tangent is exp's; so each rule here serves first and second
order alike. In a rational arithmetic (mod p, fractions) a transcendental value raises
``NotExact`` and so does its slope; the functions in ``RATIONAL_SLOPES`` have a rational
slope, which is evaluated even where the value has no exact form (d log u = du / u).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any


class Ops:
    """Element-wise arithmetic in one backend (an ``ExactBackend``, or forward mode)."""

    def __init__(self, backend: Any) -> None:
        self.b = backend

    def n(self, k: int) -> Any:
        return self.b.number(Fraction(k))

    def add(self, x: Any, y: Any) -> Any:
        return self.b.binary("+", x, y)

    def sub(self, x: Any, y: Any) -> Any:
        return self.b.binary("-", x, y)

    def mul(self, x: Any, y: Any) -> Any:
        return self.b.binary("*", x, y)

    def div(self, x: Any, y: Any) -> Any:
        return self.b.binary("/", x, y)

    def neg(self, x: Any) -> Any:
        return self.b.unary("neg", x)

    def f(self, name: str, x: Any) -> Any:
        return self.b.call(name, [x], (1, 1))

    def sq(self, x: Any) -> Any:
        return self.mul(x, x)

    def inverse_sqrt(self, x: Any) -> Any:
        return self.div(self.n(1), self.f("sqrt", x))


Slope = Callable[[Ops, Any, Any], Any]


def _reciprocal_rule(o: Ops, u: Any, root_of: Callable[[Any], Any]) -> Any:
    """1 / (u² sqrt(g(1/u²))): the shape shared by asec, acsc, asech and acsch."""
    u2 = o.sq(u)
    return o.div(o.n(1), o.mul(u2, o.f("sqrt", root_of(o.div(o.n(1), u2)))))


# f'(u) from (ops, u, f(u)); the inverse reciprocals as numpy_backend defines them
# (asec u = acos(1/u) …), so their slopes are sympy's on their real domains
SLOPES: dict[str, Slope] = {
    "exp": lambda o, u, f: f,
    "log": lambda o, u, f: o.div(o.n(1), u),
    "sqrt": lambda o, u, f: o.div(o.n(1), o.mul(o.n(2), f)),
    "sin": lambda o, u, f: o.f("cos", u),
    "cos": lambda o, u, f: o.neg(o.f("sin", u)),
    "tan": lambda o, u, f: o.add(o.n(1), o.sq(f)),
    "sec": lambda o, u, f: o.mul(f, o.f("tan", u)),
    "csc": lambda o, u, f: o.neg(o.mul(f, o.f("cot", u))),
    "cot": lambda o, u, f: o.neg(o.add(o.n(1), o.sq(f))),
    "sinh": lambda o, u, f: o.f("cosh", u),
    "cosh": lambda o, u, f: o.f("sinh", u),
    "tanh": lambda o, u, f: o.sub(o.n(1), o.sq(f)),
    "sech": lambda o, u, f: o.neg(o.mul(f, o.f("tanh", u))),
    "csch": lambda o, u, f: o.neg(o.mul(f, o.f("coth", u))),
    "coth": lambda o, u, f: o.sub(o.n(1), o.sq(f)),
    "asin": lambda o, u, f: o.inverse_sqrt(o.sub(o.n(1), o.sq(u))),
    "acos": lambda o, u, f: o.neg(o.inverse_sqrt(o.sub(o.n(1), o.sq(u)))),
    "atan": lambda o, u, f: o.div(o.n(1), o.add(o.n(1), o.sq(u))),
    "acot": lambda o, u, f: o.neg(o.div(o.n(1), o.add(o.n(1), o.sq(u)))),
    "asinh": lambda o, u, f: o.inverse_sqrt(o.add(o.sq(u), o.n(1))),
    "acosh": lambda o, u, f: o.inverse_sqrt(o.sub(o.sq(u), o.n(1))),
    "atanh": lambda o, u, f: o.div(o.n(1), o.sub(o.n(1), o.sq(u))),
    "acoth": lambda o, u, f: o.div(o.n(1), o.sub(o.n(1), o.sq(u))),
    "asec": lambda o, u, f: _reciprocal_rule(o, u, lambda w: o.sub(o.n(1), w)),
    "acsc": lambda o, u, f: o.neg(_reciprocal_rule(o, u, lambda w: o.sub(o.n(1), w))),
    "asech": lambda o, u, f: o.neg(_reciprocal_rule(o, u, lambda w: o.sub(w, o.n(1)))),
    "acsch": lambda o, u, f: o.neg(_reciprocal_rule(o, u, lambda w: o.add(w, o.n(1)))),
    "sigmoid": lambda o, u, f: o.mul(f, o.sub(o.n(1), f)),
    # away from the kink (an arithmetic raises NotExact at it, and mod p): the branch's
    # slope, a constant
    "relu": lambda o, u, f: o.f("Heaviside", u),
    "Abs": lambda o, u, f: o.f("sign", u),
}

# a rational slope: the derivative is exact where the value is not
RATIONAL_SLOPES = frozenset({"log", "atan", "acot", "atanh", "acoth"})
