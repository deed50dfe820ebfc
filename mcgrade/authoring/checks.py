"""The checks ``mcgrade validate`` makes of each problem, and the findings they report.

Each problem is checked on its own, so one broken problem hides no other:

* it compiles at every size, and enough sample points give a finite reference;
* every kink can be reached from both sides (else an answer right on one side passes);
* a hand-written ``answer`` next to ``derivative``/``hessian`` is graded like a student's
  answer against the derivative mcgrade computes itself: a transposed key, a wrong sign or
  factor, a wrong entry is reported with the point, the entry and both values, and a fix
  that is itself checked before it is suggested;
* every ``mistakes`` entry is really wrong, and is not caught first by a built-in diagnosis
  or by an earlier mistake (its feedback would never be shown);
* a function answer's signature gives it every symbol the derivative depends on.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from mcgrade.authoring.publish import symbols_of
from mcgrade.engine import answers, equivalence, feedback, instances
from mcgrade.engine.answers import Outcome
from mcgrade.engine.budget import SYMBOLIC_WORK
from mcgrade.engine.compiler import compile_problem, scope_of
from mcgrade.engine.reference import Reference
from mcgrade.errors import ExpressionError, ProblemSetError
from mcgrade.expressions import Scope, compile_expression
from mcgrade.model import Answer, Diagnosis, Layout, Problem, ProblemSet

Severity = Literal["error", "warning"]
SLOW = 10.0                      # seconds: a problem slower to compile gets a warning
_CREDITABLE = (Diagnosis.TRANSPOSED, Diagnosis.SIGN, Diagnosis.SCALE_FACTOR,
               Diagnosis.ELEMENTWISE_VS_MATRIX, Diagnosis.FLAT_ARRAY, Diagnosis.PIECEWISE_BRANCH)


@dataclass(frozen=True)
class Finding:
    """One thing wrong (or doubtful) in a problem set, placed at a file and line."""

    path: str
    line: int | None
    severity: Severity
    code: str                    # schema, compile, domain, kink, answer-key, mistake, ...
    message: str                 # "problems[2] (id='q') → answer: …; what to do"
    problem: str = ""
    variants: tuple[str, ...] = ()   # the variants it was found in ("a=3, k=2")

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        label = ""
        if self.variants:
            label = f" [variant {self.variants[0]}" + (
                f" and {len(self.variants) - 1} more]" if len(self.variants) > 1 else "]")
        return f"{where}: {self.severity}: {self.message}{label}"


def validate_set(problem_set: ProblemSet) -> list[Finding]:
    """Every per-problem check of one (variant of a) problem set."""
    scope = scope_of(problem_set)
    found: list[Finding] = []
    for index in range(len(problem_set.problems)):
        found += _Problem(problem_set, scope, index).check()
    return found


class _Problem:
    """The checks of one problem; each finding is placed at the key it is about."""

    def __init__(self, problem_set: ProblemSet, scope: Scope, index: int) -> None:
        self.set, self.scope, self.index = problem_set, scope, index
        self.problem: Problem = problem_set.problems[index]
        self.found: list[Finding] = []

    def add(self, key: str, code: str, message: str, severity: Severity = "error") -> None:
        crumb = f"problems[{self.index}] (id={self.problem.id!r})"
        leaf = key.replace(".", " → ") if key else ""
        text = f"{crumb} → {leaf}: {message}" if leaf else f"{crumb}: {message}"
        self.found.append(Finding(self.set.path, self.problem.line_of(key), severity, code,
                                  text, self.problem.id))

    def check(self) -> list[Finding]:
        problem = self.problem
        if not problem.prompt:
            self.add("id", "prompt", "no prompt: the starter notebook will show only a "
                     "generic question; add prompt:", "warning")
        start = time.monotonic()
        try:
            reference = compile_problem(self.set, self.index, self.scope)
        except ProblemSetError as exc:
            self.found.append(from_error(exc, "compile", self.set.path, problem.id))
            return self.found
        if time.monotonic() - start > SLOW:
            self.add("", "slow", f"its reference took {time.monotonic() - start:.0f} s to "
                     "compute; grading will be slow to start", "warning")
        self.sampling(reference)
        if problem.answer and problem.kind in ("derivative", "hessian"):
            self.answer_key(reference, problem.answer)
        for j in range(len(problem.mistakes)):
            self.mistake(reference, j)
        if problem.form == "function":
            self.signature(reference)
        return self.found

    # --- sampling -------------------------------------------------------------------

    def sampling(self, reference: Reference) -> None:
        key = "of" if self.problem.kind != "answer" else "answer"
        fixed = {name for name, _ in self.problem.at}
        free = sorted(reference.symbols - fixed)
        for instance in reference.instances:
            if instance.samples.count < instances.POINTS:
                self.add(key, "domain", f"only {instance.samples.count} of {instances.POINTS}"
                         f" sample points{_at(instance.sizes)} give a finite reference "
                         f"away from kinks; widen the domains of {', '.join(free)} so that "
                         f"more of them do")
                return
        for instance in reference.instances:
            values = instance.kink_values
            for k, kink in enumerate(instance.kinks):
                column = values[:, k]
                if np.ptp(column) == 0 or (np.any(column > 0) and np.any(column < 0)):
                    continue      # fixed by `at`, or both sides reached
                side = "positive" if column[0] > 0 else "negative"
                self.add(key, "kink", f"the kink where {kink} = 0 is sampled only on its "
                         f"{side} side{_at(instance.sizes)}: no point in the "
                         f"domains reaches the other, so an answer right on one side only "
                         f"would pass; widen the domains of {', '.join(free)}, or remove "
                         f"the kink")
                return

    # --- the answer key -------------------------------------------------------------

    def grade(self, reference: Reference, text: str) -> Outcome:
        problem = self.problem
        candidate = answers.from_answer(Answer("string", text=text), self.scope, reference)
        if isinstance(candidate, Outcome):
            return candidate
        return equivalence.check(reference, candidate,
                                 problem.tolerance or self.set.tolerance,
                                 self.set.orientation, SYMBOLIC_WORK)

    def answer_key(self, reference: Reference, key: str) -> None:
        outcome = self.grade(reference, key)
        if outcome.correct:
            return
        codes, evidence = outcome.diagnoses, outcome.evidence
        what = f"the key {key!r}"
        layout = self.set.layout
        if codes[0] == Diagnosis.UNPARSEABLE:
            try:
                compile_expression(key, self.scope)
                reason = outcome.detail.splitlines()[0]
            except ExpressionError as exc:
                reason = str(exc)
            self.add("answer", "answer-key", f"{what} can't be read: {reason}")
            return
        if codes[0] == Diagnosis.TRANSPOSED:
            rule = reference.arrangement.describe() if reference.arrangement else \
                f"in {layout} layout"
            message = f"{what} is the transpose of the derivative in {layout} layout ({rule})"
            if Diagnosis.SIGN in codes:
                message += ", and its negative"
        elif codes == (Diagnosis.SIGN,):
            message = f"{what} is the negative of the derivative"
        elif codes == (Diagnosis.SCALE_FACTOR,):
            message = f"{what} is {evidence.get('factor')} times the derivative"
        elif codes == (Diagnosis.AUTHOR_MISTAKE,):
            index = next(k for k, m in enumerate(self.problem.mistakes)
                         if m is outcome.mistake)
            message = f"{what} matches the problem's own mistakes[{index}]"
        elif codes[0] == Diagnosis.NOT_EQUIVALENT and "expected" in evidence:
            message = f"{what} is not the derivative: " + self.difference(reference, evidence)
        else:
            message = (f"{what} is not the derivative ({', '.join(codes)}): "
                       f"{_first_line(outcome, reference, layout)}")
        self.add("answer", "answer-key", message + self.fix(reference, key, outcome))

    def difference(self, reference: Reference, evidence: dict[str, Any]) -> str:
        """Where a wrong key differs, with both values and the derivative's entry there."""
        i, j = evidence.get("entry", (0, 0))
        sizes = evidence.get("sizes") or {}
        point = ", ".join(f"{k} = {v}" for k, v in (evidence.get("point") or {}).items())
        where = ", ".join(x for x in (_sizes(sizes), point) if x) or "a sample point"
        entry = "" if evidence.get("expected_shape") in (None, [1, 1]) else \
            f" entry ({i}, {j})"
        text = (f"at {where},{entry} the key gives {_fmt(evidence['given'])} where the "
                f"derivative is {_fmt(evidence['expected'])}")
        instance = next((x for x in reference.instances
                         if all(x.sizes.get(k) == v for k, v in sizes.items())), None)
        if instance is not None and instance.value is not None:
            value = instance.value
            formula = str(value[i, j] if hasattr(value, "shape") else value)
            if len(formula) <= 80:
                text += f" (that entry of the derivative is {formula})"
        return text

    def fix(self, reference: Reference, key: str, outcome: Outcome) -> str:
        """'; write …' with a corrected key, only if the correction checks out."""
        codes = set(outcome.diagnoses)
        wrapped = key if re.fullmatch(r"[\w.]+", key) else f"({key})"
        tries = []
        if Diagnosis.TRANSPOSED in codes:
            sign = "-" if Diagnosis.SIGN in codes else ""
            if key.endswith(".T"):
                tries.append(f"{sign}{key[:-2]}" if not sign or re.fullmatch(
                    r"[\w.]+", key[:-2]) else f"-({key[:-2]})")
            tries.append(f"{sign}{wrapped}.T")
        elif codes == {Diagnosis.SIGN}:
            tries.append(f"-{wrapped}")
        elif codes == {Diagnosis.SCALE_FACTOR}:
            try:
                inverse = 1 / Fraction(str(outcome.evidence.get("factor")))
            except (ValueError, ZeroDivisionError):
                inverse = None
            if inverse is not None:
                tries.append(f"{inverse} * {wrapped}")
        for attempt in tries:
            if self.grade(reference, attempt).correct:
                return f"; write {attempt!r}"
        return "; correct the key (or remove it: the derivative is the reference)"

    # --- mistakes and signatures ----------------------------------------------------

    def mistake(self, reference: Reference, j: int) -> None:
        mistake = self.problem.mistakes[j]
        key = f"mistakes[{j}].answer"
        outcome = self.grade(reference, mistake.answer)
        codes = outcome.diagnoses
        if outcome.correct:
            self.add(key, "mistake", f"{mistake.answer!r} is not a mistake: it equals the "
                     f"derivative ({_method(outcome)}); fix it or remove it")
        elif outcome.mistake is not None and outcome.mistake is not mistake:
            other = next(k for k, m in enumerate(self.problem.mistakes)
                         if m is outcome.mistake)
            self.add(key, "mistake", f"{mistake.answer!r} agrees with mistakes[{other}] at "
                     f"every sample point, which is matched first: this feedback is never "
                     f"shown; remove one of them")
        elif outcome.mistake is None:
            single = len(codes) == 1
            why = (f"the built-in diagnosis {codes[0].value!r} catches this answer before the "
                   f"author's mistakes" if single else
                   f"the grader diagnoses this answer as {', '.join(codes)} first")
            credit = (f" (for credit, use partial_credit: {{{codes[0]}: …}})"
                      if single and codes[0] in _CREDITABLE else "")
            self.add(key, "mistake", f"{mistake.answer!r} is shadowed: {why}, so its "
                     f"feedback is never shown; remove it{credit}")

    def signature(self, reference: Reference) -> None:
        needed = set()
        for instance in reference.instances:
            needed |= set(symbols_of(self.problem, instance, reference.symbols)) - {
                n for n, _ in self.problem.at}
        missing = sorted(needed - set(self.problem.signature))
        if missing:
            self.add("signature", "signature", f"the derivative depends on "
                     f"{', '.join(missing)}, which the function is not given; add "
                     f"{'it' if len(missing) == 1 else 'them'} to the signature")


# --- helpers ---------------------------------------------------------------------------

def from_error(exc: ProblemSetError, code: str, path: str, problem: str = "") -> Finding:
    message = f"{exc.breadcrumb} → {exc.message}" if exc.breadcrumb else exc.message
    return Finding(exc.path or path, exc.line, "error", code, message, problem)


def _sizes(sizes: Any) -> str:
    return ", ".join(f"{k} = {v}" for k, v in dict(sizes).items())


def _at(sizes: Any) -> str:
    return f" (at {_sizes(sizes)})" if sizes else ""


def _fmt(value: Any) -> str:
    return f"{value + 0.0:.6g}" if isinstance(value, float) else str(value)


def _method(outcome: Outcome) -> str:
    return feedback.how_checked(outcome.method, outcome.evidence) or "at every sample point"


def _first_line(outcome: Outcome, reference: Reference, layout: Layout) -> str:
    return feedback.describe(outcome, reference, layout, "").splitlines()[0]
