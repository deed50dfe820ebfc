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
import sympy as sp

from mcgrade.engine.candidates import (
    Candidate,
    ExpressionCandidate,
    FunctionCandidate,
    NumbersCandidate,
    SympyCandidate,
)
from mcgrade.engine.conventions import Detail
from mcgrade.engine.reference import Reference
from mcgrade.engine.srepr import read_srepr
from mcgrade.errors import ExpressionError
from mcgrade.expressions import Scope, compile_expression
from mcgrade.model import Answer, Diagnosis, Dim, Mistake


@dataclass(frozen=True)
class Outcome:
    """What a check found: ``diagnoses`` empty means correct.

    ``detail`` is a message specific to this answer (a parse error, an author's feedback,
    a student's exception); ``case`` which case of its diagnosis it is, for the wording;
    ``evidence`` holds facts for the record.
    """

    diagnoses: tuple[Diagnosis, ...] = ()
    method: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    case: Detail | None = None
    mistake: Mistake | None = None
    note: str = ""

    @property
    def correct(self) -> bool:
        return not self.diagnoses


@dataclass(frozen=True)
class ShapeCandidate:
    """A shape given for a ``shape`` problem: ints and dimension names."""

    shape: tuple[Dim, ...]


def caret(text: str, column: int | None) -> str:
    """The text with a caret under ``column``, for parse errors."""
    if column is None or len(text) > 120:
        return ""
    return f"\n    {text}\n    {' ' * column}^"


def from_answer(answer: Answer, scope: Scope, reference: Reference,
                forbid: tuple[str, ...] = ()) -> Candidate | ShapeCandidate | Outcome:
    """Make a candidate of ``answer``, or the outcome that ends the check now."""
    wants_shape = reference.problem.kind == "shape"
    kind = answer.kind
    if kind == "missing":
        return Outcome((Diagnosis.MISSING,))
    if kind == "timeout":
        return Outcome((Diagnosis.TIMEOUT,), detail=answer.text)
    if kind == "error":
        return Outcome((Diagnosis.ERROR,), detail=answer.text)
    if kind == "unsupported" and answer.text == "ellipsis":
        return Outcome((Diagnosis.MISSING,), case=Detail.NOT_ANSWERED)
    if kind == "unsupported" and wants_shape:
        return Outcome((Diagnosis.UNPARSEABLE,), detail=f"a value of type {answer.text} is not "
                       "a shape: give a tuple of whole numbers and dimension names, such as "
                       "(1, \"n\") or (\"m\", \"n\")")
    if kind == "unsupported":
        return Outcome((Diagnosis.UNPARSEABLE,), detail=f"a value of type {answer.text} is not an "
                       "answer mcgrade can read; give a string, a number, a list or a numpy "
                       "array")
    if wants_shape:
        return _shape_candidate(answer, scope)
    if kind == "string":
        return _expression_candidate(answer.text, scope, forbid)
    if kind == "sympy":
        return _sympy_candidate(answer.text, flat=len(answer.shape) == 1)
    if kind == "function":
        return _function_candidate(answer.value, reference)
    return _numbers(answer)


def _numbers(answer: Answer) -> Candidate | Outcome:
    kind = answer.kind
    if kind == "number":
        return NumbersCandidate(np.array([[float(answer.value)]]))
    if kind in ("array", "shape"):
        values = np.asarray(answer.value, dtype=float)
        shape = tuple(answer.shape) if kind == "array" else (len(values),)
        if len(shape) == 0:
            return NumbersCandidate(values.reshape(1, 1))
        if len(shape) > 2:
            return Outcome((Diagnosis.WRONG_SHAPE,),
                           detail=f"your answer is a {len(shape)}-D array "
                           f"of shape {shape}; give a vector or a matrix",
                           evidence={"given_shape": list(shape)})
        return NumbersCandidate(values.reshape(shape))
    if kind == "complex":
        return Outcome((Diagnosis.NON_FINITE,),
                       detail="your answer has complex values; the expected "
                       "answer is real")
    return Outcome((Diagnosis.UNPARSEABLE,), detail=f"unrecognised answer kind {kind!r}")


def _sympy_candidate(text: str, flat: bool) -> Candidate | Outcome:
    try:
        value = read_srepr(text)
    except ExpressionError as exc:
        return Outcome((Diagnosis.UNPARSEABLE,), detail=f"could not read your sympy answer: "
                       f"{exc.message}")
    if not isinstance(value, sp.Basic) or isinstance(value, sp.logic.boolalg.Boolean):
        return Outcome((Diagnosis.UNPARSEABLE,), detail="your sympy answer is not an expression or "
                       "a matrix")
    return SympyCandidate(value, flat=flat)


def _function_candidate(calls: tuple[Answer, ...], reference: Reference
                        ) -> Candidate | Outcome:
    """The function's results at the sample points, or the first call that went wrong."""
    results = []
    for index, result in enumerate(calls):
        if result.kind in ("error", "timeout"):
            return Outcome((Diagnosis(result.kind),),
                           detail=f"your function, called at sample point "
                           f"{index + 1}: {result.text}")
        converted = _numbers(result)
        if isinstance(converted, Outcome):
            return converted
        array = converted.array  # type: ignore[attr-defined]
        results.append(array)
    count = reference.instances[0].samples.count if reference.instances else 0
    if len(results) != count * len(reference.instances):
        return Outcome((Diagnosis.ERROR,), detail="your function was not called at every sample "
                       "point")
    return FunctionCandidate(tuple(results), count,
                             tuple(id(i) for i in reference.instances))


def _expression_candidate(text: str, scope: Scope, forbid: tuple[str, ...]
                          ) -> Candidate | Outcome:
    try:
        expression = compile_expression(text, scope)
    except ExpressionError as exc:
        return Outcome((Diagnosis.UNPARSEABLE,), detail=f"could not read your answer: {exc.message}"
                       f"{caret(exc.text, exc.column)}", evidence={"answer": text[:200]})
    used = sorted(expression.functions & set(forbid))
    if used:
        return Outcome((Diagnosis.FORBIDDEN,), detail=f"this problem does not allow "
                       f"{', '.join(used)} in the answer: work the derivative out yourself",
                       evidence={"forbidden": used})
    return ExpressionCandidate(expression)


_SHAPE_TEXT = re.compile(r"^\(?\s*(\w+)\s*(?:,|x|×|\*)\s*(\w+)\s*,?\s*\)?$")


def _shape_candidate(answer: Answer, scope: Scope) -> ShapeCandidate | Outcome:
    if answer.kind == "shape":
        return ShapeCandidate(tuple(answer.value))
    if answer.kind == "array" and len(answer.shape) == 1:
        values = [float(v) for v in answer.value]
        if all(v.is_integer() for v in values):
            return ShapeCandidate(tuple(int(v) for v in values))
    if answer.kind == "number" and float(answer.value).is_integer():
        return ShapeCandidate((int(answer.value),))
    if answer.kind == "string":
        match = _SHAPE_TEXT.match(answer.text.strip())
        if match:
            dims = tuple(int(d) if d.isdigit() else d for d in match.groups())
            unknown = [d for d in dims if isinstance(d, str) and d not in scope.dimensions]
            if not unknown:
                return ShapeCandidate(dims)
            return Outcome((Diagnosis.UNPARSEABLE,),
                           detail=f"{', '.join(unknown)} is not a dimension "
                           f"of this problem set (dimensions: "
                           f"{', '.join(sorted(scope.dimensions)) or 'none'})")
    return Outcome((Diagnosis.UNPARSEABLE,), detail="give a shape as a tuple such as (3, 2), or a "
                   "string such as '(m, n)'")
