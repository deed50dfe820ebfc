"""First-order forward mode over an exact arithmetic (``mcgrade.engine.arithmetic``): a
derivative problem's reference at a point where no sympy value was built — a size past the
declared ones, or one that float forward mode (``mcgrade.engine.forward``) built. The
rational rules only: ``inv``, ``det``, ``log`` (of a value whose derivative is rational),
products and quotients; anything else is NotExact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from mcgrade.engine import instances
from mcgrade.engine.arithmetic import Arithmetic, ExactBackend, NotExact, Value
from mcgrade.engine.reference import Reference
from mcgrade.expressions.evaluate import evaluate

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
    tree = reference.source
    if problem.kind != "derivative" or tree is None:
        raise NotExact("not a first derivative")
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
