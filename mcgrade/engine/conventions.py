"""Layout conventions, in one place: how a derivative is arranged and how to say so.

SPEC §3: in numerator layout the derivative of an m×1 vector by an n×1 vector is m×n, of a
scalar by an n×1 vector is 1×n, of a scalar by an m×n matrix is n×m; denominator layout is
the transpose of each. Vectors (row or column) are treated as their list of components.
Derivatives that would be third-order tensors (a vector or matrix by a matrix, a matrix by
a vector) are refused.

sympy itself is inconsistent here (``MatrixSymbol.diff`` answers in denominator layout,
``Matrix.jacobian`` in numerator layout), so nothing below calls either: entries are
differentiated one by one and arranged explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from mcgrade.expressions.nodes import show_shape
from mcgrade.model import Code, Dim, Layout


class Relation(Code):
    """How an answer's shape relates to the reference's at one size assignment."""

    SAME = "same"
    FLAT = "flat"                               # a 1-D array where a row or column is due
    TRANSPOSED = "transposed"
    VECTOR_FOR_MATRIX = "vector-for-matrix"     # a diagonal matrix's diagonal as a vector
    MATRIX_FOR_VECTOR = "matrix-for-vector"     # diag(v) where the vector v is due
    WRONG = "wrong"


class Detail(Code):
    """Which case of a diagnosis an outcome is, for the feedback's wording."""

    NOT_ANSWERED = "not-answered"       # missing: the starter notebook's `...` left as is
    FIXED_SIZE = "fixed-size"           # wrong-shape: numbers for one size of several
    SHAPE_OF_1D = "shape-of-1d"         # flat-array: a shape given as one number
    SHAPE_TRANSPOSED = "shape-transposed"   # not-equivalent, and transposed too
    SHAPE_FLAT = "shape-flat"           # not-equivalent, and a 1-D array too
    FIXED_NUMBERS = "fixed-numbers"     # not-equivalent: numbers where the values vary
    VECTOR_FOR_MATRIX = "vector-for-matrix"     # elementwise-vs-matrix: which way round
    MATRIX_FOR_VECTOR = "matrix-for-vector"
    LONG_DECIMAL = "long-decimal"       # not-equivalent, locally: the digits of a number
    EXACT_DIGEST = "exact-digest"       # not-equivalent, locally: only exact digests see it
    BALL_DIGEST = "ball-digest"         # not-equivalent, locally: only ball digests see it


@dataclass(frozen=True)
class Arrangement:
    """What kind of derivative this is and its shape in the chosen layout."""

    of_kind: str        # "scalar" | "vector" | "matrix"
    wrt_kind: str
    shape: tuple[Dim, Dim]
    layout: Layout

    def describe(self) -> str:
        """One clause for feedback, e.g. 'in numerator layout the derivative of a scalar
        by an n×1 vector is a 1×n row'."""
        return (f"in {self.layout} layout the derivative of {article(self.of_kind)} by "
                f"{article(self.wrt_kind)} is {describe_shape(self.shape)}")


def article(phrase: str) -> str:
    """'an n×1 vector', 'a 1×n row': the article as the first symbol is spoken."""
    first = phrase.split("×")[0] if "×" in phrase else phrase
    letters = "aefhilmnorsxAEFHILMNORSX8"      # 'an n×1', 'an N×n', 'an 8×1'
    spoken_vowel = first[:1] in (letters if len(first) <= 2 else "aeiou")
    return f"{'an' if spoken_vowel else 'a'} {phrase}"


def describe_shape(shape: tuple[Dim, Dim]) -> str:
    """'a 1×n row', 'an n×1 column', 'an m×n matrix', 'a scalar'."""
    if tuple(shape) == (1, 1):
        return "a scalar"
    noun = "row" if shape[0] == 1 else "column" if shape[1] == 1 else "matrix"
    return article(f"{show_shape(shape)} {noun}")


def kind_of(shape: tuple[Dim, Dim]) -> str:
    if tuple(shape) == (1, 1):
        return "scalar"
    return "vector" if 1 in shape else "matrix"


def _length(shape: tuple[Dim, Dim]) -> Dim:
    """The number of components of a vector shape."""
    return shape[1] if shape[0] == 1 else shape[0]


class TensorDerivativeError(ValueError):
    """The derivative would be a third-order (or higher) tensor."""


def arrange(of_shape: tuple[Dim, Dim], wrt_shape: tuple[Dim, Dim],
            layout: Layout) -> Arrangement:
    """The arrangement of d(of)/d(wrt) in ``layout``; raises TensorDerivativeError."""
    of_kind, wrt_kind = kind_of(of_shape), kind_of(wrt_shape)
    if of_kind == "scalar" and wrt_kind == "scalar":
        shape: tuple[Dim, Dim] = (1, 1)
    elif of_kind == "scalar" and wrt_kind == "vector":
        shape = (1, _length(wrt_shape))
    elif of_kind == "vector" and wrt_kind == "scalar":
        shape = (_length(of_shape), 1)
    elif of_kind == "vector" and wrt_kind == "vector":
        shape = (_length(of_shape), _length(wrt_shape))
    elif of_kind == "scalar" and wrt_kind == "matrix":
        shape = (wrt_shape[1], wrt_shape[0])
    elif of_kind == "matrix" and wrt_kind == "scalar":
        shape = (of_shape[0], of_shape[1])
    else:
        raise TensorDerivativeError(
            f"the derivative of a {show_shape(of_shape)} {of_kind} by a "
            f"{show_shape(wrt_shape)} {wrt_kind} is a third-order tensor, which mcgrade does "
            "not grade; ask for a vectorised form or for single entries instead")
    if layout == "denominator":
        shape = (shape[1], shape[0])
    descriptions = {"scalar": "scalar", "vector": f"{show_shape(wrt_shape)} vector",
                    "matrix": f"{show_shape(wrt_shape)} matrix"}
    of_descriptions = {"scalar": "scalar", "vector": f"{show_shape(of_shape)} vector",
                       "matrix": f"{show_shape(of_shape)} matrix"}
    return Arrangement(of_descriptions[of_kind], descriptions[wrt_kind], shape, layout)


def _components(value: Any) -> list[Any]:
    return list(value) if isinstance(value, sp.MatrixBase) else [value]


def derivative(of: Any, wrt: Any, layout: Layout) -> Any:
    """d(of)/d(wrt) for concrete sympy values, arranged as ``arrange`` says.

    ``wrt`` is a scalar symbol, or a matrix of distinct symbols (a vector, a matrix, or
    the stack of a list of scalars).
    """
    of_shape = of.shape if isinstance(of, sp.MatrixBase) else (1, 1)
    wrt_shape = wrt.shape if isinstance(wrt, sp.MatrixBase) else (1, 1)
    arrangement = arrange(of_shape, wrt_shape, layout)
    if arrangement.of_kind != "scalar" and kind_of(wrt_shape) == "matrix":
        raise AssertionError("arrange() refuses this")
    if kind_of(wrt_shape) == "matrix":
        # numerator: entry (j, i) is d of / d X[i, j]
        rows, cols = wrt_shape
        result = sp.ImmutableMatrix(cols, rows, lambda j, i: sp.diff(of, wrt[i, j]))
    elif kind_of(of_shape) == "matrix":
        result = of.applyfunc(lambda entry: sp.diff(entry, wrt))
    else:
        outputs, inputs = _components(of), _components(wrt)
        result = sp.ImmutableMatrix(len(outputs), len(inputs),
                                    lambda i, j: sp.diff(outputs[i], inputs[j]))
    if layout == "denominator":
        result = result.T
    return result[0, 0] if result.shape == (1, 1) else sp.ImmutableMatrix(result)


def hessian(of: Any, wrt: Any) -> Any:
    """The matrix of second partials of a scalar (layout-independent: it is symmetric)."""
    if isinstance(of, sp.MatrixBase):
        raise TensorDerivativeError("a Hessian needs a scalar function")
    if isinstance(wrt, sp.MatrixBase) and kind_of(wrt.shape) == "matrix":
        raise TensorDerivativeError("the Hessian by a matrix is a fourth-order tensor, which "
                                    "mcgrade does not grade")
    inputs = _components(wrt)
    firsts = [sp.diff(of, x) for x in inputs]
    result = sp.ImmutableMatrix(len(inputs), len(inputs),
                                lambda i, j: sp.diff(firsts[i], inputs[j]))
    return result[0, 0] if result.shape == (1, 1) else result


def hessian_shape(wrt_shape: tuple[Dim, Dim]) -> tuple[Dim, Dim]:
    if kind_of(wrt_shape) == "matrix":
        raise TensorDerivativeError("the Hessian by a matrix is a fourth-order tensor, which "
                                    "mcgrade does not grade")
    length = _length(wrt_shape) if wrt_shape != (1, 1) else 1
    return (length, length)


def stack(values: Sequence[Any]) -> Any:
    """The column of a list of scalars, for ``wrt: [x, y]``."""
    return sp.ImmutableMatrix([[v] for v in values])
