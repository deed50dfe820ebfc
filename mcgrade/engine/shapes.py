"""Checking ``shape`` problems: the answer is the shape of a derivative, not its value.

A shape written with dimension names (``(m, n)``) must match at every size; one written
with numbers (``(3, 2)``) must match the shape at one of the declared sizes, since numbers
can only describe one instance.
"""

from __future__ import annotations

from mcgrade.engine.answers import Outcome
from mcgrade.model import Dim
from mcgrade.engine.reference import Reference


def _resolve(shape: tuple[Dim, ...], sizes: dict[str, int]) -> tuple[int, ...]:
    return tuple(d if isinstance(d, int) else sizes[d] for d in shape)


def check_shape(reference: Reference, given: tuple[Dim, ...]) -> Outcome:
    """Compare a given shape with the reference shape at every instance."""
    expected = [(i, i.shape) for i in reference.instances]
    evidence = {"expected_shape": list(reference.shape), "given_shape": list(given)}
    if len(given) == 1:
        return Outcome(("flat-array",), evidence=evidence, detail="shape-of-1d")
    if len(given) != 2:
        return Outcome(("wrong-shape",), evidence=evidence)
    symbolic = any(isinstance(d, str) for d in given)
    matches = [_resolve(given, dict(i.sizes)) == shape for i, shape in expected]
    swapped = [_resolve(given[::-1], dict(i.sizes)) == shape for i, shape in expected]
    if (all(matches) if symbolic else any(matches)):
        return Outcome((), method="symbolic" if symbolic else "numeric", evidence=evidence)
    if (all(swapped) if symbolic else any(swapped)):
        return Outcome(("transposed",), evidence=evidence)
    return Outcome(("wrong-shape",), evidence=evidence)
