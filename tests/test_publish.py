"""`mcgrade publish`: the student copy holds no reference and no mistake, still checks
answers locally (and says so), and never uses the points the instructor grades at."""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from mcgrade import Answer, Grader
from mcgrade.authoring.publish import publish
from mcgrade.cli import main
from mcgrade.errors import ProblemSetError
from mcgrade.problemset import load_problem_set, parse_problem_set

ROOT = Path(__file__).parent.parent
NEURON = ROOT / "problem_sets" / "neuron.yaml"
SOLUTION = ROOT / "examples" / "neuron_solution.py"


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("student") / "neuron.yaml"
    path.write_text(publish(load_problem_set(NEURON)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def local(copy: Path) -> Grader:
    return Grader(load_problem_set(copy))


def as_answer(value: Any) -> Answer:
    if isinstance(value, str):
        return Answer("string", text=value)
    if isinstance(value, tuple):
        return Answer("shape", value=value)
    if isinstance(value, np.ndarray):
        return Answer("array", value=tuple(value.ravel()), shape=value.shape)
    return Answer("number", value=float(value))


def keys_of(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in keys_of(v)}
    if isinstance(node, list):
        return {k for v in node for k in keys_of(v)}
    return set()


def test_the_copy_contains_no_reference_text_and_no_mistake(copy: Path) -> None:
    original = load_problem_set(NEURON)
    text = copy.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for problem in data["problems"]:
        assert set(problem) & {"derivative", "hessian", "shape", "answer", "mistakes", "at"} \
            == set()
    assert keys_of(data) & {"of", "wrt", "feedback", "expected", "values"} == set()
    prompts = " ".join(p.prompt for p in original.problems)
    for problem in original.problems:
        for secret in (problem.answer, *(m.answer for m in problem.mistakes),
                       *(m.feedback for m in problem.mistakes)):
            if secret and len(secret) > 3 and secret not in prompts:
                assert secret not in text, (problem.id, secret)
    instance = data["problems"][0]["checks"]["instances"][0]
    assert set(instance) <= {"sizes", "shape", "points", "digests", "exact", "ball",
                             "ball_grids"}
    assert {"sizes", "shape", "points", "digests", "exact", "ball"} <= set(instance)
    assert all(re.fullmatch("[0-9a-f]{16}", d) for d in
               instance["digests"] + instance["exact"] + instance["ball"])
    assert set(data["problems"][2]["checks"]["instances"][0]) == {"sizes", "shape"}


def test_the_points_name_only_what_the_reference_depends_on(copy: Path) -> None:
    problems = {p["id"]: p for p in yaml.safe_load(copy.read_text())["problems"]}
    assert set(problems["dz_dw"]["checks"]["instances"][0]["points"][0]) == {"x"}
    assert problems["dz_db"]["checks"]["instances"][0]["points"][0] == {}
    assert set(problems["neuron_at"]["checks"]["instances"][0]["points"][0]) == {"w", "x", "b"}


def test_the_solution_scores_full_marks_at_the_local_checks(local: Grader) -> None:
    solution = runpy.run_path(str(SOLUTION))
    report = local.grade({p.answer_name: as_answer(solution[p.answer_name])
                          for p in local.problem_set.problems})
    assert report.score == report.max_score == 25
    assert all(v.feedback.startswith("Correct at the local checks") for v in report.verdicts)
    assert report.verdicts[0].feedback == (
        "Correct at the local checks. The instructor's grading checks again, with the full "
        "problem set.")
    # a rational reference: its exact digests decide (2 mod-p points at each of 3 sizes)
    assert report.verdicts[0].method == "exact"
    assert report.verdicts[0].evidence["points"] == 6 and report.verdicts[0].evidence["local"]
    assert report.notes == ("local checks: graded against a student copy of the problem set "
                            "(fixed points, no answers); the instructor's grading may differ",)


@pytest.mark.parametrize("problem, answer, status, diagnoses, feedback", [
    ("dz_dw", "x", "partial", ("transposed",), "Local check: this is the transpose of the "
     "expected answer (this set uses numerator layout): you gave a 2×1 column (at n = 2), and "
     "the expected answer has the transposed shape."),
    ("dz_dw", "-x.T", "incorrect", ("sign",), "Local check: your answer is the negative of "
     "the expected one: check the sign."),
    ("hess_xAx", "2*A.T", "correct", (), None),
    ("jac_wx_elementwise", "w", "incorrect", ("elementwise-vs-matrix",), "Local check: you "
     "gave a vector where the expected answer is a diagonal matrix"),
    ("jac_wx_elementwise", "x", "incorrect", ("wrong-shape",), None),
    ("jac_Wx", "W + 1", "incorrect", ("not-equivalent",), "Local check: not equivalent to "
     "the expected answer: it differs at 24 of 24 points, for example at n = 2, m = 3, W = "),
    ("neuron_dw", "x.T", "incorrect", ("not-equivalent",), None),
    ("grad_shape", "(n, 1)", "incorrect", ("transposed",), "Local check: this is the "
     "transposed shape (this set uses numerator layout)."),
    ("jac_shape", "(3, 2)", "correct", (), None),
    ("dz_dw", "x.T @", "incorrect", ("unparseable",), "could not read your answer"),
])
def test_wrong_answers_are_diagnosed_without_stating_the_answer(
        local: Grader, problem: str, answer: str, status: str, diagnoses: tuple,
        feedback: str | None) -> None:
    verdict = local.check(local.problem_set.problem(problem), Answer("string", text=answer))
    assert (verdict.status, verdict.diagnoses) == (status, diagnoses)
    if feedback:
        assert verdict.feedback.startswith(feedback)
    if verdict.diagnoses and verdict.diagnoses[0] != "unparseable":
        assert "expected" not in verdict.evidence and verdict.evidence["local"] is True


def test_a_kinked_answer_right_on_one_side_is_told_to_check_both(local: Grader) -> None:
    verdict = local.check(local.problem_set.problem("neuron_dw"), Answer("string", text="x.T"))
    assert "It agrees at the other points: if the function has a kink" in verdict.feedback


def test_a_function_answer_is_called_at_the_stored_points(tmp_path: Path) -> None:
    source = """
title: Loss
symbols:
  n: {dimension: true, sizes: [2, 3]}
  N: {dimension: true, sizes: [4]}
  w: {shape: [n, 1]}
  X: {shape: [N, n]}
  y: {shape: [N, 1]}
problems:
  - id: grad_fn
    prompt: The gradient of the loss, as a function.
    derivative: {of: "sum((X @ w - y)**2)", wrt: w}
    form: function
    signature: [w, X, y]
"""
    published = parse_problem_set(publish(parse_problem_set(source, "loss.yaml")), "s.yaml")
    grader = Grader(published)
    calls = grader.calls()["grad_fn"]
    results = tuple(Answer("array", value=tuple(
        (2 * (np.array(X) @ np.array(w) - np.array(y)).T @ np.array(X)).ravel()), shape=(
            1, len(w))) for w, X, y in calls)
    verdict = grader.check(published.problems[0], Answer("function", value=results))
    assert verdict.status == "correct"


def test_published_points_are_not_the_grading_points(copy: Path) -> None:
    graded = Grader(load_problem_set(NEURON)).compiled.references["dz_dw"].instances[0]
    stored = yaml.safe_load(copy.read_text())["problems"][0]["checks"]["instances"][0]
    ours = {tuple(np.ravel(p["x"])) for p in stored["points"]}
    theirs = {tuple(np.ravel(v)) for v in graded.samples.values["x"]}
    assert ours and not ours & theirs


def test_a_copy_with_answers_put_back_is_refused(copy: Path) -> None:
    text = copy.read_text(encoding="utf-8").replace(
        "- id: dz_dw\n", '- id: dz_dw\n  answer: "x.T"\n', 1)
    with pytest.raises(ProblemSetError) as caught:
        parse_problem_set(text, "s.yaml")
    assert str(caught.value) == ("s.yaml:27: problems[0] (id='dz_dw') → answer: a published "
                                 "copy holds no answers; remove it (publish the instructor's "
                                 "set again with mcgrade publish)")


def test_cli_writes_the_copy_into_a_folder(tmp_path: Path, capsys) -> None:
    assert main(["publish", str(NEURON), "-o", str(tmp_path / "student")]) == 0
    written = tmp_path / "student" / "neuron.yaml"
    assert capsys.readouterr().out == (f"mcgrade: wrote {written}, the student copy of "
                                       f"{NEURON} (no answers; local checks only)\n")
    assert load_problem_set(written).published
    assert main(["publish", str(written), "-o", str(tmp_path / "again.yaml")]) == 1
    assert capsys.readouterr().err == (f"mcgrade: error: {written}: this is already a "
                                       f"published copy; publish the instructor's set\n")


VARIANTS = """
title: p
params:
  a: {range: [2, 9]}
symbols:
  n: {dimension: true, sizes: [2, 3]}
  x: {shape: [n, 1]}
problems:
  - id: q
    prompt: "Differentiate {a} x.T x"
    derivative: {of: "{a} * x.T @ x", wrt: x}
"""


def test_a_student_folder_keeps_its_own_notebook_and_refuses_anothers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "p.yaml"
    source.write_text(VARIANTS, encoding="utf-8")
    folder = tmp_path / "out"
    assert main(["publish", str(source), "--student", "alice", "-o", str(folder),
                 "--wheel"]) == 0
    notebook, copy = folder / "p.ipynb", folder / "p.yaml"
    assert '"student": "alice"' in notebook.read_text(encoding="utf-8")
    alices = copy.read_text(encoding="utf-8")
    notebook.write_text(notebook.read_text(encoding="utf-8").replace("...", "2*x.T", 1),
                        encoding="utf-8")                   # her work in progress
    answered = notebook.read_text(encoding="utf-8")
    capsys.readouterr()
    # hers again: her notebook is kept as it is
    assert main(["publish", str(source), "--student", "alice", "-o", str(folder),
                 "--wheel"]) == 0
    assert notebook.read_text(encoding="utf-8") == answered
    assert f"mcgrade: left {notebook} as it was" in capsys.readouterr().out
    # bob's into her folder: refused before anything is written
    assert main(["publish", str(source), "--student", "bob", "-o", str(folder),
                 "--wheel"]) != 0
    assert (f"{notebook} is alice's starter notebook of p.yaml, not this copy's: publish "
            "each student's copy into a folder of its own") in capsys.readouterr().err
    assert copy.read_text(encoding="utf-8") == alices
    assert notebook.read_text(encoding="utf-8") == answered
