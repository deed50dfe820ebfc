"""The Python API for instructors' own tests: check an answer, or assert it is right.

    verdict = mcgrade.check("x.T", "dz_dw", "hw1.yaml")
    mcgrade.assert_correct(student_answer, "dz_dw", "hw1.yaml")

Answers here come from the instructor's own (trusted) code, so they are converted in this
process, by the same encoder the sandboxed child uses, and graded by the same engine as
``mcgrade grade``. A problem set is compiled once per file version and reused.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from mcgrade.errors import McgradeError
from mcgrade.grading import Grader
from mcgrade.model import Answer, ProblemSet, Verdict
from mcgrade.problemset import load_problem_set
from mcgrade.reporters.terminal import failure_text
from mcgrade.submission import _encode, protocol


def check(answer: Any, problem: str, problems: str | os.PathLike[str] | ProblemSet
          ) -> Verdict:
    """The verdict on ``answer`` to problem ``problem`` of a problem set (a path or a
    loaded ProblemSet). ``answer`` is anything a submission may give: a string, a number,
    a list or numpy array, a shape tuple, a sympy value, or a function."""
    grader = _grader_for(problems)
    found = grader.problem_set.problem(problem)
    if found is None:
        ids = ", ".join(p.id for p in grader.problem_set.problems)
        raise McgradeError(f"no problem {problem!r} in {grader.problem_set.path or 'the set'}; "
                           f"its problems are {ids}")
    if found.form == "function" and callable(answer):
        return grader.check(found, _call(answer, grader.calls()[found.answer_name]))
    return grader.check(found, to_answer(answer, expect_shape=found.kind == "shape"))


def assert_correct(answer: Any, problem: str,
                   problems: str | os.PathLike[str] | ProblemSet) -> Verdict:
    """``check``, failing with the feedback as the assertion message unless correct."""
    verdict = check(answer, problem, problems)
    if verdict.status != "correct":
        raise AssertionError(failure_text(verdict))
    return verdict


def to_answer(value: Any, *, expect_shape: bool = False) -> Answer:
    """A Python value as the plain-data Answer a submission would have sent."""
    return protocol.decode(_encode.encode(value), expect_shape=expect_shape)


def _call(function: Any, calls: list[list[Any]]) -> Answer:
    """A function answer's values at the grader's sample points."""
    import numpy as np
    results = []
    for arguments in calls:
        try:
            value = function(*(np.array(a, dtype=float) if isinstance(a, list) else a
                               for a in arguments))
            results.append(protocol.decode(_encode.encode_result(value)))
        except Exception as exc:      # the function under test is the caller's own code
            results.append(Answer("error", text=f"{type(exc).__name__}: {exc}"))
    return Answer("function", value=tuple(results))


def _grader_for(problems: str | os.PathLike[str] | ProblemSet) -> Grader:
    if isinstance(problems, ProblemSet):
        return _compiled(problems)
    path = Path(problems).resolve()
    return _compiled_file(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _compiled_file(path: str, mtime_ns: int) -> Grader:
    # mtime_ns is part of the cache key: a problem set edited on disk is compiled again
    return Grader(load_problem_set(path))


@functools.lru_cache(maxsize=16)
def _compiled(problem_set: ProblemSet) -> Grader:
    return Grader(problem_set)
