"""Grading many submissions on this machine: the warm worker pool runs them, ``jobs`` at a
time, and this process decides their verdicts.

Verdicts are memoised per run: a class gives the same answer to a problem many times
(every right answer, the common mistakes), and the grader's check of an answer is a pure
function of the answer, so it is decided once. That keeps the one process that grades
from becoming the bottleneck behind the workers that run code.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Hashable, Iterator, Mapping, Sequence

from mcgrade.errors import CheckAbandoned
from mcgrade.grading import LOCAL_NOTE, Grader
from mcgrade.model import MISSING, Answer, GradeReport, Problem, Verdict
from mcgrade.submission import Submission, read_many

Item = tuple[str, Path]            # (student id, submission file)
# (student, report, answers, why this machine could not grade it: "" when it did)
Graded = tuple[str, GradeReport, Mapping[str, Answer], str]


class MemoGrader:
    """A Grader's verdicts, each (problem, answer) decided once."""

    def __init__(self, grader: Grader) -> None:
        self.grader = grader
        self._seen: dict[tuple[str, Hashable], Verdict] = {}

    def grade(self, submission: Submission) -> GradeReport:
        """The report ``Grader.grade`` gives, named as ``grade_file`` names it."""
        problem_set = self.grader.problem_set
        verdicts = tuple(self._check(p, submission.answers.get(p.answer_name, MISSING))
                         for p in problem_set.problems)
        notes = (LOCAL_NOTE, *submission.notes) if problem_set.published else \
            submission.notes
        return GradeReport(submission.name, Path(problem_set.path).name, verdicts, notes,
                           submission.sandbox)

    def _check(self, problem: Problem, answer: Answer) -> Verdict:
        try:
            key = (problem.id, answer)
            hash(key)
        except TypeError:                   # a value that can't be a key: decide it anew
            return self.grader.check(problem, answer)
        if key not in self._seen:
            self._seen[key] = self.grader.check(problem, answer)
        return self._seen[key]


def grade_local(items: Sequence[Item], grader: Grader, *, sandbox: str = "auto",
                jobs: int = 1) -> Iterator[Graded]:
    """Each item's report (and answers), as the pool finishes them. Students of a set with ``params:``
    are grouped by variant (one run of the pool per variant), in order within each."""
    groups: dict[int, tuple[MemoGrader, list[int]]] = {}
    for index, (student, _) in enumerate(items):
        variant = grader.for_student(student)
        groups.setdefault(id(variant), (MemoGrader(variant), []))[1].append(index)
    streams = []
    for memo, indices in groups.values():
        variant = memo.grader
        submissions = read_many([items[i][1] for i in indices], variant.problem_set,
                                sandbox=sandbox, calls=variant.calls(), jobs=jobs)
        streams.append((memo, indices, submissions))
    for memo, indices, submissions in streams:
        for index, submission in zip(indices, submissions):
            try:
                report = memo.grade(submission)
            except CheckAbandoned as exc:     # the machine's fault: a row, graded next run
                submission = _ungraded(submission, str(exc))
                report = memo.grade(submission)
            yield items[index][0], report, submission.answers, submission.ungraded


def _ungraded(submission: Submission, why: str) -> Submission:
    """The submission as this machine failed to grade it: every answer that reason (so
    every problem an error, scoring nothing for now), to be graded again on the next run."""
    return replace(submission, answers={n: Answer("error", text=why)
                                        for n in submission.answers},
                   notes=(why,), ungraded=why)
