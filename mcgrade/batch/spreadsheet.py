"""Reading a CSV that a person saved from a spreadsheet: the overrides a TA typed, the
roster an LMS exported.

Such a file may start with a byte-order mark, end its lines with Excel's CRLF, name its
columns in any order and case with spaces around them, and hold blank lines (or lines of
empty cells). ``read`` gives the header and each non-blank row as a dict of stripped
cells, with its line in the file, so that every complaint can say ``file:line``.
"""

from __future__ import annotations

import csv
import difflib
import os
from collections.abc import Collection, Iterator
from typing import Any

from mcgrade.errors import UsageError

Row = tuple[int, dict[str, str]]            # (line in the file, column → stripped cell)


def read(path: str | os.PathLike[str]) -> tuple[list[str], list[Row]]:
    """The header (stripped, as written) and the rows, keyed by those header names."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            lines = list(_records(csv.reader(handle)))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: can't be read as a UTF-8 CSV file ({exc})") from None
    if not lines:
        raise UsageError(f"{path}: the file is empty; it needs a header row")
    header = [name.strip() for name in lines[0][1]]
    rows = [(n, {name: (cells[i].strip() if i < len(cells) else "")
                 for i, name in enumerate(header) if name})
            for n, cells in lines[1:]]
    return header, rows


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on, skipping blank ones."""
    start = 1
    for cells in reader:
        if any(c.strip() for c in cells):
            yield start, cells
        start = reader.line_num + 1


def column(header: list[str], name: str) -> str | None:
    """The header's own spelling of the column ``name`` (any case, spaces around)."""
    return next((h for h in header if h.casefold() == name.casefold()), None)


def require_known(where: str, what: str, value: str, known: Collection[str], why: str) -> None:
    """Raise, at ``where`` (file:line), unless ``value`` is one of ``known``; the line
    suggests the closest known one."""
    if value in known:
        return
    close = difflib.get_close_matches(value, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UsageError(f"{where}: {what} {value!r} {why}{hint}")
