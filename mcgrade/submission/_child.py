"""Run one ``.py`` submission and report its answers as tagged JSON (the child side).

This file is a standalone script: it imports only the standard library at start-up (numpy
is used only when a value's type already comes from an imported numpy) and never imports
``mcgrade``. The parent (``mcgrade.submission.runner``) starts it as::

    python -I -S -X utf8 _child.py '<config JSON>'

``-I`` keeps the environment (PYTHON* variables, the current directory) out of
``sys.path``. ``-S`` skips ``site`` (and the code lines of ``.pth`` files, which cost most
of a bare interpreter's start-up); the parent sends the site-packages directories it
uses (``site_path``), so numpy and sympy import as they would in the grader. The config
also carries the submission path, the answer names, the result descriptor and the
resource limits. Stdin is /dev/null; fd 1 and 2 go to a capped sink read by the
parent; the result is written, once, to the dedicated descriptor ``result_fd``.

The submission runs like ``python hw1.py`` would run it: ``__name__ == "__main__"`` (so an
``if __name__ == "__main__":`` block runs), ``__file__`` is its path, ``sys.argv`` is
``[path]`` and its own directory comes first on ``sys.path``. Its globals live in a dict
kept here, so names defined before an exception or a ``sys.exit`` are still reported.

Trust: student code runs in this very process and could rewrite anything here, so the
checks below are for robustness against odd values (no student ``__eq__``, ``__repr__`` or
``__len__`` is called while encoding, sizes are capped), not a security boundary. The
boundary is the process: the parent validates every byte it reads, and a forged result
can only carry answers the student could have given anyway.
"""

import json
import math
import os
import sys

MAX_STRING = 100_000          # characters in one string answer
MAX_ELEMENTS = 1_000_000      # numbers in one array answer
MAX_DEPTH = 32                # nesting of lists
MAX_ITEMS = 64                # entries of a tuple that is not numeric
_NONFINITE = {math.inf: "inf", -math.inf: "-inf"}
_dumps = json.dumps
_write = os.write


class _Refused(Exception):
    """A value that can't be encoded; the message says why, after the value's type name."""


def _type_name(value: object) -> str:
    """The qualified name of ``type(value)``, read through ``type``'s own descriptors."""
    t = type(value)
    try:
        name = type.__dict__["__qualname__"].__get__(t, type)
        module = type.__dict__["__module__"].__get__(t, type)
    except Exception:
        return "unknown type"
    if type(name) is not str:
        return "unknown type"
    if type(module) is str and module != "builtins":
        name = f"{module}.{name}"
    return name[:200]


def _num(x: "int | float") -> "int | float | str":
    """A JSON-safe real: small ints stay ints; NaN and infinities become strings."""
    if type(x) is int:
        if -(1 << 53) <= x <= (1 << 53):
            return x
        try:
            x = float(x)
        except OverflowError:
            raise _Refused("too large to be a number") from None
    elif type(x) is not float:
        x = float(x)                       # numpy's longdouble and friends
    if x != x:
        return "nan"
    return _NONFINITE.get(x, x)


def _numpy():
    """The numpy module if the submission imported it, else None."""
    return sys.modules.get("numpy")


def _numpy_kind(value: object, np) -> str:
    """'real', 'complex', 'bool', 'other' for exact numpy scalar types; '' otherwise."""
    if np is None:
        return ""
    t = type(value)
    try:
        module = type.__dict__["__module__"].__get__(t, type)
        if module != "numpy" or not issubclass(t, np.generic):
            return ""
        kind = np.dtype(t).kind
    except Exception:
        return ""
    return {"f": "real", "i": "real", "u": "real", "c": "complex", "b": "bool"}.get(kind, "other")


def _encode_ndarray(arr, np) -> dict:
    name = _type_name(arr)
    if type(arr) is not np.ndarray:
        arr = np.asarray(arr)              # exact np.matrix only (checked by the caller)
    kind = arr.dtype.kind
    shape = [int(d) for d in arr.shape]
    if arr.size > MAX_ELEMENTS:
        raise _Refused(f"{arr.size} numbers; at most {MAX_ELEMENTS}")
    if kind in "fiu":
        if not shape:
            return {"kind": "number", "value": _num(arr.item())}
        return {"kind": "array", "shape": shape, "value": [_num(x) for x in arr.ravel().tolist()]}
    if kind == "c":
        flat = arr.ravel().tolist()
        return {"kind": "complex", "shape": shape, "real": [_num(z.real) for z in flat],
                "imag": [_num(z.imag) for z in flat]}
    dtype = {"b": "bool", "O": "object", "U": "str", "S": "bytes"}.get(kind, arr.dtype.name)
    return {"kind": "unsupported", "text": f"{name} (dtype {dtype})"}


def _nested(value: object, depth: int, np, count: list) -> "tuple[list, list]":
    """(shape, flat numbers) of a rectangular nest of lists/tuples/arrays of reals."""
    t = type(value)
    if t is int or t is float:
        count[0] += 1
        return [], [_num(value)]
    if _numpy_kind(value, np) == "real":
        count[0] += 1
        return [], [_num(value.item())]
    if np is not None and t is np.ndarray and value.dtype.kind in "fiu":
        count[0] += int(value.size)
        if count[0] > MAX_ELEMENTS:
            raise _Refused(f"more than {MAX_ELEMENTS} numbers")
        return [int(d) for d in value.shape], [_num(x) for x in value.ravel().tolist()]
    if t is not list and t is not tuple:
        raise _Refused(f"containing {_type_name(value)}")
    if depth >= MAX_DEPTH:
        raise _Refused("nested too deeply")
    shape: "list | None" = None
    flat: list = []
    for item in list.__iter__(value) if t is list else tuple.__iter__(value):
        sub_shape, sub_flat = _nested(item, depth + 1, np, count)
        if shape is None:
            shape = sub_shape
        elif sub_shape != shape:
            raise _Refused("ragged: rows of different lengths")
        flat.extend(sub_flat)
        if count[0] > MAX_ELEMENTS:
            raise _Refused(f"more than {MAX_ELEMENTS} numbers")
    return [list.__len__(value) if t is list else tuple.__len__(value)] + (shape or []), flat


def _flat_items(seq: "list | tuple") -> "list | None":
    """Tagged items of a flat sequence of ints, floats and strings (a possible shape)."""
    items = []
    for item in seq:
        if type(item) is str and len(item) <= 200:
            items.append({"kind": "string", "text": item})
        elif type(item) is int or type(item) is float:
            items.append({"kind": "number", "value": _num(item)})
        else:
            return None
    return items


def encode(value: object) -> dict:
    """One answer as a tagged record (see ``mcgrade.submission.protocol``)."""
    t = type(value)
    np = _numpy()
    if t is str:
        if len(value) > MAX_STRING:
            raise _Refused(f"{len(value)} characters; at most {MAX_STRING}")
        return {"kind": "string", "text": value}
    if t is int or t is float:
        return {"kind": "number", "value": _num(value)}
    if t is complex:
        return {"kind": "complex", "shape": [], "real": [_num(value.real)],
                "imag": [_num(value.imag)]}
    if value is None:
        return {"kind": "none"}
    kind = _numpy_kind(value, np)
    if kind == "real":
        return {"kind": "number", "value": _num(value.item())}
    if kind == "complex":
        z = complex(value.item())
        return {"kind": "complex", "shape": [], "real": [_num(z.real)], "imag": [_num(z.imag)]}
    if np is not None and (t is np.ndarray or t is getattr(np, "matrix", None)):
        return _encode_ndarray(value, np)
    if t is tuple or t is list:
        if t is tuple or 0 < list.__len__(value) <= MAX_ITEMS:
            items = _flat_items(value) if len(value) <= MAX_ITEMS else None
            if items is not None and (t is tuple or any(i["kind"] == "string" for i in items)):
                return {"kind": t.__name__, "items": items}
        shape, flat = _nested(value, 0, np, [0])
        return {"kind": "array", "shape": shape, "value": flat}
    return {"kind": "unsupported", "text": _type_name(value)}


def encode_answers(namespace: dict, names: list, budget: int) -> str:
    """The ``answers`` object as JSON text, each record capped so the total fits ``budget``."""
    parts = []
    for name in names:
        value = namespace.get(name)
        try:
            record = encode(value) if name in namespace else {"kind": "missing"}
            text = _dumps(record, allow_nan=False)
        except _Refused as why:
            text = _dumps({"kind": "unsupported",
                           "text": f"{_type_name(value)} ({why.args[0]})"})
        except Exception as exc:
            text = _dumps({"kind": "error", "text": f"{name} could not be read: "
                                                    f"{_type_name(exc)}"})
        if len(text) > budget:
            text = _dumps({"kind": "unsupported", "text": f"{_type_name(value)} (too large "
                                                          f"to grade: {len(text)} bytes)"})
        budget -= len(text)
        parts.append(_dumps(name) + ":" + text)
    return "{" + ",".join(parts) + "}"


def _event(kind: str, exc: BaseException, filename: str, lines: list) -> dict:
    """Where and why the submission stopped early: type, message, line and its text."""
    try:
        message = str(exc)[:2000]
    except Exception:
        message = ""
    inner = outer = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            inner = tb.tb_lineno
            outer = outer or inner
        tb = tb.tb_next
    event = {"kind": kind, "type": _type_name(exc), "message": message, "line": inner,
             "toplevel_line": outer, "code": ""}
    if inner is not None and 0 < inner <= len(lines):
        event["code"] = lines[inner - 1].strip()[:300]
    if kind in ("raised", "memory"):
        try:
            import traceback
            tb = exc.__traceback__.tb_next  # drop this script's frame
            text = "".join(traceback.format_exception(type(exc), exc, tb))
            event["traceback"] = text[-10_000:]
            _write(2, event["traceback"].encode("utf-8", "replace"))
        except Exception:
            pass
    return event


def _apply_limits(limits: dict) -> None:
    """Memory, CPU time, file size and core dumps: hard limits the submission can't raise."""
    import resource
    import signal
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writing past the limit raises OSError
    for name, key in (("RLIMIT_AS", "memory_bytes"), ("RLIMIT_CPU", "cpu_seconds"),
                      ("RLIMIT_FSIZE", "file_bytes"), ("RLIMIT_CORE", "core_bytes")):
        if key in limits and hasattr(resource, name):
            which = getattr(resource, name)
            soft, hard = limits[key], limits[key] + (1 if key == "cpu_seconds" else 0)
            old_hard = resource.getrlimit(which)[1]
            if old_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, old_hard), min(hard, old_hard)
            resource.setrlimit(which, (soft, hard))


def main() -> None:
    config = json.loads(sys.argv[1])
    result_fd, path, names = config["result_fd"], config["submission"], config["names"]
    pid = os.getpid()
    _apply_limits(config.get("limits", {}))
    import site  # under -S this only defines helpers: no path changes
    getattr(site, "setquit", lambda: None)()    # exit() and quit(), as a script has them
    sys.path.extend(config.get("site_path", []))
    status, event = "ok", None
    namespace: dict = {}
    with open(path, "rb") as f:
        source = f.read()
    lines = source.decode("utf-8", "replace").split("\n")
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except Exception as exc:         # SyntaxError; ValueError (NUL bytes); RecursionError
        line = getattr(exc, "lineno", None)
        line = line if type(line) is int and 0 < line <= len(lines) else None
        text = getattr(exc, "text", None) or (lines[line - 1] if line else "")
        status = "syntax-error"
        event = {"kind": "syntax", "type": _type_name(exc), "line": line,
                 "message": str(getattr(exc, "msg", exc))[:500], "code": str(text).strip()[:300]}
        code = None
    if code is not None:
        import builtins
        import types
        module = types.ModuleType("__main__")
        namespace = module.__dict__
        namespace.update(__file__=path, __builtins__=builtins, __cached__=None)
        me = sys.modules["__main__"]
        sys.modules["__main__"] = module
        sys.argv[:] = [path]
        sys.path.insert(0, os.path.dirname(path))
        try:
            exec(code, namespace)
        except SystemExit as exc:
            event = _event("exit", exc, path, lines)
            c = exc.code
            event["exit_code"] = c if type(c) is int else (0 if c is None else 1)
            status = "ok" if event["exit_code"] == 0 else "raised"
        except MemoryError as exc:
            status, event = "memory", _event("memory", exc, path, lines)
        except BaseException as exc:
            status, event = "raised", _event("raised", exc, path, lines)
        sys.modules["__main__"] = me
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except BaseException:
                pass
    if os.getpid() != pid:           # a fork of the submission ran to here: stay silent
        os._exit(0)
    answers = encode_answers(namespace, names, config.get("answer_cap", 5 << 20))
    payload = ('{"protocol":1,"status":' + _dumps(status) + ',"event":'
               + _dumps(event, allow_nan=False) + ',"answers":' + answers + "}").encode()
    view = memoryview(payload)
    while view:
        view = view[_write(result_fd, view):]
    os.close(result_fd)
    os._exit(0)


if __name__ == "__main__":
    main()
