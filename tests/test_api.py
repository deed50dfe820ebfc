"""The public Python API: its names, check() and assert_correct()."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import sympy as sp

import mcgrade

SET = """
title: API
symbols:
  n: {dimension: true, sizes: [2, 3]}
  N: {dimension: true, sizes: [4]}
  x: {shape: [n, 1]}
  w: {shape: [n, 1]}
  X: {shape: [N, n]}
  y: {shape: [N, 1]}
  b: {}
problems:
  - id: dz_dw
    points: 2
    derivative: {of: "w.T @ x + b", wrt: w}
  - id: shape_dz_dx
    shape: {of: "w.T @ x + b", wrt: x}
  - id: at_one
    derivative: {of: "x.T @ x", wrt: x}
    at: {x: [[1], [2]]}
  - id: grad_fn
    derivative: {of: "sum((X @ w - y)**2)", wrt: w}
    form: function
    signature: [w, X, y]
"""


@pytest.fixture
def problems(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text(textwrap.dedent(SET), encoding="utf-8")
    return path


def test_public_names_are_sorted_and_importable() -> None:
    assert mcgrade.__all__ == sorted(mcgrade.__all__)
    for name in mcgrade.__all__:
        assert getattr(mcgrade, name) is not None
    with pytest.raises(AttributeError):
        mcgrade.not_a_name  # noqa: B018  (the lookup is the test)


def test_check_takes_every_answer_form(problems) -> None:
    n = sp.Symbol("n", integer=True)
    assert mcgrade.check("x.T", "dz_dw", problems).status == "correct"
    assert mcgrade.check(sp.MatrixSymbol("x", n, 1).T, "dz_dw", problems).status == "correct"
    assert mcgrade.check((1, "n"), "shape_dz_dx", problems).status == "correct"
    assert mcgrade.check(np.array([[2.0, 4.0]]), "at_one", problems).status == "correct"
    assert mcgrade.check([[2, 4]], "at_one", problems).status == "correct"
    assert mcgrade.check(lambda w, X, y: 2 * (X @ w - y).T @ X, "grad_fn",
                         problems).status == "correct"
    assert mcgrade.check("x", "dz_dw", problems).diagnoses == ("transposed",)


def test_assert_correct_fails_with_the_feedback(problems) -> None:
    mcgrade.assert_correct("x.T", "dz_dw", problems)
    with pytest.raises(AssertionError) as info:
        mcgrade.assert_correct("x", "dz_dw", problems)
    assert str(info.value) == (
        "0/2 points: transposed\nThis is the transpose of the expected answer: in numerator "
        "layout the derivative of a scalar by an n×1 vector is a 1×n row (at n = 2 that is "
        "1×2), and you gave a 2×1 column.")


def test_unknown_problem_names_the_problems(problems) -> None:
    with pytest.raises(mcgrade.McgradeError, match="no problem 'dz_dx' in .*; its problems "
                       "are dz_dw, shape_dz_dx, at_one, grad_fn"):
        mcgrade.check("x", "dz_dx", problems)


def test_check_accepts_a_loaded_problem_set(problems) -> None:
    loaded = mcgrade.load_problem_set(problems)
    assert mcgrade.check("x.T", "dz_dw", loaded).score == 2


def test_grade_values_grades_variables_as_a_submissions_answers(problems) -> None:
    """A notebook's variables: every problem (a name not defined is missing), or those
    named, by problem id or answer name; function answers called at the sample points."""
    from mcgrade.api import grade_values
    values = {"dz_dw": "x", "grad_fn": lambda w, X, y: 2 * (X @ w - y).T @ X, "other": 1}
    report = grade_values(values, problems, submission="nb")
    assert [(v.id, v.status) for v in report.verdicts] == [
        ("dz_dw", "incorrect"), ("shape_dz_dx", "missing"), ("at_one", "missing"),
        ("grad_fn", "correct")]
    assert (report.submission, report.problem_set, report.score) == ("nb", "api.yaml", 1)
    only = grade_values(values, problems, ["grad_fn", "dz_dw"])
    assert [v.id for v in only.verdicts] == ["dz_dw", "grad_fn"]      # the set's order
    with pytest.raises(mcgrade.McgradeError, match="no problem 'nope'"):
        grade_values(values, problems, ["nope"])
