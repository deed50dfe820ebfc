"""Check cells: ``mcgrade.check_answers`` inside a notebook, and the starter notebook's
check cells executed in a real Jupyter kernel (nbclient, ipykernel).

The starter notebook of problem_sets/neuron.yaml is filled with the course's answers
(examples/neuron_solution.py for some problems, the typical mistakes of
examples/neuron_mistakes.py for others, one left unanswered) and run, against a student
copy (``mcgrade publish``) and against the instructor's set. Every check cell must show
the verdict that ``mcgrade grade`` gives the saved notebook, which never runs those cells.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import NamedTuple

import nbformat
import pytest
from nbclient import NotebookClient

from mcgrade.cli import main
from mcgrade.grading import LOCAL_NOTE
from mcgrade.jupyter import SUBMISSION, CheckResult, check_answers
from mcgrade.model import GradeReport
from mcgrade.problemset import load_problem_set
from mcgrade.records import verdict_of
from mcgrade.submission.sources import load
from tests.test_example_notebooks import builder

ROOT = Path(__file__).resolve().parent.parent
NEURON = ROOT / "problem_sets" / "neuron.yaml"
PROBLEMS = [p.id for p in load_problem_set(NEURON).problems]
UNANSWERED = PROBLEMS[-1]


def source_of(problem_id: str) -> str:
    """The course's answer to a problem: a typical mistake for every other problem (the
    first included), the solution for the rest; the last is left unanswered."""
    if problem_id == UNANSWERED:
        return f"{problem_id} = ...  # your answer"
    which = "mistakes" if PROBLEMS.index(problem_id) % 2 == 0 else "solution"
    return builder.parse_example(ROOT / "examples" / f"neuron_{which}.py").answers[problem_id]


def filled(path: Path) -> nbformat.NotebookNode:
    """The starter notebook at ``path`` with every answer cell holding ``source_of``."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        problem_id = cell.metadata.get("mcgrade", {}).get("problem")
        if problem_id:
            cell.source = source_of(problem_id)
    return notebook


def outputs(cell: nbformat.NotebookNode) -> dict[str, str]:
    """The data of a cell's one result (its last expression's value), by MIME type."""
    results = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert len(results) == 1, cell.outputs
    return results[0].data


class Executed(NamedTuple):
    path: Path                         # the notebook, saved after running
    notebook: nbformat.NotebookNode    # with its outputs
    record: dict                       # ``mcgrade grade --json``'s record of the file
    local: bool                        # checked against a student copy


@pytest.fixture(scope="module", params=["student copy", "instructor set"])
def executed(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Executed:
    folder = tmp_path_factory.mktemp("assignment")
    local = request.param == "student copy"
    if local:
        assert main(["publish", str(NEURON), "-o", str(folder)]) == 0
    else:
        shutil.copy(NEURON, folder)
    path = folder / "hw1.ipynb"
    assert main(["notebook", str(NEURON), "-o", str(path)]) == 0
    notebook = filled(path)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    nbformat.write(notebook, path)
    record = folder / "record.json"
    assert main(["grade", str(path), "--problems", str(folder / "neuron.yaml"),
                 "--json", str(record)]) == 0
    return Executed(path, notebook, json.loads(record.read_text(encoding="utf-8")), local)


def expected_text(run: Executed, ids: list[str]) -> str:
    """What a check cell of ``ids`` shows as text, made from the grader's record."""
    verdicts = tuple(verdict_of(p) for p in run.record["problems"] if p["id"] in ids)
    notes = (LOCAL_NOTE,) if run.local else ()
    return repr(CheckResult(GradeReport(SUBMISSION, run.record["problem_set"], verdicts,
                                        notes)))


def test_each_check_cell_shows_its_answers_verdict(executed: Executed) -> None:
    notebook, record = executed.notebook, executed.record
    cells = {c.id: c for c in notebook.cells}
    by_id = {p["id"]: p for p in record["problems"]}
    for problem_id in PROBLEMS:
        data = outputs(cells[f"{problem_id}-check"])
        verdict = by_id[problem_id]
        assert data["text/plain"] == expected_text(executed, [problem_id])
        html, markdown = data["text/html"], data["text/markdown"]
        score = f"{verdict['score']:g}/{verdict['max_score']:g} points"
        assert score in html and score in markdown
        for code in verdict["diagnoses"]:
            assert f"<code>{code}</code>" in html and f"`{code}`" in markdown
        assert "<script" not in html and "<style" not in html
    transposed = outputs(cells["dz_dw-check"])["text/html"]
    assert "Partial credit" in transposed and "1/2 points" in transposed
    assert "transpose of the expected answer" in transposed
    assert ("Local check: this is the transpose" in transposed) == executed.local
    assert "<b>Hint:</b> w.T @ x is the dot product" in transposed
    correct = outputs(cells["dz_db-check"])["text/html"]
    assert "Correct" in correct and "1/1 points" in correct
    assert "Missing" in outputs(cells[f"{UNANSWERED}-check"])["text/html"]


def test_the_last_cell_checks_every_answer_and_gives_the_total(executed: Executed) -> None:
    record = executed.record
    data = outputs(executed.notebook.cells[-1])
    assert data["text/plain"] == expected_text(executed, PROBLEMS)
    total = f"Total: {record['score']:g}/{record['max_score']:g} points"
    assert total in data["text/html"] and total in data["text/markdown"]
    assert record["max_score"] == 25 and 0 < record["score"] < 25


def test_the_grader_skips_the_check_cells(executed: Executed) -> None:
    checks = {c.source for c in executed.notebook.cells
              if c.metadata.get("mcgrade", {}).get("check")}
    assert len(checks) == len(PROBLEMS) + 1
    assert not checks & {source for _, source in load(executed.path).cells}
    assert {p["status"] for p in executed.record["problems"]} >= {"correct", "partial"}


# --- without a kernel ---------------------------------------------------------------------

HINTED = """\
title: Hinted
symbols:
  x: {}
problems:
  - id: d
    derivative: {of: "x**2", wrt: x}
    hints: ["The power rule gives $2x$ for $x^2$; multiply `x` by 2."]
"""


def test_outside_ipython_the_callers_globals_are_checked(tmp_path: Path) -> None:
    problems = tmp_path / "hinted.yaml"
    problems.write_text(HINTED, encoding="utf-8")
    namespace = {"check_answers": check_answers, "d": "x"}
    exec(f"result = check_answers('d', problems={str(problems)!r})", namespace)
    result = namespace["result"]
    assert isinstance(result, CheckResult) and result.report is not None
    assert [v.status for v in result.report.verdicts] == ["incorrect"]
    html = result._repr_html_()
    assert "<math" in html and "<code>x</code>" in html     # the hint's $2x$ as MathML
    assert "The power rule gives $2x$ for $x^2$; multiply `x` by 2." in \
        result._repr_markdown_()
    assert "0/1 points" in repr(result)


def test_a_set_that_cant_be_read_is_said_not_raised(tmp_path: Path) -> None:
    missing = check_answers("d", problems=tmp_path / "nowhere.yaml")
    assert missing.report is None and "nowhere.yaml: no such problem set" in missing.error
    assert "no such problem set" in missing._repr_html_()
    unnamed = check_answers("d")
    assert 'check_answers(problems="hw1.yaml")' in repr(unnamed)
    unknown = check_answers("nope", problems=NEURON)
    assert "no problem 'nope'" in unknown.error and "dz_dw" in unknown.error


def test_the_notebook_metadata_names_the_set_when_the_kernel_knows_its_notebook(
        tmp_path: Path) -> None:
    path = tmp_path / "hw1.ipynb"
    shutil.copy(NEURON, tmp_path)
    assert main(["notebook", str(NEURON), "-o", str(path)]) == 0
    namespace = {"check_answers": check_answers, "__vsc_ipynb_file__": str(path),
                 "dz_dw": "x.T"}
    exec("result = check_answers('dz_dw')", namespace)
    assert [v.status for v in namespace["result"].report.verdicts] == ["correct"]


def test_from_a_function_its_own_variables_are_checked(tmp_path: Path) -> None:
    """A test function's locals win over the module's globals, and the text says what
    was checked (not "this notebook")."""
    problems = tmp_path / "hinted.yaml"
    problems.write_text(HINTED, encoding="utf-8")
    namespace = {"check_answers": check_answers, "d": "x"}        # a wrong global
    exec("def a_test(path):\n    d = '2*x'\n    return check_answers('d', problems=path)\n",
         namespace)
    result = namespace["a_test"](problems)
    assert isinstance(result, CheckResult) and result.report is not None
    assert [v.status for v in result.report.verdicts] == ["correct"]
    assert result.passed and result.report.score == result.report.max_score == 1
    text = str(result)
    assert text.startswith("mcgrade: the variables of a_test() in <string> against ")
    assert SUBMISSION not in text and "1/1 points" in text and text == repr(result)

    def local() -> CheckResult:
        d = "x"                                                    # wrong: fails
        assert d
        return check_answers("d", problems=problems)

    wrong = local()
    assert not wrong.passed and "0/1 points" in str(wrong)
    assert "the variables of local() in test_check_cells.py" in str(wrong)


def test_a_check_that_could_not_run_does_not_pass(tmp_path: Path) -> None:
    missing = check_answers("d", problems=tmp_path / "nowhere.yaml")
    assert not missing.passed and str(missing).startswith("mcgrade: ")
    assert not check_answers("nope", problems=NEURON).passed


def test_in_a_kernel_a_function_checks_its_own_variables(tmp_path: Path) -> None:
    """In a real kernel, a function (an ipytest test, a helper cell) that sets an answer
    of its own and calls check_answers has that answer checked, over the notebook's."""
    shutil.copy(NEURON, tmp_path)
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('dz_db = "0"'),        # the notebook's own, wrong
        nbformat.v4.new_code_cell(
            "import mcgrade\n"
            "def test_mine():\n"
            '    dz_db = "1"\n'
            '    return mcgrade.check_answers("dz_db", problems="neuron.yaml")\n'
            "result = test_mine()\n"
            "print(result.passed, result.report.score)\n"
            'print(mcgrade.check_answers("dz_db", problems="neuron.yaml").passed)')])
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for o in notebook.cells[1].outputs)
    assert printed.split() == ["True", "1.0", "False"], printed
