"""The portable sandbox: students' local checks on macOS, Windows, or any Python.

``--sandbox subprocess`` runs each submission in a plain spawned child process and must
hand back the same records as the Linux runner. Where the Linux-only calls are missing
(here: removed by a ``.pth`` file in a virtual environment, in the grader and in its child
alike), ``auto`` picks it for a student copy, and a bare ``pytest`` grades the student's
notebook through it; an instructor's set is refused there, in one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

from mcgrade.submission.runner import run_submission

ROOT = Path(__file__).resolve().parent.parent

CASES = {
    "values": ("""
        import numpy as np, sympy as sp
        s = "x.T @ W"
        n = 2.5
        col = [[1], [2], [3]]
        arr = np.arange(6).reshape(2, 3)
        dims = ("m", "n")
        z = 1 + 2j
        nothing = None
        x = sp.Symbol("x")
        expr = sp.exp(x) / (1 + x**2)
        mat = sp.Matrix([[x, 1], [2, x]])
        class Liar:
            def __float__(self):
                while True:
                    pass
        liar = Liar()
    """, "s n col arr dims z nothing expr mat liar absent", {}),
    "functions": ("""
        import time
        def f(w):
            return 2 * w
        def slow(t):
            time.sleep(t)
            return t
        def boom(t):
            raise ValueError("no")
    """, "f slow boom", {"f": [[1.0], [[1.0], [2.0]]], "slow": [[0.1], [30.0], [0.1]],
                         "boom": [[1.0]]}),
    "raises": ("a = 1\nraise ValueError('boom')\nb = 2\n", "a b", {}),
    "exit": ("import sys\na = 'x'\nsys.exit(0)\n", "a", {}),
    "exit-code": ("import sys\na = 'x'\nsys.exit(3)\n", "a", {}),
    "loop": ("a = 'x'\nwhile True:\n    pass\n", "a", {}),
    "syntax": ("a = = 1\n", "a", {}),
    "line-endings": ("a = 'x.T'\r\nb = 2\r\n", "a b", {}),
    "unicode": ("# -*- coding: utf-8 -*-\nname = 'Ünïcödé ∂'\nprint('∂z/∂w')\n", "name", {}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_same_records_as_the_linux_runner(tmp_path: Path, case: str) -> None:
    source, names, calls = CASES[case]
    path = tmp_path / "hw 1 ∂.py"            # a name with a space and a non-ASCII letter
    path.write_bytes(textwrap.dedent(source).encode("utf-8"))
    linux, portable = (run_submission(path, names.split(), sandbox=sandbox, timeout=1.0,
                                      calls=calls) for sandbox in ("process", "subprocess"))
    assert portable.status == linux.status
    assert portable.notes == linux.notes
    assert {n: portable.answer(n) for n in names.split()} == \
        {n: linux.answer(n) for n in names.split()}


# --- a student's machine without the Linux-only calls --------------------------------

NO_LINUX = """\
# What a student's Python lacks off Linux: fork, SOCK_SEQPACKET, descriptor passing, and
# (on Windows) SIGALRM. Run by a .pth file, in the grader and in every child alike.
import os, signal, socket
for module, name in ((os, "fork"), (os, "forkpty"), (socket, "SOCK_SEQPACKET"),
                     (socket, "send_fds"), (socket, "recv_fds"), (signal, "setitimer"),
                     (signal, "SIGALRM")):
    if hasattr(module, name):
        delattr(module, name)
"""


@pytest.fixture
def no_linux_python(tmp_path: Path) -> str:
    """A Python of a virtual environment whose every process lacks the Linux-only calls,
    and sees this one's packages (mcgrade, numpy, sympy, pytest)."""
    env = tmp_path / "venv"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    site = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "mcgrade_no_linux.py").write_text(NO_LINUX, encoding="utf-8")
    ours = [p for p in sys.path if p and os.path.isdir(p)] + [str(ROOT)]
    Path(site, "zz_parent.pth").write_text("\n".join(ours) + "\nimport mcgrade_no_linux\n",
                                           encoding="utf-8")
    return str(python)


@pytest.fixture
def student(tmp_path: Path) -> Path:
    """A student's folder: the student copy of the neuron set, their notebook, and a
    pyproject.toml naming both, as the starter kit gives them."""
    folder = tmp_path / "student"
    folder.mkdir()
    subprocess.run([sys.executable, "-m", "mcgrade", "publish",
                    str(ROOT / "problem_sets" / "neuron.yaml"), "-o", str(folder)],
                   check=True, capture_output=True)
    (folder / "hw.ipynb").write_bytes((ROOT / "examples" / "neuron_solution.ipynb").read_bytes())
    (folder / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.pytest.ini_options]
        mcgrade_submission = "hw.ipynb"
        mcgrade_problems = ["neuron.yaml"]
        """), encoding="utf-8")
    return folder


def test_a_bare_pytest_grades_the_notebook_without_the_linux_calls(
        no_linux_python: str, student: Path) -> None:
    probe = subprocess.run([no_linux_python, "-c", "import os, socket; print(hasattr(os, "
                            "'fork'), hasattr(socket, 'SOCK_SEQPACKET'))"],
                           capture_output=True, text=True, check=True)
    assert probe.stdout == "False False\n"
    done = subprocess.run([no_linux_python, "-m", "pytest", "-p", "no:cacheprovider",
                           "--mcgrade-json", "out.json"], cwd=student, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "the submission ran in the subprocess sandbox" in done.stdout
    record = json.loads((student / "out.json").read_text(encoding="utf-8"))
    assert record["sandbox"] == "subprocess"
    assert record["score"] == record["max_score"] > 0


def test_an_instructors_set_is_refused_without_the_linux_calls(
        no_linux_python: str, student: Path) -> None:
    done = subprocess.run([no_linux_python, "-m", "mcgrade", "grade", "hw.ipynb",
                           "--problems", str(ROOT / "problem_sets" / "neuron.yaml")],
                          cwd=student, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and done.stdout == ""
    line, = done.stderr.splitlines()
    assert line.startswith("mcgrade: error: refusing to run submissions where they could "
                           "read neuron.yaml: the Linux sandbox can't run here (this Python "
                           "has no os.fork, socket.SOCK_SEQPACKET, socket.send_fds)")


def test_the_plugin_with_the_portable_runner_forced(student: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
                          cwd=student, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MCGRADE_SANDBOX": "subprocess"})
    assert done.returncode == 0, done.stdout[-3000:]
    assert "the submission ran in the subprocess sandbox" in done.stdout


CHECK_CELL = """\
import mcgrade
dz_dw = "x"          # the transpose of the numerator-layout gradient, x.T
dz_db = 1
result = mcgrade.check_answers("dz_dw", "dz_db", problems="neuron.yaml")
print(repr(result))
"""


def test_check_cells_work_without_the_linux_calls(no_linux_python: str,
                                                  student: Path) -> None:
    """A notebook's check cells grade the kernel's own variables, with no sandbox: the
    same there as anywhere (run here as a script, which they also support)."""
    done = subprocess.run([no_linux_python, "-c", CHECK_CELL], cwd=student,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "dz_dw  partial" in done.stdout and "transpose" in done.stdout, done.stdout
    assert "dz_db  correct" in done.stdout, done.stdout
