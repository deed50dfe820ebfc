"""Answers → candidates: what a submission gave, made comparable with a reference.

A candidate is an expression (from a string, typed in the problem set's scope), fixed
numbers (a number, a nested list, an array), or a shape. Answers that can't become a
candidate get an ``Outcome`` straight away (missing, error, unparseable, forbidden…).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mcgrade.errors import ExpressionError
from mcgrade.expressions import Expression, Scope, compile_expression
from mcgrade.model import Answer, Dim, Mistake


@dataclass(frozen=True)
class Outcome:
    """What a check found: ``diagnoses`` empty means correct.

    ``detail`` is a message specific to this answer (a parse error, an author's feedback,
    a student's exception); ``evidence`` holds facts for the record.
    """

    diagnoses: tuple[str, ...] = ()
    method: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    mistake: Mistake | None = None
    note: str = ""

    @property
    def correct(self) -> bool:
        return not self.diagnoses


@dataclass(frozen=True)
class Candidate:
    expression: Expression | None = None
    array: np.ndarray | None = None          # fixed numbers, 1-D or 2-D
    shape: tuple[Dim, ...] | None = None     # for shape problems

    @property
    def is_flat(self) -> bool:
        return self.array is not None and self.array.ndim == 1


def caret(text: str, column: int | None) -> str:
    """The text with a caret under ``column``, for parse errors."""
    if column is None or len(text) > 120:
        return ""
    return f"\n    {text}\n    {' ' * column}^"


def from_answer(answer: Answer, scope: Scope, *, wants_shape: bool,
                forbid: tuple[str, ...] = ()) -> Candidate | Outcome:
    """Make a candidate of ``answer``, or the outcome that ends the check now."""
    kind = answer.kind
    if kind == "missing":
        return Outcome(("missing",))
    if kind == "timeout":
        return Outcome(("timeout",), detail=answer.text)
    if kind == "error":
        return Outcome(("error",), detail=answer.text)
    if kind == "complex":
        return Outcome(("non-finite",), detail="your answer has complex values; the expected "
                       "answer is real")
    if kind == "unsupported":
        return Outcome(("unparseable",), detail=f"a value of type {answer.text} is not an "
                       "answer mcgrade can read; give a string, a number, a list or a numpy "
                       "array")
    if wants_shape:
        return _shape_candidate(answer, scope)
    if kind == "string":
        return _expression_candidate(answer.text, scope, forbid)
    if kind == "number":
        return Candidate(array=np.array([[float(answer.value)]]))
    if kind in ("array", "shape"):
        values = np.asarray(answer.value, dtype=float)
        shape = tuple(answer.shape) if kind == "array" else (len(values),)
        if len(shape) == 0:
            return Candidate(array=values.reshape(1, 1))
        if len(shape) > 2:
            return Outcome(("wrong-shape",), detail=f"your answer is a {len(shape)}-D array "
                           f"of shape {shape}; give a vector or a matrix",
                           evidence={"given_shape": list(shape)})
        return Candidate(array=values.reshape(shape))
    return Outcome(("unparseable",), detail=f"unrecognised answer kind {kind!r}")


def _expression_candidate(text: str, scope: Scope, forbid: tuple[str, ...]
                          ) -> Candidate | Outcome:
    try:
        expression = compile_expression(text, scope)
    except ExpressionError as exc:
        return Outcome(("unparseable",), detail=f"could not read your answer: {exc.message}"
                       f"{caret(exc.text, exc.column)}", evidence={"answer": text[:200]})
    used = sorted(expression.functions & set(forbid))
    if used:
        return Outcome(("forbidden",), detail=f"this problem does not allow "
                       f"{', '.join(used)} in the answer: work the derivative out yourself",
                       evidence={"forbidden": used})
    return Candidate(expression=expression)


_SHAPE_TEXT = re.compile(r"^\(?\s*(\w+)\s*(?:,|x|×|\*)\s*(\w+)\s*,?\s*\)?$")


def _shape_candidate(answer: Answer, scope: Scope) -> Candidate | Outcome:
    if answer.kind == "shape":
        return Candidate(shape=tuple(answer.value))
    if answer.kind == "array" and len(answer.shape) == 1:
        values = [float(v) for v in answer.value]
        if all(v.is_integer() for v in values):
            return Candidate(shape=tuple(int(v) for v in values))
    if answer.kind == "number" and float(answer.value).is_integer():
        return Candidate(shape=(int(answer.value),))
    if answer.kind == "string":
        match = _SHAPE_TEXT.match(answer.text.strip())
        if match:
            dims = tuple(int(d) if d.isdigit() else d for d in match.groups())
            unknown = [d for d in dims if isinstance(d, str) and d not in scope.dimensions]
            if not unknown:
                return Candidate(shape=dims)
            return Outcome(("unparseable",), detail=f"{', '.join(unknown)} is not a dimension "
                           f"of this problem set (dimensions: "
                           f"{', '.join(sorted(scope.dimensions)) or 'none'})")
    return Outcome(("unparseable",), detail="give a shape as a tuple such as (3, 2), or a "
                   "string such as '(m, n)'")
