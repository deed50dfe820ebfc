"""The checking pipeline: shape → numeric screening → diagnosis or symbolic confirmation.

Each step looks at every instance (size assignment) of the problem. Numeric screening
compares values at the sample points; a disagreement is re-checked in exact arithmetic at
one point (floats can lose a correct expanded polynomial to cancellation) before it is
believed. A match is then proved symbolically within the work allowance, or reported as
numeric with the number of points it rests on. Exact and symbolic work are bounded by
what they do (``mcgrade.engine.budget.Work``), never by time: the verdict is the same on every
machine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from mcgrade.engine.answers import Outcome, ShapeCandidate
from mcgrade.engine.budget import Work, WorkExhausted
from mcgrade.engine.candidates import Candidate, FunctionCandidate, exact_floats
from mcgrade.engine.diagnosis import (
    Pair,
    close,
    first_difference,
    non_finite,
    relevant_sizes,
    value_diagnosis,
    varies,
    where,
)
from mcgrade.errors import ExpressionError
from mcgrade.model import Orientation, Tolerance
from mcgrade.engine.reference import Instance, Reference
from mcgrade.engine.shapes import check_shape
from mcgrade.engine.symbolic import nodes, prove_equal


def check(reference: Reference, candidate: Candidate | ShapeCandidate,
          tolerance: Tolerance, orientation: Orientation, symbolic_work: int) -> Outcome:
    """Decide whether ``candidate`` is the reference, and if not, why. ``symbolic_work``:
    the allowance, in expression-tree nodes, for proving a right answer symbolically."""
    if isinstance(candidate, ShapeCandidate):
        return check_shape(reference, candidate.shape)
    exact = tolerance.rtol == 0 and tolerance.atol == 0
    if exact:                  # floats agree to a few ulps; exact answers are then compared
        tolerance = ULPS       # exactly (_confirm, _disprove)
    if not candidate.applies_everywhere and len({i.shape for i in reference.instances}) > 1:
        # numbers (or x_1, x_2 …) for one size, where the answer's shape changes with n
        named = {d for d in reference.shape if isinstance(d, str)}
        return Outcome(("wrong-shape",), detail="fixed-size", evidence={"sizes_checked": [
            {k: v for k, v in i.sizes.items() if k in named} for i in reference.instances]})
    try:
        relation, raw = _relate(reference, candidate)
    except ExpressionError as exc:
        return Outcome(("unparseable",), detail=f"your answer does not work at every size: "
                       f"{exc.message}")
    if not raw:
        return Outcome(("wrong-shape",), detail="fixed-size", evidence={
            "sizes_checked": [dict(i.sizes) for i in reference.instances]})
    involved = reference.symbols | candidate.symbols
    if relation == "wrong":
        return _mistake(reference, candidate, raw, tolerance) or _wrong_shape(raw, involved)
    pairs = [_align(relation, instance, given) for instance, given in raw]
    if relation == "same":
        exact_work = Work(EXACT_WORK)
        pairs = [_refine(candidate, pair, tolerance, exact_work) for pair in pairs]
    if non_finite(pairs):
        return Outcome(("non-finite",), method="numeric", evidence=first_difference(
            pairs, tolerance, involved))
    value = value_diagnosis(pairs, tolerance, square_transpose=relation == "same")
    method = None
    if exact and relation == "same" and value != "correct":
        # tolerance 0: floats a few ulps apart (inv(A) evaluated two ways) can't reject
        # an answer that is proved equal
        method = _confirm(candidate, pairs, Work(symbolic_work))
        value = "correct" if method == "symbolic" else value
    points = sum(p.given.shape[0] for p in pairs)
    code = {"same": None, "transposed": "transposed",
            "flat": None if orientation == "lenient" else "flat-array",
            "vector-for-matrix": "elementwise-vs-matrix",
            "matrix-for-vector": "elementwise-vs-matrix"}[relation]
    if value == "correct":
        if code is None:
            note = ("a 1-D array was accepted as the expected vector (orientation: lenient)"
                    if relation == "flat" else "")
            method = method or _confirm(candidate, pairs, Work(symbolic_work))
            disproof = None if method == "symbolic" else _disprove(candidate, pairs, exact,
                                                                    involved)
            if disproof is not None:   # exact arithmetic overturns a float agreement
                return Outcome(("not-equivalent",), method="symbolic", evidence={
                    **_shapes(raw, involved), **disproof})
            return Outcome((), method=method, evidence={"points": points}, note=note)
        return Outcome((code,), method="numeric", evidence=_shapes(raw, involved))
    codes = tuple(c for c in (code, *(value[0] if value else ())) if c)
    evidence = {**_shapes(raw, involved), **(value[1] if value else {})}
    # An exact built-in diagnosis (the reference transposed, negated or scaled) comes
    # first: an author's mistake it catches is shadowed, and `validate` says so. The
    # author's mistakes come before looser ones (one branch of a kink, combinations).
    if value is not None and len(codes) == 1 and codes[0] in _EXACT:
        return Outcome(codes, method="numeric", evidence=evidence)
    found = _mistake(reference, candidate, raw, tolerance)
    if found is not None:
        return found
    if value is not None and code != "elementwise-vs-matrix":
        return Outcome(codes, method="numeric", evidence=evidence)
    if code == "elementwise-vs-matrix":
        return _wrong_shape(raw, involved)
    evidence = {**_shapes(raw, involved), **first_difference(pairs, tolerance, involved)}
    detail = "shape-transposed" if code == "transposed" else "shape-flat" if code else ""
    if candidate.fixed_numbers and varies(pairs, tolerance):
        detail = "fixed-numbers"
    return Outcome(("not-equivalent",), method="numeric", evidence=evidence, detail=detail)


# --- shapes ---------------------------------------------------------------------------

_EXACT = ("transposed", "sign", "scale-factor")
EXACT_WORK = 1_000_000    # expression-tree nodes of exact re-evaluation per check
# tolerance 0 for floats: a few units in the last place of the larger magnitude
ULPS = Tolerance(rtol=4 * float(np.finfo(np.float64).eps), atol=0.0)


def _relation(given_shape: tuple[int, ...], expected: tuple[int, int]) -> str:
    rows, cols = expected
    if given_shape == expected:
        return "same"
    if len(given_shape) == 1:
        length = given_shape[0]
        if length == rows * cols and 1 in expected:
            return "flat"
        if rows == cols == length and length > 1:
            return "vector-for-matrix"
        return "wrong"
    if given_shape == (cols, rows):
        return "transposed"
    if rows == cols and 1 in given_shape and max(given_shape) == rows and rows > 1:
        return "vector-for-matrix"
    if given_shape[0] == given_shape[1] and 1 in expected and max(expected) == given_shape[0]:
        return "matrix-for-vector"
    return "wrong"


_PREFERENCE = ("same", "flat", "transposed", "vector-for-matrix", "matrix-for-vector")


def _relate(reference: Reference, candidate: Candidate
            ) -> tuple[str, list[tuple[Instance, np.ndarray]]]:
    """The shape relation and the candidate's raw values at the instances it applies to.

    A candidate that applies at every size is compared at every instance (its worst
    relation counts); fixed numbers or explicit entries only where their shape fits best.
    """
    found: dict[str, list[Instance]] = {}
    for instance in reference.instances:
        shape = candidate.shape_at(instance)
        if shape is not None:
            found.setdefault(_relation(tuple(shape), instance.shape), []).append(instance)
    if not found:
        return "wrong", []
    if candidate.applies_everywhere:
        relation = next(r for r in ("wrong", *_PREFERENCE[::-1]) if r in found)
        chosen = [i for group in found.values() for i in group]
        chosen.sort(key=reference.instances.index)
    else:
        relation = next((r for r in _PREFERENCE if r in found), "wrong")
        chosen = found[relation]
    return relation, [(i, candidate.values_at(i)) for i in chosen]


def _align(relation: str, instance: Instance, given: np.ndarray) -> Pair:
    expected = instance.expected
    assert expected is not None
    count = expected.shape[0]
    if relation == "transposed":
        given = np.swapaxes(given, -1, -2)
    elif relation == "flat":
        given = given.reshape(expected.shape)
    elif relation == "vector-for-matrix":
        flat = given.reshape(count, -1)
        given = flat[:, :, None] * np.eye(flat.shape[1])[None]
    elif relation == "matrix-for-vector":
        flat = expected.reshape(count, -1)
        expected = flat[:, :, None] * np.eye(flat.shape[1])[None]
    return Pair(instance, np.asarray(given, dtype=float), expected)


def _wrong_shape(raw: list[tuple[Instance, np.ndarray]], involved: frozenset[str]
                 ) -> Outcome:
    return Outcome(("wrong-shape",), evidence=_shapes(raw, involved))


def _shapes(raw: list[tuple[Instance, np.ndarray]], involved: frozenset[str]
            ) -> dict[str, Any]:
    instance, given = raw[0]
    return {"expected_shape": list(instance.shape), "given_shape": list(given.shape[1:]),
            "sizes": relevant_sizes(instance, involved)}


# --- values ---------------------------------------------------------------------------

# --- exactness ------------------------------------------------------------------------

def _refine(candidate: Candidate, pair: Pair, tolerance: Tolerance, work: Work) -> Pair:
    """Re-evaluate an answer exactly where floats may have failed it.

    When float64 disagrees with the reference by no more than its own rounding error could
    explain (cancellation in an expanded polynomial, say), the answer is evaluated in
    exact arithmetic at those points. This decides right from wrong, so it has an
    allowance of its own (``EXACT_WORK``, shared by the check's instances); points past it
    keep their floats.
    """
    bad = ~close(pair.given, pair.expected, tolerance)
    if not bad.any() or candidate.fixed_numbers or isinstance(candidate, FunctionCandidate):
        return pair
    if _float_difference_is_real(candidate, pair, bad, tolerance):
        return pair
    instance, given = pair.instance, pair.given.copy()
    try:
        for point in np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1)):
            exact = exact_floats(candidate, instance, int(point), work)
            if exact is None:
                return pair
            given[point] = exact.reshape(given.shape[1:])
    except (ZeroDivisionError, TypeError, ValueError, RecursionError, WorkExhausted):
        return pair
    return Pair(instance, given, pair.expected)


_EPS_RATIO = float(np.finfo(np.float64).eps / np.finfo(np.float32).eps)


def _float_difference_is_real(candidate: Candidate, pair: Pair, bad: np.ndarray,
                              tolerance: Tolerance) -> bool:
    """Whether every float64 disagreement is far beyond float64's rounding error, estimated
    from how far the same evaluation moves in float32 (rounding error scales with epsilon).
    If any is not, the diagnoses can't rest on floats either."""
    instance = pair.instance
    low = candidate.values_at(instance, np.float32).astype(np.float64)
    with np.errstate(all="ignore"):
        rounding = np.abs(low - pair.given) * _EPS_RATIO * 1e3
        difference = np.abs(pair.given - pair.expected)
        real = difference > tolerance.atol + rounding
    return bool(np.all(np.isfinite(rounding[bad])) and np.all(real[bad]))


# --- symbolic confirmation ------------------------------------------------------------

def _confirm(candidate: Candidate, pairs: list[Pair], work: Work) -> str:
    """'symbolic' if proved equal at every instance within the allowance, else 'numeric'."""
    try:
        for pair in pairs:
            instance = pair.instance
            work.spend(candidate.exact_cost(instance))
            answer = candidate.exact_at(instance)
            if answer is None:
                return "numeric"
            if not prove_equal(instance.value, answer, dict(instance.structure), work):
                return "numeric"
    except WorkExhausted:
        return "numeric"
    return "symbolic"


def _disprove(candidate: Candidate, pairs: list[Pair], every_point: bool,
              involved: frozenset[str]) -> dict[str, Any] | None:
    """Evidence that an answer the floats accepted differs from the reference: a sample
    point where both are exact numbers and their difference is a nonzero rational (an
    expanded polynomial's constant term off by one, where the values are 10⁸; two
    rationals that round to the same float). None if no such point is found within
    ``EXACT_WORK``: at the first point of each instance, or at ``every_point``."""
    if candidate.fixed_numbers or isinstance(candidate, FunctionCandidate):
        return None
    work = Work(EXACT_WORK)
    try:
        for pair in pairs:
            instance = pair.instance
            for point in range(pair.given.shape[0] if every_point else 1):
                found = _exact_difference(candidate, instance, point, work)
                if found is not None:
                    return {**where(instance, point, involved), **found}
    except (ZeroDivisionError, TypeError, ValueError, AttributeError, RecursionError,
            ExpressionError, WorkExhausted):
        return None
    return None


def _sympy_number(value: Any) -> Any:
    """An exact value as sympy's (an int as Integer), None for anything else: nothing is
    sympified."""
    if isinstance(value, sp.Basic):
        return value
    return sp.Integer(value) if isinstance(value, int) else None


def _exact_difference(candidate: Candidate, instance: Instance, point: int, work: Work
                      ) -> dict[str, Any] | None:
    work.spend(candidate.exact_cost(instance, point))
    given = candidate.exact_value(instance, point)
    if given is None:
        return None
    work.spend(nodes(instance.value, work.left))
    expected = instance.value.xreplace(instance.samples.exact_subs(point, instance.env))
    left, right = (list(v) if isinstance(v, sp.MatrixBase) else [v]
                   for v in (expected, given))
    if len(left) != len(right):
        return None
    columns = expected.cols if isinstance(expected, sp.MatrixBase) else 1
    for index, (e, g) in enumerate(zip(left, right)):
        exact_e, exact_g = _sympy_number(e), _sympy_number(g)
        if exact_e is None or exact_g is None:
            continue
        difference = exact_g - exact_e
        if difference.is_Rational and difference != 0:
            shown = str(difference)      # a long fraction is shown to 12 digits
            return {"entry": [index // columns, index % columns], "expected": float(e),
                    "given": float(g), "difference": shown if len(shown) <= 40 else
                    f"{float(difference):.12g}"}
    return None


def _mistake(reference: Reference, candidate: Candidate,
             raw: list[tuple[Instance, np.ndarray]], tolerance: Tolerance) -> Outcome | None:
    """The first author mistake the candidate matches at every instance it was given at."""
    index = {id(instance): k for k, instance in enumerate(reference.instances)}
    for (mistake, _), values in zip(reference.mistakes, reference.mistake_values):
        matched = True
        for instance, given in raw:
            expected = values[index[id(instance)]]
            if given.shape != expected.shape or not np.all(close(given, expected, tolerance)):
                matched = False
                break
        if matched:
            return Outcome(("author-mistake",), method="numeric", detail=mistake.feedback,
                           evidence={"mistake": mistake.answer}, mistake=mistake)
    return None
