"""The portable sandbox's child: run one submission, report its answers (stdlib only).

Started by ``mcgrade.submission.portable`` as ``python -I -X utf8 _portable.py RESULT
WORKDIR`` with the job as JSON on standard input, once per submission, on any platform: no fork,
no namespaces, no Linux-only call. It runs the code (``_execute``, under an alarm that
works without ``SIGALRM`` too), then reads each answer under its own alarm, and writes the
same stream as the Linux runner (``armed``, ``ran``, one ``answer`` line per name,
``done``) to the file RESULT. What it prints goes to its standard output, kept apart.

This is for a student's local checks against a student copy, which holds no key: the
submission runs as the student, on the student's machine.
"""

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # -I leaves it out
import _execute  # noqa: E402  (the sibling child-side modules)
import _reading  # noqa: E402

del sys.path[0]

_dumps = json.dumps


def _limit(limits: "dict[str, int]") -> None:
    """CPU time, memory and file size, where the platform has ``resource`` (not Windows)."""
    try:
        import resource
    except ImportError:
        return
    for name, key in (("RLIMIT_CPU", "cpu_seconds"), ("RLIMIT_AS", "memory_bytes"),
                      ("RLIMIT_FSIZE", "file_bytes"), ("RLIMIT_CORE", "core_bytes")):
        which = getattr(resource, name, None)
        if which is None or key not in limits:
            continue
        try:
            hard = resource.getrlimit(which)[1]
            value = limits[key] if hard == resource.RLIM_INFINITY else min(limits[key], hard)
            resource.setrlimit(which, (value, hard))
        except (ValueError, OSError):
            pass                     # macOS refuses some limits: the parent's deadline holds


def _answers(job: "dict[str, Any]", namespace: "dict[str, Any]",
             write: "Callable[[str], None]") -> None:
    """One ``answer`` line per name, each value read (and each call made) within its
    name's budget."""
    left = {name: float(job["budgets"].get(name, job["timeout"])) for name in job["names"]}
    records: dict[str, list[str]] = {name: [] for name in job["names"]}
    budget = int(job["answer_cap"])
    items = _reading.items(job, namespace)
    for index, (name, call) in enumerate(items):
        if left[name] <= 0:
            text = _dumps({"kind": "timeout", "text": "not run: an earlier call ran out of time"})
        else:
            start = time.monotonic()
            disarm = _execute.arm(left[name])
            try:
                text = _reading.encode_item(job, namespace, name, call, budget,
                                            stop=(_execute.ScriptTimeout,))
            except _execute.ScriptTimeout:
                what = "this call" if call is not None else f"reading {name}"
                text = _dumps({"kind": "timeout",
                               "text": f"{what} did not finish within its time limit"})
                left[name] = 0.0
            finally:
                disarm()
            left[name] -= time.monotonic() - start
        budget -= len(text)
        line = _reading.answer_line(items, index, records, text)
        if line is not None:
            write(line)


def main() -> None:
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    # open for the whole run, its lines written as they happen (a kill keeps the prefix)
    result = open(sys.argv[1], "w", encoding="utf-8", newline="\n")  # noqa: SIM115

    def write(line: str) -> None:
        result.write(line + "\n")
        result.flush()

    workdir = sys.argv[2]
    _reading.enter(job, workdir)
    _limit(job["limits"])
    namespace, ipython_calls = _reading.module_namespace(job, workdir)
    write('{"t":"armed"}')
    status, events = _execute.run(job, namespace)
    if ipython_calls:
        events.append({"kind": "magic", "cell": None, "lines": [[0, c] for c in ipython_calls[:5]],
                       "more": max(0, len(ipython_calls) - 5)})
    try:
        head = _dumps({"t": "ran", "status": status, "events": events}, allow_nan=False)
    except Exception:
        head = _dumps({"t": "ran", "status": status, "events": []})
    write(head)
    if status != "syntax-error":
        _answers(job, namespace, write)
    write('{"t":"done"}')
    result.close()
    os._exit(0)


if __name__ == "__main__":
    main()
