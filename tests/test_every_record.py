"""Every submission gets its record, in every mode: a file that can't be a submission,
graded alone with --json or --gradescope, gets the very record its batch row has (every
problem an error, the reason as feedback), one line on standard error, and exit 1. Suffixes
are read in any case, and a notebook's stored outputs don't count against the size limit."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from mcgrade.cli import main
from tests.test_batch import RIGHT
from tests.test_cli import SET

ODD = {       # file name → why it can't be a submission (the feedback of every problem)
    "truncated.ipynb": "truncated.ipynb is cut short: its JSON ends early at line 4, so the "
                       "file looks truncated; save it again from Jupyter (File → Save)",
    "invalid.ipynb": "invalid.ipynb is not a valid notebook: Expecting value at line 1, "
                     "column 27; save it again from Jupyter (File → Save)",
    "empty.ipynb": "empty.ipynb is empty (0 bytes), not a notebook; save it again from "
                   "Jupyter (File → Save)",
    "utf16.ipynb": "utf16.ipynb is not a notebook: byte 0 is not UTF-8 text; save it again "
                   "from Jupyter (File → Save)",
    "folder.ipynb": "folder.ipynb is a folder, not a file; give the path of a notebook "
                    "(.ipynb) or a Python file (.py)",
    "pipe.py": "pipe.py is not a regular file (a pipe, a socket or a device); give the path "
               "of a notebook (.ipynb) or a Python file (.py)",
    "dangling.py": "dangling.py is a link to a file that does not exist; give the path of a "
                   "notebook (.ipynb) or a Python file (.py)",
    "bad\\xffname.ipynb": "bad\\xffname.ipynb is not a notebook: it is not JSON (it looks "
                          "like Python or plain text); rename a Python file to .py, or save "
                          "it again from Jupyter (File → Save)",
}


def make_odd_files(folder: Path) -> dict[str, Path]:
    """Each kind of file in ODD, by its shown name."""
    folder.mkdir()
    notebook = nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell(RIGHT)]))
    (folder / "truncated.ipynb").write_text(notebook[:40], encoding="utf-8")
    (folder / "invalid.ipynb").write_text('{"nbformat": 4, "cells": [}, "metadata": {}}',
                                         encoding="utf-8")
    (folder / "empty.ipynb").write_bytes(b"")
    (folder / "utf16.ipynb").write_text(notebook, encoding="utf-16")
    (folder / "folder.ipynb").mkdir()
    os.mkfifo(folder / "pipe.py")
    (folder / "dangling.py").symlink_to(folder / "gone.py")
    (folder / os.fsdecode(b"bad\xffname.ipynb")).write_bytes(b"x = 1\n")
    return {name: folder / os.fsdecode(name.replace("\\xff", "\udcff").encode(
        "utf-8", "surrogateescape")) for name in ODD}


@pytest.fixture
def course(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    problems = tmp_path / "neuron.yaml"
    problems.write_text(textwrap.dedent(SET), encoding="utf-8")
    return problems, make_odd_files(tmp_path / "odd")


def test_each_unreadable_file_gets_the_record_of_its_batch_row(course, tmp_path,
                                                              capsys) -> None:
    problems, files = course
    assert main(["grade", str(files["pipe.py"].parent), "--problems", str(problems),
                 "--out", str(tmp_path / "r")]) == 0
    rows = {r["submission"]: r for r in json.loads(
        (tmp_path / "r" / "grades.json").read_text(encoding="utf-8"))}
    assert sorted(rows) == sorted(ODD)
    capsys.readouterr()
    for name, path in files.items():
        record, results = tmp_path / "record.json", tmp_path / "results.json"
        assert main(["grade", str(path), "--problems", str(problems), "--json", str(record),
                     "--gradescope", str(results)]) == 1, name
        assert capsys.readouterr().err == f"mcgrade: error: {ODD[name]}\n"
        written = json.loads(record.read_text(encoding="utf-8"))
        batch_row = dict(rows[name])
        assert batch_row.pop("student")          # a batch record adds whose it is
        assert written == batch_row
        assert written["score"] == 0 and written["max_score"] == 5
        assert {p["status"] for p in written["problems"]} == {"error"}
        assert all(p["feedback"].startswith(ODD[name]) for p in written["problems"])
        gradescope = json.loads(results.read_text(encoding="utf-8"))
        assert gradescope["score"] == 0 and len(gradescope["tests"]) == 4


def test_the_record_goes_to_standard_output_with_json_dash(course, capsys) -> None:
    problems, files = course
    assert main(["grade", str(files["empty.ipynb"]), "--problems", str(problems),
                 "--json", "-"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["submission"] == "empty.ipynb"
    assert captured.err == f"mcgrade: error: {ODD['empty.ipynb']}\n"


def test_a_mistyped_path_is_one_line_and_no_record(course, tmp_path, capsys) -> None:
    problems, _ = course
    record = tmp_path / "record.json"
    assert main(["grade", str(tmp_path / "nobody.py"), "--problems", str(problems),
                 "--json", str(record)]) == 1
    assert "no such file" in capsys.readouterr().err
    assert not record.exists()


def test_suffixes_are_read_in_any_case(tmp_path, capsys) -> None:
    problems = tmp_path / "neuron.yaml"
    problems.write_text(textwrap.dedent(SET), encoding="utf-8")
    submission = tmp_path / "HW1.IPYNB"
    submission.write_text(nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell(RIGHT)])),
                          encoding="utf-8")
    assert main(["grade", str(submission), "--problems", str(problems)]) == 0
    assert "mcgrade: 5/5 points" in capsys.readouterr().out
    folder = tmp_path / "class"
    folder.mkdir()
    submission.rename(folder / "HW1.IPYNB")
    (folder / "bob.PY").write_text(RIGHT, encoding="utf-8")
    assert main(["grade", str(folder), "--problems", str(problems),
                 "--out", str(tmp_path / "r")]) == 0
    rows = (tmp_path / "r" / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert [r.split(",")[:2] for r in rows[1:]] == [["HW1", "HW1.IPYNB"], ["bob", "bob.PY"]]
    assert all(",5,5," in r for r in rows[1:])


def test_stored_outputs_do_not_count_against_the_size_limit(tmp_path, capsys) -> None:
    problems = tmp_path / "neuron.yaml"
    problems.write_text(textwrap.dedent(SET), encoding="utf-8")
    cell = v4.new_code_cell(RIGHT, outputs=[v4.new_output(
        "display_data", data={"image/png": "A" * (60 << 20)})])
    submission = tmp_path / "plots.ipynb"
    submission.write_text(nbformat.writes(v4.new_notebook(cells=[cell])), encoding="utf-8")
    assert submission.stat().st_size > 60 << 20
    assert main(["grade", str(submission), "--problems", str(problems)]) == 0
    assert "mcgrade: 5/5 points" in capsys.readouterr().out
    code = v4.new_code_cell("x = 1\n" + "#" * (6 << 20))
    submission.write_text(nbformat.writes(v4.new_notebook(cells=[code])), encoding="utf-8")
    assert main(["grade", str(submission), "--problems", str(problems)]) == 1
    assert capsys.readouterr().err == ("mcgrade: error: plots.ipynb holds more than 5 MB of "
                                       "code; it was not run\n")
