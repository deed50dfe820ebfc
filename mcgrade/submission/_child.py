"""The worker: a warm zygote that forks one sandboxed child per submission.

Started by ``mcgrade.submission.pool`` as ``python -I -S -X utf8 _child.py '<config>'``
(inside bubblewrap where available). It imports only the standard library and its sibling
child-side modules (``_student_process``, ``_execute``, ``_encode``, ``_isolate``), never
``mcgrade``, then imports numpy and sympy once (``_preload``), warms them, and waits for
work on a control socket.

Three kinds of process, none of which the grader trusts:

* the **zygote** reads only small control messages: "run job J" with three descriptors
  (the job's input pipe, the result pipe, the output pipe) and "kill job J". It never
  reads a submission, so no submission is in the memory that later children inherit.
* the **supervisor** (one fork per job) reads its job from its own pipe, enters new
  namespaces (``_isolate``), forks the runner, relays the runner's byte stream (capped)
  and enforces the deadlines: the script's own plus one second before any answer, the
  job's total (script plus each answer's budget) before the rest. It then writes one JSON
  object, ``{"protocol": 3, "stream": …, "exit": …}``, followed by its length (the end
  marker the grader checks), and ends (``{"protocol": 3,
  "fault": …}`` if it could not confine the job as asked: a fault of this machine).
  Student code never runs in it, and the runner can't reach its descriptors (different
  namespace; not dumpable).
* the **runner** (``_student_process``; PID 1 of its namespace) runs the submission, then reads each
  answer in forked helpers, one per group of answers, each with its own time limit, and
  streams one JSON line per answer (``mcgrade.submission.protocol`` describes the lines).
  When it ends, the kernel kills every process it left behind.
"""

import gc
import json
import os
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

CONFIG = json.loads(sys.argv[1]) if __name__ == "__main__" else {}
sys.path.extend(CONFIG.get("site_path", []))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # -I leaves it out
import _isolate  # noqa: E402  (the sibling child-side modules)
import _landlock  # noqa: E402
import _seccomp  # noqa: E402
import _student_process  # noqa: E402

del sys.path[0]

PROTOCOL = 3                   # mcgrade.submission.protocol reads what we write
GRACE = 1.0                    # seconds past a deadline before the supervisor kills
JOB_CAP = 16 << 20             # bytes of one job description
_dumps = json.dumps


def _preload(modules: "list[str]") -> None:
    """Import and warm what submissions use, once, before any fork: numpy, and sympy
    unless the grader knows no submission will name it (``CONFIG["preload"]``). A child
    that imports something not preloaded still can, at its own cost."""
    import site  # under -S this only defines helpers
    getattr(site, "setquit", lambda: None)()  # exit() and quit(), as a script has them
    for name in ("ast", "linecache", "traceback", "tokenize", "io", "resource", "tempfile"):
        __import__(name)
    try:
        if "numpy" in modules:
            import numpy as np
            (np.ones((2, 2)) @ np.ones((2, 1))).tolist()
        if "sympy" in modules:
            import sympy as sp
            x = sp.Symbol("x")
            m = sp.ImmutableDenseMatrix([[x, sp.exp(x) / (1 + x**2)]])
            sp.srepr(m.T * 2), sp.diff(m, x), complex(sp.sqrt(2) * sp.pi)
    except ImportError:
        pass
    gc.collect()
    if hasattr(gc, "freeze"):
        gc.freeze()                          # fewer copy-on-write pages after each fork


def _read_all(fd: int, cap: int) -> bytes:
    chunks, size = [], 0
    while size <= cap:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    os.close(fd)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# --- the supervisor -----------------------------------------------------------------------

def _relay(pid: int, r: int, job: "dict[str, Any]", start: float) -> "tuple[bytearray, bool, str]":
    """The runner's stream (capped), whether it was cut, and which deadline killed it."""
    stream, cut, lines = bytearray(), False, 0
    first = start + float(job["timeout"]) + GRACE
    final = start + float(job["total"]) + GRACE
    sel = selectors.DefaultSelector()
    sel.register(r, selectors.EVENT_READ)
    killed = ""
    while True:
        ran = lines >= 2                     # "armed", then "ran" once the code is done
        wait = (final if ran else first) - time.monotonic()
        if wait <= 0 or not sel.select(wait):
            killed = "answers" if ran else "script"
            os.kill(pid, signal.SIGKILL)
            break
        chunk = os.read(r, 1 << 16)
        if not chunk:
            break
        if len(stream) + len(chunk) > job["answer_cap"] + (1 << 20):
            cut = True
            os.kill(pid, signal.SIGKILL)
            break
        stream += chunk
        lines += chunk.count(b"\n")
    sel.close()
    os.close(r)
    return stream, cut, killed


def _kill_descendants() -> None:
    """As a subreaper without namespaces: kill and reap everything left below us."""
    for _ in range(100):
        try:
            children: set[int] = set()
            for tid in os.listdir(f"/proc/{os.getpid()}/task"):
                with open(f"/proc/{os.getpid()}/task/{tid}/children") as f:
                    children.update(int(p) for p in f.read().split())
        except OSError:
            return
        if not children:
            return
        for child in children:
            try:
                os.kill(child, signal.SIGKILL)
                os.waitpid(child, 0)
            except OSError:
                pass


def _send_result(fd: int, result: "dict[str, Any]") -> None:
    """The result, then its length on a line of its own: the end marker that tells the
    grader it arrived whole (a supervisor killed mid-send leaves a result without it)."""
    data = _dumps(result).encode()
    _write_all(fd, data + b"\n%d\n" % len(data))


def _enter(job: "dict[str, Any]") -> "tuple[bool, str]":
    """The supervisor's own confinement, as the job asks (``job["confine"]``): whether it
    entered new namespaces, and why it could not do what was asked ("" when it did).

    With a uid as well (a root grader), the supervisor takes that uid first, so the
    namespace's user is that uid outside too. Without namespaces, the runner takes the uid
    itself and the supervisor stays root, out of its reach; the supervisor then makes the
    job's private working folder (``job["workdir"]``), and removes it when the job ends.
    """
    confine = job.get("confine") or {}
    if not confine.get("namespaces"):
        _isolate.not_dumpable()
        _isolate.become_subreaper()
        try:        # the job's folder: made here, given to its uid, removed here after
            job["workdir"] = tempfile.mkdtemp(prefix="mcgrade-run-")
            if confine.get("uid") is not None:
                os.chown(job["workdir"], int(confine["uid"]), int(confine["uid"]))
        except OSError as exc:
            return False, f"could not make its working folder ({exc})"
        return False, ""
    try:
        if confine.get("uid") is not None:
            _isolate.become(int(confine["uid"]))
            _isolate.die_with_parent()
        _isolate.enter_namespaces()
    except OSError as exc:
        return False, f"could not enter its namespaces ({exc})"
    return True, ""


def _supervise(job_r: int, res_w: int, out_w: int, zygote: int) -> None:
    start = time.monotonic()
    _isolate.die_with_parent()               # the worker is gone: so is the grader
    if os.getppid() != zygote:
        os._exit(0)
    job = json.loads(_read_all(job_r, JOB_CAP))
    isolated, fault = _enter(job)
    if fault:
        _send_result(res_w, {"protocol": PROTOCOL, "fault": fault})
        os._exit(0)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.close(res_w)
        if not isolated:
            os.setsid()
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        os.closerange(3, w)
        os.closerange(w + 1, 1 << 16)
        try:
            _student_process.run(job, w, isolated)
        finally:
            os._exit(70)
    os.close(w)
    os.close(out_w)
    stream, cut, killed = _relay(pid, r, job, start)
    _, status, usage = os.wait4(pid, 0)
    if not isolated:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        _kill_descendants()
        shutil.rmtree(job["workdir"], ignore_errors=True)   # no later job may read it
    code = os.waitstatus_to_exitcode(status)
    result = {"protocol": PROTOCOL, "stream": stream.decode("utf-8", "replace"),
              "truncated": cut, "namespaces": isolated,
              "exit": {"code": code if code >= 0 else None, "signal": -code if code < 0 else None,
                       "cpu": round(usage.ru_utime + usage.ru_stime, 3), "killed": killed}}
    _send_result(res_w, result)
    os._exit(0)


# --- the zygote ---------------------------------------------------------------------------

def _serve(control: socket.socket) -> None:
    jobs: dict[Any, int] = {}
    control.settimeout(1.0)
    while True:
        while jobs:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            jobs = {k: v for k, v in jobs.items() if v != pid}
        try:
            message, fds, _, _ = socket.recv_fds(control, 4096, 3)
        except TimeoutError:
            continue
        if not message:
            return                           # the grader is gone
        request = json.loads(message)
        if request["op"] == "run" and len(fds) == 3:
            zygote = os.getpid()
            pid = os.fork()
            if pid == 0:
                control.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                try:
                    _supervise(fds[0], fds[1], fds[2], zygote)
                finally:
                    os._exit(71)
            jobs[request["job"]] = pid
        elif request["op"] == "kill" and request["job"] in jobs:
            try:
                os.kill(jobs[request["job"]], signal.SIGKILL)
            except ProcessLookupError:
                pass
        for fd in fds:
            os.close(fd)


def _works(step: "Callable[[], object]") -> bool:
    """Whether ``step`` succeeds in a forked child (which then ends)."""
    pid = os.fork()
    if pid == 0:
        try:
            step()
            os._exit(0)
        except BaseException:
            os._exit(1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def _namespaces_usable() -> None:
    """What a job's processes do to isolate themselves, start to end (raises if refused):
    the supervisor's namespaces, then its child's private file system."""
    _isolate.enter_namespaces()
    pid = os.fork()
    if pid == 0:
        try:
            _isolate.private_files(1 << 20, [])
            os._exit(0)
        except BaseException:
            os._exit(1)
    if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0:
        raise OSError("the namespaces' file system could not be made private")


def _probe() -> "dict[str, Any]":
    """What the kernel lets a job use here, asked before any submission runs: the grader
    decides from it which layers every job must apply (and refuses if none hides a key).
    Each is tried in a forked child, as a job would use it."""
    root = os.geteuid() == 0
    job_uid = int(CONFIG.get("job_uid", _isolate.INNER_ID))
    own_uids = root and _works(lambda: _isolate.become(job_uid))
    other = job_uid if own_uids else _isolate.INNER_ID

    def as_other() -> None:
        _isolate.become(other)
        _namespaces_usable()

    def seccomp() -> None:
        _isolate.prctl(_isolate.PR_SET_NO_NEW_PRIVS, 1)
        _seccomp.deny()
    return {"euid": os.geteuid(), "landlock": _landlock.abi(), "seccomp": _works(seccomp),
            "own_uids": own_uids, "namespaces": _works(_namespaces_usable),
            "namespaces_as_other": root and _works(as_other)}


def main() -> None:
    _isolate.not_dumpable()
    control = socket.socket(fileno=CONFIG["control_fd"])
    _preload(CONFIG.get("preload", ["numpy", "sympy"]))
    control.sendall(_dumps({"op": "ready", "pid": os.getpid(), "probe": _probe()}).encode())
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)                      # start-up errors went to the grader; no more
    os.close(devnull)
    _serve(control)


if __name__ == "__main__":
    main()
