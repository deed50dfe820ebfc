"""The typed tree's value types: nodes with shapes, scopes, and deferred size checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mcgrade.model import Dim

SCALAR: tuple[Dim, Dim] = (1, 1)


@dataclass(frozen=True, eq=False)   # identity: a long chain must not be compared deeply
class Node:
    """A typed node: ``op`` names the operation, ``args`` its operands, ``shape`` its shape.

    ``value`` holds what an op needs besides operands: the Fraction of a number, a symbol's
    or function's name, the indices of an ``index``, the comparison of a condition.
    """

    op: str
    args: tuple[Node, ...] = ()
    shape: tuple[Dim, Dim] = SCALAR
    value: object = None


@dataclass(frozen=True)
class SizeCheck:
    """Two sides that must be equal once dimensions have sizes, and what to say if not."""

    left: Dim
    right: Dim
    message: str


@dataclass(frozen=True)
class IndexCheck:
    """An index into a side whose size is a dimension name: checked at instantiation."""

    size: Dim
    index: int
    message: str


@dataclass(frozen=True)
class Scope:
    """What names mean: symbol → shape (scalars (1, 1)), and the dimension names."""

    symbols: Mapping[str, tuple[Dim, Dim]]
    dimensions: frozenset[str] = frozenset()



def show_shape(shape: tuple[Dim, ...]) -> str:
    """``(n, 1)`` → ``n×1``; the scalar shape reads 'a scalar'."""
    if tuple(shape) == SCALAR:
        return "a scalar"
    return "×".join(str(d) for d in shape)


