"""The example notebooks: ``examples/*.ipynb``, built from the example .py files by
``examples/build_notebooks.py``.

Each notebook is graded once (a per-process cache) and must get, problem by problem, the
verdicts of its .py twin: full marks for the solutions, the diagnoses of tests/test_course.py
for the typical mistakes. The committed notebooks must be what the script builds now, and
the script must build the same bytes every time.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from pathlib import Path

import nbformat
import pytest

from mcgrade.cli import main
from mcgrade.grading import grade_file
from mcgrade.model import GradeReport
from tests.test_course import MISTAKES, grader

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SETS = ROOT / "problem_sets"


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_notebooks",
                                                  EXAMPLES / "build_notebooks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


builder = _load_builder()
# (stem, set name) of every example: <set>_solution, <set>_mistakes, neuron_alice.
EXAMPLE_FILES = [(path.stem, set_name) for path, set_name in builder.examples()]
STEMS = [stem for stem, _ in EXAMPLE_FILES]
SET_OF = dict(EXAMPLE_FILES)


@functools.cache
def graded(file_name: str) -> GradeReport:
    """``examples/<file_name>`` (a notebook or its .py twin) run in its sandbox and
    graded, as ``mcgrade grade`` does."""
    return grade_file(EXAMPLES / file_name, grader(SET_OF[Path(file_name).stem]))


def _verdicts(report: GradeReport) -> list[tuple]:
    return [(v.id, v.status, list(v.diagnoses), v.score, v.feedback)
            for v in report.verdicts]


def test_every_set_with_examples_has_both_notebooks() -> None:
    """A solution and a mistakes notebook for each course set, a solution for neuron, and
    Alice's notebook; nothing in examples/ that the script does not build."""
    for set_name in MISTAKES:
        assert f"{set_name}_solution" in STEMS and f"{set_name}_mistakes" in STEMS
    assert {"neuron_solution", "neuron_alice"} <= set(STEMS)
    assert sorted(p.stem for p in EXAMPLES.glob("*.ipynb")) == sorted(STEMS)


@pytest.mark.parametrize("stem", STEMS)
def test_notebook_gets_the_verdicts_of_its_python_twin(stem: str) -> None:
    notebook, twin = graded(f"{stem}.ipynb"), graded(f"{stem}.py")
    assert not notebook.notes, notebook.notes      # no note about ! lines or the check cell
    assert notebook.notes == twin.notes
    assert _verdicts(notebook) == _verdicts(twin)
    assert (notebook.score, notebook.max_score) == (twin.score, twin.max_score)
    set_name, _, who = stem.rpartition("_")
    if who == "solution":
        assert all(v.status == "correct" for v in notebook.verdicts), _verdicts(notebook)
        assert notebook.score == notebook.max_score == grader(set_name).problem_set.max_score
    elif who == "mistakes":
        assert {v.id: list(v.diagnoses) for v in notebook.verdicts} == MISTAKES[set_name]
        assert all(v.status in ("partial", "incorrect") for v in notebook.verdicts)


def test_the_committed_notebooks_are_up_to_date(tmp_path: Path) -> None:
    """What build_notebooks.py writes now, byte for byte (run it after editing an example
    .py file); a second run writes nothing new."""
    written = builder.build(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{stem}.ipynb" for stem in STEMS)
    first = {p.name: p.read_bytes() for p in written}
    stale = [name for name, data in first.items() if (EXAMPLES / name).read_bytes() != data]
    assert not stale, f"run python examples/build_notebooks.py: {stale} are out of date"
    assert builder.build(tmp_path) == []
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.ipynb")} == first


@pytest.mark.parametrize("stem", STEMS)
def test_notebook_is_the_python_file_cell_by_cell(stem: str) -> None:
    """Valid, no outputs, an answer cell per problem holding that problem's answer, and,
    read in order, the code of the .py file: nothing lost, nothing added but the check
    cells (blank lines aside; the header names the notebook instead of the .py file)."""
    notebook = nbformat.read(EXAMPLES / f"{stem}.ipynb", as_version=4)
    nbformat.validate(notebook)
    problem_set = grader(SET_OF[stem]).problem_set
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    answers = [c for c in code if "problem" in c.metadata.get("mcgrade", {})]
    assert [c.metadata["mcgrade"]["problem"] for c in answers] == \
        [p.id for p in problem_set.problems]
    for cell in answers:
        name = problem_set.problem(cell.metadata["mcgrade"]["problem"]).answer_name
        assert f"\n{name} = " in f"\n{cell.source}" or f"\ndef {name}(" in f"\n{cell.source}"
    checks = [c for c in code if c.metadata.get("mcgrade") == {"check": True}]
    assert checks[-1] is code[-1] and len(checks) == len(answers) + 1
    assert code[-1].source.endswith(
        f'mcgrade.check_answers(problems="../problem_sets/{SET_OF[stem]}.yaml")')
    in_cells = [line for c in code if c not in checks
                for line in c.source.splitlines() if line.strip()]
    python = (EXAMPLES / f"{stem}.py").read_text(encoding="utf-8").replace(
        f"examples/{stem}.py", f"examples/{stem}.ipynb")
    assert in_cells == [line for line in python.splitlines() if line.strip()]


def test_a_student_grading_alices_notebook_sees_what_the_python_file_shows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`mcgrade grade examples/neuron_alice.ipynb`: the table of the .py file, 12/25."""
    tables = {}
    for suffix in (".py", ".ipynb"):
        out = tmp_path / f"report{suffix}.json"
        code = main(["grade", str(EXAMPLES / f"neuron_alice{suffix}"),
                     "--problems", str(SETS / "neuron.yaml"), "--json", str(out)])
        assert code == 0
        record = json.loads(out.read_text(encoding="utf-8"))
        assert (record["score"], record["max_score"]) == (12, 25)
        tables[suffix] = capsys.readouterr().out.replace(f"neuron_alice{suffix}", "FILE")
    assert tables[".py"] == tables[".ipynb"]
    assert "FILE against neuron.yaml" in tables[".py"]


def test_parsing_keeps_every_comment_or_refuses(tmp_path: Path) -> None:
    """The builder puts the header and imports in the setup cell and each comment block
    with the answer below it; a comment it could not place is an error, not a loss."""
    good = tmp_path / "good.py"
    good.write_text("# header\n\nimport numpy as np\n\n# a: why\na = 1  # inline\n"
                    "b = 2\n\n\n# c: a function\ndef c(x):\n    # inside\n    return x\n",
                    encoding="utf-8")
    example = builder.parse_example(good)
    assert example.setup == "# header\n\nimport numpy as np"
    assert example.answers == {"a": "# a: why\na = 1  # inline", "b": "b = 2",
                               "c": "# c: a function\ndef c(x):\n    # inside\n    return x"}
    for text in ("a = 1\n# stray\n\nb = 2\n", "a = 1\n\n# at the end\n",
                 "a = 1\nprint(a)\n", "a = 1\na = 2\n"):
        bad = tmp_path / "bad.py"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError):
            builder.parse_example(bad)
