"""One-line messages about a run: where the code stopped, what was skipped, and why.

Events come from the child (``mcgrade.submission._execute``) and are untrusted: every field
is re-validated here (``one_line``, ``count``). A ``.py`` file is one unit (``cell`` null);
a notebook's events name the cell (its 1-based position among all the notebook's cells).
"""

from __future__ import annotations

import signal
from collections.abc import Mapping, Sequence
from typing import Any, cast

from mcgrade.submission.protocol import CauseKind, RunStatus, count, one_line

_FAILURES = ("raised", "memory", "syntax", "cell-magic", "timeout")


def _where(event: Mapping[str, Any], notebook: bool) -> str:
    line, top = count(event.get("line")), count(event.get("toplevel_line"))
    code = one_line(event.get("code"), 300)
    where = f"line {line}" + (f" (`{code}`)" if code else "") if line else "an unknown line"
    if top and line and top != line:
        where += f", called from line {top}"
    return where


def _error(event: Mapping[str, Any]) -> str:
    etype, msg = one_line(event.get("type"), 200), one_line(event.get("message"), 500)
    return f"{etype}: {msg}" if msg else etype


def _magic_note(event: Mapping[str, Any], label: str) -> str:
    lines = cast("list[Any]", event.get("lines")) if type(event.get("lines")) is list else []
    texts = [one_line(item[1], 200) for item in lines[:5]
             if type(item) is list and len(item) == 2]
    more = count(event.get("more")) or 0
    shown = ", ".join(f"`{t}`" for t in texts if t) or "IPython syntax"
    shown += f" and {more} more" if more else ""
    cell = count(event.get("cell"))
    where = f"{label}, cell {cell}" if cell else label
    if event.get("body_ran") is True:
        return f"{where}: {shown} was ignored (no IPython here); the cell's Python ran"
    return (f"{where}: {shown} is IPython, not Python, and was not run "
            "(mcgrade runs cells as plain Python)")


def event_note(event: Mapping[str, Any] | None, label: str, memory_mb: int,
               timeout: float = 0.0) -> str:
    """The one-line message for one event, or "" if it says nothing worth a line."""
    if not event:
        return ""
    kind = event.get("kind")
    cell = count(event.get("cell"))
    notebook = cell is not None
    where = _where(event, notebook)
    unit = f"{label}, cell {cell}" if notebook else label
    after = "the cells after it still ran" if notebook else "answers defined before it were read"
    if kind == "magic":
        return _magic_note(event, label)
    if kind == "cell-magic":
        code = one_line(event.get("code"), 200)
        return (f"{unit}: the cell magic `{code}` is not Python; the cell was not run "
                "(mcgrade runs cells as plain Python)")
    if kind == "syntax":
        line, code, msg = count(event.get("line")), one_line(event.get("code"), 300), \
            one_line(event.get("message"), 500)
        text = f"{unit}, line {line or '?'}: {msg or 'syntax error'}" + \
            (f" in `{code}`" if code and "can't decode" not in msg else "")
        if "can't decode" in msg:
            text += (" (save the file as UTF-8, or name its encoding on the first line: "
                     "`# -*- coding: latin-1 -*-`)")
        return text + ("; that cell did not run, the others did" if notebook
                       else "; nothing ran, so no answers were read")
    if kind == "exit":
        exit_code = event.get("exit_code")
        exit_code = exit_code if type(exit_code) is int else 1
        if notebook:
            return f"{unit}: sys.exit({exit_code}) at {where}; {after}"
        done = ("answers were read as they stood then" if exit_code == 0
                else "answers defined before it were read")
        return f"{label} called sys.exit({exit_code}) at {where}; {done}"
    if kind == "timeout":
        spot = f"cell {cell}, {where}" if notebook else where
        stopped = f": stopped at {spot}" if count(event.get("line")) else ""
        rest = "; later cells did not run" if notebook else ""
        return (f"{label} did not finish within {timeout:g} s{stopped}{rest}; "
                "answers defined before it were read")
    if kind == "memory":
        return (f"{unit} ran out of memory (limit {memory_mb} MB) at {where}: "
                f"{_error(event)}; {after}")
    if notebook:
        return f"{unit}: {_error(event)} at {where}; {after}"
    return f"{label} raised {_error(event)} at {where}; {after}"


def causes(events: Sequence[Mapping[str, Any]], notes: Sequence[str],
           timeout: float) -> dict[str, tuple[CauseKind, str]]:
    """Why each name a failed unit would have defined has no value (``"*"``: any name), as
    (answer kind, reason): "timeout" only where that unit ran out of time, "error" where it
    raised or did not compile, whatever else happened later in the run."""
    found: dict[str, tuple[CauseKind, str]] = {}
    for event, note in zip(events, notes):
        if event.get("kind") not in _FAILURES and not (
                event.get("kind") == "exit" and event.get("exit_code") != 0):
            continue
        kind: CauseKind = "timeout" if event.get("kind") == "timeout" else "error"
        cell = count(event.get("cell"))
        if cell is None:
            found.setdefault("*", (kind, note.split("; ")[0]))
            continue
        names = cast("list[Any]", event.get("names")) if type(event.get("names")) is list else []
        why = (f"which was still running at {_where(event, True)} when the "
               f"{timeout:g} s limit ran out" if kind == "timeout" else
               f"which failed: {note.split(': ', 1)[-1].split('; ')[0]}")
        for name in names[:200]:
            if type(name) is str:
                found.setdefault(name, (kind, f"{name} is set in cell {cell}, {why}"))
    return found


def failure(label: str, exit_: Mapping[str, Any], cpu_limit: int, memory_mb: int,
            why: str, tail: bytes) -> tuple[RunStatus, str]:
    """(status, one-line note) for a submission that ended without reporting its answers."""
    none = "no answers were read"
    if why:
        return "crashed", f"{label} {why}; {none}"
    memoryish = b"MemoryError" in tail or b"Cannot allocate memory" in tail
    sig, code = count(exit_.get("signal")), exit_.get("code")
    cpu = cast(float, exit_.get("cpu")) if type(exit_.get("cpu")) in (int, float) else 0.0
    if sig:
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= cpu_limit - 0.5):
            return "timeout", f"{label} used more than {cpu_limit - 1} s of CPU time; {none}"
        if sig == signal.SIGKILL or memoryish:
            return "memory", (f"{label} was killed, most likely for running out of memory "
                              f"(limit {memory_mb} MB); {none}")
        return "crashed", f"{label} was killed by {signal_name(sig)}; {none}"
    if memoryish:
        return "memory", f"{label} ran out of memory (limit {memory_mb} MB); {none}"
    code = code if type(code) is int else "unknown"
    return "crashed", (f"{label} ended (exit code {code}) without reporting its "
                       f"answers, e.g. through os._exit() or an interpreter crash; {none}")


def signal_name(sig: int) -> str:
    try:
        name = signal.Signals(sig).name
        description = signal.strsignal(sig)
    except ValueError:
        return f"signal {sig}"
    return f"{name} ({description})" if description else name


def size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
