"""References by forward-mode differentiation: values and derivatives at the sample points.

Building a reference symbolically expands every entry (the 8×8 determinant has 40,320
terms) and differentiates it entry by entry. Where that is too costly (``reference.py``
decides, by a work estimate known in advance), the reference's values at the sample
points come from here instead: the typed tree is walked once (the shared walker of
``mcgrade.expressions.evaluate``) with dual numbers ("jets") for values. A jet holds

* ``v``: the value at K points, (K, r, c), computed by the numpy backend itself;
* ``d``: its first derivatives along D input-entry directions, (D, K, r, c);
* ``h``: its second derivatives along pairs of directions, (D, D, K, r, c) (Hessians only).

``None`` stands for zero (a constant sub-tree carries no tangents). Matrix rules: the
product rule for ``*`` and ``@``; ``inv``: -A⁻¹ dA A⁻¹; ``det``: det A · tr(A⁻¹ dA);
element-wise functions by their first and second derivatives (taken from sympy once per
function); relu, Max, Min, Abs, sign, Heaviside and Piecewise on the branch the point is
on (sample points are drawn away from kinks, whose argument values are recorded here).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from mcgrade.engine import numeric
from mcgrade.engine.conventions import kind_of
from mcgrade.expressions import Expression, concrete
from mcgrade.expressions.evaluate import evaluate
from mcgrade.expressions.numpy_backend import Array, NumpyBackend
from mcgrade.expressions.sympy_backend import ELEMENTWISE
from mcgrade.model import Layout

_KINKED = ("relu", "Abs", "sign", "Heaviside")


@dataclass(frozen=True)
class Jet:
    """A value and its tangents (None: zero)."""

    v: Array
    d: Array | None = None
    h: Array | None = None


def _plus(x: Array | None, y: Array | None) -> Array | None:
    if x is None:
        return y
    if y is None:
        return x
    total: Array = x + y
    return total


def _widen(t: Array | None, value: Array) -> Array | None:
    """Tangents ``t`` (directions first, then the value's axes) in the value's shape: a
    scalar's, 1×1, broadcast to it."""
    if t is None or t.shape[-2:] == value.shape[-2:]:
        return t
    widened: Array = np.broadcast_to(t, t.shape[:-2] + value.shape[-2:]).copy()
    return widened


def _lift(f: Callable[[Array], Array], t: Array | None) -> Array | None:
    """A linear operation of the numpy backend, applied to each direction's tangent: the
    leading axes are folded into the one the backend expects."""
    if t is None:
        return None
    lead = t.shape[:-2]
    out = f(t.reshape(-1, *t.shape[-2:]))
    return out.reshape(*lead, *out.shape[-2:])


@functools.cache
def _derivatives(name: str) -> tuple[Any, Any, sp.Symbol]:
    """f' and f'' of an element-wise function, as sympy expressions in ``z`` (once per
    function: the formulas are the sympy backend's own functions, differentiated)."""
    z = sp.Symbol("z", real=True)
    first = sp.diff(ELEMENTWISE[name](z), z)
    return first, sp.diff(first, z), z


def _at(expr: Any, z: sp.Symbol, values: Array) -> Array:
    flat = np.ascontiguousarray(values, dtype=float).ravel()
    return numeric.evaluate_scalar(expr, {z: flat}, flat.size).reshape(values.shape)


class ForwardBackend:
    """The ``evaluate.Backend`` of jets: values by ``NumpyBackend``, tangents alongside.

    ``seeds`` maps the symbols differentiated by to their tangents; ``order`` is 1 for
    derivatives, 2 for Hessians. ``kinks`` collects each kink argument's values, (K, m),
    so that sample points can be chosen away from every kink."""

    def __init__(self, env: Mapping[str, Array], points: int, seeds: Mapping[str, Array],
                 order: int) -> None:
        self.numpy = NumpyBackend(env, points)
        self.points = points
        self.seeds = seeds
        self.order = order
        self.kinks: list[Array] = []

    # --- leaves ---------------------------------------------------------------------
    def number(self, value: Fraction) -> Jet:
        return Jet(self.numpy.number(value))

    def constant(self, name: str) -> Jet:
        return Jet(self.numpy.constant(name))

    def symbol(self, name: str) -> Jet:
        value = self.numpy.symbol(name)
        return Jet(value, self.seeds.get(name))

    def dimension(self, size: int) -> Jet:
        return Jet(self.numpy.dimension(size))

    def fill(self, name: str, rows: int, cols: int) -> Jet:
        return Jet(self.numpy.fill(name, rows, cols))

    def true(self) -> Array:
        return self.numpy.true()

    # --- linear operations: the same operation on every tangent ---------------------
    def _linear(self, f: Callable[[Array], Array], a: Jet) -> Jet:
        return Jet(f(a.v), _lift(f, a.d), _lift(f, a.h))

    def unary(self, op: str, a: Jet) -> Jet:
        return self._linear(lambda x: self.numpy.unary(op, x), a)

    def index(self, a: Jet, row: int, col: int, shape: tuple[int, int]) -> Jet:
        return self._linear(lambda x: self.numpy.index(x, row, col, shape), a)

    def sum_axis(self, a: Jet, axis: int) -> Jet:
        return self._linear(lambda x: self.numpy.sum_axis(x, axis), a)

    def matrix(self, values: list[Jet], rows: int, cols: int) -> Jet:
        value = self.numpy.matrix([j.v for j in values], rows, cols)
        return Jet(value, self._stack([j.d for j in values], 1, rows, cols),
                   self._stack([j.h for j in values], 2, rows, cols))

    def _stack(self, tangents: list[Array | None], depth: int, rows: int, cols: int
               ) -> Array | None:
        present = [t for t in tangents if t is not None]
        if not present:
            return None
        lead = np.broadcast_shapes(*(t.shape[:-2] for t in present))
        cells = [np.broadcast_to(t[..., 0, 0], lead) if t is not None else np.zeros(lead)
                 for t in tangents]
        return np.stack(cells, axis=-1).reshape(*lead, rows, cols)

    # --- products and quotients -----------------------------------------------------
    def _bilinear(self, product: Callable[[Array, Array], Array], a: Jet, b: Jet) -> Jet:
        """The product rule for any bilinear ``product`` (element-wise or matrix)."""
        def p(x: Array | None, y: Array | None) -> Array | None:
            return None if x is None or y is None else product(x, y)
        d = _plus(p(a.d, b.v), p(a.v, b.d))
        h = None
        if self.order > 1:
            cross = None
            if a.d is not None and b.d is not None:
                cross = _plus(product(a.d[:, None], b.d[None]),
                              product(a.d[None], b.d[:, None]))
            h = _plus(_plus(p(a.h, b.v), p(a.v, b.h)), cross)
        return Jet(product(a.v, b.v), d, h)

    def _chain(self, a: Jet, value: Array, first: Array, second: Array | None) -> Jet:
        """An element-wise function of ``a`` with derivatives ``first``, ``second`` there:
        d = f'·da, h = f'·h_a + f''·da_i·da_j."""
        d = None if a.d is None else first * a.d
        h = None
        if self.order > 1 and a.d is not None:
            assert second is not None
            h = _plus(None if a.h is None else first * a.h, second * (a.d[:, None] * a.d[None]))
        return Jet(value, d, h)

    def _quotient(self, a: Jet, b: Jet) -> Jet:
        q = a.v / b.v
        d = None if a.d is None and b.d is None else (
            _plus(a.d, None if b.d is None else -q * b.d)) / b.v
        h = None
        if self.order > 1 and d is not None:
            terms = _plus(a.h, None if b.h is None else -q * b.h)
            if b.d is not None:
                terms = _plus(terms, -(d[:, None] * b.d[None] + d[None] * b.d[:, None]))
            h = None if terms is None else terms / b.v
        return Jet(q, d, h)

    def binary(self, op: str, a: Jet, b: Jet) -> Jet:
        if op in ("+", "-"):
            sign = 1.0 if op == "+" else -1.0
            def scaled(t: Array | None) -> Array | None:
                return None if t is None else sign * t
            value = self.numpy.binary(op, a.v, b.v)
            # a scalar operand broadcast over a matrix: so are its tangents (x + b by b)
            return Jet(value, _widen(_plus(a.d, scaled(b.d)), value),
                       _widen(_plus(a.h, scaled(b.h)), value))
        if op in ("*", "@"):
            return self._bilinear(lambda x, y: self.numpy.binary(op, x, y), a, b)
        if op == "/":
            return self._quotient(a, b)
        if b.d is None:                       # a constant exponent: the power rule
            p = b.v
            value = self.numpy.binary("**", a.v, p)
            with np.errstate(all="ignore"):
                first = p * np.power(a.v, p - 1)
                second = p * (p - 1) * np.power(a.v, p - 2) if self.order > 1 else None
            return self._chain(a, value, first, second)
        return self._elementwise("exp", self.binary("*", b, self._elementwise("log", a)))

    # --- functions ------------------------------------------------------------------
    def _elementwise(self, name: str, a: Jet) -> Jet:
        value = self.numpy.call(name, [a.v], (1, 1))
        if a.d is None:
            return Jet(value)
        first, second, z = _derivatives(name)
        return self._chain(a, value, _at(first, z, a.v),
                           _at(second, z, a.v) if self.order > 1 else None)

    def _record(self, argument: Array) -> None:
        if argument.shape[0] == 1:       # made of numbers alone: the same at every point
            return
        flat = np.broadcast_to(argument, (self.points, *argument.shape[1:]))
        self.kinks.append(flat.reshape(self.points, -1))

    def call(self, name: str, args: list[Jet], shape: tuple[int, int]) -> Jet:
        a = args[0]
        if name in _KINKED:
            self._record(a.v)
            value = self.numpy.call(name, [a.v], shape)
            if name in ("sign", "Heaviside"):
                return Jet(value)              # constant on each side of the kink
            slope = (a.v > 0).astype(float) if name == "relu" else np.sign(a.v)
            return self._chain(a, value, slope, np.zeros_like(slope))
        if name in ("Max", "Min"):
            b = args[1]
            self._record(a.v - b.v)
            pick = a.v >= b.v if name == "Max" else a.v <= b.v
            return self._where(pick, a, b)
        if name in ELEMENTWISE:
            return self._elementwise(name, a)
        if name in ("sum", "trace"):
            return self._linear(lambda x: self.numpy.call(name, [x], shape), a)
        if name == "dot":
            return self.call("sum", [self.binary("*", a, args[1])], (1, 1))
        if name == "norm":
            return self._elementwise("sqrt", self.call("dot", [a, a], (1, 1)))
        if name in ("softmax", "logsumexp"):
            # shifting by the largest value (a constant: no tangent) changes nothing
            top = Jet(a.v.max(axis=(-2, -1), keepdims=True))
            exps = self._elementwise("exp", self.binary("-", a, top))
            total = self.call("sum", [exps], (1, 1))
            if name == "softmax":
                return self._quotient(exps, total)
            return self.binary("+", self._elementwise("log", total), top)
        if name == "inv":
            return self._inverse(a)
        if name == "det":
            return self._determinant(a)
        raise AssertionError(f"no forward rule for {name}")   # functions.py has no other

    def _where(self, pick: Array, a: Jet, b: Jet) -> Jet:
        def choose(x: Array | None, y: Array | None) -> Array | None:
            if x is None and y is None:
                return None
            return np.where(pick, 0.0 if x is None else x, 0.0 if y is None else y)
        return Jet(np.where(pick, a.v, b.v), choose(a.d, b.d), choose(a.h, b.h))

    def _inverse(self, a: Jet) -> Jet:
        inverse = self.numpy.call("inv", [a.v], (0, 0))
        if a.d is None:
            return Jet(inverse)
        d = -(inverse @ a.d @ inverse)                        # -A⁻¹ dA A⁻¹
        h = None
        if self.order > 1:
            # from A·Y = I: A₀Y_ij + A_i Y_j + A_j Y_i + A_ij Y₀ = 0
            cross = a.d[:, None] @ d[None] + a.d[None] @ d[:, None]
            h = -(inverse @ _plus(cross, None if a.h is None else a.h @ inverse))
        return Jet(inverse, d, h)

    def _determinant(self, a: Jet) -> Jet:
        value = self.numpy.call("det", [a.v], (1, 1))
        if a.d is None:
            return Jet(value)
        inverse = self.numpy.call("inv", [a.v], (0, 0))
        step = inverse @ a.d                                   # A⁻¹ dA, per direction
        first = np.trace(step, axis1=-2, axis2=-1)[..., None, None]   # d log det
        d = value * first
        h = None
        if self.order > 1:
            # d² log det = tr(A⁻¹ A_ij) - tr(A⁻¹A_i A⁻¹A_j); det = exp(log det)
            second = -np.trace(step[:, None] @ step[None], axis1=-2, axis2=-1)[..., None, None]
            if a.h is not None:
                second = second + np.trace(inverse @ a.h, axis1=-2, axis2=-1)[..., None, None]
            h = value * (second + first[:, None] * first[None])
        return Jet(value, d, h)

    # --- branches -------------------------------------------------------------------
    def piecewise(self, pieces: list[Any], shape: tuple[int, int]) -> Jet:
        values: list[Jet] = pieces[0::2]
        conditions: list[Array] = pieces[1::2]
        value = self.numpy.piecewise([x for pair in zip((j.v for j in values), conditions)
                                      for x in pair], shape)

        def select(tangents: list[Array | None]) -> Array | None:
            present = [t for t in tangents if t is not None]
            if not present:
                return None
            full = np.broadcast_shapes(*(t.shape for t in present),
                                       *((1,) + c.shape for c in conditions))
            return np.select([np.broadcast_to(c, full) for c in conditions],
                             [np.broadcast_to(0.0 if t is None else t, full)
                              for t in tangents], default=np.nan)
        return Jet(value, select([j.d for j in values]),
                   select([j.h for j in values]) if self.order > 1 else None)

    def compare(self, op: str, a: Jet, b: Jet) -> Array:
        self._record(a.v - b.v)
        return self.numpy.compare(op, a.v, b.v)


def _seeds(wrt: tuple[str, ...], wrt_shapes: Mapping[str, tuple[int, int]]
           ) -> dict[str, Array]:
    """One direction per entry of the symbols differentiated by, row-major: the seed of a
    symbol is (D, 1, r, c), 1 at its own entries' directions."""
    total = sum(r * c for r, c in (wrt_shapes[n] for n in wrt))
    seeds, start = {}, 0
    for name in wrt:
        rows, cols = wrt_shapes[name]
        seed = np.zeros((total, 1, rows, cols))
        for k in range(rows * cols):
            seed[start + k, 0, k // cols, k % cols] = 1.0
        seeds[name], start = seed, start + rows * cols
    return seeds


@dataclass(frozen=True)
class ForwardValues:
    """The reference at K points, (K, rows, cols), and its kink arguments' values (K, m)."""

    values: Array
    kinks: Array


def reference_values(source: Expression, kind: str, wrt: tuple[str, ...], wrt_is_list: bool,
                     layout: Layout, env: Mapping[str, Array], sizes: Mapping[str, int],
                     points: int) -> ForwardValues:
    """The reference of a problem of ``kind`` (derivative, hessian, answer or shape) at
    ``points`` sample points, arranged as ``conventions.derivative`` arranges the sympy
    one: numerator layout puts d of_i / d wrt_j at (i, j), a scalar by an m×n matrix at
    (j, i); denominator layout is the transpose."""
    symbols = {name: concrete(_shape_of(env, name), sizes) for name in wrt}
    order = 2 if kind == "hessian" else 1 if kind == "derivative" else 0
    backend = ForwardBackend(env, points, _seeds(wrt, symbols) if order else {},
                             max(order, 1))
    with np.errstate(all="ignore"):
        jet: Jet = evaluate(source.root, backend, sizes)
        of_shape = concrete(source.shape, sizes)
        value = np.broadcast_to(jet.v, (points, *of_shape))
        total = sum(r * c for r, c in symbols.values())
        if order == 0:
            result: Array = np.array(value, dtype=float)
        elif order == 2:
            h = np.zeros((total, total, points, 1, 1)) if jet.h is None else jet.h
            h = np.broadcast_to(h, (total, total, points, 1, 1))
            result = np.moveaxis(h[..., 0, 0], 2, 0).copy()       # (K, D, D)
        else:
            d = np.zeros((total, points, *of_shape)) if jet.d is None else jet.d
            d = np.broadcast_to(d, (total, points, *of_shape))
            result = _arrange(d, of_shape, symbols[wrt[0]] if not wrt_is_list
                              else (total, 1), layout)
    kinks = np.concatenate(backend.kinks, axis=1) if backend.kinks else np.zeros((points, 0))
    return ForwardValues(result, kinks)


def _shape_of(env: Mapping[str, Array], name: str) -> tuple[int, int]:
    shape = env[name].shape
    return (int(shape[-2]), int(shape[-1]))


def _arrange(d: Array, of_shape: tuple[int, int], wrt_shape: tuple[int, int],
             layout: Layout) -> Array:
    """First derivatives (D, K, r, c) as the reference is laid out: (K, rows, cols)."""
    points = d.shape[1]
    if kind_of(wrt_shape) == "matrix":             # a scalar by a matrix: (j, i)
        rows, cols = wrt_shape
        result = np.transpose(d[:, :, 0, 0].reshape(rows, cols, points), (2, 1, 0))
    elif kind_of(of_shape) == "matrix":            # a matrix by a scalar
        result = d[0]
    else:                                          # (outputs, inputs)
        result = np.moveaxis(d.reshape(d.shape[0], points, -1), 0, 2)
    if layout == "denominator":
        result = np.swapaxes(result, 1, 2)
    return np.ascontiguousarray(result)
