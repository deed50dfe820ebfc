"""Limits that hold: every limit a problem set gives is one this machine can keep (timeouts,
points and their totals, tolerances, domains), refused at load time in one line; and the
Python API returns a verdict for any value, however large or deep, never an exception."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import mcgrade
from mcgrade.cli import main
from mcgrade.errors import ProblemSetError
from mcgrade.problemset import parse_problem_set
from tests.test_cli import SET

HEAD = """
title: Limits
symbols:
  x: {}
problems:
"""


def problem(pid: str, extra: str = "") -> str:
    return f"  - id: {pid}\n    derivative: {{of: \"x**2\", wrt: x}}\n{extra}"


def error_of(text: str) -> str:
    with pytest.raises(ProblemSetError) as info:
        parse_problem_set(textwrap.dedent(text), "hw1.yaml")
    return str(info.value)


def test_a_timeout_past_an_hour_is_refused_at_the_set_and_at_a_problem() -> None:
    assert error_of("timeout: 200000" + HEAD + problem("q")) == (
        "hw1.yaml:1: timeout: expected a number of seconds > 0 and at most 3600 (an hour), "
        "got 200000")
    assert error_of(HEAD + problem("q", "    timeout: 3601\n")) == (
        "hw1.yaml:8: problems[0] (id='q') → timeout: expected a number of seconds > 0 and "
        "at most 3600 (an hour), got 3601")
    for bad in ("0", "-1", ".inf", ".nan"):
        assert "expected a number of seconds > 0" in error_of(f"timeout: {bad}" + HEAD +
                                                              problem("q"))
    loaded = parse_problem_set("timeout: 3600" + HEAD + problem("q", "    timeout: 3600\n"))
    assert loaded.timeout == loaded.problems[0].timeout == 3600


def test_time_limits_that_add_up_past_a_day_are_refused_where_they_do() -> None:
    text = "timeout: 3600" + HEAD + "".join(problem(f"q{i}") for i in range(24))
    assert error_of(text) == (
        "hw1.yaml:52: problems[23] (id='q23') → timeout: the time limits add up to 90,000 s "
        "(the set's timeout for the script, then each problem's), more than a day (86,400 "
        "s); lower the timeouts")
    parse_problem_set("timeout: 3600" + HEAD + "".join(problem(f"q{i}") for i in range(23)))


def test_points_are_finite_and_bounded_one_by_one_and_in_all() -> None:
    assert error_of(HEAD + problem("q", "    points: 1.0e+308\n")) == (
        "hw1.yaml:8: problems[0] (id='q') → points: expected a number from 0 to 1,000,000, "
        "got 1e+308")
    assert "expected a number from 0 to 1,000,000, got inf" in error_of(
        HEAD + problem("q", "    points: .inf\n"))
    two = HEAD + problem("q", "    points: 600000\n") + problem("r", "    points: 600000\n")
    assert error_of(two) == (
        "hw1.yaml:11: problems[1] (id='r') → points: the problems' points add up to "
        "1,200,000, more than 1,000,000; give fewer points")
    loaded = parse_problem_set(HEAD + problem("q", "    points: 1000000\n"))
    assert loaded.max_score == 1_000_000


def test_tolerances_are_finite_and_not_negative() -> None:
    for bad, shown in ((".inf", "inf"), ("-1.0e-6", "-1e-06"), (".nan", "nan")):
        assert error_of(f"tolerance: {{rtol: {bad}}}" + HEAD + problem("q")) == (
            f"hw1.yaml:1: tolerance → rtol: expected a number ≥ 0, got {shown}")
    assert "problems[0] (id='q') → tolerance → atol: expected a number ≥ 0, got inf" in \
        error_of(HEAD + problem("q", "    tolerance: {atol: .inf}\n"))


def test_a_domain_reaching_past_a_million_is_refused_not_a_crash(tmp_path, capsys) -> None:
    text = HEAD.replace("x: {}", "x: {domain: [-1.0e+308, 1.0e+308]}") + problem("q")
    assert error_of(text) == ("hw1.yaml:4: symbols → x → domain: [-1e+308, 1e+308] reaches "
                              "past ±1,000,000; sample points must stay within it")
    path = tmp_path / "hw1.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["validate", str(path)]) == 1                # not 3, the internal error
    assert "reaches past ±1,000,000" in capsys.readouterr().out


def test_validate_says_it_in_one_line_with_file_line_and_problem(tmp_path, capsys) -> None:
    path = tmp_path / "hw1.yaml"
    path.write_text(HEAD + problem("q", "    timeout: 200000\n"), encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:8: error: problems[0] (id='q') → timeout: expected a number of seconds " \
           "> 0 and at most 3600 (an hour), got 200000\n" in out


@pytest.fixture
def api_set(tmp_path: Path) -> Path:
    path = tmp_path / "api.yaml"
    path.write_text(textwrap.dedent(SET), encoding="utf-8")
    return path


def deep_list(depth: int) -> list:
    top: list = []
    inner = top
    for _ in range(depth):
        inner.append([])
        inner = inner[0]
    return top


def self_containing() -> list:
    value: list = [1.0]
    value.append(value)
    return value


def deep_sympy(depth: int) -> sp.Expr:
    expression = sp.Symbol("x")
    for _ in range(depth):
        expression = sp.sin(expression, evaluate=False)
    return expression


@pytest.mark.parametrize("value, says", [
    ("x" * 100_001, "str (100001 characters; at most 100000)"),
    (np.zeros((1_000_001, 1)), "numpy.ndarray (1000001 numbers; at most 1000000)"),
    ([[0.0]] * 1_000_001, "list (more than 1000000 numbers)"),
    (deep_list(100_000), "list (nested too deeply)"),
    (self_containing(), "list (nested too deeply)"),
    (10 ** 400, "int (too large to be a number)"),
    ([[1.0, 2.0], [3.0]], "list (ragged: rows of different lengths)"),
    (deep_sympy(150), "the sympy answer is nested more than 100 deep"),
    (deep_sympy(5000), "(nested too deeply to read)"),
], ids=["string", "array", "list", "deep-list", "self-containing", "huge-int", "ragged",
        "deep-sympy", "very-deep-sympy"])
def test_the_api_returns_a_verdict_for_any_value(api_set, value, says) -> None:
    verdict = mcgrade.check(value, "dz_dw", api_set)
    assert verdict.status == "incorrect" and verdict.score == 0
    assert verdict.diagnoses == ("unparseable",)
    assert says in verdict.feedback
    with pytest.raises(AssertionError, match="unparseable|not an answer|nested"):
        mcgrade.assert_correct(value, "dz_dw", api_set)
