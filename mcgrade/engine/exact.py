"""Exact checking at random points: a proof of "differ", and "agree" with a stated bound.

Both sides of a check are evaluated at concrete points in one of three arithmetics
(python-flint, C):

* ``MODP``: integers modulo the prime 2^61 - 1, at uniformly random points. It covers
  everything built from + - * /, integer powers, ``@``, ``.T``, ``inv``, ``det``,
  ``trace``, ``sum``, ``diag``: rational functions of the entries. Two different rational
  functions of degree at most D agree at a random point with probability at most D/p
  (Schwartz–Zippel); the degree of anything the language can write at these sizes is far
  below 2^40 (``degree`` checks it), so K agreeing points leave a false-accept chance
  below 2^-K. A disagreement is a proof that the two differ.
* ``RATIONAL``: exact fractions at the grid points of the sample, to show a student a
  difference they can read (mod-p numbers mean nothing to a person).
* ``BALL``: certified real balls (``arb``) at the sample points, for exp, log, trig and
  the kinked functions away from their kinks: a difference whose ball lies beyond the
  tolerance is proved; anything else decides nothing.

A point where an arithmetic can't answer (a division by zero mod p, a ball that straddles
a kink, a square root mod p) raises ``NotExact``: the point is redrawn, or the check is
left to the floats. The expression tree is walked by ``mcgrade.expressions.evaluate``
(the walker the sympy and numpy backends share); references made by sympy at the declared
sizes are walked by ``_SympyWalk``.

Sizes: every declared size assignment, then larger ones where the reference can be built
at any size (a written-out answer): k×k matrices satisfy the Amitsur–Levitzki identity
s_2k = 0, so an answer of degree d in the matrix symbols is also checked at a size k with
2k > d, and dimensions get unequal sizes there (k, k + 1, …) so m ≠ n.

Points and sizes are drawn from a seed made of the problem set, the problem and the
answer's text: the same inputs give the same verdict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import flint
import numpy as np
import sympy as sp

from mcgrade.engine import instances
from mcgrade.engine.candidates import ExpressionCandidate, SympyCandidate
from mcgrade.engine.diagnosis import where
from mcgrade.engine.feedback import how_checked
from mcgrade.engine.reference import Instance, Reference
from mcgrade.errors import ExpressionError
from mcgrade.expressions import Expression, Scope, compile_expression
from mcgrade.expressions.evaluate import evaluate
from mcgrade.expressions.nodes import Node
from mcgrade.model import Tolerance

PRIME = (1 << 61) - 1
MAX_DEGREE = 1 << 40            # D/p < 2^-20 per point: "below 2^-K" with room to spare
POINTS_PER_SIZE = 2             # mod-p points per size assignment
EXTRA_SIZES = 2                 # larger, non-square size assignments beyond the declared
MAX_EXTRA_SIZE = 12             # a larger size costs O(k^3) per point: keep it bounded
ATTEMPTS = 4                    # redraws of a point that was "not exact here"


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
            return Value(1, 1, [_add(a.entries, zero)])
        if name == "dot":
            return Value(1, 1, [_add([x * y for x, y in zip(a.entries, args[1].entries)],
                                     zero)])
        if name == "trace":
            return Value(1, 1, [_add([a.at(i, i) for i in range(a.rows)], zero)])
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
            return Value(1, 1, [self.a.function("sqrt", _add([x * x for x in a.entries],
                                                             zero))])
        if name == "softmax":
            exps = [self.a.function("exp", x) for x in a.entries]
            total = _add(exps, zero)
            return Value(a.rows, a.cols, [self.a.divide(e, total) for e in exps])
        if name == "logsumexp":
            return Value(1, 1, [self.a.function("log", _add(
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
            return Value(1, a.cols, [_add([a.at(i, j) for i in range(a.rows)], zero)
                                     for j in range(a.cols)])
        return Value(a.rows, 1, [_add([a.at(i, j) for j in range(a.cols)], zero)
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


def _add(values: Sequence[Any], zero: Any) -> Any:
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


# --- sympy values (references made at the declared sizes) -----------------------------

_SYMPY_FUNCTIONS: dict[type, str] = {
    **{getattr(sp, name): name for name in (
        "exp", "log", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
        "asinh", "acosh", "atanh", "sec", "csc", "cot", "asec", "acsc", "acot", "sech",
        "csch", "coth", "asech", "acsch", "acoth")},
}


class _SympyWalk:
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
            return _add([self(x) for x in e.args], a.number(Fraction(0)))
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
    walk = _SympyWalk(arithmetic, table)
    try:
        if isinstance(value, sp.MatrixBase):
            return Value(value.rows, value.cols, [walk(e) for e in value])
        return Value(1, 1, [walk(value if isinstance(value, sp.Basic) else sp.sympify(0))])
    except ZeroDivisionError:
        raise NotExact("division by zero") from None


# --- degree ---------------------------------------------------------------------------

def degree(node: Node) -> int:
    """An upper bound on the degree, in the symbols' entries, of the numerator and the
    denominator of any entry of ``node`` (as one rational function), at sizes up to
    ``MAX_EXTRA_SIZE``/the declared maximum: it bounds the Schwartz–Zippel error, and its
    degree in the matrix symbols picks the size at which no polynomial identity of
    matrices can hide a difference. Capped at MAX_DEGREE."""
    return min(_degree(node, 50), MAX_DEGREE)


def _degree(node: Node, size: int) -> int:
    op = node.op
    args = [_degree(a, size) for a in node.args]
    if op in ("num", "dimension", "constant", "fill", "true"):
        return 0
    if op == "symbol":
        return 1
    if op in ("neg", "transpose", "diag-matrix", "diag-vector", "index", "compare"):
        return args[0] if args else 0
    if op in ("+", "-", "*", "/"):
        return args[0] + args[1]           # over a common denominator
    if op == "@":
        return size * (args[0] + args[1])  # a sum of `size` products
    if op == "**":
        exponent = node.args[1]
        if exponent.op == "num":
            return int(abs(exponent.value)) * args[0]  # type: ignore[arg-type]
        return MAX_DEGREE
    if op in ("sum-axis", "matrix", "piecewise"):
        return size * size * max(args, default=0)
    if op == "call":
        name = node.value
        if name in ("det", "inv"):
            return size * size * args[0]
        if name in ("sum", "dot", "trace"):
            return size * size * sum(args)
        return MAX_DEGREE if args and args[0] else 0    # not rational: mod p won't run
    return MAX_DEGREE


def matrix_degree(node: Node) -> int:
    """The degree of ``node`` as a noncommutative polynomial in its non-scalar symbols
    (products and powers add up; inv, det and sums don't raise it)."""
    op = node.op
    args = [matrix_degree(a) for a in node.args]
    if op == "symbol":
        return 0 if node.shape == (1, 1) else 1
    if op in ("@", "*"):
        return args[0] + args[1]
    if op == "**" and node.args[1].op == "num":
        return int(abs(node.args[1].value)) * args[0]  # type: ignore[arg-type]
    return max(args, default=0)


# --- the check ------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """What the exact check found: ``agree`` at ``points`` points (mod p), or ``differ``
    with evidence for the record."""

    verdict: str
    points: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return how_checked("exact", {"points": self.points})


@dataclass(frozen=True)
class _Side:
    """How to evaluate one side (reference or answer) at a size and point."""

    tree: Expression | None           # evaluated at any size
    sympy: Callable[[Instance], Any] | None   # its sympy value at a declared instance
    # a derivative's reference by forward mode: where an instance has no sympy value, and
    # at sizes beyond the declared ones
    forward: Callable[[Arithmetic, Mapping[str, Value], Mapping[str, int]], Value] | None = None
    of: Expression | None = None      # what that derivative is of: its degree and sizes


def settle(reference: Reference, candidate: Any, tolerance: Tolerance) -> Finding | None:
    """Decide ``candidate`` against ``reference`` exactly, or None (undecided: the floats
    and the proof decide)."""
    answer = _answer_side(candidate)
    if (answer is None or not reference.instances or reference.problem.kind == "shape"
            or not reference.set_key):         # a student copy's checks hold no values
        return None
    expected = _reference_side(reference)
    key = (candidate.expression.text if isinstance(candidate, ExpressionCandidate)
           else sp.srepr(candidate.value))
    seed = int.from_bytes(hashlib.sha256("\x1f".join(
        (reference.set_key, reference.problem.id, key)).encode()).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    agreed, undecided = 0, False
    outcome: bool | None = True
    for sizes, instance in _size_plan(reference, expected, answer):
        for _ in range(POINTS_PER_SIZE):
            outcome = _mod_p_point(reference, expected, answer, sizes, instance, rng)
            if outcome is None:
                # at a declared size the floats decide instead; past them (instance None)
                # this larger size is skipped (singular there, say), the next one tried
                undecided = instance is not None
                break
            if outcome is False:
                return Finding("differ", evidence=_witness(
                    reference, expected, answer, sizes, instance, rng,
                    reference.symbols | candidate.symbols))
            agreed += 1
        if undecided:
            break
    if not undecided and agreed:
        found = Finding("agree", agreed)
        return Finding("agree", agreed, {"points": agreed, "checked": found.method})
    return _ball_check(reference, expected, answer, tolerance)


def _answer_side(candidate: Any) -> _Side | None:
    if isinstance(candidate, ExpressionCandidate):
        return _Side(candidate.expression, None)
    if isinstance(candidate, SympyCandidate) and not candidate.flat:
        return _Side(None, candidate.exact_at)
    return None


def _reference_side(reference: Reference) -> _Side:
    problem = reference.problem
    if problem.kind == "answer" and not problem.at and problem.answer:
        first = reference.instances[0]
        scope = Scope(dict(first.declared_shapes), frozenset(first.sizes))
        try:
            return _Side(compile_expression(problem.answer, scope), None)
        except ExpressionError:
            pass
    of = None
    if problem.kind == "derivative" and problem.of and not problem.at:   # `at` binds a point
        first = reference.instances[0]
        try:
            of = compile_expression(problem.of, Scope(dict(first.declared_shapes),
                                                      frozenset(first.sizes)))
        except ExpressionError:
            pass
    return _Side(None, lambda instance: instance.value,
                 lambda arithmetic, env, sizes: forward_reference(reference, arithmetic, env,
                                                                  sizes), of)


def _size_plan(reference: Reference, expected: _Side, answer: _Side
               ) -> Iterator[tuple[Mapping[str, int], Instance | None]]:
    """Every declared instance, then larger non-square sizes where the answer is a tree
    and the reference can be built at any size (a tree, or a derivative by forward mode)."""
    for instance in reference.instances:
        yield instance.sizes, instance
    built = expected.tree or expected.of     # what fixes the reference's degree and sizes
    if built is None or answer.tree is None:
        return
    dims = sorted(reference.instances[0].sizes)
    if not dims:
        return
    d = max(matrix_degree(built.root), matrix_degree(answer.tree.root))
    declared = max(max(i.sizes.values()) for i in reference.instances)
    k = min(max(declared + 1, d // 2 + 1), MAX_EXTRA_SIZE)
    for shift in range(EXTRA_SIZES):
        sizes = {name: min(k + (i + shift) % len(dims), MAX_EXTRA_SIZE + len(dims))
                 for i, name in enumerate(dims)}
        try:
            built.check_sizes(sizes)
            answer.tree.check_sizes(sizes)
        except ExpressionError:
            continue
        yield sizes, None


def _mod_p_env(reference: Reference, sizes: Mapping[str, int], instance: Instance | None,
               rng: np.random.Generator) -> dict[str, Value]:
    """Uniform random values mod p for every symbol, as its structure requires; symbols
    an `at` binds keep their value."""
    env: dict[str, Value] = {}
    for decl in reference.declarations:
        bound = instance.env.get(decl.name) if instance is not None else None
        if bound is not None and _is_number(bound):
            env[decl.name] = _sympy_number_value(bound, MODP)
            continue
        rows, cols = instances.resolve(decl.shape, sizes)
        raw = rng.integers(0, PRIME, size=(rows, cols), dtype=np.int64)
        if decl.diagonal:
            raw = raw * np.eye(rows, dtype=np.int64)
        if decl.symmetric:
            raw = np.triu(raw) + np.triu(raw, 1).T
        env[decl.name] = Value(rows, cols, [flint.nmod(int(v), PRIME) for v in raw.ravel()])
    return env


def _is_number(value: Any) -> bool:
    if isinstance(value, sp.MatrixBase):
        return not value.free_symbols
    return bool(getattr(value, "is_number", False))


def _sympy_number_value(value: Any, arithmetic: Arithmetic) -> Value:
    entries = list(value) if isinstance(value, sp.MatrixBase) else [value]
    rows, cols = value.shape if isinstance(value, sp.MatrixBase) else (1, 1)
    walk = _SympyWalk(arithmetic, {})
    return Value(rows, cols, [walk(sp.sympify(e)) for e in entries])


def _table(instance: Instance, env: Mapping[str, Value]) -> dict[sp.Symbol, Any]:
    """Entry symbol → its scalar, for a sympy value at a declared instance."""
    table: dict[sp.Symbol, Any] = {}
    for name, symbolic in instance.env.items():
        if name not in env:
            continue
        entries = list(symbolic) if isinstance(symbolic, sp.MatrixBase) else [symbolic]
        for symbol, value in zip(entries, env[name].entries):
            if isinstance(symbol, sp.Symbol):
                table[symbol] = value
    return table


def _evaluate(side: _Side, arithmetic: Arithmetic, env: Mapping[str, Value],
              sizes: Mapping[str, int], instance: Instance | None) -> Value:
    if side.tree is not None:
        return evaluate_tree(side.tree, arithmetic, env, sizes)
    if (instance is None or instance.forward) and side.forward is not None:
        return side.forward(arithmetic, env, sizes)
    assert side.sympy is not None and instance is not None
    value = side.sympy(instance)
    if value is None:
        raise NotExact("no value at this size")
    return evaluate_sympy(value, arithmetic, _table(instance, env))


def _mod_p_point(reference: Reference, expected: _Side, answer: _Side,
                 sizes: Mapping[str, int], instance: Instance | None,
                 rng: np.random.Generator) -> bool | None:
    """True if both sides agree at a random point mod p, False if they differ, None if
    mod p can't evaluate them (after ATTEMPTS redraws)."""
    for _ in range(ATTEMPTS):
        env = _mod_p_env(reference, sizes, instance, rng)
        try:
            left = _evaluate(expected, MODP, env, sizes, instance)
            right = _evaluate(answer, MODP, env, sizes, instance)
        except NotExact as exc:
            if str(exc) in ("division by zero", "a singular matrix"):
                continue                  # an unlucky point: redraw
            return None
        except (TypeError, ValueError, KeyError, IndexError, RecursionError,
                ExpressionError):
            return None               # nothing exact to say here: the floats decide
        if (left.rows, left.cols) != (right.rows, right.cols):
            return None
        return left.entries == right.entries
    return None


def _witness(reference: Reference, expected: _Side, answer: _Side,
             sizes: Mapping[str, int], instance: Instance | None,
             rng: np.random.Generator, involved: frozenset[str]) -> dict[str, Any]:
    """Readable evidence of a difference found mod p: a grid point where the exact
    rational values differ (the sample points at a declared size, fresh grid points at a
    larger one), else just the sizes."""
    shown_sizes = dict(sizes)
    points: list[tuple[dict[str, Value], dict[str, Any]]] = []
    if instance is not None:
        for index in range(instance.samples.count):
            env = {name: _grid_value(instance.samples.values[name][index])
                   for name in instance.samples.values}
            points.append((env, where(instance, index, involved)))
    else:
        for _ in range(ATTEMPTS):
            drawn = {d.name: instances.draw_symbol(rng, d, d.domain, sizes, 1)[0]
                     for d in reference.declarations}
            points.append(({name: _grid_value(v) for name, v in drawn.items()},
                           {"sizes": shown_sizes, "point": {
                               name: (float(v[0, 0]) if v.shape == (1, 1) else v.tolist())
                               for name, v in drawn.items() if name in involved}}))
    for env, location in points:
        try:
            left = _evaluate(expected, RATIONAL, env, sizes, instance)
            right = _evaluate(answer, RATIONAL, env, sizes, instance)
        except (NotExact, TypeError, ValueError, KeyError, ExpressionError):
            continue
        for index, (e, g) in enumerate(zip(left.entries, right.entries)):
            if e != g:
                difference = str(g - e)
                return {**location, "expected_shape": [left.rows, left.cols],
                        "given_shape": [right.rows, right.cols],
                        "entry": [index // left.cols, index % left.cols],
                        "expected": float(e), "given": float(g),
                        "difference": difference if len(difference) <= 40 else
                        f"{float(g - e):.12g}"}
    return {"sizes": shown_sizes}


def _grid_value(array: np.ndarray) -> Value:
    """A sample value (dyadic floats, so exactly these rationals) as a rational Value."""
    rows, cols = array.shape
    return Value(rows, cols, [flint.fmpq(*Fraction(float(v)).as_integer_ratio())
                              for v in array.ravel()])


def _ball_check(reference: Reference, expected: _Side, answer: _Side, tolerance: Tolerance
                ) -> Finding | None:
    """Certified balls at the sample points: ``differ`` where a difference beyond the
    tolerance is proved, else None (balls that agree prove nothing about other points)."""
    involved = reference.symbols
    for instance in reference.instances:
        for index in range(instance.samples.count):
            env = {name: _ball_value(instance.samples.values[name][index])
                   for name in instance.samples.values}
            try:
                left = _evaluate(expected, BALL, env, instance.sizes, instance)
                right = _evaluate(answer, BALL, env, instance.sizes, instance)
            except (NotExact, TypeError, ValueError, KeyError, ExpressionError):
                continue
            if (left.rows, left.cols) != (right.rows, right.cols):
                return None
            for entry, (e, g) in enumerate(zip(left.entries, right.entries)):
                allowed = tolerance.atol + tolerance.rtol * max(abs(float(e.mid())),
                                                                abs(float(g.mid())))
                # certainly beyond twice the tolerance: floats that called it close
                # were lost to cancellation, not a borderline rounding
                if abs(g - e) > flint.arb(allowed) * 2:
                    return Finding("differ", evidence={
                        **where(instance, index, involved),
                        "entry": [entry // left.cols, entry % left.cols],
                        "expected": float(e.mid()), "given": float(g.mid())})
    return None


def _ball_value(array: np.ndarray) -> Value:
    rows, cols = array.shape
    return Value(rows, cols, [flint.arb(flint.fmpq(*Fraction(float(v)).as_integer_ratio()))
                              for v in array.ravel()])


# --- references built by forward mode (no sympy value at this size) -------------------

@dataclass
class _Dual:
    """A Value and its first derivatives along the input-entry directions (None: zero);
    ``v`` None where the value itself has no exact form (a logarithm) but its derivative
    does (d log u = du / u)."""

    v: Value | None
    d: list[Value] | None = None


def _broadcast(value: Value, rows: int, cols: int) -> Value:
    """A 1×1 value as a rows×cols one of that entry; any other as it is."""
    if (value.rows, value.cols) == (1, 1) and (rows, cols) != (1, 1):
        return Value(rows, cols, [value.entries[0]] * (rows * cols))
    return value


class _ForwardBackend:
    """First-order forward mode over an exact arithmetic (``mcgrade.engine.forward`` does
    the same in floats): the rational rules only — ``inv``, ``det``, ``log`` (of a value
    whose derivative is rational), products and quotients. Anything else is NotExact."""

    def __init__(self, arithmetic: Arithmetic, env: Mapping[str, Value],
                 seeds: Mapping[str, list[Value]]) -> None:
        self.b = ExactBackend(arithmetic, env)
        self.a = arithmetic
        self.seeds = seeds

    @staticmethod
    def _known(x: _Dual) -> Value:
        if x.v is None:
            raise NotExact("a value with no exact form")
        return x.v

    def _each(self, f: Callable[[Value], Value], x: _Dual) -> _Dual:
        return _Dual(None if x.v is None else f(x.v),
                     None if x.d is None else [f(t) for t in x.d])

    def number(self, value: Fraction) -> _Dual:
        return _Dual(self.b.number(value))

    def constant(self, name: str) -> _Dual:
        return _Dual(self.b.constant(name))

    def symbol(self, name: str) -> _Dual:
        return _Dual(self.b.symbol(name), self.seeds.get(name))

    def dimension(self, size: int) -> _Dual:
        return _Dual(self.b.dimension(size))

    def fill(self, name: str, rows: int, cols: int) -> _Dual:
        return _Dual(self.b.fill(name, rows, cols))

    def true(self) -> list[bool]:
        return self.b.true()

    def unary(self, op: str, a: _Dual) -> _Dual:
        return self._each(lambda x: self.b.unary(op, x), a)

    def index(self, a: _Dual, row: int, col: int, shape: tuple[int, int]) -> _Dual:
        return self._each(lambda x: self.b.index(x, row, col, shape), a)

    def sum_axis(self, a: _Dual, axis: int) -> _Dual:
        return self._each(lambda x: self.b.sum_axis(x, axis), a)

    def matrix(self, values: list[_Dual], rows: int, cols: int) -> _Dual:
        known = [self._known(x) for x in values]
        directions = next((len(x.d) for x in values if x.d is not None), 0)
        zero = self.b.number(Fraction(0))
        tangents = [self.b.matrix([x.d[k] if x.d is not None else zero for x in values],
                                  rows, cols) for k in range(directions)]
        return _Dual(self.b.matrix(known, rows, cols), tangents or None)

    def _sum(self, x: list[Value] | None, y: list[Value] | None) -> list[Value] | None:
        if x is None or y is None:
            return x if y is None else y
        return [self.b.binary("+", s, t) for s, t in zip(x, y)]

    def binary(self, op: str, a: _Dual, b: _Dual) -> _Dual:
        if op in ("+", "-"):
            negated = b.d if op == "+" or b.d is None else [self.b.unary("neg", t) for t in b.d]
            value = (None if a.v is None or b.v is None else self.b.binary(op, a.v, b.v))
            tangents = self._sum(a.d, negated)
            if tangents is not None:
                if value is None and (a.d is None or b.d is None):
                    # the result's shape is unknown here (a value with no exact form), so
                    # a scalar's tangent could not be broadcast over it: undecided
                    raise NotExact("a tangent of unknown shape")
                if value is not None:
                    # a scalar operand broadcast over a matrix: so is its tangent (x + b by b)
                    tangents = [_broadcast(d, value.rows, value.cols) for d in tangents]
            return _Dual(value, tangents)
        if op in ("*", "@"):
            left, right = (None if a.d is None else [self.b.binary(op, t, self._known(b))
                                                     for t in a.d],
                           None if b.d is None else [self.b.binary(op, self._known(a), t)
                                                     for t in b.d])
            return _Dual(self.b.binary(op, self._known(a), self._known(b)),
                         self._sum(left, right))
        if op == "/":
            q = self.b.binary("/", self._known(a), self._known(b))
            minus = None if b.d is None else [self.b.unary("neg", self.b.binary("*", q, t))
                                              for t in b.d]
            top = self._sum(a.d, minus)
            return _Dual(q, None if top is None else [self.b.binary("/", t, self._known(b))
                                                      for t in top])
        if b.d is not None or b.v is None or b.v.known is None:
            raise NotExact("a power with a variable exponent")
        p = b.v.known                                    # the power rule
        value = self.b.binary("**", self._known(a), b.v)
        if a.d is None:
            return _Dual(value)
        slope = self.b.binary("*", b.v, self.b.binary("**", self._known(a),
                                                      self.b.number(p - 1)))
        return _Dual(value, [self.b.binary("*", slope, t) for t in a.d])

    def call(self, name: str, args: list[_Dual], shape: tuple[int, int]) -> _Dual:
        a = args[0]
        if name in ("sum", "trace", "transpose"):
            return self._each(lambda x: self.b.call(name, [x], shape), a)
        if name == "dot":
            return self.call("sum", [self.binary("*", a, args[1])], (1, 1))
        if name == "inv":
            inverse = self.b.call("inv", [self._known(a)], shape)
            return _Dual(inverse, None if a.d is None else [
                self.b.unary("neg", self.b.binary("@", self.b.binary("@", inverse, t), inverse))
                for t in a.d])
        if name == "det":
            known = self._known(a)
            value = self.b.call("det", [known], shape)
            if a.d is None:
                return _Dual(value)
            inverse = self.b.call("inv", [known], known_shape(known))
            return _Dual(value, [self.b.binary("*", value, self.b.call(
                "trace", [self.b.binary("@", inverse, t)], (1, 1))) for t in a.d])
        if name == "log":
            try:
                logarithm: Value | None = self.b.call("log", [self._known(a)], shape)
            except NotExact:
                logarithm = None
            return _Dual(logarithm, None if a.d is None else [
                self.b.binary("/", t, self._known(a)) for t in a.d])
        if any(x.d is not None for x in args):
            raise NotExact(f"the derivative of {name}")
        return _Dual(self.b.call(name, [self._known(x) for x in args], shape))

    def piecewise(self, pieces: list[Any], shape: tuple[int, int]) -> _Dual:
        raise NotExact("a piecewise reference")

    def compare(self, op: str, a: _Dual, b: _Dual) -> list[bool]:
        raise NotExact("a condition")


def known_shape(value: Value) -> tuple[int, int]:
    return value.rows, value.cols


def forward_reference(reference: Reference, arithmetic: Arithmetic, env: Mapping[str, Value],
                      sizes: Mapping[str, int]) -> Value:
    """A derivative problem's reference at one point by forward mode: the `of` expression
    differentiated along each entry of `wrt`, arranged as ``conventions.derivative``
    arranges it. NotExact for anything but first derivatives of rational functions (and
    logarithms of them)."""
    problem = reference.problem
    if problem.kind != "derivative" or not problem.of:
        raise NotExact("not a first derivative")
    first = reference.instances[0]
    scope = Scope(dict(first.declared_shapes), frozenset(first.sizes))
    tree = compile_expression(problem.of, scope)
    zero, one = arithmetic.number(Fraction(0)), arithmetic.number(Fraction(1))
    seeds: dict[str, list[Value]] = {}
    total = sum(env[name].rows * env[name].cols for name in problem.wrt)
    start = 0
    for name in problem.wrt:
        rows, cols = env[name].rows, env[name].cols
        seeds[name] = [Value(rows, cols, [one if start + e == k else zero
                                          for e in range(rows * cols)])
                       for k in range(total)]
        start += rows * cols
    try:
        dual: _Dual = evaluate(tree.root, _ForwardBackend(arithmetic, env, seeds), sizes)
    except ZeroDivisionError:
        raise NotExact("division by zero") from None
    rows_of, cols_of = instances.resolve(tree.shape, sizes)
    d = dual.d or [Value(rows_of, cols_of, [zero] * (rows_of * cols_of))] * total
    wrt_rows, wrt_cols = ((total, 1) if problem.wrt_is_list
                          else (env[problem.wrt[0]].rows, env[problem.wrt[0]].cols))
    if wrt_rows > 1 and wrt_cols > 1:                 # a scalar by a matrix: (j, i)
        result = Value(wrt_cols, wrt_rows, [d[i * wrt_cols + j].entries[0]
                                            for j in range(wrt_cols) for i in range(wrt_rows)])
    elif rows_of > 1 and cols_of > 1:                 # a matrix by a scalar
        result = d[0]
    else:
        outputs = rows_of * cols_of
        result = Value(outputs, total, [d[j].entries[i] for i in range(outputs)
                                        for j in range(total)])
    if reference.arrangement is not None and reference.arrangement.layout == "denominator":
        result = Value(result.cols, result.rows, [result.at(i, j) for j in range(result.cols)
                                                  for i in range(result.rows)])
    return result
