"""Benchmark of a student's `pytest`: a bare run on a 10-problem notebook, against the time
Python takes to import sympy and numpy (the floor any sympy-based grader pays).

    python bench/plugin.py [--runs 5]

It writes an assignment folder (the first 10 problems of problem_sets/neuron.yaml, a
notebook answering them from examples/neuron_solution.py, and a pyproject.toml naming
both), then times, median of --runs each:

  floor      python -c "import sympy, numpy"
  pytest     a bare `pytest` in that folder, with every plugin this environment has
  alone      the same with only mcgrade's plugin loaded (PYTEST_DISABLE_PLUGIN_AUTOLOAD),
             as on a student's machine that has no other pytest plugins
  copy       alone, in a folder that holds the published student copy of those problems
             instead (mcgrade publish): what a student checks against

and prints the ratios to the floor. The three run in turns, after one run that fills the
compile cache (a student's first run compiles; every later one reads the cache).
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml

from mcgrade.authoring.publish import publish
from mcgrade.problemset import parse_problem_set

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = 10


def _assignment(folder: Path, student_copy: bool = False) -> None:
    data = yaml.safe_load((ROOT / "problem_sets" / "neuron.yaml").read_text("utf-8"))
    data["problems"] = data["problems"][:PROBLEMS]
    text = yaml.safe_dump(data, sort_keys=False)
    if student_copy:              # what a student's folder holds: the published copy
        text = publish(parse_problem_set(text, "hw1.yaml"))
    folder.mkdir(exist_ok=True)
    (folder / "hw1.yaml").write_text(text, "utf-8")
    wanted = {p["id"] for p in data["problems"]}
    source = (ROOT / "examples" / "neuron_solution.py").read_text("utf-8")
    tree = ast.parse(source)
    cells = [nbformat.v4.new_code_cell("import numpy as np")]
    for node in tree.body:
        targets = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
        if targets and targets[0] in wanted:
            cells.append(nbformat.v4.new_code_cell(ast.get_source_segment(source, node)))
    notebook = nbformat.v4.new_notebook(cells=cells)
    nbformat.write(notebook, str(folder / "hw1.ipynb"))
    (folder / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nmcgrade_problems = ["hw1.yaml"]\n'
        'mcgrade_submission = "hw1.ipynb"\n', "utf-8")


def _medians(commands: dict[str, tuple[list[str], dict[str, str], Path]], runs: int
             ) -> dict[str, float]:
    """The median wall time of each command, run in turns (floor, pytest, alone, floor, …)
    so that a machine whose load drifts during the run weighs on each alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (command, env, cwd) in commands.items():
            start = time.perf_counter()
            done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
            times[name].append(time.perf_counter() - start)
            if done.returncode not in (0, 1):
                sys.exit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mcgrade-bench-") as tmp:
        folder, copy = Path(tmp) / "full", Path(tmp) / "copy"
        _assignment(folder)
        _assignment(copy, student_copy=True)
        env = dict(os.environ)
        pytest = [sys.executable, "-m", "pytest"]      # as a student types it
        alone = pytest + ["-p", "mcgrade.pytest_plugin"]
        alone_env = env | {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        for where in (folder, copy):                   # fills the compile cache
            subprocess.run(pytest, cwd=where, env=env, capture_output=True)
        medians = _medians({
            "floor": ([sys.executable, "-c", "import sympy, numpy"], env, folder),
            "full": (pytest, env, folder),
            "alone": (alone, alone_env, folder),
            "copy": (alone, alone_env, copy)}, args.runs)
        floor, full = medians["floor"], medians["full"]
        alone, local = medians["alone"], medians["copy"]
    print(f"floor   import sympy, numpy        {floor:6.2f} s")
    print(f"pytest  bare, all plugins          {full:6.2f} s   {full / floor:4.1f}× the floor")
    print(f"alone   bare, mcgrade's plugin     {alone:6.2f} s   {alone / floor:4.1f}× the floor")
    print(f"copy    alone, the student copy    {local:6.2f} s   {local / floor:4.1f}× the floor")
    print(f"({PROBLEMS} problems, a notebook, median of {args.runs} runs each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
