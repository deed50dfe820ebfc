"""Diagnosis of values: what a wrong answer's numbers say about it, asked of an oracle.

Works on aligned pairs (the answer at the sample points of one size assignment, arranged
as the reference is) and a ``ReferenceOracle``: the one thing that knows the reference.
``ValueOracle`` holds its values (the instructor's set); a student copy's oracle holds
only digests of them (``mcgrade.engine.student_copy``). Every diagnosis is phrased as a
question either can answer where it can ("is the answer, negated, the reference?"), so
the steps are written once: a sign, a constant factor, the transpose of a square matrix,
one branch of a kink; and where they first differ, for the feedback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

import numpy as np

from mcgrade.engine.answers import Outcome
from mcgrade.engine.candidates import Candidate
from mcgrade.engine.conventions import Relation
from mcgrade.engine.reference import Instance, Reference
from mcgrade.model import Diagnosis, Dim, Tolerance

ValueFinding = tuple[tuple[Diagnosis, ...], dict[str, Any]]


@dataclass(frozen=True)
class Pair:
    """The candidate at one instance, aligned to the reference's shape there (``target``).
    Only ``MATRIX_FOR_VECTOR`` leaves ``given`` square: the oracle compares it with the
    diagonal matrix of the reference."""

    instance: Instance
    given: np.ndarray          # (K, r, c)
    relation: Relation = Relation.SAME
    target: tuple[int, ...] = ()


class ReferenceOracle(Protocol):
    """What the checking pipeline may ask about a problem's reference."""

    def shape_is(self, instance: Instance, shape: tuple[int, ...]) -> bool:
        """Whether the reference has this shape at the instance."""

    def shapes_vary(self, reference: Reference) -> bool:
        """Whether the reference's shape changes with the sizes."""

    def shape_evidence(self, shape: tuple[Dim, ...]) -> dict[str, Any]:
        """What the record may say of the reference's shape (as far as it is known)."""

    def agrees(self, pair: Pair, tolerance: Tolerance, factor: float = 1.0) -> np.ndarray:
        """(K,) booleans: whether the answer is ``factor`` times the reference, per point."""

    def factors(self, pairs: list[Pair], tolerance: Tolerance) -> Iterable[float]:
        """The constant factors worth trying (before the trivial ones are set aside)."""

    def non_finite(self, pairs: list[Pair]) -> bool:
        """Whether the answer is NaN or infinite where the reference is finite."""

    def varies(self, pairs: list[Pair], tolerance: Tolerance) -> bool:
        """Whether the reference takes different values at different points."""

    def branch(self, pairs: list[Pair], tolerance: Tolerance) -> dict[str, Any] | None:
        """Evidence that the answer is right on one branch of a kink only, or None."""

    def difference(self, pairs: list[Pair], tolerance: Tolerance, involved: frozenset[str]
                   ) -> dict[str, Any]:
        """Evidence of where the answer differs from the reference."""

    def rounding_ruled_out(self, candidate: Candidate, pair: Pair, tolerance: Tolerance
                           ) -> bool:
        """Whether float rounding can't explain the answer's disagreement (no exact
        re-evaluation is needed)."""

    def exact(self, instance: Instance) -> Any:
        """The reference's exact (sympy) value, or None: proofs need it."""

    def finish(self, outcome: Outcome, candidate: Any) -> Outcome:
        """The outcome of ``candidate`` as this oracle's records show it."""


# --- the oracle of a full problem set: the reference's values ------------------------------

def close(a: np.ndarray, b: np.ndarray, tolerance: Tolerance) -> np.ndarray:
    with np.errstate(all="ignore"):
        scale = np.maximum(np.abs(a), np.abs(b))
        return np.asarray(np.abs(a - b) <= tolerance.atol + tolerance.rtol * scale)


_EPS_RATIO = float(np.finfo(np.float64).eps / np.finfo(np.float32).eps)


class ValueOracle:
    """The instructor's set: the reference's values at the sample points."""

    def shape_is(self, instance: Instance, shape: tuple[int, ...]) -> bool:
        return instance.shape == tuple(shape)

    def shapes_vary(self, reference: Reference) -> bool:
        return len({i.shape for i in reference.instances}) > 1

    def shape_evidence(self, shape: tuple[Dim, ...]) -> dict[str, Any]:
        return {"expected_shape": list(shape)}

    def expected(self, pair: Pair) -> np.ndarray:
        expected = pair.instance.expected
        assert expected is not None
        if pair.relation == Relation.MATRIX_FOR_VECTOR:
            flat = expected.reshape(expected.shape[0], -1)
            return flat[:, :, None] * np.eye(flat.shape[1])[None]
        return expected

    def agrees(self, pair: Pair, tolerance: Tolerance, factor: float = 1.0) -> np.ndarray:
        expected = self.expected(pair)
        ok = close(pair.given, expected if factor == 1 else factor * expected, tolerance)
        return np.asarray(ok.reshape(ok.shape[0], -1).all(axis=1))

    def factors(self, pairs: list[Pair], tolerance: Tolerance) -> Iterable[float]:
        given = np.concatenate([p.given.ravel() for p in pairs])
        expected = np.concatenate([self.expected(p).ravel() for p in pairs])
        norm = float(np.dot(expected, expected))
        if not np.isfinite(norm) or norm == 0:
            return ()
        factor = float(np.dot(given, expected) / norm)
        # a factor that maps a single value means little (any wrong number is some multiple
        # of one right number) unless it is a simple one
        return (factor,) if self._distinct_values(pairs, tolerance) > 1 or simple(factor) \
            else ()

    def _distinct_values(self, pairs: list[Pair], tolerance: Tolerance) -> int:
        """How many different non-zero values the reference takes (up to 2)."""
        values: list[float] = []
        for p in pairs:
            for value in self.expected(p).ravel():
                if abs(value) > tolerance.atol and not any(
                        abs(value - v) <= tolerance.atol + tolerance.rtol * abs(v)
                        for v in values):
                    values.append(float(value))
                    if len(values) > 1:
                        return 2
        return len(values)

    def non_finite(self, pairs: list[Pair]) -> bool:
        return any(bool(np.any(~np.isfinite(p.given) & np.isfinite(self.expected(p))))
                   for p in pairs)

    def varies(self, pairs: list[Pair], tolerance: Tolerance) -> bool:
        return any(not np.all(close(e, e[:1], tolerance))
                   for e in (self.expected(p) for p in pairs))

    def branch(self, pairs: list[Pair], tolerance: Tolerance) -> dict[str, Any] | None:
        """Either the candidate is the formula of one side used everywhere (relu treated
        as the identity, or as 0), or every entry it gets wrong somewhere is right exactly
        where one kink argument has one sign, and not merely where both are zero."""
        for side in ("positive", "negative"):
            if all(side in p.instance.branches
                   and p.instance.branches[side].shape == p.given.shape for p in pairs) and all(
                    bool(np.all(close(p.given, p.instance.branches[side], tolerance)))
                    for p in pairs):
                return {"right_where_kink_argument_is": side}
        return self._right_on_one_side(pairs, tolerance)

    def _right_on_one_side(self, pairs: list[Pair], tolerance: Tolerance
                           ) -> dict[str, Any] | None:
        sides: set[str] = set()
        informative = False
        for p in pairs:
            expected = self.expected(p)
            ok = close(p.given, expected, tolerance)
            kinks = p.instance.kink_values
            for i in range(ok.shape[1]):
                for j in range(ok.shape[2]):
                    pattern = ok[:, i, j]
                    if pattern.all():
                        continue
                    side = next((name for k in range(kinks.shape[1])
                                 for name, on_side in (("positive", kinks[:, k] > 0),
                                                       ("negative", kinks[:, k] < 0))
                                 if np.array_equal(pattern, on_side)), None)
                    if side is None:
                        return None
                    sides.add(side)
                    informative |= bool(np.any(np.abs(expected[pattern, i, j])
                                               > tolerance.atol))
        if not sides or not informative:
            return None
        return {"right_where_kink_argument_is": sides.pop()} if len(sides) == 1 else {}

    def difference(self, pairs: list[Pair], tolerance: Tolerance, involved: frozenset[str]
                   ) -> dict[str, Any]:
        """The first entry that differs, with both values."""
        for p in pairs:
            expected = self.expected(p)
            bad = ~close(p.given, expected, tolerance)
            if bad.any():
                k, i, j = (int(v) for v in np.argwhere(bad)[0])
                return {**where(p.instance, k, involved), "entry": [i, j],
                        "expected": _number(expected[k, i, j]),
                        "given": _number(p.given[k, i, j])}
        return {}

    def rounding_ruled_out(self, candidate: Candidate, pair: Pair, tolerance: Tolerance
                           ) -> bool:
        """Whether every float64 disagreement is far beyond float64's rounding error,
        estimated from how far the same evaluation moves in float32 (rounding error scales
        with epsilon)."""
        expected = self.expected(pair)
        bad = ~close(pair.given, expected, tolerance)
        low = candidate.values_at(pair.instance, np.float32).astype(np.float64)
        with np.errstate(all="ignore"):
            rounding = np.abs(low - pair.given) * _EPS_RATIO * 1e3
            real = np.abs(pair.given - expected) > tolerance.atol + rounding
        return bool(np.all(np.isfinite(rounding[bad])) and np.all(real[bad]))

    def exact(self, instance: Instance) -> Any:
        return instance.value

    def finish(self, outcome: Outcome, candidate: Any) -> Outcome:
        return outcome


VALUES = ValueOracle()


# --- diagnoses, for any oracle -------------------------------------------------------------

def all_agree(oracle: ReferenceOracle, pairs: list[Pair], tolerance: Tolerance,
              factor: float = 1.0) -> bool:
    return all(bool(oracle.agrees(p, tolerance, factor).all()) for p in pairs)


def value_diagnosis(oracle: ReferenceOracle, pairs: list[Pair], tolerance: Tolerance,
                    square_transpose: bool) -> str | ValueFinding | None:
    """'correct'; or the diagnoses (and evidence) that explain the values: a sign, a
    factor, a transpose of a square matrix (alone or with a sign or factor), one branch of
    a kink; or None."""
    if all_agree(oracle, pairs, tolerance):
        return "correct"
    found = _sign_or_scale(oracle, pairs, tolerance)
    if found is not None:
        return found
    if square_transpose and all(p.given.shape[1] == p.given.shape[2] > 1 for p in pairs):
        flipped = [Pair(p.instance, np.swapaxes(p.given, -1, -2), p.relation, p.target)
                   for p in pairs]
        if all_agree(oracle, flipped, tolerance):
            return (Diagnosis.TRANSPOSED,), {}
        found = _sign_or_scale(oracle, flipped, tolerance)
        if found is not None:
            return (Diagnosis.TRANSPOSED, *found[0]), found[1]
    branch = oracle.branch(pairs, tolerance)
    if branch is not None:
        return (Diagnosis.PIECEWISE_BRANCH,), branch
    return None


def _sign_or_scale(oracle: ReferenceOracle, pairs: list[Pair], tolerance: Tolerance
                   ) -> ValueFinding | None:
    zeros = [Pair(p.instance, np.zeros_like(p.given), p.relation, p.target) for p in pairs]
    if all_agree(oracle, zeros, tolerance):       # the reference is 0: no sign, no factor
        return None
    if all_agree(oracle, pairs, tolerance, -1.0):
        return (Diagnosis.SIGN,), {}
    for factor in oracle.factors(pairs, tolerance):
        if min(abs(factor - 1), abs(factor + 1), abs(factor)) > 1e-9 and all_agree(
                oracle, pairs, tolerance, factor):
            return (Diagnosis.SCALE_FACTOR,), {"factor": _nice(factor)}
    return None


def simple(factor: float) -> bool:
    """2, 1/2, -3, 3/2: the factors a dropped constant or exponent leaves."""
    fraction = Fraction(factor).limit_denominator(12)
    return (abs(float(fraction) - factor) <= 1e-9 * max(1.0, abs(factor))
            and abs(fraction.numerator) <= 12)


# every simple factor but 0 and ±1, simplest first: the factors tried where the oracle
# can't compute one (a student copy's digests)
SIMPLE_FACTORS: tuple[float, ...] = tuple(float(f) for f in sorted(
    {Fraction(sign * p, q) for p in range(1, 13) for q in range(1, 13) for sign in (1, -1)}
    - {Fraction(1), Fraction(-1)},
    key=lambda f: (abs(f.numerator) + f.denominator, f.denominator, f < 0)))


def _nice(factor: float) -> str:
    """2, 1/2, -3/4 where the factor is a simple fraction, else four significant digits."""
    fraction = Fraction(factor).limit_denominator(64)
    if abs(float(fraction) - factor) <= 1e-9 * max(1.0, abs(factor)):
        return str(fraction)
    return f"{factor:.4g}"


def where(instance: Instance, point: int, involved: frozenset[str]) -> dict[str, Any]:
    """The sizes and the values of the symbols involved at one sample point, for evidence."""
    return {"sizes": relevant_sizes(instance, involved), "point": {
        name: _plain(values[point]) for name, values in instance.samples.values.items()
        if name in involved}}


def relevant_sizes(instance: Instance, involved: frozenset[str]) -> dict[str, int]:
    """The sizes of the dimensions that the symbols involved are declared with."""
    dims = {d for name in involved for d in instance.declared_shapes.get(name, ())
            if isinstance(d, str)}
    return {k: v for k, v in instance.sizes.items() if k in dims}


def _plain(array: np.ndarray) -> Any:
    return float(array[0, 0]) if array.shape == (1, 1) else array.tolist()


def _number(value: float) -> float | str:
    return float(value) if np.isfinite(value) else str(value)
