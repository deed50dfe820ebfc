"""The terminal report: one line per problem (status, points, feedback), then the total."""

from __future__ import annotations

from collections.abc import Sequence

from mcgrade.engine.feedback import how_checked
from mcgrade.model import GradeReport, Verdict
from mcgrade.reporters._notes import without_notes


def points(value: float) -> str:
    """7.5 → '7.5', 2.0 → '2'."""
    return f"{value:g}"


def _line(verdict: Verdict, width: int, notes: Sequence[str]) -> str:
    score = f"{points(verdict.score)}/{points(verdict.max_score)}"
    how = how_checked(verdict.method, verdict.evidence) if verdict.status == "correct" else ""
    method = f" [{how}]" if how else ""
    head = f"  {verdict.id:<{width}}  {verdict.status:<9}  {score:>7}  "
    feedback = without_notes(verdict.feedback or "", notes, "(see the note above)")
    first, *rest = feedback.split("\n")
    lines = [head + first + method]
    lines += [" " * len(head) + line for line in rest]
    return "\n".join(lines)


def render(report: GradeReport, title: str = "") -> str:
    """The report as text for a terminal or a CI log."""
    out = [f"mcgrade: {report.submission} against {report.problem_set}"
           + (f" ({title})" if title else "")]
    out += [f"  note: {note}" for note in report.notes]
    width = max((len(v.id) for v in report.verdicts), default=0)
    out += [_line(v, width, report.notes) for v in report.verdicts]
    out.append(f"mcgrade: {points(report.score)}/{points(report.max_score)} points"
               + (f" (sandbox: {report.sandbox})" if report.sandbox else ""))
    return "\n".join(out) + "\n"


def failure_text(verdict: Verdict) -> str:
    """What a student reads for an answer short of full marks: the points, the diagnoses,
    then the feedback (as a pytest failure, or an assertion message)."""
    codes = f": {', '.join(verdict.diagnoses)}" if verdict.diagnoses else ""
    return (f"{points(verdict.score)}/{points(verdict.max_score)} points{codes}\n"
            f"{verdict.feedback}")
