"""Digests of values: how a student copy checks an answer without holding the answer.

A value (an array at one sample point) is rounded to ``bits`` significant bits, entries
below ``zero`` in magnitude count as 0, and the result is hashed (SHA-256) together with
its shape and a context naming the problem, the sizes and the point. Two values digest
alike exactly when they agree to that precision, and a digest says nothing else: to learn
the value from it one has to guess the value, which is what the local check already lets
a student do with a candidate answer.

Rounding has edges: a value just on either side of a rounding boundary digests apart.
``mcgrade publish`` therefore keeps only points where every reference entry lies well
inside its rounding cell (:func:`clear_of_edges`), and re-evaluates a student's
expression exactly where a float digest disagrees.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Mapping

import numpy as np

VERSION = "mcgrade-check-1"
LENGTH = 16                # hex characters kept of each SHA-256 digest (64 bits)
EDGE = 1e-3                # how close (in rounding cells) to a boundary is too close


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


def quantise(values: np.ndarray, bits: int, zero: float) -> str:
    """The rounded entries as text (the part of a digest that depends on the value)."""
    scaled, exponent = _cells(values, bits, zero)
    words = []
    for cell, power in zip(scaled, exponent):
        if not np.isfinite(cell):
            words.append("nan")
            continue
        whole = int(np.round(cell))
        if abs(whole) == 2 ** bits:          # rounding carried into the next power of two
            whole, power = whole // 2, power + 1
        words.append("0" if whole == 0 else f"{whole}p{int(power)}")
    return " ".join(words)


def value_digest(where: str, values: np.ndarray, bits: int, zero: float) -> str:
    """The digest of one value (a 2-D array) at the point ``where`` names."""
    array = np.asarray(values, dtype=float)
    return _hash(where, "x".join(map(str, array.shape)), quantise(array, bits, zero))


def shape_digest(where: str, shape: tuple[Any, ...]) -> str:
    """The digest of a shape: concrete sizes, or dimension names for a shape problem."""
    return _hash(where, "shape", ",".join(str(d) for d in shape))


def clear_of_edges(values: np.ndarray, bits: int, zero: float) -> bool:
    """Whether float noise in an equivalent answer can't move any entry across a rounding
    boundary or across the zero threshold."""
    flat = np.abs(np.asarray(values, dtype=float).ravel())
    if not np.all(np.isfinite(flat)):
        return False
    near_zero = (flat != 0) & (flat > zero * EDGE) & (flat < zero / EDGE)
    if np.any(near_zero):
        return False
    scaled, _ = _cells(values, bits, zero)
    fraction = np.abs(scaled - np.floor(scaled) - 0.5)
    return bool(np.all(fraction >= EDGE))
