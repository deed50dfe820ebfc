"""Local checks: grading against a published (student) copy of a problem set.

A student copy holds, per problem, fixed sample points and a digest of the reference's
value at each (:mod:`mcgrade.engine.digest`). Here those points become ordinary
``Instance``s, so an answer is read and evaluated exactly as the instructor's grader
would, and its values are digested and compared. What the digests allow is a verdict and
the diagnoses that are themselves guesses (the transpose, the negative, a row for a
column); what they don't allow is any statement of the expected value. These verdicts say
"local check": the instructor's grading, with the full set and fresh points, is the one
that counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mcgrade.engine import feedback, instances
from mcgrade.engine.answers import Outcome, ShapeCandidate
from mcgrade.engine.digest import context, shape_digest, value_digest
from mcgrade.engine.budget import Work, WorkExhausted
from mcgrade.engine.candidates import Candidate, FunctionCandidate, exact_floats
from mcgrade.engine.conventions import describe_shape
from mcgrade.engine.diagnosis import relevant_sizes
from mcgrade.engine.equivalence import EXACT_WORK
from mcgrade.errors import ExpressionError, ProblemSetError
from mcgrade.model import (
    Layout,
    Orientation,
    Problem,
    ProblemSet,
    StoredInstance,
    Tolerance,
)
from mcgrade.engine.reference import CompiledSet, Instance, Reference, scope_of

_OWN = ("transposed", "flat-array", "sign", "wrong-shape", "not-equivalent", "non-finite",
        "elementwise-vs-matrix")


def compile_checks(problem_set: ProblemSet) -> CompiledSet:
    """A published set's problems as References whose instances are the stored points."""
    scope = scope_of(problem_set)
    references = {}
    for problem in problem_set.problems:
        assert problem.checks is not None, "the loader requires checks in a published set"
        built = tuple(_instance(problem_set, problem, s) for s in problem.checks.instances)
        names = frozenset(n for s in problem.checks.instances for p in s.points for n, _ in p)
        references[problem.id] = Reference(problem, (0, 0), None, built, (), (), names)
    return CompiledSet(problem_set, scope, references)


def _instance(problem_set: ProblemSet, problem: Problem, stored: StoredInstance) -> Instance:
    sizes = {d.name: d.sizes[0] for d in problem_set.dimensions} | dict(stored.sizes)
    domains = dict(problem.domains)
    env = {d.name: instances.symbol_value(d, sizes, domains.get(d.name, d.domain))
           for d in problem_set.symbols}
    count = len(stored.points)
    rng = np.random.default_rng(instances.seed_for(problem_set.title, problem.id, sizes,
                                                   "local"))
    values: dict[str, np.ndarray] = {}
    for decl in problem_set.symbols:
        shape = instances.resolve(decl.shape, sizes)
        given = [dict(point)[decl.name] for point in stored.points
                 if decl.name in dict(point)]
        if count and len(given) == count:
            arrays = [np.array(g, dtype=float).reshape(np.shape(g) or (1, 1)) for g in given]
            if any(a.shape != shape for a in arrays):
                raise ProblemSetError(
                    f"checks: a stored value of {decl.name} is not {shape[0]}×{shape[1]}, its "
                    f"shape at {sizes}; publish the set again", problem_set.path,
                    problem.line_of("checks"), f"problems (id={problem.id!r})")
            values[decl.name] = np.stack(arrays)
        else:   # symbols the reference does not depend on: any values will do
            domain = domains.get(decl.name, decl.domain)
            values[decl.name] = instances.draw_symbol(rng, decl, domain, sizes, count)
    samples = instances.Samples(values, count)
    return Instance(sizes, env, None, (0, 0), samples, None, {}, (), np.zeros((count, 0)), 0,
                    scope_of(problem_set).symbols, {})


# --- the check ---------------------------------------------------------------------------

def check(reference: Reference, candidate: Candidate | ShapeCandidate, tolerance: Tolerance,
          orientation: Orientation, symbolic_work: int) -> Outcome:
    """The local verdict on ``candidate``: the same signature as ``equivalence.check``
    (nothing is proved symbolically here: ``symbolic_work`` goes unused)."""
    problem = reference.problem
    assert problem.checks is not None
    stored = list(zip(reference.instances, problem.checks.instances))
    if isinstance(candidate, ShapeCandidate):
        return _check_shape(problem, stored, candidate.shape)
    try:
        placed = _place(problem.id, stored, candidate)
    except ExpressionError as exc:
        return Outcome(("unparseable",), detail=f"your answer does not work at every size: "
                       f"{exc.message}")
    if isinstance(placed, Outcome):
        return placed
    involved = reference.symbols | candidate.symbols
    checks, work = problem.checks, Work(EXACT_WORK)
    relation = next((r for r in ("transposed", "diagonal", "flat-row", "flat-column") if
                     any(p[2] == r for p in placed)), "same")
    given = [_align(candidate, instance, rel) for instance, _, rel in placed]
    total = sum(g.shape[0] for g in given)
    base: dict[str, Any] = {"given_shape": list(candidate.values_at(placed[0][0]).shape[1:]),
                            "sizes": relevant_sizes(placed[0][0], involved), "local": True}

    def matches(transform: Any) -> list[np.ndarray]:
        return [_matching(problem.id, s, transform(g), checks.bits, checks.zero)
                for (_, s, _), g in zip(placed, given)]

    found = matches(lambda g: g)
    found = [_refine(problem.id, candidate, placed[i], ok, checks.bits, checks.zero, work)
             for i, ok in enumerate(found)]
    if relation == "diagonal":     # a vector where a diagonal matrix is expected
        right = all(ok.all() for ok in found)
        return Outcome(("elementwise-vs-matrix" if right else "wrong-shape",),
                       method="numeric" if right else "", evidence=base)
    if all(ok.all() for ok in found):
        if relation == "same" or (relation.startswith("flat") and orientation == "lenient"):
            note = ("a 1-D array was accepted as the expected vector (orientation: lenient)"
                    if relation != "same" else "")
            return Outcome((), method="numeric", evidence={"points": total, "local": True},
                           note=note)
        if relation.startswith("flat"):
            return Outcome(("flat-array",), method="numeric",
                           evidence={**base, "as": relation[5:]})
        return Outcome(("transposed",), method="numeric", evidence=base)
    if any(bool(np.any(~np.isfinite(g))) for g in given):
        return Outcome(("non-finite",), method="numeric", evidence=base)
    lead = ("transposed",) if relation == "transposed" else ()
    if all(ok.all() for ok in matches(lambda g: -g)):
        return Outcome((*lead, "sign"), method="numeric", evidence=base)
    if relation == "same" and all(g.shape[1] == g.shape[2] > 1 for g in given):
        for codes, transform in ((("transposed",), lambda g: np.swapaxes(g, -1, -2)),
                                 (("transposed", "sign"), lambda g: -np.swapaxes(g, -1, -2))):
            if all(ok.all() for ok in matches(transform)):
                return Outcome(codes, method="numeric", evidence=base)
    wrong = next(i for i, ok in enumerate(found) if not ok.all())
    instance, _, _ = placed[wrong]
    point = int(np.argmin(found[wrong]))
    evidence = {**base, "sizes": relevant_sizes(instance, involved) or dict(instance.sizes),
                "differs_at": sum(int((~ok).sum()) for ok in found), "compared": total,
                "point": {n: _plain(v[point]) for n, v in instance.samples.values.items()
                          if n in involved}}
    detail = ("fixed-numbers" if candidate.fixed_numbers and _varies(problem, placed) else
              "shape-transposed" if relation == "transposed" else
              "shape-flat" if relation != "same" else "")
    return Outcome(("not-equivalent",), method="numeric", evidence=evidence, detail=detail)


def _relation(problem_id: str, stored: StoredInstance, shape: tuple[int, ...]) -> str:
    where = context(problem_id, dict(stored.sizes), -1)
    if len(shape) == 2 and shape_digest(where, shape) == stored.shape:
        return "same"
    if len(shape) == 2 and shape_digest(where, shape[::-1]) == stored.shape:
        return "transposed"
    if len(shape) == 1:
        for name, as_shape in (("flat-column", (shape[0], 1)), ("flat-row", (1, shape[0]))):
            if shape_digest(where, as_shape) == stored.shape:
                return name
    length = max(shape)
    if (len(shape) == 1 or 1 in shape) and length > 1 and \
            shape_digest(where, (length, length)) == stored.shape:
        return "diagonal"
    return "wrong"


def _place(problem_id: str, stored: list[tuple[Instance, StoredInstance]],
           candidate: Candidate) -> list[tuple[Instance, StoredInstance, str]] | Outcome:
    """Where the candidate is compared, and how its shape relates to the reference's."""
    placed = []
    for instance, checks in stored:
        shape = candidate.shape_at(instance)
        if shape is None:
            continue
        relation = _relation(problem_id, checks, tuple(shape))
        if relation == "wrong" and candidate.applies_everywhere:
            return Outcome(("wrong-shape",), evidence={
                "given_shape": list(shape), "local": True,
                "sizes": relevant_sizes(instance, candidate.symbols | frozenset(
                    n for p in checks.points for n, _ in p))})
        if relation != "wrong":
            placed.append((instance, checks, relation))
    if not placed:
        return Outcome(("wrong-shape",), detail="fixed-size", evidence={
            "sizes_checked": [dict(s.sizes) for _, s in stored], "local": True})
    return placed


def _align(candidate: Candidate, instance: Instance, relation: str) -> np.ndarray:
    return _aligned(np.asarray(candidate.values_at(instance), dtype=float), relation)


def _aligned(values: np.ndarray, relation: str) -> np.ndarray:
    """Values (K, *shape) arranged as the reference's would be, if the relation holds."""
    if relation == "transposed":
        return np.swapaxes(values, -1, -2)
    if relation == "flat-column":
        return values.reshape(values.shape[0], -1, 1)
    if relation == "flat-row":
        return values.reshape(values.shape[0], 1, -1)
    if relation == "diagonal":
        flat = values.reshape(values.shape[0], -1)
        return flat[:, :, None] * np.eye(flat.shape[1])[None]
    return values


def _matching(problem_id: str, stored: StoredInstance, values: np.ndarray, bits: int,
              zero: float) -> np.ndarray:
    sizes = dict(stored.sizes)
    return np.array([value_digest(context(problem_id, sizes, k), values[k], bits, zero)
                     == digest for k, digest in enumerate(stored.digests)], dtype=bool)


def _refine(problem_id: str, candidate: Candidate,
            placed: tuple[Instance, StoredInstance, str], ok: np.ndarray, bits: int,
            zero: float, work: Work) -> np.ndarray:
    """Points whose float digest disagreed, digested again from the exact value (floats can
    lose a correct expanded polynomial to cancellation)."""
    if ok.all() or candidate.fixed_numbers or isinstance(candidate, FunctionCandidate):
        return ok
    instance, stored, relation = placed
    shape = tuple(candidate.shape_at(instance) or ())
    ok = ok.copy()
    try:
        for k in (int(k) for k in np.flatnonzero(~ok)):
            exact = exact_floats(candidate, instance, k, work)
            if exact is None:
                return ok
            aligned = _aligned(exact.reshape((1, *shape)), relation)[0]
            ok[k] = value_digest(context(problem_id, dict(stored.sizes), k), aligned, bits,
                                 zero) == stored.digests[k]
    except (WorkExhausted, ZeroDivisionError, TypeError, ValueError, RecursionError):
        pass
    return ok


def _check_shape(problem: Problem, stored: list[tuple[Instance, StoredInstance]],
                 given: tuple[Any, ...]) -> Outcome:
    """A shape problem, as ``shapes.check_shape`` decides it, against shape digests: dimension
    names must fit at every size, numbers at one."""
    evidence = {"given_shape": list(given), "local": True}
    if len(given) == 1:
        return Outcome(("flat-array",), evidence=evidence, detail="shape-of-1d")
    if len(given) != 2:
        return Outcome(("wrong-shape",), evidence=evidence)
    symbolic = any(isinstance(d, str) for d in given)

    def fits(shape: tuple[Any, ...]) -> bool:
        hits = [shape_digest(context(problem.id, dict(s.sizes), -1), tuple(
            d if isinstance(d, int) else i.sizes[d] for d in shape)) == s.shape
            for i, s in stored]
        return all(hits) if symbolic else any(hits)

    if fits(given):
        return Outcome((), method="symbolic" if symbolic else "numeric", evidence=evidence)
    if fits(given[::-1]):
        return Outcome(("transposed",), evidence=evidence)
    return Outcome(("wrong-shape",), evidence=evidence)


def _varies(problem: Problem, placed: list[tuple[Instance, StoredInstance, str]]) -> bool:
    """Whether the reference changes from point to point. A student copy stores only the
    symbols the reference depends on, so: whether its stored points differ at all."""
    return any(len({repr(p) for p in s.points}) > 1 for _, s, _ in placed)


def _plain(array: np.ndarray) -> Any:
    return float(array[0, 0]) if array.shape == (1, 1) else array.tolist()


# --- feedback ----------------------------------------------------------------------------

def describe(outcome: Outcome, reference: Reference, layout: Layout, answer_name: str) -> str:
    """The feedback for a local verdict; it never states an expected value or shape."""
    evidence = outcome.evidence
    if outcome.correct:
        note = f" Note: {outcome.note}." if outcome.note else ""
        return (f"Correct at the local checks.{note} The instructor's grading checks again, "
                f"with the full problem set.")
    codes = outcome.diagnoses
    if codes[0] not in _OWN or outcome.detail == "fixed-size":
        return feedback.describe(outcome, reference, layout, answer_name)
    given = _shape_text(evidence)
    first = codes[0]
    if first == "transposed":
        shape = evidence.get("given_shape") or []
        if reference.problem.kind == "shape":
            text = f"this is the transposed shape (this set uses {layout} layout)."
        elif len(shape) == 2 and shape[0] != shape[1]:
            text = (f"this is the transpose of the expected answer (this set uses {layout} "
                    f"layout): you gave {given}, and the expected answer has the transposed "
                    f"shape.")
        else:
            text = (f"this is the transpose of the expected matrix (this set uses {layout} "
                    f"layout).")
        if "sign" in codes:
            text += " It is also the negative of the expected answer: check the sign."
    elif first == "flat-array":
        text = ("that is the shape of a 1-D array; vectors here are columns (n, 1) or rows "
                "(1, n): give both numbers." if outcome.detail == "shape-of-1d" else
                f"your answer is {given}, which has no orientation; this set uses strict "
                f"orientation: give it as a {evidence.get('as', 'vector')} (its values are "
                f"right).")
    elif first == "sign":
        text = "your answer is the negative of the expected one: check the sign."
    elif first == "elementwise-vs-matrix":
        text = ("you gave a vector where the expected answer is a diagonal matrix: the "
                "derivative of an element-wise operation is diag(…) of the element-wise "
                "derivatives.")
    elif first == "wrong-shape":
        text = f"your answer is {given}, which is neither the expected shape nor its transpose."
    elif first == "non-finite":
        text = (f"your answer is not finite (NaN or infinite) somewhere the expected value "
                f"is finite ({_where(evidence)}): look for a division by zero, or a log or "
                f"square root of a negative number.")
    else:
        text = (f"not equivalent to the expected answer: it differs at "
                f"{evidence.get('differs_at')} of {evidence.get('compared')} points, for "
                f"example {_where(evidence)}.")
        if 0 < evidence.get("differs_at", 0) < evidence.get("compared", 0):
            text += (" It agrees at the other points: if the function has a kink (relu, "
                     "Max, Abs), check your answer on each side of it.")
        if outcome.detail == "shape-transposed":
            text += " Its shape is also the transpose of the expected one."
        elif outcome.detail == "shape-flat":
            text += " It is also a 1-D array, which has no orientation."
        elif outcome.detail == "fixed-numbers":
            text += (" Your answer is fixed numbers, but the expected answer changes from "
                     "point to point: give an expression in terms of the symbols.")
    return "Local check: " + text


def _shape_text(evidence: dict[str, Any]) -> str:
    given = tuple(evidence.get("given_shape") or ())
    sizes = ", ".join(f"{k} = {v}" for k, v in (evidence.get("sizes") or {}).items())
    if len(given) == 1:
        return f"a 1-D array of length {given[0]}" + (f" (at {sizes})" if sizes else "")
    if len(given) != 2:
        return "something else"
    return describe_shape(given) + (f" (at {sizes})" if sizes else "")


def _where(evidence: dict[str, Any]) -> str:
    sizes = [f"{k} = {v}" for k, v in (evidence.get("sizes") or {}).items()]
    point = [f"{k} = {v!r}" if len(repr(v)) <= 60 else f"{k} = …"
             for k, v in (evidence.get("point") or {}).items()]
    return "at " + ", ".join(sizes + point) if sizes or point else "at a point"
