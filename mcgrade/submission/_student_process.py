"""The submission's own process: run its code, then read every answer (stdlib only).

Forked by the supervisor (``_child.py``) as PID 1 of the job's namespaces. ``run`` sets up
the private working directory, applies the layers the grader asked for (a uid of its own,
Landlock), drops every privilege, applies the limits, runs the code (``_execute``) and
writes the result stream: an ``armed`` line (or a ``fault`` line, and nothing runs), a
``ran`` line, one ``answer`` line per name, ``done``. Values are read, and functions
called, in forked helpers with per-answer time limits, so a value whose ``__float__`` or
``__repr__`` hangs, or a function that loops or crashes, costs that answer only. Student
code can rewrite anything in this process; that only spoils its own answers, which the
parent validates as untrusted data.
"""

import json
import os
import selectors
import signal
import sys
import time
from typing import Any

import _execute
import _isolate
import _landlock
import _reading
import _seccomp

_dumps = json.dumps


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _prepare(job: "dict[str, Any]",
             isolated: bool) -> "tuple[dict[str, Any], list[str], list[str]]":
    """Working directory, privileges, limits and the submission's module namespace."""
    missing: list[str] = []
    if isolated:
        missing = _isolate.private_files(job["limits"]["tmp_bytes"], sys.path)
        workdir = "/tmp/" + job["workname"]
        os.mkdir(workdir, 0o700)
    else:
        workdir = job["workdir"]             # the supervisor's, given to our uid
    _reading.enter(job, workdir)
    confine = job.get("confine") or {}
    _confine(confine, workdir, isolated)
    _isolate.die_with_parent()
    limits = dict(job["limits"])
    if not isolated and not confine.get("own_uid"):
        limits.pop("processes", None)        # RLIMIT_NPROC would count the whole user
    _isolate.apply_limits(limits)
    namespace, ipython_calls = _reading.module_namespace(job, workdir)
    return namespace, missing, ipython_calls


def _confine(confine: "dict[str, Any]", workdir: str, isolated: bool) -> None:
    """The layers the grader asked for (``job["confine"]``), all of them or ``OSError``:
    a uid of the submission's own (when the supervisor, outside namespaces, is root), no
    privileges, Landlock (read only the Python installation, write only ``workdir``) and
    seccomp (no new socket). The ruleset is built while its paths can still be opened."""
    landlock = confine.get("landlock")
    rules = None
    if landlock is not None:
        rules = _landlock.ruleset(list(landlock["read"]), [workdir, *landlock["write"]])
    uid = confine.get("uid")
    if uid is not None and not isolated:     # in namespaces, the supervisor took it
        for name in os.listdir(workdir):
            os.chown(os.path.join(workdir, name), uid, uid)
        _isolate.drop_bounding_set()         # while root can
        _isolate.become(int(uid))
    _isolate.drop_privileges()
    if rules is not None:
        _landlock.restrict(rules)
    if confine.get("seccomp"):
        _seccomp.deny()


def _helper(job: "dict[str, Any]", namespace: "dict[str, Any]",
            items: "list[tuple[str, int | None]]", start: int, fd: int, budget: int) -> None:
    """Encode items from ``start`` on, one JSON line each, then exit (a forked process)."""
    signal.setitimer(signal.ITIMER_REAL, 0)
    for name, call in items[start:]:
        text = _reading.encode_item(job, namespace, name, call, budget)
        budget -= len(text)
        _write_all(fd, text.encode() + b"\n")
    os._exit(0)


_LIBRARIES = ("builtins", "numpy", "sympy")


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether reading ``value`` runs only builtins', numpy's and sympy's own code.

    Such values are read in this process; anything else (a class of the submission's, an
    object array holding one) in a forked helper with a time limit, saving a fork.
    """
    t = type(value)
    try:
        module = type.__dict__["__module__"].__get__(t, type)
    except Exception:
        return False
    if type(module) is not str or module.split(".")[0] not in _LIBRARIES or depth > 40:
        return False
    if t is list or t is tuple:
        return all(_plain(v, depth + 1) for v in (list.__iter__(value) if t is list
                                                  else tuple.__iter__(value)))
    if module == "numpy" and t.__name__ == "ndarray" and value.dtype.kind == "O":
        return value.size <= 10_000 and all(_plain(v, depth + 1) for v in value.ravel().tolist())
    return True


def _answers(job: "dict[str, Any]", namespace: "dict[str, Any]", out: int) -> None:
    """Stream ``{"t": "answer", ...}`` lines: each value read within its name's budget."""
    items = _reading.items(job, namespace)
    left = {name: float(job["budgets"].get(name, job["timeout"])) for name in job["names"]}
    records: dict[str, list[str]] = {name: [] for name in job["names"]}
    budget, i = int(job["answer_cap"]), 0

    def finish(index: int, text: str) -> None:
        line = _reading.answer_line(items, index, records, text)
        if line is not None:
            _write_all(out, line.encode() + b"\n")

    while i < len(items):
        name, call = items[i]
        if call is None and _plain(namespace.get(name)):
            text = _reading.encode_item(job, namespace, name, None, budget)
            budget -= len(text)
            finish(i, text)
            i += 1
            continue
        r, w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            for index in range(i, len(items)):
                finish(index, _dumps({"kind": "error", "text": "could not be read: no process "
                                                               "left to read it in"}))
            return
        if pid == 0:
            os.close(r)
            _helper(job, namespace, items, i, w, budget)
        os.close(w)
        buffer, started = b"", time.monotonic()
        while i < len(items):
            name = items[i][0]
            ready = selectors.DefaultSelector()
            ready.register(r, selectors.EVENT_READ)
            wait = left[name] - (time.monotonic() - started)
            events = ready.select(max(0.0, wait)) if wait > 0 else []
            ready.close()
            chunk = os.read(r, 1 << 16) if events else None
            if chunk:
                buffer += chunk
                while b"\n" in buffer and i < len(items):
                    line, buffer = buffer.split(b"\n", 1)
                    now = time.monotonic()
                    left[items[i][0]] -= now - started
                    started = now
                    budget -= len(line)
                    finish(i, line.decode("utf-8", "replace"))
                    i += 1
                continue
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            if chunk is None:        # out of time
                left[name] = 0.0
                why = "did not finish within its time limit"
                what = "this call" if items[i][1] is not None else f"reading {name}"
                text = _dumps({"kind": "timeout", "text": f"{what} {why}"})
            else:                    # the helper ended without answering
                how = (f"was killed by signal {-os.waitstatus_to_exitcode(status)}"
                       if os.WIFSIGNALED(status) else "ended the process (os._exit)")
                text = _dumps({"kind": "error", "text": f"{name}: reading it {how}"})
            finish(i, text)
            i += 1
            while i < len(items) and items[i][0] == name and left[name] <= 0:
                finish(i, _dumps({"kind": "timeout", "text": "not run: an earlier call "
                                                             "ran out of time"}))
                i += 1
            break
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(r)


def _reap_all() -> None:
    """As PID 1 of our namespace: kill every other process in it and reap them."""
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except OSError:
            return


def run(job: "dict[str, Any]", out: int, isolated: bool) -> None:
    """Confine this process, say so ("armed": only after it may student code run, so the
    line can't come from it), run the code, report. A confinement that fails is reported
    as a fault of this machine, and no student code runs."""
    me = os.getpid()
    try:
        namespace, missing, ipython_calls = _prepare(job, isolated)
    except OSError as exc:
        _write_all(out, _dumps({"t": "fault", "text": str(exc)[:300]}).encode() + b"\n")
        os._exit(0)
    _write_all(out, b'{"t":"armed"}\n')
    status, events = _execute.run(job, namespace)
    if os.getpid() != me:            # a fork of the submission ran to here: stay silent
        os._exit(0)
    if isolated and me == 1:         # what the code left running (in our namespace only)
        _reap_all()
    if ipython_calls:
        events.append({"kind": "magic", "cell": None, "lines": [[0, c] for c in ipython_calls[:5]],
                       "more": max(0, len(ipython_calls) - 5)})
    try:
        head = _dumps({"t": "ran", "status": status, "events": events,
                       "isolation": {"namespaces": isolated, "missing": missing}},
                      allow_nan=False)
    except Exception:
        head = _dumps({"t": "ran", "status": status, "events": []})
    _write_all(out, head.encode() + b"\n")
    if status != "syntax-error":
        _answers(job, namespace, out)
    _write_all(out, b'{"t":"done"}\n')
    os._exit(0)
