"""A warm worker pool: one zygote per sandbox kind, one forked child per submission.

The zygote (``_child.py``) imports numpy and sympy once; each job then costs a fork, not an
interpreter (SPEC §7). The parent side here never reads anything from the worker but the
"ready" message, each job's result pipe (the supervisor's JSON, capped) and its output pipe
(only the last ``output_cap`` bytes are kept). It writes each job to a pipe of its own, so
the zygote's memory, which every child inherits, never holds a submission.

Deadlines are enforced twice: by the supervisor inside the sandbox, and here (a job's
total plus a grace) by asking the zygote to kill it. If the worker dies, it is restarted;
the jobs that were in flight are run again, one at a time, and only a job that kills the
worker while running alone is given up ("the grading worker died while it ran"). A job
whose supervisor ends without writing its whole result (which student code cannot cause:
the supervisor is outside its reach; a result is whole when its end marker, its length,
checks out) is run again alone too; if that fails as well, the job is "lost": a fault of
this machine, reported as such, never as a mark.

A pool may be used from several threads (``grade_file`` runs a submission in a helper
thread while the problem set compiles): starting and stopping the worker hold a lock.
"""

from __future__ import annotations

import atexit
import collections
import itertools
import json
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from mcgrade.submission.jobs import Job, JobOutcome
from mcgrade.submission.sandbox import PRELOAD, worker_command

START_TIMEOUT = 120.0          # seconds for a worker to import numpy and sympy
GRACE = 2.5                    # past the supervisor's own deadlines (which add 1 s)
RESULT_CAP = 16 << 20          # bytes of one supervisor result (its stream JSON-escaped)
_CHUNK = 1 << 16


class WorkerUnavailable(Exception):
    """The worker could not be started; the message is one line saying why."""


@dataclass
class _Flight:
    index: int
    job: Job
    alone: bool
    data: bytes
    start: float
    deadline: float
    fds: dict[str, int] = field(default_factory=dict)
    offset: int = 0
    result: bytearray | None = field(default_factory=bytearray)
    tail: bytearray = field(default_factory=bytearray)
    total: int = 0
    result_done: float = 0.0


class Pool:
    """A zygote of one sandbox kind ("process" or "bwrap"), started on first use."""

    def __init__(self, sandbox: str) -> None:
        self.sandbox = sandbox
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._ids = itertools.count(1)
        self._owner = os.getpid()
        self._launched: tuple[subprocess.Popen[bytes], socket.socket, Any, float] | None = None
        self._lock = threading.RLock()
        self.probe: dict[str, Any] = {}     # what the kernel lets jobs use (the worker's)

    # --- the worker --------------------------------------------------------------------

    def launch(self, preload: Sequence[str] = PRELOAD) -> None:
        """Start the worker's interpreter without waiting for it to be ready, so that it
        imports ``preload`` while the grader does other work (compiling the problem set).
        ``start`` waits for it."""
        with self._lock:
            if self.alive() or self._launched is not None:
                return
            self.close()
            parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            errors = tempfile.TemporaryFile()  # noqa: SIM115  (the worker's stderr, kept open)
            try:
                argv, env = worker_command(self.sandbox, child.fileno(), preload)
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=errors,
                                        pass_fds=(child.fileno(),), env=env, cwd="/",
                                        start_new_session=True)
            except OSError as exc:
                parent.close()
                errors.close()
                raise WorkerUnavailable(f"could not start {exc.filename or 'the worker'}: "
                                        f"{exc.strerror or exc}") from None
            finally:
                child.close()
            self._launched = (proc, parent, errors, time.monotonic() + START_TIMEOUT)

    def start(self) -> None:
        """Start the worker unless it runs, and wait until it is ready; WorkerUnavailable
        if it can't start."""
        with self._lock:
            if self.alive():
                return
            self.launch()
            assert self._launched is not None
            proc, parent, errors, deadline = self._launched
            self._launched = None
            message = b""
            while time.monotonic() < deadline and proc.poll() is None:
                parent.settimeout(0.05)
                try:
                    message = parent.recv(4096)
                    break
                except TimeoutError:
                    continue
            parent.settimeout(None)
            if not message.startswith(b'{"op": "ready"'):
                _stop(proc)
                parent.close()
                errors.seek(0)
                lines = errors.read(1 << 16).decode("utf-8", "replace").strip().splitlines()
                why = lines[-1] if lines else f"it exited with code {proc.returncode}"
                raise WorkerUnavailable(why[:300])
            errors.close()
            self.probe = _probe_of(message)
            self._proc, self._sock, self._owner = proc, parent, os.getpid()

    def alive(self) -> bool:
        return (self._proc is not None and self._owner == os.getpid()
                and self._proc.poll() is None)

    def close(self) -> None:
        if self._owner != os.getpid():      # a forked copy of the grader: not ours to stop
            self._proc = self._sock = None
            self._launched = None
            return
        with self._lock:
            if self._launched is not None:
                proc, parent, errors, _ = self._launched
                _stop(proc)
                parent.close()
                errors.close()
                self._launched = None
            if self._sock is not None:
                self._sock.close()
            if self._proc is not None:
                _stop(self._proc)
            self._proc = self._sock = None

    # --- jobs --------------------------------------------------------------------------

    def run(self, jobs: Iterable[Job], concurrency: int = 1) -> Iterator[tuple[int, JobOutcome]]:
        """Run ``jobs``, at most ``concurrency`` at once; yield (index, outcome) as each ends."""
        pending = collections.deque(enumerate(jobs))
        retry: collections.deque[tuple[int, Job]] = collections.deque()
        flights: dict[int, _Flight] = {}
        sel = selectors.DefaultSelector()
        try:
            while pending or retry or flights:
                self.start()
                if retry and not flights:
                    self._launch(sel, flights, *retry.popleft(), alone=True)
                while not retry and pending and len(flights) < max(1, concurrency):
                    self._launch(sel, flights, *pending.popleft(), alone=False)
                now = time.monotonic()
                wait = min([0.2] + [f.deadline - now for f in flights.values()])
                for key, _ in sel.select(max(0.0, wait)):
                    self._on_ready(sel, key.data, key.fd)
                now, dead = time.monotonic(), not self.alive()
                for jid, flight in list(flights.items()):
                    out_done = "out" not in flight.fds
                    ended = flight.result_done and (out_done or now > flight.result_done + 0.25)
                    body = whole(flight.result) if ended and flight.result is not None else None
                    # its supervisor said nothing, or was cut off mid-send: not the job's doing
                    lost = ended and flight.result is not None and body is None
                    if not (ended or dead or now > flight.deadline):
                        continue
                    del flights[jid]
                    _close(sel, flight)
                    if ended and not lost:
                        yield flight.index, self._outcome(flight, "", body)
                    elif not (dead or lost):
                        self._send({"op": "kill", "job": jid})
                        yield flight.index, self._outcome(flight, "deadline")
                    elif not flight.alone:     # a dead worker or a lost job: not the job's doing
                        retry.append((flight.index, flight.job))
                    else:
                        yield flight.index, self._outcome(flight, "worker" if dead else "lost")
        finally:
            for flight in flights.values():
                _close(sel, flight)
            sel.close()

    def _launch(self, sel: selectors.BaseSelector, flights: dict[int, _Flight], index: int,
                job: Job, alone: bool) -> None:
        jid = next(self._ids)
        job_r, job_w = os.pipe()
        res_r, res_w = os.pipe()
        out_r, out_w = os.pipe()
        start = time.monotonic()
        flight = _Flight(index, job, alone, json.dumps(job.payload).encode(), start,
                         start + float(job.payload["total"]) + GRACE,
                         {"job": job_w, "res": res_r, "out": out_r})
        try:
            socket.send_fds(cast(socket.socket, self._sock),  # run() started it just before
                            [json.dumps({"op": "run", "job": jid}).encode()],
                            [job_r, res_w, out_w])
        except OSError:
            flight.deadline = start          # the worker is gone: handled as its death
        finally:
            for fd in (job_r, res_w, out_w):
                os.close(fd)
        for name, fd in flight.fds.items():
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_WRITE if name == "job" else selectors.EVENT_READ,
                         flight)
        flights[jid] = flight

    def _on_ready(self, sel: selectors.BaseSelector, flight: _Flight, fd: int) -> None:
        name = next(k for k, v in flight.fds.items() if v == fd)
        try:
            if name == "job":
                flight.offset += os.write(fd, flight.data[flight.offset:flight.offset + _CHUNK])
                if flight.offset < len(flight.data):
                    return
                chunk = b""
            else:
                chunk = os.read(fd, _CHUNK)
        except BlockingIOError:
            return
        except OSError:                       # the reader went away
            chunk = b""
        if not chunk:
            sel.unregister(fd)
            os.close(fd)
            del flight.fds[name]
            if name == "res":
                flight.result_done = time.monotonic()
        elif name == "res" and flight.result is not None:
            flight.result += chunk
            if len(flight.result) > RESULT_CAP:
                flight.result = None
        elif name == "out":
            cap = flight.job.output_cap
            flight.total += len(chunk)
            flight.tail += chunk
            if len(flight.tail) > 2 * cap + _CHUNK:
                del flight.tail[:len(flight.tail) - cap]

    def _outcome(self, flight: _Flight, failure: str, body: bytes | None = None) -> JobOutcome:
        """The job's outcome; ``body``: its whole result (``whole``), when it ended."""
        tail = flight.tail
        del tail[:max(0, len(tail) - flight.job.output_cap)]
        if flight.result is None and not failure:
            failure = "overflow"
        return JobOutcome(None if failure else body, bytes(tail), flight.total,
                       time.monotonic() - flight.start, failure)

    def _send(self, message: dict[str, Any]) -> None:
        try:            # a closed pool's socket is None: the AttributeError is caught
            self._sock.send(json.dumps(message).encode())  # type: ignore[union-attr]
        except (OSError, AttributeError):
            pass


def whole(result: bytes | bytearray) -> bytes | None:
    """A supervisor's result without its end marker (its length on the last line), or None
    if the marker is missing or wrong: the result was cut off, by a fault of the machine."""
    body, newline, marker = bytes(result).rstrip(b"\n").rpartition(b"\n")
    if not newline or not marker.isdigit() or int(marker) != len(body):
        return None
    return body


def _probe_of(ready: bytes) -> dict[str, Any]:
    """The worker's answer to "what may jobs use here" from its ready message (read before
    any submission ran, so trusted); {} if it has none."""
    try:
        probe = json.loads(ready).get("probe")
    except ValueError:
        return {}
    return probe if isinstance(probe, dict) else {}


def _close(sel: selectors.BaseSelector, flight: _Flight) -> None:
    for fd in flight.fds.values():
        sel.unregister(fd)
        os.close(fd)
    flight.fds.clear()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, 9)
    except OSError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


_POOLS: dict[str, Pool] = {}
_UNAVAILABLE: dict[str, str] = {}


def _this_process_pool(sandbox: str) -> Pool:
    """The pool for ``sandbox`` owned by this process (a forked grader gets its own)."""
    pool = _POOLS.get(sandbox)
    if pool is None or pool._owner != os.getpid():
        pool = _POOLS[sandbox] = Pool(sandbox)
    return pool


def linux_sandbox_missing() -> str:
    """Why the warm pool can't run here ("" when it can): it forks, passes descriptors on
    Unix sockets and isolates with Linux system calls."""
    if not sys.platform.startswith("linux"):
        return f"the Linux sandbox needs Linux; this is {sys.platform}"
    missing = [name for name, there in (("os.fork", hasattr(os, "fork")),
                                        ("socket.SOCK_SEQPACKET",
                                         hasattr(socket, "SOCK_SEQPACKET")),
                                        ("socket.send_fds", hasattr(socket, "send_fds")))
               if not there]
    return f"this Python has no {', '.join(missing)}" if missing else ""


def launch(sandbox: str, preload: Sequence[str] = PRELOAD) -> None:
    """Start the process-wide worker for ``sandbox`` in the background (see Pool.launch);
    a worker that can't start is reported later, by ``shared``."""
    if sandbox in _UNAVAILABLE or sandbox == "subprocess" or linux_sandbox_missing():
        return
    try:
        _this_process_pool(sandbox).launch(preload)
    except WorkerUnavailable as exc:
        _UNAVAILABLE[sandbox] = str(exc)


def shared(sandbox: str) -> Any:
    """The process-wide pool for ``sandbox`` ("process" or "bwrap"), started; for
    "subprocess", the portable pool (``mcgrade.submission.portable``).

    Raises WorkerUnavailable (remembered, so later calls fail at once).
    """
    if sandbox == "subprocess":
        from mcgrade.submission.portable import PortablePool
        return PortablePool()
    if sandbox not in _UNAVAILABLE and linux_sandbox_missing():
        _UNAVAILABLE[sandbox] = linux_sandbox_missing()
    if sandbox in _UNAVAILABLE:
        raise WorkerUnavailable(_UNAVAILABLE[sandbox])
    pool = _this_process_pool(sandbox)
    try:
        pool.start()
    except WorkerUnavailable as exc:
        _UNAVAILABLE[sandbox] = str(exc)
        raise
    return pool


@atexit.register
def _close_all() -> None:
    for pool in _POOLS.values():
        pool.close()
