"""Submission files → plain code to run: a ``.py`` file's bytes, or a notebook's code cells.

Notebooks are read here, in the grader, with ``nbformat`` (any 4.x; a version-3 notebook is
upgraded): the child only ever receives the cells' source text. A 4.x notebook that keeps
to the plain core of the format (``_plain_v4``: what Jupyter, JupyterLab, VS Code and Colab
write) is read without it, exactly as nbformat would read it: importing nbformat's
validator costs a student's ``pytest`` a tenth of a second. A notebook's stored outputs
are never run, so they are dropped before it is validated and don't count against the
size limit, which is the code's (PY_CAP). A file that can't be a submission at all
(missing, a folder or a pipe, empty or truncated notebook, not JSON, not a notebook, an
unknown suffix) raises ``SubmissionError`` with one line saying what is wrong and what to
do. Suffixes are read in any case (``HW1.IPYNB``), and a name that is not UTF-8 is shown
with escapes (``files.display_name``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcgrade.errors import SubmissionError
from mcgrade.files import display_name

PY_CAP = 5 << 20              # a larger .py file (or a notebook's code) is not run
NOTEBOOK_CAP = 256 << 20      # outputs (images) may be large, but the grader holds the
                              # whole file to parse it: past this it is refused unread
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
    label = display_name(file.name) or "submission"
    suffix = file.suffix.lower()
    if not file.is_file():
        raise SubmissionError(_not_a_file(file, label))
    if suffix not in SUFFIXES:
        raise SubmissionError(f"{label}: mcgrade grades Jupyter notebooks (.ipynb) and Python "
                              "files (.py); save the answers in one of those")
    cap = PY_CAP if suffix == ".py" else NOTEBOOK_CAP
    try:
        with open(file, "rb") as f:
            raw = f.read(cap + 1)
    except OSError as exc:
        raise SubmissionError(f"{label} could not be read: {exc.strerror or exc}") from None
    if len(raw) > cap:
        raise SubmissionError(f"{label} is larger than {cap >> 20} MB; it was not run")
    if suffix == ".ipynb":
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


def _not_a_file(file: Path, label: str) -> str:
    """Why ``file`` is not a file to read, in one line (a pipe is never opened: reading it
    would wait for a writer)."""
    submit = "give the path of a notebook (.ipynb) or a Python file (.py)"
    if not os.path.lexists(file):
        return f"{display_name(str(file))}: no such file; {submit}"
    if not file.exists():
        return f"{label} is a link to a file that does not exist; {submit}"
    if file.is_dir():
        return f"{label} is a folder, not a file; {submit}"
    return f"{label} is not a regular file (a pipe, a socket or a device); {submit}"


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
    except RecursionError:
        raise SubmissionError(f"{label} is not a valid notebook: its JSON is nested too "
                              f"deeply to read; {again}") from None
    except ValueError:               # a number of more digits than Python converts
        raise SubmissionError(f"{label} is not a valid notebook: it holds a value that "
                              f"can't be read (a number thousands of digits long); "
                              f"{again}") from None
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
    captured: dict[str, Any] = {}
    if _plain_v4(obj):
        nb = obj                              # nbformat would read it as it is, silently
    else:
        import nbformat
        try:                                  # nbformat.reads carries no annotations
            nb = nbformat.reads(json.dumps(_without_outputs(obj)), as_version=4,  # type: ignore[no-untyped-call]
                                capture_validation_error=captured)
        except Exception as exc:              # nbformat raises many kinds on bad input
            raise SubmissionError(f"{label} could not be read as a notebook "
                                  f"({type(exc).__name__}: {str(exc)[:200]}); {again}") from None
    if major == 3:
        notes.append(f"{label} is an nbformat 3 notebook; it was upgraded to nbformat 4 "
                     "to be read")
    error = captured.get("ValidationError")
    if error is not None:
        message = str(getattr(error, "message", error)).splitlines()[0][:160]
        notes.append(f"{label} does not fully follow the notebook format"
                     f"{_where_in(getattr(error, 'absolute_path', ()))} ({message}); its "
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
    code = sum(len(source.encode("utf-8", "surrogatepass")) for _, source in cells)
    if code > PY_CAP:
        raise SubmissionError(f"{label} holds more than {PY_CAP >> 20} MB of code; it was "
                              "not run")
    return Source(label, "ipynb", cells=tuple(cells), notes=tuple(notes))


def _where_in(path: Any) -> str:
    """`` in cell 3 (metadata → collapsed)``: where in a notebook a validation error is
    (its JSON path), in a notebook's terms; "" when it is the notebook as a whole."""
    steps = [str(s)[:40] for s in list(path)[:8]]
    if len(steps) >= 2 and steps[0] == "cells" and steps[1].isdigit():
        rest = " → ".join(steps[2:])
        return f" in cell {int(steps[1]) + 1}" + (f" ({rest})" if rest else "")
    return f" at {' → '.join(steps)}" if steps else ""


def _without_outputs(notebook: dict[str, Any]) -> dict[str, Any]:
    """The notebook with every code cell's stored outputs emptied (nbformat 4, or 3's
    worksheets): they are never run, and validating megabytes of images is slow."""
    worksheets = notebook.get("worksheets")
    for sheet in [notebook, *(worksheets if isinstance(worksheets, list) else ())]:
        cells = sheet.get("cells") if isinstance(sheet, dict) else None
        for cell in cells if isinstance(cells, list) else ():
            if isinstance(cell, dict) and isinstance(cell.get("outputs"), list):
                cell["outputs"] = []
    return notebook


# --- the plain core of nbformat 4 ------------------------------------------------------
# Conservative: a notebook passes only if the nbformat 4.x schema of its minor version
# accepts it (outputs aside: they are dropped unread either way). Any other notebook goes
# to nbformat, which reads, upgrades and says what it finds. tests/test_notebook_reading.py
# holds these rules to nbformat's own schemas and validator.
_CELL_KEYS = {"code": frozenset({"cell_type", "metadata", "source", "outputs",
                                 "execution_count"}),
              "markdown": frozenset({"cell_type", "metadata", "source"}),
              "raw": frozenset({"cell_type", "metadata", "source"})}
# cell metadata the schemas define, with the rule each keeps (any other key is free)
_CELL_METADATA: dict[str, Callable[[Any], bool]] = {
    "collapsed": lambda v: type(v) is bool,
    "scrolled": lambda v: type(v) is bool or v == "auto",
    "tags": lambda v: (type(v) is list and len(set(map(str, v))) == len(v) and all(
        type(t) is str and t and "," not in t and "\n" not in t for t in v)),
    "jupyter": lambda v: type(v) is dict and all(
        type(v[k]) is bool for k in ("source_hidden", "outputs_hidden") if k in v),
    "execution": lambda v: type(v) is dict and all(type(t) is str for t in v.values()),
}
_SCHEMA_CELL_METADATA = frozenset({"collapsed", "scrolled", "tags", "jupyter", "execution",
                                   "name", "format"})
_SCHEMA_NOTEBOOK_METADATA = frozenset({"kernelspec", "language_info", "orig_nbformat",
                                       "title", "authors"})
_ID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _plain_v4(notebook: dict[str, Any]) -> bool:
    """Whether ``notebook`` is nbformat 4.0-4.5 that its schema accepts as it is (cell
    ids included), in the core every notebook editor writes; False sends it to nbformat."""
    minor = notebook.get("nbformat_minor")
    if (set(notebook) != {"cells", "metadata", "nbformat", "nbformat_minor"}
            or type(notebook["nbformat"]) is not int or notebook["nbformat"] != 4
            or type(minor) is not int or not 0 <= minor <= 5
            or type(notebook["cells"]) is not list
            or not _plain_notebook_metadata(notebook["metadata"])):
        return False
    ids: set[str] = set()
    for cell in notebook["cells"]:
        if type(cell) is not dict or cell.get("cell_type") not in ("code", "markdown", "raw"):
            return False
        keys = _CELL_KEYS[cell["cell_type"]]
        if minor >= 5:
            cell_id = cell.get("id")
            if (type(cell_id) is not str or not 1 <= len(cell_id) <= 64
                    or not _ID_CHARACTERS.issuperset(cell_id) or cell_id in ids):
                return False
            ids.add(cell_id)
            keys = keys | {"id"}
        source, metadata = cell.get("source"), cell.get("metadata")
        if (set(cell) != keys or type(metadata) is not dict
                or not (type(source) is str or (type(source) is list and all(
                    type(line) is str for line in source)))):
            return False
        if cell["cell_type"] == "code" and (type(cell["outputs"]) is not list or not (
                cell["execution_count"] is None or (type(cell["execution_count"]) is int
                                                    and cell["execution_count"] >= 0))):
            return False
        for key in _SCHEMA_CELL_METADATA.intersection(metadata):
            rule = _CELL_METADATA.get(key)
            if rule is None or not rule(metadata[key]):
                return False
    return True


def _plain_notebook_metadata(metadata: Any) -> bool:
    if type(metadata) is not dict:
        return False
    for key in _SCHEMA_NOTEBOOK_METADATA.intersection(metadata):
        value = metadata[key]
        if key == "kernelspec":
            if not (type(value) is dict and type(value.get("name")) is str
                    and type(value.get("display_name")) is str):
                return False
        elif key == "language_info":
            if not (type(value) is dict and type(value.get("name")) is str
                    and type(value.get("codemirror_mode", "")) in (str, dict) and all(
                        type(value.get(k, "")) is str
                        for k in ("file_extension", "mimetype", "pygments_lexer"))):
                return False
        else:                 # orig_nbformat, title, authors: rare; nbformat decides
            return False
    return True
