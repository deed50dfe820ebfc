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
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path
from typing import Iterator

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


@pytest.fixture
def course() -> Iterator[Path]:
    """A course folder others may enter (an ordinary grader owns it): the key, 0600."""
    with tempfile.TemporaryDirectory(prefix="mcgrade-course-") as folder:
        path = Path(folder)
        path.chmod(0o755)
        (path / "key.yaml").write_text(SET, encoding="utf-8")
        (path / "key.yaml").chmod(0o600)
        (path / "evil.py").write_text(EVIL.format(key=str(path / "key.yaml"),
                                                  course=str(path)), encoding="utf-8")
        yield path


def jailed(course: Path, *args: str, uid: int = 0, landlock: bool = True
           ) -> subprocess.CompletedProcess[str]:
    """``mcgrade ARGS`` where bwrap can't start, as ``uid``, with or without Landlock."""
    for path in [course, *course.iterdir()]:
        os.chown(path, uid, uid)
    jail = [sys.executable, str(JAIL), "--uid", str(uid)] + ([] if landlock else
                                                            ["--no-landlock"])
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
    assert record["sandbox"] in ("process (landlock)", "process (uid 65534, landlock)")
    assert record["problems"][0]["status"] == "incorrect"


@needs_jail
def test_as_root_without_landlock_a_uid_of_its_own_hides_the_key(course: Path) -> None:
    record = graded(course, landlock=False)
    assert record["sandbox"] == "process (uid 65534)"


@needs_jail
def test_as_root_without_landlock_a_key_others_can_read_is_refused(course: Path) -> None:
    (course / "key.yaml").chmod(0o644)
    done = jailed(course, "grade", "evil.py", "--problems", "key.yaml", landlock=False)
    assert done.returncode == 1
    line, = done.stderr.splitlines()
    assert line.startswith("mcgrade: error: refusing to run submissions where they could "
                           "read key.yaml: bwrap can't start here (")
    assert "this kernel offers no Landlock; uid 65534 can read key.yaml;" in line
    assert "or as root with key.yaml readable by root only (chmod 600)" in line


@needs_jail
def test_as_an_ordinary_user_landlock_hides_the_key(course: Path) -> None:
    record = graded(course, uid=GRADER)
    assert record["sandbox"] == "process (landlock)"


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
def test_a_student_copy_holds_no_key_and_runs_anywhere(course: Path) -> None:
    """Local checks keep working with the plain process sandbox, without any layer."""
    (course / "mine.py").write_text(f'q = "{KEY}"\n', encoding="utf-8")
    done = jailed(course, "publish", "key.yaml", "-o", "student.yaml", uid=GRADER)
    assert done.returncode == 0, done.stderr
    done = jailed(course, "grade", "mine.py", "--problems", "student.yaml", uid=GRADER,
                  landlock=False)
    assert done.returncode == 0, done.stderr
    assert "mcgrade: 1/1 points (sandbox: process)" in done.stdout


@needs_jail
@pytest.mark.parametrize("uid,landlock", [(0, True), (0, False), (GRADER, True)])
def test_every_attack_fails(course: Path, uid: int, landlock: bool) -> None:
    """In a batch, the ledger keeps each attempt's outcome: every one was denied."""
    (course / "key.yaml").write_text(SET.replace("problems:\n", textwrap.dedent("""\
        problems:
          - {id: copied, answer: "x"}
          - {id: forged, answer: "x"}
          - {id: killed, answer: "x"}
        """)), encoding="utf-8")
    if not landlock:        # only the uid hides them: the class's folder is private too
        course.chmod(0o700)
    outcomes = answers_of(course, uid=uid, landlock=landlock)
    assert outcomes["q"] in ("PermissionError", "FileNotFoundError"), outcomes
    assert outcomes["copied"] in ("PermissionError", "FileNotFoundError"), outcomes
    assert outcomes["forged"] in ("PermissionError", "FileNotFoundError"), outcomes
    assert outcomes["killed"] in ("PermissionError", "ProcessLookupError"), outcomes
    grades = json.loads((course / "results" / "grades.json").read_text(encoding="utf-8"))
    assert grades[0]["sandbox"].startswith("process (") and grades[0]["score"] == 0


# --- choosing layers from a probe (no kernel needed) ----------------------------------

def probe(*, landlock: int = 0, euid: int = 1000, namespaces: bool = False) -> dict:
    return {"landlock": landlock, "euid": euid, "namespaces": namespaces,
            "namespaces_as_nobody": False}


def test_landlock_is_a_layer_that_hides_a_key(tmp_path: Path) -> None:
    key = tmp_path / "hw1.yaml"
    key.write_text("title: x\n")
    chosen = layers._process(probe(landlock=6, namespaces=True), (str(key),), "")
    assert chosen.label == "process (namespaces, landlock)"
    assert chosen.confine["landlock"]["read"] == layers.landlock_paths()[0]
    assert chosen.confine["uid"] is None and chosen.confine["namespaces"] is True


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


def test_a_key_inside_the_python_installation_is_not_hidden_by_landlock() -> None:
    inside = os.__file__                  # a file submissions may read, standing for a key
    with pytest.raises(SubmissionError, match="Landlock would let them read os.py, which "
                                              "is inside the Python installation"):
        layers._process(probe(landlock=6), (inside,), "")


def test_a_student_copy_never_refuses() -> None:
    chosen = layers._process(probe(), None, "bwrap: no namespaces")
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
                                                  course=str(root)))):
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
            assert sandbox == ("process (uid 65534, landlock)" if landlock else
                               "process (uid 65534)")
            assert f"Graded in the sandbox: {sandbox}" in results["output"]
        assert scores == {"honest": 1, "evil": 0}
