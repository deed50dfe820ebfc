"""``mcgrade notebook``: the starter notebook students answer in.

One title cell (the set's title, its conventions, how to answer), then per problem a
Markdown cell with the prompt (LaTeX renders in Jupyter) and a code cell to fill in,
tagged with the problem's id in its metadata (``{"mcgrade": {"problem": id}}`` and the
tags ``mcgrade-answer`` and the id), followed by a cell that checks that answer; last a
cell that checks them all (``mcgrade.check_answers``: the feedback appears under the
cell). Check cells are marked ``{"mcgrade": {"check": true}}``, and the grader skips them.
Cell ids are derived from the problem ids, so the same set gives the same notebook byte
for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mcgrade.engine.compiler import scope_of
from mcgrade.errors import ExpressionError
from mcgrade.expressions import Scope, compile_expression
from mcgrade.model import Problem, ProblemSet
from mcgrade.problemset.params import text_of

# nbformat's v4 builders and its writer carry no annotations: their types, as used here
_markdown_cell: Callable[..., nbformat.NotebookNode] = new_markdown_cell
_code_cell: Callable[..., nbformat.NotebookNode] = new_code_cell
_notebook: Callable[..., nbformat.NotebookNode] = new_notebook
_writes: Callable[[nbformat.NotebookNode], str] = nbformat.writes

ANSWER_TAG = "mcgrade-answer"

_LAYOUTS = {
    "numerator": "the derivative of a scalar by an $n\\times 1$ column is a $1\\times n$ row, "
                 "and row $i$ of a Jacobian is the gradient of output $i$",
    "denominator": "the derivative of a scalar by an $n\\times 1$ column is an $n\\times 1$ "
                   "column: each derivative is the transpose of its numerator-layout form",
}


def build_notebook(problem_set: ProblemSet, notebook_name: str, set_name: str
                   ) -> nbformat.NotebookNode:
    """The starter notebook; ``set_name`` is the problem set the check cells read (the
    student copy next to the notebook), ``notebook_name`` the notebook's own file name,
    which the last cell tells how to check from a terminal."""
    scope = scope_of(problem_set)
    cells = [_markdown_cell(_introduction(problem_set), id="mcgrade-title"),
             _code_cell("import numpy as np  # numbers and arrays are answers too",
                        id="mcgrade-setup")]
    for problem in problem_set.problems:
        cells.append(_markdown_cell(_question(problem), id=f"{problem.id}-prompt"))
        cells.append(_code_cell(
            _answer_cell(problem, scope), id=f"{problem.id}-answer",
            metadata={"mcgrade": {"problem": problem.id}, "tags": [ANSWER_TAG, problem.id]}))
        cells.append(_check_cell(
            "import mcgrade  # checks the answer above (the grader skips this cell)\n"
            + _check_call(problem_set, set_name, problem.id), f"{problem.id}-check"))
    cells.append(_check_cell(_check_all_source(problem_set, notebook_name, set_name),
                             "mcgrade-check"))
    notebook = _notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "mcgrade": {"problem_set": set_name, "title": problem_set.title,
                    **({"student": problem_set.student} if problem_set.student else {})}})
    nbformat.validate(notebook)
    return notebook


def render(notebook: nbformat.NotebookNode) -> str:
    """The notebook as .ipynb text."""
    return _writes(notebook) + "\n"


def _introduction(problem_set: ProblemSet) -> str:
    total = f"{problem_set.max_score:g}"
    lines = [f"# {problem_set.title}", ""]
    if problem_set.student:
        lines += [f"*Your variant: student `{problem_set.student}`.*", ""]
    lines += [
        f"{len(problem_set.problems)} problems, {total} points. Write each answer in the code "
        "cell below its question, replacing `...`. An answer can be an expression string in "
        "mcgrade's numpy-like syntax (`\"x.T @ A\"`: `@` is the matrix product, `*` and `**` "
        "are element-wise, `.T` transposes), a sympy expression, numbers (a nested list or "
        "a numpy array), or a shape tuple where a shape is asked for.",
        "",
        f"**Layout: {problem_set.layout}.** Vectors are columns; in {problem_set.layout} "
        f"layout {_LAYOUTS[problem_set.layout]}.",
    ]
    if problem_set.orientation == "strict":
        lines += ["", "Shapes must match exactly: give a row or a column, not a 1-D array."]
    lines += ["", ("Run the cell under an answer to check it: the feedback appears under "
                   "that cell. The last cell checks every answer and gives your total.")]
    return "\n".join(lines)


def _question(problem: Problem) -> str:
    points = f"{problem.points:g} point{'s' if problem.points != 1 else ''}"
    head = f"### `{problem.answer_name}` ({points})"
    return f"{head}\n\n{problem.prompt or _default_prompt(problem)}"


def _default_prompt(problem: Problem) -> str:
    """A question for a problem without a prompt, from what it asks (never its answer)."""
    wrt = ", ".join(f"`{w}`" for w in problem.wrt)
    at = ", ".join(f"`{name} = {text_of(_plain(value))}`" for name, value in problem.at)
    where = f", at {at}" if at else ""
    if problem.kind == "shape":
        return f"Give the shape of the derivative of `{problem.of}` with respect to {wrt}."
    if problem.kind == "hessian":
        return f"Find the Hessian of `{problem.of}` with respect to {wrt}{where}."
    if problem.kind == "derivative":
        return f"Find the derivative of `{problem.of}` with respect to {wrt}{where}."
    return "Give the answer to this problem."


def _plain(value: Any) -> Any:
    return [list(row) for row in value] if isinstance(value, tuple) else value


def _answer_cell(problem: Problem, scope: Scope) -> str:
    name = problem.answer_name
    if problem.form == "function":
        arguments = ", ".join(problem.signature)
        return (f"def {name}({arguments}):\n"
                f"    # your answer: return the derivative as a numpy array\n"
                f"    ...")
    if problem.kind == "shape":
        return f"{name} = ...  # your answer: a shape, such as (\"m\", \"n\") or (3, 2)"
    if problem.at and _all_fixed(problem, scope):
        return f"{name} = ...  # your answer: numbers (a nested list or a numpy array)"
    return f"{name} = ...  # your answer"


def _all_fixed(problem: Problem, scope: Scope) -> bool:
    """Whether ``at`` fixes every symbol of ``of``: the answer is then numbers."""
    try:
        used = compile_expression(problem.of or "", scope).symbols
    except ExpressionError:
        return False
    return used <= {name for name, _ in problem.at}


def _check_cell(source: str, cell_id: str) -> nbformat.NotebookNode:
    """A code cell marked as a check: the grader skips it (``submission.sources``)."""
    return _code_cell(source, id=cell_id, metadata={"mcgrade": {"check": True}})


def _check_call(problem_set: ProblemSet, set_name: str, *names: str) -> str:
    """``mcgrade.check_answers(...)`` for ``names`` (none: every problem)."""
    arguments = [json.dumps(name) for name in names]
    arguments.append(f"problems={json.dumps(set_name)}")
    if problem_set.student:                 # the variant, for an instructor's set
        arguments.append(f"student={json.dumps(problem_set.student)}")
    return f"mcgrade.check_answers({', '.join(arguments)})"


def _check_all_source(problem_set: ProblemSet, notebook_name: str, set_name: str) -> str:
    return "\n".join([
        "# Check every answer, and your total. The checks read the answers you have run;",
        "# from a terminal in this folder,",
        f"#     python -m pytest --mcgrade-submission {notebook_name} {set_name}",
        "# checks the saved notebook the same way. Against a student copy of the set the",
        "# checks run at fixed points and never show the expected answers; the final",
        "# grading may be stricter. (The grader skips the check cells.)",
        "import mcgrade",
        _check_call(problem_set, set_name),
    ])
