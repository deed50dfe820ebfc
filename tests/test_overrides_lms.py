"""Running a whole course: a TA's overrides (in every output, kept over regrades, checked
line by line before anything is graded) and the gradebooks Canvas and Moodle import."""

from __future__ import annotations

import json

import pytest

from tests.test_gradebook import grade, make_class, rows

# as a spreadsheet saves it: a BOM, CRLF, columns in its own order, spaces, blank lines
OVERRIDES = ("\ufeffProblem , Student,Comment,Points\r\n\r\n"
             "dz_dw, student00 ,Transposes accepted (see Piazza @12), 2\r\n,,,\r\n"
             "at_one,student01,,0.5\r\n")
NOTE = "Override by your instructor: Transposes accepted (see Piazza @12)"


def test_an_override_is_in_every_output_and_survives_a_regrade(tmp_path, capsys) -> None:
    problems, folder = make_class(tmp_path, 3)
    out, pages, table = tmp_path / "results", tmp_path / "pages", tmp_path / "ov.csv"
    table.write_bytes(OVERRIDES.encode("utf-8"))
    assert grade(problems, str(folder), "--out", str(out), "--feedback", str(pages),
                 "--overrides", str(table)) == 0
    err = capsys.readouterr().err
    assert "mcgrade: 2 overrides applied to 2 students (ov.csv)\n" in err
    # the progress line says the grader's score, and the final one an override makes
    assert "] student01 graded 5/5, final 4.5 (override)\n" in err
    assert "] student02 graded 4/5\n" in err
    book = (out / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert book == [
        "student,submission,dz_dw,dz_db,shape_dz_dx,at_one,total,max_score,notes,overrides",
        "student00,student00.py,2,1,1,1,5,5,,dz_dw: Transposes accepted (see Piazza @12)",
        "student01,student01.py,2,1,1,0.5,4.5,5,,at_one",
        "student02,student02.py,1,1,1,1,4,5,,"]
    record = json.loads((out / "grades.json").read_text(encoding="utf-8"))[0]
    assert record["score"] == 5
    dz_dw = record["problems"][0]
    assert dz_dw["score"] == 2 and dz_dw["status"] == "partial"       # the grader's
    assert dz_dw["override"] == {"points": 2,
                                 "comment": "Transposes accepted (see Piazza @12)"}
    assert dz_dw["feedback"].endswith("\n" + NOTE)
    assert "override" not in record["problems"][1]
    results = json.loads((out / "gradescope" / "student00.json").read_text(encoding="utf-8"))
    assert results["score"] == 5 and results["tests"][0]["output"].endswith(NOTE)
    # the pages show an override as the problem's status, its comment once
    assert ("Set by your instructor: 2/2 — Transposes accepted (see Piazza @12)</p>"
            in (pages / "student00.html").read_text(encoding="utf-8"))
    assert '<p class="override">Set by your instructor: 0.5/1</p>' in (
        pages / "student01.html").read_text(encoding="utf-8")
    # the ledger keeps what was graded; a regrade keeps the override
    stored = json.loads((out / "records" / "student00.json").read_text(encoding="utf-8"))
    assert stored["record"]["score"] == 4 and "override" not in json.dumps(stored)
    assert grade(problems, str(folder / "student00.py"), "--out", str(out), "--force",
                 "--overrides", str(table)) == 0
    assert (out / "grades.csv").read_text(encoding="utf-8").splitlines() == book
    # a run without the file keeps them (remembered, and said); an empty one drops them
    capsys.readouterr()
    assert grade(problems, str(folder), "--out", str(out)) == 0
    assert (out / "grades.csv").read_text(encoding="utf-8").splitlines() == book
    assert ("mcgrade: 2 overrides applied to 2 students (remembered in "
            f"{out / 'records' / 'overrides.csv'}; give --overrides again to change them, an "
            "empty one to drop them)\n") in capsys.readouterr().err
    assert oct((out / "records" / "overrides.csv").stat().st_mode & 0o777) == "0o600"
    table.write_text("student,problem,points,comment\n", encoding="utf-8")
    assert grade(problems, str(folder), "--out", str(out), "--overrides", str(table)) == 0
    assert rows(out)[0] == "student00,student00.py,1,1,1,1,4,5,"


@pytest.mark.parametrize("line, message", [
    ("studnt01,dz_dw,2,", "student 'studnt01' is not in the gradebook; did you mean "
                          "'student01'?"),
    ("student01,dz_dx,2,", "problem 'dz_dx' is not a problem of {set}; did you mean "
                           "'dz_dw'?"),
    ("student01,dz_dw,3,", "points '3' for dz_dw: give a number from 0 to 2, the "
                           "problem's worth"),
    ("student01,dz_dw,two,", "points 'two' for dz_dw: give a number from 0 to 2, the "
                             "problem's worth"),
    ("student01,dz_db,1,again", "'student01' dz_db is overridden already on line 2; "
                                "keep one row"),
])
def test_a_wrong_line_stops_the_run_before_grading(tmp_path, capsys, line,
                                                   message) -> None:
    problems, folder = make_class(tmp_path, 2)
    out, table = tmp_path / "results", tmp_path / "ov.csv"
    table.write_text(f"student,problem,points,comment\nstudent01,dz_db,0,\n\n{line}\n",
                     encoding="utf-8")
    assert grade(problems, str(folder), "--out", str(out), "--overrides", str(table)) == 1
    expected = message.format(set=problems)
    assert capsys.readouterr().err == f"mcgrade: error: {table}:4: {expected}\n"
    assert not out.exists()


def test_an_overrides_file_without_its_columns_is_refused(tmp_path, capsys) -> None:
    problems, folder = make_class(tmp_path, 1)
    table = tmp_path / "ov.csv"
    table.write_text("student,points\nstudent00,1\n", encoding="utf-8")
    assert grade(problems, str(folder), "--overrides", str(table)) == 1
    assert capsys.readouterr().err == (
        f"mcgrade: error: {table}:1: no column 'problem': the header names the columns "
        "student, problem, points, comment (in any order)\n")


ROSTER = """Student,ID,SIS User ID,SIS Login ID,Section,Homework 0 (77),Neuron (321)
    Points Possible,,,,,10,5
"Zero, Student",1000,S00,student00,Sec A,9,
"=cmd|' /C calc'!A0",1001,S01,student01,Sec A,8,
"Absent, Dan",1009,S09,dan,Sec B,7,
"""


def test_canvas_and_moodle_gradebooks(tmp_path, capsys) -> None:
    problems, folder = make_class(tmp_path, 3)
    out, roster, table = tmp_path / "results", tmp_path / "roster.csv", tmp_path / "ov.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    table.write_bytes(OVERRIDES.encode("utf-8"))
    assert grade(problems, str(folder), "--out", str(out), "--canvas", str(roster),
                 "--moodle", "--overrides", str(table)) == 0
    assert (out / "canvas.csv").read_text(encoding="utf-8") == (
        "Student,ID,SIS User ID,SIS Login ID,Section,Neuron (321)\n"
        "Points Possible,,,,,5\n"
        '"Zero, Student",1000,S00,student00,Sec A,5\n'
        "'=cmd|' /C calc'!A0,1001,S01,student01,Sec A,4.5\n")
    assert (out / "moodle.csv").read_text(encoding="utf-8") == (
        "Username,Neuron\nstudent00,5\nstudent01,4.5\nstudent02,4\n")
    captured = capsys.readouterr()
    assert f"mcgrade: canvas.csv: 2 of the 3 students of {roster} matched on SIS Login ID\n" \
        in captured.out
    assert captured.err.splitlines()[-2:] == [
        f"mcgrade: canvas.csv: 1 student in the gradebook but not in {roster}, left out: "
        "student02",
        f"mcgrade: canvas.csv: 1 student in {roster} without a submission, left out: "
        "Absent, Dan"]


def test_a_roster_that_matches_no_one_is_refused_before_grading(tmp_path, capsys) -> None:
    problems, folder = make_class(tmp_path, 1)
    roster, out = tmp_path / "roster.csv", tmp_path / "results"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\n\"A, B\",1,2,3,S\n",
                      encoding="utf-8")
    assert grade(problems, str(folder), "--out", str(out), "--canvas", str(roster)) == 1
    assert capsys.readouterr().err == (
        f"mcgrade: error: {roster}: none of its SIS User ID, SIS Login ID, ID values is a "
        "student id of this gradebook (such as 'student00'); mcgrade's ids come from the "
        "file names (see --id-pattern)\n")
    assert not out.exists()
