"""The Python API for instructors' own tests: check an answer, or assert it is right.

    verdict = mcgrade.check("x.T", "dz_dw", "hw1.yaml")
    mcgrade.assert_correct(student_answer, "dz_dw", "hw1.yaml")
    report = grade_values({"dz_dw": "x.T", ...}, "hw1.yaml")   # a notebook's variables

Answers here come from the caller's own code (an instructor's tests, a student's running
notebook: nothing to protect from it), so they are converted in this
process, by the same encoder the sandboxed child uses, and graded by the same engine as
``mcgrade grade``. A problem set is compiled once per file version and reused.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from mcgrade.errors import McgradeError
from mcgrade.grading import Grader
from mcgrade.model import Answer, GradeReport, Problem, ProblemSet, Verdict
from mcgrade.problemset import load_problem_set
from mcgrade.reporters.terminal import failure_text
from mcgrade.submission import _encode, protocol


def check(answer: Any, problem: str, problems: str | os.PathLike[str] | ProblemSet
          ) -> Verdict:
    """The verdict on ``answer`` to problem ``problem`` of a problem set (a path or a
    loaded ProblemSet). ``answer`` is anything a submission may give: a string, a number,
    a list or numpy array, a shape tuple, a sympy value, or a function."""
    grader = _grader_for(problems)
    found = _problem(grader.problem_set, problem)
    return grader.check(found, _answer(grader, found, answer))


def grade_values(values: Mapping[str, Any],
                 problems: str | os.PathLike[str] | ProblemSet,
                 names: Sequence[str] = (), *, student: str | None = None,
                 submission: str = "") -> GradeReport:
    """Python values by answer name (a running notebook's variables) graded as a
    submission's answers are, by the same Grader: every problem of the set, or those
    ``names`` names (problem ids or answer names), in the set's order. A name missing
    from ``values`` is a missing answer; ``student`` picks the variant of a set with
    ``params:``."""
    grader = _grader_for(problems)
    if student:
        grader = grader.for_student(student)
    named = {_problem(grader.problem_set, name).id for name in names}
    chosen = [p for p in grader.problem_set.problems if not named or p.id in named]
    answers = {p.answer_name: _answer(grader, p, values[p.answer_name])
               for p in chosen if p.answer_name in values}
    report = grader.grade(answers, submission)       # the others: missing, then left out
    kept = {p.id for p in chosen}
    return replace(report, problem_set=Path(grader.problem_set.path).name,
                   verdicts=tuple(v for v in report.verdicts if v.id in kept))


def assert_correct(answer: Any, problem: str,
                   problems: str | os.PathLike[str] | ProblemSet) -> Verdict:
    """``check``, failing with the feedback as the assertion message unless correct."""
    verdict = check(answer, problem, problems)
    if verdict.status != "correct":
        raise AssertionError(failure_text(verdict))
    return verdict


def to_answer(value: Any, *, expect_shape: bool = False) -> Answer:
    """A Python value as the plain-data Answer a submission would have sent. A value too
    large, too deep or self-containing is refused as the sandbox refuses it, naming why:
    a verdict, never an exception."""
    try:
        record = _encode.encode(value)
    except _encode.Refused as why:
        record = {"kind": "unsupported", "text": f"{_encode.type_name(value)} ({why})"}
    except RecursionError:                # sympy's own printer, on a very deep expression
        record = {"kind": "unsupported",
                  "text": f"{_encode.type_name(value)} (nested too deeply to read)"}
    return protocol.decode(record, expect_shape=expect_shape)


def _problem(problem_set: ProblemSet, name: str) -> Problem:
    """The problem with this id, or else this answer name; McgradeError naming the ids."""
    found = problem_set.problem(name) or next(
        (p for p in problem_set.problems if p.answer_name == name), None)
    if found is None:
        ids = ", ".join(p.id for p in problem_set.problems)
        raise McgradeError(f"no problem {name!r} in {problem_set.path or 'the set'}; "
                           f"its problems are {ids}")
    return found


def _answer(grader: Grader, problem: Problem, value: Any) -> Answer:
    """``value`` as the Answer the sandbox would have sent: a function answer called at
    the grader's points, anything else encoded."""
    if problem.form == "function" and callable(value):
        return _call(value, grader.calls()[problem.answer_name])
    return to_answer(value, expect_shape=problem.kind == "shape")


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
