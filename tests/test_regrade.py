"""Editing a problem set regrades only what changed: a changed problem is checked again
from the answers each record kept (no submission runs), the run says who gained and who
lost, and the outputs are those a full ``--force`` regrade gives; a change to the rest of
the set (its layout) runs every submission again, and says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcgrade.batch import local
from tests.test_gradebook import grade, make_class, rows

MISTAKE = """
    mistakes:
      - {answer: "w.T @ x", feedback: "Gradients are rows: b appears once.", credit: 0.5}
"""


def edit(problems: Path, old: str, new: str) -> None:
    text = problems.read_text(encoding="utf-8")
    assert old in text
    problems.write_text(text.replace(old, new, 1), encoding="utf-8")


def never_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a submission ran")
    monkeypatch.setattr(local, "read_many", refuse)


def graded(problems: Path, folder: Path, tmp_path: Path,
           capsys: pytest.CaptureFixture[str]) -> tuple[Path, tuple[list[str], list[object]]]:
    """The class graded into ``tmp_path/results``, and its outputs."""
    out = tmp_path / "results"
    assert grade(problems, str(folder), "--out", str(out)) == 0
    capsys.readouterr()
    return out, outputs(out)


def regraded(problems: Path, folder: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same command again, where running a submission fails the test."""
    with monkeypatch.context() as patch:
        never_run(patch)
        assert grade(problems, str(folder), "--out", str(out)) == 0


def outputs(out: Path) -> tuple[list[str], list[object]]:
    return rows(out), json.loads((out / "grades.json").read_text(encoding="utf-8"))


def forced(tmp_path: Path, problems: Path, folder: Path) -> tuple[list[str], list[object]]:
    fresh = tmp_path / "fresh"
    assert grade(problems, str(folder), "--out", str(fresh), "--force") == 0
    return outputs(fresh)


def test_fixing_a_key_regrades_that_problem_from_the_stored_answers(
        tmp_path, capsys, monkeypatch) -> None:
    problems, folder = make_class(tmp_path, 4)
    out, before = graded(problems, folder, tmp_path, capsys)
    edit(problems, "partial_credit: {transposed: 0.5}", "partial_credit: {transposed: 1}")
    regraded(problems, folder, out, monkeypatch)
    captured = capsys.readouterr()
    assert "mcgrade: dz_dw changed: 2 students gain 1 point (student00, student02), " \
        "2 unchanged\n" in captured.out
    assert "(0 now, 4 regraded from their stored answers, 0 unchanged since the last run)" \
        in captured.out
    assert captured.err.count("(regraded from the stored answers)") == 4
    assert "another version" not in captured.err
    after = outputs(out)
    assert after != before
    changed = [(b["problems"][i], a["problems"][i])
               for b, a in zip(before[1], after[1]) for i in range(4)
               if b["problems"][i] != a["problems"][i]]
    assert changed and all(b["id"] == "dz_dw" for b, _ in changed)
    assert after == forced(tmp_path, problems, folder)
    capsys.readouterr()
    regraded(problems, folder, out, monkeypatch)         # resume: nothing to do
    assert "(0 now, 4 unchanged since the last run)" in capsys.readouterr().out
    assert outputs(out) == after


def test_new_feedback_for_a_mistake_changes_the_feedback_not_the_scores(
        tmp_path, capsys, monkeypatch) -> None:
    problems, folder = make_class(tmp_path, 4)
    edit(problems, "    derivative: {of: \"w.T @ x + b\", wrt: b}\n",
         "    derivative: {of: \"w.T @ x + b\", wrt: b}" + MISTAKE)
    for name in ("student00.py", "student01.py"):
        edit(folder / name, "dz_db = 1", 'dz_db = "w.T @ x"')
    out, before = graded(problems, folder, tmp_path, capsys)
    edit(problems, "Gradients are rows", "Derivatives of a scalar are rows")
    regraded(problems, folder, out, monkeypatch)
    assert "mcgrade: dz_db changed: 2 students' feedback changed (student00, student01), " \
        "2 unchanged\n" in capsys.readouterr().out
    after = outputs(out)
    text = json.dumps(after[1])
    assert "Gradients are rows" in json.dumps(before[1])
    assert "Derivatives of a scalar are rows" in text and "Gradients are rows" not in text
    assert [r["score"] for r in after[1]] == [r["score"] for r in before[1]]  # type: ignore[index]
    assert after == forced(tmp_path, problems, folder)


def test_a_mistake_with_no_credit_changes_feedback_and_the_run_names_whose(
        tmp_path, capsys, monkeypatch) -> None:
    problems, folder = make_class(tmp_path, 4)
    edit(folder / "student03.py", "dz_db = 1", 'dz_db = "w.T @ x"')
    out, _ = graded(problems, folder, tmp_path, capsys)
    edit(problems, "    derivative: {of: \"w.T @ x + b\", wrt: b}\n",
         "    derivative: {of: \"w.T @ x + b\", wrt: b}" + MISTAKE.replace("0.5", "0"))
    regraded(problems, folder, out, monkeypatch)
    assert "mcgrade: dz_db changed: 1 student's feedback changed (student03), 3 unchanged\n" \
        in capsys.readouterr().out


def test_a_large_group_is_counted_and_the_run_says_where_to_look(
        tmp_path, capsys, monkeypatch) -> None:
    problems, folder = make_class(tmp_path, 12)          # 6 transposed (even), 6 right
    out, _ = graded(problems, folder, tmp_path, capsys)
    edit(problems, "partial_credit: {transposed: 0.5}", "partial_credit: {transposed: 1}")
    regraded(problems, folder, out, monkeypatch)
    lines = [line for line in capsys.readouterr().out.splitlines() if "changed:" in line]
    assert lines == ["mcgrade: dz_dw changed: 6 students gain 1 point, 6 unchanged; see "
                     "grades.csv (points) for who"]


def test_a_removed_problem_is_dropped_and_an_added_one_runs_the_submissions(
        tmp_path, capsys, monkeypatch) -> None:
    problems, folder = make_class(tmp_path, 3)
    wrong_db = folder / "student02.py"
    wrong_db.write_text(wrong_db.read_text(encoding="utf-8").replace("dz_db = 1", "dz_db = 2"),
                        encoding="utf-8")
    out, _ = graded(problems, folder, tmp_path, capsys)
    text = problems.read_text(encoding="utf-8")
    start = text.index("  - id: dz_db")
    problems.write_text(text[:start] + text[text.index("  - id: shape_dz_dx"):],
                        encoding="utf-8")
    regraded(problems, folder, out, monkeypatch)
    assert "mcgrade: dz_db removed: dropped from the records" in capsys.readouterr().out
    removed = outputs(out)
    assert "dz_db" not in json.dumps(removed[1])
    assert removed == forced(tmp_path, problems, folder)
    capsys.readouterr()
    problems.write_text(text, encoding="utf-8")          # back: dz_db is new, never read
    assert grade(problems, str(folder), "--out", str(out)) == 0
    captured = capsys.readouterr()
    assert "(3 now" in captured.out and "regraded" not in captured.out
    assert ("mcgrade: dz_db added: 2 students gain 1 point (student00, student01), "
            "1 student scores 0 on it (student02)") in captured.out


def test_a_new_layout_runs_everyone_again_and_says_so(tmp_path, capsys) -> None:
    problems, folder = make_class(tmp_path, 4)
    out, _ = graded(problems, folder, tmp_path, capsys)
    edit(problems, "title: Neuron\n", "title: Neuron\nlayout: denominator\n")
    assert grade(problems, str(folder), "--out", str(out)) == 0
    captured = capsys.readouterr()
    assert captured.err.count("changed beyond its problems") == 1
    assert "the 4 students graded against its earlier version are run again" in captured.err
    assert "regraded" not in captured.err + captured.out
    assert "(4 now" in captured.out and "changed:" not in captured.out
    assert outputs(out) == forced(tmp_path, problems, folder)


FUNCTION = """  - id: grad_fn
    points: 1
    derivative: {of: "w.T @ x + b", wrt: w}
    form: function
    signature: [w, x, b]
"""


def test_a_changed_function_problem_runs_the_submissions_again(tmp_path, capsys) -> None:
    problems, folder = make_class(tmp_path, 2)
    problems.write_text(problems.read_text(encoding="utf-8") + FUNCTION, encoding="utf-8")
    for name in ("student00.py", "student01.py"):
        edit(folder / name, "import numpy as np\n",
             "import numpy as np\ndef grad_fn(w, x, b):\n    return x.T\n")
    out, before = graded(problems, folder, tmp_path, capsys)
    assert all(r["problems"][-1]["status"] == "correct" for r in before[1])  # type: ignore[index]
    edit(problems, "  - id: grad_fn\n    points: 1", "  - id: grad_fn\n    points: 3")
    assert grade(problems, str(folder), "--out", str(out)) == 0
    captured = capsys.readouterr()
    assert "(2 now" in captured.out and "regraded" not in captured.out + captured.err
    assert "mcgrade: grad_fn changed: 2 students gain 2 points" in captured.out
    assert outputs(out) == forced(tmp_path, problems, folder)
