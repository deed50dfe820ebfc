"""Run a submission's code the way Python or Jupyter would (the child side; stdlib only).

A ``.py`` file runs as a script: ``__name__ == "__main__"``, ``__file__`` is its path, and
the first uncaught exception stops it. A notebook's code cells run top to bottom in one
namespace, without a kernel: a cell that raises (or does not compile) is reported and the
next cell runs. IPython syntax is not Python and is never executed: a line magic or shell
escape (``%matplotlib inline``, ``!pip install x``, ``x = !ls``, ``np.sum?``) is blanked out
when, and only when, the cell does not compile with it; a cell magic (``%%bash``) skips its
cell, except ``%%time``, ``%%timeit`` and ``%%capture``, whose body runs once as Python.

The whole run has one time limit, raised inside the running code by an alarm (``arm``);
code that suppresses it is killed from outside a moment later (the supervisor's deadline,
or the portable runner's).

``run`` returns ``(status, events)``: status ``ok``, ``raised``, ``memory``, ``timeout`` or
``syntax-error`` (a ``.py`` file that does not compile); events are plain dicts that the
parent turns into one-line notes (``mcgrade.submission.protocol``).
"""

import ast
import linecache
import re
import signal
import sys
from collections.abc import Callable
from types import CodeType
from typing import Any, NoReturn, cast

from _encode import type_name

MAX_EVENTS = 50
MAGIC_LINE = re.compile(r"^\s*(?:[%!?]|[\w.,\s\[\]]+=\s*[%!](?!=)|[\w.]+\?\??\s*$)")
PYTHON_BODY_MAGICS = ("time", "timeit", "capture")
ASSIGNED = re.compile(r"^(?:def\s+|class\s+)?([A-Za-z_]\w*)\s*(?:[:(=]|\s*$)")


class ScriptTimeout(BaseException):
    """Raised by the alarm when the run's time is up."""


def _on_alarm(signum: int, frame: object) -> NoReturn:
    raise ScriptTimeout()


def _source_lines(source: "bytes | str") -> "list[str]":
    if type(source) is str:
        return source.split("\n")
    try:
        import io
        import tokenize
        encoding = tokenize.detect_encoding(io.BytesIO(cast(bytes, source)).readline)[0]
        return cast(bytes, source).decode(encoding, "replace").split("\n")
    except Exception:
        return cast(bytes, source).decode("utf-8", "replace").split("\n")


def bound_names(tree: ast.AST) -> "list[str]":
    """Names a piece of code binds at its top level (not inside functions or classes)."""
    names: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
            return
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                             ast.GeneratorExp)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.extend((a.asname or a.name).split(".")[0] for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)
    visit(tree)
    return sorted(set(names))[:200]


def _guess_names(lines: "list[str]") -> "list[str]":
    """Names a cell that does not compile seems to assign, read from its first column."""
    found = (ASSIGNED.match(line) for line in lines)
    return sorted({m.group(1) for m in found if m})[:200]


def _event(kind: str, exc: BaseException, filename: str,
           lines: "list[str]") -> "dict[str, Any]":
    """Where and why the code stopped: type, message, line and its text."""
    try:
        message = str(exc)[:2000]
    except BaseException:
        message = ""
    inner = outer = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            inner = tb.tb_lineno
            outer = outer or inner
        tb = tb.tb_next
    event: dict[str, Any] = {"kind": kind, "type": type_name(exc), "message": message,
                             "line": inner, "toplevel_line": outer, "code": ""}
    if inner is not None and 0 < inner <= len(lines):
        event["code"] = lines[inner - 1].strip()[:300]
    if kind in ("raised", "memory"):
        try:
            import traceback
            tb = exc.__traceback__
            while tb is not None and tb.tb_frame.f_code.co_filename != filename:
                tb = tb.tb_next
            text = "".join(traceback.format_exception(type(exc), exc, tb))
            event["traceback"] = text[-10_000:]
            sys.stderr.write(event["traceback"])
        except BaseException:
            pass
    return event


def _syntax_event(exc: "BaseException | None", lines: "list[str]") -> "dict[str, Any]":
    line = getattr(exc, "lineno", None)
    line = line if type(line) is int and 0 < line <= len(lines) else None
    text = getattr(exc, "text", None) or (lines[line - 1] if line else "")
    return {"kind": "syntax", "type": type_name(exc), "line": line,
            "message": str(getattr(exc, "msg", exc))[:500], "code": str(text).strip()[:300]}


def _compile(source: "str | bytes",
             filename: str) -> "tuple[CodeType | None, Exception | None]":
    """(code, None) or (None, the exception): SyntaxError, ValueError (NUL bytes), ..."""
    try:
        return compile(source, filename, "exec", dont_inherit=True), None
    except Exception as exc:
        return None, exc


def _without_magics(text: str) -> "tuple[str, list[list[Any]]]":
    """The cell with IPython-only lines blanked, and those lines as (number, text)."""
    lines, removed = text.split("\n"), []
    for i, line in enumerate(lines):
        if MAGIC_LINE.match(line) and not line.lstrip().startswith("!="):
            removed.append([i + 1, line.strip()[:200]])
            lines[i] = ""
    return "\n".join(lines), removed


def _exec(code: CodeType, namespace: "dict[str, Any]", filename: str, lines: "list[str]",
          cell: "int | None") -> "tuple[str, dict[str, Any] | None]":
    """Run one compiled unit: (status, event or None)."""
    try:
        exec(code, namespace)
    except ScriptTimeout as exc:
        return "timeout", dict(_event("timeout", exc, filename, lines), cell=cell)
    except SystemExit as exc:
        event = _event("exit", exc, filename, lines)
        c = exc.code
        event["exit_code"] = c if type(c) is int else (0 if c is None else 1)
        return ("ok" if event["exit_code"] == 0 else "raised"), dict(event, cell=cell)
    except MemoryError as exc:
        return "memory", dict(_event("memory", exc, filename, lines), cell=cell)
    except BaseException as exc:
        return "raised", dict(_event("raised", exc, filename, lines), cell=cell)
    return "ok", None


def _run_py(job: "dict[str, Any]",
            namespace: "dict[str, Any]") -> "tuple[str, list[dict[str, Any]]]":
    path, source = job["path"], job["source"]
    lines = _source_lines(source)
    code, exc = _compile(source, path)
    if code is None:
        return "syntax-error", [_syntax_event(exc, lines)]
    namespace["__file__"] = path
    status, event = _exec(code, namespace, path, lines, None)
    return status, [event] if event else []


def _run_cells(job: "dict[str, Any]",
               namespace: "dict[str, Any]") -> "tuple[str, list[dict[str, Any]]]":
    label, events, worst = job["label"], [], "ok"
    for index, text in job["cells"]:
        filename = f"{label}, cell {index}"
        first, _, rest = text.partition("\n")
        if first.startswith("%%"):
            magic = first[2:].split(None, 1)[0] if first[2:].strip() else ""
            if magic not in PYTHON_BODY_MAGICS:
                events.append({"kind": "cell-magic", "cell": index, "code": first[:200],
                               "names": _guess_names(rest.split("\n"))})
                continue
            events.append({"kind": "magic", "cell": index, "lines": [[1, first[:200]]],
                           "body_ran": True})
            text = "\n" + rest
        lines = text.split("\n")
        code, exc = _compile(text, filename)
        if code is None:
            stripped, removed = _without_magics(text)
            if removed:
                code, retry_exc = _compile(stripped, filename)
                exc = retry_exc or exc
                events.append({"kind": "magic", "cell": index, "lines": removed[:5],
                               "more": max(0, len(removed) - 5)})
        if code is None:
            events.append(dict(_syntax_event(exc, lines), cell=index,
                               names=_guess_names(lines)))
            worst = "raised" if worst == "ok" else worst
            continue
        linecache.cache[filename] = (len(text), None, [ln + "\n" for ln in lines], filename)
        status, event = _exec(code, namespace, filename, lines, index)
        if event is not None:
            try:
                event["names"] = bound_names(ast.parse(text))
            except Exception:
                event["names"] = _guess_names(lines)
            events.append(event)
        if status != "ok" and worst in ("ok", "raised"):
            worst = status
        if status == "timeout":
            break
    return worst, events


def arm(seconds: float) -> "Callable[[], None]":
    """Raise ``ScriptTimeout`` in the main thread after ``seconds``: by ``SIGALRM`` where
    there is one (Linux, macOS), else by a timer thread that interrupts the main thread
    (Windows). Returns the function that disarms it."""
    seconds = max(0.01, float(seconds))
    if hasattr(signal, "setitimer"):
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)

        def disarm() -> None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return disarm
    import _thread
    import threading
    previous = signal.signal(signal.SIGINT, _on_alarm)
    timer = threading.Timer(seconds, _thread.interrupt_main, (signal.SIGINT,))
    timer.daemon = True
    timer.start()

    def disarm() -> None:  # type: ignore[no-redef]  # the branch above returned its own
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    return disarm


def run(job: "dict[str, Any]",
        namespace: "dict[str, Any]") -> "tuple[str, list[dict[str, Any]]]":
    """Run the job's code in ``namespace`` within ``job['timeout']`` seconds."""
    disarm = arm(job["timeout"])
    try:
        if job["kind"] == "py":
            status, events = _run_py(job, namespace)
        else:
            status, events = _run_cells(job, namespace)
    except ScriptTimeout:                 # between cells, or in our own code
        status, events = "timeout", [{"kind": "timeout", "cell": None}]
    finally:
        disarm()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()  # type: ignore[union-attr]  # None without a console: caught below
        except BaseException:
            pass
    return status, events[:MAX_EVENTS]
