"""The course: the problem sets covering Parr & Howard, and their example submissions.

For every set, ``examples/<set>_solution.py`` must score full marks and
``examples/<set>_mistakes.py`` must get, problem by problem, the diagnoses written below
(which are also the ones its comments announce). The course as a whole must have at least
60 problems and use every kind of problem.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

from mcgrade.cli import main
from mcgrade.grading import Grader
from mcgrade.model import DIAGNOSES, GradeReport
from mcgrade.problemset import load_problem_set
from mcgrade.submission import read_answers

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "problem_sets"
EXAMPLES = ROOT / "examples"

# What each mistakes file must be diagnosed with, problem by problem, in problem order.
MISTAKES: dict[str, dict[str, list[str]]] = {
    "scalar_rules": {
        "power_rule": ["scale-factor"],
        "constant_multiple": ["author-mistake"],
        "sum_rule": ["author-mistake"],
        "product_rule": ["author-mistake"],
        "quotient_rule": ["sign"],
        "quotient_at": ["sign"],
        "chain_log": ["author-mistake"],
        "chain_exp": ["author-mistake"],
        "product_log": ["author-mistake"],
        "sigmoid_deriv": ["author-mistake"],
        "tanh_deriv": ["author-mistake"],
        "relu_deriv": ["piecewise-branch"],
    },
    "partials_gradients": {
        "df_dx": ["author-mistake"],
        "df_dy": ["author-mistake"],
        "grad_f": ["transposed"],
        "grad_g": ["sign"],
        "grad_f_at": ["flat-array"],
        "grad_xyz": ["author-mistake"],
        "grad_shape": ["transposed"],
        "grad_vec": ["transposed"],
    },
    "jacobians": {
        "jac_fg": ["transposed"],
        "jac_fg_at": ["transposed"],
        "jac_identity": ["elementwise-vs-matrix"],
        "jac_shape": ["transposed"],
        "shape_vec_by_scalar": ["transposed"],
        "shape_scalar_by_matrix": ["transposed"],
        "jac_affine": ["transposed"],
        "grad_by_matrix": ["transposed"],
        "jac_sin": ["elementwise-vs-matrix"],
        "jac_softplus": ["author-mistake"],
    },
    "elementwise": {
        "add_dw": ["elementwise-vs-matrix"],
        "add_dx": ["wrong-shape"],
        "sub_dw": ["sign"],
        "sub_dx": ["sign"],
        "mul_dw": ["elementwise-vs-matrix"],
        "mul_dx": ["not-equivalent"],
        "div_dw": ["elementwise-vs-matrix"],
        "div_dx": ["sign"],
        "mul_at": ["elementwise-vs-matrix"],
        "general_dw": ["author-mistake"],
    },
    "scalar_expansion": {
        "add_dx": ["not-equivalent"],
        "add_dz": ["transposed"],
        "mul_dx": ["elementwise-vs-matrix"],
        "mul_dz": ["transposed"],
        "sub_dz": ["sign"],
        "div_dz": ["sign"],
        "layer_db": ["author-mistake"],
        "shape_dz": ["transposed"],
        "expand_at": ["scale-factor"],
    },
    "sum_reduction": {
        "sum_dx": ["transposed"],
        "sum_xz_dx": ["elementwise-vs-matrix"],
        "sum_xz_dz": ["author-mistake"],
        "sum_exp_dx": ["elementwise-vs-matrix"],
        "dot_dw": ["transposed"],
        "mean_dx": ["author-mistake"],
        "sum_Wx_dx": ["author-mistake"],
        "sum_cubes_at": ["flat-array"],
        "shape_sum_by_W": ["transposed"],
    },
    "chain_rules": {
        "chain_single": ["author-mistake"],
        "chain_at": ["scale-factor"],
        "partials_xu": ["transposed"],
        "total_derivative": ["author-mistake"],
        "total_two_paths": ["author-mistake"],
        "vec_chain_scalar": ["transposed"],
        "jac_outer": ["elementwise-vs-matrix"],
        "vec_chain_layer": ["author-mistake"],
        "chain_relu": ["piecewise-branch"],
        "vec_chain_shape": ["transposed"],
    },
    "loss": {
        "mse_dw": ["transposed"],
        "mse_db": ["author-mistake"],
        "mse_grad_fn": ["flat-array"],
        "grad_shape": ["transposed"],
        "relu_dw": ["piecewise-branch"],
        "relu_db": ["sign"],
        "relu_grad_fn": ["piecewise-branch"],
        "relu_dw_at": ["author-mistake"],
    },
    "second_order": {
        "hess_pq": ["author-mistake"],
        "hess_pq_at": ["scale-factor"],
        "hess_quadratic": ["author-mistake"],
        "hess_sum_exp": ["elementwise-vs-matrix"],
        "hess_logistic": ["author-mistake"],
        "dir_quadratic": ["author-mistake"],
        "dir_value": ["sign"],
        "dir_second": ["author-mistake"],
        "taylor_grad": ["flat-array"],
        "taylor_hess": ["scale-factor"],
        "taylor_quadratic": ["author-mistake"],
        "taylor_value": ["not-equivalent"],
        "taylor_model": ["author-mistake"],
    },
    "identities": {
        "grad_aTx": ["transposed"],
        "grad_xTAx": ["author-mistake"],
        "grad_xTSx": ["scale-factor"],
        "jac_Ax": ["transposed"],
        "jac_Bx": ["transposed"],
        "grad_norm_sq": ["wrong-shape"],
        "grad_norm": ["scale-factor"],
        "softmax_jac": ["author-mistake"],
        "logsumexp_grad": ["author-mistake"],
        "chain_sin": ["author-mistake"],
        "expanded_power": ["unparseable"],
        "total_derivative": ["author-mistake"],
        "chain_sigmoid": ["sign"],
        "directional": ["wrong-shape"],
        "grad_trace": ["transposed"],
        "grad_logdet": ["transposed"],
    },
    "neuron": {
        "dz_dw": ["transposed"],
        "dz_db": ["author-mistake"],
        "grad_shape": ["transposed"],
        "jac_shape": ["wrong-shape"],
        "jac_Wx": ["transposed"],
        "jac_wx_elementwise": ["elementwise-vs-matrix"],
        "expand_db": ["wrong-shape"],
        "expand_dx": ["author-mistake"],
        "sum_grad": ["transposed"],
        "sum_sq_grad": ["scale-factor"],
        "neuron_dw": ["author-mistake"],
        "neuron_db": ["piecewise-branch"],
        "neuron_at": ["flat-array"],
        "layer_jac": ["piecewise-branch"],
        "loss_grad": ["sign"],
        "hess_xAx": ["scale-factor"],
        "grad_uv": ["transposed"],
    },
    "denominator": {
        "grad_aTx": ["transposed"],
        "grad_xTAx": ["transposed"],
        "grad_xTSx": ["scale-factor"],
        "grad_at": ["transposed"],
        "jac_Wx": ["transposed"],
        "jac_shape": ["transposed"],
        "dz_dw": ["elementwise-vs-matrix"],
        "neuron_dw": ["piecewise-branch"],
        "loss_grad": ["sign"],
        "grad_trace": ["transposed"],
        "grad_logdet": ["wrong-shape"],
        "hess_xAx": ["author-mistake"],
    },
}

# Mistakes the engine is believed to diagnose wrongly (strict: a fix shows up as XPASS).
KNOWN_WRONG: dict[tuple[str, str], str] = {}

# The issue's list of diagnoses the mistakes files must exercise, across the course.
REQUIRED_DIAGNOSES = {"transposed", "flat-array", "elementwise-vs-matrix", "sign",
                      "scale-factor", "author-mistake", "piecewise-branch"}

COURSE_SETS = sorted(MISTAKES)


@functools.cache
def grader(set_name: str) -> Grader:
    return Grader(load_problem_set(SETS / f"{set_name}.yaml"))


@functools.cache
def graded(set_name: str, which: str) -> GradeReport:
    """The example ``examples/<set>_<which>.py`` run in its sandbox and graded, function
    answers called at the grader's sample points."""
    g = grader(set_name)
    submission = read_answers(EXAMPLES / f"{set_name}_{which}.py", g.problem_set,
                              calls=g.calls())
    return g.grade(submission.answers, submission.name, submission.notes)


def _summary(report: GradeReport) -> str:
    return "\n".join(f"{v.id}: {v.status} {list(v.diagnoses)} {v.feedback}"
                     for v in report.verdicts if v.status != "correct")


@pytest.mark.parametrize("set_name", COURSE_SETS)
def test_solution_scores_full_marks(set_name: str) -> None:
    report = graded(set_name, "solution")
    assert not report.notes, report.notes
    assert all(v.status == "correct" for v in report.verdicts), _summary(report)
    assert report.score == report.max_score == grader(set_name).problem_set.max_score


@pytest.mark.parametrize("set_name", COURSE_SETS)
def test_solution_full_marks_through_the_cli(set_name: str, tmp_path: Path) -> None:
    """What the README tells a user to run: `mcgrade grade SOLUTION --problems SET`."""
    import json
    out = tmp_path / "report.json"
    code = main(["grade", str(EXAMPLES / f"{set_name}_solution.py"),
                 "--problems", str(SETS / f"{set_name}.yaml"), "--json", str(out)])
    assert code == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    wrong = [p for p in record["problems"] if p["status"] != "correct"]
    assert not wrong, wrong
    assert record["score"] == record["max_score"]


def _mistake_cases():
    for set_name in COURSE_SETS:
        for problem_id, diagnoses in MISTAKES[set_name].items():
            reason = KNOWN_WRONG.get((set_name, problem_id))
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            yield pytest.param(set_name, problem_id, diagnoses, marks=marks,
                               id=f"{set_name}::{problem_id}")


@pytest.mark.parametrize(("set_name", "problem_id", "diagnoses"), list(_mistake_cases()))
def test_mistake_is_diagnosed(set_name: str, problem_id: str, diagnoses: list[str]) -> None:
    report = graded(set_name, "mistakes")
    verdict = next(v for v in report.verdicts if v.id == problem_id)
    assert list(verdict.diagnoses) == diagnoses, verdict.feedback
    assert verdict.status in ("partial", "incorrect")
    assert verdict.feedback
    problem = grader(set_name).problem_set.problem(problem_id)
    if diagnoses == ["author-mistake"]:
        texts = [" ".join(m.feedback.split()) for m in problem.mistakes]
        assert any(t in " ".join(verdict.feedback.split()) for t in texts), verdict.feedback


@pytest.mark.parametrize("set_name", COURSE_SETS)
def test_mistakes_cover_every_problem(set_name: str) -> None:
    """Every problem has an expected diagnosis, in the set's order, with known codes."""
    ids = [p.id for p in grader(set_name).problem_set.problems]
    assert list(MISTAKES[set_name]) == ids
    for codes in MISTAKES[set_name].values():
        assert set(codes) <= set(DIAGNOSES)


def _answers_and_comments(path: Path) -> list[tuple[str, str]]:
    """(answer name, the comment line just above it), for every top-level assignment or
    function definition of an example file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for node in ast.parse("\n".join(lines)).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
        elif isinstance(node, ast.FunctionDef):
            name = node.name
        else:
            continue
        above = lines[node.lineno - 2].strip() if node.lineno >= 2 else ""
        found.append((name, above))
    return found


@pytest.mark.parametrize("which", ["solution", "mistakes"])
@pytest.mark.parametrize("set_name", COURSE_SETS)
def test_examples_are_one_commented_answer_per_problem(set_name: str, which: str) -> None:
    """Each example is one assignment (or def) per problem, in problem order, each with a
    comment line naming it just above: the shape notebooks are generated from. In the
    mistakes file the comment announces the diagnosis the test expects."""
    ids = [p.id for p in grader(set_name).problem_set.problems]
    found = _answers_and_comments(EXAMPLES / f"{set_name}_{which}.py")
    assert [name for name, _ in found] == ids
    for name, comment in found:
        assert comment.startswith(f"# {name}:"), (name, comment)
        if which == "mistakes":
            announced = re.search(r"-> ([a-z-]+(?:, [a-z-]+)*)", comment)
            assert announced, (name, comment)
            assert announced.group(1).split(", ") == MISTAKES[set_name][name], comment


def test_every_set_has_its_examples() -> None:
    assert sorted(p.stem for p in SETS.glob("*.yaml")) == COURSE_SETS


def test_mistakes_exercise_the_issue_diagnoses() -> None:
    used = {code for expected in MISTAKES.values() for codes in expected.values()
            for code in codes}
    assert used >= REQUIRED_DIAGNOSES


def test_course_size_and_kinds() -> None:
    """At least 60 problems across problem_sets/, using every kind of problem, in both
    layouts: the paper's numerator layout, and one set repeating it in denominator."""
    sets = [load_problem_set(path) for path in sorted(SETS.glob("*.yaml"))]
    problems = [p for s in sets for p in s.problems]
    assert len(problems) >= 60
    kinds = {p.kind for p in problems}
    assert {"derivative", "hessian", "shape", "answer"} <= kinds
    assert any(p.at for p in problems)
    assert any(p.wrt_is_list for p in problems)
    assert any(p.form == "function" for p in problems)
    assert any(p.mistakes for p in problems) and any(p.partial_credit for p in problems)
    assert {s.layout for s in sets} == {"numerator", "denominator"}
    for set_name in COURSE_SETS:
        layout = "denominator" if set_name == "denominator" else "numerator"
        assert grader(set_name).problem_set.layout == layout


def test_every_problem_has_a_prompt() -> None:
    for path in sorted(SETS.glob("*.yaml")):
        for problem in load_problem_set(path).problems:
            assert problem.prompt.strip(), f"{path.name}: {problem.id} has no prompt"
