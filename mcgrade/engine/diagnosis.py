"""Diagnosis of values: what a wrong answer's numbers say about it.

Works on aligned pairs (the answer and the reference at the sample points of one size
assignment, in the same shape): a sign, a constant factor, the transpose of a square
matrix, one branch of a kink; and where they first differ, for the feedback.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from mcgrade.model import Tolerance
from mcgrade.engine.reference import Instance


@dataclass(frozen=True)
class Pair:
    """The candidate and the reference at one instance, aligned to the same shape."""

    instance: Instance
    given: np.ndarray          # (K, r, c)
    expected: np.ndarray       # (K, r, c)



def close(a: np.ndarray, b: np.ndarray, tolerance: Tolerance) -> np.ndarray:
    with np.errstate(all="ignore"):
        scale = np.maximum(np.abs(a), np.abs(b))
        return np.abs(a - b) <= tolerance.atol + tolerance.rtol * scale


def all_close(pairs: list[Pair], tolerance: Tolerance, transform: Any = None) -> bool:
    return all(bool(np.all(close(p.given, transform(p.expected) if transform else p.expected,
                                 tolerance))) for p in pairs)


def non_finite(pairs: list[Pair]) -> bool:
    return any(bool(np.any(~np.isfinite(p.given) & np.isfinite(p.expected))) for p in pairs)


def value_diagnosis(pairs: list[Pair], tolerance: Tolerance, square_transpose: bool
                     ) -> str | tuple[tuple[str, ...], dict[str, Any]] | None:
    """'correct'; or the diagnoses (and evidence) that explain the values: a sign, a
    factor, a transpose of a square matrix (alone or with a sign or factor), one branch of
    a kink; or None."""
    if all_close(pairs, tolerance):
        return "correct"
    found = _sign_or_scale(pairs, tolerance)
    if found is not None:
        return found
    if square_transpose and all(p.instance.shape[0] == p.instance.shape[1] > 1 for p in pairs):
        flipped = [Pair(p.instance, np.swapaxes(p.given, -1, -2), p.expected) for p in pairs]
        if all_close(flipped, tolerance):
            return ("transposed",), {}
        found = _sign_or_scale(flipped, tolerance)
        if found is not None:
            return ("transposed", *found[0]), found[1]
    branch = _branch(pairs, tolerance)
    if branch is not None:
        return ("piecewise-branch",), branch
    return None


def _sign_or_scale(pairs: list[Pair], tolerance: Tolerance
                   ) -> tuple[tuple[str, ...], dict[str, Any]] | None:
    if not any(bool(np.any(np.abs(p.expected) > tolerance.atol)) for p in pairs):
        return None
    if all_close(pairs, tolerance, lambda e: -e):
        return ("sign",), {}
    factor = _factor(pairs)
    if (factor is not None and min(abs(factor - 1), abs(factor + 1), abs(factor)) > 1e-9
            and (_distinct_values(pairs, tolerance) > 1 or _simple(factor))
            and all_close(pairs, tolerance, lambda e: factor * e)):
        return ("scale-factor",), {"factor": _nice(factor)}
    return None


def _simple(factor: float) -> bool:
    """2, 1/2, -3, 3/2: the factors a dropped constant or exponent leaves."""
    fraction = Fraction(factor).limit_denominator(12)
    return (abs(float(fraction) - factor) <= 1e-9 * max(1.0, abs(factor))
            and abs(fraction.numerator) <= 12)


def _distinct_values(pairs: list[Pair], tolerance: Tolerance) -> int:
    """How many different non-zero values the reference takes (up to 2). A factor that maps
    a single value means little (any wrong number is some multiple of one right number)
    unless it is a simple one."""
    values: list[float] = []
    for p in pairs:
        for value in p.expected.ravel():
            if abs(value) > tolerance.atol and not any(
                    abs(value - v) <= tolerance.atol + tolerance.rtol * abs(v) for v in values):
                values.append(float(value))
                if len(values) > 1:
                    return 2
    return len(values)


def varies(pairs: list[Pair], tolerance: Tolerance) -> bool:
    """Whether the reference takes different values at different sample points."""
    return any(not np.all(close(p.expected, p.expected[:1], tolerance)) for p in pairs)


def _factor(pairs: list[Pair]) -> float | None:
    given = np.concatenate([p.given.ravel() for p in pairs])
    expected = np.concatenate([p.expected.ravel() for p in pairs])
    norm = float(np.dot(expected, expected))
    if not np.isfinite(norm) or norm == 0:
        return None
    return float(np.dot(given, expected) / norm)


def _nice(factor: float) -> str:
    """2, 1/2, -3/4 where the factor is a simple fraction, else four significant digits."""
    fraction = Fraction(factor).limit_denominator(64)
    if abs(float(fraction) - factor) <= 1e-9 * max(1.0, abs(factor)):
        return str(fraction)
    return f"{factor:.4g}"


def _branch(pairs: list[Pair], tolerance: Tolerance) -> dict[str, Any] | None:
    """Right on one branch of a kinked reference only: either the candidate is the formula
    of one side used everywhere (relu treated as the identity, or as 0), or every entry it
    gets wrong somewhere is right exactly where one kink argument has one sign, and not
    merely where both are zero."""
    for side in ("positive", "negative"):
        if all(side in p.instance.branches
               and p.instance.branches[side].shape == p.given.shape for p in pairs) and all(
                bool(np.all(close(p.given, p.instance.branches[side], tolerance)))
                for p in pairs):
            return {"right_where_kink_argument_is": side}
    return _right_on_one_side(pairs, tolerance)


def _right_on_one_side(pairs: list[Pair], tolerance: Tolerance) -> dict[str, Any] | None:
    sides: set[str] = set()
    informative = False
    for p in pairs:
        ok = close(p.given, p.expected, tolerance)
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
                informative |= bool(np.any(np.abs(p.expected[pattern, i, j]) > tolerance.atol))
    if not sides or not informative:
        return None
    return {"right_where_kink_argument_is": sides.pop()} if len(sides) == 1 else {}


def first_difference(pairs: list[Pair], tolerance: Tolerance,
                      involved: frozenset[str]) -> dict[str, Any]:
    for p in pairs:
        bad = ~close(p.given, p.expected, tolerance)
        if bad.any():
            k, i, j = (int(v) for v in np.argwhere(bad)[0])
            return {**where(p.instance, k, involved), "entry": [i, j],
                    "expected": _number(p.expected[k, i, j]),
                    "given": _number(p.given[k, i, j])}
    return {}


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
