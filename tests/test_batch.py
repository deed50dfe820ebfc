"""``mcgrade grade`` over a folder: the outputs against golden files, a hostile class, the
CSV formula guard, resume, interrupts (Ctrl-C and SIGTERM), and byte-identical re-runs.

Golden files live in tests/golden/batch/; MCGRADE_UPDATE_GOLDEN=1 rewrites them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mcgrade.batch import progress
from mcgrade.cli import main
from mcgrade.reporters import csv_report
from mcgrade.submission.layers import choose
from tests.test_cli import SET

GOLDEN = Path(__file__).parent / "golden" / "batch"
HERE = choose().label                   # the sandbox this machine grades in
RIGHT = 'import numpy as np\ndz_dw = "x.T"\ndz_db = 1\nshape_dz_dx = (1, "n")\n' \
        'at_one = np.array([[2.0, 4.0]])\n'
CLASS = {
    "alice.py": RIGHT.replace('"x.T"', '"x"'),            # transposed: half credit
    "bob.py": RIGHT,
    "=cmd.py": RIGHT,                                     # an id a spreadsheet would run
    "hang.py": 'dz_db = 1\nwhile True:\n    pass\n',
    "crash.py": 'dz_db = 1\nraise RuntimeError("boom")\n',
    "garbage.ipynb": "{not a notebook",
}


@pytest.fixture
def course(tmp_path: Path) -> tuple[Path, Path]:
    return make_course(tmp_path)


def make_course(tmp_path: Path) -> tuple[Path, Path]:
    """The problem set (1 s time limit) and a folder with the class of CLASS."""
    problems = tmp_path / "neuron.yaml"
    problems.write_text("timeout: 1\n" + textwrap.dedent(SET), encoding="utf-8")
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name, text in CLASS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return problems, folder


def grade(problems: Path, *args: str) -> int:
    return main(["grade", *args, "--problems", str(problems), "--jobs", "2"])


def golden(name: str, text: str) -> None:
    """Compare with the golden file, which was graded under bwrap (the sandbox's name is
    the one thing that differs from machine to machine)."""
    text = text.replace(HERE, "bwrap")
    path = GOLDEN / name
    if os.environ.get("MCGRADE_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_every_output_matches_its_golden_file(course, tmp_path, capsys) -> None:
    problems, folder = course
    out = tmp_path / "results"
    assert grade(problems, str(folder), "--out", str(out)) == 0
    golden("grades.csv", (out / "grades.csv").read_text(encoding="utf-8"))
    golden("grades.json", (out / "grades.json").read_text(encoding="utf-8"))
    golden("gradescope-alice.json",
           (out / "gradescope" / "alice.json").read_text(encoding="utf-8"))
    golden("gradescope-hang.json",
           (out / "gradescope" / "hang.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in (out / "gradescope").iterdir()) == [
        "%3Dcmd.json", "alice.json", "bob.json", "crash.json", "garbage.json", "hang.json"]
    captured = capsys.readouterr()
    assert captured.out == (f"mcgrade: 6 students graded against neuron.yaml (6 now, 5 of "
                            f"them run in the {HERE} sandbox, 0 "
                            f"unchanged since the last run); the gradebook holds 6 "
                            f"students; wrote {out}/grades.csv, {out}/grades.json and "
                            f"{out}/gradescope/\n"
                            "mcgrade: 1 had nothing to grade (garbage: not a valid "
                            f"notebook); see the notes column of {out}/grades.csv\n")
    assert "mcgrade: [6/6] hang graded 1/5\n" in captured.err
    records = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    assert [r["student"] for r in records] == ["=cmd", "alice", "bob", "crash", "garbage",
                                              "hang"]


def test_a_class_is_never_graded_against_a_student_copy(course, tmp_path, capsys) -> None:
    problems, folder = course
    out = tmp_path / "r"
    assert grade(problems, str(folder), "--out", str(out)) == 0
    book = (out / "grades.csv").read_bytes()
    assert main(["publish", str(problems), "-o", str(tmp_path / "student")]) == 0
    copy = tmp_path / "student" / "neuron.yaml"           # the same name as the real set
    capsys.readouterr()
    assert grade(copy, str(folder), "--out", str(out)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{copy} is a student copy (published: true" in err
    assert "grade the class with your own set" in err
    assert (out / "grades.csv").read_bytes() == book       # untouched
    # a student's local check of their own file stays allowed
    assert main(["grade", str(folder / "bob.py"), "--problems", str(copy)]) == 0


def test_a_hostile_class_still_gets_a_row_each(course, tmp_path) -> None:
    problems, folder = course
    assert grade(problems, str(folder), "--out", str(tmp_path / "r")) == 0
    records = json.loads((tmp_path / "r" / "grades.json").read_text(encoding="utf-8"))
    by_name = {r["submission"]: r for r in records}
    assert len(records) == len(CLASS)
    assert by_name["bob.py"]["score"] == by_name["=cmd.py"]["score"] == 5
    assert by_name["hang.py"]["score"] == by_name["crash.py"]["score"] == 1   # dz_db
    assert [p["status"] for p in by_name["hang.py"]["problems"]] == \
        ["timeout", "correct", "timeout", "timeout"]
    assert {p["status"] for p in by_name["garbage.ipynb"]["problems"]} == {"error"}


def test_the_csv_never_starts_a_cell_with_a_formula() -> None:
    assert [csv_report.cell(t) for t in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "alice",
                                         "a=b")] == \
        ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "alice", "a=b"]


def test_csv_columns_and_the_guarded_id(course, tmp_path) -> None:
    problems, folder = course
    assert grade(problems, str(folder), "--csv", str(tmp_path / "book.csv"),
                 "--out", str(tmp_path / "r")) == 0
    lines = (tmp_path / "book.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == ("student,submission,dz_dw,dz_db,shape_dz_dx,at_one,total,"
                        "max_score,notes")
    assert lines[1] == "'=cmd,'=cmd.py,2,1,1,1,5,5,"
    assert not (tmp_path / "r" / "grades.csv").exists()


def test_a_rerun_resumes_and_force_regrades(course, tmp_path, capsys) -> None:
    problems, folder = course
    out = str(tmp_path / "r")
    assert grade(problems, str(folder), "--out", out) == 0
    outputs = ("grades.csv", "grades.json", "gradescope/alice.json")
    first = {name: (tmp_path / "r" / name).read_bytes() for name in outputs}
    capsys.readouterr()
    assert grade(problems, str(folder), "--out", out) == 0
    captured = capsys.readouterr()
    assert "(0 now, 6 unchanged since the last run)" in captured.out
    assert "mcgrade: [1/6] =cmd graded 5/5 (done before)\n" in captured.err
    # a resume with nothing to do changes no byte of any output
    assert {name: (tmp_path / "r" / name).read_bytes() for name in outputs} == first
    (folder / "alice.py").write_text(RIGHT, encoding="utf-8")           # alice fixes it
    assert grade(problems, str(folder), "--out", out) == 0
    captured = capsys.readouterr()
    assert f"(1 now in the {HERE} sandbox, 5 unchanged since the last run)" in captured.out
    assert "mcgrade: [6/6] alice graded 5/5\n" in captured.err
    assert grade(problems, str(folder), "--out", out, "--force") == 0
    assert f"(6 now, 5 of them run in the {HERE} sandbox, 0 unchanged since the last run)" in capsys.readouterr().out


def test_a_submission_this_machine_failed_to_run_is_graded_on_the_next_run(
        course, tmp_path, capsys, monkeypatch) -> None:
    """The pool lost bob's job twice (its sandbox never reported): the run says so, exits
    3, and the same command again grades bob, and only bob."""
    import mcgrade.submission as submission
    from mcgrade.submission.protocol import RunResult

    problems, folder = course
    to_result = submission.to_result
    lost = "bob.py could not be graded: its sandbox ended twice without a whole report"

    def losing_bob(job, outcome, **kw):
        if job.payload["label"] == "bob.py":
            return RunResult("internal-error", notes=(lost,))
        return to_result(job, outcome, **kw)

    monkeypatch.setattr(submission, "to_result", losing_bob)
    out = str(tmp_path / "r")
    assert grade(problems, str(folder), "--out", out) == 3
    err = capsys.readouterr().err
    assert err.endswith("mcgrade: 1 of them could not be run here (bob): a fault of this "
                        "machine, not theirs, and their rows score 0 for now. Run the same "
                        "command again to grade them.\n")
    rows = (tmp_path / "r" / "grades.csv").read_text(encoding="utf-8")
    assert "bob,bob.py,0,0,0,0,0,5," in rows and lost in rows
    monkeypatch.setattr(submission, "to_result", to_result)
    assert grade(problems, str(folder), "--out", out) == 0
    assert f"(1 now in the {HERE} sandbox, 5 unchanged since the last run)" in capsys.readouterr().out
    assert "bob,bob.py,2,1,1,1,5,5," in (tmp_path / "r" / "grades.csv").read_text(encoding="utf-8")


def test_grading_is_deterministic(course, tmp_path) -> None:
    problems, folder = course
    texts = []
    for run in ("a", "b"):
        assert grade(problems, str(folder), "--out", str(tmp_path / run)) == 0
        texts.append([(tmp_path / run / name).read_bytes()
                      for name in ("grades.csv", "grades.json")])
    assert texts[0] == texts[1]


def test_ctrl_c_keeps_what_is_done_and_a_rerun_finishes(course, tmp_path, capsys,
                                                        monkeypatch) -> None:
    problems, folder = course
    update = progress.Progress.update
    seen = []

    def interrupted(self: progress.Progress, graded: object) -> None:
        update(self, graded)                                 # type: ignore[arg-type]
        seen.append(graded)
        if len(seen) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(progress.Progress, "update", interrupted)
    out = tmp_path / "r"
    assert grade(problems, str(folder), "--out", str(out)) == 130
    rows = (out / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["'=cmd", "alice"]
    err = capsys.readouterr().err
    assert "mcgrade: stopped after 2 of 6 students;" in err
    assert err.endswith("mcgrade: interrupted\n")
    monkeypatch.setattr(progress.Progress, "update", update)
    assert grade(problems, str(folder), "--out", str(out)) == 0
    assert f"(4 now, 3 of them run in the {HERE} sandbox, 2 unchanged since the last run)" in capsys.readouterr().out
    assert len((out / "grades.csv").read_text(encoding="utf-8").splitlines()) == 7


def test_a_killed_run_leaves_whole_records(course, tmp_path) -> None:
    problems, folder = course
    (folder / "hang.py").write_text("import time\ntime.sleep(30)\n", encoding="utf-8")
    problems.write_text(problems.read_text(encoding="utf-8").replace(
        "timeout: 1", "timeout: 30"), encoding="utf-8")
    out = tmp_path / "r"
    command = [sys.executable, "-m", "mcgrade", "grade", str(folder), "--problems",
               str(problems), "--out", str(out), "--jobs", "1"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out / "records" / "garbage.json").exists():
        time.sleep(0.1)
    time.sleep(0.5)                              # hang.py is running now
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert "mcgrade: stopped after 5 of 6 students;" in err
    rows = (out / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["'=cmd", "alice", "bob", "crash",
                                                   "garbage"]
    for record in (out / "records").iterdir():
        json.loads(record.read_text(encoding="utf-8"))            # whole, every one
    assert not list((out / "records").glob(".*"))                 # no temporary left


def test_two_files_for_one_student_are_refused_before_grading(course, tmp_path,
                                                              capsys) -> None:
    problems, folder = course
    (folder / "bob.ipynb").write_text("{}", encoding="utf-8")
    assert grade(problems, str(folder), "--out", str(tmp_path / "r")) == 1
    assert capsys.readouterr().err == (
        f"mcgrade: error: student 'bob' has 2 submissions: {folder}/bob.ipynb, "
        f"{folder}/bob.py. Keep one file per student, or give --id-pattern to say which "
        "part of a file name is the id\n")
    assert not (tmp_path / "r").exists()


def test_single_file_options_are_refused_in_a_batch(course, capsys) -> None:
    problems, folder = course
    assert grade(problems, str(folder), "--json", "-") == 1
    assert capsys.readouterr().err == ("mcgrade: error: --json - is for one file; give a "
                                       "path for a batch's JSON array\n")


def test_a_check_this_machine_could_not_finish_is_graded_on_the_next_run(
        course, tmp_path, capsys, monkeypatch) -> None:
    """The last-resort guard fired on one check (a machine too loaded, a hang nobody
    foresaw): that student's row says so and scores nothing for now, the run exits 3,
    and the same command again grades that student, and only them."""
    from mcgrade.engine import budget
    from mcgrade.errors import CheckAbandoned

    problems, folder = course
    real, calls = budget.finish_within, []

    def first_abandoned(seconds, what, compute):
        calls.append(what)
        if len(calls) == 1:
            raise CheckAbandoned(f"this machine could not finish checking {what} within "
                                 "60 s (a fault of the machine, not of the answer); grade "
                                 "it again")
        return real(seconds, what, compute)
    monkeypatch.setattr(budget, "finish_within", first_abandoned)
    out = str(tmp_path / "r")
    assert grade(problems, str(folder), "--out", out) == 3
    assert "1 of them could not be run here" in capsys.readouterr().err
    monkeypatch.setattr(budget, "finish_within", real)
    assert grade(problems, str(folder), "--out", out) == 0
    assert f"(1 now in the {HERE} sandbox, 5 unchanged" in capsys.readouterr().out
