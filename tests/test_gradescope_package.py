"""The Gradescope autograder zip, run as Gradescope runs it.

The zip is unpacked into a simulated ``/autograder`` tree (``run_autograder`` honours
``AUTOGRADER_ROOT``; ``MCGRADE``/``PYTHON`` point at this interpreter instead of the venv
``setup.sh`` would make), a submission is put in ``submission/``, and every results.json is
checked against the fields of Gradescope's autograder specification. ``setup.sh`` runs with
``apt-get``, ``python3`` and the like replaced by shims on PATH: nothing is installed.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from mcgrade.authoring.publish import publish
from mcgrade.batch.autograder import build
from mcgrade.cli import main
from mcgrade.errors import ProblemSetError
from mcgrade.model import GradeReport, Verdict
from mcgrade.problemset import parse_problem_set
from mcgrade.reporters import gradescope

ROOT = Path(__file__).parent.parent
NEURON = ROOT / "problem_sets" / "neuron.yaml"
ALICE = ROOT / "examples" / "neuron_alice.ipynb"           # 12/25 against neuron.yaml
SOLUTION = ROOT / "examples" / "neuron_solution.py"        # 25/25
SET_NAME = "neuron set's.yaml"                              # a name that needs quoting

# --- Gradescope's results.json, as its specification documents it ---------------------

VISIBILITIES = {"visible", "after_due_date", "after_published", "hidden"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
NUMBER = (int, float)
TOP = {"score": NUMBER, "execution_time": NUMBER, "output": str, "output_format": str,
       "test_output_format": str, "test_name_format": str, "visibility": str,
       "stdout_visibility": str, "extra_data": dict, "tests": list, "leaderboard": list}
TEST = {"score": NUMBER, "max_score": NUMBER, "status": str, "name": str,
        "name_format": str, "number": str, "output": str, "output_format": str,
        "tags": list, "visibility": str, "extra_data": dict}


def check_fields(record: dict[str, Any], allowed: dict[str, Any]) -> None:
    for key, value in record.items():
        assert key in allowed, f"{key!r} is not a field Gradescope documents"
        assert isinstance(value, allowed[key]) and not isinstance(value, bool), (key, value)
        if isinstance(value, float):
            assert math.isfinite(value), (key, value)
        if key.endswith("visibility"):
            assert value in VISIBILITIES, (key, value)
        if key.endswith("format"):
            assert value in FORMATS, (key, value)


def valid_results(text: str) -> dict[str, Any]:
    """``text`` parsed, after checking it is a results.json Gradescope accepts: a total
    score, documented fields of the documented types, plain-text output."""
    results = json.loads(text)
    check_fields(results, TOP)
    assert "score" in results and results.get("output_format") == "text"
    for test in results.get("tests", []):
        check_fields(test, TEST)
        assert test.get("status", "passed") in ("passed", "failed")
        assert all(isinstance(tag, str) for tag in test.get("tags", []))
    return results


# --- the simulated /autograder ----------------------------------------------------------

@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip for neuron.yaml (saved under a name with a space and a quote), built by the
    CLI as an instructor would, with hw1.ipynb as the submission's name."""
    folder = tmp_path_factory.mktemp("package")
    problems = folder / SET_NAME
    shutil.copy(NEURON, problems)
    zip_path = folder / "autograder.zip"
    assert main(["gradescope", str(problems), "-o", str(zip_path),
                 "--submission-name", "hw1.ipynb"]) == 0
    return zip_path


def unpack(zip_path: Path, tmp_path: Path) -> Path:
    root = tmp_path / "autograder"
    zipfile.ZipFile(zip_path).extractall(root / "source")
    (root / "submission").mkdir()
    return root


@pytest.fixture
def root(package: Path, tmp_path: Path) -> Path:
    return unpack(package, tmp_path)


def run_autograder(root: Path, **env: str) -> dict[str, Any]:
    """Run run_autograder as Gradescope would; it must exit 0 and leave a valid file."""
    environment = {"AUTOGRADER_ROOT": str(root), "PATH": "/usr/bin:/bin",
                   "MCGRADE": f"{sys.executable} -m mcgrade", "PYTHON": sys.executable,
                   "HOME": str(root)}
    environment.update(env)
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")],
                          env={k: v for k, v in environment.items() if v},
                          cwd=root, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return valid_results((root / "results" / "results.json").read_text(encoding="utf-8"))


def put(root: Path, relative: str | bytes, source: Path | None = None) -> Path:
    """A file of the submission: a copy of ``source``, or empty."""
    base = os.fsencode(root / "submission")
    path = Path(os.fsdecode(os.path.join(base, os.fsencode(relative))))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(source.read_bytes() if source else b"")
    return path


def graded_alice(results: dict[str, Any]) -> None:
    assert results["score"] == 12 and len(results["tests"]) == 17
    assert {t["visibility"] for t in results["tests"]} == {"visible"}
    sandbox = results.get("extra_data", {}).get("sandbox")
    if sandbox:           # named once the grader reports it
        assert f"Graded in the sandbox: {sandbox}" in results["output"]


# --- finding the file to grade -----------------------------------------------------------

def test_a_notebook_in_a_folder_is_found_and_leftovers_are_ignored(root) -> None:
    put(root, "My Homework/week 1/notebook (final).ipynb", ALICE)
    put(root, "My Homework/week 1/.ipynb_checkpoints/notebook (final)-checkpoint.ipynb",
        SOLUTION)
    put(root, "__MACOSX/My Homework/week 1/._notebook (final).ipynb", SOLUTION)
    put(root, "My Homework/__pycache__/x.py")
    graded_alice(run_autograder(root))


def test_in_a_repository_the_notebook_wins_over_python_files(root) -> None:
    put(root, "README.md")
    put(root, ".git/hooks/pre-commit.py")
    put(root, "src/helpers.py")
    put(root, "setup.py")
    put(root, "notebooks/alice.ipynb", ALICE)
    graded_alice(run_autograder(root))


def test_a_python_file_is_graded_when_there_is_no_notebook(root) -> None:
    put(root, "answers/neuron_solution.py", SOLUTION)
    assert run_autograder(root)["score"] == 25


def test_the_configured_name_picks_one_of_several(root) -> None:
    put(root, "drafts/scratch.ipynb", SOLUTION)
    put(root, "final/HW1.IPYNB", ALICE)                  # the name, in another case
    graded_alice(run_autograder(root))


def test_an_empty_submission_says_what_to_submit(root) -> None:
    put(root, "README.md")
    results = run_autograder(root)
    assert results["score"] == 0 and results["tests"] == []
    assert results["output"].startswith("No notebook (.ipynb) or Python file (.py) was found")
    assert "Submit hw1.ipynb." in results["output"]


def test_ambiguous_files_are_listed_with_what_to_do(package, tmp_path) -> None:
    root = unpack(package, tmp_path)
    put(root, 'a/my "hw"\n1\\\t.ipynb', ALICE)          # quotes, a newline, \ and a tab
    put(root, b"b/caf\xc3\xa9 \xff\x07.ipynb", ALICE)    # UTF-8, not UTF-8, a control
    results = run_autograder(root)
    assert results["score"] == 0 and results["tests"] == []
    assert results["output"].startswith("mcgrade found 2 files it could grade")
    assert '"a/my "hw"\n1\\\t.ipynb", "b/café .ipynb"' in results["output"]
    assert "Submit only hw1.ipynb" in results["output"]


def test_two_files_with_the_configured_name_are_ambiguous_too(root) -> None:
    put(root, "one/hw1.ipynb", ALICE)
    put(root, "two/hw1.ipynb", SOLUTION)
    results = run_autograder(root)
    assert results["score"] == 0 and '"one/hw1.ipynb", "two/hw1.ipynb"' in results["output"]


def test_a_link_is_never_followed(root) -> None:
    """The grader runs as root: a link in a repository could point at the answer key."""
    (root / "submission" / "hw1.ipynb").symlink_to(root / "source" / SET_NAME)
    results = run_autograder(root)
    assert results["score"] == 0 and results["output"].startswith("No notebook")


def test_an_odd_file_name_is_graded(root) -> None:
    put(root, "ünïcode dir/it's a \"notebook\".ipynb", ALICE)
    graded_alice(run_autograder(root))


# --- results.json whatever happens to mcgrade --------------------------------------------

def fake(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/bash\n" + body, encoding="utf-8")
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize("case, expected", [
    ("fails", "mcgrade stopped with exit status 3"),
    ("import", "mcgrade stopped with exit status 1"),
    ("missing", "mcgrade is not installed or can't start"),
    ("killed", "mcgrade was killed (signal 9"),
    ("garbage", "mcgrade ended without writing its results"),
])
def test_a_broken_mcgrade_still_leaves_a_valid_results_file(root, tmp_path, case,
                                                            expected) -> None:
    put(root, "hw1.ipynb", ALICE)
    env: dict[str, str] = {}
    if case == "fails":
        env["MCGRADE"] = fake(tmp_path, "mcgrade", "echo 'boom \"x\"' >&2; exit 3\n")
    elif case == "import":                       # a Python whose mcgrade raises on import
        shadow = tmp_path / "shadow" / "mcgrade"
        shadow.mkdir(parents=True)
        (shadow / "__init__.py").write_text("raise ImportError('broken install')\n")
        env["PYTHONPATH"] = str(shadow.parent)
    elif case == "missing":                      # no venv: the defaults point at nothing
        env.update(MCGRADE="", PYTHON="")
    elif case == "killed":
        env["MCGRADE"] = fake(tmp_path, "mcgrade", "kill -9 $$\n")
    else:                                        # writes a results.json that is not JSON
        env["MCGRADE"] = fake(tmp_path, "mcgrade",
                              'for a; do [ "$prev" = --gradescope ] && echo "{oops" > "$a"; '
                              'prev=$a; done; exit 0\n')
    results = run_autograder(root, **env)
    assert results["score"] == 0 and results["tests"] == []
    assert results["output"].startswith("The autograder could not grade this submission: "
                                        + expected)
    assert "not a problem with your work" in results["output"]


def test_results_are_checked_without_any_python(root, tmp_path) -> None:
    """With no python3 on PATH the check falls back to bash: a file naming a score."""
    put(root, "hw1.ipynb", ALICE)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "find", "sort", "tr", "iconv", "mkdir", "mv", "rm", "cat", "head",
                 "grep"):
        found = shutil.which(tool, path="/usr/bin:/bin")
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    writes = fake(tmp_path, "mcgrade", 'for a; do [ "$prev" = --gradescope ] && '
                  "printf '{\"score\": 3, \"output\": \"\", \"output_format\": \"text\"}' "
                  '> "$a"; prev=$a; done\n')
    assert run_autograder(root, MCGRADE=writes, PATH=str(bin_dir))["score"] == 3
    fails = fake(tmp_path, "fails", "exit 1\n")
    assert run_autograder(root, MCGRADE=fails, PATH=str(bin_dir))["score"] == 0


# --- visibility --------------------------------------------------------------------------

VISIBLE_SET = """\
title: Visibility
visibility: after_due_date
symbols:
  x: {}
problems:
  - id: first
    answer: "2*x"
    visibility: visible
  - id: second
    answer: "3*x"
  - id: bonus
    points: 0
    answer: "x"
    visibility: hidden
"""


def test_each_test_takes_its_problems_visibility(tmp_path) -> None:
    problems = tmp_path / "vis.yaml"
    problems.write_text(VISIBLE_SET, encoding="utf-8")
    root = unpack_built(problems, tmp_path)
    put(root, "answers.py").write_text('first = "2*x"\nsecond = "x"\n', encoding="utf-8")
    results = run_autograder(root)
    assert results["visibility"] == "after_due_date" and results["score"] == 1
    assert [(t["name"], t["visibility"]) for t in results["tests"]] == [
        ("first", "visible"), ("second", "after_due_date"), ("bonus", "hidden")]


def unpack_built(problems: Path, tmp_path: Path) -> Path:
    zip_path = tmp_path / "autograder.zip"
    zip_path.write_bytes(build(problems))
    return unpack(zip_path, tmp_path)


def test_a_bad_visibility_is_one_line_with_the_file_line_and_problem() -> None:
    bad = VISIBLE_SET.replace("visibility: hidden", "visibility: after_due")
    with pytest.raises(ProblemSetError) as caught:
        parse_problem_set(bad, "vis.yaml")
    assert str(caught.value) == (
        "vis.yaml:14: problems[2] (id='bonus') → visibility: expected visible or "
        "after_due_date or after_published or hidden, got 'after_due'; did you mean "
        "'after_due_date'?")
    with pytest.raises(ProblemSetError, match=r"^vis.yaml:2: visibility: expected visible"):
        parse_problem_set(VISIBLE_SET.replace("after_due_date", "soon", 1), "vis.yaml")


def test_visibility_defaults_to_visible_and_the_student_copy_drops_it() -> None:
    plain = parse_problem_set(VISIBLE_SET.replace("visibility: after_due_date\n", ""))
    assert plain.visibility == "visible"
    assert [p.visibility for p in plain.problems] == ["visible", "visible", "hidden"]
    assert "visibility" not in publish(parse_problem_set(VISIBLE_SET))


# --- the reporter ---------------------------------------------------------------------------

def report(sandbox: str) -> GradeReport:
    return GradeReport("hw1.ipynb", "vis.yaml", (
        Verdict("first", "correct", 1, 1, (), "Correct."),
        Verdict("second", "incorrect", 0, 1, ("sign",), "The sign <b>is</b> wrong.")),
        notes=("a note",), sandbox=sandbox)


def test_the_output_and_extra_data_name_the_sandbox() -> None:
    results = valid_results(gradescope.render(report("process (uid 65534, landlock)"),
                                              problem_set=parse_problem_set(VISIBLE_SET)))
    assert results["output"] == "a note\nGraded in the sandbox: process (uid 65534, landlock)"
    assert results["extra_data"] == {"sandbox": "process (uid 65534, landlock)"}
    assert [t["visibility"] for t in results["tests"]] == ["visible", "after_due_date"]
    assert [t["status"] for t in results["tests"]] == ["passed", "failed"]


def test_an_unknown_sandbox_is_not_named_and_failures_are_valid_too() -> None:
    results = valid_results(gradescope.render(report("")))
    assert results["output"] == "a note" and "extra_data" not in results
    assert "visibility" not in results               # Gradescope's default: visible
    assert {t["visibility"] for t in results["tests"]} == {"visible"}
    failed = valid_results(gradescope.render(None, 'a "quoted"\nfailure'))
    assert failed["score"] == 0 and failed["output"].endswith('a "quoted"\nfailure')


# --- the zip and setup.sh -------------------------------------------------------------------

def test_the_zip_is_reproducible_and_holds_both_scripts(package) -> None:
    problems = package.parent / SET_NAME
    data = build(problems, submission_name="hw1.ipynb")
    assert data == build(problems, submission_name="hw1.ipynb")
    archive = zipfile.ZipFile(io.BytesIO(data))
    for name in ("setup.sh", "run_autograder"):
        assert archive.getinfo(name).external_attr >> 16 == 0o100755
        done = subprocess.run(["bash", "-n"], input=archive.read(name), capture_output=True)
        assert done.returncode == 0, done.stderr
    assert archive.getinfo(SET_NAME).external_attr >> 16 == 0o100600


@pytest.mark.parametrize("name", ["hw1", "a/hw1.ipynb", "hw1.txt"])
def test_the_submission_name_must_be_a_notebook_or_python_file(tmp_path, capsys,
                                                              name) -> None:
    assert main(["gradescope", str(NEURON), "-o", str(tmp_path / "a.zip"),
                 "--submission-name", name]) == 1
    assert "give a file name ending in .ipynb or .py" in capsys.readouterr().err
    assert not (tmp_path / "a.zip").exists()


SHIMS = {
    # apt-get and pip record what they were asked and succeed; python3 -m venv makes a
    # venv whose python runs this interpreter (mcgrade is installed in it)
    "apt-get": 'echo "apt-get $*" >> "$SHIM_LOG"\n',
    "python3": f"""if [ "$1" = -m ] && [ "$2" = venv ]; then
  dir="${{@: -1}}"; mkdir -p "$dir/bin"
  printf '%s\\n' '#!/bin/bash' \\
    'if [ "$1 $2" = "-m pip" ]; then echo "pip $*" >> "$SHIM_LOG"; exit 0; fi' \\
    'exec {sys.executable} "$@"' > "$dir/bin/python"
  chmod +x "$dir/bin/python"; exit 0
fi
exec {sys.executable} "$@"
""",
    "bwrap": "echo bubblewrap 0.9.0\n",
    "sleep": "exit 0\n",
    # as root, setup.sh imports from the venv as uid 65534; here: as whoever runs this
    "setpriv": 'while [ "${1#-}" != "$1" ]; do shift; done\nexec "$@"\n',
    "chown": 'echo "chown $*" >> "$SHIM_LOG"\n',
}


def run_setup(root: Path, tmp_path: Path, **shims: str) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "shims"
    bin_dir.mkdir(exist_ok=True)
    for name, body in {**SHIMS, **shims}.items():
        fake(bin_dir, name, body)
    env = {"AUTOGRADER_ROOT": str(root), "SHIM_LOG": str(tmp_path / "log"),
           "PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env,
                          capture_output=True, text=True, timeout=300)


def test_setup_installs_checks_and_locks_the_key_away(root, tmp_path) -> None:
    done = run_setup(root, tmp_path)
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "log").read_text()
    assert "apt-get install -y -qq --no-install-recommends python3 python3-venv " \
           "python3-pip bubblewrap" in log
    assert f"pip -m pip install --quiet --no-cache-dir {root}/source/mcgrade-src" in log
    assert f"chown -R root:root {root}/source" in log
    assert (root / "source").stat().st_mode & 0o777 == 0o700
    assert (root / "source" / SET_NAME).stat().st_mode & 0o777 == 0o600
    assert (root / "mcgrade-venv" / "bin" / "python").stat().st_mode & 0o005 == 0o005
    assert f"loaded {root}/source/{SET_NAME} - Gradient of a neuron" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("mcgrade setup.sh: OK: mcgrade ")


@pytest.mark.parametrize("shims, message", [
    ({"apt-get": "echo 'E: no network' >&2; exit 100\n"},
     "apt-get update failed (no network?)"),
    ({"python3": 'if [ "$1" = -c ]; then exit 1; fi\necho Python 3.8.10\n'},
     "Python 3.8.10 is too old: mcgrade needs Python 3.10 or newer"),
    ({"python3": f'[ "$1" = -m ] && [ "$2" = venv ] && exit 1\nexec {sys.executable} "$@"\n'},
     "python3 -m venv could not create"),
    ({"python3": f"""if [ "$1" = -m ] && [ "$2" = venv ]; then
  mkdir -p "${{@: -1}}/bin"; printf '#!/bin/bash\\nexit 1\\n' > "${{@: -1}}/bin/python"
  chmod +x "${{@: -1}}/bin/python"; exit 0
fi
exec {sys.executable} "$@"
"""}, "pip could not install mcgrade"),
])
def test_setup_fails_loudly(root, tmp_path, shims, message) -> None:
    done = run_setup(root, tmp_path, **shims)
    assert done.returncode != 0
    assert f"mcgrade setup.sh FAILED: {message}" in done.stderr


def test_setup_fails_when_the_installed_mcgrade_does_not_run(root, tmp_path) -> None:
    broken = SHIMS["python3"].replace(f"exec {sys.executable} \"$@\"' > ",
                                      "exit 1' > ")
    assert broken != SHIMS["python3"]
    done = run_setup(root, tmp_path, python3=broken)
    assert done.returncode != 0
    assert "mcgrade setup.sh FAILED: the installed mcgrade does not run" in done.stderr
