"""A gradebook is a promise: its outputs are a view of the whole ledger (grading a few
students keeps everyone else, never mixes in records of another version of the set), any
file name gets its row, files follow the umask but the ledger is private, and a second
interrupt, or a kill, never leaves an output half-written."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from mcgrade.batch.run import interrupts
from mcgrade.cli import main
from mcgrade.files import remove_temporaries, write_atomic
from mcgrade.submission.layers import choose
from tests.test_batch import RIGHT
from tests.test_cli import SET

HERE = choose().label               # the sandbox this machine grades in

WRONG = RIGHT.replace('"x.T"', '"x"')
UNDECODABLE = os.fsdecode(b"st\xffudent.py")        # not UTF-8: shown as st\xffudent.py


def make_class(tmp_path: Path, size: int) -> tuple[Path, Path]:
    problems = tmp_path / "neuron.yaml"
    problems.write_text(textwrap.dedent(SET), encoding="utf-8")
    folder = tmp_path / "subs"
    folder.mkdir()
    for i in range(size):
        (folder / f"student{i:02}.py").write_text(RIGHT if i % 2 else WRONG,
                                                  encoding="utf-8")
    return problems, folder


def grade(problems: Path, *args: str) -> int:
    return main(["grade", *args, "--problems", str(problems), "--jobs", "2"])


def rows(out: Path) -> list[str]:
    return (out / "grades.csv").read_text(encoding="utf-8").splitlines()[1:]


def test_grading_one_student_again_keeps_everyone_else(tmp_path, capsys) -> None:
    problems, folder = make_class(tmp_path, 4)
    out = tmp_path / "results"
    assert grade(problems, str(folder), "--out", str(out)) == 0
    book, array = rows(out), (out / "grades.json").read_text(encoding="utf-8")
    capsys.readouterr()
    (folder / "student02.py").write_text(RIGHT, encoding="utf-8")         # a regrade
    assert grade(problems, str(folder / "student02.py"), "--out", str(out), "--force") == 0
    captured = capsys.readouterr()
    assert f"mcgrade: 1 student graded against neuron.yaml (1 now in the {HERE} sandbox, 0 unchanged since the " \
           "last run); the gradebook holds 4 students;" in captured.out
    assert "another version" not in captured.err
    assert rows(out) == [book[0], book[1], "student02,student02.py,2,1,1,1,5,5,", book[3]]
    assert len(json.loads((out / "grades.json").read_text(encoding="utf-8"))) == 4
    assert (out / "grades.json").read_text(encoding="utf-8") != array
    assert sorted(p.name for p in (out / "gradescope").iterdir()) == [
        f"student0{i}.json" for i in range(4)]


def test_records_of_another_version_of_the_set_are_left_out_and_said_so(tmp_path,
                                                                       capsys) -> None:
    problems, folder = make_class(tmp_path, 4)
    out = tmp_path / "results"
    assert grade(problems, str(folder), "--out", str(out), "--feedback",
                 str(tmp_path / "pages")) == 0
    problems.write_text(problems.read_text(encoding="utf-8").replace(
        "title: Neuron", "title: Neuron, corrected"), encoding="utf-8")
    capsys.readouterr()
    assert grade(problems, str(folder / "student01.py"), "--out", str(out)) == 0
    captured = capsys.readouterr()
    assert captured.err.endswith(
        f"mcgrade: 3 records in {out}/records/ were graded against another version of "
        "neuron.yaml and are left out of the outputs; grade the whole class again with "
        "--force to regrade them\n")
    assert "the gradebook holds 1 student;" in captured.out
    assert [r.split(",")[0] for r in rows(out)] == ["student01"]
    assert len(list((out / "records").glob("*.json"))) == 4          # nothing is deleted
    assert grade(problems, str(folder), "--out", str(out), "--force") == 0
    captured = capsys.readouterr()
    assert "another version" not in captured.err
    assert "the gradebook holds 4 students;" in captured.out
    assert len(rows(out)) == 4


def test_any_file_name_gets_its_row_shown_with_escapes(tmp_path, capsys) -> None:
    problems, folder = make_class(tmp_path, 1)
    (folder / UNDECODABLE).write_text(RIGHT, encoding="utf-8")
    out, pages = tmp_path / "results", tmp_path / "pages"
    assert grade(problems, str(folder), "--out", str(out), "--feedback", str(pages)) == 0
    assert "st\\xffudent,st\\xffudent.py,2,1,1,1,5,5," in rows(out)
    by_name = {r["submission"]: r for r in json.loads(
        (out / "grades.json").read_text(encoding="utf-8"))}
    assert by_name["st\\xffudent.py"]["score"] == 5
    record = json.loads((out / "records" / "st%5Cxffudent.json").read_text(encoding="utf-8"))
    assert (record["student"], record["file"]) == ("st\\xffudent", "st\\xffudent.py")
    assert "st\\xffudent.py" in (pages / "st%5Cxffudent.html").read_text(encoding="utf-8")
    capsys.readouterr()
    assert grade(problems, str(folder), "--out", str(out)) == 0               # resumes
    assert "(0 now, 2 unchanged since the last run)" in capsys.readouterr().out


def test_two_names_never_share_a_record(tmp_path) -> None:
    """Percent-encoding as UTF-8: 学 and [66 once both became %5B66, one row lost."""
    problems, folder = make_class(tmp_path, 0)
    for name in ("学", "[66", "%5B66"):
        (folder / f"{name}.py").write_text(RIGHT, encoding="utf-8")
    out = tmp_path / "results"
    assert grade(problems, str(folder), "--out", str(out)) == 0
    assert sorted(row.split(",")[0] for row in rows(out)) == sorted(["学", "[66", "%5B66"])
    assert len(list((out / "records").iterdir())) == 3


def test_a_long_file_name_gets_its_row(tmp_path) -> None:
    """63 CJK letters: 189 bytes as a name, far more once escaped for the ledger."""
    problems, folder = make_class(tmp_path, 0)
    name = "中" * 63
    (folder / f"{name}.py").write_text(RIGHT, encoding="utf-8")
    out = tmp_path / "results"
    assert grade(problems, str(folder), "--out", str(out)) == 0
    assert rows(out)[0].startswith(f"{name},{name}.py,")
    assert grade(problems, str(folder), "--out", str(out)) == 0               # resumes


def test_an_id_from_notebook_metadata_is_shown_with_escapes_too(tmp_path) -> None:
    problems, folder = make_class(tmp_path, 0)
    notebook = {"nbformat": 4, "nbformat_minor": 5, "cells": [],
                "metadata": {"mcgrade": {"student": "ann\ud800"}}}
    (folder / "hw1_upload.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    out = tmp_path / "results"
    assert grade(problems, str(folder), "--out", str(out), "--id-pattern",
                 "^(?P<id>[a-z]+)_hw1") == 0
    assert rows(out)[0].startswith("ann\\ud800,hw1_upload.ipynb,")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_outputs_follow_the_umask_and_the_ledger_is_private(tmp_path, umask_022) -> None:
    problems, folder = make_class(tmp_path, 2)
    out, pages = tmp_path / "results", tmp_path / "pages"
    (out / "records").mkdir(parents=True, mode=0o755)      # as an older mcgrade made it
    os.chmod(out / "records", 0o755)
    assert grade(problems, str(folder), "--out", str(out), "--feedback", str(pages)) == 0
    for path in (out / "grades.csv", out / "grades.json", out / "gradescope" / "student00.json",
                 pages / "student00.html", pages / "class_report.html"):
        assert mode(path) == 0o644, path
    assert mode(out / "records") == 0o700
    assert {mode(p) for p in (out / "records").iterdir()} == {0o600}
    assert main(["publish", str(problems), "-o", str(tmp_path / "student")]) == 0
    assert main(["notebook", str(problems), "-o", str(tmp_path / "hw1.ipynb")]) == 0
    assert main(["gradescope", str(problems), "-o", str(tmp_path / "autograder.zip")]) == 0
    assert {mode(tmp_path / "student" / "neuron.yaml"), mode(tmp_path / "hw1.ipynb"),
            mode(tmp_path / "autograder.zip")} == {0o644}
    os.umask(0o077)
    write_atomic(tmp_path / "private.txt", "x")
    assert mode(tmp_path / "private.txt") == 0o600


def test_a_run_removes_the_temporaries_a_kill_left(tmp_path) -> None:
    problems, folder = make_class(tmp_path, 2)
    out = tmp_path / "results"
    assert grade(problems, str(folder), "--out", str(out)) == 0
    left = [out / "records" / ".student00.json.k3x_9a2b", out / ".grades.csv.abcdefgh",
            out / ".grades.json.0123abcd", out / "gradescope" / ".student01.json.zz99zz99"]
    kept = [out / ".keep", out / "records" / "notes.txt", out / ".grades.csv.bak"]
    for path in left + kept:
        path.write_text("half", encoding="utf-8")
    assert grade(problems, str(folder), "--out", str(out)) == 0
    assert [p for p in left if p.exists()] == []
    assert all(p.exists() for p in kept)
    remove_temporaries(tmp_path / "no such folder", ".json")             # nothing to do


def test_a_held_interrupt_waits_for_the_outputs_then_stops() -> None:
    with pytest.raises(KeyboardInterrupt), interrupts():
        os.kill(os.getpid(), signal.SIGTERM)          # the first one stops grading
        time.sleep(1)
    finished = []
    with pytest.raises(KeyboardInterrupt), interrupts() as held:
        held.hold()
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        finished.append("outputs")                    # not cut short
    assert finished == ["outputs"]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_a_second_and_third_signal_never_leave_an_output_half_written(tmp_path) -> None:
    """A real run, killed while a slow student runs, then sent SIGTERM and SIGINT every
    millisecond while it writes 30 students' outputs and pages: every output is whole."""
    problems, folder = make_class(tmp_path, 30)
    problems.write_text("timeout: 30\n" + problems.read_text(encoding="utf-8"),
                        encoding="utf-8")
    (folder / "zz_slow.py").write_text("import time\ntime.sleep(30)\n", encoding="utf-8")
    out, pages = tmp_path / "results", tmp_path / "pages"
    run = subprocess.Popen([sys.executable, "-m", "mcgrade", "grade", str(folder),
                            "--problems", str(problems), "--out", str(out), "--feedback",
                            str(pages), "--jobs", "2"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(run.stderr), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while len(list((out / "records").glob("*.json"))) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)                                          # zz_slow is running now
    run.send_signal(signal.SIGTERM)
    sent = 1
    while not any(line.startswith("mcgrade: stopped after") for line in err) \
            and run.poll() is None and time.monotonic() < deadline:
        run.send_signal(signal.SIGINT if sent % 2 else signal.SIGTERM)
        sent += 1
        time.sleep(0.001)
    run.wait(timeout=60)
    reader.join(timeout=10)
    # 130, or a signal sent after the outputs were finished (it was seen late) ended it
    assert run.returncode in (130, -signal.SIGINT, -signal.SIGTERM), "".join(err)
    assert sent > 2
    assert "mcgrade: stopped after 30 of 31 students;" in "".join(err)
    assert len(rows(out)) == 30
    assert len(json.loads((out / "grades.json").read_text(encoding="utf-8"))) == 30
    for record in (out / "gradescope").iterdir():
        json.loads(record.read_text(encoding="utf-8"))
    for page in pages.iterdir():
        assert page.read_text(encoding="utf-8").rstrip().endswith("</html>"), page
    assert len(list(pages.glob("*.html"))) == 31                     # 30 and the report
    leftovers = [*out.rglob(".*"), *pages.rglob(".*")]
    assert leftovers == []
