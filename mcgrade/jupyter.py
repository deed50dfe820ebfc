"""Checking answers from inside a notebook, with the feedback under the cell:

    import mcgrade
    mcgrade.check_answers("dz_dw", problems="hw1.yaml")   # the answer to one problem
    mcgrade.check_answers(problems="hw1.yaml")            # every answer, and the total

The answers are the kernel's own variables (IPython's user namespace; outside IPython,
the caller's variables: its locals over its globals, so a test function's own variables
count), graded by ``mcgrade.api.grade_values``: the sandbox's encoder and
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
from types import FrameType
from typing import TYPE_CHECKING, Any

from mcgrade.errors import McgradeError

if TYPE_CHECKING:
    from mcgrade.model import GradeReport

SUBMISSION = "this notebook"


@dataclass(frozen=True)
class CheckResult:
    """What a check cell shows: the checked problems' verdicts (``report``: its
    ``verdicts``, ``score`` and ``max_score``), or why nothing could be checked
    (``error``, then ``report`` is None). Jupyter shows its HTML; ``print`` its text.
    ``passed``: whether every checked answer earned full points (``assert result.passed,
    result`` in a test)."""

    report: GradeReport | None
    error: str = ""

    @property
    def passed(self) -> bool:
        """True when something was checked and every answer got all its points; False
        for a wrong or missing answer, an unknown problem, or a set that can't be read."""
        return self.report is not None and bool(self.report.verdicts) and all(
            v.score >= v.max_score for v in self.report.verdicts)

    def _repr_html_(self) -> str:
        from mcgrade.reporters import notebook_cell
        return notebook_cell.html(self.report) if self.report else \
            notebook_cell.error_html(self.error)

    def _repr_markdown_(self) -> str:
        from mcgrade.reporters import notebook_cell
        return notebook_cell.markdown(self.report) if self.report else \
            notebook_cell.error_markdown(self.error)

    def __str__(self) -> str:
        """Plain text: a line per problem and the total, or why nothing was checked."""
        from mcgrade.reporters import terminal
        return terminal.render(self.report).rstrip("\n") if self.report else \
            f"mcgrade: {self.error}"

    __repr__ = __str__


def check_answers(*names: str, problems: str | os.PathLike[str] | None = None,
                  student: str | None = None) -> CheckResult:
    """Check the answers to the problems ``names`` names (problem ids or answer names),
    or to every problem, against the problem set ``problems``. ``student`` picks the
    variant of an instructor's set with ``params:`` (a student copy is one already).
    Never raises on a student's answer: a wrong or missing one is a verdict, and a set
    that can't be found is said in the result (``CheckResult.passed`` is then False)."""
    namespace, checked = _user_namespace(sys._getframe(1))
    try:
        path = Path(problems) if problems is not None else _set_of_this_notebook(namespace)
        if not path.is_file():
            raise McgradeError(f"{path}: no such problem set (the check reads it from "
                               f"{Path.cwd()})")
        from mcgrade.api import grade_values
        return CheckResult(grade_values(namespace, path, names, student=student,
                                        submission=checked))
    except McgradeError as exc:
        return CheckResult(None, str(exc))


def _user_namespace(caller: FrameType) -> tuple[Mapping[str, Any], str]:
    """Where the answers live, and what to call them: in IPython, the notebook's
    variables ("this notebook"; never importing IPython where it is not running), under a
    calling function's own; elsewhere the calling frame's variables, its locals over its
    globals, named by their function and file. (A helper that calls ``check_answers``
    for its caller checks the helper's variables.)"""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    code = caller.f_code
    if shell is not None:
        if code.co_name == "<module>":        # a cell: the notebook's own variables
            return shell.user_ns, SUBMISSION
        # a function (one defined in the notebook, an ipytest test): its variables over
        # the notebook's
        return ({**shell.user_ns, **caller.f_locals},
                f"the variables of {code.co_name}() in this notebook")
    where = Path(code.co_filename).name
    checked = (f"the variables of {where}" if code.co_name == "<module>"
               else f"the variables of {code.co_name}() in {where}")
    return {**caller.f_globals, **caller.f_locals}, checked


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
