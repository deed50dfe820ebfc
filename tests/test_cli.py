"""`mcgrade grade` end to end: a real child process, the table, the JSON record, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mcgrade.cli import main
from mcgrade.submission.layers import choose

HERE = choose().label           # the sandbox this machine grades in (named in every report)

SET = """
title: Neuron
symbols:
  n: {dimension: true, sizes: [2, 3]}
  x: {shape: [n, 1]}
  w: {shape: [n, 1]}
  b: {}
problems:
  - id: dz_dw
    points: 2
    derivative: {of: "w.T @ x + b", wrt: w}
    partial_credit: {transposed: 0.5}
  - id: dz_db
    derivative: {of: "w.T @ x + b", wrt: b}
  - id: shape_dz_dx
    shape: {of: "w.T @ x + b", wrt: x}
  - id: at_one
    derivative: {of: "x.T @ x", wrt: x}
    at: {x: [[1], [2]]}
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    problems = tmp_path / "neuron.yaml"
    problems.write_text(textwrap.dedent(SET), encoding="utf-8")
    submission = tmp_path / "alice.py"
    submission.write_text(textwrap.dedent("""
        import numpy as np
        dz_dw = "x"                 # transposed: half credit
        dz_db = 1
        shape_dz_dx = (1, "n")
        at_one = np.array([[2.0, 4.0]])
        """), encoding="utf-8")
    return problems, submission


def test_grade_prints_a_line_per_problem_and_the_total(files, capsys) -> None:
    problems, submission = files
    assert main(["grade", str(submission), "--problems", str(problems)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "mcgrade: alice.py against neuron.yaml (Neuron)",
        "  dz_dw        partial        1/2  This is the transpose of the expected answer: in "
        "numerator layout the derivative of a scalar by an n×1 vector is a 1×n row (at n = 2 "
        "that is 1×2), and you gave a 2×1 column.",
        "  dz_db        correct        1/1  Correct. [checked numerically at 16 points]",
        "  shape_dz_dx  correct        1/1  Correct. [proved symbolically]",
        "  at_one       correct        1/1  Correct. [checked numerically at 8 points]",
        f"mcgrade: 4/5 points (sandbox: {HERE})",
    ]


def test_json_record_is_the_spec_record(files, tmp_path, capsys) -> None:
    problems, submission = files
    out = tmp_path / "out" / "alice.json"
    assert main(["grade", str(submission), "--problems", str(problems),
                 "--json", str(out)]) == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    assert list(record) == ["submission", "problem_set", "score", "max_score", "sandbox",
                            "problems"]
    assert (record["submission"], record["problem_set"], record["score"],
            record["max_score"], record["sandbox"]) == ("alice.py", "neuron.yaml", 4, 5, HERE)
    first = record["problems"][0]
    assert list(first) == ["id", "status", "score", "max_score", "diagnoses", "feedback",
                           "method", "evidence"]
    assert (first["status"], first["score"], first["diagnoses"], first["method"]) == (
        "partial", 1, ["transposed"], "numeric")
    assert first["evidence"] == {"expected_shape": [1, 2], "given_shape": [2, 1],
                                 "sizes": {"n": 2}}


def test_json_to_stdout_moves_the_table_to_stderr(files, capsys) -> None:
    problems, submission = files
    assert main(["grade", str(submission), "--problems", str(problems), "--json", "-"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["score"] == 4
    assert captured.err.endswith(f"mcgrade: 4/5 points (sandbox: {HERE})\n")


def test_a_bad_problem_set_is_one_line_with_file_and_line(files, capsys) -> None:
    problems, submission = files
    problems.write_text(textwrap.dedent(SET).replace("wrt: b}", "wrt: v}"), encoding="utf-8")
    assert main(["grade", str(submission), "--problems", str(problems)]) == 1
    err = capsys.readouterr().err
    assert err == (f"mcgrade: error: {problems}:14: problems[1] (id='dz_db') → derivative → "
                   "wrt: 'v' is not a declared symbol; declared: x, w, b\n")


def test_an_expression_error_in_a_problem_set_points_at_its_line(files, capsys) -> None:
    problems, submission = files
    problems.write_text(textwrap.dedent(SET).replace('of: "x.T @ x"', 'of: "x * x.T"'),
                        encoding="utf-8")
    assert main(["grade", str(submission), "--problems", str(problems)]) == 1
    assert capsys.readouterr().err == (
        f"mcgrade: error: {problems}:18: problems[3] (id='at_one') → derivative → of: "
        "* is element-wise and needs operands of the same shape (or a scalar): x is n×1, x.T "
        "is 1×n; for a matrix product write x @ x.T (at column 1) in 'x * x.T'\n")


def test_missing_submission_is_one_line(files, tmp_path, capsys) -> None:
    problems, _ = files
    assert main(["grade", str(tmp_path / "nobody.py"), "--problems", str(problems)]) == 1
    assert capsys.readouterr().err == (f"mcgrade: error: {tmp_path / 'nobody.py'}: no such "
                                       "file; give the path of a notebook (.ipynb) or a Python file (.py)\n")


def test_usage_errors_exit_2(capsys) -> None:
    assert main(["grade"]) == 2
    assert "the following arguments are required" in capsys.readouterr().err
    assert main([]) == 2


def test_a_crashing_submission_is_graded_up_to_the_crash(files, capsys) -> None:
    problems, submission = files
    submission.write_text('dz_dw = "x.T"\n1 / 0\ndz_db = 1\n', encoding="utf-8")
    assert main(["grade", str(submission), "--problems", str(problems)]) == 0
    out = capsys.readouterr().out
    assert "  dz_dw        correct        2/2  Correct. [proved symbolically]" in out
    assert ("  dz_db        error          0/1  dz_db was not defined before the script "
            "stopped: alice.py raised ZeroDivisionError: division by zero at line 2 "
            "(`1 / 0`)") in out
    assert out.endswith(f"mcgrade: 2/5 points (sandbox: {HERE})\n")


def test_the_console_script_runs(files) -> None:
    problems, submission = files
    done = subprocess.run([sys.executable, "-m", "mcgrade", "grade", str(submission),
                           "--problems", str(problems)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f"mcgrade: 4/5 points (sandbox: {HERE})\n")


def test_gradescope_results(files, tmp_path) -> None:
    problems, submission = files
    out = tmp_path / "results.json"
    assert main(["grade", str(submission), "--problems", str(problems),
                 "--gradescope", str(out)]) == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["score"] == 4
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in results["tests"]] \
        == [("dz_dw", 1, 2, "failed"), ("dz_db", 1, 1, "passed"),
            ("shape_dz_dx", 1, 1, "passed"), ("at_one", 1, 1, "passed")]


def test_gradescope_results_are_valid_when_grading_fails(files, tmp_path, capsys) -> None:
    problems, submission = files
    problems.write_text("title: [unclosed\n", encoding="utf-8")
    out = tmp_path / "results.json"
    assert main(["grade", str(submission), "--problems", str(problems),
                 "--gradescope", str(out)]) == 1
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["score"] == 0 and results["tests"] == []
    assert results["output"].startswith("mcgrade could not grade this submission: ")


def test_the_sandbox_comes_from_the_environment_too(files, capsys, monkeypatch) -> None:
    """As for the pytest plugin: --sandbox, else MCGRADE_SANDBOX, else auto."""
    problems, submission = files
    monkeypatch.setenv("MCGRADE_SANDBOX", "process")
    assert main(["grade", str(submission), "--problems", str(problems)]) == 0
    assert "(sandbox: process (" in capsys.readouterr().out
    monkeypatch.setenv("MCGRADE_SANDBOX", "vm")
    assert main(["grade", str(submission), "--problems", str(problems)]) == 1
    assert capsys.readouterr().err == ("mcgrade: error: the environment variable "
                                       "MCGRADE_SANDBOX: sandbox 'vm' is not one of auto, "
                                       "bwrap, process, subprocess\n")


def test_a_check_this_machine_could_not_finish_exits_3(files, tmp_path, capsys,
                                                        monkeypatch) -> None:
    """Not bad input (1): the machine's fault, and Gradescope still gets a valid file."""
    from mcgrade.engine import budget
    from mcgrade.errors import CheckAbandoned

    def abandoned(seconds, what, compute):
        raise CheckAbandoned(f"this machine could not finish checking {what} within 60 s "
                             "(a fault of the machine, not of the answer); grade it again")
    monkeypatch.setattr(budget, "finish_within", abandoned)
    problems, submission = files
    results = tmp_path / "results.json"
    assert main(["grade", str(submission), "--problems", str(problems),
                 "--gradescope", str(results)]) == 3
    line, = capsys.readouterr().err.splitlines()
    assert line.startswith("mcgrade: error: this machine could not finish checking the "
                           "answer to 'dz_dw'")
    assert "grade it again" in json.loads(results.read_text(encoding="utf-8"))["output"]
