"""Real-subprocess tests of running a .py submission and reading its answers back."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import textwrap
import time
import venv
from pathlib import Path

import pytest

from mcgrade.model import Answer
from mcgrade.submission.protocol import RunResult, decode, read_result
from mcgrade.submission.runner import run_submission
from tests.test_hostile import SANDBOXES


def run(tmp_path: Path, source: str, names: str, name: str = "hw1.py", **kw) -> RunResult:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return run_submission(path, names.split(), **kw)


def test_values_of_each_kind_come_back(tmp_path: Path) -> None:
    r = run(tmp_path, """
        import numpy as np
        s = "x.T @ W"
        n = 2.5
        k = np.float32(0.5)
        inf = -float("inf")
        col = [[1], [2], [3]]
        arr = np.arange(6).reshape(2, 3)
        flat = np.array([1.5, float("nan")])
        tup = (3, 2)
        dims = ("m", "n")
        z = 1 + 2j
        flag = True
        nothing = None
        fn = lambda w: w
        ragged = [[1], [2, 3]]
        cube = np.zeros((2, 2, 2))
    """, "s n k inf col arr flat tup dims z flag nothing fn ragged cube")
    assert r.status == "ok" and r.answers_read and r.notes == ()
    a = r.answer
    assert a("s") == Answer("string", text="x.T @ W")
    assert a("n") == Answer("number", value=2.5)
    assert a("k") == Answer("number", value=0.5)
    assert a("inf").value == -math.inf
    assert a("col") == Answer("array", value=(1.0, 2.0, 3.0), shape=(3, 1))
    assert a("arr") == Answer("array", value=(0.0, 1.0, 2.0, 3.0, 4.0, 5.0), shape=(2, 3))
    assert a("flat").shape == (2,) and math.isnan(a("flat").value[1])
    assert a("tup") == Answer("array", value=(3.0, 2.0), shape=(2,))
    assert a("tup", expect_shape=True) == Answer("shape", value=(3, 2))
    assert a("dims", expect_shape=True) == Answer("shape", value=("m", "n"))
    assert a("dims").kind == "unsupported"
    assert a("z").kind == "complex" and a("z").value == 1 + 2j
    assert a("flag") == Answer("unsupported", text="bool")
    assert a("nothing").kind == "missing" and "None" in a("nothing").text
    assert a("fn") == Answer("unsupported", text="function")
    assert a("ragged").kind == "unsupported" and "ragged" in a("ragged").text
    assert a("cube") == Answer("array", value=(0.0,) * 8, shape=(2, 2, 2))


def test_a_missing_name(tmp_path: Path) -> None:
    r = run(tmp_path, "a = 'x'\n", "a b")
    assert r.status == "ok"
    assert r.answer("b") == Answer("missing")
    with pytest.raises(KeyError):
        r.answer("never_asked")


def test_raising_part_way_keeps_earlier_answers(tmp_path: Path) -> None:
    r = run(tmp_path, """
        a = "2*x"
        def f():
            return 1 / 0
        b = f()
        c = "late"
    """, "a b c")
    assert r.status == "raised"
    assert r.answer("a") == Answer("string", text="2*x")
    assert r.answer("c").kind == "error"
    (note,) = r.notes
    assert "hw1.py raised ZeroDivisionError: division by zero" in note
    assert "line 4 (`return 1 / 0`), called from line 5" in note
    assert "ZeroDivisionError" in r.traceback and "_child" not in r.traceback


def test_syntax_error_names_line_and_text(tmp_path: Path) -> None:
    r = run(tmp_path, "a = 'x'\nb = = 2\n", "a b")
    assert r.status == "syntax-error" and not r.answers_read
    assert re.search(r"hw1\.py, line 2: .*`b = = 2`", r.headline)
    assert r.answer("a").kind == "error" and "line 2" in r.answer("a").text


def test_sys_exit_still_lets_answers_be_read(tmp_path: Path) -> None:
    r = run(tmp_path, "import sys\na = 'x'\nsys.exit(0)\n", "a")
    assert r.status == "ok" and r.answer("a").text == "x"
    assert "sys.exit(0) at line 3" in r.notes[0]
    r = run(tmp_path, "import sys\na = 'x'\nsys.exit('bad')\n", "a")
    assert r.status == "raised" and r.answer("a").text == "x"


def test_main_block_runs_as_a_script(tmp_path: Path) -> None:
    r = run(tmp_path, """
        import sys
        if __name__ == "__main__":
            a = __file__.endswith("hw1.py") and sys.argv[0] == __file__
        b = input()
    """, "a b")
    assert r.status == "raised" and "EOFError" in r.headline       # stdin is /dev/null
    assert r.answer("a").kind == "unsupported"                         # True: a bool
    assert r.answers["a"] == {"kind": "unsupported", "text": "bool"}


def test_os_exit_gives_a_clear_note(tmp_path: Path) -> None:
    r = run(tmp_path, "import os\na = 'x'\nos._exit(0)\n", "a")
    assert r.status == "crashed" and not r.answers_read
    assert "os._exit" in r.headline and "no answers were read" in r.headline
    assert r.answer("a").kind == "error"


def test_infinite_loop_times_out_and_keeps_earlier_answers(tmp_path: Path) -> None:
    t = time.monotonic()
    r = run(tmp_path, "a = 'x'\nwhile True:\n    pass\nb = 1\n", "a b", timeout=1.0)
    assert time.monotonic() - t < 1.8
    assert r.status == "timeout" and r.answers_read
    assert r.headline == ("hw1.py did not finish within 1 s: stopped at line 2 (`while True:`); "
                          "answers defined before it were read")
    assert r.answer("a") == Answer("string", text="x")
    assert r.answer("b") == Answer("timeout", text="b was not defined before the time ran "
                                                   "out: hw1.py did not finish within 1 s: "
                                                   "stopped at line 2 (`while True:`)")


def test_a_loop_that_ignores_the_alarm_is_killed(tmp_path: Path) -> None:
    t = time.monotonic()
    r = run(tmp_path, """
        import signal
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        a = 'x'
        while True:
            pass
    """, "a", timeout=1.0)
    assert time.monotonic() - t < 2.8
    assert r.status == "timeout" and not r.answers_read
    assert r.headline == "hw1.py did not finish within 1 s; no answers were read"
    assert r.answer("a") == Answer("timeout", text=r.headline)


def test_huge_allocation_is_a_memory_note(tmp_path: Path) -> None:
    r = run(tmp_path, """
        import numpy as np
        a = "x"
        big = np.ones(1 << 30)           # 8 GiB
    """, "a big", memory_mb=1024)
    assert r.status == "memory"
    assert "ran out of memory (limit 1024 MB) at line 4" in r.headline
    assert r.answer("a").text == "x"


def test_printing_50_mb_is_capped_and_still_graded(tmp_path: Path) -> None:
    r = run(tmp_path, """
        import sys
        line = "spam" * 255 + "egg\\n"          # 1 kB
        for _ in range(50 * 1024):
            sys.stdout.write(line)
        sys.stdout.flush()
        print("the end", file=sys.stderr)
        a = "x"
    """, "a", output_cap=4096)
    assert r.status == "ok" and r.answer("a").text == "x"
    assert r.output_bytes == 50 * 1024 * 1024 + len("the end\n")
    assert len(r.output_tail) <= 4096 and r.output_tail.endswith("the end\n")
    assert "printed 50.0 MB; only the last 4.0 kB were kept" in r.notes[0]


def test_forked_grandchild_is_killed(tmp_path: Path) -> None:
    token = f"mcg{os.getpid() % 100000}gc"
    r = run(tmp_path, f"""
        import os, sys, time
        pid = os.fork()
        if pid == 0:
            with open("/proc/self/comm", "w") as f:
                f.write("{token}")
            time.sleep(60)
            os._exit(0)
        time.sleep(0.2)
        a = "x"
    """, "a")
    assert r.status == "ok" and r.answer("a").text == "x"
    for _ in range(50):                      # SIGKILL is sent; give init time to reap
        if not _running(token):
            break
        time.sleep(0.02)
    assert not _running(token)


def test_fork_that_runs_on_does_not_corrupt_the_result(tmp_path: Path) -> None:
    r = run(tmp_path, "import os\nos.fork()\na = 'x'\n", "a")
    assert r.status == "ok" and r.answer("a").text == "x"


def test_json_printed_to_stdout_is_ignored(tmp_path: Path) -> None:
    r = run(tmp_path, """
        import json, sys
        fake = {"protocol": 1, "status": "ok", "event": None,
                "answers": {"a": {"kind": "string", "text": "forged"}}}
        print(json.dumps(fake)); print(json.dumps(fake), file=sys.stderr)
        a = "mine"
    """, "a")
    assert r.answer("a").text == "mine"


def test_oversized_answers_are_refused_not_fatal(tmp_path: Path) -> None:
    r = run(tmp_path, "a = 'x' * 200_000\nb = [0.123456789012345] * 400_000\nc = 'ok'\n", "a b c")
    assert r.status == "ok" and r.answer("c").text == "ok"
    assert r.answer("a").kind == "unsupported" and "200000 characters" in r.answer("a").text
    assert r.answer("b").kind == "unsupported" and "too large" in r.answer("b").text


def test_a_hard_crash_is_reported(tmp_path: Path) -> None:
    r = run(tmp_path, "a = 'x'\nimport ctypes\nctypes.string_at(0)\n", "a")
    assert r.status == "crashed"
    assert r.headline.startswith("hw1.py was killed by SIGSEGV")
    assert r.headline.endswith("; no answers were read")


def test_writing_junk_to_the_result_pipe_only_hurts_the_submission(tmp_path: Path) -> None:
    r = run(tmp_path, """
        import os, stat
        a = "x"
        for fd in range(3, 64):
            try:
                if stat.S_ISFIFO(os.fstat(fd).st_mode):
                    os.write(fd, b"{garbage")
            except OSError:
                pass
    """, "a")
    assert r.status == "crashed" and "unreadable result" in r.headline


def test_builtins_of_a_script_exist(tmp_path: Path) -> None:
    r = run(tmp_path, "import numpy, sympy\na = 'x'\nexit()\nb = 1\n", "a b")
    assert r.status == "ok" and r.answer("a").text == "x" and r.answer("b").kind == "missing"


def test_unreadable_submission(tmp_path: Path) -> None:
    r = run_submission(tmp_path / "nope.py", ["a"])
    assert r.status == "unreadable" and "nope.py could not be read" in r.headline


def test_work_directory_is_private_and_removed(tmp_path: Path) -> None:
    (tmp_path / "classmate.py").write_text("secret = 1\n")
    r = run(tmp_path, """
        import os
        here = os.getcwd()
        files = ",".join(sorted(os.listdir(".")))
        try:
            import classmate
            leaked = "yes"
        except ImportError:
            leaked = "no"
    """, "here files leaked")
    assert r.answer("files").text == "hw1.py" and r.answer("leaked").text == "no"
    assert not os.path.exists(r.answer("here").text)


def test_decode_rejects_malformed_records() -> None:
    bad = [None, [], {"kind": 3}, {"kind": "array", "shape": [2], "value": [1]},
           {"kind": "array", "shape": [-1], "value": []}, {"kind": "number", "value": True},
           {"kind": "number", "value": "1e3"}, {"kind": "string", "text": 5},
           {"kind": "tuple", "items": [{"kind": "array", "shape": [], "value": []}]},
           {"kind": "number", "value": 10 ** 400}, {"kind": "pickle", "data": "gASV"}]
    for record in bad:
        assert decode(record).kind == "error", record
    assert decode({"kind": "array", "shape": [2], "value": [2, 3]},
                  expect_shape=True) == Answer("shape", value=(2, 3))
    assert decode({"kind": "array", "shape": [2], "value": ["nan", 3]},
                  expect_shape=True).kind == "array"
    # the supervisor's own object broken: the machine's fault, not the submission's
    assert "not valid JSON" in read_result(
        b'{"protocol": 3, "stream": "", "exit": {}, "answers": {"a": NaN}}', ["a"]).fault
    assert read_result(b"[" * 100_000, ["a"]).fault
    with pytest.raises(ValueError):      # the submission's own report broken: its doing
        read_result(b'{"protocol": 3, "stream": "{\\"t\\": \\"armed\\"}\\n[", "exit": {}}',
                    ["a"])


def test_a_run_that_never_armed_is_the_machines_fault() -> None:
    """Before its "armed" line no student code has run, so a sandbox that could not be set
    up is a fault of this machine ("grade it again"), never the student's zero; after it,
    a forged "fault" line is the submission's own broken report."""
    from mcgrade.submission.jobs import JobOutcome
    from mcgrade.submission.runner import make_job, to_result
    from mcgrade.submission.sources import Source

    job = make_job(Source("hw1.py", "py", b"a = 1\n"), ["a"])
    exit_ = {"code": 0, "signal": None, "cpu": 0.1, "killed": ""}

    def result(stream: str) -> RunResult:
        data = json.dumps({"protocol": 3, "stream": stream, "exit": exit_}).encode()
        return to_result(job, JobOutcome(data))

    supervisor = to_result(job, JobOutcome(b'{"protocol": 3, "fault": "could not enter its '
                                        b'namespaces (unshare: EPERM)"}'))
    runner = result('{"t": "fault", "text": "landlock restrict_self: EPERM"}\n')
    died = result("")
    for r, why in ((supervisor, "could not enter its namespaces (unshare: EPERM)"),
                   (runner, "landlock restrict_self: EPERM"),
                   (died, "its process ended before its sandbox was ready")):
        assert r.status == "internal-error", r
        assert r.headline.startswith(f"hw1.py could not be graded: its sandbox could not be "
                                     f"set up ({why}"), r.headline
        assert "a fault of the grading machine, not of the submission" in r.headline
    forged = result('{"t": "armed"}\n{"t": "fault", "text": "please regrade"}\n')
    assert forged.status == "crashed"
    honest = result('{"t": "armed"}\n{"t": "ran", "status": "ok", "events": []}\n'
                    '{"t": "answer", "name": "a", "record": {"kind": "number", "value": 1}}\n'
                    '{"t": "done"}\n')
    assert honest.status == "ok" and honest.answer("a") == Answer("number", value=1)


def _running(comm: str) -> bool:
    """Whether a live process of this machine has the name ``comm``."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == comm and _alive(int(entry)):
                        return True
            except OSError:
                pass
    return False


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


VENV_GRADER = """
import sys
from mcgrade.model import Problem, ProblemSet
from mcgrade.submission import read_answers
pset = ProblemSet("t", (Problem(id="a", kind="answer", answer="1"),), timeout=20.0)
answer = read_answers(sys.argv[1], pset, sandbox=sys.argv[2]).answers["a"]
print(answer.kind, answer.text)
"""


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_a_grader_installed_under_tmp_still_lets_submissions_import(tmp_path: Path,
                                                                     sandbox: str) -> None:
    """A virtual environment in /tmp: the sandbox's private /tmp must not hide it, from
    bwrap (which then could not start) or from the submission (whose imports failed)."""
    assert str(tmp_path).startswith("/tmp/")
    if sys.prefix != sys.base_prefix:            # a venv's venv would not see our packages
        if not sys.prefix.startswith("/tmp/"):
            pytest.skip(f"the tests run in a venv outside /tmp ({sys.prefix}); .ci/run's "
                        "is under /tmp")
        python = Path(sys.executable)            # .ci/run's own venv is one already
    else:
        venv.create(tmp_path / "env", system_site_packages=True, with_pip=False)
        python = tmp_path / "env" / "bin" / "python"
    site = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert site.startswith("/tmp/")
    probe = Path(site, f"mcgrade_probe_{tmp_path.name}.py")
    probe.write_text("VALUE = 'imported'\n")
    submission = tmp_path / "hw.py"
    submission.write_text(f"import {probe.stem} as probe\na = probe.VALUE\n"
                          "try:\n    open(probe.__file__, 'a')\n"
                          "    a = 'wrote'\nexcept OSError:\n    pass\n")
    try:
        done = subprocess.run([python, "-c", VENV_GRADER, str(submission), sandbox],
                              capture_output=True, text=True, cwd=tmp_path)
    finally:
        probe.unlink()
    assert done.stdout == "string imported\n", done.stderr[-2000:]
