"""Exact digests: a student copy's counterpart of the instructor's exact check.

The instructor's grading compares an expression answer with the reference exactly, mod
p = 2^61 - 1 at secret random points (:mod:`mcgrade.engine.exact`); a copy's float digests
(:mod:`mcgrade.engine.digest`) can't see a difference below their rounding grid
(``2*x.T + x.T/10**9`` for ``2*x.T``). So ``mcgrade publish`` also evaluates a rational
reference mod p at ``POINTS`` points per stored size, drawn from a *public* seed (the
problem, the sizes and the point's index: never the grading seed, which has the set's key
and the answer's text; not the title either, which a student may retouch), and stores a
digest of each value; the local
check redraws the same points, evaluates the answer there mod p and compares digests.

What it reveals: nothing usable. The points are public random residues, and the digest
is a hash of the reference's residues there: it can only be matched by evaluating a guess
at that point, which is what the local check already lets a student do; a residue of a
rational function at one random point says nothing readable about the expression.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from mcgrade.engine.arithmetic import MODP, Arithmetic, NotExact, Value, evaluate_tree
from mcgrade.engine.candidates import ExpressionCandidate
from mcgrade.engine.exact import (
    Finding,
    decimal_evidence,
    evaluate_side,
    mod_p_env,
    reference_side,
)
from mcgrade.engine.reference import Instance, Reference
from mcgrade.errors import ExpressionError
from mcgrade.model import StoredInstance

VERSION = "mcgrade-exact-digest-1"
POINTS = 2                 # mod-p points per stored size: a false match is below 2^-40
LENGTH = 16                # hex characters kept of each SHA-256 digest (64 bits)
PROOF = "exact arithmetic (mod p) at a stored point"
FAILURES = (NotExact, TypeError, ValueError, KeyError, IndexError, ZeroDivisionError,
            OverflowError, RecursionError, ExpressionError)
"""What evaluating at a public point may raise: no digest there (the floats decide)."""


def _sizes_text(sizes: Mapping[str, int]) -> str:
    return ",".join(f"{k}={sizes[k]}" for k in sorted(sizes))


def _env(reference: Reference, sizes: Mapping[str, int], point: int) -> dict[str, Value]:
    """The public point: both sides draw it alike from the set's declarations."""
    seed = int.from_bytes(hashlib.sha256("\x1f".join(
        (VERSION, reference.problem.id, _sizes_text(sizes), str(point))).encode()
        ).digest()[:8], "big")
    return mod_p_env(reference, sizes, None, np.random.default_rng(seed))


def _digest(reference: Reference, sizes: Mapping[str, int], point: int, value: Value) -> str:
    entries = ",".join(str(int(e)) for e in value.entries)
    return hashlib.sha256("\x1f".join(
        (VERSION, reference.problem.id, _sizes_text(sizes), str(point),
         f"{value.rows}x{value.cols}", entries)).encode()).hexdigest()[:LENGTH]


def reference_digests(reference: Reference, instance: Instance) -> list[str]:
    """For ``mcgrade publish``: the digests of the reference mod p at the public points
    of ``instance``, or [] where it can't be evaluated mod p (a transcendental or kinked
    reference, a shape problem, a point an `at` binds, a function answer)."""
    problem = reference.problem
    if problem.kind == "shape" or problem.at or problem.form == "function":
        return []
    side = reference_side(reference)
    digests = []
    for point in range(POINTS):
        try:
            env = _env(reference, instance.sizes, point)
            value = evaluate_side(side, MODP, env, instance.sizes, instance)
            digests.append(_digest(reference, instance.sizes, point, value))
        except FAILURES:
            return []            # a singular point is redrawn by neither side: no digests
    return digests


def answer_value(candidate: ExpressionCandidate, instance: Instance,
                 env: Mapping[str, Value], arithmetic: Arithmetic) -> Value | None:
    """An expression answer at a copy's public point, or None where it can't be evaluated
    there, or only broadcast to the shape (the float digests decide, as grading's do)."""
    try:
        value = evaluate_tree(candidate.expression, arithmetic, env, instance.sizes)
    except FAILURES:
        return None
    return value if candidate.shape_at(instance) == (value.rows, value.cols) else None


def compare(reference: Reference, candidate: ExpressionCandidate,
            stored: Callable[[StoredInstance], Sequence[str]],
            answer_digest: Callable[[Instance, int], str | None], proof: str,
            agreeing: Callable[[int], Finding]) -> Finding | None:
    """An answer's digests against a copy's ``stored`` ones, size by size and point by
    point: ``differ`` at the first that differs; ``agreeing(K)`` if all K agree and every
    size had digests; else None (undecided: the float digests decide)."""
    checks = reference.problem.checks
    if checks is None:
        return None
    agreed, complete = 0, True
    for instance, kept in zip(reference.instances, checks.instances):
        complete = complete and bool(stored(kept))
        for point, digest in enumerate(stored(kept)):
            found = answer_digest(instance, point)
            if found is None:
                complete = False
            elif found != digest:
                return Finding("differ", evidence={
                    "checked": proof, "sizes": dict(instance.sizes),
                    **decimal_evidence(candidate)})
            else:
                agreed += 1
    return agreeing(agreed) if complete and agreed else None


def settle(reference: Reference, candidate: Any) -> Finding | None:
    """Decide an expression answer against a student copy's exact digests: ``differ``
    if it digests otherwise at some point, ``agree`` if it matches at every point of
    every size, else None (no digests, or mod p can't evaluate the answer: the float
    digests decide, as before)."""
    if not isinstance(candidate, ExpressionCandidate):
        return None

    def answer_digest(instance: Instance, point: int) -> str | None:
        try:
            env = _env(reference, instance.sizes, point)
        except FAILURES:
            return None
        value = answer_value(candidate, instance, env, MODP)
        return None if value is None else _digest(reference, instance.sizes, point, value)

    return compare(reference, candidate, lambda s: s.exact, answer_digest, PROOF,
                   lambda agreed: Finding("agree", agreed, {"points": agreed, "checked": (
                       f"exact at {agreed} stored points, mod p (false-accept chance below "
                       f"2^-{agreed}); the instructor's grading checks again at other "
                       "points")}))
