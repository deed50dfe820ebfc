"""Shapes: how an answer's shape relates to the reference's, and ``shape`` problems.

Both ask the oracle only "is the reference's shape this one?", so a student copy (which
holds digests of shapes) decides them as the instructor's set does.

In a ``shape`` problem the answer is the shape of a derivative, not its value. A shape
written with dimension names (``(m, n)``) must match at every size; one written with
numbers (``(3, 2)``) must match the shape at one of the declared sizes, since numbers can
only describe one instance.
"""

from __future__ import annotations

from mcgrade.engine.answers import Outcome
from mcgrade.engine.conventions import Detail, Relation
from mcgrade.engine.diagnosis import ReferenceOracle
from mcgrade.engine.reference import Instance, Reference
from mcgrade.model import Diagnosis, Dim


def _possible(given: tuple[int, ...]) -> list[tuple[Relation, tuple[int, int]]]:
    """The relations an answer of this shape may have, each with the reference's shape it
    implies, in order of preference."""
    if len(given) == 1:
        (length,) = given
        found = [(Relation.FLAT, (length, 1)), (Relation.FLAT, (1, length))]
        if length > 1:
            found.append((Relation.VECTOR_FOR_MATRIX, (length, length)))
        return found
    if len(given) != 2:
        return []
    rows, cols = given
    found = [(Relation.SAME, (rows, cols)), (Relation.TRANSPOSED, (cols, rows))]
    if 1 in given and max(given) > 1:
        found.append((Relation.VECTOR_FOR_MATRIX, (max(given), max(given))))
    if rows == cols:
        found += [(Relation.MATRIX_FOR_VECTOR, (rows, 1)), (Relation.MATRIX_FOR_VECTOR,
                                                            (1, rows))]
    return found


def relation(oracle: ReferenceOracle, instance: Instance, given: tuple[int, ...]
             ) -> tuple[Relation, tuple[int, int] | None]:
    """How ``given`` relates to the reference's shape at ``instance``, and that shape
    (None where it is none of the related ones)."""
    for related, shape in _possible(given):
        if oracle.shape_is(instance, shape):
            return related, shape
    return Relation.WRONG, None


def _resolve(shape: tuple[Dim, ...], sizes: dict[str, int]) -> tuple[int, ...]:
    return tuple(d if isinstance(d, int) else sizes[d] for d in shape)


def check_shape(reference: Reference, given: tuple[Dim, ...], oracle: ReferenceOracle
                ) -> Outcome:
    """Compare a given shape with the reference shape at every instance."""
    evidence = {**oracle.shape_evidence(reference.shape), "given_shape": list(given)}
    if len(given) == 1:
        return Outcome((Diagnosis.FLAT_ARRAY,), evidence=evidence, case=Detail.SHAPE_OF_1D)
    if len(given) != 2:
        return Outcome((Diagnosis.WRONG_SHAPE,), evidence=evidence)
    symbolic = any(isinstance(d, str) for d in given)

    def fits(shape: tuple[Dim, ...]) -> bool:
        hits = [oracle.shape_is(i, _resolve(shape, dict(i.sizes))) for i in reference.instances]
        return all(hits) if symbolic else any(hits)

    if fits(given):
        return Outcome((), method="symbolic" if symbolic else "numeric", evidence=evidence)
    if fits(given[::-1]):
        return Outcome((Diagnosis.TRANSPOSED,), evidence=evidence)
    return Outcome((Diagnosis.WRONG_SHAPE,), evidence=evidence)
