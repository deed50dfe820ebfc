"""The same class graded by nbgrader's ``autograde``, in a venv of its own (bench/.venv).

The assignment is the benchmark's 10 problems as an nbgrader notebook: a solution cell and
an autograded test cell per problem. The tests are plainer than mcgrade's checks (sympy
``simplify`` of the difference for scalar expressions, the value itself for numbers and
shapes, the text otherwise), which can only flatter nbgrader. nbgrader executes each
notebook in a fresh Jupyter kernel; that start, not the checks, is most of its cost.
Per-notebook times are read from the timestamps of nbgrader's own log lines.
"""

from __future__ import annotations

import ast
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from batch_data import SOLUTION, TIMEOUT, answers, cells_of
from nbformat import v4

VENV = Path(__file__).resolve().parent / ".venv"
HELPER = """import sympy as sp

def same(answer, reference):
    if isinstance(reference, str):
        try:
            return sp.simplify(sp.sympify(answer) - sp.sympify(reference)) == 0
        except Exception:
            return str(answer).replace(' ', '') == reference.replace(' ', '')
    return answer == reference"""


def ensure_venv() -> Path:
    """bench/.venv with nbgrader and a kernel (made on first use; PyPI)."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "nbgrader", "ipykernel",
                        "numpy", "sympy"], check=True)
    return python


def _meta(grade_id: str, *, solution: bool, points: float = 0) -> dict:
    meta = {"grade": not solution, "solution": solution, "locked": not solution,
            "grade_id": grade_id, "schema_version": 3}
    if not solution:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook() -> nbformat.NotebookNode:
    right = answers(SOLUTION)
    cells = [v4.new_code_cell(HELPER, metadata=_meta("helper", solution=False, points=0))]
    cells[0].metadata["nbgrader"]["grade"] = False
    del cells[0].metadata["nbgrader"]["points"]
    for name, code in right.items():
        reference = ast.literal_eval(code.split("=", 1)[1].strip())
        cells.append(v4.new_code_cell(f"### BEGIN SOLUTION\n{code}\n### END SOLUTION",
                                      metadata=_meta(f"{name}_answer", solution=True)))
        cells.append(v4.new_code_cell(f"assert same({name}, {reference!r})",
                                      metadata=_meta(f"{name}_test", solution=False,
                                                     points=1)))
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


def student_notebook(released: nbformat.NotebookNode, index: int) -> nbformat.NotebookNode:
    """The released notebook with student ``index``'s answers in the solution cells."""
    cells = cells_of(index) or []
    mine = {c.split("=", 1)[0].strip(): c for c in cells[1:] if "=" in c}
    notebook = nbformat.from_dict(json.loads(nbformat.writes(released)))
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if grade_id.endswith("_answer"):
            cell.source = mine.get(grade_id[:-len("_answer")], "")
    return notebook


def run(folder: Path, count: int) -> dict[str, float]:
    """Autograde ``count`` notebooks; per-notebook median and mean, and the total."""
    python = ensure_venv()
    nbgrader = [str(python), "-m", "nbgrader"]
    course = folder / "course"
    source = course / "source" / "ps1"
    source.mkdir(parents=True)
    nbformat.write(source_notebook(), source / "ps1.ipynb")
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n"
        f"c.ExecutePreprocessor.timeout = {TIMEOUT}\n", encoding="utf-8")
    env = {**os.environ, "PATH": f"{VENV / 'bin'}:{os.environ['PATH']}"}
    quiet = {"cwd": course, "env": env, "check": True, "capture_output": True}
    subprocess.run([*nbgrader, "db", "assignment", "add", "ps1"], **quiet)
    subprocess.run([*nbgrader, "generate_assignment", "ps1", "--force"], **quiet)
    released = nbformat.read(course / "release" / "ps1" / "ps1.ipynb", as_version=4)
    for index in range(count):
        target = course / "submitted" / f"s{index:03d}" / "ps1"
        target.mkdir(parents=True)
        nbformat.write(student_notebook(released, index), target / "ps1.ipynb")
    start = time.perf_counter()
    done = subprocess.run([*nbgrader, "autograde", "ps1", "--create", "--force",
                           "--Application.log_level=INFO",
                           "--Application.log_format=%(asctime)s.%(msecs)03d %(message)s",
                           "--Application.log_datefmt=%Y-%m-%d %H:%M:%S"],
                          cwd=course, env=env, capture_output=True, text=True)
    total = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader autograde failed:\n{done.stderr[-3000:]}")
    gaps = _durations(done.stderr)
    graded = len(list(course.glob("autograded/*/ps1/ps1.ipynb")))
    return {"total": total, "count": graded,
            "median": statistics.median(gaps) if gaps else total / max(graded, 1),
            "mean": total / max(graded, 1)}


def _durations(log: str) -> list[float]:
    """Each notebook's time in nbgrader, from its log lines' timestamps: from the first
    line naming its submitted copy to the last naming its autograded one (the database
    work between students is left out, which only flatters nbgrader)."""
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    for line in log.splitlines():
        found = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) .*"
                         r"(submitted|autograded)/(s\d+)", line)
        if found:
            when = datetime.datetime.fromisoformat(found.group(1)).timestamp()
            if found.group(2) == "submitted":
                starts.setdefault(found.group(3), when)
            else:
                ends[found.group(3)] = when
    return [ends[s] - starts[s] for s in starts if s in ends]
