"""The warm worker pool when the machine, not the submission, fails.

A job whose result never arrives, or arrives cut short, is run again alone; a job lost twice is reported as the
machine's fault ("grade it again"), never as a mark. The worker outlives the thread that
started it (grade_file starts it from a helper thread) and dies with the grader's process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mcgrade.errors import SubmissionError
from mcgrade.model import Answer, Problem, ProblemSet
from mcgrade.submission import read_answers, read_many
from mcgrade.submission.pool import Pool, shared
from tests.test_hostile import SANDBOXES
from tests.test_submission_runner import _alive

PSET = ProblemSet("t", (Problem(id="a", kind="answer", answer="1"),), timeout=5.0)


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found.update(int(p) for p in f.read().split())
    except OSError:
        pass
    return found


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in _children(todo.pop()) - found:
            found.add(child)
            todo.append(child)
    return found


class SupervisorKiller:
    """Kills the process sandbox's job supervisors (the zygote's children) as they appear,
    ``times`` of them in all: a stand-in for a machine that loses jobs."""

    def __init__(self, times: int) -> None:
        self.zygote = shared("process")._proc.pid
        self.before = _children(self.zygote)      # jobs ending now are not ours to kill
        self.left = times
        self.killed = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        done = set(self.before)
        while self.left and not self.stop.is_set():
            for pid in _children(self.zygote) - done:
                if self.left and _alive(pid):          # not a zombie yet to be reaped
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        continue
                    done.add(pid)
                    self.left -= 1
                    self.killed += 1
            time.sleep(0.01)

    def __enter__(self) -> SupervisorKiller:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def _sleepers(tmp_path: Path, count: int, seconds: float = 0.5) -> list[Path]:
    paths = []
    for i in range(count):
        paths.append(tmp_path / f"s{i}.py")
        paths[-1].write_text(f"import time\ntime.sleep({seconds})\na = {i}\n")
    return paths


def test_a_lost_job_is_run_again_and_nobody_pays(tmp_path: Path) -> None:
    paths = _sleepers(tmp_path, 4)
    with SupervisorKiller(times=1) as killer:
        subs = list(read_many(paths, PSET, sandbox="process", jobs=2))
    assert killer.killed == 1
    assert [s.answers["a"] for s in subs] == [Answer("number", value=float(i)) for i in range(4)]
    assert all(not s.ungraded and not s.notes for s in subs)


def test_a_job_lost_twice_is_the_machines_fault_not_a_mark(tmp_path: Path) -> None:
    path, = _sleepers(tmp_path, 1)
    with SupervisorKiller(times=2) as killer:
        sub, = read_many([path], PSET, sandbox="process")
    assert killer.killed == 2, sub
    assert sub.ungraded == ("s0.py could not be graded: its sandbox ended twice without "
                            "a whole report (a fault of the grading machine, not of the "
                            "submission); grade it again")
    assert sub.answers["a"].kind == "error" and sub.notes == (sub.ungraded,)
    with SupervisorKiller(times=2), pytest.raises(SubmissionError, match="grade it again"):
        read_answers(path, PSET, sandbox="process")
    assert read_answers(path, PSET, sandbox="process").answers["a"].value == 0.0


class MidSendKiller:
    """Kills the job's supervisor while its result is on the way to the grader (once the
    first megabyte arrived), ``times`` times in all: a machine that cuts results short."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, times: int) -> None:
        self.left, self.killed = times, 0
        zygote = shared("process")._proc.pid
        original = Pool._on_ready
        cut: set[int] = set()                  # the flights cut off already

        def on_ready(pool: Pool, sel: object, flight: Any, fd: int) -> None:
            original(pool, sel, flight, fd)
            if self.left and id(flight) not in cut and flight.result is not None \
                    and len(flight.result) > 1 << 20:
                for pid in _children(zygote):
                    os.kill(pid, signal.SIGKILL)
                cut.add(id(flight))
                self.left -= 1
                self.killed += 1
        monkeypatch.setattr(Pool, "_on_ready", on_ready)


BIG = "import numpy\na = numpy.linspace(0, 1, 200_000) * 1e-7\n"  # a 4.5 MB answer


def test_a_result_cut_off_mid_send_is_run_again(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.py"
    path.write_text(BIG)
    honest, = read_many([path], PSET, sandbox="process")
    killer = MidSendKiller(monkeypatch, times=1)
    cut, = read_many([path], PSET, sandbox="process")
    assert killer.killed == 1
    assert cut == honest and not cut.ungraded


def test_a_result_cut_off_twice_is_the_machines_fault(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.py"
    path.write_text(BIG)
    killer = MidSendKiller(monkeypatch, times=2)
    sub, = read_many([path], PSET, sandbox="process")
    assert killer.killed == 2
    assert sub.ungraded.startswith("big.py could not be graded: its sandbox ended twice "
                                   "without a whole report")
    with pytest.raises(SubmissionError, match="grade it again"):
        MidSendKiller(monkeypatch, times=2)
        read_answers(path, PSET, sandbox="process")


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_a_worker_started_by_a_thread_outlives_the_thread(tmp_path: Path, sandbox: str) -> None:
    """grade_file runs the submission in a helper thread: the worker it starts must serve
    the next submission too (it used to die with the thread, losing jobs in flight)."""
    shared(sandbox).close()
    path, = _sleepers(tmp_path, 1, seconds=0)
    helper = threading.Thread(target=read_answers, args=(path, PSET), kwargs={"sandbox": sandbox})
    helper.start()
    helper.join()
    worker = shared(sandbox)._proc
    time.sleep(0.3)
    assert worker.poll() is None
    assert read_answers(path, PSET, sandbox=sandbox).answers["a"].value == 0.0
    assert shared(sandbox)._proc is worker


GRADER = textwrap.dedent("""
    import sys, threading
    from mcgrade.model import Problem, ProblemSet
    from mcgrade.submission import read_answers
    pset = ProblemSet("t", (Problem(id="a", kind="answer", answer="1"),), timeout=60.0)
    threading.Thread(target=read_answers, args=(sys.argv[1], pset),
                     kwargs={"sandbox": sys.argv[2]}).start()
""")


# How deep below the grader the submission's process is: zygote, supervisor, runner; under
# bwrap, its two processes come first.
RUNNER_DEPTH = {"process": 3, "bwrap": 5}


def _depth(pid: int) -> int:
    return 1 + max((_depth(child) for child in _children(pid)), default=0)


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_a_killed_grader_takes_its_worker_and_jobs_along(tmp_path: Path, sandbox: str) -> None:
    """SIGKILL the grading process while a submission runs: its worker, the job's
    supervisor and the submission all end, though nothing could tell them to."""
    path = tmp_path / "long.py"
    path.write_text("import time\ntime.sleep(60)\na = 1\n")
    grader = subprocess.Popen([sys.executable, "-c", GRADER, str(path), sandbox])
    try:
        deadline = time.monotonic() + 60
        while _depth(grader.pid) - 1 < RUNNER_DEPTH[sandbox]:
            assert time.monotonic() < deadline, "the submission never started"
            time.sleep(0.05)
        running = _descendants(grader.pid)
    finally:
        grader.send_signal(signal.SIGKILL)
        grader.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in running):
        time.sleep(0.05)
    assert not [pid for pid in running if _alive(pid)]


LIGHT = textwrap.dedent("""
    import sys
    from mcgrade.model import Problem, ProblemSet
    from mcgrade.submission import warm_up, read_answers
    pset = ProblemSet("t", (Problem(id="a", kind="answer", answer="1"),), timeout=60.0)
    warm_up(sys.argv[2], sys.argv[1])
    print(read_answers(sys.argv[1], pset, sandbox=sys.argv[2]).answers["a"])
""")


def test_the_worker_imports_sympy_only_for_code_that_names_it(tmp_path: Path) -> None:
    from mcgrade.submission import _preload_for
    plain, named = tmp_path / "plain.py", tmp_path / "named.py"
    plain.write_text("import numpy as np\na = np.ones(2)\n")
    named.write_text("import sympy as sp\na = sp.Integer(1)\n")
    assert _preload_for(plain) == ("numpy",)
    assert _preload_for(named) == ("numpy", "sympy")
    assert _preload_for(tmp_path / "missing.py") == ("numpy", "sympy")


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_a_submission_importing_what_the_worker_did_not_still_runs(tmp_path: Path,
                                                                   sandbox: str) -> None:
    """The worker skipped sympy (the code never spells it), yet the submission imports it:
    the child imports it itself, inside the sandbox, and its answer reads as usual."""
    path = tmp_path / "covert.py"
    path.write_text('sp = __import__("sym" + "py")\na = sp.Matrix([[sp.Symbol("x")]])\n')
    done = subprocess.run([sys.executable, "-c", LIGHT, str(path), sandbox],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("Answer(kind='sympy', text=\"ImmutableDenseMatrix("
                                   "[[Symbol('x')]])\", value=None, shape=(1, 1))")
