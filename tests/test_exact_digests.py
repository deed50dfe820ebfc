"""A student copy's exact digests: the local check is never more lenient than grading.

Grading compares an expression answer exactly (mod p at secret points); a copy's float
digests can't see a difference below their rounding. ``mcgrade publish`` therefore also
stores digests of a rational reference mod p at public points, and the local check
compares an expression answer there (``mcgrade.engine.exact_digest``).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import yaml

from mcgrade.api import grade_values
from mcgrade.authoring.publish import publish
from mcgrade.errors import ProblemSetError
from mcgrade.model import ProblemSet, Verdict
from mcgrade.problemset import load_problem_set, parse_problem_set

ROOT = Path(__file__).resolve().parent.parent
SETS = sorted((ROOT / "problem_sets").glob("*.yaml"))
DIFFERS = ("Local check: exact arithmetic at a stored point shows your answer differs from "
           "the expected one, by less than floats can show")


@functools.cache
def both(name: str) -> tuple[ProblemSet, ProblemSet, str]:
    full = load_problem_set(ROOT / "problem_sets" / f"{name}.yaml")
    text = publish(full)
    return full, parse_problem_set(text, f"student/{name}.yaml"), text


def grade(problem_set: ProblemSet, problem: str, answer: str) -> Verdict:
    name = problem_set.problem(problem).answer_name
    [verdict] = grade_values({name: answer}, problem_set, [problem]).verdicts
    return verdict


def without_exact(text: str) -> str:
    """The copy as published before exact digests: no `exact:` lists."""
    return re.sub(r"^( *)exact:\n(?:\1- .*\n)+", "", text, flags=re.M)


def test_a_difference_below_the_float_digests_fails_locally_as_in_grading() -> None:
    full, copy, _ = both("neuron")
    answer = "2*x.T + x.T/10**9"
    graded, local = grade(full, "sum_sq_grad", answer), grade(copy, "sum_sq_grad", answer)
    assert (graded.status, local.status) == ("incorrect", "incorrect")
    assert local.diagnoses == ("not-equivalent",)
    assert local.feedback.startswith(DIFFERS)
    assert "expected" not in local.evidence and local.evidence["local"]


@pytest.mark.parametrize("answer", ["2*x.T", "x.T*2", "(x + x).T", "2*x.T + 0*x.T",
                                    "x.T + x.T", "(2*x).T", "4*x.T/2"])
def test_right_answers_are_exact_at_the_stored_points(answer: str) -> None:
    _, copy, _ = both("neuron")
    local = grade(copy, "sum_sq_grad", answer)
    assert local.status == "correct", local
    assert local.method == "exact"
    assert local.evidence["points"] == 6 and local.evidence["local"]


@pytest.mark.parametrize("name, problem, right, wrong", [
    ("neuron", "jac_Wx", "W", "W*(1 + 1/10**10)"),
    ("neuron", "jac_Wx", "W.T.T", "W + W/10**12"),
    ("second_order", "hess_pq", "Matrix([[6*p*q, 3*p**2], [3*p**2, 2]])",
     "Matrix([[6*p*q, 3*p**2], [3*p**2, 2 + 1/10**9]])"),
    ("second_order", "hess_quadratic", "(B + B.T)/2", "(B + B.T)/2 + B/10**11"),
])
def test_derivatives_and_hessians_get_exact_digests(name: str, problem: str, right: str,
                                                    wrong: str) -> None:
    full, copy, text = both(name)
    stored = next(p for p in yaml.safe_load(text)["problems"] if p["id"] == problem)
    assert all(len(i["exact"]) == 2 for i in stored["checks"]["instances"])
    assert grade(copy, problem, right).status == "correct"
    graded, local = grade(full, problem, wrong), grade(copy, problem, wrong)
    assert (graded.status, local.status) == ("incorrect", "incorrect")
    assert local.feedback.startswith(DIFFERS)


def test_transcendental_and_at_problems_keep_the_float_digests_only() -> None:
    _, _, text = both("second_order")
    problems = {p["id"]: p for p in yaml.safe_load(text)["problems"]}
    for problem in ("hess_sum_exp", "hess_pq_at"):     # exp; a point an `at` binds
        assert not any("exact" in i for i in problems[problem]["checks"]["instances"])


def test_an_older_copy_without_exact_digests_grades_as_before() -> None:
    _, _, text = both("neuron")
    older = parse_problem_set(without_exact(text), "student/neuron.yaml")
    assert "exact:" not in without_exact(text)
    assert all(not s.exact for p in older.problems if p.checks
               for s in p.checks.instances)
    right = grade(older, "sum_sq_grad", "2*x.T")
    assert (right.status, right.method) == ("correct", "numeric")
    # the leniency the exact digests remove: below the float digests' rounding
    assert grade(older, "sum_sq_grad", "2*x.T + x.T/10**9").status == "correct"


def test_a_malformed_exact_digest_is_one_line_with_its_place() -> None:
    _, _, text = both("neuron")
    broken = re.sub(r"(exact:\n *- )\S+", r"\1not-hex", text, count=1)
    with pytest.raises(ProblemSetError) as caught:
        parse_problem_set(broken, "s.yaml")
    message = str(caught.value)
    assert "\n" not in message
    assert re.match(r"s\.yaml:\d+: problems\[0\] \(id='dz_dw'\) → checks → instances\[0\] → "
                    r"exact\[0\]: ", message), message


def test_exact_digests_are_deterministic_and_hold_no_reference_text() -> None:
    full, _, text = both("neuron")
    assert publish(full) == text
    for problem in full.problems:
        if problem.answer and len(problem.answer) > 3 and problem.answer not in text:
            assert problem.answer not in text


@pytest.mark.parametrize("path", SETS, ids=[p.stem for p in SETS])
def test_every_course_set_publishes_with_exact_digests_where_rational(path: Path) -> None:
    text = publish(load_problem_set(path))
    copy = parse_problem_set(text, f"student/{path.name}")
    for problem in copy.problems:
        assert problem.checks is not None
        for stored in problem.checks.instances:
            assert len(stored.exact) in (0, 2)
            assert all(re.fullmatch("[0-9a-f]{16}", d) for d in stored.exact)


def test_a_retouched_title_keeps_the_public_points() -> None:
    """The points are drawn from the problem and the sizes, not the title a student (or a
    course template) may edit: a right answer stays exact, a wrong one still differs."""
    _, _, text = both("neuron")
    retouched = re.sub(r"^title: .*$", "title: 'HW 1 (my copy)'", text, count=1, flags=re.M)
    assert retouched != text
    copy = parse_problem_set(retouched, "student/neuron.yaml")
    right = grade(copy, "sum_sq_grad", "2*x.T")
    assert (right.status, right.method) == ("correct", "exact")
    assert grade(copy, "sum_sq_grad", "2*x.T + x.T/10**9").status == "incorrect"


def test_a_local_exact_verdict_says_its_points_are_the_stored_ones() -> None:
    from mcgrade.engine.feedback import how_checked
    _, copy, _ = both("neuron")
    right = grade(copy, "sum_sq_grad", "2*x.T")
    said = how_checked(right.method, right.evidence)
    assert said.startswith("exact at 6 stored points, mod p")      # 3 sizes, 2 points each
    assert "random points and sizes" not in said
