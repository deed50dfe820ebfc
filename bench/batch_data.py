"""The benchmark's assignment and class: a 10-problem set, and N notebooks to grade.

The set is the course's ``problem_sets/chain_rules.yaml`` (10 problems: strings, numbers,
sympy matrices, a shape) with a 2 s time limit; each student's notebook answers every
problem with the reference solution (``examples/chain_rules_solution.py``) or the typical
mistake (``examples/chain_rules_mistakes.py``), drawn with a seeded random generator, so
the class is the same on every run. One notebook in 50 is hostile, in turn: an infinite
loop, a crash, an exit, a memory hog, an output flood, a file that is not a notebook.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

import nbformat
from nbformat import v4

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "problem_sets" / "chain_rules.yaml"
SOLUTION = ROOT / "examples" / "chain_rules_solution.py"
MISTAKES = ROOT / "examples" / "chain_rules_mistakes.py"
TIMEOUT = 2
HOSTILE = {
    "loop": "while True:\n    pass",
    "crash": "raise RuntimeError('my code is broken')",
    "exit": "import os\nos._exit(1)",
    "memory": "hog = bytearray(8 * 1024**3)",
    "flood": "print('x' * 10**8)",
}


def answers(path: Path) -> dict[str, str]:
    """The assignments of a solution file, by name, as source text."""
    text = path.read_text(encoding="utf-8")
    return {node.targets[0].id: ast.get_source_segment(text, node) or ""
            for node in ast.parse(text).body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}


def write_set(folder: Path) -> Path:
    """The problem set with the benchmark's time limit."""
    target = folder / SET.name
    target.write_text(f"timeout: {TIMEOUT}\n" + SET.read_text(encoding="utf-8"),
                      encoding="utf-8")
    return target


def cells_of(index: int) -> list[str] | None:
    """Student ``index``'s code cells (None: the file is garbage, not a notebook)."""
    right, wrong = answers(SOLUTION), answers(MISTAKES)
    draw = random.Random(index)
    cells = [f"{right[name] if draw.random() < 0.6 else wrong.get(name, right[name])}"
             for name in right]
    if index % 50 == 49:
        kinds = [*HOSTILE, "garbage"]
        kind = kinds[(index // 50) % len(kinds)]
        if kind == "garbage":
            return None
        cells.insert(len(cells) // 2, HOSTILE[kind])
    return ["import numpy as np\nimport sympy as sp", *cells]


def write_class(folder: Path, count: int) -> list[Path]:
    """``count`` student notebooks in ``folder``: s000.ipynb, s001.ipynb, ..."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"s{index:03d}.ipynb"
        cells = cells_of(index)
        if cells is None:
            path.write_text("{this is not a notebook", encoding="utf-8")
        else:
            path.write_text(nbformat.writes(v4.new_notebook(
                cells=[v4.new_code_cell(c) for c in cells])), encoding="utf-8")
        paths.append(path)
    return paths
