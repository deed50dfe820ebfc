"""The portable sandbox: a plain child process per submission, on any platform.

For students' local checks (a student copy holds no key): ``--sandbox subprocess``, and
what ``auto`` picks where the Linux sandbox can't run (macOS, Windows). Each job is a fresh
``python -I -X utf8 _portable.py`` — spawned, never forked — with its job on standard
input, a wall-clock deadline (its script's time plus each answer's budget, and a grace),
its output capped (the last ``output_cap`` bytes kept, the rest read and dropped), and its
process group killed at the end where the platform has them (on Windows, a process the
submission started may outlive it: this is the student's own machine). It hands back the same
``JobOutcome`` as the warm pool, built as a supervisor would build it, so ``to_result`` reads
both alike. No file is hidden from the submission: it runs as the student.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import IO, Any

from mcgrade.submission.jobs import Job, JobOutcome
from mcgrade.submission.protocol import PROTOCOL

CHILD = Path(__file__).with_name("_portable.py")
GRACE = 2.0                    # seconds past a job's own deadlines before it is killed


class PortablePool:
    """Runs jobs as spawned child processes (the warm pool's ``run``, without a worker)."""

    probe: dict[str, Any] = {}

    def run(self, jobs: Iterable[Job], concurrency: int = 1) -> Iterator[tuple[int, JobOutcome]]:
        """Run ``jobs``, at most ``concurrency`` at once; yield (index, outcome) as each ends."""
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as executor:
            running = {executor.submit(run_one, job): index for index, job in enumerate(jobs)}
            for done in as_completed(running):
                yield running[done], done.result()


class _Tail(threading.Thread):
    """Reads a pipe to its end, keeping its last ``cap`` bytes and counting them all."""

    def __init__(self, pipe: IO[bytes], cap: int) -> None:
        super().__init__(daemon=True)
        self.pipe, self.cap, self.total, self.kept = pipe, cap, 0, bytearray()
        self.start()

    def run(self) -> None:
        try:
            # a Popen pipe (bufsize -1) is a BufferedReader; typeshed says only IO[bytes]
            while chunk := self.pipe.read1(1 << 16):  # type: ignore[attr-defined]
                self.total += len(chunk)
                self.kept += chunk
                if len(self.kept) > 2 * self.cap + (1 << 16):
                    del self.kept[:len(self.kept) - self.cap]
        except (OSError, ValueError):        # closed under us: a survivor held it open
            pass

    def data(self) -> bytes:
        return bytes(self.kept[max(0, len(self.kept) - self.cap):])


def run_one(job: Job) -> JobOutcome:
    """One job in a fresh child process, to its end or its deadline."""
    with tempfile.TemporaryDirectory(prefix="mcgrade-", ignore_cleanup_errors=True) as folder:
        result, work = Path(folder, "result.jsonl"), Path(folder, "work")
        work.mkdir()
        start = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-I", "-X", "utf8", str(CHILD), str(result), str(work)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            cwd=folder, env=_environment(), **_own_group())
        assert child.stdin is not None and child.stdout is not None
        output = _Tail(child.stdout, job.output_cap)
        try:
            child.stdin.write(json.dumps(job.payload).encode("utf-8"))
            child.stdin.close()
        except OSError:
            pass                                 # it ended already: its exit says why
        killed = ""
        try:
            code = child.wait(timeout=float(job.payload["total"]) + GRACE)
        except subprocess.TimeoutExpired:
            killed = "answers" if _lines(result) >= 2 else "script"
        _kill_group(child)
        code = child.wait()
        output.join(timeout=GRACE)           # a process it started may hold the pipe open
        child.stdout.close()
        stream = result.read_bytes() if result.exists() else b""
        cap = int(job.payload["answer_cap"]) + (1 << 20)
        report = {"protocol": PROTOCOL,
                  "stream": stream[:cap].decode("utf-8", "replace"),
                  "truncated": len(stream) > cap, "namespaces": False,
                  "exit": {"code": code if code >= 0 else None,
                           "signal": -code if code < 0 else None, "cpu": 0.0,
                           "killed": killed}}
        return JobOutcome(json.dumps(report).encode("utf-8"), output.data(), output.total,
                       time.monotonic() - start)


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


def _environment() -> dict[str, str]:
    """The child's environment: the grader's (Windows needs SYSTEMROOT and friends), with
    single-threaded numerical libraries and a plotting backend that opens no window."""
    return {**os.environ, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8"}


def _own_group() -> dict[str, Any]:
    """Popen options that give the child a process group of its own, to end it whole."""
    if os.name == "posix":
        return {"start_new_session": True}
    return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """End the child and, where the platform has process groups, all it started."""
    if os.name == "posix":
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except OSError:
            pass
    if child.poll() is None:
        child.kill()
