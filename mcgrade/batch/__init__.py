"""Batch grading: many submission files, one problem set, a ledger to resume from.

    plan(paths, problem_set_path, ledger, *, id_pattern=None, force=False) -> Plan
    grade_many(plan, problem_set, ledger, *, sandbox="auto", jobs=1, dask=None) -> Iterator[Graded]

``ids`` decides whose each file is, before anything runs; ``ledger`` keeps one record per
student (written atomically as each is graded) and says who is already done; ``engine``
grades on this machine through the warm worker pool, ``distributed`` on a Dask cluster.
The drivers (``mcgrade grade``) show progress and render the gradebooks from the ledger;
nothing here prints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator

from mcgrade.batch.engine import Item, grade_local
from mcgrade.batch.ids import assign, collect, compile_pattern
from mcgrade.batch.ledger import Entry, Ledger, key_of, set_digest
from mcgrade.files import display_name
from mcgrade.grading import Grader
from mcgrade.model import ProblemSet

__all__ = ["Entry", "Graded", "Ledger", "Plan", "grade_many", "plan"]


@dataclass(frozen=True)
class Graded:
    """One student's entry, and whether it was graded now or found done in the ledger.
    ``ungraded``: why this machine failed to run the submission (its entry is kept, with a
    key that makes the next run grade it again)."""

    entry: Entry
    reused: bool
    ungraded: str = ""


@dataclass(frozen=True)
class Plan:
    """Who is in the batch, with their files and keys, who is already done, and the
    digest of the problem set (``ledger.set_digest``)."""

    files: dict[str, Path]
    keys: dict[str, str]
    done: dict[str, Entry] = field(default_factory=dict)
    set_digest: str = ""

    @property
    def todo(self) -> list[Item]:
        return [(s, p) for s, p in self.files.items() if s not in self.done]


def plan(paths: Iterable[str | os.PathLike[str]], problem_set_path: str | os.PathLike[str],
         ledger: Ledger, *, id_pattern: str | None = None, force: bool = False) -> Plan:
    """The batch for ``paths`` (files or folders): every student's file, and which of
    them the ledger already holds graded against these same bytes (none if ``force``)."""
    files = assign(collect(paths), compile_pattern(id_pattern))
    set_bytes = Path(problem_set_path).read_bytes()
    keys = {student: key_of(_content(path), set_bytes, student)
            for student, path in files.items()}
    done = {}
    if not force:
        for student in files:
            entry = ledger.get(student)
            if entry is not None and entry.key == keys[student]:
                done[student] = entry
    return Plan(files, keys, done, set_digest(set_bytes))


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
               sandbox: str = "auto", jobs: int = 1, dask: str | None = None) -> Iterator[Graded]:
    """Every student of ``batch``: first those already done, then each one graded, whose
    entry is in the ledger before it is yielded. ``dask`` is a scheduler address to
    grade on a Dask cluster instead of this machine (the set is compiled only where it
    grades, and only if someone is left to grade)."""
    for entry in batch.done.values():
        yield Graded(entry, reused=True)
    todo = batch.todo
    if not todo:
        return
    if dask:
        from mcgrade.batch.distributed import grade_on_dask
        reports = grade_on_dask(dask, todo, problem_set.path, sandbox=sandbox, jobs=jobs)
    else:
        reports = grade_local(todo, Grader(problem_set), sandbox=sandbox, jobs=jobs)
    for student, report, answers, ungraded in reports:
        key = "" if ungraded else batch.keys[student]       # "": never up to date
        name = display_name(batch.files[student].name)   # any file name can be written
        entry = Entry(student, name, key, replace(report, submission=name), answers,
                      batch.set_digest)
        ledger.put(entry)
        yield Graded(entry, reused=False, ungraded=ungraded)
