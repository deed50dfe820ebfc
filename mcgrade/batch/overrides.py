"""An instructor's overrides: ``--overrides FILE``, a CSV of ``student,problem,points,comment``.

A TA writes it in a spreadsheet (``spreadsheet`` reads it as such). Each row replaces one
problem's points for one student, and its comment is shown to the student. Overrides are
applied when the outputs are rendered from the ledger, never stored in a record, so a
regrade keeps them and removing a row removes its override. The file is checked as a
whole before anything is graded: an unknown student or problem, points that are not a
number between 0 and the problem's worth, or a second row for the same student and
problem is an error naming its line.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from mcgrade.batch import spreadsheet
from mcgrade.errors import UsageError
from mcgrade.model import OVERRIDE_NOTE, GradeReport, ProblemSet, number

COLUMNS = ("student", "problem", "points", "comment")
PREFIX = OVERRIDE_NOTE


@dataclass(frozen=True)
class Override:
    points: float
    comment: str
    line: int


Overrides = Mapping[str, Mapping[str, Override]]        # student → problem id → override


def read(path: str | os.PathLike[str], problem_set: ProblemSet,
         students: Collection[str]) -> Overrides:
    """The overrides in ``path``, checked against the set's problems and the gradebook's
    ``students``; a UsageError names the first wrong line."""
    header, rows = spreadsheet.read(path)
    names = {c: spreadsheet.column(header, c) or "" for c in COLUMNS}
    missing = [c for c in COLUMNS[:3] if not names[c]]
    if missing:
        raise UsageError(f"{path}:1: no column {', '.join(map(repr, missing))}: the header "
                         f"names the columns {', '.join(COLUMNS)} (in any order)")
    worth = {p.id: p.points for p in problem_set.problems}
    found: dict[str, dict[str, Override]] = {}
    for line, row in rows:
        student, problem = row[names["student"]], row[names["problem"]]
        where = f"{path}:{line}"
        spreadsheet.require_known(where, "student", student, students, "is not in the gradebook")
        spreadsheet.require_known(where, "problem", problem, worth,
                                  f"is not a problem of {problem_set.path}")
        points = _points(where, row[names["points"]], problem, worth[problem])
        earlier = found.get(student, {}).get(problem)
        if earlier is not None:
            raise UsageError(f"{where}: {student!r} {problem} is overridden already on "
                             f"line {earlier.line}; keep one row")
        comment = row.get(names["comment"], "")
        found.setdefault(student, {})[problem] = Override(points, comment, line)
    return found


def _points(where: str, text: str, problem: str, worth: float) -> float:
    try:
        points = float(text)
    except ValueError:
        points = float("nan")
    if not 0 <= points <= worth:                      # NaN fails too
        raise UsageError(f"{where}: points {text!r} for {problem}: give a number from 0 "
                         f"to {number(worth)}, the problem's worth")
    return points


def apply(report: GradeReport, overrides: Mapping[str, Override]) -> GradeReport:
    """``report`` with these problems' points replaced, each marked and its comment added
    to the feedback; the total follows (it is the sum of the problems)."""
    if not overrides:
        return report
    verdicts = []
    for verdict in report.verdicts:
        given = overrides.get(verdict.id)
        if given is not None:
            note = f"{PREFIX}: {given.comment}" if given.comment else f"{PREFIX}."
            feedback = f"{verdict.feedback}\n{note}" if verdict.feedback else note
            verdict = replace(verdict, score=given.points, feedback=feedback,
                              override={"points": number(given.points),
                                        "comment": given.comment})
        verdicts.append(verdict)
    return replace(report, verdicts=tuple(verdicts))
