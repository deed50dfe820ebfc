"""Batch grading: many submission files, one problem set, a ledger to resume from.

    plan(paths, problem_set_path, ledger, *, id_pattern=None, force=False,
         problem_set=None) -> Plan
    grade_many(plan, problem_set, ledger, *, sandbox="auto", jobs=1, dask=None,
               grader=None) -> Iterator[Graded]

``ids`` decides whose each file is, before anything runs; ``ledger`` keeps one record per
student (written atomically as each is graded) and says who is already done; ``local``
grades on this machine through the warm worker pool, ``distributed`` on a Dask cluster.
The drivers (``mcgrade grade``) show progress and render the gradebooks from the ledger;
nothing here prints.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from mcgrade.batch.ids import assign, collect, compile_pattern
from mcgrade.batch.ledger import Definitions, Entry, Ledger, key_of, set_digest
from mcgrade.batch.local import Item, grade_local
from mcgrade.errors import CheckAbandoned
from mcgrade.files import display_name
from mcgrade.grading import Grader
from mcgrade.model import ProblemSet
from mcgrade.submission import Submission

__all__ = ["Entry", "Graded", "Ledger", "Plan", "grade_many", "plan"]


@dataclass(frozen=True)
class Graded:
    """One student's entry, and whether it was graded now or found done in the ledger.
    ``ungraded``: why this machine failed to run the submission (its entry is kept, with a
    key that makes the next run grade it again). ``regraded``: re-checked from the
    answers its record kept (the submission did not run); ``before``: the record it
    replaces, made against another version of the set (``Plan.before``)."""

    entry: Entry
    reused: bool
    ungraded: str = ""
    regraded: bool = False
    before: Entry | None = None


@dataclass(frozen=True)
class Plan:
    """Who is in the batch, with their files and keys, who is already done, and the
    digest of the problem set (``ledger.set_digest``).

    After an edit of some problems (``plan`` given the set): ``before``, the records of
    unchanged submissions made against another version of the set; of them, ``regrade``
    are re-checked from their stored answers, the rest run again (a changed function
    problem, an answer name never read). ``changed``, ``added`` and ``removed`` name the
    problems that differ; ``everyone`` says that the rest of the set changed (layout,
    symbols, sizes, tolerance, params…), so that every such record is run again."""

    files: dict[str, Path]
    keys: dict[str, str]
    done: dict[str, Entry] = field(default_factory=dict)
    set_digest: str = ""
    submission_keys: dict[str, str] = field(default_factory=dict)
    definitions: Definitions | None = None
    before: dict[str, Entry] = field(default_factory=dict)
    regrade: dict[str, Entry] = field(default_factory=dict)
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    everyone: bool = False

    @property
    def todo(self) -> list[Item]:
        return [(s, p) for s, p in self.files.items()
                if s not in self.done and s not in self.regrade]


def plan(paths: Iterable[str | os.PathLike[str]], problem_set_path: str | os.PathLike[str],
         ledger: Ledger, *, id_pattern: str | None = None, force: bool = False,
         problem_set: ProblemSet | None = None) -> Plan:
    """The batch for ``paths`` (files or folders): every student's file, and which of
    them the ledger already holds graded against these same bytes (none if ``force``).
    Given the loaded ``problem_set``, the records of the same submissions made against
    an earlier version of it are planned for a regrade of the changed problems alone."""
    files = assign(collect(paths), compile_pattern(id_pattern))
    set_bytes = Path(problem_set_path).read_bytes()
    contents = {student: _content(path) for student, path in files.items()}
    keys = {s: key_of(c, set_bytes, s) for s, c in contents.items()}
    done, before = {}, {}
    for student in files if not force else ():
        entry = ledger.get(student)
        if entry is not None and entry.key == keys[student]:
            done[student] = entry
        elif entry is not None and entry.key and entry.definitions is not None:
            before[student] = entry
    batch = Plan(files, keys, done, set_digest(set_bytes))
    if problem_set is None:
        return batch
    definitions = Definitions.of(problem_set)
    submission_keys = {s: key_of(c, b"", s) for s, c in contents.items()}
    before = {s: e for s, e in before.items() if e.submission_key == submission_keys[s]}
    return _changes(replace(batch, submission_keys=submission_keys, definitions=definitions,
                            before=before), definitions)


def _changes(batch: Plan, now: Definitions) -> Plan:
    """``batch`` with the problems that differ from the versions its ``before`` records
    were graded against, and whom their stored answers can regrade."""
    before = batch.before
    if any(e.definitions.frame != now.frame for e in before.values()):   # type: ignore[union-attr]
        return replace(batch, everyone=True)
    changed: dict[str, None] = {}
    added: dict[str, None] = {}
    removed: dict[str, None] = {}
    regrade = {}
    for student, entry in before.items():
        old = entry.definitions
        assert old is not None
        graded = {v.id for v in entry.report.verdicts}
        fresh = [p for p in now.problems if p not in old.problems or p not in graded]
        edited = [p for p in now.problems
                  if p in old.problems and p in graded and old.problems[p] != now.problems[p]]
        changed.update(dict.fromkeys(edited))
        added.update(dict.fromkeys(fresh))
        removed.update(dict.fromkeys(p for p in old.problems if p not in now.problems))
        if not fresh and all(old.runs[p] == now.runs[p] for p in edited):
            regrade[student] = entry
    order = list(now.problems)
    return replace(batch, regrade=regrade, changed=tuple(p for p in order if p in changed),
                   added=tuple(p for p in order if p in added), removed=tuple(removed))


def _content(path: Path) -> bytes:
    """What a file's key hashes: its bytes, or why it has none (its row says so). Only a
    regular file is read: opening a pipe would wait for a writer."""
    if not path.is_file():
        return b"not a regular file"
    try:
        return path.read_bytes()
    except OSError as exc:
        return f"unreadable: {exc}".encode()


def grade_many(batch: Plan, problem_set: ProblemSet, ledger: Ledger, *,
               sandbox: str = "auto", jobs: int = 1, dask: str | None = None,
               grader: Grader | None = None, protect: Sequence[str] = ()) -> Iterator[Graded]:
    """Every student of ``batch``: first those already done, then each one graded, whose
    entry is in the ledger before it is yielded. ``dask`` is a scheduler address to
    grade on a Dask cluster instead of this machine (the set is compiled only where it
    grades, and only if someone is left to grade). ``grader``: the set's, if the caller
    has one (compiled at most once, on first use). ``protect``: what else the sandbox
    must hide from submissions here (``submission.choose_for``)."""
    grader = grader or Grader(problem_set)
    for entry in batch.done.values():
        yield Graded(entry, reused=True)
    if batch.regrade:
        for student, old in batch.regrade.items():
            entry, ungraded = _regraded(old, grader.for_student(student), batch)
            ledger.put(entry)
            yield Graded(entry, reused=False, ungraded=ungraded, regraded=True, before=old)
    todo = batch.todo
    if not todo:
        return
    if dask:
        from mcgrade.batch.distributed import grade_on_dask
        reports = grade_on_dask(dask, todo, problem_set.path, sandbox=sandbox, jobs=jobs)
    else:
        reports = grade_local(todo, grader, sandbox=sandbox, jobs=jobs, protect=protect)
    for student, report, answers, ungraded in reports:
        key = "" if ungraded else batch.keys[student]       # "": never up to date
        name = display_name(batch.files[student].name)   # any file name can be written
        entry = Entry(student, name, key, replace(report, submission=name), answers,
                      batch.set_digest, batch.definitions,
                      batch.submission_keys.get(student, ""))
        ledger.put(entry)
        yield Graded(entry, reused=False, ungraded=ungraded, before=batch.before.get(student))


def _regraded(old: Entry, grader: Grader, batch: Plan) -> tuple[Entry, str]:
    """``old`` graded against the set now: the problems whose definition is unchanged keep
    their verdicts, the others are checked again from the answers the record kept (and
    why this machine could not, "" when it did)."""
    kept = {v.id: v for v in old.report.verdicts}
    assert old.definitions is not None and batch.definitions is not None
    same = {p for p, d in batch.definitions.problems.items()
            if old.definitions.problems.get(p) == d and p in kept}
    name = display_name(batch.files[old.student].name)
    try:
        report = grader.grade(old.answers, name, old.report.notes, sandbox=old.report.sandbox,
                              kept={p: kept[p] for p in same})
    except CheckAbandoned as exc:   # the machine's fault: an ungraded row, run next time
        why = str(exc)
        report = grader.grade_submission(Submission.failed(
            name, old.answers, why, ungraded=True, sandbox=old.report.sandbox))
        return replace(old, file=name, key="", report=report, set_digest=batch.set_digest,
                       definitions=batch.definitions), why
    return replace(old, file=name, key=batch.keys[old.student], report=report,
                   set_digest=batch.set_digest, definitions=batch.definitions), ""
