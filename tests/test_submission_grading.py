"""End to end: a submission in the sandbox, graded by the real grader.

Honest mistakes cost only the answers they touch; a hostile submission earns nothing and
the next one, in the same warm worker, is graded normally.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from mcgrade.grading import Grader
from mcgrade.problemset import load_problem_set
from mcgrade.submission import read_answers, read_many

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = (ROOT / "examples" / "neuron_solution.py").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader(load_problem_set(ROOT / "problem_sets" / "neuron.yaml"))


def grade(grader: Grader, path: Path):
    sub = read_answers(path, grader.problem_set, sandbox="process")
    return grader.grade(sub.answers, sub.name, sub.notes)


def test_honest_mistakes_cost_only_their_answers(grader: Grader, tmp_path: Path) -> None:
    cells = [SOLUTION,
             "dz_db = 1 / 0            # raises halfway; the cells below still run",
             "sum_grad = = 'broken'    # a syntax error in one cell",
             "expand_dx = 'eye(n'      # an unparseable string",
             "neuron_at = np.array([2.0, 1.0])   # 1-D where a row is expected",
             "%matplotlib inline\nhess_xAx = 'A + A.T'"]
    path = tmp_path / "alice.ipynb"
    path.write_text(nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell(c)
                                                           for c in cells])))
    report = grade(grader, path)
    wrong = {v.id: v for v in report.verdicts if v.status != "correct"}
    assert set(wrong) == {"expand_dx", "neuron_at"}   # the names rebound by later cells
    assert wrong["expand_dx"].diagnoses == ("unparseable",)
    assert wrong["neuron_at"].diagnoses == ("flat-array",)
    assert report.score == report.max_score - wrong["expand_dx"].max_score \
        - wrong["neuron_at"].max_score
    assert any("cell 2: ZeroDivisionError" in n for n in report.notes)
    assert any("cell 3, line 1: invalid syntax" in n for n in report.notes)
    assert any("`%matplotlib inline`" in n for n in report.notes)


def test_hostile_answers_earn_nothing_and_the_next_is_graded(grader: Grader,
                                                             tmp_path: Path) -> None:
    names = [p.answer_name for p in grader.problem_set.problems]
    evil = tmp_path / "evil.py"
    evil.write_text("import numpy as np, sympy as sp\n"
                    "class Liar:\n"
                    "    def __eq__(self, other): return True\n"
                    "    __hash__ = object.__hash__\n"
                    "    def __float__(self): return 0.0\n"
                    "    def __array__(self, *a, **k): return np.zeros((1, 1))\n"
                    "    def __repr__(self): return 'x.T'\n"
                    "np.allclose = lambda *a, **k: True\n"
                    + "".join(f"{n} = Liar()\n" for n in names))
    honest = tmp_path / "solution.py"
    honest.write_text(SOLUTION)
    reports = [grader.grade(s.answers, s.name, s.notes)
               for s in read_many([evil, honest], grader.problem_set, sandbox="process")]
    assert reports[0].score == 0
    assert {v.status for v in reports[0].verdicts} <= {"error", "incorrect"}
    assert reports[1].score == reports[1].max_score


BLAME_SET = """\
title: Blame
timeout: 2
symbols:
  n: {dimension: true, sizes: [2]}
  x: {shape: [n, 1]}
problems:
  - {id: dz_dw, answer: "x.T"}
  - {id: dz_db, answer: "1"}
"""


@pytest.fixture
def broken_then_looping(tmp_path: Path) -> Path:
    """A notebook whose first cell does not compile and whose second never ends."""
    (tmp_path / "blame.yaml").write_text(BLAME_SET, encoding="utf-8")
    notebook = v4.new_notebook(cells=[v4.new_code_cell("dz_dw = x.T +"),
                                      v4.new_code_cell("while True:\n    pass"),
                                      v4.new_code_cell("dz_db = 1")])
    path = tmp_path / "hw.ipynb"
    nbformat.write(notebook, str(path))
    return path


def test_each_problem_blames_the_cell_that_failed(broken_then_looping: Path) -> None:
    grader = Grader(load_problem_set(broken_then_looping.parent / "blame.yaml"))
    report = grade(grader, broken_then_looping)
    syntax, loop = report.verdicts
    assert syntax.status == "error"                 # its cell did not compile: not a timeout
    assert "cell 1, which failed: invalid syntax in `dz_dw = x.T +`" in syntax.feedback
    assert loop.status == "timeout"                 # never defined: the loop in cell 2
    assert "stopped at cell 2, line 1 (`while True:`)" in loop.feedback
    assert "cell 1" not in loop.feedback
    assert report.notes[0].startswith("hw.ipynb did not finish within 2 s")


def test_pytest_shows_the_run_notes(broken_then_looping: Path,
                                    pytester: pytest.Pytester) -> None:
    for path in broken_then_looping.parent.iterdir():
        (pytester.path / path.name).write_bytes(path.read_bytes())
    result = pytester.runpytest("--mcgrade-submission", "hw.ipynb", "blame.yaml")
    result.stdout.fnmatch_lines([
        "blame.yaml: note: hw.ipynb did not finish within 2 s: stopped at cell 2, *",
        "blame.yaml: note: hw.ipynb, cell 1, line 1: invalid syntax in `dz_dw = x.T +`*",
        "blame.yaml::dz_dw  0/1  error",
        "blame.yaml::dz_db  0/1  timeout",
    ])
