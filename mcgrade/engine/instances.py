"""Concrete instances of a problem: sizes for the dimensions, symbols for the entries,
and sample points.

* Sizes: dimension ``k`` takes its sizes in turn, all dimensions together, so every
  declared size is used and unequal dimensions (non-square matrices) are the rule.
* Symbols: a vector ``x`` (n×1 or 1×n) has entries ``x_1 … x_n`` and a matrix ``W`` has
  ``W_1_1 … W_m_n`` (1-based, as in the paper), each real with the domain's assumptions.
* Sample points: entries on a grid of 1/64, so every float is exactly a small rational and
  an answer can be re-checked in exact arithmetic at the same point. Points stay away from
  kinks, and both sides of every kink are exercised where the domain allows.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from mcgrade.model import Dim, Domain, ProblemSet, SymbolDecl

GRID = 64                 # sample values are multiples of 1/GRID
POINTS = 8                # sample points per size assignment
KINK_MARGIN = 0.05        # |kink argument| below this is too close to a kink


def size_assignments(problem_set: ProblemSet, pinned: Mapping[str, int] | None = None,
                     relevant: frozenset[str] | None = None) -> tuple[dict[str, int], ...]:
    """Each dimension walks through its sizes together with the others (``pinned`` fixes
    some), so the count is the longest list of sizes, not their product. Dimensions not
    ``relevant`` to a problem stay at their first size."""
    pinned = dict(pinned or {})
    dims = problem_set.dimensions
    if not dims:
        return ({},)
    for d in dims:
        if relevant is not None and d.name not in relevant and d.name not in pinned:
            pinned[d.name] = d.sizes[0]
    longest = max((1 if d.name in pinned else len(d.sizes)) for d in dims)
    out = []
    for step in range(longest):
        out.append({d.name: pinned.get(d.name, d.sizes[step % len(d.sizes)]) for d in dims})
    unique = []
    for sizes in out:
        if sizes not in unique:
            unique.append(sizes)
    return tuple(unique)


def resolve(shape: tuple[Dim, Dim] | None, sizes: Mapping[str, int]) -> tuple[int, int]:
    if shape is None:
        return (1, 1)
    return tuple(d if isinstance(d, int) else sizes[d] for d in shape)  # type: ignore[return-value]


def _assumptions(domain: Domain) -> dict[str, bool]:
    if domain.kind == "positive" or (domain.kind == "interval" and (domain.low or 0) > 0):
        return {"positive": True}
    if domain.kind == "nonnegative" or (domain.kind == "interval" and (domain.low or 0) >= 0):
        return {"nonnegative": True}
    if domain.kind == "nonzero":
        return {"real": True, "nonzero": True}
    return {"real": True}


def entry_name(name: str, row: int, col: int, shape: tuple[int, int],
               declared: tuple[Dim, Dim] | None) -> str:
    """The name of one entry's symbol: x_2 for a vector, W_1_2 for a matrix (1-based)."""
    if declared is not None and 1 in declared:
        return f"{name}_{max(row, col) + 1}"
    return f"{name}_{row + 1}_{col + 1}"


def symbol_value(decl: SymbolDecl, sizes: Mapping[str, int], domain: Domain) -> Any:
    """The sympy value of a declared symbol at these sizes: a Symbol or a matrix of them."""
    rows, cols = resolve(decl.shape, sizes)
    return _symbol_value(decl.name, decl.shape, rows, cols, domain)


@functools.lru_cache(maxsize=4096)
def _symbol_value(name: str, declared: tuple[Dim, Dim] | None, rows: int, cols: int,
                  domain: Domain) -> Any:
    # cached: every problem of a set instantiates every symbol at the same few sizes
    assumptions = _assumptions(domain)
    if declared is None:
        return sp.Symbol(name, **assumptions)
    return sp.ImmutableMatrix([[sp.Symbol(entry_name(name, i, j, (rows, cols), declared),
                                          **assumptions) for j in range(cols)]
                               for i in range(rows)])


def structure_substitution(decl: SymbolDecl, value: Any) -> dict[Any, Any]:
    """What a symmetric or diagonal matrix's entries are, for symbolic comparison."""
    if not isinstance(value, sp.MatrixBase):
        return {}
    subs: dict[Any, Any] = {}
    for i in range(value.rows):
        for j in range(value.cols):
            if decl.diagonal and i != j:
                subs[value[i, j]] = sp.Integer(0)
            elif decl.symmetric and i > j:
                subs[value[i, j]] = value[j, i]
    return subs


def _draw(rng: np.random.Generator, domain: Domain, shape: tuple[int, ...]) -> np.ndarray:
    """Values on the 1/GRID grid inside ``domain``, away from 0 unless the domain is an
    interval that asks for it."""
    if domain.kind == "interval":
        low = int(np.ceil((domain.low if domain.low is not None else -2.0) * GRID)) + 1
        high = int(np.floor((domain.high if domain.high is not None else 2.0) * GRID)) - 1
        if high < low:
            low = high = int(round(((domain.low or 0) + (domain.high or 0)) / 2 * GRID))
        return rng.integers(low, high + 1, size=shape) / GRID
    magnitude = rng.integers(GRID // 8, 2 * GRID + GRID // 2, size=shape) / GRID
    if domain.kind in ("positive", "nonnegative"):
        return magnitude
    signed: np.ndarray = magnitude * rng.choice((-1.0, 1.0), size=shape)
    return signed


def draw_symbol(rng: np.random.Generator, decl: SymbolDecl, domain: Domain,
                sizes: Mapping[str, int], count: int) -> np.ndarray:
    """``count`` sample values of one symbol: an array (count, rows, cols)."""
    rows, cols = resolve(decl.shape, sizes)
    values = _draw(rng, domain, (count, rows, cols))
    if decl.diagonal:
        values = values * np.eye(rows)[None]
    if decl.symmetric:
        upper = np.triu(values)
        values = upper + np.swapaxes(np.triu(values, 1), -1, -2)
    if decl.invertible:
        # strictly diagonally dominant with a positive diagonal: invertible, det > 0
        off = np.abs(values).sum(axis=-1) - np.abs(np.diagonal(values, axis1=-2, axis2=-1))
        diagonal = off + rng.integers(GRID // 4, GRID + 1, size=off.shape) / GRID
        index = np.arange(rows)
        values[:, index, index] = diagonal
    return values


def seed_for(*parts: object) -> int:
    """A stable seed from names: grading the same inputs twice gives the same points."""
    return zlib.crc32("\x1f".join(str(p) for p in parts).encode())


@dataclass(frozen=True)
class Samples:
    """``count`` sample points: symbol name → (count, rows, cols) float array."""

    values: Mapping[str, np.ndarray]
    count: int

    def exact_env(self, index: int, env: Mapping[str, Any]) -> dict[str, Any]:
        """Each symbol's exact value at point ``index`` (sample values are dyadic, so the
        float is exactly this rational); symbols already bound to numbers stay so."""
        exact: dict[str, Any] = {}
        for name, symbolic in env.items():
            if isinstance(symbolic, sp.MatrixBase) and not symbolic.free_symbols or (
                    not isinstance(symbolic, sp.MatrixBase) and symbolic.is_number):
                exact[name] = symbolic
                continue
            array = self.values[name][index]
            numbers = [sp.Rational(*Fraction(float(v)).as_integer_ratio()) for v in array.ravel()]
            exact[name] = (numbers[0] if not isinstance(symbolic, sp.MatrixBase)
                           else sp.ImmutableMatrix(array.shape[0], array.shape[1], numbers))
        return exact

    def exact_subs(self, index: int, env: Mapping[str, Any]) -> dict[Any, Any]:
        """{entry symbol: its exact value at point ``index``}, for xreplace."""
        subs: dict[Any, Any] = {}
        for name, exact in self.exact_env(index, env).items():
            symbolic = env[name]
            if isinstance(symbolic, sp.MatrixBase):
                subs.update((s, v) for s, v in zip(symbolic, exact) if isinstance(s, sp.Symbol))
            elif isinstance(symbolic, sp.Symbol):
                subs[symbolic] = exact
        return subs

    def by_symbol(self, env: Mapping[str, Any]) -> dict[sp.Symbol, np.ndarray]:
        """{entry symbol: (count,) array}, for evaluating sympy expressions."""
        table: dict[sp.Symbol, np.ndarray] = {}
        for name, symbolic in env.items():
            array = self.values[name]
            entries = list(symbolic) if isinstance(symbolic, sp.MatrixBase) else [symbolic]
            for index, symbol in enumerate(entries):
                if isinstance(symbol, sp.Symbol) and symbol not in table:
                    table[symbol] = array.reshape(self.count, -1)[:, index]
        return table

    def take(self, chosen: Sequence[int]) -> Samples:
        index = np.asarray(chosen)
        return Samples({k: v[index] for k, v in self.values.items()}, len(index))


def choose_points(kink_values: np.ndarray, wanted: int, rng: np.random.Generator
                  ) -> tuple[list[int], int]:
    """Pick ``wanted`` of the candidate points (rows of ``kink_values``, one column per
    kink argument): none within KINK_MARGIN of a kink, and for each kink a point on each
    side where the candidates have one. Returns the chosen rows and the number of kink
    sides no candidate reached."""
    count = kink_values.shape[0]
    if kink_values.shape[1] == 0:
        return list(range(min(wanted, count))), 0
    clear = np.all(np.abs(kink_values) > KINK_MARGIN, axis=1) & np.all(
        np.isfinite(kink_values), axis=1)
    usable = [i for i in range(count) if clear[i]]
    sides = kink_values > 0
    needed = {(k, side) for k in range(kink_values.shape[1]) for side in (True, False)}
    chosen: list[int] = []
    while needed and len(chosen) < wanted:
        best = max(usable, key=lambda i: sum((k, bool(sides[i, k])) in needed
                                             for k in range(sides.shape[1])), default=None)
        if best is None or not any((k, bool(sides[best, k])) in needed
                                   for k in range(sides.shape[1])):
            break
        chosen.append(best)
        usable.remove(best)
        needed -= {(k, bool(sides[best, k])) for k in range(sides.shape[1])}
    rest = [i for i in usable if i not in chosen]
    rng.shuffle(rest)
    chosen += rest[: max(0, wanted - len(chosen))]
    return chosen, len(needed)
