"""Gradescope's ``results.json``: one test per problem, the total, and the feedback.

A valid file is written even when grading could not run (``failure``), so the course
sees a message rather than a broken autograder.
"""

from __future__ import annotations

import json

from mcgrade.model import GradeReport, number


def render(report: GradeReport | None, failure: str = "") -> str:
    if report is None:
        return json.dumps({"score": 0, "output": f"mcgrade could not grade this submission: "
                           f"{failure}", "tests": [], "stdout_visibility": "hidden"},
                          indent=2, ensure_ascii=False) + "\n"
    tests = [{"name": v.id, "score": number(v.score), "max_score": number(v.max_score),
              "status": "passed" if v.status == "correct" else "failed",
              "output": v.feedback, "output_format": "text", "visibility": "visible",
              "tags": list(v.diagnoses)} for v in report.verdicts]
    notes = "\n".join(report.notes)
    return json.dumps({"score": number(report.score), "output": notes, "tests": tests,
                       "stdout_visibility": "hidden"}, indent=2, ensure_ascii=False) + "\n"
