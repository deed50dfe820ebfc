"""Records are a function of the inputs and mcgrade's version (SPEC §5.5), never of the clock.

Symbolic and exact work are bounded by deterministic allowances (``mcgrade.engine.budget.Work``);
the one wall-clock limit left is a last-resort guard, and when it fires the check raises
CheckAbandoned instead of giving any verdict. The answers below are the ones whose method
used to depend on a 0.2 s budget: near it on a quiet machine, past it on a busy one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sympy as sp

import mcgrade
from mcgrade import grading
from mcgrade.engine import budget, symbolic
from mcgrade.engine.budget import Work, WorkExhausted, finish_within
from mcgrade.errors import CheckAbandoned
from mcgrade.expressions import compile_expression
from mcgrade.grading import Grader, grade_file
from mcgrade.model import Answer
from mcgrade.problemset import load_problem_set
from mcgrade.records import report_record, verdict_record

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "problem_sets"
_s, _t = sp.symbols("s t")
EXPANDED = str(sp.expand(20 * (_s + _t + 1) ** 19))     # floats lose it: the exact step

BORDERLINE = [
    ("identities.yaml", "chain_sigmoid", "diag(sigmoid(W @ x) * (1 - sigmoid(W @ x))) @ W"),
    ("identities.yaml", "chain_sigmoid",
     "diag((1 + tanh(W @ x / 2))/2 * (1 - (1 + tanh(W @ x / 2))/2)) @ W"),
    ("identities.yaml", "expanded_power", EXPANDED),
    ("identities.yaml", "grad_logdet", "inv(Y @ Y) @ Y"),      # exhausts the allowance
    ("second_order.yaml", "hess_logistic",
     "exp(a.T @ x) / (1 + exp(a.T @ x))**2 * (a @ a.T)"),
    ("loss.yaml", "relu_dw", "2/N * (relu(X @ w + b) - y).T @ diag(Heaviside(X @ w + b)) @ X"),
    ("denominator.yaml", "grad_logdet", "inv(Y).T"),
    ("chain_rules.yaml", "vec_chain_layer", "diag(1/cosh(W @ v + c)**2) @ W"),
    ("scalar_rules.yaml", "sigmoid_deriv", "1 / (2 + 2*cosh(x))"),
    ("neuron.yaml", "dz_dw", "x"),
]


def records() -> list[str]:
    """The borderline answers' verdict records, as JSON text, from fresh graders."""
    graders = {name: Grader(load_problem_set(SETS / name))
               for name in {name for name, _, _ in BORDERLINE}}
    out = []
    for name, problem, text in BORDERLINE:
        grader = graders[name]
        verdict = grader.check(grader.problem_set.problem(problem), Answer("string", text=text))
        out.append(json.dumps(verdict_record(verdict), sort_keys=True))
    return out


@pytest.fixture(scope="module")
def quiet() -> list[str]:
    return records()


def test_the_borderline_answers_are_proved_or_not_by_their_size(quiet: list[str]) -> None:
    methods = [json.loads(r)["method"] for r in quiet]
    # the two grad_logdet answers are past the allowance but rational: settled exactly at
    # random points and sizes (mcgrade.engine.exact)
    assert methods == ["symbolic", "symbolic", "symbolic", "exact", "symbolic", "symbolic",
                       "exact", "symbolic", "symbolic", "numeric"]


def test_a_worker_thread_gives_the_same_records(quiet: list[str]) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(records).result() == quiet


def test_a_clock_that_jumps_changes_nothing(quiet: list[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    lock = threading.Lock()
    now = [time.monotonic()]

    def jumping() -> float:
        with lock:
            now[0] += 10.0
            return now[0]
    for name in ("monotonic", "perf_counter", "time"):
        monkeypatch.setattr(time, name, jumping)
    assert records() == quiet


def test_work_is_charged_before_each_step() -> None:
    work = Work(10)
    work.spend(4)
    with pytest.raises(WorkExhausted):
        work.spend(7)
    assert work.left == 0          # a step that did not fit ends the work: none after it
    a, b, c, d, e = sp.symbols("a b c d e")
    huge = Work(300_000)
    assert not symbolic.prove_equal((a + b + c + d + e) ** 40, (a + b + c + d + e + 1) ** 40,
                                    {}, huge)
    assert huge.left == 0          # refused by its cost, not cut off by a timer
    assert symbolic.prove_equal(sp.cos(a) ** 2 + sp.sin(a) ** 2, sp.Integer(1), {}, Work(1000))
    assert symbolic.prove_equal(sp.tanh(a).diff(a), 1 / sp.cosh(a) ** 2, {}, Work(1000))


def test_exact_costs_are_known_before_building() -> None:
    problem_set = load_problem_set(SETS / "identities.yaml")
    scope = Grader(problem_set).compiled.scope

    def cost(text: str, n: int) -> int:
        symbols = {name: sp.ImmutableMatrix(n, n, sp.symbols(f"{name}:{n * n}"))
                   for name in ("Y", "A")}
        return compile_expression(text, scope).exact_cost(symbols, {"n": n, "m": n})

    assert cost("inv(Y)", 4) < 50_000
    assert cost("inv(inv(inv(Y)))", 4) > budget.SYMBOLIC_WORK      # hours to build
    assert cost("A @ A @ A @ A @ A", 40) > budget.SYMBOLIC_WORK
    assert cost("inv(diag(diag(Y)))", 5) < cost("inv(Y)", 5) / 10    # diagonal: cheap


def test_a_sympy_inverse_is_built_as_the_language_builds_it() -> None:
    """sympy's own Inverse(...).doit() of a symbolic 4×4 runs for minutes: past the guard."""
    n = sp.Symbol("n", integer=True)
    Y = sp.MatrixSymbol("Y", n, n)
    verdict = mcgrade.check(Y.I, "grad_logdet", SETS / "identities.yaml")
    assert (verdict.status, verdict.method) == ("correct", "symbolic")


# --- the last-resort guard --------------------------------------------------------------

def test_the_guard_abandons_a_check_instead_of_giving_a_verdict(
        monkeypatch: pytest.MonkeyPatch) -> None:
    grader = Grader(load_problem_set(SETS / "identities.yaml"))
    problem = grader.problem_set.problem("chain_sigmoid")
    answer = Answer("string", text=BORDERLINE[0][2])
    grader.check(problem, answer)                     # compiled: only the check is timed
    monkeypatch.setattr(grading, "GUARD_SECONDS", 0.001)
    with pytest.raises(CheckAbandoned, match="grade it again"):
        grader.check(problem, answer)
    with ThreadPoolExecutor(max_workers=1) as pool, pytest.raises(CheckAbandoned):
        pool.submit(grader.check, problem, answer).result()    # the same in any thread
    monkeypatch.setattr(grading, "GUARD_SECONDS", 60.0)
    assert grader.check(problem, answer).method == "symbolic"    # nothing left pending


def test_the_api_raises_rather_than_answers_when_the_guard_fires(
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = SETS / "second_order.yaml"
    mcgrade.check("a", "hess_logistic", path)         # compiles the set
    monkeypatch.setattr(grading, "GUARD_SECONDS", 0.001)
    with pytest.raises(CheckAbandoned):
        mcgrade.check(BORDERLINE[4][2], "hess_logistic", path)


def test_a_result_that_comes_after_the_guard_fired_is_not_used() -> None:
    def swallows() -> str:
        deadline = time.perf_counter() + 0.2
        while time.perf_counter() < deadline:
            try:
                sum(range(1000))
            except BaseException:   # noqa: BLE001, S110 — code that swallows the interruption
                pass
        return "late"
    with pytest.raises(CheckAbandoned):
        finish_within(0.01, "a test", swallows)
    assert finish_within(5.0, "a test", lambda: "on time") == "on time"


# --- under load -------------------------------------------------------------------------

def graded_under(load: bool) -> list[str]:
    """Records of a problem set graded from files through the sandbox, and of the
    borderline answers, with every CPU kept busy by other processes if ``load``."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(os.cpu_count() or 1)] if load else []
    try:
        grader = Grader(load_problem_set(SETS / "neuron.yaml"))
        reports = [grade_file(ROOT / "examples" / name, grader)
                   for name in ("neuron_alice.ipynb", "neuron_mistakes.py")]
        return [json.dumps(report_record(r), sort_keys=True) for r in reports] + records()
    finally:
        for process in busy:
            process.kill()
            process.wait()


@pytest.mark.slow              # spawns sandboxes, and a busy process per CPU
def test_records_are_identical_on_a_quiet_and_a_saturated_machine() -> None:
    """Grades twice (about ten seconds), the second time with every CPU saturated."""
    assert graded_under(load=True) == graded_under(load=False)
