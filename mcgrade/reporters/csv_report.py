"""The CSV gradebook: one row per student, a column per problem (its points), the total.

Safe to open in a spreadsheet: a text cell that a spreadsheet would read as a formula
(it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return — OWASP's "CSV
injection") is written with a leading apostrophe, so a student named ``=HYPERLINK(...)``
shows as text. Numbers are written as JSON writes them (2, not 2.0).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from mcgrade.model import GradeReport, number

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """A text cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def render(rows: Sequence[tuple[str, GradeReport]], extra: Sequence[str] = (),
           cells: Mapping[str, Sequence[str | float | int]] | None = None) -> str:
    """The gradebook of ``(student id, report)`` rows, in the order given. Columns:
    student, submission, each problem's points (in the problem set's order), total,
    max_score, notes (what went wrong with the run, e.g. a crash or a timeout), and, when
    an instructor overrode some points, overrides (which problems, with the comments).
    The overridden points stay numbers in their columns, so sums and imports still work.
    Then the ``extra`` columns (late work's submitted, deadline, days_late, penalty,
    final_score), each student's ``cells`` under them (empty where none are given)."""
    cells = cells or {}
    problems: list[str] = []
    for _, report in rows:
        problems += [v.id for v in report.verdicts if v.id not in problems]
    overridden = any(v.override is not None for _, r in rows for v in r.verdicts)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "submission", *map(cell, problems), "total", "max_score",
                     "notes", *(["overrides"] if overridden else []), *map(cell, extra)])
    for student, report in rows:
        scores = {v.id: number(v.score) for v in report.verdicts}
        writer.writerow([cell(student), cell(report.submission),
                         *(scores.get(p, "") for p in problems), number(report.score),
                         number(report.max_score), cell(" | ".join(report.notes)),
                         *([cell(_overrides(report))] if overridden else []),
                         *[cell(c) if isinstance(c, str) else c
                           for c in cells.get(student, [""] * len(extra))]])
    return out.getvalue()


def _overrides(report: GradeReport) -> str:
    """The problems an instructor overrode, with their comments: ``dz_dw: late fix``."""
    marks = [(v.id, v.override.get("comment", "")) for v in report.verdicts
             if v.override is not None]
    return " | ".join(f"{problem}: {comment}" if comment else problem
                      for problem, comment in marks)
