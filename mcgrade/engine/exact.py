"""Exact checking at random points: a proof of "differ", and "agree" with a stated bound.

Both sides of a check are evaluated at concrete points in one of three arithmetics
(``mcgrade.engine.arithmetic``):

* ``MODP``: integers modulo the prime 2^61 - 1, at uniformly random points. It covers
  everything built from + - * /, integer powers, ``@``, ``.T``, ``inv``, ``det``,
  ``trace``, ``sum``, ``diag``: rational functions of the entries. Two different rational
  functions of degree at most D agree at a random point with probability at most D/p
  (Schwartz–Zippel); the degree of anything the language can write at these sizes (capped
  at MAX_EXTRA_SIZE, within the parser's limits on length, nesting and powers) is far
  below 2^40, so each point errs with chance below 2^-21 and K agreeing points leave a
  false-accept chance below 2^-K, with room to spare (a bound argued here, not computed
  per check). A disagreement is a proof that the two differ.
* ``RATIONAL``: exact fractions at the grid points of the sample, to show a student a
  difference they can read (mod-p numbers mean nothing to a person).
* ``BALL``: certified real balls (``arb``) at the sample points, for exp, log, trig and
  the kinked functions away from their kinks: a difference whose ball excludes 0 is
  proved (both sides are exact expressions, so any difference counts, as mod p);
  balls that all hold 0 give a certified bound on the difference at those points, which
  the verdict states, and prove nothing elsewhere.

A point where an arithmetic can't answer (a division by zero mod p, a ball that straddles
a kink, a square root mod p) raises ``NotExact``: the point is redrawn, or the check is
left to the floats. Where a reference has no sympy value (past the declared sizes, and
where float forward mode built it), a derivative's or a Hessian's is built by exact
forward mode (``mcgrade.engine.exact_forward``): mod p where it is rational, in balls
where it is not.

Sizes: every declared size assignment, then larger ones where the reference can be built
at any size (a written-out answer, a derivative, a Hessian): k×k matrices satisfy the
Amitsur–Levitzki identity s_2k = 0, so an answer of degree d in the matrix symbols (a
derivative's or Hessian's reference: that of its `of`) is also checked at a size k with
2k > d, and dimensions get unequal sizes there (k, k + 1, …) so m ≠ n.

Points and sizes are drawn from a seed made of the problem set, the problem and the
answer's text: the same inputs give the same verdict.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import flint
import numpy as np
import sympy as sp

from mcgrade.engine import instances
from mcgrade.engine.arithmetic import (
    BALL,
    MODP,
    PRIME,
    RATIONAL,
    Arithmetic,
    NotExact,
    Value,
    ball_precision,
    evaluate_tree,
)
from mcgrade.engine.candidates import ExpressionCandidate, SympyCandidate
from mcgrade.engine.diagnosis import where
from mcgrade.engine.exact_forward import forward_reference
from mcgrade.engine.feedback import how_checked
from mcgrade.engine.reference import Instance, Reference
from mcgrade.engine.sympy_values import SympyWalk, evaluate_sympy
from mcgrade.errors import ExpressionError
from mcgrade.expressions import Expression
from mcgrade.expressions.nodes import Node

POINTS_PER_SIZE = 2             # mod-p points per size assignment
EXTRA_SIZES = 2                 # larger, non-square size assignments beyond the declared
MAX_EXTRA_SIZE = 12             # a larger size costs O(k^3) per point: keep it bounded
ATTEMPTS = 4                    # redraws of a point that was "not exact here"
BALL_PROOF = "proved different in certified interval (ball) arithmetic"
LONG_DECIMAL = 7               # significant digits from which a decimal is a float's digits


# --- degree ---------------------------------------------------------------------------

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
    """What the exact check found: ``agree`` at ``points`` points (mod p), ``close`` (a
    certified bound on the difference at ``points`` sample points), or ``differ``, with
    evidence for the record."""

    verdict: str
    points: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return how_checked("exact", {"points": self.points})


@dataclass(frozen=True)
class Side:
    """How to evaluate one side (reference or answer) at a size and point."""

    tree: Expression | None           # evaluated at any size
    sympy: Callable[[Instance], Any] | None   # its sympy value at a declared instance
    # a derivative's or a Hessian's reference by forward mode: where an instance has no
    # sympy value, and at sizes beyond the declared ones
    forward: Callable[[Arithmetic, Mapping[str, Value], Mapping[str, int]], Value] | None = None
    of: Expression | None = None      # what it is the derivative of: its degree and sizes


def settle(reference: Reference, candidate: Any) -> Finding | None:
    """Decide ``candidate`` against ``reference`` exactly, or None (undecided: the floats
    and the proof decide)."""
    answer = _answer_side(candidate)
    if (answer is None or not reference.instances or reference.problem.kind == "shape"
            or not reference.set_key):         # a student copy's checks hold no values
        return None
    expected = reference_side(reference)
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
                return Finding("differ", evidence={**_witness(
                    reference, expected, answer, sizes, instance, rng,
                    reference.symbols | candidate.symbols), **decimal_evidence(candidate)})
            agreed += 1
        if undecided:
            break
    if not undecided and agreed:
        return Finding("agree", agreed, {"points": agreed, "checked": how_checked(
            "exact", {"points": agreed})})
    in_balls = _ball_check(reference, expected, answer)
    if in_balls is not None and in_balls.verdict == "differ":
        return Finding("differ", evidence={**in_balls.evidence, **decimal_evidence(candidate)})
    return in_balls


def decimal_evidence(candidate: Any) -> dict[str, str]:
    """The long decimal an expression answer spells (``0.3333333333333333``), for the
    feedback of a difference too small to print: it means exactly what it says."""
    decimal = long_decimal(candidate)
    return {"decimal": decimal} if decimal else {}


def long_decimal(candidate: Any, known: Collection[float] = ()) -> str:
    """The decimal of the most significant digits, ``LONG_DECIMAL`` or more, that an
    expression answer spells, as spelt; none whose value is a number in ``known`` (one
    the problem itself gives, such as an `at:` value). "" if there is none."""
    if not isinstance(candidate, ExpressionCandidate):
        return ""
    long = [(digits, spelt) for spelt, digits in candidate.expression.decimals
            if digits >= LONG_DECIMAL and float(spelt.replace("_", "")) not in known]
    return max(long)[1] if long else ""


def _answer_side(candidate: Any) -> Side | None:
    if isinstance(candidate, ExpressionCandidate):
        return Side(candidate.expression, None)
    if isinstance(candidate, SympyCandidate) and not candidate.flat:
        return Side(None, candidate.exact_at)
    return None


def reference_side(reference: Reference) -> Side:
    problem = reference.problem
    free = reference.source if not problem.at else None      # `at` binds a point
    if problem.kind == "answer" and free is not None:
        return Side(free, None)
    of = free if problem.kind in ("derivative", "hessian") else None
    return Side(None, lambda instance: instance.value,
                 lambda arithmetic, env, sizes: forward_reference(reference, arithmetic, env,
                                                                  sizes), of)


def _size_plan(reference: Reference, expected: Side, answer: Side
               ) -> Iterator[tuple[Mapping[str, int], Instance | None]]:
    """Every declared instance, then larger non-square sizes where the answer is a tree
    and the reference can be built at any size (a tree, or a derivative or Hessian by
    forward mode)."""
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


def mod_p_env(reference: Reference, sizes: Mapping[str, int], instance: Instance | None,
               rng: np.random.Generator) -> dict[str, Value]:
    """Uniform random values mod p for every symbol, as its structure requires; symbols
    an `at` binds keep their value."""
    env: dict[str, Value] = {}
    for decl in reference.declarations:
        if instance is not None and decl.name in instance.numbers:
            env[decl.name] = _sympy_number_value(instance.env[decl.name], MODP)
            continue
        rows, cols = instances.resolve(decl.shape, sizes)
        raw = rng.integers(0, PRIME, size=(rows, cols), dtype=np.int64)
        if decl.diagonal:
            raw = raw * np.eye(rows, dtype=np.int64)
        if decl.symmetric:
            raw = np.triu(raw) + np.triu(raw, 1).T
        env[decl.name] = Value(rows, cols, [flint.nmod(v, PRIME) for v in raw.ravel().tolist()])
    return env


def _sympy_of(number: Any) -> Any:
    """A bound number as sympy, never through ``sympify`` (which would parse a string)."""
    if isinstance(number, sp.Basic):
        return number
    if isinstance(number, (int, Fraction)):
        return sp.Rational(number)
    if isinstance(number, float):
        return sp.Float(number)
    raise NotExact(f"not a number: {type(number).__name__}")


def _sympy_number_value(value: Any, arithmetic: Arithmetic) -> Value:
    entries = list(value) if isinstance(value, sp.MatrixBase) else [value]
    rows, cols = value.shape if isinstance(value, sp.MatrixBase) else (1, 1)
    walk = SympyWalk(arithmetic, {})
    return Value(rows, cols, [walk(_sympy_of(e)) for e in entries])


def _table(instance: Instance, env: Mapping[str, Value]) -> dict[sp.Symbol, Any]:
    """Entry symbol → its scalar, for a sympy value at a declared instance."""
    table: dict[sp.Symbol, Any] = {}
    for name, entries in instance.entries.items():
        if name not in env:
            continue
        for symbol, value in zip(entries, env[name].entries):
            if isinstance(symbol, sp.Symbol):
                table[symbol] = value
    return table


def evaluate_side(side: Side, arithmetic: Arithmetic, env: Mapping[str, Value],
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


def _mod_p_point(reference: Reference, expected: Side, answer: Side,
                 sizes: Mapping[str, int], instance: Instance | None,
                 rng: np.random.Generator) -> bool | None:
    """True if both sides agree at a random point mod p, False if they differ, None if
    mod p can't evaluate them (after ATTEMPTS redraws)."""
    for _ in range(ATTEMPTS):
        try:
            env = mod_p_env(reference, sizes, instance, rng)    # `at: {t: pi}`: NotExact
            left = evaluate_side(expected, MODP, env, sizes, instance)
            right = evaluate_side(answer, MODP, env, sizes, instance)
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


def _witness(reference: Reference, expected: Side, answer: Side,
             sizes: Mapping[str, int], instance: Instance | None,
             rng: np.random.Generator, involved: frozenset[str]) -> dict[str, Any]:
    """Readable evidence of a difference found mod p: a grid point where the exact
    rational values differ (the sample points at a declared size, fresh grid points at a
    larger one), else just the sizes."""
    shown_sizes = dict(sizes)
    points: list[tuple[dict[str, Value], dict[str, Any]]] = []
    if instance is not None:
        for index in range(instance.samples.count):
            try:
                env = _sample_env(instance, index, RATIONAL)
            except NotExact:
                continue
            points.append((env, where(instance, index, involved)))
    else:
        for _ in range(ATTEMPTS):
            drawn = {d.name: instances.draw_symbol(rng, d, d.domain, sizes, 1)[0]
                     for d in reference.declarations}
            points.append(({name: sample_value(v, RATIONAL) for name, v in drawn.items()},
                           {"sizes": shown_sizes, "point": {
                               name: (float(v[0, 0]) if v.shape == (1, 1) else v.tolist())
                               for name, v in drawn.items() if name in involved}}))
    for env, location in points:
        try:
            left = evaluate_side(expected, RATIONAL, env, sizes, instance)
            right = evaluate_side(answer, RATIONAL, env, sizes, instance)
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


def _sample_env(instance: Instance, index: int, arithmetic: Arithmetic) -> dict[str, Value]:
    """Sample point ``index`` of ``instance`` in ``arithmetic``: the drawn values, and the
    numbers an `at` binds as the author wrote them (0.1 is 1/10, not the float nearest
    it: the reference was built with the exact number). NotExact if one has no exact
    form there."""
    return {name: (_sympy_number_value(instance.env[name], arithmetic)
                   if name in instance.numbers else sample_value(values[index], arithmetic))
            for name, values in instance.samples.values.items()}


def sample_value(array: np.ndarray, arithmetic: Arithmetic) -> Value:
    """A drawn sample value (dyadic floats, so exactly these rationals) in ``arithmetic``."""
    rows, cols = array.shape
    return Value(rows, cols, [arithmetic.number(Fraction(float(v))) for v in array.ravel()])


def _ball_check(reference: Reference, expected: Side, answer: Side) -> Finding | None:
    """Certified balls at the sample points, at ``BALL_PRECISION`` bits so that what the
    floats lost to cancellation shows: ``differ`` where a difference is proved (any: the
    sides are exact); ``close``, with a certified bound on the difference, where every point was
    evaluated and none differs (a bound at those points, not a proof elsewhere); else
    None. Where forward mode built an instance, the reference is exact forward mode over
    balls."""
    involved = reference.symbols
    worst, points, bounded = 0.0, 0, True
    with ball_precision():
        for instance in reference.instances:
            for index in range(instance.samples.count):
                try:
                    env = _sample_env(instance, index, BALL)
                    left = evaluate_side(expected, BALL, env, instance.sizes, instance)
                    right = evaluate_side(answer, BALL, env, instance.sizes, instance)
                except (NotExact, TypeError, ValueError, KeyError, IndexError,
                        ExpressionError):
                    bounded = False          # a point without a bound: no bound to state
                    continue
                if (left.rows, left.cols) != (right.rows, right.cols):
                    return None
                for entry, (e, g) in enumerate(zip(left.entries, right.entries)):
                    difference = g - e
                    # certainly not 0: both sides are exact expressions (a decimal is the
                    # decimal it says), so this proves them different, as a difference
                    # mod p does; the tolerance is for numbers a student computed
                    if not difference.contains(0):
                        return Finding("differ", evidence={
                            **where(instance, index, involved), "checked": BALL_PROOF,
                            "entry": [entry // left.cols, entry % left.cols],
                            "expected": float(e.mid()), "given": float(g.mid()),
                            "difference": f"about {float(difference.mid()):.3g}"})
                    # rounded up, so the stated bound holds
                    worst = max(worst, math.nextafter(float(abs(difference).upper()),
                                                      math.inf))
                points += 1
    if not (bounded and points):
        return None
    return Finding("close", points, {"points": points, "checked": (
        f"within {worst:.1e} of the expected values at {points} points, in certified "
        "interval arithmetic")})
