"""The batch's files, rendered from the ledger: the gradebook, the records, Gradescope's.

    OUT/grades.csv              one row per student (``reporters.csv_report``)
    OUT/grades.json             the SPEC §4 records, one per student, as one array
                                (each with its "student" id added)
    OUT/gradescope/<id>.json    a Gradescope results.json per student
    OUT/records/<id>.json       the ledger (``ledger``), written while grading
    FEEDBACK/<id>.html          with ``--feedback FEEDBACK``: each student's page
    FEEDBACK/class_report.html  and the class report (``reporters.html_feedback``,
                                ``reporters.class_report``)
    OUT/canvas.csv              with ``--canvas ROSTER``: the totals for Canvas's import
    OUT/moodle.csv              with ``--moodle``: the totals for Moodle's (``reporters.lms``)

Every file is written atomically, and all of them from the whole ledger (everyone graded
against this version of the set, in this run or before), so grading a few students again
keeps everyone else's rows, after an interrupt they hold every student done so far, and a
re-run completes them. Outputs follow the user's umask; the ledger alone is private.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mcgrade.batch import mistakes
from mcgrade.batch.ids import file_name
from mcgrade.batch.late import Lateness, columns, gradescope_results
from mcgrade.batch.ledger import Entry
from mcgrade.batch.roster import Roster
from mcgrade.files import remove_temporaries, write_atomic
from mcgrade.grading import Grader
from mcgrade.model import ProblemSet
from mcgrade.problemset import for_student
from mcgrade.reporters import (
    class_report,
    class_summary,
    csv_report,
    gradescope,
    html_feedback,
    json_report,
    lms,
)


@dataclass(frozen=True)
class Outputs:
    """Where a batch's files go, for the driver to write and to name."""

    csv: Path
    json: Path
    gradescope: Path
    feedback: Path | None = None
    canvas: Path | None = None
    moodle: Path | None = None

    @classmethod
    def under(cls, out: str | os.PathLike[str], *,
              csv_path: str | os.PathLike[str] | None = None,
              json_path: str | os.PathLike[str] | None = None,
              feedback: str | os.PathLike[str] | None = None,
              canvas: bool = False, moodle: bool = False) -> Outputs:
        """The outputs under ``out``; ``csv_path``/``json_path`` put the gradebook or the
        array elsewhere; ``feedback`` adds the HTML pages, ``canvas`` and ``moodle`` the
        LMS gradebooks."""
        root = Path(out)
        return cls(Path(csv_path) if csv_path else root / "grades.csv",
                   Path(json_path) if json_path else root / "grades.json",
                   root / "gradescope", Path(feedback) if feedback else None,
                   root / "canvas.csv" if canvas else None,
                   root / "moodle.csv" if moodle else None)

    def remove_temporaries(self) -> None:
        """Delete what a killed run left half-written next to these files."""
        remove_temporaries(self.csv.parent, self.csv.name)
        remove_temporaries(self.json.parent, self.json.name)
        remove_temporaries(self.gradescope, ".json")
        if self.feedback is not None:
            remove_temporaries(self.feedback, ".html")
        for lms_csv in (self.canvas, self.moodle):
            if lms_csv is not None:
                remove_temporaries(lms_csv.parent, lms_csv.name)


def write_all(entries: Sequence[Entry], outputs: Outputs,
              problem_set: ProblemSet | None = None, roster: Roster | None = None,
              late: Mapping[str, Lateness] | None = None,
              grader: Grader | None = None) -> None:
    """Render every output of ``entries`` (the gradebook: every student in the ledger
    graded against this set); the feedback pages quote ``problem_set``, the Canvas
    gradebook lists the students of ``roster``. With a late policy, ``late`` holds each
    student's outcome: the gradebook and the records gain its fields, Gradescope, Canvas
    and Moodle get the final score. ``grader``: the batch's grader of ``problem_set``,
    which groups the class report's answers (without it, one is compiled)."""
    late = late or {}
    ordered = sorted(entries, key=lambda e: e.student)
    unit = next(iter(late.values())).unit if late else ""
    write_atomic(outputs.csv, csv_report.render(
        [(e.student, e.report) for e in ordered], columns(unit) if late else (),
        {s: o.cells() for s, o in late.items()}))
    write_atomic(outputs.json, json_report.render_array(
        [json_report.record(e.report, {"student": e.student,
                                       **(late[e.student].fields() if e.student in late
                                          else {})}) for e in ordered]))
    for entry in ordered:
        results = gradescope.render(entry.report)
        if entry.student in late:
            results = gradescope_results(results, late[entry.student])
        _put(outputs.gradescope / f"{file_name(entry.student)}.json", results)
    if outputs.feedback is not None and problem_set is not None:
        _pages(ordered, outputs.feedback, problem_set, late,
               grader or Grader(problem_set))
    if problem_set is not None:
        _lms(ordered, outputs, problem_set, roster, late)


def _lms(entries: Sequence[Entry], outputs: Outputs, problem_set: ProblemSet,
         roster: Roster | None, late: Mapping[str, Lateness]) -> None:
    """The gradebooks for Canvas and Moodle: each student's total (after a late
    penalty: what an LMS should hold)."""
    scores = {e.student: late[e.student].final if e.student in late else e.report.score
              for e in entries}
    title = problem_set.title or Path(problem_set.path).stem
    if outputs.canvas is not None and roster is not None:
        write_atomic(outputs.canvas, lms.canvas(roster.people, roster.key, scores,
                                                roster.column_for(title),
                                                problem_set.max_score))
    if outputs.moodle is not None:
        write_atomic(outputs.moodle, lms.moodle(scores, title))


def _pages(entries: Sequence[Entry], folder: Path, problem_set: ProblemSet,
           late: Mapping[str, Lateness], grader: Grader) -> None:
    """Each student's feedback page (in their variant of a set with params, with their
    late-work line) and the class report, its answers grouped by ``grader``."""
    for entry in entries:
        variant = for_student(problem_set, entry.student)
        lateness = late.get(entry.student)
        _put(folder / f"{file_name(entry.student)}.html",
             html_feedback.render(entry.report, variant, entry.answers,
                                  lateness.note() if lateness else "",
                                  lateness.final if lateness else None))
    roster = [class_summary.RosterRow(e.student, page_link(e.student), e.report,
                                     late[e.student].final if e.student in late else None)
              for e in entries]
    grouped = mistakes.answer_groups(entries, problem_set, grader)
    write_atomic(folder / "class_report.html",
                 class_report.render([e.report for e in entries], problem_set,
                                     roster=roster, groups=grouped.groups,
                                     cut_short=grouped.cut_short))


def page_link(student: str) -> str:
    """The relative link from the class report to a student's page beside it: the file
    name (itself percent-encoded) encoded once more as a URL path."""
    return urllib.parse.quote(f"{file_name(student)}.html", safe="")


def _put(path: Path, text: str) -> None:
    """Write ``text`` unless the file holds it already: a resumed run of 400 students
    rewrites (and syncs) only what changed."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    write_atomic(path, text)
