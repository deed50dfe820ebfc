"""Notebooks and Python files as submissions: every kind of file gets answers or one line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat import v3, v4

from mcgrade.errors import SubmissionError
from mcgrade.model import Answer, Problem, ProblemSet
from mcgrade.submission import Submission, read_answers, read_many

SET = ProblemSet("t", tuple(Problem(id=name, kind="answer", answer="1")
                            for name in ("a", "b", "c", "d")), timeout=2.0)


def notebook(tmp_path: Path, *cells: str, name: str = "hw1.ipynb") -> Path:
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# Homework 1")]
                         + [v4.new_code_cell(textwrap.dedent(c)) for c in cells])
    path = tmp_path / name
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


def read(path: Path, **kw) -> Submission:
    return read_answers(path, SET, sandbox="process", **kw)


def test_cells_run_in_order_and_a_failing_cell_does_not_stop_the_rest(tmp_path: Path) -> None:
    sub = read(notebook(tmp_path, "a = 'x'", "b = 1 / 0\nc = 'lost'", "d = a + '!'"))
    assert sub.name == "hw1.ipynb"
    assert sub.answers["a"] == Answer("string", text="x")
    assert sub.answers["d"] == Answer("string", text="x!")
    assert sub.answers["b"] == Answer("error", text=(
        "b is set in cell 3, which failed: ZeroDivisionError: division by zero at line 1 "
        "(`b = 1 / 0`)"))
    assert sub.answers["c"].kind == "error" and "cell 3" in sub.answers["c"].text
    assert sub.notes == ("hw1.ipynb, cell 3: ZeroDivisionError: division by zero at line 1 "
                         "(`b = 1 / 0`); the cells after it still ran",)


def test_a_cell_that_never_ends_says_where_it_was_and_the_limit(tmp_path: Path) -> None:
    sub = read(notebook(tmp_path, "a = 'x'", "while True:\n    pass\nb = 1"))
    assert sub.answers["a"] == Answer("string", text="x")
    assert sub.answers["b"] == Answer("timeout", text=(
        "b is set in cell 3, which was still running at line 1 (`while True:`) when the "
        "2 s limit ran out"))


def test_a_syntax_error_costs_only_its_cell(tmp_path: Path) -> None:
    sub = read(notebook(tmp_path, "a = 'x'", "b = = 2", "c = 3"))
    assert sub.answers["a"].text == "x" and sub.answers["c"] == Answer("number", value=3.0)
    assert sub.answers["b"].kind == "error" and "cell 3" in sub.answers["b"].text
    (note,) = sub.notes
    assert note.startswith("hw1.ipynb, cell 3, line 1: invalid syntax")
    assert note.endswith("`b = = 2`; that cell did not run, the others did")


def test_magics_and_shell_escapes_are_not_run_and_said_so(tmp_path: Path) -> None:
    sub = read(notebook(tmp_path, "%matplotlib inline\n!pip install numpy\na = 'x'",
                        "%%bash\ntouch /tmp/should-not-exist\nb = 1",
                        "%%time\nc = 2", "files = !ls\nnp.sum?\nd = 4\n"))
    assert sub.answers["a"].text == "x" and sub.answers["c"].value == 2.0
    assert sub.answers["b"].kind == "error" and "cell magic" in sub.answers["b"].text
    assert sub.notes[0] == ("hw1.ipynb, cell 3: the cell magic `%%bash` is not Python; the "
                            "cell was not run (mcgrade runs cells as plain Python)")
    assert ("hw1.ipynb, cell 2: `%matplotlib inline`, `!pip install numpy` is IPython, not "
            "Python, and was not run (mcgrade runs cells as plain Python)") in sub.notes
    assert ("hw1.ipynb, cell 4: `%%time` was ignored (no IPython here); the cell's Python "
            "ran") in sub.notes
    assert any("cell 5: `files = !ls`, `np.sum?` is IPython" in n for n in sub.notes)
    assert sub.answers["d"].value == 4.0


def test_a_percent_line_inside_a_string_is_left_alone(tmp_path: Path) -> None:
    sub = read(notebook(tmp_path, 'a = """\n%not a magic\n"""'))
    assert sub.answers["a"].text == "\n%not a magic\n" and sub.notes == ()


def test_exported_notebooks_calling_get_ipython_still_run(tmp_path: Path) -> None:
    path = tmp_path / "hw1.py"
    path.write_text("get_ipython().run_line_magic('matplotlib', 'inline')\na = 'x'\n")
    sub = read(path)
    assert sub.answers["a"].text == "x"
    assert "get_ipython().run_line_magic('matplotlib', 'inline')" in sub.notes[0]


def test_version_3_notebooks_are_upgraded(tmp_path: Path) -> None:
    nb = v3.new_notebook(worksheets=[v3.new_worksheet(cells=[v3.new_code_cell(input="a = 'v3'")])])
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(nb))
    sub = read(path)
    assert sub.answers["a"].text == "v3"
    assert sub.notes == ("old.ipynb is an nbformat 3 notebook; it was upgraded to nbformat 4 "
                         "to be read",)


@pytest.mark.parametrize("content, message", [
    ("", "hw1.ipynb is empty (0 bytes), not a notebook; save it again from Jupyter "
         "(File → Save)"),
    ('{"cells": [{"cell_type": "code", "sou', "hw1.ipynb is cut short: its JSON ends early "
     "at line 1, so the file looks truncated; save it again from Jupyter (File → Save)"),
    ("a = 'x'\n", "hw1.ipynb is not a notebook: it is not JSON (it looks like Python or plain "
                  "text); rename a Python file to .py, or save it again from Jupyter "
                  "(File → Save)"),
    ('{"a": 1}', "hw1.ipynb is JSON but not a Jupyter notebook (it has no 'nbformat' and "
                 "'cells'); save it again from Jupyter (File → Save)"),
    ('{"nbformat": 2, "cells": []}', "hw1.ipynb is an nbformat 2 notebook; mcgrade reads "
     "nbformat 4 (and upgrades 3): save it from a current Jupyter"),
])
def test_files_that_are_not_notebooks_get_one_line(tmp_path: Path, content: str,
                                                   message: str) -> None:
    path = tmp_path / "hw1.ipynb"
    path.write_text(content)
    with pytest.raises(SubmissionError) as info:
        read(path)
    assert str(info.value) == message
    (sub,) = read_many([path], SET, sandbox="process")
    assert sub.notes == (message,) and sub.answers["a"] == Answer("error", text=message)


def test_other_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "hw1.txt").write_text("a = 1")
    with pytest.raises(SubmissionError, match=r"^hw1.txt: mcgrade grades Jupyter notebooks"):
        read(tmp_path / "hw1.txt")


def test_a_notebook_saved_as_py_is_read_as_a_notebook(tmp_path: Path) -> None:
    path = notebook(tmp_path, "a = 'x'", name="hw1.py")
    sub = read(path)
    assert sub.answers["a"].text == "x"
    assert sub.notes[0].startswith("hw1.py is a Jupyter notebook saved under a .py name")


def test_python_files_empty_truncated_and_encoded(tmp_path: Path) -> None:
    empty = tmp_path / "empty.py"
    empty.write_text("")
    sub = read(empty)
    assert sub.answers["a"] == Answer("missing") and sub.notes == (
        "empty.py is empty: it defines no answers",)
    cut = tmp_path / "cut.py"
    cut.write_text("a = 'x'\nb = [1, 2,\n")
    sub = read(cut)
    assert sub.answers["a"].kind == "error"
    assert sub.notes[0].startswith("cut.py, line 2: '[' was never closed")
    latin = tmp_path / "latin.py"
    latin.write_bytes("# -*- coding: latin-1 -*-\na = 'café'\n".encode("latin-1"))
    assert read(latin).answers["a"].text == "café"
    raw = tmp_path / "raw.py"
    raw.write_bytes("a = 'café'\n".encode("latin-1"))
    (note,) = read(raw).notes
    assert note.startswith("raw.py, line 1: ") and "can't decode byte 0xe9" in note


def test_a_main_guard_runs(tmp_path: Path) -> None:
    path = tmp_path / "hw1.py"
    path.write_text("def main():\n    global a\n    a = 'x'\nif __name__ == '__main__':\n"
                    "    main()\n")
    assert read(path).answers["a"].text == "x"


def test_read_many_keeps_order_and_one_row_per_file(tmp_path: Path) -> None:
    paths = []
    for i in range(5):
        path = tmp_path / f"s{i}.py"
        path.write_text(f"a = {i}\n" + ("import time\ntime.sleep(0.3)\n" if i == 1 else ""))
        paths.append(path)
    paths.insert(2, tmp_path / "gone.py")
    subs = list(read_many(paths, SET, sandbox="process", jobs=3))
    assert [s.name for s in subs] == ["s0.py", "s1.py", "gone.py", "s2.py", "s3.py", "s4.py"]
    assert [s.answers["a"].value for s in subs if s.name != "gone.py"] == [0, 1, 2, 3, 4]
    assert subs[2].answers["a"].kind == "error" and "no such file" in subs[2].notes[0]


def test_a_missing_bwrap_is_one_line_saying_what_to_do(monkeypatch) -> None:
    from mcgrade.submission import pool, sandbox
    from mcgrade.submission.layers import choose
    monkeypatch.setattr(pool, "_POOLS", {})
    monkeypatch.setattr(pool, "_UNAVAILABLE", {})
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    with pytest.raises(SubmissionError) as info:
        choose("bwrap")
    assert str(info.value) == (
        "the bwrap sandbox can't run here (could not start bwrap: it is not installed (not "
        "on PATH)); install bubblewrap (apt-get install bubblewrap) on a kernel that allows "
        "user namespaces, or choose --sandbox process")
    assert choose("auto").kind == "process"
    with pytest.raises(SubmissionError, match="sandbox 'docker' is not one of auto, bwrap"):
        choose("docker")
