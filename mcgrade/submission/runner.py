"""Run a ``.py`` submission in a child process under limits and read back its answers.

SPEC §5: student code never runs in the grading process. Each run gets

* a fresh temporary working directory holding only a copy of the submission (same base
  name), which is also the script's directory on ``sys.path``: a student can't import a
  classmate's file from a batch folder, nor sibling helpers or data files of their own;
* ``sys.executable -I -S -X utf8`` and a minimal environment (HOME/TMPDIR in the work
  directory, numeric libraries single-threaded). ``-I``: no PYTHON* variables, no current
  directory on the path. ``-S`` alone would hide site-packages (and so numpy), so the
  child appends the grader's site directories, user site included, and the directories
  listed in their ``.pth`` files (``site_path``); the ``import`` lines of ``.pth`` files
  are not run. That makes start-up several times faster where ``.pth`` hooks are slow, and
  the child imports numpy and sympy from where the grader does. Packages that only work
  through a ``.pth`` import hook (new-style editable installs) are not importable;
* stdin from /dev/null, stdout and stderr merged into one pipe of which only the last
  ``output_cap`` bytes are kept (the rest is read and dropped, so printing never blocks),
  and the answers on a separate pipe (``pass_fds``) so printed text can't pose as them;
* resource limits set by the child itself before it reads the submission (address space
  ``memory_mb``, CPU ``ceil(timeout)+1`` s, 64 MiB per written file, no core dumps). They
  are not set in a ``preexec_fn``, which is unsafe when the grader has threads and prevents
  ``vfork``. ``RLIMIT_NPROC`` is deliberately not set: it counts every process and thread
  of the user (the grader's included, and numpy's BLAS threads), and root ignores it;
* a session of its own (``start_new_session``): at the wall-clock timeout, and also as soon
  as the child ends, the whole process group is sent SIGKILL, so forked helpers die too.
  The group is killed before the child is reaped, so its id can't have been reused.

A process that leaves the group (``setsid``) escapes the group kill, and the child can read
whatever the grader's user can: confining those (no network, a private PID namespace, no
view of the problem sets) is the job of the bubblewrap layer of SPEC §5.1.
Nothing here raises because of what a submission does: every outcome is a ``RunResult``.
"""

from __future__ import annotations

import functools
import json
import math
import os
import selectors
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterable

from mcgrade.submission.protocol import RunResult, event_note, read_payload

CHILD_SCRIPT = Path(__file__).with_name("_child.py")
ANSWER_CAP = 5 << 20          # bytes of encoded answers the child may send
RESULT_CAP = ANSWER_CAP + (1 << 20)
SOURCE_CAP = 5 << 20          # a larger .py file is refused unread
FILE_SIZE_LIMIT = 64 << 20    # RLIMIT_FSIZE for files the submission writes
DRAIN_GRACE = 0.25            # seconds to collect output after the child has ended
POLL = 0.05                   # exit polling period where pidfd_open is missing
_CHUNK = 1 << 16


def run_submission(path: str | os.PathLike[str], names: Iterable[str], *,
                   timeout: float = 10.0, memory_mb: int = 2048,
                   output_cap: int = 1 << 20) -> RunResult:
    """Run the Python file ``path`` as a script and return the values of ``names``.

    ``timeout`` is wall-clock seconds for the whole run (interpreter start included);
    ``memory_mb`` caps the child's address space; ``output_cap`` is how many bytes of its
    printed output are kept. Never raises for anything the submission does.
    """
    start = time.monotonic()
    label = Path(path).name or "submission"
    wanted = list(dict.fromkeys(str(n) for n in names))
    try:
        with open(path, "rb") as f:
            source = f.read(SOURCE_CAP + 1)
    except OSError as exc:
        return RunResult("unreadable", notes=(f"{label} could not be read: "
                                              f"{exc.strerror or exc}",))
    if len(source) > SOURCE_CAP:
        return RunResult("unreadable", notes=(f"{label} is larger than "
                                              f"{_size(SOURCE_CAP)}; it was not run",))
    workdir = tempfile.mkdtemp(prefix="mcgrade-run-")
    try:
        target = os.path.join(workdir, label)
        with open(target, "wb") as f:
            f.write(source)
        return _run(target, label, wanted, workdir, start, timeout, memory_mb,
                    max(0, output_cap))
    finally:
        _remove_tree(workdir)


def _run(target: str, label: str, names: list[str], workdir: str, start: float,
         timeout: float, memory_mb: int, output_cap: int) -> RunResult:
    cpu_seconds = max(1, math.ceil(timeout)) + 1
    out_r, out_w = os.pipe()
    res_r, res_w = os.pipe()
    config = {
        "submission": target, "names": names, "result_fd": res_w, "answer_cap": ANSWER_CAP,
        "limits": {"memory_bytes": memory_mb << 20, "cpu_seconds": cpu_seconds,
                   "file_bytes": FILE_SIZE_LIMIT, "core_bytes": 0},
        "site_path": list(_site_path()),
    }
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir,
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MPLBACKEND": "Agg"}
    argv = [sys.executable, "-I", "-S", "-X", "utf8", str(CHILD_SCRIPT), json.dumps(config)]
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
                                pass_fds=(res_w,), cwd=workdir, env=env,
                                start_new_session=True)
    except OSError as exc:
        os.close(out_r)
        os.close(res_r)
        return RunResult("internal-error", notes=(f"could not start {sys.executable} to run "
                                                  f"{label}: {exc}",))
    finally:
        os.close(out_w)
        os.close(res_w)
    try:
        result, tail, total, timed_out = _collect(proc, out_r, res_r, start + timeout,
                                                  output_cap)
    except BaseException:            # e.g. Ctrl-C in the grader: leave nothing running
        _kill_group(proc.pid)
        _reap(proc)
        raise
    returncode, cpu = _reap(proc)
    notes: list[str] = []
    if total > output_cap:
        notes.append(f"{label} printed {_size(total)}; only the last {_size(output_cap)} "
                     "were kept")
    output = tail.decode("utf-8", "replace")
    common = dict(output_tail=output, output_bytes=total, elapsed=time.monotonic() - start)
    if timed_out:
        return RunResult("timeout", notes=(f"{label} did not finish within {timeout:g} s; "
                                           "no answers were read", *notes), **common)
    why = "sent more answer data than allowed" if result is None else ""
    if result:
        try:
            status, event, answers = read_payload(bytes(result), names)
        except ValueError as exc:
            why = f"produced an unreadable result ({exc})"
        else:
            note = event_note(event, label, memory_mb)
            trace = event.get("traceback") if event else ""
            read = status != "syntax-error"
            return RunResult(status, answers=answers if read else {}, answers_read=read,
                             notes=tuple(filter(None, [note, *notes])),
                             traceback=trace if type(trace) is str else "", **common)
    status, line = _failure(label, returncode, cpu, cpu_seconds, memory_mb, why, tail)
    return RunResult(status, notes=(line, *notes), **common)


def _collect(proc: subprocess.Popen, out_r: int, res_r: int, deadline: float,
             output_cap: int) -> tuple[bytearray | None, bytearray, int, bool]:
    """Read both pipes until the child ends (or the deadline); kill its group either way.

    Returns (result bytes or None if over ``RESULT_CAP``, output tail, bytes printed,
    timed out).
    """
    result: bytearray | None = bytearray()
    tail, total = bytearray(), 0
    sel = selectors.DefaultSelector()
    streams = {out_r, res_r}
    for fd in streams:
        sel.register(fd, selectors.EVENT_READ)
    pidfd = _pidfd(proc.pid)
    if pidfd is not None:
        sel.register(pidfd, selectors.EVENT_READ)
    exited, timed_out, drain_until = False, False, 0.0
    try:
        while True:
            now = time.monotonic()
            if not exited and _has_exited(proc.pid):
                exited, drain_until = True, now + DRAIN_GRACE
                _kill_group(proc.pid)          # before reaping, so the id is still ours
            if exited:
                if not streams or now >= drain_until:
                    break
                wait = drain_until - now
            elif now >= deadline:
                timed_out = True
                _kill_group(proc.pid)
                break
            else:
                wait = deadline - now if pidfd is not None else min(deadline - now, POLL)
            for key, _ in sel.select(wait):
                if key.fd == pidfd:
                    sel.unregister(pidfd)      # exit is confirmed by _has_exited next turn
                    continue
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    sel.unregister(key.fd)
                    streams.discard(key.fd)
                elif key.fd == out_r:
                    total += len(chunk)
                    tail += chunk
                    if len(tail) > 2 * output_cap + _CHUNK:
                        del tail[:len(tail) - output_cap]
                elif result is not None:
                    result += chunk
                    if len(result) > RESULT_CAP:
                        result = None
    finally:
        sel.close()
        for fd in (out_r, res_r, pidfd):
            if fd is not None:
                os.close(fd)
    del tail[:len(tail) - output_cap]
    return result, tail, total, timed_out


def _failure(label: str, returncode: int | None, cpu: float, cpu_limit: int,
             memory_mb: int, why: str, tail: bytearray) -> tuple[str, str]:
    """(status, one-line note) for a child that ended without a usable result."""
    none = "no answers were read"
    if why:
        return "crashed", f"{label} {why}; {none}"
    memoryish = b"MemoryError" in tail or b"Cannot allocate memory" in tail
    if returncode is not None and returncode < 0:
        sig = -returncode
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= cpu_limit - 0.5):
            return "timeout", f"{label} used more than {cpu_limit - 1} s of CPU time; {none}"
        if sig == signal.SIGKILL or memoryish:
            return "memory", (f"{label} was killed, most likely for running out of memory "
                              f"(limit {memory_mb} MB); {none}")
        return "crashed", f"{label} was killed by {_signal_name(sig)}; {none}"
    if memoryish:
        return "memory", f"{label} ran out of memory (limit {memory_mb} MB); {none}"
    return "crashed", (f"{label} ended (exit code {returncode}) without reporting its "
                       f"answers, e.g. through os._exit() or an interpreter crash; {none}")


def _has_exited(pid: int) -> bool:
    """Whether the child has ended, without reaping it (its pid stays reserved)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(proc: subprocess.Popen) -> tuple[int | None, float]:
    """Reap the child: (its Popen-style return code, CPU seconds it used)."""
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except ChildProcessError:
        return proc.poll(), 0.0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)  # Linux ≥ 5.3: readable when the process ends
    except (AttributeError, OSError):
        return None


@functools.lru_cache(maxsize=None)
def _site_path() -> tuple[str, ...]:
    """The grader's site directories and their ``.pth`` path lines, in ``site``'s order.

    ``-S`` leaves these off the child's ``sys.path``; adding them back without running
    ``.pth`` code gives the child the grader's packages at a fraction of the start-up cost.
    """
    dirs = list(site.getsitepackages()) if hasattr(site, "getsitepackages") else []
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    path: list[str] = []
    for sitedir in dirs:
        if not os.path.isdir(sitedir) or sitedir in path:
            continue
        path.append(sitedir)
        for pth in sorted(Path(sitedir).glob("*.pth")):
            try:
                lines = pth.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            for line in map(str.strip, lines):
                if line and not line.startswith(("#", "import ", "import\t")):
                    full = os.path.normpath(os.path.join(sitedir, line))
                    if os.path.isdir(full) and full not in path:
                        path.append(full)
    return tuple(path)


def _signal_name(sig: int) -> str:
    try:
        name = signal.Signals(sig).name
        description = signal.strsignal(sig)
    except ValueError:
        return f"signal {sig}"
    return f"{name} ({description})" if description else name


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _remove_tree(path: str) -> None:
    """Delete the work directory, even if the submission made parts of it read-only."""
    try:
        shutil.rmtree(path)
    except OSError:
        try:
            os.chmod(path, 0o700)
        except OSError:
            pass
        for root, dirs, _files in os.walk(path):
            for name in dirs:
                full = os.path.join(root, name)
                if not os.path.islink(full):
                    try:
                        os.chmod(full, 0o700)
                    except OSError:
                        pass
        shutil.rmtree(path, ignore_errors=True)
