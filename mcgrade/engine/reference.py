"""References: what each problem's answer must be, at every size, as the engine holds them.

An ``Instance`` is one problem at one size assignment (its sample points, the reference's
values there, its exact value where one was built); a ``Reference`` is a problem's
instances with its author's mistakes; a ``CompiledSet`` is every problem's. They are
built by ``mcgrade.engine.compiler`` (``compile_problem_set``), once per set.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from mcgrade.engine import conventions, instances
from mcgrade.expressions import Expression, Scope
from mcgrade.model import Dim, Mistake, Problem, ProblemSet, SymbolDecl


class Deferred:
    """The symbolic part of an instance (its sympy value and kink arguments), computed on
    first use: an instance read from the compile cache has its values at the sample
    points, and builds the sympy value only if a proof or an exact check asks for it."""

    def __init__(self, compute: Callable[[], tuple[Any, tuple[Any, ...]]]) -> None:
        self._compute: Callable[[], tuple[Any, tuple[Any, ...]]] | None = compute
        self._result: tuple[Any, tuple[Any, ...]] = (None, ())

    def get(self) -> tuple[Any, tuple[Any, ...]]:
        if self._compute is not None:
            self._result, self._compute = self._compute(), None
        return self._result


@dataclass(frozen=True)
class Instance:
    """One problem at one size assignment."""

    sizes: Mapping[str, int]
    env: Mapping[str, Any]            # symbol → sympy value, `at` symbols bound to numbers
    symbolic: Any                     # the reference (sympy), or a Deferred; None for shape
                                      # problems and where it was not built (``forward``)
    shape: tuple[int, int]
    samples: instances.Samples        # symbol → (K, rows, cols); `at` symbols fixed
    expected: np.ndarray | None       # the reference at the samples, (K, rows, cols)
    structure: Mapping[Any, Any]      # symmetric/diagonal entries, for symbolic checks
    kink_terms: Any                   # kink arguments (sympy), for branch diagnoses (or
                                      # the Deferred above)
    kink_values: np.ndarray           # (K, len(kinks))
    unreached_sides: int              # kink sides no sample point reached
    declared_shapes: Mapping[str, tuple[Dim, Dim]]   # symbol → declared shape
    branches: Mapping[str, np.ndarray]   # "positive"/"negative": the reference with every
                                          # kink on that side, at the samples
    forward: bool = False             # values by forward-mode differentiation: no sympy
                                      # value at this size, so no proof, no exact rational
                                      # difference, no branch diagnosis here

    @functools.cached_property
    def entries(self) -> dict[str, tuple[Any, ...]]:
        """Each symbol's sympy value as its entries, row by row, and whether it is a
        number (an `at` binding): read at every exact point, so worked out once."""
        return {name: tuple(v) if isinstance(v, sp.MatrixBase) else (v,)
                for name, v in self.env.items()}

    @functools.cached_property
    def numbers(self) -> frozenset[str]:
        """The symbols an `at` binds to numbers here."""
        return frozenset(name for name, entries in self.entries.items()
                         if all(getattr(e, "is_number", False) for e in entries))

    @property
    def value(self) -> Any:
        """The reference's exact (sympy) value, or None."""
        if isinstance(self.symbolic, Deferred):
            return self.symbolic.get()[0]
        return self.symbolic

    @property
    def kinks(self) -> tuple[Any, ...]:
        if isinstance(self.kink_terms, Deferred):
            return self.kink_terms.get()[1]
        found: tuple[Any, ...] = self.kink_terms
        return found


@dataclass(frozen=True)
class Reference:
    problem: Problem
    shape: tuple[Dim, Dim]            # symbolic shape of the answer
    arrangement: conventions.Arrangement | None
    instances: tuple[Instance, ...]
    mistakes: tuple[tuple[Mistake, Expression], ...]
    mistake_values: tuple[tuple[np.ndarray, ...], ...]   # [mistake][instance] → (K, r, c)
    symbols: frozenset[str]           # the symbols the problem is about
    declarations: tuple[SymbolDecl, ...] = ()   # the set's symbols, for exact checks
    set_key: str = ""                 # the set's title: seeds the exact check's points
    source: Expression | None = None  # `of` (or `answer`) compiled: evaluated at any size


@dataclass(frozen=True)
class CompiledSet:
    problem_set: ProblemSet
    scope: Scope
    references: Mapping[str, Reference]
