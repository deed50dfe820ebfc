"""The answer key stays secret wherever grading runs (SPEC §5.1, docs/security.md).

Where bubblewrap can't start (tests/jail.py: installed, but user namespaces are disabled,
as in Docker and Gradescope containers), a key-reading, key-copying, output-writing and
grader-killing submission earns nothing and changes nothing, as root and as an ordinary
user; grading either runs with a layer that hides the key (Landlock, or a uid of the
submission's own under a root grader) and names it, or refuses with one line.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcgrade.errors import SubmissionError
from mcgrade.submission import layers
from tests.test_gradescope_package import valid_results

JAIL = Path(__file__).with_name("jail.py")
GRADER = 1000                       # an ordinary user's uid, for the grader itself
KEY = "x**3 + 17*x"
SET = f"""\
title: Secret key
symbols:
  x: {{}}
problems:
  - id: q
    answer: "{KEY}"
"""
# Answers q from the key if it can read it; tries to copy it out, to forge the gradebook,
# and to kill the grader (its ancestors) — each attempt's outcome is an answer.
EVIL = """\
import os, re, shutil, signal
def attempt(step):
    try:
        return str(step())
    except Exception as exc:
        return type(exc).__name__
q = attempt(lambda: re.search(r'answer: "(.*)"', open({key!r}).read()).group(1))
copied = attempt(lambda: shutil.copy({key!r}, {course!r} + "/stolen.yaml"))
forged = attempt(lambda: open({course!r} + "/grades.csv", "w").write("evil,100\\n"))
def ancestors():
    pid, found = os.getppid(), []
    while pid > 1 and len(found) < 3:
        found.append(pid)
        status = open(f"/proc/{{pid}}/status").read()
        pid = int(re.search(r"PPid:\\s+(\\d+)", status).group(1))
    return found
def kill_all():
    for pid in ancestors():
        os.kill(pid, signal.SIGKILL)
    return "killed"
killed = attempt(kill_all)
def talk(family, address):
    import socket
    with socket.socket(family) as channel:
        channel.settimeout(2)
        channel.connect(address)
        channel.sendall(b"let me out")
    return "connected"
sock = attempt(lambda: talk(__import__("socket").AF_UNIX, {sock!r}))
net = attempt(lambda: talk(__import__("socket").AF_INET, ("127.0.0.1", {port})))
where = os.getcwd()
"""


def _missing_prerequisite() -> str:
    """Why these tests can't run here ("" when they can): they need root (to make the
    jail) and a Python installation other users can run, with mcgrade installed in it
    (``.ci/run`` makes one: a fresh venv from the system Python)."""
    if os.geteuid() != 0:
        return "the jail needs root (CI runs as root)"
    try:
        done = subprocess.run([sys.executable, "-I", "-c", "import mcgrade, numpy, sympy"],
                              user=GRADER, group=GRADER, extra_groups=[], cwd="/",
                              capture_output=True, timeout=120)
    except OSError as exc:
        return f"uid {GRADER} can't run {sys.executable}: {exc}"
    if done.returncode != 0:
        return (f"uid {GRADER} can't import mcgrade from {sys.prefix} (run the tests in a "
                "venv other users can read, as .ci/run does)")
    return ""


MISSING = _missing_prerequisite()
if MISSING and os.environ.get("CI"):
    raise RuntimeError(f"tests/test_sandbox_layers.py can't run in CI: {MISSING}")
needs_jail = pytest.mark.skipif(bool(MISSING), reason=MISSING)


def evil(course: Path, sock: str = "/nonexistent.sock", port: int = 9) -> str:
    return EVIL.format(key=str(course / "key.yaml"), course=str(course), sock=sock, port=port)


@pytest.fixture
def course() -> Iterator[Path]:
    """A course folder others may enter (an ordinary grader owns it): the key, 0600."""
    with tempfile.TemporaryDirectory(prefix="mcgrade-course-") as folder:
        path = Path(folder)
        path.chmod(0o755)
        (path / "key.yaml").write_text(SET, encoding="utf-8")
        (path / "key.yaml").chmod(0o600)
        (path / "evil.py").write_text(evil(path), encoding="utf-8")
        yield path


def jailed(course: Path, *args: str, uid: int = 0, landlock: bool = True,
           ids: int = 300_000) -> subprocess.CompletedProcess[str]:
    """``mcgrade ARGS`` where bwrap can't start, as ``uid``, with or without Landlock,
    with ``ids`` user ids in the container."""
    for path in [course, *course.iterdir()]:
        os.chown(path, uid, uid)
    jail = [sys.executable, str(JAIL), "--uid", str(uid), "--ids", str(ids)] + \
        ([] if landlock else ["--no-landlock"])
    return subprocess.run([*jail, "--", sys.executable, "-m", "mcgrade", *args],
                          cwd=course, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": ""})


def graded(course: Path, *, uid: int = 0, landlock: bool = True) -> dict:
    """Grade the evil submission in the jail; the record, after checking it harmed nothing."""
    before = sorted(p.name for p in course.iterdir())
    done = jailed(course, "grade", "evil.py", "--problems", "key.yaml", "--json", "out.json",
                  uid=uid, landlock=landlock)
    assert done.returncode == 0, done.stderr
    assert "bwrap can't start here" in done.stderr         # the fallback is announced
    record = json.loads((course / "out.json").read_text(encoding="utf-8"))
    assert record["score"] == 0
    assert sorted(p.name for p in course.iterdir()) == sorted(before + ["out.json"])
    assert (course / "key.yaml").read_text(encoding="utf-8") == SET
    assert f"(sandbox: {record['sandbox']})" in done.stdout
    return record


def answers_of(course: Path, *, uid: int = 0, landlock: bool = True) -> dict[str, str]:
    """What each attempt of the evil submission came to, read as a batch's ledger keeps
    it (a student copy: every answer is kept whatever it scores)."""
    done = jailed(course, "grade", "evil.py", "--problems", "key.yaml", "--out", "results",
                  uid=uid, landlock=landlock)
    assert done.returncode == 0, done.stderr
    entry = json.loads((course / "results" / "records" / "evil.json").read_text("utf-8"))
    return {name: answer["text"] for name, answer in entry["answers"].items()}


@needs_jail
def test_as_root_landlock_hides_the_key(course: Path) -> None:
    record = graded(course)
    assert record["sandbox"] in ("process (landlock, seccomp)",
                                 "process (own uid, landlock, seccomp)")
    assert record["problems"][0]["status"] == "incorrect"


@needs_jail
def test_as_root_without_landlock_a_uid_of_its_own_hides_the_key(course: Path) -> None:
    course.chmod(0o700)               # the set's folder may hold the course's other keys
    record = graded(course, landlock=False)
    assert record["sandbox"] == "process (own uid, seccomp)"


@needs_jail
def test_as_root_without_landlock_a_key_others_can_read_is_refused(course: Path) -> None:
    (course / "key.yaml").chmod(0o644)
    done = jailed(course, "grade", "evil.py", "--problems", "key.yaml", landlock=False)
    assert done.returncode == 1
    line, = done.stderr.splitlines()
    both = f"key.yaml and {course.name}"      # the key, and its folder (other sets)
    assert line.startswith("mcgrade: error: refusing to run submissions where they could "
                           f"read {both}: bwrap can't start here (")
    assert f"this kernel offers no Landlock; uid 65534 can read {both};" in line
    assert f"or as root with {both} readable by root only (chmod 600 or chmod 700)" in line


@needs_jail
def test_as_an_ordinary_user_landlock_hides_the_key(course: Path) -> None:
    record = graded(course, uid=GRADER)
    assert record["sandbox"] == "process (landlock, seccomp)"


@needs_jail
def test_as_an_ordinary_user_without_landlock_grading_refuses(course: Path) -> None:
    done = jailed(course, "grade", "evil.py", "--problems", "key.yaml", uid=GRADER,
                  landlock=False)
    assert done.returncode == 1 and done.stdout == ""
    line, = done.stderr.splitlines()
    assert "refusing to run submissions where they could read key.yaml" in line
    assert "the grader is not root, so submissions can't run as a user of their own" in line
    assert not (course / "stolen.yaml").exists()


@needs_jail
def test_pytest_refuses_once_not_once_per_problem(course: Path) -> None:
    (course / "key.yaml").write_text(SET.replace("problems:\n", "problems:\n"
                                                 "  - {id: more, answer: \"x\"}\n"), "utf-8")
    jail = [sys.executable, str(JAIL), "--uid", str(GRADER), "--no-landlock", "--"]
    for path in [course, *course.iterdir()]:
        os.chown(path, GRADER, GRADER)
    done = subprocess.run([*jail, sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "--mcgrade-submission", "evil.py", "key.yaml"], cwd=course,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 4, done.stdout[-2000:]
    out = done.stdout + done.stderr
    assert out.count("refusing to run submissions") == 1, out[-3000:]


@needs_jail
def test_a_student_copy_holds_no_key_and_runs_anywhere(course: Path) -> None:
    """Local checks keep working with the process sandbox and no layer that hides files."""
    (course / "mine.py").write_text(f'q = "{KEY}"\n', encoding="utf-8")
    done = jailed(course, "publish", "key.yaml", "-o", "student.yaml", uid=GRADER)
    assert done.returncode == 0, done.stderr
    done = jailed(course, "grade", "mine.py", "--problems", "student.yaml", uid=GRADER,
                  landlock=False)
    assert done.returncode == 0, done.stderr
    assert "mcgrade: 1/1 points (sandbox: process (seccomp))" in done.stdout


class Listener:
    """A Unix socket (its folder and itself private to ``uid``, as an agent's or a bus's)
    and a TCP port on the loopback, counting who connects: nobody may."""

    def __init__(self, folder: Path, uid: int) -> None:
        self.connections = 0
        (folder / "run").mkdir()
        self.path = str(folder / "run" / "agent.sock")
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(self.path)
        os.chown(folder / "run", uid, uid)
        os.chown(self.path, uid, uid)
        (folder / "run").chmod(0o700)
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        for server in (self.unix, self.tcp):
            server.listen()
            threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                server.accept()[0].close()
            except OSError:
                return
            self.connections += 1

    def close(self) -> None:
        self.unix.close()
        self.tcp.close()


@needs_jail
@pytest.mark.parametrize("uid,landlock", [(0, True), (0, False), (GRADER, True)])
def test_every_attack_fails(course: Path, uid: int, landlock: bool) -> None:
    """In a batch, the ledger keeps each attempt's outcome: every one was denied — the key
    read or copied, the gradebook forged, the grader killed, a private Unix socket or a
    TCP port reached — and the submission's folder is gone when it ends."""
    listener = Listener(course, uid)
    (course / "evil.py").write_text(evil(course, listener.path, listener.port), "utf-8")
    (course / "key.yaml").write_text(SET.replace("problems:\n", textwrap.dedent("""\
        problems:
          - {id: copied, answer: "x"}
          - {id: forged, answer: "x"}
          - {id: killed, answer: "x"}
          - {id: sock, answer: "x"}
          - {id: net, answer: "x"}
          - {id: where, answer: "x"}
        """)), encoding="utf-8")
    if not landlock:        # only the uid hides them: the class's folder is private too
        course.chmod(0o700)
    try:
        outcomes = answers_of(course, uid=uid, landlock=landlock)
    finally:
        listener.close()
    denied = {"PermissionError", "FileNotFoundError", "ProcessLookupError"}
    for attempt in ("q", "copied", "forged", "killed", "sock", "net"):
        assert outcomes[attempt] in denied, (attempt, outcomes)
    assert listener.connections == 0
    assert not os.path.exists(outcomes["where"])          # removed with the job
    grades = json.loads((course / "results" / "grades.json").read_text(encoding="utf-8"))
    assert grades[0]["sandbox"].startswith("process (") and grades[0]["score"] == 0


@needs_jail
@pytest.mark.parametrize("ids,label", [(300_000, "process (own uid, seccomp)"),
                                       (65_536, "process (uid 65534, seccomp)")])
def test_neighbours_running_at_once_cannot_kill_each_other(course: Path, ids: int,
                                                           label: str) -> None:
    """As root with only the uid layer, two jobs at once: each has a uid of its own, so
    one killing every process it may (kill -1) costs its neighbour nothing; where there
    are too few ids for that (a rootless container), they share uid 65534 and so run one
    at a time."""
    course.chmod(0o700)
    (course / "alice.py").write_text(f'import time\ntime.sleep(2)\nq = "{KEY}"\n', "utf-8")
    (course / "mallory.py").write_text("import os, time\ntime.sleep(0.5)\n"
                                       "os.kill(-1, 9)\n", encoding="utf-8")
    (course / "evil.py").unlink()
    done = jailed(course, "grade", ".", "--problems", "key.yaml", "--out", "results",
                  "--jobs", "2", landlock=False, ids=ids)
    assert done.returncode == 0, done.stderr
    grades = {g["submission"]: g for g in json.loads(
        (course / "results" / "grades.json").read_text(encoding="utf-8"))}
    assert grades["alice.py"]["score"] == 1, grades["alice.py"]
    assert grades["alice.py"]["sandbox"] == label


# --- choosing layers from a probe (no kernel needed) ----------------------------------

def probe(*, landlock: int = 0, euid: int = 1000, namespaces: bool = False,
          seccomp: bool = True) -> dict:
    return {"landlock": landlock, "euid": euid, "namespaces": namespaces, "seccomp": seccomp,
            "own_uids": False, "namespaces_as_other": False}


def test_landlock_is_a_layer_that_hides_a_key(tmp_path: Path) -> None:
    key = tmp_path / "hw1.yaml"
    key.write_text("title: x\n")
    chosen = layers._process(probe(landlock=6, namespaces=True), (str(key),), "")
    assert chosen.label == "process (namespaces, landlock, seccomp)"
    assert chosen.confine["landlock"]["read"] == layers.landlock_paths()[0]
    assert chosen.confine["uid"] is None and chosen.confine["namespaces"] is True
    assert chosen.confine["seccomp"] is True and chosen.confine["serial"] is False


def test_no_hiding_layer_refuses_in_one_line(tmp_path: Path) -> None:
    key = tmp_path / "hw1.yaml"
    key.write_text("title: x\n")
    with pytest.raises(SubmissionError) as info:
        layers._process(probe(namespaces=True), (str(key),), "bwrap: no namespaces")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("refusing to run submissions where they could read hw1.yaml: "
                              "bwrap can't start here (bwrap: no namespaces), and this kernel "
                              "offers no Landlock; the grader is not root")
    assert "install bubblewrap" in message and "mcgrade publish" in message


@pytest.mark.parametrize("abi,namespaces,seccomp,why", [
    (4, False, True, "they would run as the grader's user, free to signal it (no "
                     "namespaces, Landlock ABI 4 has no signal scoping)"),
    (6, True, False, "this kernel can't filter system calls (seccomp), so submissions "
                     "could open sockets"),
])
def test_a_hidden_key_is_not_enough_where_submissions_could_reach_the_grader(
        tmp_path: Path, abi: int, namespaces: bool, seccomp: bool, why: str) -> None:
    """Without namespaces or another uid, a kernel without Landlock's signal scoping
    (before 6.12) leaves the grader open to signals from its submissions (a batch killed,
    a job lost again and again); without seccomp, to a socket by path (Landlock does not
    cover connecting to one)."""
    key = tmp_path / "hw1.yaml"
    key.write_text("title: x\n")
    with pytest.raises(SubmissionError) as info:
        layers._process(probe(landlock=abi, namespaces=namespaces, seccomp=seccomp),
                        (str(key),), "")
    assert str(info.value).startswith("refusing to run submissions where they could reach "
                                      f"the grader: --sandbox process was chosen, and {why}")


def test_jobs_that_could_signal_each_other_run_one_at_a_time() -> None:
    apart = layers._process(probe(landlock=6), None, "")
    together = layers._process(probe(landlock=4), None, "")
    assert apart.confine["serial"] is False and together.confine["serial"] is True


def test_a_key_inside_the_python_installation_is_not_hidden_by_landlock() -> None:
    inside = os.__file__                  # a file submissions may read, standing for a key
    with pytest.raises(SubmissionError, match="Landlock would let them read os.py, which "
                                              "is inside the Python installation"):
        layers._process(probe(landlock=6), (inside,), "")


def test_a_student_copy_never_refuses() -> None:
    chosen = layers._process(probe(seccomp=False), None, "bwrap: no namespaces")
    assert chosen.label == "process" and chosen.confine["landlock"] is None


# --- the Gradescope package where bwrap can't start, as on Gradescope's containers --------

@needs_jail
@pytest.mark.parametrize("landlock", [True, False])
def test_the_gradescope_package_keeps_its_key_where_bwrap_cant_start(landlock: bool) -> None:
    """run_autograder, as root in a container: setup.sh's modes on the key (0600 in a 0700
    folder), an honest and a key-reading submission; the results name the sandbox."""
    with tempfile.TemporaryDirectory(prefix="mcgrade-gradescope-") as folder:
        root = Path(folder, "autograder")
        Path(folder).chmod(0o755)
        (course := Path(folder, "set")).mkdir()
        (course / "key.yaml").write_text(SET, encoding="utf-8")
        zip_path = Path(folder, "autograder.zip")
        assert subprocess.run([sys.executable, "-m", "mcgrade", "gradescope",
                               str(course / "key.yaml"), "-o", str(zip_path)],
                              capture_output=True).returncode == 0
        zipfile.ZipFile(zip_path).extractall(root / "source")
        (root / "source").chmod(0o700)                     # as setup.sh leaves them
        (root / "source" / "key.yaml").chmod(0o600)
        scores = {}
        for name, source in (("honest", f'q = "{KEY}"\n'),
                             ("evil", EVIL.format(key=str(root / "source" / "key.yaml"),
                                                  course=str(root), sock="/x.sock", port=9))):
            shutil.rmtree(root / "submission", ignore_errors=True)
            (root / "submission" / "repo").mkdir(parents=True)
            (root / "submission" / "repo" / "hw.py").write_text(source, encoding="utf-8")
            jail = [sys.executable, str(JAIL)] + ([] if landlock else ["--no-landlock"])
            done = subprocess.run(
                [*jail, "--", "bash", str(root / "source" / "run_autograder")],
                env={"AUTOGRADER_ROOT": str(root), "PATH": "/usr/bin:/bin", "HOME": folder,
                     "MCGRADE": f"{sys.executable} -m mcgrade", "PYTHON": sys.executable},
                cwd=folder, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
            results = valid_results((root / "results" / "results.json").read_text("utf-8"))
            scores[name] = results["score"]
            sandbox = results["extra_data"]["sandbox"]
            assert sandbox == ("process (own uid, landlock, seccomp)" if landlock else
                               "process (own uid, seccomp)")
            assert f"Graded in the sandbox: {sandbox}" in results["output"]
        assert scores == {"honest": 1, "evil": 0}
