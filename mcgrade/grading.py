"""Verdicts: outcomes → status, points and feedback, and a submission's GradeReport.

Scores are computed here and nowhere else. A ``Grader`` compiles its problem set once
(references at every size, sample points, author mistakes) and then grades any number of
submissions' answers against it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Hashable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mcgrade.engine import answers, budget, equivalence, feedback, student_copy
from mcgrade.engine.answers import Outcome
from mcgrade.engine.compiler import compile_problem_set
from mcgrade.engine.diagnosis import VALUES, ReferenceOracle
from mcgrade.engine.reference import CompiledSet, Reference
from mcgrade.model import (
    MISSING,
    Answer,
    Diagnosis,
    GradeReport,
    Problem,
    ProblemSet,
    Status,
    Verdict,
)
from mcgrade.problemset import for_student
from mcgrade.submission import Submission, read_answers

GUARD_SECONDS = 60.0       # last resort: a check still running after this is abandoned
_STATUS_OF: dict[Diagnosis, Status] = {Diagnosis.MISSING: "missing",
                                       Diagnosis.TIMEOUT: "timeout", Diagnosis.ERROR: "error"}
LOCAL_NOTE = ("local checks: graded against a student copy of the problem set (fixed points, "
              "no answers); the instructor's grading may differ")


class Grader:
    """Grades answers against one problem set, compiled once. A published (student) copy
    is graded by the same checks, asked of its digests instead of the reference's values
    (``mcgrade.engine.student_copy``), and says so."""

    def __init__(self, problem_set: ProblemSet, symbolic_work: int = budget.SYMBOLIC_WORK):
        self.problem_set = problem_set
        self.symbolic_work = symbolic_work
        self._variants: dict[tuple[tuple[str, Any], ...], Grader] = {}

    @functools.cached_property
    def compiled(self) -> CompiledSet:
        """Every problem's reference, computed on first use (so that a submission can run
        while the set compiles)."""
        if self.problem_set.published:
            return student_copy.compile_checks(self.problem_set)
        return compile_problem_set(self.problem_set)

    @functools.cached_property
    def oracles(self) -> dict[str, ReferenceOracle]:
        """What knows each problem's reference: its values, or a student copy's digests."""
        if self.problem_set.published:
            return {pid: student_copy.DigestOracle(reference)
                    for pid, reference in self.compiled.references.items()}
        return dict.fromkeys(self.compiled.references, VALUES)

    def for_student(self, student: str) -> Grader:
        """The grader of ``student``'s variant of a set with ``params:`` (this one if the
        set has none). Students whose variants have the same values share a grader."""
        if not self.problem_set.params:
            return self
        variant = for_student(self.problem_set, student)
        if variant.variant == self.problem_set.variant:
            return self
        if variant.variant not in self._variants:
            self._variants[variant.variant] = Grader(variant, self.symbolic_work)
        return self._variants[variant.variant]

    def check(self, problem: Problem, answer: Answer) -> Verdict:
        """One problem's verdict for one answer."""
        outcome = self.outcome(problem, answer)
        return verdict(problem, outcome, feedback.describe(
            outcome, self.compiled.references[problem.id], self.problem_set.layout,
            problem.answer_name))

    def outcome(self, problem: Problem, answer: Answer) -> Outcome:
        """The outcome of checking ``answer``: a function of the answer, the problem set
        and mcgrade's version alone. Raises CheckAbandoned (no outcome at all) if this
        machine could not finish within GUARD_SECONDS."""
        reference = self.compiled.references[problem.id]
        return budget.finish_within(GUARD_SECONDS, f"the answer to {problem.id!r}",
                                    lambda: self._decide(problem, reference, answer))

    def _decide(self, problem: Problem, reference: Reference, answer: Answer) -> Outcome:
        candidate = answers.from_answer(answer, self.compiled.scope, reference,
                                        forbid=problem.forbid)
        if isinstance(candidate, Outcome):
            return candidate
        return equivalence.check(reference, candidate,
                                 problem.tolerance or self.problem_set.tolerance,
                                 self.problem_set.orientation, self.symbolic_work,
                                 self.oracles[problem.id])

    def calls(self) -> dict[str, list[list[Any]]]:
        """The calls to make of each function answer: for every instance of the problem,
        its sample points, each as the values of the signature's symbols (floats, or
        nested lists in the declared shape). The results come back in this order."""
        calls = {}
        for problem in self.problem_set.problems:
            if problem.form != "function":
                continue
            reference = self.compiled.references[problem.id]
            calls[problem.answer_name] = [
                [_plain(instance.samples.values[name][point]) for name in problem.signature]
                for instance in reference.instances for point in range(instance.samples.count)]
        return calls

    def grade(self, answers_by_name: Mapping[str, Answer], submission: str = "",
              notes: Iterable[str] = (), *, sandbox: str = "",
              memo: dict[tuple[str, Hashable], Verdict] | None = None,
              kept: Mapping[str, Verdict] | None = None) -> GradeReport:
        """The one place a GradeReport is built: every problem's verdict for a submission's
        answers (looked up by answer name). ``memo``, kept by the caller for a run, decides
        each (problem, answer) once: a class gives the same answers many times. ``kept``
        holds verdicts already decided (a regrade's unchanged problems)."""
        verdicts = tuple(
            kept[p.id] if kept is not None and p.id in kept
            else self._check_once(p, answers_by_name.get(p.answer_name, MISSING), memo)
            for p in self.problem_set.problems)
        notes = tuple(n for n in notes if n != LOCAL_NOTE)
        if self.problem_set.published:
            notes = (LOCAL_NOTE, *notes)
        return GradeReport(submission, Path(self.problem_set.path).name, verdicts, notes,
                           sandbox)

    def grade_submission(self, submission: Submission,
                         memo: dict[tuple[str, Hashable], Verdict] | None = None) -> GradeReport:
        """``grade`` for a submission read in its sandbox."""
        return self.grade(submission.answers, submission.name, submission.notes,
                          sandbox=submission.sandbox, memo=memo)

    def _check_once(self, problem: Problem, answer: Answer,
                    memo: dict[tuple[str, Hashable], Verdict] | None) -> Verdict:
        if memo is None:
            return self.check(problem, answer)
        key = (problem.id, answer)
        try:
            hash(key)
        except TypeError:                   # a value that can't be a key: decide it anew
            return self.check(problem, answer)
        if key not in memo:
            memo[key] = self.check(problem, answer)
        return memo[key]


def grade_file(path: str | os.PathLike[str], grader: Grader, student: str | None = None,
               sandbox: str = "auto") -> GradeReport:
    """Run one submission file in its sandbox and grade every problem: the job of
    ``mcgrade grade`` and of the pytest plugin alike. A set with ``params:`` is graded in
    the variant of ``student``, by default the file's name (``alice.ipynb`` → alice)."""
    grader = grader.for_student(student or student_of(path))
    if any(p.form == "function" for p in grader.problem_set.problems):
        # the functions are called at the compiled set's sample points: compile first
        submission = read_answers(path, grader.problem_set, sandbox=sandbox,
                                  calls=grader.calls())
    else:
        # the submission runs in its sandbox while this process compiles the set
        with ThreadPoolExecutor(max_workers=1) as executor:
            running = executor.submit(read_answers, path, grader.problem_set,
                                      sandbox=sandbox)
            grader.compiled  # noqa: B018  (compiles; the submission runs meanwhile)
            submission = running.result()
    return grader.grade_submission(submission)


def student_of(path: str | os.PathLike[str]) -> str:
    """The student id a submission file stands for: its name without the extension."""
    return Path(path).stem


def _plain(array: Any) -> Any:
    """A sample value as plain data: a float for a scalar, nested lists otherwise."""
    return float(array[0, 0]) if array.shape == (1, 1) else array.tolist()


def credit(problem: Problem, outcome: Outcome) -> float:
    """The share of the points an outcome earns: 1 if correct, else the partial credit the
    author gave its diagnoses (the least, if there are several) or its mistake's credit."""
    if outcome.correct:
        return 1.0
    if outcome.mistake is not None:
        return outcome.mistake.credit
    return min(problem.credit_for(code) for code in outcome.diagnoses)


def verdict(problem: Problem, outcome: Outcome, text: str) -> Verdict:
    share = credit(problem, outcome)
    first = outcome.diagnoses[0] if outcome.diagnoses else None
    if first in _STATUS_OF:
        status = _STATUS_OF[first]
    elif share >= 1.0:
        status = "correct"
    elif share > 0:
        status = "partial"
    else:
        status = "incorrect"
    hints = problem.hints if status not in ("correct", "missing") else ()
    if hints:
        text += "".join(f"\nHint: {h}" for h in hints)
    score = round(problem.points * share, 6)
    # plain strings from here on: the record's vocabulary, whatever reads it
    return Verdict(problem.id, status, score, problem.points,
                   tuple(d.value for d in outcome.diagnoses), text, outcome.method,
                   dict(outcome.evidence))
