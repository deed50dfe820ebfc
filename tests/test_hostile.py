"""Hostile submissions earn nothing and harm nothing (SPEC §5).

Each attack runs in both sandboxes (bwrap where it can run here), within its time limit;
then an honest submission in the same warm pool is graded normally, and the course's files
(an answer key, a results file) are unchanged. Reading files is asserted under bwrap, and
under the process sandbox where Landlock confines it (docs/security.md says why;
tests/test_sandbox_layers.py attacks the key where bwrap can't start).
"""

from __future__ import annotations

import os
import secrets
import textwrap
import threading
import time
from pathlib import Path

import pytest

from mcgrade.errors import SubmissionError
from mcgrade.model import Answer, Problem, ProblemSet
from mcgrade.submission import read_many
from mcgrade.submission.layers import choose
from mcgrade.submission.pool import shared
from mcgrade.submission.protocol import RunResult
from mcgrade.submission.runner import run_submission

TOKEN = secrets.token_hex(8)


def _bwrap_reason() -> str:
    try:
        return "" if choose("bwrap").kind == "bwrap" else "no bwrap"
    except SubmissionError as exc:
        return str(exc)


BWRAP_SKIP = _bwrap_reason()
SANDBOXES = ["process", pytest.param("bwrap", marks=pytest.mark.skipif(
    bool(BWRAP_SKIP), reason=f"bubblewrap can't run here: {BWRAP_SKIP}"))]


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course folder: an answer key holding a secret, and last run's results."""
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "key.yaml").write_text(f"answer: KEYMARK_{TOKEN}\n")
    (folder / "results.json").write_text('{"score": 0}\n')
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def attack(tmp_path: Path, sandbox: str, source: str, names: str = "a",
           limit: float = 1.0, **kw) -> RunResult:
    path = tmp_path / "evil.py"
    path.write_text(textwrap.dedent(source))
    start = time.monotonic()
    result = run_submission(path, names.split(), sandbox=sandbox, timeout=limit, **kw)
    assert time.monotonic() - start < limit * (1 + len(names.split())) + 3.5
    return result


def honest_still_works(tmp_path: Path, sandbox: str) -> None:
    path = tmp_path / "honest.py"
    path.write_text("import numpy as np, sympy as sp\na = 'x.T'\nb = float(np.sum([1, 2]))\n"
                    "c = sp.Symbol('x') + 1\n")
    r = run_submission(path, ["a", "b", "c"], sandbox=sandbox, timeout=5.0)
    assert r.status == "ok" and r.notes == ()
    assert r.answer("a") == Answer("string", text="x.T")
    assert r.answer("b") == Answer("number", value=3.0)
    assert r.answer("c") == Answer("sympy", text="Add(Symbol('x'), Integer(1))")


CHEATS = {
    "monkeypatch": """
        import numpy, sympy, sys, types
        numpy.allclose = numpy.array_equal = lambda *a, **k: True
        sympy.simplify = lambda *a, **k: 0
        sympy.Expr.equals = lambda self, other, *a: True
        fake = types.ModuleType("mcgrade")
        fake.check = lambda *a, **k: "correct"
        sys.modules["mcgrade"] = sys.modules["mcgrade.grading"] = fake
        import json
        json.dumps = lambda *a, **k: '{"kind": "string", "text": "forged"}'
        a = "wrong"
    """,
    "memory": r"""
        import gc, re, os, sys
        pattern = re.compile(rb"KEYMARK_[0-9a-f]{16}")
        found = []
        for obj in gc.get_objects():
            if isinstance(obj, (str, bytes)) and pattern.search(obj if isinstance(obj, bytes)
                                                                 else obj.encode()):
                found.append("gc")
        frame = sys._getframe()
        while frame is not None:
            if pattern.search(repr(frame.f_locals).encode()):
                found.append("frame")
            frame = frame.f_back
        for pid in ["self", str(os.getppid()), "1"] + os.listdir("/proc"):
            if not pid.isdigit() and pid != "self":
                continue
            try:
                maps = open(f"/proc/{pid}/maps").read().splitlines()
                with open(f"/proc/{pid}/mem", "rb") as mem:
                    for line in maps:
                        lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                        if "r" not in line.split()[1] or hi - lo > 1 << 28:
                            continue
                        try:
                            mem.seek(lo)
                            if pattern.search(mem.read(hi - lo)):
                                found.append(pid)
                        except (OSError, ValueError, OverflowError):
                            pass
            except OSError:
                pass
        a = "found in " + ",".join(found) if found else "not found"
    """,
    "overwrite": """
        a = []
        for name in ("key.yaml", "results.json"):
            try:
                with open("{course}/" + name, "w") as f:
                    f.write("answer: x.T  # forged")
                a.append("wrote " + name)
            except OSError as exc:
                a.append(type(exc).__name__)
        a = ",".join(a)
    """,
    "lingering": """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                with open("/proc/self/comm", "w") as f:
                    f.write("mcg{short}")
                for _ in range(40):
                    time.sleep(0.05)
                    try:
                        with open("{course}/results.json", "w") as f:
                            f.write('{{"score": 100}}')
                    except OSError:
                        pass
            os._exit(0)
        a = "x"
    """,
    "fake_output": """
        import sys
        print("============================= 10 passed in 0.01s ==============================")
        print("mcgrade: 10/10 points")
        print('{"protocol": 2, "stream": "", "exit": {}}', file=sys.stderr)
        a = "mine"
    """,
    "pool": """
        import ctypes, os, signal
        libc = ctypes.CDLL(None, use_errno=True)
        me, tried = os.getpid(), []
        targets = {os.getppid()} | {int(p) for p in os.listdir("/proc") if p.isdigit()}
        for target in sorted(targets - {0, me}):
            for act in ("mem", "ptrace", "kill"):
                try:
                    if act == "mem":
                        with open(f"/proc/{target}/mem", "r+b") as f:
                            f.seek(0x400000)
                            f.write(b"\\xcc" * 16)
                    elif act == "ptrace" and libc.ptrace(16, target, 0, 0) != 0:
                        raise OSError(ctypes.get_errno(), "ptrace")
                    elif act == "kill":
                        os.kill(target, signal.SIGKILL)
                    tried.append(f"{act} {target} ok")
                except Exception as exc:
                    tried.append(f"{act} {target} {type(exc).__name__}")
        a = "; ".join(tried)
    """,
}


@pytest.mark.parametrize("sandbox", SANDBOXES)
@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_cheats_change_nothing(tmp_path: Path, course: Path, sandbox: str, cheat: str) -> None:
    before, worker = snapshot(course), shared(sandbox)._proc.pid
    short = TOKEN[:6]
    source = CHEATS[cheat].replace("{course}", str(course)).replace("{short}", short)
    r = attack(tmp_path, sandbox, source, limit=4.0 if cheat == "memory" else 1.0)
    a = r.answer("a")
    if cheat == "monkeypatch":
        assert a == Answer("string", text="wrong")
    elif cheat == "memory":
        assert a == Answer("string", text="not found")
    elif cheat == "overwrite":
        assert "wrote" not in a.text
    elif cheat == "fake_output":
        assert a.text == "mine" and r.status == "ok" and r.notes == ()
        assert "10 passed" in r.output_tail          # kept for the student, never parsed
    elif cheat == "pool":                # nothing outside its own namespace is reachable
        assert a.kind == "string" and " ok" not in a.text, a.text
        assert shared(sandbox)._proc.pid == worker
    else:
        assert a.text == "x"
        time.sleep(2.2)                               # longer than the lingerer would live
        assert not any(_comm(pid) == f"mcg{short}" for pid in os.listdir("/proc"))
    assert snapshot(course) == before
    honest_still_works(tmp_path, sandbox)


@pytest.mark.skipif(bool(BWRAP_SKIP), reason=f"bubblewrap can't run here: {BWRAP_SKIP}")
def test_bwrap_hides_the_course_and_the_network(tmp_path: Path, course: Path) -> None:
    r = attack(tmp_path, "bwrap", f"""
        import os, socket
        seen = []
        for path in ("{course}/key.yaml", "{Path(__file__)}", "{Path.home() / '.cache'}",
                     "/etc/passwd"):
            seen.append(str(os.path.exists(path)))
        try:
            socket.create_connection(("127.0.0.1", 22), timeout=0.5)
            seen.append("net")
        except OSError as exc:
            seen.append(type(exc).__name__)
        a = ",".join(seen) + f",uid={{os.getuid()}}"
    """)
    assert r.answer("a").text == "False,False,False,False,OSError,uid=65534"


LANDLOCK = "landlock" in choose("process").label


@pytest.mark.skipif(not LANDLOCK and not os.environ.get("CI"),
                    reason="this kernel offers no Landlock")
def test_landlock_hides_the_course_from_the_process_sandbox(tmp_path: Path,
                                                             course: Path) -> None:
    r = attack(tmp_path, "process", f"""
        import os, socket
        seen = []
        for path in ("{course}/key.yaml", "{Path(__file__)}", "/etc/passwd"):
            try:
                open(path).read()
                seen.append("read")
            except OSError as exc:
                seen.append(type(exc).__name__)
        try:
            open("{course}/results.json", "w").write("forged")
            seen.append("wrote")
        except OSError as exc:
            seen.append(type(exc).__name__)
        try:
            socket.create_connection(("127.0.0.1", 22), timeout=0.5)
            seen.append("net")
        except OSError as exc:
            seen.append("OSError")
        a = ",".join(seen)
    """)
    *files, net = r.answer("a").text.split(",")
    assert len(files) == 4 and net == "OSError"
    # denied by Landlock, or not there at all (the course is in a /tmp of the grader's)
    assert set(files) <= {"PermissionError", "FileNotFoundError"}, files


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_exits_and_denial_of_service(tmp_path: Path, course: Path, sandbox: str) -> None:
    before = snapshot(course)
    r = attack(tmp_path, sandbox, "import sys\na = 'x'\nsys.exit(0)\n")
    assert r.status == "ok" and r.answer("a").text == "x"
    r = attack(tmp_path, sandbox, "import os\na = 'x'\nos._exit(0)\n")
    assert r.status == "crashed" and "os._exit" in r.headline
    r = attack(tmp_path, sandbox, "a = 'x'\nwhile True:\n    pass\n")
    assert r.status == "timeout" and r.answer("a").text == "x"
    r = attack(tmp_path, sandbox, "import numpy as np\na = 'x'\nbig = np.ones(1 << 30)\n",
               memory_mb=1024)
    assert r.status == "memory" and "limit 1024 MB" in r.headline and r.answer("a").text == "x"
    r = attack(tmp_path, sandbox, """
        import os, time
        a = 0
        for _ in range(400):                  # capped, in case the sandbox is not
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            a += 1
    """, limit=1.5)
    assert r.answer("a").kind in ("number", "timeout")
    if sandbox == "bwrap":                    # uid 65534 outside: RLIMIT_NPROC counts
        assert r.answer("a").value < 64
    r = attack(tmp_path, sandbox, "import sys\nfor _ in range(50 * 1024):\n"
               "    sys.stdout.write('x' * 1023 + '\\n')\na = 'x'\n", output_cap=1024)
    assert r.answer("a").text == "x" and "printed 50.0 MB" in r.notes[-1]
    assert snapshot(course) == before
    honest_still_works(tmp_path, sandbox)


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_code_in_answers_is_never_run(tmp_path: Path, sandbox: str) -> None:
    marker = Path("/tmp") / f"mcgrade-pwned-{TOKEN}"
    r = attack(tmp_path, sandbox, f"""
        import pickle, sympy as sp
        class Evil:
            def __reduce__(self):
                return (open, ("{marker}", "w"))
        class Srepr(sp.Symbol):
            def _sympyrepr(self, printer):
                return "__import__('os').system('touch {marker}')"
        a = "__import__('os').system('touch {marker}')"
        b = pickle.dumps(Evil())
        c = Evil()
        d = Srepr("x")
    """, "a b c d")
    assert r.answer("a").text == f"__import__('os').system('touch {marker}')"
    assert r.answer("b") == Answer("unsupported", text="bytes")
    assert r.answer("c") == Answer("unsupported", text="__main__.Evil")
    assert r.answer("d") == Answer("sympy", text=f"__import__('os').system('touch {marker}')")
    assert not marker.exists()


def test_a_killed_worker_is_restarted_and_nobody_pays(tmp_path: Path) -> None:
    pset = ProblemSet("t", (Problem(id="a", kind="answer", answer="1"),), timeout=5.0)
    paths = []
    for i in range(4):
        paths.append(tmp_path / f"s{i}.py")
        paths[-1].write_text(f"import time\ntime.sleep(0.4)\na = {i}\n")
    pool = shared("process")
    pool.start()
    victim = pool._proc.pid
    killer = threading.Timer(0.2, os.kill, (victim, 9))
    killer.start()
    subs = list(read_many(paths, pset, sandbox="process", jobs=2))
    killer.join()
    assert [s.answers["a"] for s in subs] == [Answer("number", value=float(i)) for i in range(4)]
    assert shared("process")._proc.pid != victim


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_a_concurrent_attacker_cannot_touch_its_neighbours(tmp_path: Path, sandbox: str) -> None:
    pset = ProblemSet("t", (Problem(id="a", kind="answer", answer="1"),), timeout=3.0)
    evil = tmp_path / "evil.py"
    evil.write_text(textwrap.dedent("""
        import os, signal, time
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            for pid in os.listdir("/proc"):
                if pid.isdigit() and int(pid) != os.getpid():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
            for path in ("/tmp", "/dev/shm"):
                try:
                    for name in os.listdir(path):
                        open(os.path.join(path, name, "numpy.py"), "w").write("raise SystemExit")
                except OSError:
                    pass
        a = -1
    """))
    paths = [evil]
    for i in range(3):
        paths.append(tmp_path / f"s{i}.py")
        paths[-1].write_text(f"import time\ntime.sleep(0.3)\nimport numpy\na = {i}\n")
    subs = list(read_many(paths, pset, sandbox=sandbox, jobs=4))
    assert [s.answers["a"].value for s in subs] == [-1.0, 0.0, 1.0, 2.0]


def _comm(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""
