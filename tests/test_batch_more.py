"""Batch grading's parts: student ids, the Gradescope autograder zip (run as Gradescope
runs it), and grading on a Dask cluster (a LocalCluster)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mcgrade.batch import Entry, Ledger, grade_many, plan
from mcgrade.batch.autograder import build
from mcgrade.batch.ids import assign, compile_pattern, file_name, from_name
from mcgrade.cli import main
from mcgrade.errors import UsageError
from mcgrade.model import MISSING, Answer, GradeReport
from mcgrade.problemset import load_problem_set
from tests.test_batch import CLASS, make_course


@pytest.fixture
def course(tmp_path: Path) -> tuple[Path, Path]:
    return make_course(tmp_path)


def test_ids_come_from_the_name_then_the_metadata(tmp_path) -> None:
    named = tmp_path / "alice_hw1.ipynb"
    named.write_text("{}", encoding="utf-8")
    other = tmp_path / "submission.ipynb"
    other.write_text(json.dumps({"metadata": {"mcgrade": {"student": "bob"}}}),
                     encoding="utf-8")
    pattern = compile_pattern(r"^(?P<id>[a-z]+)_hw1")
    assert assign([named, other], pattern) == {"alice": named, "bob": other}
    assert from_name(named, None) == "alice_hw1"


def test_a_file_without_an_id_is_named_in_the_message(tmp_path) -> None:
    stray = tmp_path / "notes.py"
    stray.write_text("", encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        assign([stray], compile_pattern(r"^(?P<id>\d+)_"))
    assert str(caught.value) == (
        f"{stray}: no student id (the name does not match --id-pattern and the "
        "notebook's metadata has no mcgrade.student). Keep one file per student, or give "
        "--id-pattern to say which part of a file name is the id")


def test_a_pattern_needs_its_id_group() -> None:
    with pytest.raises(UsageError, match="has no group named id"):
        compile_pattern(r"^\w+")


def test_output_file_names_cannot_escape_their_folder() -> None:
    assert [file_name(s) for s in ("alice", "../x", ".hidden", "a b", "=1")] == \
        ["alice", "%2E.%2Fx", "%2Ehidden", "a%20b", "%3D1"]


def test_the_autograder_zip_holds_what_gradescope_runs(course, tmp_path) -> None:
    problems, _ = course
    data = build(problems)
    assert build(problems) == data                                # byte-identical
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert {"setup.sh", "run_autograder", "neuron.yaml", "mcgrade-src/pyproject.toml",
            "mcgrade-src/mcgrade/cli.py"} <= set(names)
    assert archive.getinfo("run_autograder").external_attr >> 16 == 0o100755
    assert not [n for n in names if "__pycache__" in n]


def test_run_autograder_grades_a_submission_as_gradescope_would(course, tmp_path,
                                                                capsys) -> None:
    problems, folder = course
    zip_path = tmp_path / "autograder.zip"
    assert main(["gradescope", str(problems), "-o", str(zip_path)]) == 0
    assert capsys.readouterr().out.startswith(f"mcgrade: wrote {zip_path}, a Gradescope")
    root = tmp_path / "autograder"
    zipfile.ZipFile(zip_path).extractall(root / "source")
    (root / "submission").mkdir()
    shutil.copy(folder / "alice.py", root / "submission")
    mcgrade = shutil.which("mcgrade")
    assert mcgrade
    env = {"AUTOGRADER_ROOT": str(root), "MCGRADE": mcgrade, "PATH": "/usr/bin:/bin"}
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                   check=True, capture_output=True)
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 4
    assert [t["score"] for t in results["tests"]] == [1, 1, 1, 1]
    (root / "submission" / "extra.py").write_text("", encoding="utf-8")
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, check=True)
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 0 and "found 2" in results["output"]


VARIANT_SET = """\
title: Scaled
params:
  a: {range: [2, 9]}
symbols:
  n: {dimension: true, sizes: [2]}
  x: {shape: [n, 1]}
problems:
  - id: scaled
    derivative: {of: "{a} * x.T @ x", wrt: x}
"""


def _run_autograder(root: Path, metadata: dict | None) -> dict:
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    mcgrade = shutil.which("mcgrade")
    assert mcgrade
    env = {"AUTOGRADER_ROOT": str(root), "MCGRADE": mcgrade, "PYTHON": sys.executable,
           "PATH": "/usr/bin:/bin"}
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, check=True,
                   capture_output=True)
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def test_gradescope_grades_the_variant_of_the_student_who_submitted(tmp_path, capsys) -> None:
    """The id comes from Gradescope's submission_metadata.json, not the file's name: every
    student uploads "hw.py". Without an id a set with params can't be graded."""
    problems = tmp_path / "scaled.yaml"
    problems.write_text(VARIANT_SET, encoding="utf-8")
    students = {}
    for i in range(40):
        a = dict(load_problem_set(problems, f"s{i}@uni.edu").variant)["a"]
        students.setdefault(a, f"s{i}@uni.edu")
    (a1, alice), (a2, bob) = sorted(students.items())[:2]
    zip_path = tmp_path / "autograder.zip"
    assert main(["gradescope", str(problems), "-o", str(zip_path)]) == 0
    assert "graded in the variant of its student's Gradescope email" in capsys.readouterr().out
    root = tmp_path / "autograder"
    zipfile.ZipFile(zip_path).extractall(root / "source")
    (root / "submission").mkdir()
    (root / "submission" / "hw.py").write_text(f'scaled = "{2 * a1} * x.T"\n',
                                               encoding="utf-8")
    user = {"id": 7, "name": "A", "sid": "123"}
    assert _run_autograder(root, {"users": [{**user, "email": alice}]})["score"] == 1
    assert _run_autograder(root, {"users": [{**user, "email": bob}]})["score"] == 0
    missing = _run_autograder(root, {"users": [user]})
    assert missing["score"] == 0 and "users[0].email" in missing["output"]
    assert _run_autograder(root, {"users": [{**user, "email": "a$(reboot)"}]})["score"] == 0


def test_a_dask_cluster_grades_the_same_as_this_machine(course, tmp_path) -> None:
    distributed = pytest.importorskip("distributed")
    problems, folder = course
    problem_set = load_problem_set(problems)
    here = Ledger(tmp_path / "here")
    local = {g.entry.student: g.entry.report
             for g in grade_many(plan([folder], problems, here), problem_set, here, jobs=2)}
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster:
        there = Ledger(tmp_path / "there")
        remote = {g.entry.student: g.entry.report
                  for g in grade_many(plan([folder], problems, there), problem_set,
                                      there, jobs=2, dask=cluster.scheduler_address)}
    assert remote == local
    assert len(remote) == len(CLASS)
    assert sorted(p.name for p in (tmp_path / "there" / "records").iterdir()) == \
        sorted(p.name for p in (tmp_path / "here" / "records").iterdir())


def test_feedback_pages_and_the_class_report_are_written(course, tmp_path,
                                                         capsys) -> None:
    problems, folder = course
    pages = tmp_path / "feedback"
    assert main(["grade", str(folder), "--problems", str(problems), "--out",
                 str(tmp_path / "r"), "--feedback", str(pages)]) == 0
    assert sorted(p.name for p in pages.iterdir()) == [
        "%3Dcmd.html", "alice.html", "bob.html", "class_report.html", "crash.html",
        "garbage.html", "hang.html"]
    alice = (pages / "alice.html").read_text(encoding="utf-8")
    assert "alice.py" in alice and "Your answer" in alice       # answers kept in records
    assert "Class report" in (pages / "class_report.html").read_text(encoding="utf-8")
    assert f", {pages}/ and " in capsys.readouterr().out


def test_records_keep_every_kind_of_answer() -> None:
    answers = {"f": Answer("function", value=(Answer("number", value=1.5),
                                              Answer("timeout", text="slow"))),
               "a": Answer("array", value=(1.0, 2.0), shape=(2, 1)),
               "s": Answer("shape", value=(1, "n")), "t": Answer("string", text="x.T"),
               "m": MISSING}
    report = GradeReport("alice.py", "set.yaml", ())
    entry = Entry("alice", "alice.py", "k", report, answers)
    assert Entry.from_json(json.loads(entry.to_json())) == entry
