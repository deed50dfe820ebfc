"""Candidates: an answer in a form the pipeline can evaluate at each instance.

    shape_at(instance)   its shape there, or None where it does not apply
    values_at(instance)  its values at the instance's sample points: (K, *shape)
    exact_at(instance)   its exact sympy value there, or None (fixed numbers have none)
    exact_cost(instance) a bound on the work of building that, known before building it

Four kinds: an expression string (typed in the set's scope), fixed numbers, a sympy value
from the submission, and a function's values at the sample points. Expressions and sympy
values written with MatrixSymbols apply at every size; fixed numbers, explicit entries
(x_1, x_2, …) and sampled functions only where their shape fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from mcgrade.engine import numeric
from mcgrade.engine.budget import Work
from mcgrade.engine.instances import entry_name
from mcgrade.engine.reference import Instance
from mcgrade.engine.symbolic import nodes
from mcgrade.errors import ExpressionError
from mcgrade.expressions import Expression, concrete
from mcgrade.expressions.sympy_backend import determinant, inverse


class Candidate:
    applies_everywhere = True      # False: only instances whose shape fits are compared
    fixed_numbers = False          # True: the same numbers at every point

    symbols: frozenset[str] = frozenset()

    def shape_at(self, instance: Instance) -> tuple[int, ...] | None:
        raise NotImplementedError

    def values_at(self, instance: Instance, dtype: type = np.float64) -> np.ndarray:
        raise NotImplementedError

    def exact_at(self, instance: Instance) -> Any:
        return None

    def exact_value(self, instance: Instance, point: int) -> Any:
        """The exact value at one sample point (rationals in, rationals out)."""
        value = self.exact_at(instance)
        return None if value is None else value.xreplace(instance.samples.exact_subs(
            point, instance.env))

    def exact_cost(self, instance: Instance, point: int | None = None) -> int:
        """An upper bound, in expression-tree nodes, on the work of ``exact_at(instance)``
        (``point`` None) or ``exact_value(instance, point)``. Here: the value was built
        already (``shape_at`` needs it), and substituting a point walks it once."""
        value = None if point is None else self.exact_at(instance)
        return 0 if value is None else nodes(value)


@dataclass(frozen=True, eq=False)
class ExpressionCandidate(Candidate):
    expression: Expression

    @property
    def symbols(self) -> frozenset[str]:  # type: ignore[override]
        return self.expression.symbols

    def shape_at(self, instance: Instance) -> tuple[int, ...]:
        self.expression.check_sizes(instance.sizes)
        return concrete(self.expression.shape, instance.sizes)

    def values_at(self, instance: Instance, dtype: type = np.float64) -> np.ndarray:
        return self.expression.to_numpy(instance.samples.values, instance.sizes,
                                        instance.samples.count, dtype)

    def exact_at(self, instance: Instance) -> Any:
        return self.expression.to_sympy(instance.env, instance.sizes)

    def exact_value(self, instance: Instance, point: int) -> Any:
        # numbers straight through the tree: faster than building the symbolic value
        return self.expression.to_sympy(instance.samples.exact_env(point, instance.env),
                                        instance.sizes)

    def exact_cost(self, instance: Instance, point: int | None = None) -> int:
        env = instance.env if point is None else instance.samples.exact_env(point,
                                                                             instance.env)
        return self.expression.exact_cost(env, instance.sizes)


def exact_floats(candidate: Candidate, instance: Instance, point: int, work: Work
                 ) -> np.ndarray | None:
    """The candidate's exact value at one sample point as floats, entry by entry
    (transcendental ones to 30 digits; NaN where not real), paid for from ``work``
    before each step; None where it has no exact value."""
    work.spend(candidate.exact_cost(instance, point))
    value = candidate.exact_value(instance, point)
    if value is None:
        return None
    work.spend(nodes(value, work.left))
    entries = list(value) if isinstance(value, sp.MatrixBase) else [value]
    numbers = [sp.N(e, 30) for e in entries]
    return np.array([float(n) if n.is_real else np.nan for n in numbers], dtype=float)


@dataclass(frozen=True, eq=False)
class NumbersCandidate(Candidate):
    array: np.ndarray              # 1-D or 2-D
    applies_everywhere = False
    fixed_numbers = True

    def shape_at(self, instance: Instance) -> tuple[int, ...]:
        return tuple(self.array.shape)

    def values_at(self, instance: Instance, dtype: type = np.float64) -> np.ndarray:
        return np.broadcast_to(self.array, (instance.samples.count, *self.array.shape))


@dataclass(frozen=True, eq=False)
class FunctionCandidate(Candidate):
    """A function's results, one per sample point of each instance, in instance order."""

    results: tuple[np.ndarray, ...]   # each 2-D
    points_per_instance: int
    instance_order: tuple[int, ...]   # id() of each instance, in the order calls were made
    applies_everywhere = True

    def _slice(self, instance: Instance) -> tuple[np.ndarray, ...]:
        start = self.instance_order.index(id(instance)) * self.points_per_instance
        return self.results[start:start + self.points_per_instance]

    def shape_at(self, instance: Instance) -> tuple[int, ...]:
        shapes = {r.shape for r in self._slice(instance)}
        if len(shapes) != 1:
            raise ExpressionError("your function returned values of different shapes: "
                                  + ", ".join("×".join(map(str, s)) for s in sorted(shapes)))
        return shapes.pop()

    def values_at(self, instance: Instance, dtype: type = np.float64) -> np.ndarray:
        return np.stack(self._slice(instance)).astype(dtype)


@dataclass(frozen=True, eq=False)
class SympyCandidate(Candidate):
    """A sympy value from the submission, matched to the problem set's symbols by name:
    MatrixSymbols by their declared names (``MatrixSymbol('x', n, 1)``), scalars by name,
    and explicit entries as x_1 … x_n, W_1_1 … W_m_n (1-based, as in the paper)."""

    value: Any
    flat: bool = False        # it came as a 1-D array: its shape is (n,), its text a column
    _cache: dict[int, Any] = field(default_factory=dict, repr=False)

    @property
    def applies_everywhere(self) -> bool:  # type: ignore[override]
        return bool(self.value.atoms(sp.MatrixSymbol))

    @property
    def symbols(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset(m.name for m in self.value.atoms(sp.MatrixSymbol))

    def exact_at(self, instance: Instance) -> Any:
        key = id(instance)
        if key not in self._cache:
            self._cache[key] = _instantiate(self.value, instance)
        return self._cache[key]

    def shape_at(self, instance: Instance) -> tuple[int, ...] | None:
        value = self.exact_at(instance)
        if value is None:
            return None
        if not isinstance(value, sp.MatrixBase):
            return (1,) if self.flat else (1, 1)
        return (value.rows * value.cols,) if self.flat else value.shape

    def values_at(self, instance: Instance, dtype: type = np.float64) -> np.ndarray:
        value = self.exact_at(instance)
        table = instance.samples.by_symbol(instance.env)
        count = instance.samples.count
        values: np.ndarray = numeric.evaluate_value(value, table, count).astype(dtype)
        return values.reshape(values.shape[0], -1) if self.flat else values


def _entry_symbols(instance: Instance) -> dict[str, Any]:
    """name → the problem's own symbol: scalars by name, entries as x_1 or W_1_2."""
    table: dict[str, Any] = {}
    for name, value in instance.env.items():
        if isinstance(value, sp.MatrixBase):
            declared = instance.declared_shapes.get(name)
            for i in range(value.rows):
                for j in range(value.cols):
                    table[entry_name(name, i, j, value.shape, declared)] = value[i, j]
        else:
            table[name] = value
    return table


def _explicit(operation: Any) -> Any:
    """An Inverse or Determinant of explicit matrices, computed as the expression language
    computes it (sympy's own ``doit`` inverts a symbolic 4×4 in minutes)."""
    matrix = sp.ImmutableMatrix(operation.arg.doit())
    return inverse(matrix) if isinstance(operation, sp.Inverse) else determinant(matrix)


def _instantiate(value: Any, instance: Instance) -> Any:
    """The student's sympy value at one instance, in the problem's own symbols, or None if
    it names entries this instance does not have (x_3 where n = 2)."""
    sizes = {s: sp.Integer(instance.sizes[s.name]) for s in value.atoms(sp.Symbol)
             if s.name in instance.sizes}      # atoms: a MatrixSymbol's n is no free symbol
    value = value.xreplace(sizes) if sizes else value
    matrices = {}
    for matrix in value.atoms(sp.MatrixSymbol):
        bound = instance.env.get(matrix.name)
        if not isinstance(bound, sp.MatrixBase):
            raise ExpressionError(f"MatrixSymbol {matrix.name!r} is not a declared vector or "
                                  "matrix of this problem set")
        if tuple(matrix.shape) != bound.shape:
            return None
        matrices[matrix] = bound
    if matrices:
        value = value.xreplace(matrices)
        value = value.replace(lambda e: isinstance(e, (sp.Inverse, sp.Determinant)),
                              _explicit)
        value = value.doit() if hasattr(value, "doit") else value
    if isinstance(value, sp.MatrixExpr) and not isinstance(value, sp.MatrixBase):
        value = value.as_explicit()
    table = _entry_symbols(instance)
    renames = {}
    for symbol in (value.free_symbols if hasattr(value, "free_symbols") else ()):
        if symbol.name not in table:
            stem = symbol.name.split("_")[0]
            if stem in instance.env:      # an entry this size does not have
                return None
            known = ", ".join(sorted(n for n in table if "_" not in n or n.endswith("_1")))
            raise ExpressionError(f"{symbol.name!r} is not a symbol of this problem set "
                                  f"(symbols here include {known})")
        renames[symbol] = table[symbol.name]
    value = value.xreplace(renames)
    if isinstance(value, sp.MatrixBase):
        return value[0, 0] if value.shape == (1, 1) else sp.ImmutableMatrix(value)
    return value
