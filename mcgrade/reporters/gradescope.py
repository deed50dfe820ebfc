"""Gradescope's ``results.json``: one test per problem, the total, and the feedback.

The fields are those of Gradescope's autograder specification (gradescope-autograders
.readthedocs.io, "Autograder Specifications"): ``score``, ``output`` with its
``output_format``, ``visibility``, ``stdout_visibility``, ``extra_data`` and ``tests``,
each test with ``name``, ``score``, ``max_score``, ``status``, ``output``,
``output_format``, ``tags`` and ``visibility``. Every text is ``text`` format: feedback
quotes what the student wrote, which must never become markup.

A valid file is written even when grading could not run (``failure``), so the course
sees a message rather than a broken autograder.
"""

from __future__ import annotations

import json
from typing import Any

from mcgrade.model import GradeReport, ProblemSet, number


def render(report: GradeReport | None, failure: str = "",
           problem_set: ProblemSet | None = None) -> str:
    """``report`` as results.json; ``problem_set`` gives each test its visibility
    (without it, every test is visible)."""
    if report is None:
        return _dump({"score": 0, "output": f"mcgrade could not grade this submission: "
                      f"{failure}", "output_format": "text", "tests": []})
    shown = {p.id: p.visibility for p in problem_set.problems} if problem_set else {}
    tests = [{"name": v.id, "score": number(v.score), "max_score": number(v.max_score),
              "status": "passed" if v.status == "correct" else "failed",
              "output": v.feedback, "output_format": "text",
              "visibility": shown.get(v.id, "visible"),
              "tags": list(v.diagnoses)} for v in report.verdicts]
    sandbox = [f"Graded in the sandbox: {report.sandbox}"] if report.sandbox else []
    results: dict[str, Any] = {"score": number(report.score),
                               "output": "\n".join((*report.notes, *sandbox)),
                               "output_format": "text", "tests": tests}
    if problem_set is not None:
        results["visibility"] = problem_set.visibility
    if report.sandbox:
        results["extra_data"] = {"sandbox": report.sandbox}
    return _dump(results)


def _dump(results: dict[str, Any]) -> str:
    # what mcgrade prints goes to the instructor only: it names files and paths
    results["stdout_visibility"] = "hidden"
    return json.dumps(results, indent=2, ensure_ascii=False) + "\n"
