"""Submissions: run the student's file in a child process and read its answers as data.

    read_answers(path, problem_set) -> Submission

The child is a separate interpreter with limits (``runner``); what comes back is JSON,
decoded and validated here (``protocol``). Nothing the submission does reaches the grader
except those plain values.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from mcgrade.errors import SubmissionError
from mcgrade.model import Answer, ProblemSet
from mcgrade.submission.runner import run_submission

SUPPORTED = (".py",)


@dataclass(frozen=True)
class Submission:
    """A submission's answers by name, and what a person should know about the run."""

    name: str
    answers: Mapping[str, Answer]
    notes: tuple[str, ...] = ()


def read_answers(path: str | os.PathLike[str], problem_set: ProblemSet) -> Submission:
    """Run the submission at ``path`` and return its answer to every problem.

    Raises SubmissionError only when the file can't be a submission at all (missing,
    wrong kind); everything the code does wrong becomes an answer or a note.
    """
    file = Path(path)
    if not file.is_file():
        raise SubmissionError(f"{path}: no such file; give the path of a .py submission")
    if file.suffix not in SUPPORTED:
        raise SubmissionError(f"{path}: mcgrade grades .py files; save the answers in a "
                              "Python file (one variable per problem)")
    names = [p.answer_name for p in problem_set.problems]
    result = run_submission(file, names, timeout=problem_set.timeout)
    answers = {p.answer_name: result.answer(p.answer_name, expect_shape=p.kind == "shape")
               for p in problem_set.problems}
    return Submission(file.name, answers, tuple(result.notes))
