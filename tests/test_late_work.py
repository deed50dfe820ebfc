"""Late work as data: a deadline, a penalty per started day (capped, with a grace period),
per-student extensions, applied from each submission's time — Gradescope's, the
notebook's metadata or the file's, the record saying which — in every output, remembered
beside the records like overrides; a wrong option or extensions row stops the run before
grading, naming what and where."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mcgrade.batch.autograder import build
from mcgrade.cli import main
from tests.test_batch import RIGHT
from tests.test_cli import SET

WRONG = RIGHT.replace('"x.T"', '"x"')                  # 4 of 5 points
DEADLINE = "2026-10-01T23:59+02:00"
DUE = datetime(2026, 10, 1, 21, 59, tzinfo=timezone.utc)
HOUR = 3600
LATE = ["--deadline", DEADLINE, "--late-penalty", "10%/day", "--late-cap", "50%",
        "--grace", "15m"]
CLASS = {                     # file, answers, seconds after the deadline (file time)
    "ontime.py": (RIGHT, -HOUR),
    "grace.py": (RIGHT, 10 * 60),                     # within the 15 minutes' grace
    "oneday.py": (RIGHT, 3 * HOUR),                   # 1 started day: 10%
    "capped.py": (WRONG, 9 * 24 * HOUR),              # 9 days: 90%, capped at 50%
    "extended.py": (RIGHT, 30 * HOUR),                # 2 days, but has 2 more days
}


def notebook(source: str, submitted_at: str | None) -> str:
    """A notebook of one code cell; its metadata says when it was submitted."""
    metadata: dict[str, object] = {"kernelspec": {"name": "python3", "language": "python",
                                                  "display_name": "Python 3"}}
    if submitted_at is not None:
        metadata["mcgrade"] = {"submitted_at": submitted_at}
    cell = {"cell_type": "code", "execution_count": None, "id": "answers", "metadata": {},
            "outputs": [], "source": source}
    return json.dumps({"cells": [cell], "metadata": metadata, "nbformat": 4,
                       "nbformat_minor": 5})


def touch(path: Path, after: float) -> None:
    moment = DUE.timestamp() + after
    os.utime(path, (moment, moment))


def make_class(tmp_path: Path) -> tuple[Path, Path]:
    problems = tmp_path / "neuron.yaml"
    problems.write_text(textwrap.dedent(SET), encoding="utf-8")
    folder = tmp_path / "subs"
    folder.mkdir()
    for name, (source, after) in CLASS.items():
        (folder / name).write_text(source, encoding="utf-8")
        touch(folder / name, after)
    # the notebook's metadata (2 days late) beats its file time (on time)
    (folder / "nb.ipynb").write_text(notebook(RIGHT, "2026-10-03T08:00:00+02:00"),
                                     encoding="utf-8")
    touch(folder / "nb.ipynb", -HOUR)
    return problems, folder


def grade(problems: Path, *args: str) -> int:
    return main(["grade", *args, "--problems", str(problems), "--jobs", "2"])


def grade_one(problems: Path, *args: str) -> int:
    """One file, as run_autograder grades it (no batch option)."""
    return main(["grade", *args, "--problems", str(problems)])


def extensions(tmp_path: Path, text: str) -> Path:
    table = tmp_path / "extensions.csv"
    table.write_bytes(text.encode("utf-8"))
    return table


BOOK = [
    "student,submission,dz_dw,dz_db,shape_dz_dx,at_one,total,max_score,notes,submitted,"
    "days_late,penalty,final_score",
    "capped,capped.py,1,1,1,1,4,5,,2026-10-10T23:59:00+02:00,9,2,2",
    "extended,extended.py,2,1,1,1,5,5,,2026-10-03T05:59:00+02:00,0,0,5",
    "grace,grace.py,2,1,1,1,5,5,,2026-10-02T00:09:00+02:00,0,0,5",
    "nb,nb.ipynb,2,1,1,1,5,5,,2026-10-03T08:00:00+02:00,2,1,4",
    "oneday,oneday.py,2,1,1,1,5,5,,2026-10-02T02:59:00+02:00,1,0.5,4.5",
    "ontime,ontime.py,2,1,1,1,5,5,,2026-10-01T22:59:00+02:00,0,0,5",
]


def test_a_late_policy_is_in_every_output_and_remembered(tmp_path, capsys) -> None:
    problems, folder = make_class(tmp_path)
    out = tmp_path / "results"
    # as a spreadsheet saves it: a BOM, CRLF, its own column order and case, blank lines
    table = extensions(tmp_path, "\ufeffDeadline , Student\r\n\r\n+2d, extended \r\n")
    assert grade(problems, str(folder), "--out", str(out), *LATE, "--extensions",
                 str(table), "--moodle", "--feedback", str(out / "pages")) == 0
    captured = capsys.readouterr()
    assert ("mcgrade: late work (deadline 2026-10-01T23:59:00+02:00, 10%/day, max 50%, "
            "grace 15m): 3 of 6 students late, 1 with an extension; the gradebooks show "
            "the raw score (total), the penalty and the final_score") in captured.out
    assert (out / "grades.csv").read_text(encoding="utf-8").splitlines() == BOOK
    assert (out / "moodle.csv").read_text(encoding="utf-8").splitlines() == [
        "Username,Neuron", "capped,2", "extended,5", "grace,5", "nb,4", "oneday,4.5",
        "ontime,5"]
    records = {r["submission"]: r for r in
               json.loads((out / "grades.json").read_text(encoding="utf-8"))}
    oneday = records["oneday.py"]
    assert oneday["score"] == 5                       # SPEC §4's score: the problems' sum
    assert oneday["submitted"] == {"at": "2026-10-02T02:59:00+02:00", "from": "file"}
    assert oneday["late"] == {"deadline": "2026-10-01T23:59:00+02:00", "extension": False,
                              "days": 1, "percent": 10, "penalty": 0.5, "final_score": 4.5}
    assert records["nb.ipynb"]["submitted"]["from"] == "notebook"
    assert records["capped.py"]["late"]["percent"] == 50
    assert records["extended.py"]["late"] == {
        "deadline": "2026-10-03T23:59:00+02:00", "extension": True, "days": 0, "percent": 0,
        "penalty": 0, "final_score": 5}
    results = json.loads((out / "gradescope" / "oneday.json").read_text(encoding="utf-8"))
    assert results["score"] == 4.5 and sum(t["score"] for t in results["tests"]) == 5
    assert results["output"].startswith(
        "Late: submitted 2026-10-02T02:59:00+02:00 (the file's time), 1 day after the "
        "deadline 2026-10-01T23:59:00+02:00: 10% off 5 points is 0.5, so 4.5 points.")
    page = (out / "pages" / "oneday.html").read_text(encoding="utf-8")
    assert ('<p class="late">Late: submitted 2026-10-02T02:59:00+02:00 (the file&#x27;s '
            'time), 1 day after') in page
    # the ledger keeps the time, never the penalty; the policy is kept beside it
    stored = json.loads((out / "records" / "oneday.json").read_text(encoding="utf-8"))
    assert stored["submitted"] == {"at": "2026-10-02T00:59:00Z", "from": "file"}
    assert "late" not in stored and stored["record"]["score"] == 5
    for kept in ("late-policy", "extensions.csv"):
        assert oct((out / "records" / kept).stat().st_mode & 0o777) == "0o600"
    array = (out / "grades.json").read_bytes()
    # a run naming none of it applies what was remembered, and says so; the same
    # inputs give the same bytes
    assert grade(problems, str(folder), "--out", str(out), "--force") == 0
    assert (out / "grades.csv").read_text(encoding="utf-8").splitlines() == BOOK
    assert (out / "grades.json").read_bytes() == array
    assert ("mcgrade: applying the late policy and extensions remembered in "
            f"{out / 'records'}/") in capsys.readouterr().err
    # one option given replaces its own; a touched file's new time is taken, unregraded
    touch(folder / "ontime.py", 26 * HOUR)
    assert grade(problems, str(folder), "--out", str(out), "--late-penalty", "5%/day") == 0
    captured = capsys.readouterr()
    assert "0 now" in captured.out and "6 unchanged since the last run" in captured.out
    rows = (out / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert rows[4] == "nb,nb.ipynb,2,1,1,1,5,5,,2026-10-03T08:00:00+02:00,2,0.5,4.5"
    assert rows[6] == "ontime,ontime.py,2,1,1,1,5,5,,2026-10-03T01:59:00+02:00,2,0.5,4.5"
    # --deadline none drops the policy and its columns, and forgets it
    assert grade(problems, str(folder), "--out", str(out), "--deadline", "none") == 0
    assert (out / "grades.csv").read_text(encoding="utf-8").splitlines()[0] == (
        "student,submission,dz_dw,dz_db,shape_dz_dx,at_one,total,max_score,notes")
    assert "late" not in (out / "grades.json").read_text(encoding="utf-8")
    assert not (out / "records" / "late-policy").exists()
    assert not (out / "records" / "extensions.csv").exists()


def test_overrides_come_first_and_canvas_imports_the_final_score(tmp_path) -> None:
    problems, folder = make_class(tmp_path)
    out, overrides = tmp_path / "results", tmp_path / "overrides.csv"
    overrides.write_text("student,problem,points\ncapped,dz_dw,2\n", encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Neuron (321)\n"
                      '"One, Day",1,S1,oneday,A,\n"Capped, C",2,S2,capped,A,\n',
                      encoding="utf-8")
    assert grade(problems, str(folder), "--out", str(out), *LATE, "--overrides",
                 str(overrides), "--canvas", str(roster)) == 0
    row = (out / "grades.csv").read_text(encoding="utf-8").splitlines()[1]
    # 5 after the override, then 50% off: 2.5
    assert row == ("capped,capped.py,2,1,1,1,5,5,,dz_dw,2026-10-10T23:59:00+02:00,9,2.5,"
                   "2.5")
    assert (out / "canvas.csv").read_text(encoding="utf-8").splitlines() == [
        "Student,ID,SIS User ID,SIS Login ID,Section,Neuron (321)",
        "Points Possible,,,,,5", '"One, Day",1,S1,oneday,A,4.5',
        '"Capped, C",2,S2,capped,A,2.5']


def test_one_file_takes_its_time_from_gradescope(tmp_path, capsys) -> None:
    problems, folder = make_class(tmp_path)
    metadata = tmp_path / "submission_metadata.json"
    created = "2026-10-02T14:22:32.365935-07:00"           # as Gradescope writes it
    metadata.write_text(json.dumps({"id": 1, "created_at": created,
                                    "users": [{"email": "a@uni.edu"}]}), encoding="utf-8")
    record, results = tmp_path / "record.json", tmp_path / "results.json"
    # the notebook's own metadata says it was on time: Gradescope's time wins
    (folder / "nb.ipynb").write_text(notebook(RIGHT, "2026-10-01T08:00:00+02:00"),
                                     encoding="utf-8")
    assert grade_one(problems, str(folder / "nb.ipynb"), *LATE, "--gradescope-metadata",
                 str(metadata), "--json", str(record), "--gradescope", str(results)) == 0
    assert ("mcgrade: Late: submitted 2026-10-02T23:22:32.365935+02:00 (Gradescope's "
            "time), 1 day after the deadline") in capsys.readouterr().out
    data = json.loads(record.read_text(encoding="utf-8"))
    assert data["submitted"] == {"at": "2026-10-02T23:22:32.365935+02:00",
                                 "from": "gradescope"}
    assert data["score"] == 5 and data["late"]["final_score"] == 4.5
    assert json.loads(results.read_text(encoding="utf-8"))["score"] == 4.5
    # without the metadata file (or with a broken one), the notebook's time
    metadata.write_text("{not json", encoding="utf-8")
    assert grade_one(problems, str(folder / "nb.ipynb"), *LATE, "--gradescope-metadata",
                 str(metadata), "--json", str(record)) == 0
    data = json.loads(record.read_text(encoding="utf-8"))
    assert data["submitted"]["from"] == "notebook" and data["late"]["days"] == 0


@pytest.mark.skipif(shutil.which("bash") is None, reason="run_autograder is a bash script")
def test_run_autograder_passes_gradescope_s_time_through(tmp_path) -> None:
    problems, folder = make_class(tmp_path)
    argv = ["--deadline", DEADLINE, "--late-penalty", "10%/day"]
    assert main(["gradescope", str(problems), "-o", str(tmp_path / "a.zip"), *argv]) == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        archive.extractall(root / "source")
    script = root / "source" / "run_autograder"
    assert ("\nLATE=(--deadline 2026-10-01T23:59:00+02:00 --late-penalty 10%/day "
            "--late-cap 100% --grace 0s)\n") in script.read_text(encoding="utf-8")
    with zipfile.ZipFile(io.BytesIO(build(problems))) as plain:     # without a policy
        assert "\nLATE=()\n" in plain.read("run_autograder").decode()
    (root / "submission").mkdir()
    shutil.copy(folder / "oneday.py", root / "submission" / "hw.py")
    (root / "submission_metadata.json").write_text(
        json.dumps({"created_at": "2026-10-03T00:30:00+02:00", "users": []}),
        encoding="utf-8")
    env = {"AUTOGRADER_ROOT": str(root), "PATH": "/usr/bin:/bin", "HOME": str(root),
           "MCGRADE": f"{sys.executable} -m mcgrade", "PYTHON": sys.executable,
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, check=True,
                   capture_output=True, timeout=120)
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 4, results.get("output")     # 2 started days: 20% off 5
    assert results["output"].startswith("Late: submitted 2026-10-03T00:30:00+02:00 "
                                        "(Gradescope's time), 2 days after the deadline")


@pytest.mark.parametrize("options, message", [
    (["--deadline", "2026-10-01T23:59"],
     "--deadline '2026-10-01T23:59' has no time or no UTC offset: write both, e.g. "
     "2026-10-01T23:59+02:00 (or Z for UTC), so that it is the same moment on every "
     "machine"),
    (["--deadline", "Friday"],
     "--deadline 'Friday' is not a date and time: write it in ISO 8601 with its UTC "
     "offset, e.g. 2026-10-01T23:59+02:00 (or Z for UTC)"),
    (["--deadline", DEADLINE, "--late-penalty", "10 per day"],
     "--late-penalty '10 per day': write a percentage of the points per started day or "
     "hour, e.g. 10%/day or 2%/hour"),
    (["--deadline", DEADLINE, "--late-cap", "150%"],
     "--late-cap '150%': write a percentage from 0% to 100%, e.g. 50%"),
    (["--deadline", DEADLINE, "--grace", "15"],
     "--grace '15': write a number and a unit, e.g. 15m, 2h or 1d (s, m, h, d)"),
    (["--late-penalty", "10%/day"],
     "--late-penalty without a deadline: give --deadline too, e.g. --deadline "
     "2026-10-01T23:59+02:00"),
])
def test_a_wrong_option_stops_the_run_before_grading(tmp_path, capsys, options,
                                                     message) -> None:
    problems, folder = make_class(tmp_path)
    out = tmp_path / "results"
    assert grade(problems, str(folder), "--out", str(out), *options) == 1
    assert capsys.readouterr().err == f"mcgrade: error: {message}\n"
    assert not out.exists()
    # one file, as on Gradescope: the same line, before it runs
    assert grade_one(problems, str(folder / "ontime.py"), *options) == 1
    assert capsys.readouterr().err == f"mcgrade: error: {message}\n"


@pytest.mark.parametrize("line, message", [
    ("extnded,+2d", "student 'extnded' is not in the gradebook; did you mean 'extended'?"),
    ("oneday,+2 weeks", "deadline '+2 weeks': give a date and time with its UTC offset, "
                        "e.g. 2026-10-01T23:59+02:00, or a delay after --deadline, e.g. "
                        "+2d or +36h"),
    ("oneday,2026-10-05", "deadline '2026-10-05': give a date and time with its UTC "
                          "offset, e.g. 2026-10-01T23:59+02:00, or a delay after "
                          "--deadline, e.g. +2d or +36h"),
    ("capped,+1d", "'capped' has an extension already on line 2; keep one row"),
])
def test_a_wrong_extensions_row_names_its_line(tmp_path, capsys, line, message) -> None:
    problems, folder = make_class(tmp_path)
    out = tmp_path / "results"
    table = extensions(tmp_path, f"student,deadline\ncapped,2026-10-05T12:00Z\n\n{line}\n")
    assert grade(problems, str(folder), "--out", str(out), *LATE, "--extensions",
                 str(table)) == 1
    assert capsys.readouterr().err == f"mcgrade: error: {table}:4: {message}\n"
    assert not out.exists()


def test_extensions_need_their_columns_and_a_deadline(tmp_path, capsys) -> None:
    problems, folder = make_class(tmp_path)
    table, out = extensions(tmp_path, "student,days\ncapped,2\n"), tmp_path / "results"
    assert grade(problems, str(folder), "--out", str(out), *LATE, "--extensions",
                 str(table)) == 1
    assert capsys.readouterr().err == (
        f"mcgrade: error: {table}:1: the header names the columns student and deadline "
        "(in any order)\n")
    assert grade(problems, str(folder), "--out", str(out), "--extensions", str(table)) == 1
    assert capsys.readouterr().err == (
        "mcgrade: error: --extensions without a deadline: give --deadline too, e.g. "
        "--deadline 2026-10-01T23:59+02:00\n")
