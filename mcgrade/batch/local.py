"""Grading many submissions on this machine: the warm worker pool runs them, ``jobs`` at a
time, and this process decides their verdicts.

Verdicts are memoised per run: a class gives the same answer to a problem many times
(every right answer, the common mistakes), and the grader's check of an answer is a pure
function of the answer, so it is decided once. That keeps the one process that grades
from becoming the bottleneck behind the workers that run code.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from pathlib import Path

from mcgrade.errors import CheckAbandoned
from mcgrade.grading import Grader
from mcgrade.model import Answer, GradeReport, Verdict
from mcgrade.submission import Submission, read_many

Item = tuple[str, Path]            # (student id, submission file)
# (student, report, answers, why this machine could not grade it: "" when it did)
GradedSubmission = tuple[str, GradeReport, Mapping[str, Answer], str]
Memo = dict[tuple[str, Hashable], Verdict]


def grade_local(items: Sequence[Item], grader: Grader, *, sandbox: str = "auto",
                jobs: int = 1, protect: Sequence[str] = ()) -> Iterator[GradedSubmission]:
    """Each item's report (and answers), as the pool finishes them. Students of a set with
    ``params:`` are grouped by variant (one run of the pool per variant), in order within
    each. ``protect``: what else the sandbox must hide (the outputs, the submissions)."""
    # a memo per variant, kept for the run: each (problem, answer) is decided once
    groups: dict[int, tuple[Grader, Memo, list[int]]] = {}
    for index, (student, _) in enumerate(items):
        variant = grader.for_student(student)
        groups.setdefault(id(variant), (variant, {}, []))[2].append(index)
    streams = []
    for variant, memo, indices in groups.values():
        submissions = read_many([items[i][1] for i in indices], variant.problem_set,
                                sandbox=sandbox, calls=variant.calls(), jobs=jobs,
                                protect=protect)
        streams.append((variant, memo, indices, submissions))
    for variant, memo, indices, submissions in streams:
        for index, submission in zip(indices, submissions):
            try:
                report = variant.grade_submission(submission, memo)
            except CheckAbandoned as exc:     # the machine's fault: a row, graded next run
                submission = Submission.failed(submission.name, submission.answers,
                                               str(exc), ungraded=True,
                                               sandbox=submission.sandbox)
                report = variant.grade_submission(submission, memo)
            yield items[index][0], report, submission.answers, submission.ungraded

