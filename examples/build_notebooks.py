"""Build the example notebooks from the example Python files.

For every ``examples/<set>_<who>.py`` whose set is ``problem_sets/<set>.yaml`` (the solution
and typical-mistakes files, and ``neuron_alice.py``), write ``examples/<set>_<who>.ipynb``:
the set's starter notebook (``mcgrade.authoring.notebook``) with each problem's answer cell
holding that problem's assignment or ``def`` from the .py file, with the comment lines just
above it. Whatever comes before the first answer (the file's header comment, its imports)
goes into the notebook's first code cell. The notebooks have no outputs and stable cell ids,
so a second run writes the same bytes; ``--check`` only says whether they are up to date.

    python examples/build_notebooks.py            # write examples/*.ipynb
    python examples/build_notebooks.py --check    # exit 1 if any is missing or stale
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from mcgrade.authoring.notebook import build_notebook, render
from mcgrade.files import write_atomic
from mcgrade.problemset import load_problem_set

EXAMPLES = Path(__file__).resolve().parent
SETS = EXAMPLES.parent / "problem_sets"
SETUP_CELL = "mcgrade-setup"


@dataclass(frozen=True)
class Example:
    """One example file: its setup (header and imports) and its answers by name."""

    setup: str
    answers: dict[str, str]


def examples(folder: Path = EXAMPLES) -> list[tuple[Path, str]]:
    """(example .py file, the name of its set), for every ``<set>_<who>.py`` in ``folder``
    whose set is in problem_sets/; other .py files (this script) are not examples."""
    found = []
    for path in sorted(folder.glob("*.py")):
        set_name = path.stem.rpartition("_")[0]
        if set_name and (SETS / f"{set_name}.yaml").is_file():
            found.append((path, set_name))
    return found


def parse_example(path: Path) -> Example:
    """Split an example file into its setup and one piece of source per answer. Each
    top-level assignment or ``def`` is an answer, with the comment block directly above
    it; what precedes the first answer is the setup. A comment that would be lost (not
    directly above an answer) or a statement other than an import before the answers is
    an error, so the notebook says everything the file says."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    answers: dict[str, str] = {}
    setup_end: int | None = None
    previous_end = 0
    for node in ast.parse(text, filename=str(path)).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not answers:
            previous_end = node.end_lineno or node.lineno
            continue
        name = _answer_name(node)
        if name is None:
            raise ValueError(f"{path.name}:{node.lineno}: expected an import, an assignment "
                             f"or a def at the top level, found {type(node).__name__}")
        if name in answers:
            raise ValueError(f"{path.name}:{node.lineno}: {name} is answered twice")
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
        start = first - 1                       # 0-based index of the statement's first line
        while start > previous_end and lines[start - 1].startswith("#"):
            start -= 1                          # the comment block directly above
        if setup_end is None:
            setup_end = start
        elif any(line.strip() for line in lines[previous_end:start]):
            raise ValueError(f"{path.name}:{previous_end + 1}: a comment not directly above "
                             f"an answer would be left out of the notebook")
        previous_end = node.end_lineno or node.lineno
        answers[name] = "\n".join(lines[start:previous_end])
    if any(line.strip() for line in lines[previous_end:]) and answers:
        raise ValueError(f"{path.name}:{previous_end + 1}: a comment after the last answer "
                         f"would be left out of the notebook")
    setup = "\n".join(lines[:setup_end if setup_end is not None else len(lines)]).strip("\n")
    # The header tells how to grade the .py file; in the notebook, the notebook.
    setup = setup.replace(f"examples/{path.name}", f"examples/{path.stem}.ipynb")
    return Example(setup, answers)


def _answer_name(node: ast.stmt) -> str | None:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1 \
            and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
        return node.target.id
    return None


def notebook_text(path: Path, set_name: str) -> str:
    """The .ipynb text of the example at ``path``, an answer to ``set_name``."""
    problem_set = load_problem_set(SETS / f"{set_name}.yaml")
    example = parse_example(path)
    # The check cell runs from examples/, where the set is ../problem_sets/<set>.yaml.
    notebook = build_notebook(problem_set, f"{path.stem}.ipynb",
                              f"../problem_sets/{set_name}.yaml")
    unused = dict(example.answers)
    for cell in notebook.cells:
        if cell.get("id") == SETUP_CELL and example.setup:
            cell.source = example.setup
        problem_id = cell.metadata.get("mcgrade", {}).get("problem")
        if problem_id is not None:
            name = problem_set.problem(problem_id).answer_name
            if name in unused:
                cell.source = unused.pop(name)
    if unused:
        raise ValueError(f"{path.name}: {', '.join(unused)} answer no problem of "
                         f"{set_name}.yaml")
    nbformat.validate(notebook)
    return render(notebook)


def build(output: Path = EXAMPLES, check: bool = False) -> list[Path]:
    """Write (or with ``check``, compare) every example notebook in ``output``; the
    notebooks written, or with ``check`` the ones missing or different."""
    changed = []
    for path, set_name in examples():
        target = output / f"{path.stem}.ipynb"
        text = notebook_text(path, set_name)
        if target.is_file() and target.read_bytes() == text.encode("utf-8"):
            continue
        changed.append(target)
        if not check:
            write_atomic(target, text)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=EXAMPLES,
                        help="the folder to write the notebooks in (default: examples/)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a notebook is missing or stale")
    args = parser.parse_args(argv)
    changed = build(args.output, check=args.check)
    for target in changed:
        print(f"{'stale' if args.check else 'wrote'}: {target}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
