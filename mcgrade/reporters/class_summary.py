"""The class's numbers behind the class report, as plain data.

    summary(reports, problem_set) -> Summary

Per problem: how many submissions each status group holds, the mean score, the most
frequent diagnoses, the author's mistakes made, the causes of errors and an item analysis
(``ItemStats``: difficulty, and the corrected item–total correlation). Every per-problem
number is over the submissions with answers to grade (``ungradable`` says which have
none); the totals are over everyone. ``RosterRow`` and ``AnswerGroup`` are what the batch
layer adds (the roster, and the class's wrong answers grouped by the engine,
``mcgrade.batch.mistakes``). ``mcgrade.reporters.class_report`` draws the page.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from mcgrade.model import Diagnosis, GradeReport, ProblemSet, Verdict
from mcgrade.reporters.diagnosis_words import cause

# Status groups, in the order the class report's bars stack them, with their colours.
STATUS_GROUPS = (("correct", "Correct", "#1a7f37"), ("partial", "Partial", "#bf8700"),
           ("incorrect", "Incorrect / error", "#cf222e"), ("missing", "No answer", "#8c959f"))
_GROUP_OF = {"correct": "correct", "partial": "partial", "incorrect": "incorrect",
             "error": "incorrect", "timeout": "incorrect", "missing": "missing"}


LOW_DISCRIMINATION = 0.2
"""A problem whose corrected item–total correlation is below this is flagged."""

@dataclass(frozen=True)
class RosterRow:
    """One student of the roster: their id, the relative link to their feedback page
    (already a URL path, percent-encoded; "" for none), their report and, when a late
    policy applies, their ``final`` score (after its penalty)."""

    student: str
    page: str
    report: GradeReport
    final: float | None = None


@dataclass(frozen=True)
class AnswerGroup:
    """Wrong answers to one problem that the engine finds equal, however spelt:
    ``example`` is the most common spelling, ``students`` who gave one of them,
    ``diagnoses`` what grading said of them, ``spellings`` how many different texts,
    ``covered`` whether an author's mistake already diagnoses them, ``expression``
    whether they are expression strings (which a ``mistakes:`` entry can name)."""

    problem: str
    example: str
    count: int
    students: tuple[str, ...]
    diagnoses: tuple[str, ...]
    spellings: int = 1
    covered: bool = False
    expression: bool = False


@dataclass(frozen=True)
class ItemStats:
    """A problem's item analysis over the submissions with answers to grade:
    ``difficulty``, the mean share of its points earned (1 = everyone right);
    ``discrimination``, the Pearson correlation between that share and the rest of each
    student's total (None when it is undefined: under 3 students, or no spread)."""

    difficulty: float
    discrimination: float | None

    @property
    def flag(self) -> str:
        """Why the item deserves a look, or ""."""
        r = self.discrimination
        if r is None:
            return "no spread: it can't tell students apart"
        if r < 0:
            return "negative: students who did better elsewhere did worse here"
        if r < LOW_DISCRIMINATION:
            return f"low (under {LOW_DISCRIMINATION:g})"
        return ""


@dataclass(frozen=True)
class ProblemSummary:
    id: str
    points: float
    graded: int                                  # submissions with a verdict for it
    counts: tuple[tuple[str, int], ...]          # status group → submissions
    mean_score: float
    diagnoses: tuple[tuple[str, int], ...]       # most frequent first
    mistakes: tuple[tuple[str, int], ...] = ()   # author's mistakes made, by their answer
    item: ItemStats | None = None                 # None when nobody had answers to grade
    causes: tuple[tuple[str, int], ...] = ()     # "error" verdicts by their cause

    def share(self, count: int) -> float:
        return count / self.graded if self.graded else 0.0

    def count(self, group: str) -> int:
        return dict(self.counts).get(group, 0)


@dataclass(frozen=True)
class Summary:
    students: int
    max_score: float
    scores: tuple[float, ...]                   # sorted
    mean: float
    median: float
    problems: tuple[ProblemSummary, ...]
    gradable: int = 0                           # the per-problem numbers' basis


def ungradable(report: GradeReport) -> str:
    """Why a submission had nothing to grade ("" if it had answers): nothing was read
    from it (every problem an error or a timeout, and a note saying why). Not a fault of
    this machine: those are ``ungraded`` and said apart."""
    if not report.notes or not report.verdicts:
        return ""
    if all(v.status in ("error", "timeout") for v in report.verdicts):
        return report.notes[-1]
    return ""


def item_stats(reports: Sequence[GradeReport], problem_id: str) -> ItemStats | None:
    """The item analysis of one problem over ``reports`` (those with answers to grade).

    With x_i the share of the problem's points student i earned and R_i the rest of
    their total (total score minus this problem's points), the difficulty is mean(x) and
    the discrimination is the corrected item–total correlation r(x, R), Pearson's (for a
    right-or-wrong problem, the point-biserial correlation with the rest score)."""
    shares, rests = [], []
    for report in reports:
        verdict = next((v for v in report.verdicts if v.id == problem_id), None)
        if verdict is None:
            continue
        shares.append(verdict.score / verdict.max_score if verdict.max_score else 0.0)
        rests.append(report.score - verdict.score)
    if not shares:
        return None
    return ItemStats(statistics.fmean(shares), _correlation(shares, rests))


def _correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r, or None when undefined (under 3 pairs, or either side constant)."""
    if len(xs) < 3:
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    syy = math.fsum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def _group(verdict: Verdict) -> str:
    """The status group a verdict counts in: an overridden one by its points (all of
    them correct, none incorrect, some partial), as the instructor decided."""
    if verdict.override is None:
        return _GROUP_OF.get(verdict.status, "incorrect")
    if verdict.score >= verdict.max_score:
        return "correct"
    return "partial" if verdict.score > 0 else "incorrect"


def summary(reports: Sequence[GradeReport], problem_set: ProblemSet) -> Summary:
    scores = tuple(sorted(r.score for r in reports))
    gradable = [r for r in reports if not ungradable(r)]
    problems = []
    ids = [p.id for p in problem_set.problems]
    ids += sorted({v.id for r in reports for v in r.verdicts} - set(ids))
    for problem_id in ids:
        problem = problem_set.problem(problem_id)
        graded = [(v, r.notes) for r in gradable for v in r.verdicts if v.id == problem_id]
        verdicts = [v for v, _ in graded]
        causes = Counter(cause(v, notes) for v, notes in graded
                         if Diagnosis.ERROR in v.diagnoses)
        groups = Counter(_group(v) for v in verdicts)
        diagnoses = Counter(code for v in verdicts for code in dict.fromkeys(v.diagnoses))
        ranked = sorted(diagnoses.items(), key=lambda item: (-item[1], item[0]))
        mistakes = Counter(str(v.evidence["mistake"]) for v in verdicts
                           if Diagnosis.AUTHOR_MISTAKE in v.diagnoses and "mistake" in v.evidence)
        max_points = problem.points if problem else max((v.max_score for v in verdicts),
                                                        default=0.0)
        problems.append(ProblemSummary(
            problem_id, max_points, len(verdicts),
            tuple((g, groups.get(g, 0)) for g, _, _ in STATUS_GROUPS),
            statistics.fmean(v.score for v in verdicts) if verdicts else 0.0,
            tuple(ranked),
            tuple(sorted(mistakes.items(), key=lambda item: (-item[1], item[0]))),
            item_stats(gradable, problem_id), tuple(sorted(causes.items()))))
    return Summary(len(reports), problem_set.max_score, scores,
                   statistics.fmean(scores) if scores else 0.0,
                   statistics.median(scores) if scores else 0.0, tuple(problems),
                   len(gradable))
