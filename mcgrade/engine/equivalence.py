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

from mcgrade.engine import ball_digest, exact_digest
from mcgrade.engine import exact as exact_check
from mcgrade.engine.answers import Outcome, ShapeCandidate
from mcgrade.engine.budget import Work, WorkExhausted
from mcgrade.engine.candidates import Candidate, FunctionCandidate, exact_floats
from mcgrade.engine.conventions import Detail, Relation
from mcgrade.engine.diagnosis import (
    VALUES,
    Pair,
    ReferenceOracle,
    close,
    relevant_sizes,
    value_diagnosis,
    where,
)
from mcgrade.engine.reference import Instance, Reference
from mcgrade.engine.shapes import check_shape, relation
from mcgrade.engine.symbolic import nodes, prove_equal
from mcgrade.errors import ExpressionError
from mcgrade.model import Diagnosis, Orientation, Tolerance

# the candidate's raw values at an instance, and the reference's shape there if related
Raw = tuple[Instance, np.ndarray, "tuple[int, int] | None"]


def check(reference: Reference, candidate: Candidate | ShapeCandidate,
          tolerance: Tolerance, orientation: Orientation, symbolic_work: int,
          oracle: ReferenceOracle = VALUES) -> Outcome:
    """Decide whether ``candidate`` is the reference, and if not, why. ``symbolic_work``:
    the allowance, in expression-tree nodes, for proving a right answer symbolically;
    ``oracle``: what knows the reference (its values, or a student copy's digests)."""
    return oracle.finish(_check(reference, candidate, tolerance, orientation, symbolic_work,
                                oracle), candidate)


def _check(reference: Reference, candidate: Candidate | ShapeCandidate,
           tolerance: Tolerance, orientation: Orientation, symbolic_work: int,
           oracle: ReferenceOracle) -> Outcome:
    if isinstance(candidate, ShapeCandidate):
        return check_shape(reference, candidate.shape, oracle)
    exact = tolerance.rtol == 0 and tolerance.atol == 0
    if exact:                  # floats agree to a few ulps; exact answers are then compared
        tolerance = ULPS       # exactly (_confirm, _disprove)
    if not candidate.applies_everywhere and oracle.shapes_vary(reference):
        # numbers (or x_1, x_2 …) for one size, where the answer's shape changes with n
        named = {d for d in reference.shape if isinstance(d, str)} or _varying(reference)
        return Outcome((Diagnosis.WRONG_SHAPE,), case=Detail.FIXED_SIZE, evidence={
            "sizes_checked": [{k: v for k, v in i.sizes.items() if k in named}
                              for i in reference.instances]})
    try:
        related, raw = _relate(oracle, reference, candidate)
    except ExpressionError as exc:
        return Outcome((Diagnosis.UNPARSEABLE,), detail=f"your answer does not work at "
                       f"every size: {exc.message}")
    if not raw:
        return Outcome((Diagnosis.WRONG_SHAPE,), case=Detail.FIXED_SIZE, evidence={
            "sizes_checked": [dict(i.sizes) for i in reference.instances]})
    involved = reference.symbols | candidate.symbols
    if related == Relation.WRONG:
        return _mistake(reference, candidate, raw, tolerance) or _wrong_shape(oracle, raw,
                                                                              involved)
    pairs = [_align(related, instance, given, target) for instance, given, target in raw]
    if related == Relation.SAME:
        exact_work = Work(EXACT_WORK)
        pairs = [_refine(oracle, candidate, pair, tolerance, exact_work) for pair in pairs]
    if oracle.non_finite(pairs):
        return Outcome((Diagnosis.NON_FINITE,), method="numeric", evidence=oracle.difference(
            pairs, tolerance, involved))
    value = value_diagnosis(oracle, pairs, tolerance, square_transpose=related == Relation.SAME)
    method = None
    if exact and related == Relation.SAME and value != "correct":
        # tolerance 0: floats a few ulps apart (inv(A) evaluated two ways) can't reject
        # an answer that is proved equal
        method = _confirm(oracle, candidate, pairs, Work(symbolic_work))
        value = "correct" if method == "symbolic" else value
    points = sum(p.given.shape[0] for p in pairs)
    code = _CODES[related] if related != Relation.FLAT or orientation != "lenient" else None
    if value == "correct":
        if code is None:
            note = ("a 1-D array was accepted as the expected vector (orientation: lenient)"
                    if related == Relation.FLAT else "")
            # --- exact check at random points and sizes (mcgrade.engine.exact): a
            # difference is a proof and overturns the floats; an agreement stands where
            # no symbolic proof fits
            found = _settle(reference, candidate) if related == Relation.SAME else None
            if found is not None and found.verdict == "differ":
                return Outcome((Diagnosis.NOT_EQUIVALENT,), method="symbolic", evidence={
                    **_shapes(oracle, raw, involved), **found.evidence})
            method = method or _confirm(oracle, candidate, pairs, Work(symbolic_work))
            if found is not None and found.verdict == "agree" and method != "symbolic":
                return Outcome((), method="exact", evidence=found.evidence, note=note)
            # --- end of the exact check
            disproof = None if method == "symbolic" else _disprove(oracle, candidate, pairs,
                                                                    exact, involved)
            if disproof is not None:   # exact arithmetic overturns a float agreement
                return Outcome((Diagnosis.NOT_EQUIVALENT,), method="symbolic", evidence={
                    **_shapes(oracle, raw, involved), **disproof})
            # numeric: with the certified bound on the difference where balls gave one
            bound = found.evidence if found is not None and found.verdict == "close" \
                and method == "numeric" else {"points": points}
            return Outcome((), method=method, evidence=bound, note=note)
        return Outcome((code,), method="numeric", evidence=_shapes(oracle, raw, involved),
                       case=_CASES.get(related))
    codes = tuple(c for c in (code, *(value[0] if isinstance(value, tuple) else ())) if c)
    evidence = {**_shapes(oracle, raw, involved), **(value[1] if isinstance(value, tuple)
                                                      else {})}
    # An exact built-in diagnosis (the reference transposed, negated or scaled) comes
    # first: an author's mistake it catches is shadowed, and `validate` says so. The
    # author's mistakes come before looser ones (one branch of a kink, combinations).
    if value is not None and len(codes) == 1 and codes[0] in _EXACT:
        return Outcome(codes, method="numeric", evidence=evidence)
    matched = _mistake(reference, candidate, raw, tolerance)
    if matched is not None:
        return matched
    if value is not None and code != Diagnosis.ELEMENTWISE_VS_MATRIX:
        return Outcome(codes, method="numeric", evidence=evidence)
    if code == Diagnosis.ELEMENTWISE_VS_MATRIX:
        return _wrong_shape(oracle, raw, involved)
    evidence = {**_shapes(oracle, raw, involved), **oracle.difference(pairs, tolerance,
                                                                      involved)}
    case = (Detail.SHAPE_TRANSPOSED if code == Diagnosis.TRANSPOSED else
            Detail.SHAPE_FLAT if code else None)
    if candidate.fixed_numbers and oracle.varies(pairs, tolerance):
        case = Detail.FIXED_NUMBERS
    return Outcome((Diagnosis.NOT_EQUIVALENT,), method="numeric", evidence=evidence,
                   case=case)


def _settle(reference: Reference, candidate: Candidate) -> exact_check.Finding | None:
    """The exact check: at secret points for the full set, at a student copy's public
    points against its exact digests, else its ball digests (never more lenient than
    grading where they decide)."""
    if reference.problem.checks is not None:
        return exact_digest.settle(reference, candidate) or ball_digest.settle(reference,
                                                                               candidate)
    return exact_check.settle(reference, candidate)


# --- shapes ---------------------------------------------------------------------------

_EXACT = (Diagnosis.TRANSPOSED, Diagnosis.SIGN, Diagnosis.SCALE_FACTOR)
_CODES: dict[Relation, Diagnosis | None] = {
    Relation.SAME: None, Relation.TRANSPOSED: Diagnosis.TRANSPOSED,
    Relation.FLAT: Diagnosis.FLAT_ARRAY,
    Relation.VECTOR_FOR_MATRIX: Diagnosis.ELEMENTWISE_VS_MATRIX,
    Relation.MATRIX_FOR_VECTOR: Diagnosis.ELEMENTWISE_VS_MATRIX}
_CASES = {Relation.VECTOR_FOR_MATRIX: Detail.VECTOR_FOR_MATRIX,
          Relation.MATRIX_FOR_VECTOR: Detail.MATRIX_FOR_VECTOR}
EXACT_WORK = 1_000_000    # expression-tree nodes of exact re-evaluation per check
# tolerance 0 for floats: a few units in the last place of the larger magnitude
ULPS = Tolerance(rtol=4 * float(np.finfo(np.float64).eps), atol=0.0)
_PREFERENCE = (Relation.SAME, Relation.FLAT, Relation.TRANSPOSED,
               Relation.VECTOR_FOR_MATRIX, Relation.MATRIX_FOR_VECTOR)


def _varying(reference: Reference) -> set[str]:
    """The dimensions whose size changes from instance to instance."""
    first = reference.instances[0].sizes
    return {k for i in reference.instances for k, v in i.sizes.items() if v != first[k]}


def _relate(oracle: ReferenceOracle, reference: Reference, candidate: Candidate
            ) -> tuple[Relation, list[Raw]]:
    """The shape relation and the candidate's raw values at the instances it applies to.

    A candidate that applies at every size is compared at every instance (its worst
    relation counts); fixed numbers or explicit entries only where their shape fits best.
    """
    found: dict[Relation, list[tuple[Instance, tuple[int, int] | None]]] = {}
    for instance in reference.instances:
        shape = candidate.shape_at(instance)
        if shape is not None:
            related, target = relation(oracle, instance, tuple(shape))
            found.setdefault(related, []).append((instance, target))
    if not found:
        return Relation.WRONG, []
    if candidate.applies_everywhere:
        related = next(r for r in (Relation.WRONG, *_PREFERENCE[::-1]) if r in found)
        chosen = [i for group in found.values() for i in group]
        chosen.sort(key=lambda it: reference.instances.index(it[0]))
    else:
        related = next((r for r in _PREFERENCE if r in found), Relation.WRONG)
        chosen = found[related]
    return related, [(i, candidate.values_at(i), target) for i, target in chosen]


def _align(related: Relation, instance: Instance, given: np.ndarray,
           target: tuple[int, int] | None) -> Pair:
    """The candidate's values arranged as the reference's are, if the relation holds."""
    count = given.shape[0]
    if related == Relation.TRANSPOSED:
        given = np.swapaxes(given, -1, -2)
    elif related == Relation.FLAT and target is not None:
        given = given.reshape((count, *target))
    elif related == Relation.VECTOR_FOR_MATRIX:
        flat = given.reshape(count, -1)
        given = flat[:, :, None] * np.eye(flat.shape[1])[None]
    return Pair(instance, np.asarray(given, dtype=float), related, target or ())


def _wrong_shape(oracle: ReferenceOracle, raw: list[Raw], involved: frozenset[str]
                 ) -> Outcome:
    return Outcome((Diagnosis.WRONG_SHAPE,), evidence=_shapes(oracle, raw, involved))


def _shapes(oracle: ReferenceOracle, raw: list[Raw], involved: frozenset[str]
            ) -> dict[str, Any]:
    instance, given, target = raw[0]
    return {**oracle.shape_evidence(target or instance.shape),
            "given_shape": list(given.shape[1:]), "sizes": relevant_sizes(instance, involved)}


# --- exactness ------------------------------------------------------------------------

def _refine(oracle: ReferenceOracle, candidate: Candidate, pair: Pair,
            tolerance: Tolerance, work: Work) -> Pair:
    """Re-evaluate an answer exactly where floats may have failed it.

    When float64 disagrees with the reference by no more than its own rounding error could
    explain (cancellation in an expanded polynomial, say), the answer is evaluated in
    exact arithmetic at those points. This decides right from wrong, so it has an
    allowance of its own (``EXACT_WORK``, shared by the check's instances); points past it
    keep their floats.
    """
    bad = ~oracle.agrees(pair, tolerance)
    if not bad.any() or candidate.fixed_numbers or isinstance(candidate, FunctionCandidate):
        return pair
    if oracle.rounding_ruled_out(candidate, pair, tolerance):
        return pair
    instance, given = pair.instance, pair.given.copy()
    try:
        for point in np.flatnonzero(bad):
            exact = exact_floats(candidate, instance, int(point), work)
            if exact is None:
                return pair
            given[point] = exact.reshape(given.shape[1:])
    except (ZeroDivisionError, TypeError, ValueError, RecursionError, WorkExhausted):
        return pair
    return Pair(instance, given, pair.relation, pair.target)


# --- symbolic confirmation ------------------------------------------------------------

def _confirm(oracle: ReferenceOracle, candidate: Candidate, pairs: list[Pair], work: Work
             ) -> str:
    """'symbolic' if proved equal at every instance within the allowance, else 'numeric'."""
    try:
        for pair in pairs:
            instance = pair.instance
            expected = oracle.exact(instance)
            if expected is None:
                return "numeric"
            work.spend(candidate.exact_cost(instance))
            answer = candidate.exact_at(instance)
            if answer is None:
                return "numeric"
            if not prove_equal(expected, answer, dict(instance.structure), work):
                return "numeric"
    except WorkExhausted:
        return "numeric"
    return "symbolic"


def _disprove(oracle: ReferenceOracle, candidate: Candidate, pairs: list[Pair],
              every_point: bool, involved: frozenset[str]) -> dict[str, Any] | None:
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
            instance, expected = pair.instance, oracle.exact(pair.instance)
            if expected is None:
                return None
            for point in range(pair.given.shape[0] if every_point else 1):
                found = _exact_difference(candidate, instance, expected, point, work)
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


def _exact_difference(candidate: Candidate, instance: Instance, value: Any, point: int,
                      work: Work) -> dict[str, Any] | None:
    work.spend(candidate.exact_cost(instance, point))
    given = candidate.exact_value(instance, point)
    if given is None:
        return None
    work.spend(nodes(value, work.left))
    expected = value.xreplace(instance.samples.exact_subs(point, instance.env))
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


def _mistake(reference: Reference, candidate: Candidate, raw: list[Raw],
             tolerance: Tolerance) -> Outcome | None:
    """The first author mistake the candidate matches at every instance it was given at."""
    index = {id(instance): k for k, instance in enumerate(reference.instances)}
    for (mistake, _), values in zip(reference.mistakes, reference.mistake_values):
        matched = True
        for instance, given, _ in raw:
            expected = values[index[id(instance)]]
            if given.shape != expected.shape or not np.all(close(given, expected, tolerance)):
                matched = False
                break
        if matched:
            return Outcome((Diagnosis.AUTHOR_MISTAKE,), method="numeric", detail=mistake.feedback,
                           evidence={"mistake": mistake.answer}, mistake=mistake)
    return None
