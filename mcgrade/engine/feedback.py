"""Feedback: what a student reads about one answer, in the language of the math.

Pure functions of an Outcome and the problem's Reference; the wording names the set's
layout and the shapes involved, so a transposed gradient is explained, not just refused.
The one wording of every outcome, for the instructor's set and for a student copy alike:
a student copy's outcomes (``evidence["local"]``) say "Local check", and where they know
no expected shape or value they say so without stating one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcgrade.engine.answers import Outcome
from mcgrade.engine.conventions import Detail, describe_shape
from mcgrade.engine.reference import Reference
from mcgrade.expressions import show_shape
from mcgrade.model import Diagnosis, Layout


def how_checked(method: str, evidence: Mapping[str, Any]) -> str:
    """What a verdict's ``method`` showed, in words ("" when nothing was compared)."""
    count = evidence.get("points")
    if method == "symbolic":
        # a difference proved in certified balls says so: it is a proof, not a symbolic one
        return str(evidence.get("checked") or "proved symbolically")
    if method == "exact":     # a student copy's says its points are its stored ones
        return str(evidence.get("checked") or (f"exact at {count} random points and sizes "
                                               f"(false-accept chance below 2^-{count})"))
    if method == "numeric":
        # a certified bound on the difference at the points, where balls gave one
        return str(evidence.get("checked") or (f"checked numerically at {count} points"
                                               if count else "checked numerically"))
    return ""


def _sizes(evidence: dict[str, Any], only: tuple[Any, ...] | None = None) -> str:
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
    local = _local(outcome)
    if outcome.correct:
        note = f" Note: {outcome.note}." if outcome.note else ""
        return (f"Correct at the local checks.{note} The instructor's grading checks again, "
                f"with the full problem set." if local else "Correct." + note)
    codes = outcome.diagnoses
    evidence = outcome.evidence
    first = codes[0]
    if first == Diagnosis.MISSING and outcome.case == Detail.NOT_ANSWERED:
        return f"Not answered yet: replace the ... in `{answer_name} = ...` with your answer."
    if first == Diagnosis.MISSING:
        return f"No answer: define a variable named `{answer_name}` in your submission."
    if first == Diagnosis.TIMEOUT:
        return f"Your code ran out of time: {outcome.detail}" if outcome.detail else \
            "Your code ran out of time."
    if first == Diagnosis.ERROR:
        return outcome.detail or "Your code raised an error."
    if first in (Diagnosis.UNPARSEABLE, Diagnosis.FORBIDDEN, Diagnosis.AUTHOR_MISTAKE):
        return outcome.detail
    parts = [_lead(first, outcome, reference, layout)]
    if reference.problem.form == "function":      # the values came from the student's code
        parts[0] = parts[0].replace("Your answer is", "Your function returns", 1)
    for code in codes[1:]:
        parts.append(_also(code, evidence))
    if first == Diagnosis.NOT_EQUIVALENT and outcome.case == Detail.LONG_DECIMAL:
        parts = [f"Your answer writes {evidence['decimal']}: in an expression a decimal "
                 "means exactly that decimal, and your instructor's grading compares "
                 "expressions exactly, so the digits of 1/3, sqrt(2) or pi are not that "
                 "number. Write the number itself."]
    if first == Diagnosis.NOT_EQUIVALENT and outcome.case == Detail.EXACT_DIGEST:
        parts = ["Exact arithmetic at a stored point shows your answer differs from the "
                 "expected one, by less than floats can show: look for a tiny extra term or "
                 "a number written slightly off (1.000001 for 1), and write numbers as "
                 "exact fractions. Your instructor's grading compares exactly too."]
    if first == Diagnosis.NOT_EQUIVALENT and outcome.case == Detail.BALL_DIGEST:
        parts = ["Certified interval arithmetic at a stored point shows your answer differs "
                 "from the expected one, by less than floats can show: look for a tiny extra "
                 "term or a number written slightly off (1.000001 for 1), and write numbers "
                 "as exact fractions. Your instructor's grading sees such differences too."]
    if first == Diagnosis.NOT_EQUIVALENT and outcome.case == Detail.SHAPE_TRANSPOSED:
        parts.append("Its shape is also the transpose of the expected one." if local else
                     f"Its shape is also the transpose: {_expected_kind(reference, layout)}.")
    if first == Diagnosis.NOT_EQUIVALENT and outcome.case == Detail.SHAPE_FLAT:
        parts.append("It is also a 1-D array, which has no orientation." if local else
                     f"It is also a 1-D array, which has no orientation: give "
                     f"{describe_shape(reference.shape)}.")
    if outcome.case == Detail.FIXED_NUMBERS:
        names = ", ".join(sorted(reference.symbols))
        parts.append(f"Your answer is fixed numbers, but the expected answer depends on "
                     f"{names}: give an expression string in terms of the symbols.")
    text = " ".join(p for p in parts if p)
    return f"Local check: {text[:1].lower()}{text[1:]}" if local else text


def _local(outcome: Outcome) -> bool:
    """A student copy's outcome (its oracle marks it): it knows no expected shape or value
    to state, so the wording says what it can without one."""
    return bool(outcome.evidence.get("local"))


def _lead(code: Diagnosis, outcome: Outcome, reference: Reference, layout: Layout) -> str:
    evidence = outcome.evidence
    local = _local(outcome)
    given = _given_at(evidence) if local else _given_shape(evidence)
    if code == Diagnosis.TRANSPOSED:
        return _transposed(outcome, reference, layout, given)
    if code == Diagnosis.FLAT_ARRAY:
        if outcome.case == Detail.SHAPE_OF_1D:
            return ("That is the shape of a 1-D array; vectors here are columns (n, 1) or "
                    "rows (1, n): give both numbers.")
        alone = len(outcome.diagnoses) == 1
        if local:
            wanted = f"a {evidence['as']}" if "as" in evidence else "a row or a column"
            return (f"Your answer is {given}, which has no orientation; this set uses strict "
                    f"orientation: give it as {wanted}" +
                    (" (its values are right)." if alone else "."))
        return (f"Your answer is {given}, which has no orientation; this problem set uses "
                f"strict orientation, so give {describe_shape(reference.shape)}"
                f"{_concrete_note(evidence, reference)}, e.g. with .reshape or a nested list. "
                "Its values are right." if alone else
                f"Your answer is {given}, which has no orientation; give "
                f"{describe_shape(reference.shape)}{_concrete_note(evidence, reference)}.")
    if code == Diagnosis.WRONG_SHAPE and outcome.case == Detail.FIXED_SIZE:
        sizes = "; ".join(", ".join(f"{k} = {v}" for k, v in sizes.items())
                          for sizes in evidence.get("sizes_checked", []))
        return ("Your answer is written for one size only (numbers, or entries x_1, x_2, …), "
                f"but this problem is checked at several sizes ({sizes}): write it as an "
                "expression string or with MatrixSymbols, so that it works at every size.")
    if code == Diagnosis.WRONG_SHAPE:
        if local:
            return (f"Your answer is {given}, which is neither the expected shape nor its "
                    f"transpose.")
        return (f"Wrong shape: {_expected_kind(reference, layout)}"
                f"{_concrete_note(evidence, reference)}, but your answer is {given}.")
    if code == Diagnosis.ELEMENTWISE_VS_MATRIX:
        if outcome.case == Detail.VECTOR_FOR_MATRIX:
            return ("You gave a vector where the expected answer is a diagonal matrix: the "
                    "derivative of an element-wise operation is diag(…) of the element-wise "
                    "derivatives.")
        wanted = "a vector" if local else describe_shape(reference.shape)
        return (f"You gave a diagonal matrix where the expected answer is {wanted} holding its "
                f"diagonal entries.")
    if code == Diagnosis.NON_FINITE:
        where = _point(evidence)
        return ("Your answer is not finite (NaN or infinite)"
                f"{' at ' + where if where else ''} where the expected value is finite: look "
                "for a division by zero, or a log or square root of a negative number.")
    if code == Diagnosis.PIECEWISE_BRANCH:
        return _branch_text(evidence)
    if code == Diagnosis.SIGN:
        return "Your answer is the negative of the expected one: check the sign."
    if code == Diagnosis.SCALE_FACTOR:
        return (f"Your answer is {evidence.get('factor')} times the expected one: check the "
                "constant factor.")
    return _not_equivalent(evidence)


def _transposed(outcome: Outcome, reference: Reference, layout: Layout, given: str) -> str:
    evidence = outcome.evidence
    shape = evidence.get("given_shape") or []
    if _local(outcome):
        if reference.problem.kind == "shape":
            return f"This is the transposed shape (this set uses {layout} layout)."
        if len(shape) == 2 and shape[0] != shape[1]:
            return (f"This is the transpose of the expected answer (this set uses {layout} "
                    f"layout): you gave {given}, and the expected answer has the transposed "
                    f"shape.")
        return f"This is the transpose of the expected matrix (this set uses {layout} layout)."
    if reference.problem.kind == "shape":
        return (f"This is the transposed shape: {_expected_kind(reference, layout)}, "
                f"and you gave ({', '.join(map(str, shape))}).")
    if shape and evidence["given_shape"] != evidence["expected_shape"]:
        return (f"This is the transpose of the expected answer: "
                f"{_expected_kind(reference, layout)}{_concrete_note(evidence, reference)}, "
                f"and you gave {given}.")
    return f"This is the transpose of the expected matrix{_square_rule(reference, layout)}."


def _given_at(evidence: dict[str, Any]) -> str:
    """'a 2×1 column (at n = 2)': the answer's shape where no expected one is stated."""
    sizes = _sizes(evidence)
    return _given_shape(evidence) + (f" (at {sizes})" if sizes else "")


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


def _also(code: Diagnosis, evidence: dict[str, Any]) -> str:
    if code == Diagnosis.SIGN:
        return "Even so oriented, it is the negative of the expected answer: check the sign."
    if code == Diagnosis.SCALE_FACTOR:
        return (f"Even so oriented, it is {evidence.get('factor')} times the expected answer: "
                "check the constant factor.")
    if code == Diagnosis.PIECEWISE_BRANCH:
        return "Even so oriented, it is right on only one branch of the piecewise function."
    return ""


def _not_equivalent(evidence: dict[str, Any]) -> str:
    where = _point(evidence)
    sizes = _sizes(evidence)
    at = f"At {sizes}{', ' if sizes and where else ''}{where}" if (sizes or where) else "At a point"
    if "differs_at" in evidence:     # a student copy's: where, never what was expected
        differs, compared = evidence["differs_at"], evidence["compared"]
        text = (f"Not equivalent to the expected answer: it differs at {differs} of "
                f"{compared} points, for example {at[:1].lower()}{at[1:]}.")
        if 0 < differs < compared:   # a kink's branch can't be told from digests
            text += (" It agrees at the other points: if the function has a kink (relu, "
                     "Max, Abs), check your answer on each side of it.")
        return text
    if "expected" not in evidence:
        return "Not equivalent to the expected answer."
    entry = evidence.get("entry", [0, 0])
    location = "" if evidence.get("expected_shape") in (None, [1, 1]) else \
        f" entry ({entry[0]}, {entry[1]})"
    exactly = (f" In exact arithmetic, yours minus the expected value is "
               f"{evidence['difference']} there." if "difference" in evidence else "")
    expected, given = _apart(evidence["expected"], evidence["given"])
    if exactly and "decimal" in evidence:       # a long decimal, and a difference it made
        exactly += (f" You wrote {evidence['decimal']}: a decimal in an expression means "
                    "exactly that decimal, so write the number you mean itself (1/3, "
                    "sqrt(2), pi), not its digits.")
    if exactly and expected == given:           # too small for a float to show
        return (f"Not equivalent to the expected answer. {at},{location}"
                f"{',' if location else ''} yours and the expected value round to the same "
                f"float, {expected}, but they differ.{exactly}")
    return (f"Not equivalent to the expected answer. {at},{location} should be "
            f"{expected} but yours is {given}.{exactly}")


def _apart(expected: Any, given: Any) -> tuple[str, str]:
    """Both values, with as many digits as it takes to tell them apart (6 where that is
    enough; up to 17, a float's all): never "should be 1 but yours is 1"."""
    if isinstance(expected, float) and isinstance(given, float) and expected != given:
        for digits in (6, 9, 12, 17):
            shown = f"{expected + 0.0:.{digits}g}", f"{given + 0.0:.{digits}g}"
            if shown[0] != shown[1]:
                return shown
    return _fmt(expected), _fmt(given)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value + 0.0:.6g}"       # + 0.0: no "-0"
    return str(value)
