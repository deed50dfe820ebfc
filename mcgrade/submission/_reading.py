"""A submission's working directory, its module namespace, and its answers read as records
(the child side; standard library only, and portable: no fork, no Linux-only call).

Shared by the Linux runner (``_student_process``, which reads answers in forked helpers) and the
portable child (``_portable``, which reads them in its own process under an alarm).
"""

import json
import os
import sys
from collections.abc import Callable
from typing import Any, cast

import _encode

_dumps = json.dumps


def enter(job: "dict[str, Any]", workdir: str) -> None:
    """Work in ``workdir`` with a clean environment; write a ``.py`` submission there."""
    os.chdir(workdir)
    # Windows can't run without these (sockets, subprocesses, the home folder)
    kept = {k: os.environ[k] for k in ("SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT")
            if os.name == "nt" and k in os.environ}
    os.environ.clear()
    os.environ.update(kept, HOME=workdir, USERPROFILE=workdir, TMPDIR=workdir, TEMP=workdir,
                      TMP=workdir, PATH=os.pathsep.join(("/usr/local/bin", "/usr/bin", "/bin")),
                      MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    path = os.path.join(workdir, job.get("filename", job["label"]))
    if job["kind"] == "py":
        job["source"] = bytes.fromhex(job.pop("source_hex"))
        with open(path, "wb") as f:
            f.write(job["source"])
    job["path"] = path


def _ipython_stub(calls: "list[str]") -> "Callable[[], object]":
    """A stand-in for ``get_ipython()`` in exported notebooks: records, never runs."""
    class Shell:
        def __getattr__(self, name: str) -> "Callable[..., None]":
            def record(*args: object, **kwargs: object) -> None:
                text = ", ".join(repr(a)[:80] for a in args)
                calls.append(f"get_ipython().{name}({text})"[:200])
            return record
    return lambda: Shell()


def module_namespace(job: "dict[str, Any]",
                     workdir: str) -> "tuple[dict[str, Any], list[str]]":
    """The submission's ``__main__`` namespace, and the list its ``get_ipython()`` calls go to."""
    import builtins
    import types
    module = types.ModuleType("__main__")
    namespace = module.__dict__
    namespace.update(__builtins__=builtins, __cached__=None)
    ipython_calls: list[str] = []
    namespace["get_ipython"] = _ipython_stub(ipython_calls)
    if job["kind"] != "py":
        namespace["display"] = lambda *values, **kw: print(*values)
    sys.modules["__main__"] = module
    sys.argv[:] = [job["path"]]
    sys.path.insert(0, workdir)
    return namespace, ipython_calls


def items(job: "dict[str, Any]", namespace: "dict[str, Any]") -> "list[tuple[str, int | None]]":
    """(name, call arguments or None) in order: one per value, one per function call."""
    found: list[tuple[str, int | None]] = []
    for name in job["names"]:
        calls = job["calls"].get(name)
        if calls is not None and name in namespace and callable(namespace[name]):
            found.extend((name, i) for i in range(len(calls)))
            if not calls:
                found.append((name, -1))
        else:
            found.append((name, None))
    return found


def _argument(value: Any) -> object:
    if type(value) is list:
        import numpy
        return numpy.array(value, dtype=numpy.float64)
    return float(value)


def _record_of(job: "dict[str, Any]", namespace: "dict[str, Any]", name: str, call: "int | None",
               stop: "tuple[type[BaseException], ...]") -> "dict[str, Any]":
    if call is None:
        if name not in namespace:
            return {"kind": "missing"}
        return cast("dict[str, Any]", _encode.encode(namespace[name]))
    if call < 0:
        return {"kind": "missing"}
    args = [_argument(a) for a in job["calls"][name][call]]
    try:
        result = namespace[name](*args)
    except stop:
        raise
    except BaseException as exc:
        import traceback
        try:
            message = str(exc)[:300]
        except BaseException:
            message = ""
        try:
            sys.stderr.write("".join(traceback.format_exception(type(exc), exc,
                                                                exc.__traceback__))[-5000:])
            sys.stderr.flush()
        except BaseException:
            pass
        kind = _encode.type_name(exc)
        return {"kind": "error", "text": f"{name}(…) raised {kind}"
                + (f": {message}" if message else "")}
    return cast("dict[str, Any]", _encode.encode_result(result))


def encode_item(job: "dict[str, Any]", namespace: "dict[str, Any]", name: str, call: "int | None",
                budget: int, stop: "tuple[type[BaseException], ...]" = ()) -> str:
    """One item's record as JSON text, whatever the value does. ``stop``: exceptions that
    must get through (the portable child's alarm), everything else becomes the record."""
    value = namespace.get(name)
    try:
        text = _dumps(_record_of(job, namespace, name, call, stop), allow_nan=False)
    except _encode.Refused as why:
        text = _dumps({"kind": "unsupported",
                       "text": f"{_encode.type_name(value)} ({why.args[0]})"})
    except stop:
        raise
    except BaseException as exc:
        text = _dumps({"kind": "error", "text": f"{name} could not be read: "
                                                f"{_encode.type_name(exc)}"})
    if len(text) > budget:
        text = _dumps({"kind": "unsupported", "text": f"{_encode.type_name(value)} "
                                                      f"(too large to grade: {len(text)} bytes)"})
    return text


def answer_line(items: "list[tuple[str, int | None]]", index: int,
                records: "dict[str, list[str]]", text: str) -> "str | None":
    """Add item ``index``'s record text (``items`` from ``items``); once it is the last
    of its name, that name's ``answer`` line, a function's calls gathered into one
    record, else None."""
    name, call = items[index]
    records[name].append(text)
    if index + 1 < len(items) and items[index + 1][0] == name:
        return None
    body = records[name][0] if call is None else \
        '{"kind":"function","calls":[' + ",".join(records[name]) + "]}"
    return '{"t":"answer","name":' + _dumps(name) + ',"record":' + body + "}"
