"""Local checks: the reference oracle of a published (student) copy of a problem set.

A student copy holds, per problem, fixed sample points and a digest of the reference's
value (and shape) at each (:mod:`mcgrade.engine.digest`). ``compile_checks`` makes those
points ordinary ``Instance``s, so an answer is read and evaluated exactly as the
instructor's grader would; ``DigestOracle`` answers the pipeline's questions
(``mcgrade.engine.diagnosis.ReferenceOracle``) by digesting the answer's values, as they
are or transformed: negated, divided by a simple factor, transposed, flattened, as a
diagonal. Questions that need the reference's values (one branch of a kink, where and by
how much an entry differs, a proof) are left undecided, and an author's mistakes are not
in the copy. The outcomes say "local": the instructor's grading, with the full set and
fresh points, is the one that counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import numpy as np

from mcgrade.engine import ball_digest, exact_digest, instances
from mcgrade.engine.answers import Outcome
from mcgrade.engine.candidates import Candidate
from mcgrade.engine.compiler import scope_of
from mcgrade.engine.conventions import Detail, Relation
from mcgrade.engine.diagnosis import SIMPLE_FACTORS, Pair, where
from mcgrade.engine.digest import context, shape_digest, value_digest
from mcgrade.engine.exact import long_decimal
from mcgrade.engine.reference import CompiledSet, Instance, Reference
from mcgrade.errors import ProblemSetError
from mcgrade.model import Diagnosis, Dim, Problem, ProblemSet, StoredInstance, Tolerance


def compile_checks(problem_set: ProblemSet) -> CompiledSet:
    """A published set's problems as References whose instances are the stored points."""
    scope = scope_of(problem_set)
    references = {}
    for problem in problem_set.problems:
        assert problem.checks is not None, "the loader requires checks in a published set"
        built = tuple(_instance(problem_set, problem, s) for s in problem.checks.instances)
        names = frozenset(n for s in problem.checks.instances for p in s.points for n, _ in p)
        # the set's declarations draw the exact digests' points as `mcgrade publish` did
        references[problem.id] = Reference(problem, (0, 0), None, built, (), (), names,
                                           tuple(problem_set.symbols))
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


# --- the oracle ---------------------------------------------------------------------------

class DigestOracle:
    """A published problem's reference, known only by its digests at the stored points."""

    def __init__(self, reference: Reference) -> None:
        checks = reference.problem.checks
        assert checks is not None, "the loader requires checks in a published set"
        self.problem_id, self.bits, self.zero = reference.problem.id, checks.bits, checks.zero
        self.stored = {id(i): s for i, s in zip(reference.instances, checks.instances)}
        # the numbers the copy gives (an `at:` value among them): an answer may spell them
        self.given = frozenset(float(x) for s in checks.instances for point in s.points
                               for _, value in point for x in np.ravel(value))
        self._shapes: tuple[tuple[int, int] | None, ...] | None = None

    def shape_is(self, instance: Instance, shape: tuple[int, ...]) -> bool:
        stored = self.stored[id(instance)]
        return len(shape) == 2 and shape_digest(
            context(self.problem_id, dict(stored.sizes), -1), shape) == stored.shape

    def shapes_vary(self, reference: Reference) -> bool:
        if self._shapes is None:
            self._shapes = tuple(self._guess_shape(i) for i in reference.instances)
        return len({s for s in self._shapes if s is not None}) > 1

    def _guess_shape(self, instance: Instance) -> tuple[int, int] | None:
        """The reference's shape, found as a student would: by trying the likely ones
        (sizes, the numbers in the declared shapes, small numbers)."""
        sides = sorted({*range(1, 13), *instance.sizes.values(),
                        *(d for shape in instance.declared_shapes.values() for d in shape
                          if isinstance(d, int))})
        return next(((r, c) for r in sides for c in sides if self.shape_is(instance, (r, c))),
                    None)

    def shape_evidence(self, shape: tuple[Dim, ...]) -> dict[str, Any]:
        # never the expected shape (in a shape problem it is the answer), only which way
        # round a vector goes: what a 1-D array lacks
        if len(shape) == 2 and 1 in shape and shape != (1, 1) and all(
                isinstance(d, int) and d > 0 for d in shape):
            return {"as": "row" if shape[0] == 1 else "column"}
        return {}

    def agrees(self, pair: Pair, tolerance: Tolerance, factor: float = 1.0) -> np.ndarray:
        return np.array([self._agrees_at(pair, k, factor) for k in range(pair.given.shape[0])],
                        dtype=bool)

    def _agrees_at(self, pair: Pair, point: int, factor: float) -> bool:
        """Whether the answer at one point, divided by ``factor``, digests as the
        reference does there (so the digest's rounding, not the tolerance, decides)."""
        value = pair.given[point] / factor if factor != 1 else pair.given[point]
        if pair.relation == Relation.MATRIX_FOR_VECTOR:   # diag(v) for the vector v
            diagonal = np.diagonal(value).copy()
            if np.any(np.abs(value - np.diag(diagonal)) >= self.zero):
                return False
            value = diagonal.reshape(pair.target)
        stored = self.stored[id(pair.instance)]
        at = context(self.problem_id, dict(stored.sizes), point)
        grid = stored.grids[point] if stored.grids else ""
        return value_digest(at, value, self.bits, self.zero, grid) == stored.digests[point]

    def factors(self, pairs: list[Pair], tolerance: Tolerance) -> Iterable[float]:
        # a digest gives no factor to compute: try the simple ones at the first point where
        # the answer is not zero (at a zero every factor would pass, each then digested at
        # every point)
        for pair in pairs:
            for point in range(pair.given.shape[0]):
                if np.any(pair.given[point] != 0):
                    return [f for f in SIMPLE_FACTORS if self._agrees_at(pair, point, f)]
        return []

    def non_finite(self, pairs: list[Pair]) -> bool:
        # the published points are ones where the reference is finite
        return any(bool(np.any(~np.isfinite(p.given))) for p in pairs)

    def varies(self, pairs: list[Pair], tolerance: Tolerance) -> bool:
        # a copy stores only the symbols the reference depends on: do its points differ?
        return any(len({repr(p) for p in self.stored[id(pair.instance)].points}) > 1
                   for pair in pairs)

    def branch(self, pairs: list[Pair], tolerance: Tolerance) -> dict[str, Any] | None:
        return None     # the copy holds neither the kinks nor the reference on each side

    def difference(self, pairs: list[Pair], tolerance: Tolerance, involved: frozenset[str]
                   ) -> dict[str, Any]:
        """The first point that differs, and at how many of all the points the answer
        does (never the expected value)."""
        matches = [self.agrees(p, tolerance) for p in pairs]
        wrong = next((k for k, ok in enumerate(matches) if not ok.all()), None)
        if wrong is None:
            return {}
        point = int(np.argmin(matches[wrong]))
        found = where(pairs[wrong].instance, point, involved)
        # a copy's checks may fix every size: then name them all rather than none
        found["sizes"] = found["sizes"] or dict(pairs[wrong].instance.sizes)
        return {**found,
                "differs_at": sum(int((~ok).sum()) for ok in matches),
                "compared": sum(len(ok) for ok in matches)}

    def rounding_ruled_out(self, candidate: Candidate, pair: Pair, tolerance: Tolerance
                           ) -> bool:
        return False    # a digest says nothing of how far off a value is: re-evaluate

    def exact(self, instance: Instance) -> Any:
        return None

    def finish(self, outcome: Outcome, candidate: Any) -> Outcome:
        proof = outcome.evidence.get("checked")
        if proof in (exact_digest.PROOF, ball_digest.PROOF) and not outcome.correct:
            # a difference only the exact or ball digests see: the floats' wording would
            # mislead
            case = Detail.LONG_DECIMAL if "decimal" in outcome.evidence else \
                Detail.EXACT_DIGEST if proof == exact_digest.PROOF else Detail.BALL_DIGEST
            return replace(outcome, case=case, evidence={**outcome.evidence, "local": True})
        # where the exact or ball digests compared the answer, they decided (they state
        # it in "checked"); elsewhere the digits of 1/3 or sqrt(2) agree with the copy's
        # rounding, but the instructor's grading compares expressions exactly and refuses
        # them: so here
        undecided = outcome.correct and "checked" not in outcome.evidence
        decimal = long_decimal(candidate, self.given) if undecided else ""
        if decimal:
            return Outcome((Diagnosis.NOT_EQUIVALENT,), method=outcome.method,
                           evidence={"decimal": decimal, "local": True},
                           case=Detail.LONG_DECIMAL)
        return replace(outcome, evidence={**outcome.evidence, "local": True})
