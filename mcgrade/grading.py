"""Verdicts: outcomes → status, points and feedback, and a submission's GradeReport.

Scores are computed here and nowhere else. A ``Grader`` compiles its problem set once
(references at every size, sample points, author mistakes) and then grades any number of
submissions' answers against it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from mcgrade import answers, equivalence, feedback
from mcgrade.answers import Outcome
from mcgrade.model import MISSING, Answer, GradeReport, Problem, ProblemSet, Verdict
from mcgrade.reference import CompiledSet, compile_problem_set
from mcgrade.submission import read_answers

SYMBOLIC_BUDGET = 0.2      # seconds of symbolic confirmation per check
_STATUS_OF = {"missing": "missing", "timeout": "timeout", "error": "error"}


class Grader:
    """Grades answers against one problem set, compiled once."""

    def __init__(self, problem_set: ProblemSet, symbolic_budget: float = SYMBOLIC_BUDGET):
        self.problem_set = problem_set
        self.compiled: CompiledSet = compile_problem_set(problem_set)
        self.symbolic_budget = symbolic_budget

    def check(self, problem: Problem, answer: Answer) -> Verdict:
        """One problem's verdict for one answer."""
        outcome = self.outcome(problem, answer)
        return verdict(problem, outcome, feedback.describe(
            outcome, self.compiled.references[problem.id], self.problem_set.layout,
            problem.answer_name))

    def outcome(self, problem: Problem, answer: Answer) -> Outcome:
        reference = self.compiled.references[problem.id]
        candidate = answers.from_answer(answer, self.compiled.scope, reference,
                                        forbid=problem.forbid)
        if isinstance(candidate, Outcome):
            return candidate
        return equivalence.check(reference, candidate,
                                 problem.tolerance or self.problem_set.tolerance,
                                 self.problem_set.orientation, self.symbolic_budget)

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
              notes: tuple[str, ...] = ()) -> GradeReport:
        """Every problem's verdict for a submission's answers (looked up by answer name)."""
        verdicts = tuple(self.check(p, answers_by_name.get(p.answer_name, MISSING))
                         for p in self.problem_set.problems)
        return GradeReport(submission, self.problem_set.path, verdicts, notes)


def grade_file(path: str | os.PathLike[str], grader: Grader) -> GradeReport:
    """Run one submission file in its sandbox and grade every problem: the job of
    ``mcgrade grade`` and of the pytest plugin alike."""
    submission = read_answers(path, grader.problem_set)
    report = grader.grade(submission.answers, submission.name, submission.notes)
    return replace(report, problem_set=Path(grader.problem_set.path).name)


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
    first = outcome.diagnoses[0] if outcome.diagnoses else ""
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
    return Verdict(problem.id, status, score, problem.points, outcome.diagnoses, text,
                   outcome.method, dict(outcome.evidence))
