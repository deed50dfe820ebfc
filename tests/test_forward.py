"""Forward-mode references (mcgrade.engine.forward) against the sympy path, and the hard
set that only forward mode can build at n = 8."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mcgrade.authoring.publish import publish
from mcgrade.engine import forward
from mcgrade.engine.compiler import FORWARD_WORK, compile_problem_set, scope_of
from mcgrade.expressions import compile_expression
from mcgrade.grading import Grader
from mcgrade.model import Answer
from mcgrade.problemset import load_problem_set

ROOT = Path(__file__).resolve().parent.parent
SETS = sorted((ROOT / "problem_sets").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "corpus" / "sets").glob("*.yaml"))
HARD = ROOT / "bench" / "hard.yaml"


@pytest.fixture(autouse=True)
def no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCGRADE_CACHE", "0")


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_forward_values_equal_the_sympy_references(path: Path) -> None:
    """A strong cross-check: every instance of every course problem that the sympy path
    builds, evaluated again by forward mode at the same points."""
    problem_set = load_problem_set(path)
    compiled = compile_problem_set(problem_set)
    compared = 0
    for reference in compiled.references.values():
        problem = reference.problem
        if problem.kind == "shape":
            continue
        source = compile_expression(problem.answer if problem.kind == "answer" else problem.of
                                    or "", scope_of(problem_set))
        for instance in reference.instances:
            if instance.forward:              # grad_logdet at n = 5 alone (below)
                continue
            found = forward.reference_values(
                source, problem.kind, problem.wrt, problem.wrt_is_list, problem_set.layout,
                instance.samples.values, instance.sizes, instance.samples.count)
            assert instance.expected is not None
            assert found.values.shape == instance.expected.shape, problem.id
            np.testing.assert_allclose(found.values, instance.expected, rtol=1e-9,
                                       atol=1e-12, err_msg=problem.id)
            compared += 1
    assert compared


def test_the_hard_set_compiles_at_n_8_by_forward_mode() -> None:
    compiled = compile_problem_set(load_problem_set(HARD))
    by_size = {pid: {i.sizes["n"]: i.forward for i in r.instances}
               for pid, r in compiled.references.items()}
    assert by_size["logdet"] == {2: False, 4: False, 8: True}
    assert by_size["quad_inv"][8] and by_size["trace_xax"][8]
    logdet = compiled.references["logdet"].instances[-1]
    assert logdet.value is None and logdet.expected is not None
    x = logdet.samples.values["X"]
    np.testing.assert_allclose(logdet.expected, np.linalg.inv(x), rtol=1e-10)


@pytest.fixture(scope="module")
def hard() -> Grader:
    return Grader(load_problem_set(HARD))


@pytest.mark.parametrize("problem, text, status, method", [
    ("logdet", "inv(X)", "correct", "exact"),
    ("quad_inv", "x.T @ (inv(X) + inv(X).T)", "correct", "exact"),
    ("trace_xax", "X.T @ (A + A.T)", "correct", "exact"),
    ("hess_lse", "diag(softmax(z)) - softmax(z) @ softmax(z).T", "correct", "symbolic"),
    # right at n = 2 and 4 only: the forward-mode reference at n = 8 rejects them, and
    # the exact check (forward mode mod p, then in rationals) proves the difference
    ("logdet", "inv(X) + (n - 2)*(n - 4)*eye(n)/10**9", "incorrect", "symbolic"),
    ("quad_inv", "x.T @ (inv(X) + inv(X).T) + (n - 2)*(n - 4)*x.T", "incorrect", "numeric"),
    ("logdet", "inv(X).T", "incorrect", "numeric"),
])
def test_answers_to_the_hard_set(hard: Grader, problem: str, text: str, status: str,
                                 method: str) -> None:
    verdict = hard.check(hard.problem_set.problem(problem), Answer("string", text=text))
    assert (verdict.status, verdict.method) == (status, method), verdict
    if status == "incorrect" and "(n - 2)" in text:
        assert verdict.evidence["sizes"] == {"n": 8}


def test_the_hard_set_publishes_and_its_copy_checks_at_n_8(tmp_path: Path) -> None:
    """A student copy of a set forward mode builds: its points at n = 8 keep digests of
    the forward-mode values, and a right answer passes where a transposed one does not."""
    copy = tmp_path / "hard.yaml"
    copy.write_text(publish(load_problem_set(HARD)), encoding="utf-8")
    local = Grader(load_problem_set(copy))
    logdet = local.problem_set.problem("logdet")
    assert [dict(s.sizes)["n"] for s in logdet.checks.instances] == [2, 4, 8]
    right = local.check(logdet, Answer("string", text="inv(X)"))
    wrong = local.check(logdet, Answer("string", text="inv(X).T"))
    assert right.status == "correct" and wrong.diagnoses == ("transposed",)


def test_the_rule_is_a_work_estimate() -> None:
    """Known before anything is built: log(det(Y)) at n = 5 by Y is past it, the course's
    largest other instance (a Hessian at n = 5) is not."""
    problem_set = load_problem_set(ROOT / "problem_sets" / "denominator.yaml")
    compiled = compile_problem_set(problem_set)
    forwarded = {(pid, i.sizes["n"]) for pid, r in compiled.references.items()
                 for i in r.instances if i.forward}
    assert forwarded == {("grad_logdet", 5)}
    assert FORWARD_WORK == 100_000
