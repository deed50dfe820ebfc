"""Ball digests: the local check's counterpart of grading's certified balls.

Where the reference is transcendental or kinked (exp, sigmoid, Heaviside, Piecewise), mod p
can't evaluate it and a copy has no exact digests (:mod:`mcgrade.engine.exact_digest`),
yet the instructor's grading rejects any difference certified balls show (at 200 bits):
``diag(exp(x)) + eye(n)/10**12`` passes the float digests and fails grading. So
``mcgrade publish`` also evaluates the reference in certified balls (``BALL``, at
``BALL_PRECISION`` bits) at ``POINTS`` public rational points per stored size, and stores
a digest of each entry's *cell*: its value rounded on a grid of ``2^-BITS`` relative cells
(about 1e-30 of the value, absolute below 2: a float's error is 1e14 cells, a ball's radius
at 200 bits about 2^-90 of one).

As for the float digests (:mod:`mcgrade.engine.digest`), each entry is rounded on one of
two grids, the second offset by half a cell, the one where the reference's ball lies an
eighth of a cell or more from the cell's edges (the choice is stored, one bit per entry).
The local check evaluates an answer in balls at the same points and takes each entry's
cell on the stored grid: a ball that straddles a cell edge leaves the check to the floats;
a different digest proves the answer differs from the reference (by an eighth of a cell at
least: a certified difference, which grading rejects too); equal digests at every point
bound the difference there, and prove nothing elsewhere: the method stays numeric.

The points are public: dyadic rationals drawn as grading's sample points are, inside each
symbol's domain, from a seed of the problem, the sizes, the point's index and the tag
"ball" (never the grading seed, nor the title a student may retouch). A point where the
reference can't be evaluated (a ball straddling a kink, log of a non-positive number)
leaves that size without ball digests: neither side redraws, so both agree on the points.

What it reveals: nothing usable. A digest is a hash of the reference's 30-digit cells at a
public point: it can only be matched by evaluating a guess there, which is what the local
check already lets a student do, and it says no digit of the value itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from mcgrade.engine import instances
from mcgrade.engine.arithmetic import BALL, NotExact, Value, ball_precision
from mcgrade.engine.candidates import ExpressionCandidate
from mcgrade.engine.exact import Finding, evaluate_side, reference_side, sample_value
from mcgrade.engine.exact_digest import FAILURES, answer_value, compare
from mcgrade.engine.reference import Instance, Reference

VERSION = "mcgrade-ball-digest-1"
POINTS = 2                 # public points per stored size
LENGTH = 16                # hex characters kept of each SHA-256 digest (64 bits)
BITS = 102                 # a cell is 2^-BITS of the entry's binade: ≤ 1e-30 of it
NARROW = 2 ** -20          # a reference's ball at most this many cells wide gets a digest
PROOF = "certified interval arithmetic at a stored point"

def _sizes_text(sizes: Mapping[str, int]) -> str:
    return ",".join(f"{k}={sizes[k]}" for k in sorted(sizes))


def _env(reference: Reference, sizes: Mapping[str, int], point: int) -> dict[str, Value]:
    """The public point, in balls: both sides draw it alike from the set's declarations and
    the problem's domains (a copy keeps both)."""
    seed = int.from_bytes(hashlib.sha256("\x1f".join(
        (VERSION, "ball", reference.problem.id, _sizes_text(sizes), str(point))).encode()
        ).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    domains = dict(reference.problem.domains)
    return {d.name: sample_value(instances.draw_symbol(
        rng, d, domains.get(d.name, d.domain), sizes, 1)[0], BALL)
        for d in reference.declarations}


def _cell(size: Fraction) -> Fraction:
    """The cell width at ``size`` ≥ 0: 2^-BITS of its binade [2^(e-1), 2^e), e ≥ 1."""
    e = max(size.numerator.bit_length() - size.denominator.bit_length() + 1, 1)
    while e > 1 and Fraction(2) ** (e - 1) > size:      # the bit lengths overshoot by ≤ 1
        e -= 1
    return Fraction(2) ** (e - BITS)


def _rounded(v: Fraction, offset: Fraction) -> Fraction:
    """``v`` rounded to its cell's centre on the grid shifted by ``offset`` cells.
    Monotone in v (also across binades), so a ball whose ends round alike rounds alike
    throughout."""
    size = abs(v)
    cell = _cell(size)
    whole = (size / cell - offset + Fraction(1, 2)).__floor__()
    return (1 if v > 0 else -1 if v < 0 else 0) * cell * (whole + offset)


def _ends(entry: Any) -> tuple[Fraction, Fraction] | None:
    """A ball's exact ends (its midpoint and radius are dyadic), None if not finite."""
    if not entry.is_finite():
        return None
    man, exp = entry.mid().man_exp()
    rad_man, rad_exp = entry.rad().mid().man_exp()
    mid, rad = Fraction(int(man)) * Fraction(2) ** int(exp), \
        Fraction(int(rad_man)) * Fraction(2) ** int(rad_exp)
    return mid - rad, mid + rad


def _offsets(grid: str, count: int) -> list[Fraction]:
    mask = int(grid, 16) if grid else 0
    return [Fraction(1, 2) if mask >> i & 1 else Fraction(0) for i in range(count)]


def _digest(reference: Reference, sizes: Mapping[str, int], point: int, rows: int,
            cols: int, words: list[Fraction]) -> str:
    return hashlib.sha256("\x1f".join(
        (VERSION, reference.problem.id, _sizes_text(sizes), str(point), f"{rows}x{cols}",
         " ".join(map(str, words)))).encode()).hexdigest()[:LENGTH]


def _reference_point(reference: Reference, instance: Instance, point: int
                     ) -> tuple[str, str] | None:
    """The digest and grid mask of the reference at one public point, or None (not
    evaluable there, a ball too wide, or an entry near a cell edge on both grids)."""
    env = _env(reference, instance.sizes, point)
    side = reference_side(reference)
    try:
        value = evaluate_side(side, BALL, env, instance.sizes, instance)
    except NotExact:
        if side.forward is None:
            raise
        # a sympy value may name Heaviside's value at 0 (relu's derivative), which the
        # walk refuses even off the kink: forward mode builds the same derivative
        value = side.forward(BALL, env, instance.sizes)
    words, mask = [], 0
    for i, entry in enumerate(value.entries):
        ends = _ends(entry)
        if ends is None:
            return None
        lo, hi = ends
        cell = _cell(max(abs(lo), abs(hi)))
        if hi - lo > cell * NARROW:
            return None
        margin = cell / 8         # an eighth of its cell: a quarter of a smaller binade's
        for bit, offset in enumerate((Fraction(0), Fraction(1, 2))):
            word = _rounded(lo - margin, offset)
            if word == _rounded(hi + margin, offset):
                words.append(word)
                mask |= bit << i
                break
        else:
            return None
    return (_digest(reference, instance.sizes, point, value.rows, value.cols, words),
            f"{mask:x}" if mask else "")


def reference_digests(reference: Reference, instance: Instance) -> tuple[list[str], list[str]]:
    """For ``mcgrade publish``: the ball digests of the reference at the public points of
    ``instance`` and the grid mask of each, or ([], []) where some point has none (a
    shape problem, a point an `at` binds, whose number a copy holds only as a float, a
    function answer, a kink at a point)."""
    problem = reference.problem
    if problem.kind == "shape" or problem.at or problem.form == "function":
        return [], []
    digests, grids = [], []
    with ball_precision():      # python-flint's precision is global: hold it throughout
        for point in range(POINTS):
            try:
                found = _reference_point(reference, instance, point)
            except FAILURES:
                found = None
            if found is None:
                return [], []      # never redrawn: the local check meets the same points
            digests.append(found[0])
            grids.append(found[1])
    return digests, grids


def settle(reference: Reference, candidate: Any) -> Finding | None:
    """Decide an expression answer against a copy's ball digests: ``differ`` if it
    digests otherwise at some point (a certified difference), ``close`` with the bound
    if it matches at every stored point, else None (no ball digests, or a ball of the
    answer straddles a cell edge: the float digests decide, as before)."""
    checks = reference.problem.checks
    if checks is None or not isinstance(candidate, ExpressionCandidate):
        return None
    grids = {id(i): s.ball_grids for i, s in zip(reference.instances, checks.instances)}

    def answer_digest(instance: Instance, point: int) -> str | None:
        kept = grids[id(instance)]
        return _answer_digest(reference, candidate, instance, point,
                              kept[point] if point < len(kept) else "")

    with ball_precision():
        return compare(reference, candidate, lambda s: s.ball, answer_digest, PROOF,
                       lambda agreed: Finding("close", agreed, {"points": agreed, "checked": (
                           f"within 1e-30 (relative; absolute below 1) of the expected "
                           f"values at {agreed} stored points, in certified interval "
                           "arithmetic")}))


def _answer_digest(reference: Reference, candidate: ExpressionCandidate, instance: Instance,
                   point: int, grid: str) -> str | None:
    try:
        env = _env(reference, instance.sizes, point)
    except FAILURES:
        return None
    value = answer_value(candidate, instance, env, BALL)
    if value is None:
        return None
    words = []
    for entry, offset in zip(value.entries, _offsets(grid, len(value.entries))):
        ends = _ends(entry)
        if ends is None:
            return None
        word = _rounded(ends[0], offset)
        if word != _rounded(ends[1], offset):
            return None       # straddles a cell edge: undecided
        words.append(word)
    return _digest(reference, instance.sizes, point, value.rows, value.cols, words)
