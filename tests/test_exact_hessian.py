"""Exact forward mode for Hessians and transcendental references (mcgrade.engine.
exact_forward): entry for entry the sympy reference wherever sympy builds one, and the
verdicts it makes possible where sympy does not."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import flint
import numpy as np
import pytest

from mcgrade.engine import exact as exact_check
from mcgrade.engine import exact_forward
from mcgrade.engine.arithmetic import BALL, MODP, RATIONAL, Arithmetic, NotExact, ball_precision
from mcgrade.engine.compiler import compile_problem_set
from mcgrade.engine.exact_forward import forward_reference
from mcgrade.engine.feedback import how_checked
from mcgrade.engine.reference import Instance, Reference
from mcgrade.errors import ProblemSetError
from mcgrade.grading import Grader
from mcgrade.model import Answer
from mcgrade.problemset import load_problem_set, parse_problem_set
from mcgrade.records import verdict_record

ROOT = Path(__file__).resolve().parent.parent
SETS = sorted((ROOT / "problem_sets").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "corpus" / "sets").glob("*.yaml"))
FORWARD_SET = ROOT / "tests" / "corpus" / "sets" / "forward_exact.yaml"
SIZES_SET = ROOT / "tests" / "corpus" / "sets" / "sizes.yaml"

SET = """
title: Forward Hessians
symbols:
  n: {dimension: true, sizes: [2, 3]}
  x: {shape: [n, 1], domain: positive}
  w: {shape: [n, 1]}
  r: {shape: [1, n]}
  z: {shape: [n, 1]}
  X: {shape: [n, n], invertible: true}
  A: {shape: [n, n]}
  S: {shape: [n, n], symmetric: true}
  p: {}
  q: {domain: positive}
problems:
  - {id: quadratic, hessian: {of: "x.T @ A @ x", wrt: x}}
  - {id: symmetric, hessian: {of: "x.T @ S @ x + w.T @ x", wrt: x}}
  - {id: quad_inv, hessian: {of: "x.T @ inv(X) @ x", wrt: x}}
  - {id: cubes, hessian: {of: "sum(x**3)", wrt: x}}
  - {id: squared_dot, hessian: {of: "(w.T @ x)**2", wrt: x}}
  - {id: quotient, hessian: {of: "(w.T @ x) / (1 + x.T @ x)", wrt: x}}
  - {id: det_scaled, hessian: {of: "det(X + x @ x.T)", wrt: x}}
  - {id: log_sum, hessian: {of: "log(sum(x)) + sum(log(x))", wrt: x}}
  - {id: row, hessian: {of: "r @ A @ r.T", wrt: r}}
  - {id: scalars, hessian: {of: "p**3*q + q**2 + p/q", wrt: [p, q]}}
  - {id: logsumexp, hessian: {of: "logsumexp(z)", wrt: z}}
  - {id: transcendental, hessian: {of: "sum(sin(x)*tanh(x) + sqrt(x) + x**(3/2) + sigmoid(x)
                                        + cosh(x)*sec(x) + asinh(x) + atan(x)) + exp(p*q)",
                                   wrt: x}}
  - {id: softmax, derivative: {of: "softmax(A @ z)", wrt: z}}
"""

RATIONAL_PROBLEMS = ["quadratic", "symmetric", "quad_inv", "cubes", "squared_dot",
                     "quotient", "det_scaled", "log_sum", "row", "scalars"]
BALL_PROBLEMS = ["logsumexp", "transcendental", "softmax"]


@pytest.fixture(autouse=True)
def no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCGRADE_CACHE", "0")


@pytest.fixture(scope="module")
def compiled() -> dict[str, Reference]:
    return dict(compile_problem_set(parse_problem_set(SET, "hessians.yaml")).references)


def _env(reference: Reference, instance: Instance, arithmetic: Arithmetic, point: int,
         rng: np.random.Generator) -> dict[str, Any]:
    if arithmetic is MODP:
        return exact_check.mod_p_env(reference, instance.sizes, instance, rng)
    return exact_check._sample_env(instance, point, arithmetic)


def _both(reference: Reference, instance: Instance, arithmetic: Arithmetic, point: int,
          rng: np.random.Generator) -> tuple[Any, Any]:
    """The reference at one point by forward mode and from its sympy value."""
    env = _env(reference, instance, arithmetic, point, rng)
    by_sympy = exact_check.evaluate_sympy(instance.value, arithmetic,
                                          exact_check._table(instance, env))
    return forward_reference(reference, arithmetic, env, instance.sizes), by_sympy


@pytest.mark.parametrize("problem", RATIONAL_PROBLEMS)
@pytest.mark.parametrize("arithmetic", [MODP, RATIONAL], ids=["mod-p", "rational"])
def test_the_forward_hessian_is_the_sympy_one_exactly(compiled: dict[str, Reference],
                                                      problem: str,
                                                      arithmetic: Arithmetic) -> None:
    reference = compiled[problem]
    rng = np.random.default_rng(7)
    for instance in reference.instances:
        assert not instance.forward
        for point in range(3):
            forward, by_sympy = _both(reference, instance, arithmetic, point, rng)
            assert (forward.rows, forward.cols) == (by_sympy.rows, by_sympy.cols) == \
                instance.shape
            assert forward.entries == by_sympy.entries, (problem, dict(instance.sizes))


@pytest.mark.parametrize("problem", BALL_PROBLEMS)
def test_the_forward_transcendental_reference_is_the_sympy_one_in_balls(
        compiled: dict[str, Reference], problem: str) -> None:
    """Mod p they have no value; in balls every entry is a tight ball that overlaps the
    sympy reference's."""
    reference = compiled[problem]
    rng = np.random.default_rng(7)
    with ball_precision():
        for instance in reference.instances:
            with pytest.raises(NotExact):
                _both(reference, instance, MODP, 0, rng)
            for point in range(instance.samples.count):
                forward, by_sympy = _both(reference, instance, BALL, point, rng)
                assert (forward.rows, forward.cols) == (by_sympy.rows, by_sympy.cols)
                for f, s in zip(forward.entries, by_sympy.entries):
                    assert f.overlaps(s) and float(f.rad()) < 1e-40, (problem, f, s)


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_every_course_reference_by_exact_forward_mode(path: Path) -> None:
    """Every derivative and Hessian of the course that sympy builds, again by exact forward
    mode: equal mod p where both are rational, overlapping balls where not."""
    references = compile_problem_set(load_problem_set(path)).references.values()
    rng = np.random.default_rng(11)
    compared = 0
    for reference in references:
        if reference.problem.kind not in ("derivative", "hessian"):
            continue
        for instance in reference.instances:
            if instance.forward or instance.value is None:
                continue
            try:
                forward, by_sympy = _both(reference, instance, MODP, 0, rng)
                assert forward.entries == by_sympy.entries, reference.problem.id
                compared += 1
                continue
            except NotExact:
                pass
            with ball_precision():
                try:
                    forward, by_sympy = _both(reference, instance, BALL, 0, rng)
                except NotExact:
                    continue               # a kink in the sympy value, say: floats decide
            assert all(f.overlaps(s) for f, s in zip(forward.entries, by_sympy.entries)), \
                reference.problem.id
            compared += 1
    assert compared or path.name in ("elementwise.yaml", "exactness.yaml")


def test_a_hessian_by_a_matrix_is_refused() -> None:
    """The Hessian of log det X by X would be a fourth-order tensor: not in the conventions,
    so there is nothing for forward mode to arrange."""
    text = SET.replace("problems:", "problems:\n  - {id: logdet, hessian: {of: \"log(det(X))\","
                                    " wrt: X}}")
    with pytest.raises(ProblemSetError, match="fourth-order tensor"):
        compile_problem_set(parse_problem_set(text, "hessians.yaml"))


# --- verdicts ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def forward_set() -> Grader:
    return Grader(load_problem_set(FORWARD_SET))


def _check(grader: Grader, problem: str, text: str) -> Any:
    return grader.check(grader.problem_set.problem(problem), Answer("string", text=text))


def test_the_hessians_forward_size_is_where_this_matters(forward_set: Grader) -> None:
    compiled = compile_problem_set(forward_set.problem_set).references
    for reference in compiled.values():
        assert [i.forward for i in reference.instances] == [False, True]


def test_a_right_hessian_at_a_forward_size_is_exact(forward_set: Grader) -> None:
    verdict = _check(forward_set, "hess_quad_inv", "inv(X).T + inv(X)")
    assert (verdict.status, verdict.method) == ("correct", "exact")
    points = verdict.evidence["points"]
    # both declared sizes and the two larger ones, two points each
    assert points == 4 * exact_check.POINTS_PER_SIZE
    assert verdict.evidence["checked"] == (f"exact at {points} random points and sizes "
                                           f"(false-accept chance below 2^-{points})")


def test_a_hessian_wrong_below_the_tolerance_at_a_forward_size_is_rejected(
        forward_set: Grader) -> None:
    verdict = _check(forward_set, "hess_quad_inv", "inv(X) + inv(X).T + (n - 2)*eye(n)/10**9")
    assert (verdict.status, verdict.diagnoses, verdict.method) == (
        "incorrect", ("not-equivalent",), "symbolic")
    assert verdict.evidence["sizes"] == {"n": 4}
    assert verdict.evidence["difference"] in ("1/500000000", "0")     # a diagonal entry
    assert "In exact arithmetic" in verdict.feedback


def test_a_hessian_right_at_2x2_only_is_rejected_at_a_larger_size() -> None:
    grader = Grader(load_problem_set(SIZES_SET))
    commutator = "(P @ Q - Q @ P)"
    verdict = _check(grader, "hess_quad", f"P + P.T + {commutator} @ {commutator} @ P - P @ "
                     f"{commutator} @ {commutator}")
    assert (verdict.status, verdict.diagnoses) == ("incorrect", ("not-equivalent",))
    assert verdict.evidence["sizes"]["n"] >= 3
    right = _check(grader, "hess_quad", "P.T + P")
    assert (right.status, right.method) == ("correct", "symbolic")


CANCELLED = "(n - 2)*(exp(40) + 1/100 - exp(40))"     # 0 in floats, 1/100 in fact


@pytest.mark.parametrize("problem, text", [
    ("grad_gauss", "-exp(-x.T @ inv(X) @ x / 2) * x.T @ (inv(X) + inv(X).T)/2 + "
     f"{CANCELLED}*x.T"),
    ("hess_lse_inv", "inv(X).T @ (diag(softmax(inv(X) @ x)) - softmax(inv(X) @ x) @ "
     f"softmax(inv(X) @ x).T + {CANCELLED}*eye(n)) @ inv(X)"),
])
def test_balls_prove_what_floats_lost_at_a_forward_size(forward_set: Grader, problem: str,
                                                        text: str) -> None:
    verdict = _check(forward_set, problem, text)
    assert (verdict.status, verdict.diagnoses, verdict.method) == (
        "incorrect", ("not-equivalent",), "symbolic")
    assert verdict.evidence["sizes"] == {"n": 4}
    assert abs(verdict.evidence["given"] - verdict.evidence["expected"]) > 1e-5
    assert how_checked(verdict.method, verdict.evidence) == exact_check.BALL_PROOF
    assert flint.ctx.prec == 53                  # the precision is the ball check's alone


def test_agreeing_balls_state_their_bound_and_claim_no_more(forward_set: Grader) -> None:
    """Balls that agree are no proof of an identity: the verdict stays numeric, and says
    how close the certified values were at the points it rests on."""
    verdict = _check(forward_set, "hess_lse_inv", "inv(X).T @ (diag(softmax(inv(X) @ x)) - "
                     "softmax(inv(X) @ x) @ softmax(inv(X) @ x).T) @ inv(X)")
    assert (verdict.status, verdict.method) == ("correct", "numeric")
    points = verdict.evidence["points"]
    said = how_checked(verdict.method, verdict.evidence)
    assert said == verdict.evidence["checked"]
    assert said.startswith("within ") and said.endswith(
        f" of the expected values at {points} points, in certified interval arithmetic")
    bound = float(said.split()[1])
    assert 0 < bound < 1e-40            # 200-bit balls: far below any float tolerance



@pytest.mark.parametrize("text", [
    # off by 1e-12: inside the float tolerance, but an expression is exact
    "inv(X).T @ (diag(softmax(inv(X) @ x)) - softmax(inv(X) @ x) @ softmax(inv(X) @ x).T"
    " + eye(n)/10**12) @ inv(X)",
    # a decimal is the decimal it says, as mod p: 0.5 is exactly 1/2, 0.3333 is not 1/3
    "inv(X).T @ (diag(softmax(inv(X) @ x)) - softmax(inv(X) @ x) @ softmax(inv(X) @ x).T)"
    " @ inv(X) * 0.3333333333333333 * 3",
])
def test_a_transcendental_answer_is_exact_too(forward_set: Grader, text: str) -> None:
    """The tolerance is for numbers a student computed: an expression that balls prove
    different is wrong however small the difference, as mod p, and the feedback says
    how small."""
    verdict = _check(forward_set, "hess_lse_inv", text)
    assert (verdict.status, verdict.method) == ("incorrect", "symbolic")
    assert how_checked(verdict.method, verdict.evidence) == exact_check.BALL_PROOF
    assert verdict.evidence["difference"].startswith("about ")
    assert 1e-18 < abs(float(verdict.evidence["difference"].split()[1])) < 1e-9
    assert "yours minus the expected value is about " in verdict.feedback
    right = _check(forward_set, "hess_lse_inv", "inv(X).T @ (diag(softmax(inv(X) @ x)) - "
                   "softmax(inv(X) @ x) @ softmax(inv(X) @ x).T) @ inv(X) * 0.5 * 2")
    assert right.status == "correct"


def test_ball_checks_in_threads_give_the_same_records() -> None:
    """The balls' precision is global to python-flint: checks in threads hold it in turn."""
    text = ("exp(-x.T @ inv(X) @ x / 2) * ((inv(X) + inv(X).T)/2 @ x @ x.T @ "
            f"(inv(X) + inv(X).T)/2 - (inv(X) + inv(X).T)/2) + {CANCELLED}*eye(n)")

    def record(_: int) -> str:
        grader = Grader(load_problem_set(FORWARD_SET))
        verdict = _check(grader, "hess_gauss", text)
        return json.dumps(verdict_record(verdict), sort_keys=True)
    with ThreadPoolExecutor(max_workers=4) as pool:
        records = list(pool.map(record, range(4)))
    assert len(set(records)) == 1 and '"not-equivalent"' in records[0]


def test_forward_mode_past_its_work_allowance_is_left_to_the_floats() -> None:
    """A Hessian whose 50×50 inverse depends on x would take tens of seconds a point: a
    count known in advance refuses it at once (never a timer); the same at n = 8 runs."""
    text = """
title: heavy
symbols:
  n: {dimension: true, sizes: [8]}
  x: {shape: [n, 1]}
  X: {shape: [n, n], invertible: true}
problems:
  - {id: heavy, hessian: {of: "x.T @ inv(X + x @ x.T) @ x", wrt: x}}
"""
    reference = compile_problem_set(parse_problem_set(text, "heavy.yaml")).references["heavy"]
    rng = np.random.default_rng(5)
    for n, runs in ((8, True), (50, False)):
        env = exact_check.mod_p_env(reference, {"n": n}, None, rng)
        if runs:
            assert forward_reference(reference, MODP, env, {"n": n}).rows == n
        else:
            with pytest.raises(NotExact, match="allowance"):
                forward_reference(reference, MODP, env, {"n": n})
    assert reference.source is not None
    estimate = exact_forward.work(reference.source.root, frozenset({"x"}), {"n": 50}, 2 * 51**2)
    assert estimate > exact_forward.FORWARD_EXACT_WORK
