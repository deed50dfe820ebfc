"""Submission files → plain code to run: a ``.py`` file's bytes, or a notebook's code cells.

Notebooks are read here, in the grader, with ``nbformat`` (any 4.x; a version-3 notebook is
upgraded): the child only ever receives the cells' source text. A file that can't be a
submission at all (missing, empty or truncated notebook, not JSON, not a notebook, an
unknown suffix) raises ``SubmissionError`` with one line saying what is wrong and what to do.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from mcgrade.errors import SubmissionError

PY_CAP = 5 << 20              # a larger .py file is refused unread
NOTEBOOK_CAP = 50 << 20       # notebooks carry outputs (images): more room
SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Source:
    """What a child runs: ``kind`` "py" (``data``, raw bytes) or "ipynb" (``cells``)."""

    label: str
    kind: str
    data: bytes = b""
    cells: tuple[tuple[int, str], ...] = ()
    notes: tuple[str, ...] = ()


def load(path: str | os.PathLike[str]) -> Source:
    """Read the submission at ``path``; SubmissionError (one line) if it can't be one."""
    file = Path(path)
    label = file.name or "submission"
    if not file.is_file():
        raise SubmissionError(f"{path}: no such file; give the path of a notebook (.ipynb) "
                              "or a Python file (.py)")
    if file.suffix not in SUFFIXES:
        raise SubmissionError(f"{label}: mcgrade grades Jupyter notebooks (.ipynb) and Python "
                              "files (.py); save the answers in one of those")
    cap = PY_CAP if file.suffix == ".py" else NOTEBOOK_CAP
    try:
        with open(file, "rb") as f:
            raw = f.read(cap + 1)
    except OSError as exc:
        raise SubmissionError(f"{label} could not be read: {exc.strerror or exc}") from None
    if len(raw) > cap:
        raise SubmissionError(f"{label} is larger than {cap >> 20} MB; it was not run")
    if file.suffix == ".ipynb":
        return _notebook(label, raw)
    if raw.lstrip()[:1] == b"{" and b'"cells"' in raw:
        try:
            source = _notebook(label, raw)
        except SubmissionError:
            pass
        else:
            return Source(label, "ipynb", cells=source.cells, notes=(
                f"{label} is a Jupyter notebook saved under a .py name; it was read as a "
                "notebook", *source.notes))
    notes = () if raw.strip() else (f"{label} is empty: it defines no answers",)
    return Source(label, "py", data=raw, notes=notes)


def _notebook(label: str, raw: bytes) -> Source:
    again = "save it again from Jupyter (File → Save)"
    if not raw.strip():
        raise SubmissionError(f"{label} is empty ({len(raw)} bytes), not a notebook; {again}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"{label} is not a notebook: byte {exc.start} is not UTF-8 "
                              f"text; {again}") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        if not text.lstrip().startswith(("{", "[")):
            raise SubmissionError(f"{label} is not a notebook: it is not JSON (it looks like "
                                  f"Python or plain text); rename a Python file to .py, or "
                                  f"{again}") from None
        if exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string"):
            raise SubmissionError(f"{label} is cut short: its JSON ends early at line "
                                  f"{exc.lineno}, so the file looks truncated; {again}") from None
        raise SubmissionError(f"{label} is not a valid notebook: {exc.msg} at line "
                              f"{exc.lineno}, column {exc.colno}; {again}") from None
    if type(obj) is not dict or "nbformat" not in obj or not (
            "cells" in obj or "worksheets" in obj):
        raise SubmissionError(f"{label} is JSON but not a Jupyter notebook (it has no "
                              f"'nbformat' and 'cells'); {again}")
    major = obj.get("nbformat")
    if major not in (3, 4):
        raise SubmissionError(f"{label} is an nbformat {str(major)[:10]} notebook; mcgrade "
                              "reads nbformat 4 (and upgrades 3): save it from a current "
                              "Jupyter")
    notes = []
    import nbformat
    captured: dict = {}
    try:
        nb = nbformat.reads(text, as_version=4, capture_validation_error=captured)
    except Exception as exc:                  # nbformat raises many kinds on bad input
        raise SubmissionError(f"{label} could not be read as a notebook "
                              f"({type(exc).__name__}: {str(exc)[:200]}); {again}") from None
    if major == 3:
        notes.append(f"{label} is an nbformat 3 notebook; it was upgraded to nbformat 4 "
                     "to be read")
    error = captured.get("ValidationError")
    if error is not None:
        message = str(getattr(error, "message", error)).splitlines()[0][:160]
        notes.append(f"{label} does not fully follow the notebook format ({message}); its "
                     "code cells were run anyway")
    cells = []
    for position, cell in enumerate(nb.get("cells", ()), start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        marks = cell.get("metadata", {}).get("mcgrade", {}) if isinstance(
            cell.get("metadata"), dict) else {}
        if isinstance(marks, dict) and marks.get("check") is True:
            continue      # the starter notebook's own "run the checks" cell
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        if isinstance(source, str):
            cells.append((position, source))
    if not cells:
        notes.append(f"{label} has no code cells: it defines no answers")
    return Source(label, "ipynb", cells=tuple(cells), notes=tuple(notes))
