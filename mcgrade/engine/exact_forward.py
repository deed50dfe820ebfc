"""Forward mode over an exact arithmetic (``mcgrade.engine.arithmetic``): a derivative's or
a Hessian's reference at a point where no sympy value was built — a size past the
declared ones, or one that float forward mode (``mcgrade.engine.forward``) built.

A ``_Dual`` carries a value and its tangents along the input-entry directions. The
backend that computes them is generic in the backend one level down: over an
``ExactBackend`` it is first-order forward mode; over itself (forward-over-forward) the
tangents' tangents are the second derivatives, which is how a Hessian is built — one set
of rules for both orders. The rules: the product rule for ``*`` and ``@``, quotients,
rational powers, ``inv`` (-A⁻¹ dA A⁻¹), ``det`` (det A · tr(A⁻¹ dA)), every element-wise
function by its slope (``mcgrade.engine.exact_slopes``), softmax, logsumexp and norm by
their definitions, kinks and Piecewise on the branch of the point. Mod p and in
fractions only the rational ones evaluate (and a logarithm's derivative, which is
rational); the transcendental ones need balls. Anything else is NotExact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from mcgrade.engine import instances
from mcgrade.engine.arithmetic import BALL, Arithmetic, ExactBackend, NotExact, Value
from mcgrade.engine.exact_slopes import RATIONAL_SLOPES, SLOPES, Ops
from mcgrade.engine.reference import Reference
from mcgrade.expressions.evaluate import concrete, evaluate
from mcgrade.expressions.nodes import Node

# An allowance for forward mode at one point mod p (at all of an instance's points in
# balls), in scalar operations (``work``): the log det of a 50×50 matrix by its 2,500
# entries (3·10⁸, a few seconds) fits; a Hessian whose 50×50 inverse depends on the 50
# entries differentiated by (6·10⁸, ten times that) doesn't, and is left to the floats.
# A count known in advance, never a timer.
FORWARD_EXACT_WORK = 400_000_000


@dataclass
class _Dual:
    """A value and its first derivatives along the input-entry directions (None: zero),
    each a Value, or a _Dual of the forward mode one level down; ``v`` None where the value
    itself has no exact form (a logarithm mod p) but its derivative does."""

    v: Any
    d: list[Any] | None = None


def _broadcast(value: Value, rows: int, cols: int) -> Value:
    """A 1×1 value as a rows×cols one of that entry; any other as it is."""
    if (value.rows, value.cols) == (1, 1) and (rows, cols) != (1, 1):
        return Value(rows, cols, [value.entries[0]] * (rows * cols))
    return value


def _widen(x: Any, rows: int, cols: int) -> Any:
    """``_broadcast`` through every level of a nested dual."""
    if isinstance(x, _Dual):
        return _Dual(None if x.v is None else _widen(x.v, rows, cols),
                     None if x.d is None else [_widen(t, rows, cols) for t in x.d])
    return _broadcast(x, rows, cols)


def _shape(x: Any) -> tuple[int, int] | None:
    """The shape of a (nested) value, None where it has no exact form."""
    while isinstance(x, _Dual):
        x = x.v
    return None if x is None else (x.rows, x.cols)


def _constant(x: Any) -> Fraction | None:
    """The number a (nested) value is, if it has no tangent at any level: an exponent."""
    while isinstance(x, _Dual):
        if x.d is not None:
            return None
        x = x.v
    return None if x is None else x.known


class _ForwardBackend:
    """Forward mode over ``inner`` (an ExactBackend, or forward mode again): values are
    ``inner``'s, with tangents along the directions of ``seeds`` (symbol → one tangent
    per direction)."""

    def __init__(self, inner: Any, seeds: Mapping[str, list[Any]]) -> None:
        self.b = inner
        self.seeds = seeds
        self.ops = Ops(inner)

    @staticmethod
    def _known(x: _Dual) -> Any:
        if x.v is None:
            raise NotExact("a value with no exact form")
        return x.v

    def _each(self, f: Callable[[Any], Any], x: _Dual) -> _Dual:
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
        return list(self.b.true())

    def unary(self, op: str, a: _Dual) -> _Dual:
        return self._each(lambda x: self.b.unary(op, x), a)

    def index(self, a: _Dual, row: int, col: int, shape: tuple[int, int]) -> _Dual:
        return self._each(lambda x: self.b.index(x, row, col, shape), a)

    def sum_axis(self, a: _Dual, axis: int) -> _Dual:
        return self._each(lambda x: self.b.sum_axis(x, axis), a)

    def _zero(self) -> Any:
        return self.b.number(Fraction(0))

    def _directions(self, values: list[_Dual]) -> int:
        return next((len(x.d) for x in values if x.d is not None), 0)

    def matrix(self, values: list[_Dual], rows: int, cols: int) -> _Dual:
        known = [self._known(x) for x in values]
        zero = self._zero()
        tangents = [self.b.matrix([x.d[k] if x.d is not None else zero for x in values],
                                  rows, cols) for k in range(self._directions(values))]
        return _Dual(self.b.matrix(known, rows, cols), tangents or None)

    def _sum(self, x: list[Any] | None, y: list[Any] | None) -> list[Any] | None:
        if x is None or y is None:
            return x if y is None else y
        return [self.b.binary("+", s, t) for s, t in zip(x, y)]

    def _scale(self, slope: Any, tangents: list[Any] | None) -> list[Any] | None:
        return None if tangents is None else [self.b.binary("*", slope, t) for t in tangents]

    def binary(self, op: str, a: _Dual, b: _Dual) -> _Dual:
        if op in ("+", "-"):
            negated = b.d if op == "+" or b.d is None else [self.b.unary("neg", t) for t in b.d]
            value = (None if a.v is None or b.v is None else self.b.binary(op, a.v, b.v))
            tangents = self._sum(a.d, negated)
            if tangents is not None:
                shape = None if value is None else _shape(value)
                if shape is None and (a.d is None or b.d is None):
                    # the result's shape is unknown here (a value with no exact form), so
                    # a scalar's tangent could not be broadcast over it: undecided
                    raise NotExact("a tangent of unknown shape")
                if shape is not None:
                    # a scalar operand broadcast over a matrix: so is its tangent (x + b by b)
                    tangents = [_widen(d, *shape) for d in tangents]
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
        p = _constant(b)
        if p is None:                     # a variable exponent: a**b = exp(b log a)
            return self.call("exp", [self.binary("*", b, self.call("log", [a], (1, 1)))],
                             (1, 1))
        value = self.b.binary("**", self._known(a), self._known(b))   # the power rule
        if a.d is None:
            return _Dual(value)
        slope = self.b.binary("*", self._known(b), self.b.binary(
            "**", self._known(a), self.b.number(p - 1)))
        return _Dual(value, self._scale(slope, a.d))

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
            inverse = self.b.call("inv", [known], shape)
            return _Dual(value, [self.b.binary("*", value, self.b.call(
                "trace", [self.b.binary("@", inverse, t)], (1, 1))) for t in a.d])
        if name == "norm":
            return self.call("sqrt", [self.call("dot", [a, a], (1, 1))], (1, 1))
        if name == "softmax":
            exps = self.call("exp", [a], shape)
            return self.binary("/", exps, self.call("sum", [exps], (1, 1)))
        if name == "logsumexp":
            return self.call("log", [self.call("sum", [self.call("exp", [a], shape)],
                                               (1, 1))], (1, 1))
        if name in ("Max", "Min"):
            return self._extreme(name, a, args[1], shape)
        if name in ("sign", "Heaviside"):          # constant away from the kink
            return _Dual(self.b.call(name, [self._known(a)], shape))
        if name in SLOPES:
            return self._elementwise(name, a, shape)
        if any(x.d is not None for x in args):
            raise NotExact(f"the derivative of {name}")
        return _Dual(self.b.call(name, [self._known(x) for x in args], shape))

    def _elementwise(self, name: str, a: _Dual, shape: tuple[int, int]) -> _Dual:
        u = self._known(a)
        try:
            value = self.b.call(name, [u], shape)
        except NotExact:
            if name not in RATIONAL_SLOPES:
                raise
            value = None                  # no exact value, but an exact derivative
        if a.d is None:
            return _Dual(value)
        return _Dual(value, self._scale(SLOPES[name](self.ops, u, value), a.d))

    def _extreme(self, name: str, a: _Dual, b: _Dual, shape: tuple[int, int]) -> _Dual:
        """Max or Min: the tangent of the side chosen at this point (NotExact at a tie)."""
        av, bv = self._known(a), self._known(b)
        value = self.b.call(name, [av, bv], shape)
        if a.d is None and b.d is None:
            return _Dual(value)
        first, second = (av, bv) if name == "Max" else (bv, av)
        pick = self.b.call("Heaviside", [self.b.binary("-", first, second)], shape)
        other = self.b.binary("-", self.b.number(Fraction(1)), pick)
        return _Dual(value, self._sum(self._scale(pick, a.d), self._scale(other, b.d)))

    def piecewise(self, pieces: list[Any], shape: tuple[int, int]) -> _Dual:
        """The piece each entry's condition picks, with that piece's tangents."""
        values: list[_Dual] = pieces[0::2]
        conditions = pieces[1::2]

        def pick(parts: list[Any]) -> Any:
            return self.b.piecewise([x for pair in zip(parts, conditions) for x in pair], shape)
        zero = self._zero()
        tangents = [pick([v.d[k] if v.d is not None else zero for v in values])
                    for k in range(self._directions(values))]
        return _Dual(pick([self._known(v) for v in values]), tangents or None)

    def compare(self, op: str, a: _Dual, b: _Dual) -> list[bool]:
        return list(self.b.compare(op, self._known(a), self._known(b)))


def _seeds(reference: Reference, arithmetic: Arithmetic, env: Mapping[str, Value]
           ) -> tuple[int, dict[str, list[Value]]]:
    """One direction per entry of the symbols differentiated by, row-major, in the order
    of `wrt` (as ``conventions`` lists the components): the number of directions, and
    each symbol's tangents along them."""
    problem = reference.problem
    zero, one = arithmetic.number(Fraction(0)), arithmetic.number(Fraction(1))
    total = sum(env[name].rows * env[name].cols for name in problem.wrt)
    seeds: dict[str, list[Value]] = {}
    start = 0
    for name in problem.wrt:
        rows, cols = env[name].rows, env[name].cols
        seeds[name] = [Value(rows, cols, [one if start + e == k else zero
                                          for e in range(rows * cols)])
                       for k in range(total)]
        start += rows * cols
    return total, seeds


def forward_reference(reference: Reference, arithmetic: Arithmetic, env: Mapping[str, Value],
                      sizes: Mapping[str, int]) -> Value:
    """A derivative or Hessian problem's reference at one point by forward mode, arranged
    as ``conventions.derivative`` / ``conventions.hessian`` arrange the sympy one.
    NotExact where the arithmetic can't evaluate it."""
    problem = reference.problem
    tree = reference.source
    if problem.kind not in ("derivative", "hessian") or tree is None:
        raise NotExact("not a derivative")
    total, seeds = _seeds(reference, arithmetic, env)
    # a Hessian's tangents: its D directions, and D² second derivatives made of about
    # twice as many products
    slots = 1 + total if problem.kind == "derivative" else 2 * (1 + total) ** 2
    # balls are evaluated at every sample point of an instance, at twice the cost
    repeats = 2 * instances.POINTS if arithmetic is BALL else 1
    if work(tree.root, frozenset(problem.wrt), sizes, slots) * repeats > FORWARD_EXACT_WORK:
        raise NotExact("more work than the allowance")
    first = _ForwardBackend(ExactBackend(arithmetic, env), seeds)
    try:
        if problem.kind == "hessian":
            # forward over forward: the outer directions' tangents are duals of the inner
            # ones (constant there), so outer.d[i].d[j] = ∂²f/∂i∂j
            outer = _ForwardBackend(first, {name: [_Dual(s) for s in tangents]
                                            for name, tangents in seeds.items()})
            dual: _Dual = evaluate(tree.root, outer, sizes)
            return _hessian(dual, total, arithmetic)
        dual = evaluate(tree.root, first, sizes)
    except ZeroDivisionError:
        raise NotExact("division by zero") from None
    return _arrange(reference, dual, total, env, sizes, arithmetic)


def work(root: Node, wrt: frozenset[str], sizes: Mapping[str, int], slots: int) -> int:
    """An estimate of forward mode's scalar operations at one point: each node's entries
    (products and inverses: their multiplications), times ``slots`` where the node
    depends on ``wrt`` (it carries tangents), once where it doesn't."""
    total = 0
    depends: dict[int, bool] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:                        # post-order, without recursion (long chains)
        node, ready = stack.pop()
        if not ready:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if id(a) not in depends)
            continue
        varies = (node.op == "symbol" and node.value in wrt) or any(
            depends[id(a)] for a in node.args)
        depends[id(node)] = varies
        rows, cols = concrete(node.shape, sizes)
        cost = rows * cols
        if node.op == "@":
            cost *= concrete(node.args[0].shape, sizes)[1]
        elif node.op == "call" and node.value in ("inv", "det"):
            cost = concrete(node.args[0].shape, sizes)[0] ** 3
        total += cost * (slots if varies else 1)
    return total


def _hessian(dual: _Dual, total: int, arithmetic: Arithmetic) -> Value:
    """H[i, j] = ∂/∂j (∂f/∂i), as ``conventions.hessian`` (symmetric, layout-free)."""
    zero = arithmetic.number(Fraction(0))
    entries = []
    for i in range(total):
        row = dual.d[i] if dual.d is not None else None
        for j in range(total):
            second = row.d[j] if row is not None and row.d is not None else None
            entries.append(zero if second is None else second.entries[0])
    return Value(total, total, entries)


def _arrange(reference: Reference, dual: _Dual, total: int, env: Mapping[str, Value],
             sizes: Mapping[str, int], arithmetic: Arithmetic) -> Value:
    """First derivatives laid out as ``conventions.derivative`` lays them out."""
    problem, tree = reference.problem, reference.source
    assert tree is not None
    zero = arithmetic.number(Fraction(0))
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
        result = Value(outputs, total, [_broadcast(d[j], rows_of, cols_of).entries[i]
                                        for i in range(outputs) for j in range(total)])
    if reference.arrangement is not None and reference.arrangement.layout == "denominator":
        result = Value(result.cols, result.rows, [result.at(i, j) for j in range(result.cols)
                                                  for i in range(result.rows)])
    return result
