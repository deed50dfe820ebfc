"""The fast backend: every value is a float64 array of shape (K, rows, cols).

K is the number of sample points, so one walk of the tree evaluates an answer at all of
them. Numbers are (1, 1, 1) arrays and broadcast. Invalid operations give NaN, never an
exception: a NaN answer is a diagnosis (``non-finite``), not a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from mcgrade.expressions.reciprocal import RECIPROCAL

Array = npt.NDArray[Any]     # float64, or float32 to estimate rounding (``dtype``)

_UNARY: dict[str, Callable[[Array], Array]] = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
    "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "asinh": np.arcsinh, "acosh": np.arccosh,
    "atanh": np.arctanh, "Abs": np.abs, "sign": np.sign,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "relu": lambda z: np.maximum(z, 0.0),
    "Heaviside": lambda z: np.heaviside(z, 0.5),
    **RECIPROCAL,
}
_CMP = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


def _sum(a: Array) -> Array:
    total: Array = a.sum(axis=(-2, -1), keepdims=True)
    return total


class NumpyBackend:
    """Evaluates with ``env`` mapping symbol names to (K, rows, cols) arrays.

    ``dtype`` float32 is used to estimate rounding error: a value that moves a lot between
    float32 and float64 was computed with cancellation, and float64 can't be trusted for it.
    """

    def __init__(self, env: Mapping[str, Array], points: int,
                 dtype: type = np.float64) -> None:
        self.env = env
        self.points = points
        self.dtype = dtype

    def number(self, value: Fraction) -> Array:
        return np.full((1, 1, 1), float(value), dtype=self.dtype)

    def constant(self, name: str) -> Array:
        return np.full((1, 1, 1), {"pi": np.pi, "E": np.e}[name], dtype=self.dtype)

    def symbol(self, name: str) -> Array:
        return self.env[name].astype(self.dtype, copy=False)

    def dimension(self, size: int) -> Array:
        return np.full((1, 1, 1), float(size), dtype=self.dtype)

    def unary(self, op: str, a: Array) -> Array:
        if op == "neg":
            return -a
        if op == "transpose":
            return np.swapaxes(a, -1, -2)
        if op == "diag-matrix":
            flat = a.reshape(a.shape[0], -1)
            return flat[:, :, None] * np.eye(flat.shape[1])[None]
        return np.diagonal(a, axis1=-2, axis2=-1)[..., None]

    def binary(self, op: str, a: Array, b: Array) -> Array:
        if op == "@":
            product: Array = np.matmul(a, b)
            return product
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        return np.power(a, b)

    def call(self, name: str, args: list[Array], shape: tuple[int, int]) -> Array:
        a = args[0]
        if name in _UNARY:
            return _UNARY[name](a)
        if name == "Max":
            return np.maximum(a, args[1])
        if name == "Min":
            return np.minimum(a, args[1])
        if name == "softmax":
            shifted: Array = np.exp(a - a.max(axis=(-2, -1), keepdims=True))
            return shifted / _sum(shifted)
        if name == "logsumexp":
            top: Array = a.max(axis=(-2, -1), keepdims=True)
            return top + np.log(_sum(np.exp(a - top)))
        if name == "norm":
            return np.sqrt(_sum(a * a))
        if name == "sum":
            return _sum(a)
        if name == "dot":
            return _sum(a * args[1])
        if name == "trace":
            trace: Array = np.trace(a, axis1=-2, axis2=-1)
            return trace[..., None, None]
        if name == "det":
            det: Array = np.linalg.det(a)
            return det[..., None, None]
        if name == "inv":
            try:
                return np.linalg.inv(a)
            except np.linalg.LinAlgError:
                return np.full(a.shape, np.nan)
        raise AssertionError(f"no numpy implementation of {name}")

    def index(self, a: Array, row: int, col: int, shape: tuple[int, int]) -> Array:
        if a.shape[-2:] == (1, 1):
            return a
        row, col = row % shape[0], col % shape[1]
        return a[..., row:row + 1, col:col + 1]

    def sum_axis(self, a: Array, axis: int) -> Array:
        total: Array = a.sum(axis=-2 if axis == 0 else -1, keepdims=True)
        return total

    def fill(self, name: str, rows: int, cols: int) -> Array:
        if name == "eye":
            return np.eye(rows, cols)[None]
        return (np.ones if name == "ones" else np.zeros)((1, rows, cols))

    def matrix(self, values: list[Array], rows: int, cols: int) -> Array:
        count = max(v.shape[0] for v in values)
        flat = np.stack([np.broadcast_to(v, (count, 1, 1))[:, 0, 0] for v in values], axis=-1)
        return flat.reshape(count, rows, cols)

    def piecewise(self, pieces: list[Array], shape: tuple[int, int]) -> Array:
        values, conditions = pieces[0::2], pieces[1::2]
        full = np.broadcast_shapes(*(p.shape for p in pieces))
        return np.select([np.broadcast_to(c, full) for c in conditions],
                         [np.broadcast_to(v, full) for v in values], default=np.nan)

    def compare(self, op: str, a: Array, b: Array) -> Array:
        return _CMP[op](a, b)

    def true(self) -> Array:
        return np.ones((1, 1, 1), dtype=bool)
