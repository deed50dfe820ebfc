"""A student copy decides what its digests allow exactly as the instructor's set does.

Every answer of the course's mistakes files (``examples/<set>_mistakes.py``) and the wrong
answers of the neuron corpus is graded twice, by the same pipeline: against the full set
(the reference's values) and against its published copy (digests of them). Wherever the
digests can decide, the copy names the same diagnoses; where the diagnosis's wording needs
no expected shape or value, it gives the same feedback, after "Local check: ". The few
outcomes a copy can't reach are listed below, with the reason.
"""

from __future__ import annotations

import functools
import runpy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from mcgrade.api import grade_values
from mcgrade.authoring.publish import publish
from mcgrade.model import ProblemSet, Verdict
from mcgrade.problemset import load_problem_set, parse_problem_set

ROOT = Path(__file__).resolve().parent.parent
SETS = sorted(p.stem for p in (ROOT / "problem_sets").glob("*.yaml")
              if (ROOT / "examples" / f"{p.stem}_mistakes.py").exists())

# What the full set diagnoses that a copy can't, and what the copy says instead:
UNDECIDED = {
    # the copy holds no mistakes (their answers and feedback are the author's secret): the
    # answer is judged on its values alone, as not equivalent or of the wrong shape
    "author-mistake": {"not-equivalent", "wrong-shape"},
    # the copy holds neither the kink arguments nor the reference on each side of a kink:
    # the copy says at how many points the answer differs, and to check both sides
    "piecewise-branch": {"not-equivalent"},
}
# Diagnoses whose feedback states no expected shape or value: word for word the same.
# (transposed, flat-array and wrong-shape name the expected shape in the full set, which
# a copy never states; not-equivalent names the expected value.)
# (non-finite names the point: a copy knows the values of the symbols the reference
# depends on there, the full set of every symbol of the problem; the rest is the same.)
SAME_WORDS = {"sign", "scale-factor", "missing", "unparseable", "forbidden"}


@functools.cache
def both(name: str) -> tuple[ProblemSet, ProblemSet]:
    full = load_problem_set(ROOT / "problem_sets" / f"{name}.yaml")
    return full, parse_problem_set(publish(full), f"student/{name}.yaml")


def local_words(feedback: str) -> str:
    return "Local check: " + feedback[:1].lower() + feedback[1:]


def assert_parity(full: Verdict, copy: Verdict) -> None:
    first = full.diagnoses[0] if full.diagnoses else ""
    undecided = [code for code in full.diagnoses if code in UNDECIDED]
    if undecided:      # (transposed, piecewise-branch) too: not equivalent, and transposed
        assert copy.diagnoses[0] in UNDECIDED[undecided[0]], (full, copy)
        return
    assert (copy.status, copy.diagnoses) == (full.status, full.diagnoses), (full, copy)
    assert copy.score == full.score
    if first in SAME_WORDS or (first == "elementwise-vs-matrix"
                               and full.feedback.startswith("You gave a vector")):
        words = full.feedback if first in ("missing", "unparseable", "forbidden") else \
            local_words(full.feedback)
        assert copy.feedback == words
    if first == "non-finite":
        tail = " where the expected value is finite"
        assert copy.feedback.partition(tail)[1:] == full.feedback.partition(tail)[1:]
    for key in ("factor", "right_where_kink_argument_is"):
        assert copy.evidence.get(key) == full.evidence.get(key)
    assert "expected" not in copy.evidence and "expected_shape" not in copy.evidence


@pytest.mark.parametrize("name", SETS)
def test_the_mistakes_files_get_the_same_diagnoses_from_the_copy(name: str) -> None:
    full, copy = both(name)
    values = runpy.run_path(str(ROOT / "examples" / f"{name}_mistakes.py"))
    values = {p.answer_name: values[p.answer_name] for p in full.problems
              if p.answer_name in values}
    graded = grade_values(values, full).verdicts
    local = grade_values(values, copy).verdicts
    for verdict, copied in zip(graded, local, strict=True):
        assert_parity(verdict, copied)


def corpus_cases() -> list[dict[str, Any]]:
    cases = yaml.safe_load((ROOT / "tests" / "corpus" / "neuron.yaml").read_text())
    return [c for c in cases if c.get("diagnoses") and "xfail" not in c
            and c.get("kind", "string") in ("string", "shape", "array", "number")]


def answer_value(case: dict[str, Any]) -> Any:
    kind, answer = case.get("kind", "string"), case["answer"]
    if kind == "shape":
        return tuple(answer)
    if kind == "array":
        return np.array(answer, dtype=float)
    return float(answer) if kind == "number" else answer


def test_the_neuron_corpus_gets_the_same_diagnoses_from_the_copy() -> None:
    full, copy = both("neuron")
    for case in corpus_cases():
        values = {full.problem(case["problem"]).answer_name: answer_value(case)}
        [verdict] = grade_values(values, full, [case["problem"]]).verdicts
        [copied] = grade_values(values, copy, [case["problem"]]).verdicts
        assert_parity(verdict, copied)


@pytest.mark.parametrize("answer, diagnoses, words", [
    # issue 15: a factor-2 error used to read "not equivalent" in the student copy
    ("x.T", ("scale-factor",), "your answer is 1/2 times the expected one: check the "
     "constant factor."),
    ("4 * x.T", ("scale-factor",), "your answer is 2 times the expected one: check the "
     "constant factor."),
    ("x", ("transposed", "scale-factor"), None),
    ("-x", ("transposed", "scale-factor"), None),
])
def test_a_constant_factor_is_found_in_the_copy(answer: str, diagnoses: tuple[str, ...],
                                                words: str | None) -> None:
    full, copy = both("neuron")
    [verdict] = grade_values({"sum_sq_grad": answer}, full, ["sum_sq_grad"]).verdicts
    [copied] = grade_values({"sum_sq_grad": answer}, copy, ["sum_sq_grad"]).verdicts
    assert verdict.diagnoses == copied.diagnoses == diagnoses
    assert copied.evidence.get("factor") == verdict.evidence.get("factor")
    if words:
        assert copied.feedback.startswith("Local check: " + words)
        assert verdict.feedback.startswith(words[:1].upper() + words[1:])
    else:
        assert copied.feedback.split(" Even so oriented, ")[1] == \
            verdict.feedback.split(" Even so oriented, ")[1]


@pytest.mark.parametrize("problem, answer, decimal", [
    ("dz_dw", "sqrt(2)*x.T/1.4142135623730951", "1.4142135623730951"),
    ("sum_sq_grad", "6*0.3333333333333333*x.T", "0.3333333333333333"),
    ("sum_sq_grad", "2.0000001*x.T", "2.0000001"),     # within the copy's rounding too
    # spelt without a leading digit, with underscores, in exponent form; the longest named
    ("sum_sq_grad", "6*.3333333333333333*x.T", ".3333333333333333"),
    ("sum_sq_grad", "6*0.333_333_333_333_333_3*x.T", "0.333_333_333_333_333_3"),
    ("sum_sq_grad", "6*3333333333333333e-16*x.T", "3333333333333333e-16"),
    ("sum_sq_grad", "0.5*4*x.T*(3*0.3333333333333333)", "0.3333333333333333"),
])
def test_the_digits_of_a_number_fail_locally_as_they_fail_in_grading(
        problem: str, answer: str, decimal: str) -> None:
    """The copy can't see a difference below its rounding, but the instructor's grading
    compares expressions exactly: the local check must not pass what grading fails."""
    full, copy = both("neuron")
    name = full.problem(problem).answer_name
    [verdict] = grade_values({name: answer}, full, [problem]).verdicts
    [copied] = grade_values({name: answer}, copy, [problem]).verdicts
    assert (verdict.status, copied.status) == ("incorrect", "incorrect")
    assert copied.diagnoses == ("not-equivalent",)
    assert copied.evidence["decimal"] == decimal
    assert copied.feedback.startswith(f"Local check: your answer writes {decimal}: in an "
                                      "expression a decimal means exactly that decimal")
    assert copied.feedback.split("\nHint: ")[0].endswith("Write the number itself.")


@pytest.mark.parametrize("answer", [
    "0.5*4*x.T", "2*x.T + 0.000001*0", "2.5*x.T - 0.5*x.T",
    # trailing zeros are no digits of anything: exact, and short once normalized
    "2.000000*x.T", "2*x.T*1.0000000", "0.5000000*4*x.T", "1000000.0*x.T/500000"])
def test_a_short_exact_decimal_passes_locally_as_in_grading(answer: str) -> None:
    full, copy = both("neuron")
    [verdict] = grade_values({"sum_sq_grad": answer}, full, ["sum_sq_grad"]).verdicts
    [copied] = grade_values({"sum_sq_grad": answer}, copy, ["sum_sq_grad"]).verdicts
    assert (verdict.status, copied.status) == ("correct", "correct")


def test_a_decimal_that_cancels_passes_where_the_digests_compare() -> None:
    """Where the copy compares exactly (or in balls), its digests decide, not the digits
    rule: a long decimal that cancels out is right there, as in grading."""
    full, copy = both("neuron")
    values = {"jac_Wx": "W * 1.2345678 / 1.2345678"}
    [verdict] = grade_values(values, full, ["jac_Wx"]).verdicts
    [copied] = grade_values(values, copy, ["jac_Wx"]).verdicts
    assert (verdict.status, copied.status, copied.method) == ("correct", "correct", "exact")


AT_SET = """
title: at
symbols:
  z: {}
  t: {}
problems:
  - id: scaled
    derivative: {of: "exp(t*z)", wrt: z}
    at: {t: 0.1234567}
"""


def test_a_number_the_problem_gives_may_be_spelt_out_locally() -> None:
    """An `at:` value is in the copy's points: writing its digits is writing that number."""
    full = parse_problem_set(AT_SET, "at.yaml")
    copy = parse_problem_set(publish(full), "student/at.yaml")
    for answer in ("t*exp(t*z)", "0.1234567*exp(0.1234567*z)"):
        [verdict] = grade_values({"scaled": answer}, full, ["scaled"]).verdicts
        [copied] = grade_values({"scaled": answer}, copy, ["scaled"]).verdicts
        assert (verdict.status, copied.status) == ("correct", "correct"), answer


EXACTLY = "Local check: exact arithmetic at a stored point"
IN_BALLS = "Local check: certified interval arithmetic at a stored point"


@pytest.mark.parametrize("name, problem, answer, lead", [
    # below the copy's float rounding, where only the exact digests see the difference
    ("neuron", "sum_sq_grad", "2*x.T + x.T/10**9", EXACTLY),
    ("neuron", "sum_sq_grad", "(2 + 1/10**8)*x.T", EXACTLY),
    ("neuron", "jac_Wx", "W - W/10**10", EXACTLY),
    ("second_order", "hess_quadratic", "(B + B.T)/2 + eye(n)/10**12", EXACTLY),
    ("second_order", "hess_pq", "Matrix([[6*p*q, 3*p**2], [3*p**2 + 1/10**9, 2]])", EXACTLY),
    # a transcendental or kinked reference (or answer): only the ball digests see these
    ("neuron", "neuron_db", "Piecewise((1, w.T @ x + b > 0), (0, True)) + 10**-15", IN_BALLS),
    ("neuron", "layer_jac", "diag(Heaviside(W @ x + c)) @ W + W/10**10", IN_BALLS),
    ("second_order", "hess_sum_exp", "diag(exp(x)) + eye(n)/10**12", IN_BALLS),
    ("elementwise", "add_dx", "eye(n)*(1 + sin(10**-9))", IN_BALLS),
])
def test_a_tiny_difference_fails_locally_as_it_fails_in_grading(name: str, problem: str,
                                                                 answer: str, lead: str
                                                                 ) -> None:
    full, copy = both(name)
    values = {full.problem(problem).answer_name: answer}
    [verdict] = grade_values(values, full, [problem]).verdicts
    [copied] = grade_values(values, copy, [problem]).verdicts
    assert (verdict.status, verdict.diagnoses) == (copied.status, copied.diagnoses) == \
        ("incorrect", ("not-equivalent",))
    assert copied.feedback.startswith(lead)
    assert "expected" not in copied.evidence


@pytest.mark.parametrize("name, problem, answer, method", [
    ("neuron", "sum_sq_grad", "x.T + x.T", "exact"),
    ("neuron", "jac_Wx", "(W.T).T", "exact"),
    ("second_order", "hess_quadratic", "B/2 + B.T/2", "exact"),
    ("second_order", "hess_pq", "Matrix([[6*q*p, 3*p*p], [3*p**2, 1 + 1]])", "exact"),
    ("neuron", "neuron_db", "Piecewise((1, w.T @ x + b > 0), (0, True))", "numeric"),
    ("neuron", "layer_jac", "diag(Heaviside(W @ x + c)) @ W", "numeric"),
    ("second_order", "hess_sum_exp", "diag(exp(x))", "numeric"),
    ("second_order", "hess_sum_exp", "diag(exp(x)*1)", "numeric"),
    ("elementwise", "add_dx", "eye(n)*(sin(x.T @ x)**2 + cos(x.T @ x)**2)", "numeric"),
])
def test_right_answers_pass_locally_as_in_grading(name: str, problem: str, answer: str,
                                                  method: str) -> None:
    full, copy = both(name)
    values = {full.problem(problem).answer_name: answer}
    [verdict] = grade_values(values, full, [problem]).verdicts
    [copied] = grade_values(values, copy, [problem]).verdicts
    assert (verdict.status, copied.status, copied.method) == ("correct", "correct", method)
    if method == "numeric":           # balls that agree state their bound, no more
        assert copied.evidence["checked"].startswith("within 1e-30")
