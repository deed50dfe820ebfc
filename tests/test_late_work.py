"""Late work as data: a deadline, a penalty per started day (capped, with a grace period),
per-student extensions, applied from each submission's time — Gradescope's, the
notebook's metadata (only with --notebook-times: a student can write it) or the file's,
the record saying which — in every output, remembered beside the records like
overrides; a wrong option or extensions row stops the run before grading, naming what
and where."""

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
    # with --notebook-times, the notebook's metadata (2 days late) beats its file time
    # (on time)
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
    "deadline,days_late,penalty,final_score",
    "capped,capped.py,1,1,1,1,4,5,,2026-10-10T23:59:00+02:00,2026-10-01T23:59:00+02:00,9,2,2",
    "extended,extended.py,2,1,1,1,5,5,,2026-10-03T05:59:00+02:00,2026-10-03T23:59:00+02:00,"
    "0,0,5",
    "grace,grace.py,2,1,1,1,5,5,,2026-10-02T00:09:00+02:00,2026-10-01T23:59:00+02:00,0,0,5",
    "nb,nb.ipynb,2,1,1,1,5,5,,2026-10-03T08:00:00+02:00,2026-10-01T23:59:00+02:00,2,1,4",
    "oneday,oneday.py,2,1,1,1,5,5,,2026-10-02T02:59:00+02:00,2026-10-01T23:59:00+02:00,1,0.5,"
    "4.5",
    "ontime,ontime.py,2,1,1,1,5,5,,2026-10-01T22:59:00+02:00,2026-10-01T23:59:00+02:00,0,0,5",
]


def test_a_late_policy_is_in_every_output_and_remembered(tmp_path, capsys) -> None:
    problems, folder = make_class(tmp_path)
    out = tmp_path / "results"
    # as a spreadsheet saves it: a BOM, CRLF, its own column order and case, blank lines
    table = extensions(tmp_path, "\ufeffDeadline , Student\r\n\r\n+2d, extended \r\n")
    assert grade(problems, str(folder), "--out", str(out), *LATE, "--notebook-times",
                 "--extensions", str(table), "--moodle", "--feedback",
                 str(out / "pages")) == 0
    captured = capsys.readouterr()
    assert ("mcgrade: late work (deadline 2026-10-01T23:59:00+02:00, 10%/day, max 50%, "
            "grace 15m, notebook times): 3 of 6 students late, 1 with an extension; the gradebooks show "
            "the raw score (total), the penalty and the final_score") in captured.out
    assert (out / "grades.csv").read_text(encoding="utf-8").splitlines() == BOOK
    # the progress line says the score is the graded one, and the final where it differs
    assert "] capped graded 4/5, final 2 (late)\n" in captured.err
    assert "] ontime graded 5/5\n" in captured.err
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
    assert rows[4] == "nb,nb.ipynb,2,1,1,1,5,5,,2026-10-03T08:00:00+02:00,2026-10-01T23:59:00+02:00,2,0.5,4.5"
    assert rows[6] == ("ontime,ontime.py,2,1,1,1,5,5,,2026-10-03T01:59:00+02:00,"
                       "2026-10-01T23:59:00+02:00,2,0.5,4.5")
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
    assert row == ("capped,capped.py,2,1,1,1,5,5,,dz_dw,2026-10-10T23:59:00+02:00,"
                   "2026-10-01T23:59:00+02:00,9,2.5,2.5")
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
    # without Gradescope's metadata, the notebook's time only when asked for
    assert grade_one(problems, str(folder / "nb.ipynb"), *LATE, "--notebook-times",
                     "--json", str(record)) == 0
    data = json.loads(record.read_text(encoding="utf-8"))
    assert data["submitted"]["from"] == "notebook" and data["late"]["days"] == 0


@pytest.mark.parametrize("content, what", [
    (None, "can't be read (No such file or directory)"),
    ("{not json", "is not JSON"),
    ('{"users": []}', "has no created_at (Gradescope's submission time)"),
    ('["created_at"]', "has no created_at (Gradescope's submission time)"),
    ('{"created_at": "yesterday"}', "created_at 'yesterday' is not a date and time with "
                                    "its UTC offset"),
])
def test_gradescope_s_metadata_that_says_no_time_stops_with_one_line(
        tmp_path, capsys, content, what) -> None:
    """On Gradescope a silent fallback to the file's time would make everyone late."""
    problems, folder = make_class(tmp_path)
    metadata, results = tmp_path / "submission_metadata.json", tmp_path / "results.json"
    if content is not None:
        metadata.write_text(content, encoding="utf-8")
    assert grade_one(problems, str(folder / "ontime.py"), *LATE, "--gradescope-metadata",
                     str(metadata), "--gradescope", str(results)) == 1
    err = capsys.readouterr().err
    line = (f"--gradescope-metadata {metadata}: {what}: give Gradescope's "
            "submission_metadata.json (run_autograder passes "
            "/autograder/submission_metadata.json), or leave out the late policy")
    assert err == f"mcgrade: error: {line}\n"
    written = json.loads(results.read_text(encoding="utf-8"))   # still a valid file
    assert written["score"] == 0 and line in written["output"]


def test_a_student_can_t_backdate_their_notebook_without_notebook_times(
        tmp_path, capsys) -> None:
    problems, folder = make_class(tmp_path)
    cheat = folder / "cheat.ipynb"            # 3 days late, its metadata says on time
    cheat.write_text(notebook(RIGHT, "2026-10-01T08:00:00+02:00"), encoding="utf-8")
    touch(cheat, 3 * 24 * HOUR)
    out = tmp_path / "results"
    assert grade(problems, str(folder), "--out", str(out), *LATE) == 0
    records = {r["submission"]: r for r in
               json.loads((out / "grades.json").read_text(encoding="utf-8"))}
    assert records["cheat.ipynb"]["submitted"] == {"at": "2026-10-04T23:59:00+02:00",
                                                   "from": "file"}
    assert records["cheat.ipynb"]["late"]["days"] == 3
    assert records["nb.ipynb"]["submitted"]["from"] == "file"
    # one file alike
    record = tmp_path / "cheat.json"
    assert grade_one(problems, str(cheat), *LATE, "--json", str(record)) == 0
    assert json.loads(record.read_text(encoding="utf-8"))["late"]["days"] == 3
    # --notebook-times is remembered with the policy; --no-notebook-times forgets it
    assert grade(problems, str(folder), "--out", str(out), "--notebook-times") == 0
    assert json.loads((out / "records" / "late-policy").read_text())["notebook"] == "yes"
    records = {r["submission"]: r for r in
               json.loads((out / "grades.json").read_text(encoding="utf-8"))}
    assert records["cheat.ipynb"]["submitted"]["from"] == "notebook"
    assert grade(problems, str(folder), "--out", str(out)) == 0
    records = {r["submission"]: r for r in
               json.loads((out / "grades.json").read_text(encoding="utf-8"))}
    assert records["cheat.ipynb"]["submitted"]["from"] == "notebook"
    assert grade(problems, str(folder), "--out", str(out), "--no-notebook-times") == 0
    records = {r["submission"]: r for r in
               json.loads((out / "grades.json").read_text(encoding="utf-8"))}
    assert records["cheat.ipynb"]["late"]["days"] == 3
    assert "notebook times" not in capsys.readouterr().out.splitlines()[-1]


def test_times_are_read_only_with_a_policy_and_a_later_policy_stamps_everyone(
        tmp_path, monkeypatch) -> None:
    from mcgrade.batch import late

    problems, folder = make_class(tmp_path)
    out = tmp_path / "results"
    read = []
    real = late.submitted_of

    def counted(*args: object, **kwargs: object) -> object:
        read.append(args[0])
        return real(*args, **kwargs)              # type: ignore[arg-type]
    monkeypatch.setattr(late, "submitted_of", counted)
    assert grade(problems, str(folder), "--out", str(out)) == 0
    assert read == []                             # no policy: no file is read for a time
    assert all("submitted" not in json.loads(p.read_text(encoding="utf-8"))
               for p in (out / "records").glob("*.json"))
    # a policy added later stamps every record, from files graded before, unregraded
    assert grade(problems, str(folder), "--out", str(out), *LATE,
                 "--notebook-times") == 0
    assert len(read) == 6
    unextended = ("extended,extended.py,2,1,1,1,5,5,,2026-10-03T05:59:00+02:00,"
                  "2026-10-01T23:59:00+02:00,2,1,4")
    assert (out / "grades.csv").read_text(encoding="utf-8").splitlines() == [
        unextended if row.startswith("extended,") else row for row in BOOK]
    stored = json.loads((out / "records" / "oneday.json").read_text(encoding="utf-8"))
    assert stored["submitted"] == {"at": "2026-10-02T00:59:00Z", "from": "file"}


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
     "hour, at most 100%, e.g. 10%/day or 2%/hour"),
    (["--deadline", DEADLINE, "--late-penalty", "1" + "0" * 400 + "%/day"],
     "--late-penalty '1" + "0" * 400 + "%/day': write a percentage of the points per "
     "started day or hour, at most 100%, e.g. 10%/day or 2%/hour"),
    (["--deadline", DEADLINE, "--late-cap", "150%"],
     "--late-cap '150%': write a percentage from 0% to 100%, e.g. 50%"),
    (["--deadline", DEADLINE, "--grace", "15"],
     "--grace '15': write a number and a unit, e.g. 15m, 2h or 1d (s, m, h, d)"),
    (["--deadline", DEADLINE, "--grace", "99999999999d"],
     "--grace '99999999999d' is longer than mcgrade can count: give at most 999999999d"),
    (["--deadline", "none", "--late-penalty", "10%/day"],
     "--late-penalty with --deadline none: none drops the late policy and everything "
     "with it; give a deadline, or leave out --late-penalty"),
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
    ("oneday,+99999999999d", "deadline '+99999999999d' ends after the year 9999: give a "
                             "date and time, or a shorter delay after --deadline"),
    ("oneday,+3000000d", "deadline '+3000000d' ends after the year 9999: give a date "
                         "and time, or a shorter delay after --deadline"),
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


def test_a_delay_past_the_year_9999_is_one_line(tmp_path, capsys) -> None:
    problems, folder = make_class(tmp_path)
    table = extensions(tmp_path, "student,deadline\noneday,+1d\n")
    assert grade(problems, str(folder), "--out", str(tmp_path / "results"), "--deadline",
                 "9999-12-31T12:00Z", "--extensions", str(table)) == 1
    assert capsys.readouterr().err == (
        f"mcgrade: error: {table}:2: deadline '+1d' ends after the year 9999: give a date "
        "and time, or a shorter delay after --deadline\n")


def test_started_units_are_counted_exactly_and_grace_is_said() -> None:
    from mcgrade.batch.late import Policy, Submitted

    policy = Policy(DUE, 10.0, "day", grace=timedelta(minutes=15))
    # a float division would round 1000000 days and 1 microsecond down to 1000000
    far = Submitted(DUE + timedelta(days=10**6, microseconds=1), "file")
    assert policy.outcome("a", far, 5.0).units == 10**6 + 1
    assert policy.outcome("a", Submitted(DUE + timedelta(days=1), "file"), 5).units == 1
    graced = policy.outcome("a", Submitted(DUE + timedelta(minutes=10), "file"), 5.0)
    assert graced.units == 0 and graced.note() == (
        "On time, in the grace period: submitted 2026-10-01T22:09:00+00:00 (the file's "
        "time), after the deadline 2026-10-01T21:59:00+00:00.")
    early = policy.outcome("a", Submitted(DUE - timedelta(minutes=10), "file"), 5.0)
    assert early.note().startswith("On time: submitted")
