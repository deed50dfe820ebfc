"""Gradebooks to import into an LMS: one column of totals, its students as the LMS knows
them. Formula-guarded like ``csv_report`` (a cell never starts a formula).

``canvas``: Canvas's gradebook import. The columns of its export (``Student``, ``ID``,
``SIS User ID``, ``SIS Login ID``, ``Section``), copied from the roster it exported, one
assignment column, and the ``Points Possible`` row under the header, as Canvas writes it.

``moodle``: Moodle's "Import grades from CSV": an identifier column (named after what the
ids look like: ``Email address``, ``ID number`` or ``Username``, mapped to the user field
of that name on import) and one grade column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from mcgrade.model import number
from mcgrade.reporters.csv_report import cell

PEOPLE = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def canvas(people: Sequence[Mapping[str, str]], key: str, scores: Mapping[str, float],
           column: str, max_score: float) -> str:
    """The rows of ``people`` (roster rows, in its order) whose ``key`` cell is in
    ``scores`` (student id → total), in the assignment ``column``."""
    rows = [["Points Possible", "", "", "", "", number(max_score)]]
    rows += [[*(cell(p[c]) for c in PEOPLE), number(scores[p[key]])]
             for p in people if p[key] in scores]
    return _csv([*PEOPLE, cell(column)], rows)


def moodle(scores: Mapping[str, float], column: str) -> str:
    """Each student id (in order) with its total, in the grade ``column``."""
    ids = sorted(scores)
    if ids and all("@" in s for s in ids):
        identifier = "Email address"
    elif ids and all(s.isdigit() for s in ids):
        identifier = "ID number"
    else:
        identifier = "Username"
    return _csv([identifier, cell(column)], [[cell(s), number(scores[s])] for s in ids])


def _csv(header: list[str], rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
