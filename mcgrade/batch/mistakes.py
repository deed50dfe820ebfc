"""The class's wrong answers, grouped by what they are, and turned into ``mistakes:``.

    answer_groups(entries, problem_set, grader=None) -> Grouped  # .groups, .cut_short
    proposals(problem_set, entries) -> str     # what ``mcgrade mistakes`` prints

Grouping. For each problem, the wrong answers (status ``incorrect`` or ``partial``) the
records kept are first merged by their exact text (or value). Each expression string is
then evaluated at the problem's own sample points (the grader's compiled reference: every
size, every point), which is its fingerprint; an answer whose fingerprint agrees, within
the problem's tolerance, with a group's first answer is confirmed by the engine itself —
the group's answer is made the reference of a copy of the problem and the answer is
graded against it (``Grader.outcome``: shape, numeric screening, exact and symbolic
checks) — and joins the group only if that says "correct". A check this machine could
not finish (``CheckAbandoned``, a wall-clock last resort) leaves the answer in a group
of its own, and the problem is named in ``cut_short``, which the class report and
``mcgrade mistakes`` say: a busy machine's grouping never differs from a quiet one's
silently. So spellings the engine finds
equal are one group, and answers it tells apart (a transpose, a constant off by one) are
not. Anything else (numbers or arrays a student computed, shapes, function values, text
that is not an expression) is grouped by its exact text or value. Students of a set with
``params:`` are grouped within their own variant. The order is deterministic: groups by
count, largest first, then by their example's text; within a group, the most common
spelling is its example.

Proposals. The groups that no author's mistake covers, checked against the set as it is
now, become ready-to-paste ``mistakes:`` entries at the set's own indentation, each
checked, before it is printed, to be one that ``mcgrade validate`` accepts: it is a wrong
answer, and appended to the problem's mistakes it is the one that catches that answer (no
built-in diagnosis or earlier mistake comes first). Every student-controlled string in
that output (ids, answers) is written as an escaped one-line string (``_quoted``), so
that it always parses as YAML and never adds a line of its own.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from mcgrade.batch.ids import student_count
from mcgrade.batch.ledger import Entry, Ledger, set_digest
from mcgrade.engine import answers
from mcgrade.engine.answers import Outcome
from mcgrade.engine.diagnosis import close
from mcgrade.errors import CheckAbandoned, ExpressionError, McgradeError, UsageError
from mcgrade.grading import Grader
from mcgrade.model import Answer, Diagnosis, Mistake, Problem, ProblemSet, Tolerance, Verdict
from mcgrade.reporters.class_summary import AnswerGroup

__all__ = ["Grouped", "answer_groups", "proposals", "read_entries"]

WRONG = ("incorrect", "partial")
"""The statuses of a wrong answer (an answer was read, and it is not right)."""

NOT_AN_ANSWER = frozenset({Diagnosis.UNPARSEABLE, Diagnosis.NON_FINITE, Diagnosis.FORBIDDEN,
                           Diagnosis.MISSING, Diagnosis.ERROR, Diagnosis.TIMEOUT})
"""Diagnoses of an answer that no ``mistakes:`` entry could match."""

CUT_SHORT = "checking it was cut short on this machine; run mcgrade mistakes again"

PLACEHOLDER = "TODO: say what went wrong and how to fix it"

Fingerprint = tuple[np.ndarray, ...]


@dataclass
class _Group:
    """A group being built: its exact-text clusters, the first one's answer and
    fingerprint, and the variant it belongs to."""

    variant: tuple[tuple[str, Any], ...]
    answer: Answer
    fingerprint: Fingerprint | None
    clusters: list[list[tuple[str, Answer, Verdict]]] = field(default_factory=list)

    def members(self) -> list[tuple[str, Answer, Verdict]]:
        return [m for cluster in self.clusters for m in cluster]


@dataclass(frozen=True)
class Grouped:
    """Every problem's groups of wrong answers, largest first, and the problems whose
    grouping this machine cut short (an answer left in a group of its own because the
    engine's check of it was abandoned)."""

    groups: dict[str, tuple[AnswerGroup, ...]]
    cut_short: tuple[str, ...] = ()


def answer_groups(entries: Sequence[Entry], problem_set: ProblemSet,
                  grader: Grader | None = None) -> Grouped:
    """Every problem's groups of wrong answers in ``entries``, with ``grader`` (the
    batch's, compiled once; a new one without it)."""
    grader = grader or Grader(problem_set)
    groups: dict[str, tuple[AnswerGroup, ...]] = {}
    cut_short: list[str] = []
    for problem in problem_set.problems:
        found, abandoned = _grouped(entries, problem, grader)
        groups[problem.id] = tuple(_public(problem, g) for g in found)
        if abandoned:
            cut_short.append(problem.id)
    return Grouped(groups, tuple(cut_short))


def _public(problem: Problem, group: _Group) -> AnswerGroup:
    members = group.members()
    codes = Counter(tuple(v.diagnoses) for _, _, v in members)
    diagnoses = sorted(codes.items(), key=lambda item: (-item[1], item[0]))[0][0]
    return AnswerGroup(problem.id, display(group.answer), len(members),
                       tuple(sorted(s for s, _, _ in members)), diagnoses,
                       len(group.clusters),
                       any(Diagnosis.AUTHOR_MISTAKE in v.diagnoses for _, _, v in members),
                       group.answer.kind == "string")


def _grouped(entries: Sequence[Entry], problem: Problem, grader: Grader
             ) -> tuple[list[_Group], bool]:
    """``problem``'s wrong answers in ``entries``, grouped (see the module's doc), and
    whether a check this machine abandoned left an answer unmerged."""
    clusters: dict[tuple[Any, ...], list[tuple[str, Answer, Verdict]]] = {}
    for entry in entries:
        verdict = next((v for v in entry.report.verdicts if v.id == problem.id), None)
        answer = entry.answers.get(problem.answer_name)
        if verdict is None or answer is None or verdict.status not in WRONG:
            continue
        variant = grader.for_student(entry.student).problem_set.variant
        clusters.setdefault((variant, *_exact(answer)), []).append(
            (entry.student, answer, verdict))
    ordered = sorted(clusters.items(), key=lambda item: (-len(item[1]), display(item[1][0][1]),
                                                         repr(item[0])))
    groups: list[_Group] = []
    confirm = _Confirm(grader)
    for key, members in ordered:
        variant, answer = key[0], members[0][1]
        student = members[0][0]
        fingerprint = _fingerprint(grader.for_student(student), problem, answer)
        home = None
        if fingerprint is not None:
            for group in groups:
                if (group.variant == variant and group.fingerprint is not None
                        and _agree(group.fingerprint, fingerprint, _loose(problem, grader))
                        and confirm.same(student, problem, group.answer, answer)):
                    home = group
                    break
        if home is None:
            home = _Group(variant, answer, fingerprint)
            groups.append(home)
        home.clusters.append(members)
    groups.sort(key=lambda g: (-len(g.members()), display(g.answer)))
    return groups, confirm.abandoned


def _exact(answer: Answer) -> tuple[Any, ...]:
    """What two answers share when they are spelt exactly alike."""
    return (answer.kind, answer.text, json.dumps(_data(answer.value), sort_keys=True,
                                                 default=repr), tuple(answer.shape))


def _data(value: Any) -> Any:
    if isinstance(value, Answer):
        return [value.kind, value.text, _data(value.value), list(value.shape)]
    if isinstance(value, (tuple, list)):
        return [_data(v) for v in value]
    return value


def display(answer: Answer) -> str:
    """An answer as the text a person reads: the expression, the number, the array."""
    if answer.kind in ("string", "sympy", "unsupported"):
        return answer.text
    if answer.kind == "function":
        return "a function"
    if answer.kind == "array" and answer.shape:
        values = np.asarray(answer.value, dtype=float).reshape(answer.shape)
        return json.dumps(values.tolist())
    if answer.value is not None:
        return json.dumps(_data(answer.value))
    return answer.text


def _fingerprint(grader: Grader, problem: Problem, answer: Answer) -> Fingerprint | None:
    """An expression string's values at the problem's sample points, at every size; None
    for anything else, or an expression that can't be evaluated there."""
    if answer.kind != "string" or problem.kind == "shape" or problem.form == "function" \
            or grader.problem_set.published:
        return None
    reference = grader.compiled.references[problem.id]
    candidate = answers.from_answer(answer, grader.compiled.scope, reference,
                                    forbid=problem.forbid)
    if isinstance(candidate, Outcome) or not hasattr(candidate, "values_at"):
        return None
    try:
        with np.errstate(all="ignore"):
            values = tuple(np.asarray(candidate.values_at(i), dtype=float)
                           for i in reference.instances)
    except (ExpressionError, ArithmeticError, ValueError, TypeError):
        return None
    if not all(np.all(np.isfinite(v)) for v in values):
        return None
    return values


def _loose(problem: Problem, grader: Grader) -> Tolerance:
    """The tolerance fingerprints are compared with: the problem's, but never tighter
    than a float's rounding (the engine decides exactly afterwards)."""
    tolerance = problem.tolerance or grader.problem_set.tolerance
    return Tolerance(max(tolerance.rtol, 1e-9), max(tolerance.atol, 1e-12))


def _agree(a: Fingerprint, b: Fingerprint, tolerance: Tolerance) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and bool(np.all(close(x, y, tolerance)))
                                    for x, y in zip(a, b))


class _Confirm:
    """The engine's own check of "answer B is answer A" for a problem: a copy of the
    problem whose reference is A (one grader per A, compiled once), B graded against
    it. ``abandoned``: a check this machine could not finish (B then stays apart)."""

    def __init__(self, grader: Grader) -> None:
        self.grader = grader
        self.graders: dict[tuple[Any, ...], tuple[Grader, Problem] | None] = {}
        self.abandoned = False

    def same(self, student: str, problem: Problem, a: Answer, b: Answer) -> bool:
        variant = self.grader.for_student(student).problem_set
        key = (variant.variant, problem.id, a.text)
        try:
            if key not in self.graders:
                self.graders[key] = None          # abandoned while compiling: stays None
                self.graders[key] = _referee(variant, problem, a.text)
            made = self.graders[key]
            if made is None:
                return False
            referee, copy = made
            return referee.outcome(copy, b).correct
        except CheckAbandoned:
            self.abandoned = True
            return False
        except (McgradeError, ArithmeticError, ValueError):
            return False


def _referee(problem_set: ProblemSet, problem: Problem, text: str
             ) -> tuple[Grader, Problem] | None:
    """A grader of a one-problem set whose reference is the expression ``text`` (at the
    problem's sizes, domains, ``at`` values and tolerance), or None if it is not one."""
    copy = replace(problem, kind="answer", answer=text, of=None, wrt=(), wrt_is_list=False,
                   mistakes=(), partial_credit=(), hints=(), forbid=(),
                   form="expression", signature=())
    grader = Grader(replace(problem_set, problems=(copy,)))
    try:
        grader.compiled  # noqa: B018  (compiles; a text that is no reference fails here)
    except CheckAbandoned:
        raise
    except (McgradeError, ArithmeticError, ValueError, TypeError):
        return None
    return grader, copy


# --- mcgrade mistakes -----------------------------------------------------------------

def read_entries(problem_set: ProblemSet, results: str | Path) -> tuple[list[Entry], str]:
    """The records under ``results``: those graded against this version of the set, or,
    if there are none (the set was edited since), every record; and a note saying so
    ("" when the records are up to date). One line, saying what to do, if none."""
    ledger = Ledger(results)
    if not ledger.folder.is_dir():
        raise UsageError(f"{ledger.folder}: no such folder of records; grade the class into "
                         f"{results} first (mcgrade grade SUBMISSIONS --problems "
                         f"{Path(problem_set.path).name} --out {results})")
    current, others = ledger.gradebook(set_digest(Path(problem_set.path).read_bytes()))
    if current:
        return current, ""
    everyone = list(ledger.entries())
    if not everyone:
        raise UsageError(f"{ledger.folder}: no records; grade the class into {results} "
                         "first")
    _same_set(problem_set, everyone, ledger.folder, results)
    return everyone, (f"the {len(everyone)} records in {ledger.folder}/ were graded against "
                      f"another version of {Path(problem_set.path).name}: their answers are "
                      "checked against it as it is now; run the same mcgrade grade to "
                      "update the grades")


def _same_set(problem_set: ProblemSet, entries: Sequence[Entry], folder: Path,
              results: str | Path) -> None:
    """Refuse, in one line naming both, records graded against another problem set: one
    of another file name, or sharing no problem with this one. (An earlier version of
    this same set is fine: its answers are checked against the set as it is now.)"""
    name = Path(problem_set.path).name
    theirs = sorted({e.report.problem_set for e in entries} - {name})
    ids = {p.id for p in problem_set.problems}
    if not theirs and any(v.id in ids for e in entries for v in e.report.verdicts):
        return
    other = theirs[0] if theirs else "a set with none of its problems"
    raise UsageError(f"{folder}/ holds records graded against {other}, not {name}: give "
                     f"the set they were graded against (mcgrade mistakes SET.yaml "
                     f"{results}), or grade the class against {name} into another folder "
                     "first")


def proposals(problem_set: ProblemSet, entries: Sequence[Entry], note: str = "") -> str:
    """``mcgrade mistakes``: per problem, the groups of wrong answers that no author's
    mistake covers, as ``mistakes:`` entries to paste into the set (valid YAML, at the
    set's indentation; each one checked to be an entry ``mcgrade validate`` accepts)."""
    if problem_set.params:
        raise UsageError(f"{problem_set.path} has params: its students answered different "
                         "variants, so their answers can't be pasted as one set's mistakes; "
                         "the class report lists each variant's groups")
    name = Path(problem_set.path).name
    lines = [f"# mcgrade mistakes: the wrong answers of {len(entries)} students that no "
             f"mistake in {name} covers.",
             "# Paste each problem's entries under its mistakes: key (the key too, if it "
             "has none, as each one says),",
             "# write the feedback (and any credit), check with mcgrade validate, then run "
             "the same mcgrade grade:",
             "# only these students' verdicts change."]
    if note:
        lines.append(f"# note: {note}")
    source = Path(problem_set.path).read_text(encoding="utf-8").splitlines()
    grader = Grader(problem_set)
    body: list[str] = []
    for problem in problem_set.problems:
        groups, abandoned = _grouped(entries, problem, grader)
        body += _problem_block(problem, groups, grader, source, name, abandoned)
    if body:
        lines += [f"{_column(source, _problems_line(source))}problems:", *body]
    else:
        lines.append("# none: every wrong answer is covered by a mistake or by mcgrade's "
                     "own diagnoses")
    return "\n".join(lines) + "\n"


def _problem_block(problem: Problem, groups: Sequence[_Group], grader: Grader,
                   source: Sequence[str], name: str, abandoned: bool = False) -> list[str]:
    """The lines for one problem: its id, then an entry per uncovered group (or a
    comment saying why a group is not one); ``abandoned``: its grouping was cut short."""
    chosen: list[tuple[_Group, Outcome]] = []
    skipped: list[str] = []
    if abandoned:
        skipped.append(f"grouping of {_quoted(problem.id)} was cut short on this machine "
                       "(some equal answers may be listed apart); run mcgrade mistakes "
                       "again")
    for group in groups:
        count = student_count(len(group.members()))
        try:
            outcome = _now(grader, problem, group.answer)
        except CheckAbandoned:
            skipped.append(f"{_quoted(display(group.answer))} ({count}): {CUT_SHORT}")
            continue
        if outcome is None or outcome.correct or outcome.mistake is not None:
            continue                        # right now, or covered by an author's mistake
        codes = ", ".join(outcome.diagnoses)
        if group.answer.kind != "string" or set(outcome.diagnoses) & NOT_AN_ANSWER:
            skipped.append(f"{_quoted(display(group.answer))} ({count}, {codes}): not an "
                           "expression a mistakes: entry can name")
        else:
            chosen.append((group, outcome))
    refused = _refused(grader.problem_set, problem, [g.answer.text for g, _ in chosen])
    for group, _ in chosen:
        if group.answer.text in refused:
            skipped.append(f"{_quoted(group.answer.text)} "
                           f"({student_count(len(group.members()))}): "
                           f"{refused[group.answer.text]}")
    chosen = [(g, o) for g, o in chosen if g.answer.text not in refused]
    if not chosen and not skipped:
        return []
    line = problem.location.line or 1
    dash = _column(source, line)
    key = dash + "  " if source[line - 1].lstrip().startswith("- ") else dash
    has = bool(problem.mistakes)
    empty = _empty_key(problem, source)
    entry = (_column(source, problem.line_of("mistakes[0]") or line) if has
             else key + "  ")
    out = [f"{dash}- id: {_quoted(problem.id)}  # {name}:{line}"]
    for text in skipped:
        out.append(f"{key}# not listed: {text}")
    if not chosen:
        return out
    where = (f"append under its mistakes: (line {problem.line_of('mistakes')})" if has
             else f"replace `{source[empty - 1].strip()}` (line {empty}) with this"
             if empty else "add this key to the problem")
    out.append(f"{key}mistakes:  # {where}")
    for group, outcome in chosen:
        members = group.members()
        students = ", ".join(_quoted(s) for s in sorted(s for s, _, _ in members))
        spellings = (f", {len(group.clusters)} spellings" if len(group.clusters) > 1 else "")
        out += [f"{entry}- answer: {_quoted(group.answer.text)}",
                f"{entry}  feedback: {_quoted(PLACEHOLDER)}",
                f"{entry}  credit: 0",
                f"{entry}  # {student_count(len(members))}{spellings}: {students} "
                f"(now diagnosed {', '.join(outcome.diagnoses)})"]
    return out


def _empty_key(problem: Problem, source: Sequence[str]) -> int:
    """The line of the problem's own ``mistakes:`` key when it holds none (``[]``, or
    nothing), which the printed key replaces; 0 when the problem has no such key."""
    if problem.mistakes:
        return 0
    line = dict(problem.key_lines).get("mistakes")
    if line is None or not 1 <= line <= len(source):
        return 0
    return line if source[line - 1].lstrip().startswith(("mistakes:", "- mistakes:")) else 0


def _quoted(text: str) -> str:
    """``text`` as a one-line YAML (and JSON) double-quoted string: JSON's escapes, and
    ``\\uXXXX`` for every character YAML would read as a line break (U+0085, U+2028,
    U+2029) or refuse (other controls, surrogates, U+FFFE, U+FFFF); the rest kept as it
    is (so ``José`` stays readable and an emoji stays one character)."""
    return "".join(c if c.isascii() or _printable(c) else f"\\u{ord(c):04x}"
                   for c in json.dumps(text, ensure_ascii=False))


def _printable(char: str) -> bool:
    """A non-ASCII character YAML reads as itself, inside a line."""
    code = ord(char)
    return (0xA0 <= code <= 0xD7FF and code not in (0x2028, 0x2029)
            or 0xE000 <= code <= 0xFFFD or code >= 0x10000)


def _now(grader: Grader, problem: Problem, answer: Answer) -> Outcome | None:
    """What grading says of ``answer`` with the set as it is now (None: no verdict);
    CheckAbandoned if this machine could not finish the check."""
    try:
        return grader.outcome(problem, answer)
    except CheckAbandoned:
        raise
    except McgradeError:
        return None


def _refused(problem_set: ProblemSet, problem: Problem, texts: Sequence[str]
             ) -> dict[str, str]:
    """Which of ``texts``, appended in this order to the problem's mistakes, are not each
    the mistake that catches their own answer (what ``mcgrade validate`` asks of an
    entry), with why: the engine's own diagnosis, or an earlier entry, comes first."""
    if not texts:
        return {}
    added = tuple(Mistake(t, PLACEHOLDER, 0.0) for t in texts)
    copy = replace(problem, mistakes=problem.mistakes + added)
    grader = Grader(replace(problem_set, problems=(copy,)))    # that problem alone
    refused: dict[str, str] = {}
    for text in texts:
        try:
            outcome = _now(grader, copy, Answer("string", text))
        except CheckAbandoned:
            refused[text] = CUT_SHORT
            continue
        if outcome is None:
            refused[text] = "the set with it appended gives it no verdict"
        elif outcome.mistake is None:
            refused[text] = _diagnosed(problem, outcome.diagnoses)
        elif outcome.mistake.answer != text:
            refused[text] = (f"the earlier entry {_quoted(outcome.mistake.answer)} "
                             "catches it first")
    return refused


def _diagnosed(problem: Problem, diagnoses: Sequence[str]) -> str:
    """Why an answer mcgrade diagnoses itself is not listed, suggesting only the
    ``partial_credit:`` the problem does not give yet."""
    given = dict(problem.partial_credit)
    said = f"mcgrade diagnoses it itself ({', '.join(diagnoses)})"
    new = [d for d in diagnoses if d not in given]
    if new:
        return f"{said}; partial_credit: {{{', '.join(new)}: …}} gives it credit"
    has = ", ".join(f"{d}: {given[d]:g}" for d in diagnoses)
    return f"{said}, which its partial_credit ({has}) credits already"


def _problems_line(source: Sequence[str]) -> int:
    """The line of the set's ``problems:`` key (1-based)."""
    return next((i + 1 for i, text in enumerate(source)
                 if text.lstrip().startswith("problems:")), 1)


def _column(source: Sequence[str], line: int) -> str:
    """The indentation of a (1-based) line of the set."""
    if not 1 <= line <= len(source):
        return ""
    text = source[line - 1]
    return " " * (len(text) - len(text.lstrip(" ")))


