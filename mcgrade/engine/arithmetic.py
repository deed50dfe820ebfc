"""Exact evaluation: an expression tree, or a sympy value, at one concrete point in one of
three arithmetics (python-flint, in C).

* ``MODP``: integers modulo the prime 2^61 - 1. It covers everything built from + - * /,
  integer powers, ``@``, ``.T``, ``inv``, ``det``, ``trace``, ``sum``, ``diag``: rational
  functions of the entries.
* ``RATIONAL``: exact fractions, to show a student a difference they can read (mod-p
  numbers mean nothing to a person).
* ``BALL``: certified real balls (``arb``), for exp, log, trig and the kinked functions
  away from their kinks.

A point where an arithmetic can't answer (a division by zero mod p, a ball that straddles
a kink, a square root mod p) raises ``NotExact``. The expression tree is walked by
``mcgrade.expressions.evaluate`` (the walker the sympy and numpy backends share);
references made by sympy are walked by ``mcgrade.engine.sympy_values``. What to conclude
from the values is ``mcgrade.engine.exact``'s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import flint

from mcgrade.expressions import Expression
from mcgrade.expressions.evaluate import evaluate

PRIME = (1 << 61) - 1


class NotExact(Exception):
    """This arithmetic can't evaluate the expression at this point."""


# --- arithmetics ----------------------------------------------------------------------

class Arithmetic:
    """Scalars of one exact arithmetic, and its matrices for @, det and inv."""

    name = ""

    def number(self, value: Fraction) -> Any:
        raise NotImplementedError

    def constant(self, name: str) -> Any:
        raise NotExact(name)

    def matrix(self, rows: int, cols: int, entries: list[Any]) -> Any:
        raise NotImplementedError

    def divide(self, a: Any, b: Any) -> Any:
        if self.sign(b) == 0:
            raise NotExact("division by zero")
        return a / b

    def power(self, a: Any, k: Fraction) -> Any:
        if k.denominator != 1:
            raise NotExact("a fractional power")
        if k < 0:
            return self.divide(self.number(Fraction(1)), a ** int(-k))
        return a ** int(k)

    def function(self, name: str, a: Any) -> Any:
        raise NotExact(name)

    def sign(self, a: Any) -> int:
        """-1, 0 or 1; NotExact where the arithmetic has no order (mod p) or the ball
        straddles 0. Mod p only 0 / nonzero is known, which is all division needs."""
        raise NotImplementedError

    def known_sign(self, a: Any) -> int:
        """The sign of a kink's argument; NotExact at the kink itself, where the sample
        never goes (a Heaviside there is a convention, not the reference's value)."""
        s = self.sign(a)
        if s == 0:
            raise NotExact("at a kink")
        return s


class _ModP(Arithmetic):
    name = "mod-p"

    def number(self, value: Fraction) -> Any:
        if value.denominator % PRIME == 0:
            raise NotExact("a denominator divisible by p")
        return flint.nmod(value.numerator, PRIME) / flint.nmod(value.denominator, PRIME)

    def matrix(self, rows: int, cols: int, entries: list[Any]) -> Any:
        return flint.nmod_mat(rows, cols, entries, PRIME)

    def sign(self, a: Any) -> int:
        return 0 if a == 0 else 1

    def known_sign(self, a: Any) -> int:
        raise NotExact("a kink mod p")


class _Rational(Arithmetic):
    name = "rational"

    def number(self, value: Fraction) -> Any:
        return flint.fmpq(value.numerator, value.denominator)

    def matrix(self, rows: int, cols: int, entries: list[Any]) -> Any:
        return flint.fmpq_mat(rows, cols, entries)

    def sign(self, a: Any) -> int:
        return int(a > 0) - int(a < 0)


def _reciprocal(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda z: 1 / f(z)


def _of_reciprocal(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda z: f(1 / z)


# the language's functions on balls; the inverse reciprocals as numpy_backend has them
_BALL: dict[str, Callable[[Any], Any]] = {
    **{name: (lambda n: lambda z: getattr(z, n)())(name) for name in (
        "exp", "log", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
        "tanh", "asinh", "acosh", "atanh", "sec", "csc", "cot", "sech", "csch", "coth")},
    "asec": _of_reciprocal(lambda z: z.acos()), "acsc": _of_reciprocal(lambda z: z.asin()),
    "acot": _of_reciprocal(lambda z: z.atan()), "asech": _of_reciprocal(lambda z: z.acosh()),
    "acsch": _of_reciprocal(lambda z: z.asinh()), "acoth": _of_reciprocal(lambda z: z.atanh()),
    "sigmoid": lambda z: 1 / (1 + (-z).exp()),
}


class _Ball(Arithmetic):
    name = "ball"

    def number(self, value: Fraction) -> Any:
        return flint.arb(flint.fmpq(value.numerator, value.denominator))

    def constant(self, name: str) -> Any:
        return flint.arb.pi() if name == "pi" else flint.arb(1).exp()

    def matrix(self, rows: int, cols: int, entries: list[Any]) -> Any:
        return flint.arb_mat(rows, cols, entries)

    def power(self, a: Any, k: Fraction) -> Any:
        if k.denominator == 1:
            return super().power(a, k)
        if self.sign(a) <= 0:
            raise NotExact("a fractional power of a number not known positive")
        return _finite(a ** self.number(k))

    def function(self, name: str, a: Any) -> Any:
        if name in _BALL:
            return _finite(_BALL[name](a))
        raise NotExact(name)

    def sign(self, a: Any) -> int:
        if not a.is_finite():
            raise NotExact("not finite")
        if a.is_exact() and a == 0:
            return 0
        if a > 0:
            return 1
        if a < 0:
            return -1
        raise NotExact("a ball around 0")


def _finite(a: Any) -> Any:
    if not a.is_finite():
        raise NotExact("not finite (outside the function's domain)")
    return a


MODP, RATIONAL, BALL = _ModP(), _Rational(), _Ball()

# Balls are computed with this many bits: floats (53) lose a difference to cancellation
# (exp(40) + 1/100 - exp(40) is 0 in floats), and a ball as wide as the float rounding
# could never show it; 200 bits can.
BALL_PRECISION = 200
_PRECISION = threading.Lock()


@contextmanager
def ball_precision() -> Iterator[None]:
    """Ball arithmetic at ``BALL_PRECISION`` bits. python-flint's precision is one global
    setting, so it is held under a lock: two checks in two threads never change it under
    each other, and a verdict never depends on which thread ran it."""
    with _PRECISION:
        saved = flint.ctx.prec
        flint.ctx.prec = BALL_PRECISION
        try:
            yield
        finally:
            flint.ctx.prec = saved


# --- values ---------------------------------------------------------------------------

@dataclass
class Value:
    """A matrix of scalars (a scalar is 1×1). ``known``: the exact Fraction of a value made
    of numbers and sizes alone, so that an exponent stays an exponent."""

    rows: int
    cols: int
    entries: list[Any]
    known: Fraction | None = None

    def at(self, i: int, j: int) -> Any:
        return self.entries[i * self.cols + j]


class ExactBackend:
    """The ``mcgrade.expressions.evaluate.Backend`` of one arithmetic, with ``env`` mapping
    symbol names to Values."""

    def __init__(self, arithmetic: Arithmetic, env: Mapping[str, Value]) -> None:
        self.a = arithmetic
        self.env = env

    def _scalar(self, value: Fraction) -> Value:
        return Value(1, 1, [self.a.number(value)], value)

    def number(self, value: Fraction) -> Value:
        return self._scalar(value)

    def constant(self, name: str) -> Value:
        return Value(1, 1, [self.a.constant(name)])

    def symbol(self, name: str) -> Value:
        return self.env[name]

    def dimension(self, size: int) -> Value:
        return self._scalar(Fraction(size))

    def unary(self, op: str, a: Value) -> Value:
        if op == "neg":
            return Value(a.rows, a.cols, [-x for x in a.entries],
                         None if a.known is None else -a.known)
        if op == "transpose":
            return Value(a.cols, a.rows, [a.at(i, j) for j in range(a.cols)
                                          for i in range(a.rows)], a.known)
        zero = self.a.number(Fraction(0))
        if op == "diag-matrix":
            n = len(a.entries)
            return Value(n, n, [a.entries[i] if i == j else zero for i in range(n)
                                for j in range(n)])
        n = min(a.rows, a.cols)                                    # diag-vector
        return Value(n, 1, [a.at(i, i) for i in range(n)])

    def _zip(self, f: Callable[[Any, Any], Any], a: Value, b: Value) -> Value:
        if (a.rows, a.cols) == (1, 1) and (b.rows, b.cols) != (1, 1):
            return Value(b.rows, b.cols, [f(a.entries[0], y) for y in b.entries])
        if (b.rows, b.cols) == (1, 1) and (a.rows, a.cols) != (1, 1):
            return Value(a.rows, a.cols, [f(x, b.entries[0]) for x in a.entries])
        return Value(a.rows, a.cols, [f(x, y) for x, y in zip(a.entries, b.entries)])

    def binary(self, op: str, a: Value, b: Value) -> Value:
        if op == "@":
            return self._flint(self._mat(a) * self._mat(b))
        if op == "**":
            if b.known is None:
                raise NotExact("an exponent that is not a number")
            exponent = b.known
            result = self._zip(lambda x, _: self.a.power(x, exponent), a, b)
            if a.known is not None and exponent.denominator == 1:
                result.known = a.known ** int(exponent) if a.known or exponent > 0 else None
            return result
        functions: dict[str, Callable[[Any, Any], Any]] = {
            "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
            "/": self.a.divide}
        result = self._zip(functions[op], a, b)
        if a.known is not None and b.known is not None and (op != "/" or b.known):
            result.known = {"+": a.known + b.known, "-": a.known - b.known,
                            "*": a.known * b.known,
                            "/": a.known / b.known if b.known else None}[op]
        return result

    def _mat(self, a: Value) -> Any:
        return self.a.matrix(a.rows, a.cols, a.entries)

    def _flint(self, m: Any) -> Value:
        rows, cols = m.nrows(), m.ncols()
        return Value(rows, cols, [m[i, j] for i in range(rows) for j in range(cols)])

    def call(self, name: str, args: list[Value], shape: tuple[int, int]) -> Value:
        a = args[0]
        zero, one = self.a.number(Fraction(0)), self.a.number(Fraction(1))
        if name == "sum":
            return Value(1, 1, [add_all(a.entries, zero)])
        if name == "dot":
            return Value(1, 1, [add_all([x * y for x, y in zip(a.entries, args[1].entries)],
                                     zero)])
        if name == "trace":
            return Value(1, 1, [add_all([a.at(i, i) for i in range(a.rows)], zero)])
        if name == "det":
            return Value(1, 1, [self._mat(a).det()])
        if name == "inv":
            try:
                return self._flint(self._mat(a).inv())
            except ZeroDivisionError:
                raise NotExact("a singular matrix") from None
        if name in ("relu", "Abs", "sign", "Heaviside"):
            return Value(a.rows, a.cols, [self._kinked(name, x, zero, one)
                                          for x in a.entries])
        if name in ("Max", "Min"):
            pick = 1 if name == "Max" else -1
            return self._zip(lambda x, y: x if self.a.known_sign(x - y) * pick >= 0 else y,
                             a, args[1])
        if name == "norm":
            return Value(1, 1, [self.a.function("sqrt", add_all([x * x for x in a.entries],
                                                             zero))])
        if name == "softmax":
            exps = [self.a.function("exp", x) for x in a.entries]
            total = add_all(exps, zero)
            return Value(a.rows, a.cols, [self.a.divide(e, total) for e in exps])
        if name == "logsumexp":
            return Value(1, 1, [self.a.function("log", add_all(
                [self.a.function("exp", x) for x in a.entries], zero))])
        return Value(a.rows, a.cols, [self.a.function(name, x) for x in a.entries])

    def _kinked(self, name: str, x: Any, zero: Any, one: Any) -> Any:
        s = self.a.known_sign(x)
        if name == "relu":
            return x if s > 0 else zero
        if name == "Abs":
            return x if s >= 0 else -x
        if name == "sign":
            return self.a.number(Fraction(s))
        if s == 0:                                                   # Heaviside(0) = 1/2
            return self.a.number(Fraction(1, 2))
        return one if s > 0 else zero

    def index(self, a: Value, row: int, col: int, shape: tuple[int, int]) -> Value:
        if (a.rows, a.cols) == (1, 1):
            return a
        return Value(1, 1, [a.at(row % shape[0], col % shape[1])])

    def sum_axis(self, a: Value, axis: int) -> Value:
        zero = self.a.number(Fraction(0))
        if axis == 0:
            return Value(1, a.cols, [add_all([a.at(i, j) for i in range(a.rows)], zero)
                                     for j in range(a.cols)])
        return Value(a.rows, 1, [add_all([a.at(i, j) for j in range(a.cols)], zero)
                                 for i in range(a.rows)])

    def fill(self, name: str, rows: int, cols: int) -> Value:
        zero, one = self.a.number(Fraction(0)), self.a.number(Fraction(1))
        if name == "eye":
            return Value(rows, cols, [one if i == j else zero for i in range(rows)
                                      for j in range(cols)])
        return Value(rows, cols, [one if name == "ones" else zero] * (rows * cols))

    def matrix(self, values: list[Value], rows: int, cols: int) -> Value:
        return Value(rows, cols, [v.entries[0] for v in values])

    def piecewise(self, pieces: list[Any], shape: tuple[int, int]) -> Value:
        count = shape[0] * shape[1]
        cells = []
        for i in range(count):
            for k in range(0, len(pieces), 2):
                condition = pieces[k + 1]
                holds = condition[i if len(condition) > 1 else 0]
                if holds:
                    piece = pieces[k]
                    cells.append(piece.entries[i if len(piece.entries) > 1 else 0])
                    break
            else:
                raise NotExact("no piece applies")
        return Value(shape[0], shape[1], cells)

    def compare(self, op: str, a: Value, b: Value) -> list[bool]:
        count = max(len(a.entries), len(b.entries))
        out = []
        for i in range(count):
            x = a.entries[i if len(a.entries) > 1 else 0]
            y = b.entries[i if len(b.entries) > 1 else 0]
            s = self.a.known_sign(x - y)
            out.append({"<": s < 0, "<=": s <= 0, ">": s > 0, ">=": s >= 0}[op])
        return out

    def true(self) -> list[bool]:
        return [True]


def add_all(values: Sequence[Any], zero: Any) -> Any:
    """The sum, from this arithmetic's zero (``sum`` would start from the int 0)."""
    total = zero
    for v in values:
        total = total + v
    return total


def evaluate_tree(expression: Expression, arithmetic: Arithmetic, env: Mapping[str, Value],
                  sizes: Mapping[str, int]) -> Value:
    """``expression`` at one point: a Value, or NotExact."""
    try:
        value: Value = evaluate(expression.root, ExactBackend(arithmetic, env), sizes)
        return value
    except ZeroDivisionError:
        raise NotExact("division by zero") from None
