"""A student's install, as a published folder's README says, in a fresh virtual
environment: ``python -m pip install <wheel>``, then ``python -m pytest`` in the folder.

Slow (a minute or more): pip installs mcgrade's dependencies into the new environment,
from its cache or the package index. The wheel itself needs no index.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat

from mcgrade.authoring.student_folder import build_wheel
from mcgrade.cli import main
from mcgrade.grading import Grader, grade_file
from mcgrade.problemset import load_problem_set
from tests.test_check_cells import NEURON, filled


def test_a_fresh_venv_installs_the_wheel_and_pytest_checks_the_notebook(
        tmp_path: Path) -> None:
    folder = tmp_path / "student"
    assert main(["publish", str(NEURON), "-o", str(folder), "--wheel"]) == 0
    notebook_path = folder / "neuron.ipynb"             # the name the README gives
    starter = notebook_path.read_text(encoding="utf-8")  # written with the folder
    again = tmp_path / "again" / "neuron.ipynb"           # as `mcgrade notebook` writes it
    again.parent.mkdir()
    assert main(["notebook", str(NEURON), "-o", str(again)]) == 0
    assert again.read_text(encoding="utf-8") == starter
    nbformat.write(filled(notebook_path), notebook_path)
    answered = notebook_path.read_text(encoding="utf-8")
    assert main(["publish", str(NEURON), "-o", str(folder), "--wheel"]) == 0
    assert notebook_path.read_text(encoding="utf-8") == answered   # never overwritten

    readme = (folder / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```\n(.*?)```", readme, re.S)[0].splitlines()
    wheel = next(folder.glob("mcgrade-*-py3-none-any.whl"))
    assert commands == [f"python -m pip install {wheel.name}", "python -m pytest"]
    assert "pip install mcgrade\n" not in readme

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    python = str(scripts / ("python.exe" if os.name == "nt" else "python"))
    # what activating the environment does: its scripts first on PATH
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MCGRADE_"))}
    env.update(VIRTUAL_ENV=str(venv), PATH=f"{scripts}{os.pathsep}{env.get('PATH', '')}")
    results = []
    for command in commands:
        argv = [python, *shlex.split(command)[1:]]
        results.append(subprocess.run(argv, cwd=folder, env=env, capture_output=True,
                                      text=True, timeout=1500))
    install, check = results
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    expected = grade_file(notebook_path, Grader(load_problem_set(folder / "neuron.yaml")))
    assert 0 < expected.score < expected.max_score
    assert check.returncode == 1, check.stdout[-3000:] + check.stderr[-3000:]  # mistakes fail
    assert f"mcgrade: {expected.score:g}/{expected.max_score:g} points" in check.stdout
    passed = sum(v.status == "correct" for v in expected.verdicts)
    assert f"{len(expected.verdicts) - passed} failed, {passed} passed" in check.stdout
    where = subprocess.run([python, "-c", "import mcgrade; "
                            "print(mcgrade.__file__)"], cwd=folder, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert Path(where.strip()).is_relative_to(venv)      # the wheel's, not this checkout's


def test_the_wheel_holds_the_package_and_the_same_files_give_the_same_bytes(
        tmp_path: Path) -> None:
    first = build_wheel(tmp_path)
    data = first.read_bytes()
    assert build_wheel(tmp_path).read_bytes() == data
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        info = first.name.removesuffix("-py3-none-any.whl") + ".dist-info"
        assert {"mcgrade/__init__.py", "mcgrade/jupyter.py", "mcgrade/pytest_plugin.py",
                f"{info}/METADATA", f"{info}/WHEEL", f"{info}/RECORD",
                f"{info}/entry_points.txt"} <= set(names)
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        metadata = archive.read(f"{info}/METADATA").decode()
        assert re.search(r"^Requires-Dist: pytest>=", metadata, re.M)   # a runtime need
        assert "pytest11" in archive.read(f"{info}/entry_points.txt").decode()
        record = archive.read(f"{info}/RECORD").decode().splitlines()
        assert len(record) == len(names)
