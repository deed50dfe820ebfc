"""A Canvas roster: the gradebook CSV that Canvas exports, whose students ``--canvas``
matches to mcgrade's student ids.

Canvas's export has the columns ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
``Section``, then one per assignment (``Homework 1 (12345)``: its name and Canvas's id),
and, under the header, a ``Points Possible`` row (newer exports add a row of posting
policies, whose ``Student`` cell is empty). Students are matched on whichever of ``SIS
User ID``, ``SIS Login ID`` and ``ID`` holds the most of mcgrade's ids, said by name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from dataclasses import dataclass

from mcgrade.batch import spreadsheet
from mcgrade.errors import UsageError
from mcgrade.reporters.lms import PEOPLE

KEYS = ("SIS User ID", "SIS Login ID", "ID")          # tried in this order on a tie


@dataclass(frozen=True)
class Roster:
    """The roster's students (their ``PEOPLE`` cells), in its order; ``key`` is the column
    that matched mcgrade's ids, ``columns`` the roster's assignment columns."""

    path: str
    key: str
    people: tuple[dict[str, str], ...]
    columns: tuple[str, ...]

    def column_for(self, title: str) -> str:
        """The roster's column for the assignment ``title`` (``Neuron (12345)``: Canvas
        then imports into that assignment), else ``title`` (a new one)."""
        return next((c for c in self.columns
                     if c == title or re.fullmatch(re.escape(title) + r" \(\d+\)", c)), title)


def read(path: str | os.PathLike[str], students: Collection[str]) -> Roster:
    """The roster at ``path``, matched to the gradebook's ``students``; a UsageError if it
    is not a Canvas export or none of its ids is one of theirs."""
    header, rows = spreadsheet.read(path)
    names = {c: spreadsheet.column(header, c) or "" for c in PEOPLE}
    if not names["Student"] or not any(names[k] for k in KEYS):
        raise UsageError(f"{path}:1: not a Canvas gradebook export: it needs the columns "
                         f"Student and one of {', '.join(KEYS)} (Canvas: Grades → Export)")
    people = tuple({c: row.get(names[c], "") for c in PEOPLE} for _, row in rows
                   if row.get(names["Student"], "") not in ("", "Points Possible"))
    counts = {k: sum(p[k] in students for p in people) for k in KEYS if names[k]}
    key = max(counts, key=lambda k: counts[k])        # the first of KEYS on a tie
    if not counts[key]:
        example = min(students, default="")
        raise UsageError(f"{path}: none of its {', '.join(counts)} values is a student id "
                         f"of this gradebook (such as {example!r}); mcgrade's ids come from "
                         "the file names (see --id-pattern)")
    columns = tuple(h for h in header if h and h not in names.values())
    return Roster(str(path), key, people, columns)
