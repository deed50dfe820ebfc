"""Digests of values: how a student copy checks an answer without holding the answer.

A value (an array at one sample point) is rounded to ``bits`` significant bits, entries
below ``zero`` in magnitude count as 0, and the result is hashed (SHA-256) together with
its shape and a context naming the problem, the sizes and the point. Two values digest
alike exactly when they agree to that precision, and a digest says nothing else: to learn
the value from it one has to guess the value, which is what the local check already lets
a student do with a candidate answer.

Rounding has edges: a value just on either side of a rounding boundary digests apart. So
each entry is rounded on one of two grids, the second offset by half a cell, whichever
keeps the reference's entry at least a quarter of a cell from its edges (``grid_for``;
``mcgrade publish`` stores the choice, one bit per entry, and keeps only points where
every entry has such a grid and none is near the zero threshold). An equivalent answer
then digests alike unless it is off by a quarter of a cell — about the set's tolerance —
and a student's expression is re-evaluated exactly where a float digest disagrees.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

VERSION = "mcgrade-check-1"
LENGTH = 16                # hex characters kept of each SHA-256 digest (64 bits)
EDGE = 1e-3                # how close (relative) to the zero threshold is too close


def bits_for(rtol: float) -> int:
    """Significant bits that match a relative tolerance: 1e-6 → 19 (≈ 2e-6)."""
    if rtol <= 0:
        return 40
    return max(8, min(40, math.floor(math.log2(1 / rtol))))


def context(problem_id: str, sizes: Mapping[str, int], point: int) -> str:
    """What a digest is about: the same value at another point digests differently."""
    return "\x1f".join((VERSION, problem_id, ",".join(f"{k}={sizes[k]}" for k in sorted(sizes)),
                        str(point)))


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()[:LENGTH]


def _cells(values: np.ndarray, bits: int, zero: float) -> tuple[np.ndarray, np.ndarray]:
    """Each entry as (scaled mantissa, exponent): value = mantissa · 2**(exponent − bits)."""
    flat = np.asarray(values, dtype=float).ravel()
    mantissa, exponent = np.frexp(np.where(np.abs(flat) < zero, 0.0, flat))
    return mantissa * 2.0 ** bits, exponent


def _word(cell: float, power: int, bits: int, offset: float) -> str:
    """One entry rounded on the grid shifted by ``offset`` cells (0 or ½)."""
    if not np.isfinite(cell):
        return "nan"
    whole = int(np.round(cell - offset))
    if abs(whole) == 2 ** bits:          # rounding carried into the next power of two
        whole, power = whole // 2, power + 1
    return "0" if whole == 0 else f"{whole}p{int(power)}"


def _offsets(grid: str, count: int) -> list[float]:
    """The grid of each entry from its hex mask (bit i set: entry i on the offset grid);
    an empty mask (a copy published before grids) puts every entry on the first."""
    mask = int(grid, 16) if grid else 0
    return [0.5 if mask >> i & 1 else 0.0 for i in range(count)]


def quantise(values: np.ndarray, bits: int, zero: float, grid: str = "") -> str:
    """The rounded entries as text (the part of a digest that depends on the value)."""
    scaled, exponent = _cells(values, bits, zero)
    return " ".join(_word(float(cell), int(power), bits, offset) for cell, power, offset
                    in zip(scaled, exponent, _offsets(grid, len(scaled))))


def value_digest(where: str, values: np.ndarray, bits: int, zero: float,
                 grid: str = "") -> str:
    """The digest of one value (a 2-D array) at the point ``where`` names, each entry
    rounded on the grid ``grid`` names for it."""
    array = np.asarray(values, dtype=float)
    return _hash(where, "x".join(map(str, array.shape)), quantise(array, bits, zero, grid))


def shape_digest(where: str, shape: tuple[Any, ...]) -> str:
    """The digest of a shape: concrete sizes, or dimension names for a shape problem."""
    return _hash(where, "shape", ",".join(str(d) for d in shape))


def grid_for(values: np.ndarray, bits: int, zero: float) -> str | None:
    """The grids (a hex mask, as ``quantise`` reads it) on which every entry of the
    reference's value stays in its cell when moved by 2^-(bits+2) of itself either way
    (an eighth to a quarter of a cell: one of the two grids always allows it); None
    if some entry has no such grid, or lies near the zero threshold (an answer's float
    noise could carry it across)."""
    flat = np.asarray(values, dtype=float).ravel()
    size = np.abs(flat)
    if not np.all(np.isfinite(flat)):
        return None
    if np.any((size != 0) & (size > zero * EDGE) & (size < zero / EDGE)):
        return None
    quarter = 2.0 ** -(bits + 2)         # a quarter cell, relative, at the smallest cells
    moved = [_cells(flat * (1 + s * quarter), bits, zero) for s in (-1, 0, 1)]
    mask = 0
    for i in range(flat.size):
        words = [{_word(float(c[i]), int(p[i]), bits, o) for c, p in moved} for o in (0.0, 0.5)]
        if len(words[0]) == 1:
            continue
        if len(words[1]) != 1:
            return None
        mask |= 1 << i
    return f"{mask:x}" if mask else ""
