"""Checking answers from inside a notebook, with the feedback under the cell:

    import mcgrade
    mcgrade.check_answers("dz_dw", problems="hw1.yaml")   # the answer to one problem
    mcgrade.check_answers(problems="hw1.yaml")            # every answer, and the total

The answers are the kernel's own variables (IPython's user namespace; outside IPython,
the caller's globals), graded by ``mcgrade.api.grade_values``: the sandbox's encoder and
the Grader of ``mcgrade grade`` and pytest, so a check cell and the grader never
disagree. Against a student copy (``mcgrade publish``) these are its local checks;
against an instructor's set, the real grading. Without ``problems``, the set is the one
the notebook's metadata names, where the kernel can tell which notebook it runs.

``import mcgrade`` stays cheap: the engine (sympy, numpy) loads at the first check, and
the set is compiled once per kernel (again only when its file changes).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcgrade.errors import McgradeError

if TYPE_CHECKING:
    from mcgrade.model import GradeReport

SUBMISSION = "this notebook"


@dataclass(frozen=True)
class CheckResult:
    """What a check cell shows: the checked problems' verdicts (``report``), or why
    nothing could be checked (``error``). Jupyter shows its HTML; text elsewhere."""

    report: GradeReport | None
    error: str = ""

    def _repr_html_(self) -> str:
        from mcgrade.reporters import notebook_cell
        return notebook_cell.html(self.report) if self.report else \
            notebook_cell.error_html(self.error)

    def _repr_markdown_(self) -> str:
        from mcgrade.reporters import notebook_cell
        return notebook_cell.markdown(self.report) if self.report else \
            notebook_cell.error_markdown(self.error)

    def __repr__(self) -> str:
        from mcgrade.reporters import terminal
        return terminal.render(self.report).rstrip("\n") if self.report else \
            f"mcgrade: {self.error}"


def check_answers(*names: str, problems: str | os.PathLike[str] | None = None,
                  student: str | None = None) -> CheckResult:
    """Check the answers to the problems ``names`` names (problem ids or answer names),
    or to every problem, against the problem set ``problems``. ``student`` picks the
    variant of an instructor's set with ``params:`` (a student copy is one already).
    Never raises on a student's answer: a wrong or missing one is a verdict, and a set
    that can't be found is said in the result."""
    namespace = _user_namespace(sys._getframe(1).f_globals)
    try:
        path = Path(problems) if problems is not None else _set_of_this_notebook(namespace)
        if not path.is_file():
            raise McgradeError(f"{path}: no such problem set (the check reads it from "
                               f"{Path.cwd()})")
        from mcgrade.api import grade_values
        return CheckResult(grade_values(namespace, path, names, student=student,
                                        submission=SUBMISSION))
    except McgradeError as exc:
        return CheckResult(None, str(exc))


def _user_namespace(caller: Mapping[str, Any]) -> Mapping[str, Any]:
    """Where the notebook's variables live: the running IPython's user namespace (never
    importing IPython where it is not running), else the caller's globals."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell.user_ns if shell is not None else caller


def _set_of_this_notebook(namespace: Mapping[str, Any]) -> Path:
    """The problem set the notebook's metadata names (``mcgrade.problem_set``, beside the
    notebook). Only some front ends tell the kernel its notebook: VS Code in
    ``__vsc_ipynb_file__``, Jupyter Server in ``JPY_SESSION_NAME`` (a path that may be
    relative to the server's folder, so the name is also tried in the kernel's own)."""
    for told in (namespace.get("__vsc_ipynb_file__"), os.environ.get("JPY_SESSION_NAME")):
        if not isinstance(told, str) or not told.endswith(".ipynb"):
            continue
        for notebook in (Path(told), Path(Path(told).name)):
            try:
                metadata = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]
                found: Path = notebook.parent / metadata["mcgrade"]["problem_set"]
                return found
            except (OSError, ValueError, KeyError, TypeError):
                continue
    raise McgradeError('name the problem set: mcgrade.check_answers(problems="hw1.yaml") '
                       "(this notebook's metadata names none that can be found)")
