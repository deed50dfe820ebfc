"""Feedback: what a student reads about one answer, in the language of the math.

Pure functions of an Outcome and the problem's Reference; the wording names the set's
layout and the shapes involved, so a transposed gradient is explained, not just refused.
"""

from __future__ import annotations

from typing import Any

from mcgrade.engine.answers import Outcome
from mcgrade.engine.conventions import describe_shape
from mcgrade.expressions import show_shape
from mcgrade.model import Layout
from mcgrade.engine.reference import Reference


def _sizes(evidence: dict[str, Any], only: tuple | None = None) -> str:
    """'n = 2, m = 3': the sizes of an instance, or of the dimensions in ``only``."""
    sizes = evidence.get("sizes") or {}
    return ", ".join(f"{k} = {v}" for k, v in sizes.items() if only is None or k in only)


def _expected_kind(reference: Reference, layout: Layout) -> str:
    if reference.arrangement is not None:
        return reference.arrangement.describe()
    return f"the expected answer is {describe_shape(reference.shape)}"


def _given_shape(evidence: dict[str, Any]) -> str:
    given = evidence.get("given_shape")
    if given is None:
        return "something else"
    if len(given) == 1:
        return f"a 1-D array of length {given[0]}"
    if len(given) > 2:
        return f"a {len(given)}-D shape ({', '.join(map(str, given))})"
    return describe_shape(tuple(given))


def _concrete_note(evidence: dict[str, Any], reference: Reference) -> str:
    """' (at n = 2 that is 1×2)' where the expected shape has dimension names."""
    expected = evidence.get("expected_shape")
    named = tuple(d for d in reference.shape if isinstance(d, str))
    sizes = _sizes(evidence, named)
    if expected and named and sizes:
        return f" (at {sizes} that is {show_shape(tuple(expected))})"
    return ""


def _point(evidence: dict[str, Any]) -> str:
    point = evidence.get("point") or {}
    shown = []
    for name, value in point.items():
        text = repr(value) if len(repr(value)) <= 60 else "…"
        shown.append(f"{name} = {text}")
    return ", ".join(shown)


def describe(outcome: Outcome, reference: Reference, layout: Layout, answer_name: str) -> str:
    """The feedback text for one outcome."""
    if outcome.correct:
        return "Correct." + (f" Note: {outcome.note}." if outcome.note else "")
    codes = outcome.diagnoses
    evidence = outcome.evidence
    first = codes[0]
    if first == "missing" and outcome.detail == "not-answered":
        return f"Not answered yet: replace the ... in `{answer_name} = ...` with your answer."
    if first == "missing":
        return f"No answer: define a variable named `{answer_name}` in your submission."
    if first == "timeout":
        return f"Your code ran out of time: {outcome.detail}" if outcome.detail else \
            "Your code ran out of time."
    if first == "error":
        return outcome.detail or "Your code raised an error."
    if first in ("unparseable", "forbidden", "author-mistake"):
        return outcome.detail
    parts = [_lead(first, outcome, reference, layout)]
    if reference.problem.form == "function":      # the values came from the student's code
        parts[0] = parts[0].replace("Your answer is", "Your function returns", 1)
    for code in codes[1:]:
        parts.append(_also(code, evidence))
    if first == "not-equivalent" and outcome.detail == "shape-transposed":
        parts.append(f"Its shape is also the transpose: {_expected_kind(reference, layout)}.")
    if first == "not-equivalent" and outcome.detail == "shape-flat":
        parts.append(f"It is also a 1-D array, which has no orientation: give "
                     f"{describe_shape(reference.shape)}.")
    if outcome.detail == "fixed-numbers":
        names = ", ".join(sorted(reference.symbols))
        parts.append(f"Your answer is fixed numbers, but the expected answer depends on "
                     f"{names}: give an expression string in terms of the symbols.")
    return " ".join(p for p in parts if p)


def _lead(code: str, outcome: Outcome, reference: Reference, layout: Layout) -> str:
    evidence = outcome.evidence
    given = _given_shape(evidence)
    if code == "transposed":
        if reference.problem.kind == "shape":
            return (f"This is the transposed shape: {_expected_kind(reference, layout)}, "
                    f"and you gave ({', '.join(map(str, evidence.get('given_shape', [])))}).")
        if evidence.get("given_shape") and evidence.get("expected_shape") and \
                evidence["given_shape"] != evidence["expected_shape"]:
            return (f"This is the transpose of the expected answer: "
                    f"{_expected_kind(reference, layout)}{_concrete_note(evidence, reference)}, and you "
                    f"gave {given}.")
        return f"This is the transpose of the expected matrix{_square_rule(reference, layout)}."
    if code == "flat-array":
        if outcome.detail == "shape-of-1d":
            return ("That is the shape of a 1-D array; vectors here are columns (n, 1) or "
                    "rows (1, n): give both numbers.")
        return (f"Your answer is {given}, which has no orientation; this problem set uses "
                f"strict orientation, so give {describe_shape(reference.shape)}"
                f"{_concrete_note(evidence, reference)}, e.g. with .reshape or a nested list. "
                "Its values are right." if len(outcome.diagnoses) == 1 else
                f"Your answer is {given}, which has no orientation; give "
                f"{describe_shape(reference.shape)}{_concrete_note(evidence, reference)}.")
    if code == "wrong-shape" and outcome.detail == "fixed-size":
        sizes = "; ".join(", ".join(f"{k} = {v}" for k, v in sizes.items())
                          for sizes in evidence.get("sizes_checked", []))
        return ("Your answer is written for one size only (numbers, or entries x_1, x_2, …), "
                f"but this problem is checked at several sizes ({sizes}): write it as an "
                "expression string or with MatrixSymbols, so that it works at every size.")
    if code == "wrong-shape":
        return (f"Wrong shape: {_expected_kind(reference, layout)}{_concrete_note(evidence, reference)}, "
                f"but your answer is {given}.")
    if code == "elementwise-vs-matrix":
        if reference.shape[0] == reference.shape[1]:
            return ("You gave a vector where the expected answer is a diagonal matrix: the "
                    "derivative of an element-wise operation is diag(…) of the element-wise "
                    "derivatives.")
        return (f"You gave a diagonal matrix where the expected answer is "
                f"{describe_shape(reference.shape)} holding its diagonal entries.")
    if code == "non-finite":
        where = _point(evidence)
        return ("Your answer is not finite (NaN or infinite)"
                f"{' at ' + where if where else ''} where the expected value is finite: look "
                "for a division by zero, or a log or square root of a negative number.")
    if code == "piecewise-branch":
        return _branch_text(evidence)
    if code == "sign":
        return "Your answer is the negative of the expected one: check the sign."
    if code == "scale-factor":
        return (f"Your answer is {evidence.get('factor')} times the expected one: check the "
                "constant factor.")
    return _not_equivalent(evidence)


def _square_rule(reference: Reference, layout: Layout) -> str:
    """Why a square derivative is arranged as it is, in the set's layout."""
    arrangement = reference.arrangement
    if arrangement is None:
        return ""
    if arrangement.wrt_kind.endswith("matrix"):
        where = "(j, i)" if layout == "numerator" else "(i, j)"
        return (f" (in {layout} layout entry {where} of the derivative of a scalar by a "
                f"matrix X is the partial derivative by X[i, j])")
    which = "row" if layout == "numerator" else "column"
    return (f" (in {layout} layout {which} i of a Jacobian is the gradient of output i)")


def _branch_text(evidence: dict[str, Any]) -> str:
    side = evidence.get("right_where_kink_argument_is")
    other = {"positive": "negative", "negative": "positive"}.get(side or "")
    where = (f": it matches where the kink's argument is {side}, not where it is {other}"
             if side else "")
    return ("Your answer is right on only one branch of the piecewise function" + where +
            ". Treat both sides of the kink (the derivative of relu(z) is 1 for z > 0 and 0 "
            "for z < 0).")


def _also(code: str, evidence: dict[str, Any]) -> str:
    if code == "sign":
        return "Even so oriented, it is the negative of the expected answer: check the sign."
    if code == "scale-factor":
        return (f"Even so oriented, it is {evidence.get('factor')} times the expected answer: "
                "check the constant factor.")
    if code == "piecewise-branch":
        return "Even so oriented, it is right on only one branch of the piecewise function."
    return ""


def _not_equivalent(evidence: dict[str, Any]) -> str:
    if "expected" not in evidence:
        return "Not equivalent to the expected answer."
    entry = evidence.get("entry", [0, 0])
    where = _point(evidence)
    sizes = _sizes(evidence)
    location = "" if evidence.get("expected_shape") in (None, [1, 1]) else \
        f" entry ({entry[0]}, {entry[1]})"
    at = f"At {sizes}{', ' if sizes and where else ''}{where}" if (sizes or where) else "At a point"
    exactly = (f" In exact arithmetic, yours minus the expected value is "
               f"{evidence['difference']} there." if "difference" in evidence else "")
    return (f"Not equivalent to the expected answer. {at},{location} should be "
            f"{_fmt(evidence['expected'])} but yours is {_fmt(evidence['given'])}.{exactly}")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value + 0.0:.6g}"       # + 0.0: no "-0"
    return str(value)
