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
from typing import Any

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
BALL_DIFFERS = ("Local check: certified interval arithmetic at a stored point shows your "
                "answer differs from the expected one, by less than floats can show")


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
    """The copy as published before exact digests (and ball digests): no `exact:`,
    `ball:` or `ball_grids:` lists."""
    return without_ball(re.sub(r"^( *)exact:\n(?:\1- .*\n)+", "", text, flags=re.M))


def without_ball(text: str) -> str:
    """The copy as published before ball digests: no `ball:` or `ball_grids:` lists."""
    return re.sub(r"^( *)(?:ball|ball_grids):\n(?:\1- .*\n)+", "", text, flags=re.M)


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


# --- ball digests (mcgrade.engine.ball_digest): where mod p can't evaluate the reference,
# or the answer (sin(...) for eye(n)), certified balls at public rational points decide

TRIAL = [   # a user trial: each passed the copy's float digests and failed grading
    ("neuron", "neuron_db", "Piecewise((1, w.T @ x + b > 0), (0, True)) + 10**-15"),
    ("neuron", "layer_jac", "diag(Heaviside(W @ x + c)) @ W + W/10**10"),
    ("second_order", "hess_sum_exp", "diag(exp(x)) + eye(n)/10**12"),
    ("second_order", "hess_logistic",
     "sigmoid(a.T @ x) * (1 - sigmoid(a.T @ x)) * (a @ a.T) + eye(n)/10**13"),
    ("elementwise", "add_dx", "eye(n)*(1 + sin(10**-9))"),
    ("elementwise", "div_dx", "diag(-w / x**2) * exp(10**-20)"),
]


def stored_instances(text: str, problem: str) -> list[dict[str, Any]]:
    found = next(p for p in yaml.safe_load(text)["problems"] if p["id"] == problem)
    instances: list[dict[str, Any]] = found["checks"]["instances"]
    return instances


@pytest.mark.parametrize("name, problem, answer", TRIAL)
def test_a_tiny_difference_in_balls_fails_locally_as_in_grading(name: str, problem: str,
                                                                answer: str) -> None:
    full, copy, text = both(name)
    assert all(len(i["ball"]) == 2 for i in stored_instances(text, problem))
    graded, local = grade(full, problem, answer), grade(copy, problem, answer)
    assert (graded.status, local.status) == ("incorrect", "incorrect")
    assert local.diagnoses == ("not-equivalent",)
    assert local.feedback.startswith(BALL_DIFFERS), local.feedback
    assert "expected" not in local.evidence and local.evidence["local"]
    # a copy published before ball digests can't see it (the leniency they remove)
    older = parse_problem_set(without_ball(text), f"student/{name}.yaml")
    assert grade(older, problem, answer).status == "correct"


@pytest.mark.parametrize("name, problem, answer", [
    ("neuron", "neuron_db", "Heaviside(w.T @ x + b)"),
    ("neuron", "neuron_db", "Piecewise((1, w.T @ x + b > 0), (0, True))"),
    ("neuron", "neuron_db", "Heaviside(b + x.T @ w)"),
    ("neuron", "layer_jac", "diag(Heaviside(W @ x + c)) @ W"),
    ("neuron", "layer_jac", "diag(Heaviside(c + W @ x)) @ W.T.T"),
    ("second_order", "hess_sum_exp", "diag(exp(x))"),
    ("second_order", "hess_sum_exp", "diag(exp(x/2)**2)"),
    ("second_order", "hess_sum_exp", "eye(n) @ diag(exp(x)) @ eye(n)"),
    ("second_order", "hess_logistic",
     "sigmoid(a.T @ x) * (1 - sigmoid(a.T @ x)) * (a @ a.T)"),
    ("second_order", "hess_logistic", "sigmoid(a.T @ x) * sigmoid(-a.T @ x) * a @ a.T"),
    ("elementwise", "add_dx", "eye(n)*(sin(x.T @ x)**2 + cos(x.T @ x)**2)"),
    ("elementwise", "div_dx", "diag(-w * exp(-2*log(abs(x))))"),
])
def test_right_answers_in_balls_pass_locally_with_a_bound(name: str, problem: str,
                                                          answer: str) -> None:
    full, copy, _ = both(name)
    graded, local = grade(full, problem, answer), grade(copy, problem, answer)
    assert (graded.status, local.status) == ("correct", "correct"), (graded, local)
    assert local.method in ("numeric", "exact")
    if local.method == "numeric":      # not "exact": the method stays numeric
        assert local.evidence["checked"].startswith("within 1e-30"), local.evidence


def test_an_at_problem_gets_no_ball_digests() -> None:
    """A point an `at` binds is in the copy only as a float (pi, 0.1234567): its exact
    number is the author's secret, so no cell of the reference can be redrawn there."""
    _, _, text = both("second_order")
    for problem in ("dir_second", "hess_pq_at"):
        assert not any("ball" in i for i in stored_instances(text, problem))


def test_ball_digests_are_deterministic_and_a_malformed_one_is_one_line() -> None:
    full, _, text = both("second_order")
    assert publish(full) == text
    broken = re.sub(r"(ball:\n *- )\S+", r"\1not-hex", text, count=1)
    with pytest.raises(ProblemSetError) as caught:
        parse_problem_set(broken, "s.yaml")
    assert "\n" not in str(caught.value) and "ball[0]" in str(caught.value), caught.value
    if "ball_grids:" in text:
        extra = re.sub(r"(ball_grids:\n( *)- .*\n)", r"\1\2- ''\n", text, count=1)
        with pytest.raises(ProblemSetError, match="grids for 2 ball digests"):
            parse_problem_set(extra, "s.yaml")


@pytest.mark.parametrize("path", SETS, ids=[p.stem for p in SETS])
def test_every_course_set_publishes_ball_digests_that_load(path: Path) -> None:
    copy = parse_problem_set(publish(load_problem_set(path)), f"student/{path.name}")
    for problem in copy.problems:
        assert problem.checks is not None
        for stored in problem.checks.instances:
            assert len(stored.ball) in (0, 2)
            assert len(stored.ball_grids) in (0, len(stored.ball))
