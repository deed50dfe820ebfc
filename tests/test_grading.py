"""The checking pipeline through the Grader API: every diagnosis, right and wrong answers,
points and partial credit, and the feedback a student reads, word for word."""

from __future__ import annotations

import pytest

from mcgrade.grading import Grader
from mcgrade.model import Answer, Verdict
from mcgrade.problemset import parse_problem_set

SET = """
title: Engine checks
symbols:
  n: {dimension: true, sizes: [2, 3, 5]}
  m: {dimension: true, sizes: [3, 4]}
  x: {shape: [n, 1]}
  w: {shape: [n, 1]}
  W: {shape: [m, n]}
  A: {shape: [n, n], symmetric: true}
  B: {shape: [n, n]}
  b: {}
  s: {domain: positive}
problems:
  - id: dz_dw
    points: 2
    derivative: {of: "w.T @ x + b", wrt: w}
    partial_credit: {transposed: 0.5}
  - id: relu_grad
    derivative: {of: "relu(w.T @ x + b)", wrt: w}
    mistakes:
      - {answer: "x", feedback: "Gradients are rows in numerator layout.", credit: 0.25}
  - id: hess
    hessian: {of: "x.T @ A @ x", wrt: x}
  - id: quad
    derivative: {of: "x.T @ B @ x", wrt: x}
    hints: ["Write x.T @ B @ x as a double sum."]
  - id: elementwise
    derivative: {of: "w * x", wrt: x}
  - id: jac_shape
    shape: {of: "W @ x", wrt: x}
  - id: jac
    derivative: {of: "W @ x", wrt: x}
  - id: at_point
    derivative: {of: "x.T @ x", wrt: x}
    at: {x: [[1], [2], [3]]}
  - id: sig
    derivative: {of: "sigmoid(b)", wrt: b}
  - id: grad_list
    derivative: {of: "b**2 * s", wrt: [b, s]}
  - id: vrelu
    derivative: {of: "relu(W @ x)", wrt: x}
  - id: logs
    derivative: {of: "log(s)", wrt: s}
    forbid: [log]
  - id: given
    answer: "2 * x.T"
  - id: shadowed
    derivative: {of: "b * s", wrt: b}
    mistakes:
      - {answer: "-s", feedback: "An exact built-in diagnosis comes first."}
      - {answer: "s**2", feedback: "Squared by mistake."}
"""


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader(parse_problem_set(SET, "engine.yaml"))


def check(grader: Grader, problem: str, answer: Answer | str) -> Verdict:
    if isinstance(answer, str):
        answer = Answer("string", text=answer)
    return grader.check(grader.problem_set.problem(problem), answer)


def array(rows: list) -> Answer:
    flat = [float(v) for row in rows for v in (row if isinstance(row, list) else [row])]
    shape = (len(rows), len(rows[0])) if isinstance(rows[0], list) else (len(rows),)
    return Answer("array", value=tuple(flat), shape=shape)


@pytest.mark.parametrize("problem, answer", [
    ("dz_dw", "x.T"), ("dz_dw", "transpose(x)"), ("dz_dw", "(x.T @ eye(n))"),
    ("relu_grad", "Heaviside(w.T @ x + b) * x.T"),
    ("relu_grad", "Piecewise((x.T, w.T @ x + b > 0), (0 * x.T, True))"),
    ("relu_grad", "(sign(w.T @ x + b) + 1) / 2 * x.T"),
    ("relu_grad", "Piecewise((0 * x.T, w.T @ x + b <= 0), (x.T, True))"),
    ("hess", "2 * A"), ("hess", "A + A.T"),
    ("quad", "x.T @ (B + B.T)"), ("quad", "x.T @ B.T + x.T @ B"), ("quad", "((B + B.T) @ x).T"),
    ("elementwise", "diag(w)"), ("elementwise", "diag(w) @ eye(n)"),
    ("jac", "W"), ("jac", "W @ eye(n)"),
    ("sig", "sigmoid(b) * (1 - sigmoid(b))"), ("sig", "exp(b) / (1 + exp(b))**2"),
    ("sig", "exp(-b) / (1 + exp(-b))**2"),
    ("grad_list", "Matrix([[2*b*s, b**2]])"),
    ("vrelu", "diag(Heaviside(W @ x)) @ W"),
    ("given", "x.T + x.T"),
])
def test_equivalent_forms_are_accepted(grader: Grader, problem: str, answer: str) -> None:
    verdict = check(grader, problem, answer)
    assert (verdict.status, verdict.diagnoses) == ("correct", ())
    assert verdict.score == verdict.max_score


def test_proofs_are_reported_as_symbolic(grader: Grader) -> None:
    verdict = check(grader, "relu_grad", "Piecewise((x.T, w.T @ x + b > 0), (0 * x.T, True))")
    assert verdict.method == "symbolic"
    assert verdict.feedback == "Correct."


def test_numbers_are_reported_as_numeric_with_points(grader: Grader) -> None:
    verdict = check(grader, "at_point", array([[2, 4, 6]]))
    assert (verdict.status, verdict.method, verdict.evidence) == (
        "correct", "numeric", {"points": 8})


@pytest.mark.parametrize("problem, answer, diagnoses", [
    ("dz_dw", "x", ("transposed",)),
    ("jac", "W.T", ("transposed",)),
    ("jac", "W @ W.T", ("wrong-shape",)),
    ("quad", "(B + B.T) @ x", ("transposed",)),
    ("quad", "x.T @ (B.T + B).T", ()),
    ("dz_dw", "-x.T", ("sign",)),
    ("hess", "-2 * A", ("sign",)),
    ("dz_dw", "2 * x.T", ("scale-factor",)),
    ("hess", "A", ("scale-factor",)),
    ("dz_dw", "-x", ("transposed", "sign")),
    ("elementwise", "w", ("elementwise-vs-matrix",)),
    ("elementwise", "w.T", ("elementwise-vs-matrix",)),
    ("relu_grad", "x.T", ("piecewise-branch",)),
    ("vrelu", "W", ("piecewise-branch",)),
    ("relu_grad", "x", ("author-mistake",)),
    ("quad", "2 * x.T @ B", ("not-equivalent",)),
    ("dz_dw", "w.T", ("not-equivalent",)),
    ("dz_dw", "x.T @ x", ("wrong-shape",)),
    ("dz_dw", "x^T", ("unparseable",)),
    ("logs", "log(s) * 0 + 1/s", ("forbidden",)),
    ("sig", "log(b - 10)", ("non-finite",)),
])
def test_wrong_answers_are_diagnosed(grader: Grader, problem: str, answer: str,
                                     diagnoses: tuple) -> None:
    verdict = check(grader, problem, answer)
    assert verdict.diagnoses == diagnoses


def test_square_transpose_is_caught_by_values(grader: Grader) -> None:
    # jac is m×n; at n = m = 3 W.T has the right shape, so only the values tell
    verdict = check(grader, "quad", "(B.T + B) @ x")
    assert verdict.diagnoses == ("transposed",)


def test_transposed_feedback_names_the_layout(grader: Grader) -> None:
    verdict = check(grader, "dz_dw", "x")
    assert verdict.feedback == (
        "This is the transpose of the expected answer: in numerator layout the derivative of "
        "a scalar by an n×1 vector is a 1×n row (at n = 2 that is 1×2), and you gave a 2×1 "
        "column.")
    assert (verdict.status, verdict.score, verdict.max_score) == ("partial", 1.0, 2)
    assert verdict.evidence == {"expected_shape": [1, 2], "given_shape": [2, 1],
                                "sizes": {"n": 2}}


@pytest.mark.parametrize("problem, answer, feedback", [
    ("dz_dw", "-x.T", "Your answer is the negative of the expected one: check the sign."),
    ("hess", "A", "Your answer is 1/2 times the expected one: check the constant factor."),
    ("elementwise", "w", "You gave a vector where the expected answer is a diagonal matrix: "
     "the derivative of an element-wise operation is diag(…) of the element-wise "
     "derivatives."),
    ("relu_grad", "x.T", "Your answer is right on only one branch of the piecewise function: "
     "it matches where the kink's argument is positive, not where it is negative. Treat both "
     "sides of the kink (the derivative of relu(z) is 1 for z > 0 and 0 for z < 0)."),
    ("relu_grad", "x", "Gradients are rows in numerator layout."),
    ("dz_dw", "x.T @ x", "Wrong shape: in numerator layout the derivative of a scalar by an "
     "n×1 vector is a 1×n row (at n = 2 that is 1×2), but your answer is a scalar."),
    ("dz_dw", "x^T", "could not read your answer: x^T is not a transpose here; write x.T"
     "\n    x^T\n     ^"),
    ("logs", "log(s) * 0 + 1/s", "this problem does not allow log in the answer: work the "
     "derivative out yourself"),
    ("dz_dw", "-x", "This is the transpose of the expected answer: in numerator layout the "
     "derivative of a scalar by an n×1 vector is a 1×n row (at n = 2 that is 1×2), and you "
     "gave a 2×1 column. Even so oriented, it is the negative of the expected answer: check "
     "the sign."),
])
def test_feedback_word_for_word(grader: Grader, problem: str, answer: str,
                                feedback: str) -> None:
    assert check(grader, problem, answer).feedback == feedback


def test_not_equivalent_shows_a_point_where_values_differ(grader: Grader) -> None:
    verdict = check(grader, "quad", "2 * x.T @ B")
    assert verdict.feedback.startswith("Not equivalent to the expected answer. At n = 2, x = ")
    assert verdict.feedback.endswith("\nHint: Write x.T @ B @ x as a double sum.")
    assert set(verdict.evidence) == {"expected_shape", "given_shape", "sizes", "point",
                                     "entry", "expected", "given"}
    assert set(verdict.evidence["point"]) == {"x", "B"}


def test_author_mistake_credit(grader: Grader) -> None:
    verdict = check(grader, "relu_grad", "x")
    assert (verdict.status, verdict.score) == ("partial", 0.25)


def test_missing_error_and_timeout_statuses(grader: Grader) -> None:
    assert check(grader, "dz_dw", Answer("missing")).feedback == (
        "No answer: define a variable named `dz_dw` in your submission.")
    assert check(grader, "dz_dw", Answer("missing")).status == "missing"
    error = check(grader, "dz_dw", Answer("error", text="alice.py raised ZeroDivisionError at "
                                          "line 3"))
    assert (error.status, error.feedback) == (
        "error", "alice.py raised ZeroDivisionError at line 3")
    assert check(grader, "dz_dw", Answer("timeout")).status == "timeout"


def test_arrays_flat_and_oriented(grader: Grader) -> None:
    assert check(grader, "at_point", array([[2, 4, 6]])).status == "correct"
    assert check(grader, "at_point", array([[2], [4], [6]])).diagnoses == ("transposed",)
    flat = check(grader, "at_point", array([2, 4, 6]))
    assert flat.diagnoses == ("flat-array",)
    assert flat.feedback == (
        "Your answer is a 1-D array of length 3, which has no orientation; this problem set "
        "uses strict orientation, so give a 1×n row (at n = 3 that is 1×3), e.g. with "
        ".reshape or a nested list. Its values are right.")
    assert check(grader, "at_point", array([[2, 4, 7]])).diagnoses == ("not-equivalent",)
    assert check(grader, "at_point", Answer("string", text="2*x.T")).status == "correct"


def test_lenient_orientation_accepts_1d_arrays() -> None:
    lenient = Grader(parse_problem_set(SET.replace("title: Engine checks",
                                                   "title: Lenient\norientation: lenient"),
                                       "lenient.yaml"))
    verdict = lenient.check(lenient.problem_set.problem("at_point"),
                            Answer("array", value=(2.0, 4.0, 6.0), shape=(3,)))
    assert verdict.status == "correct"
    assert verdict.feedback == ("Correct. Note: a 1-D array was accepted as the expected "
                                "vector (orientation: lenient).")


def test_numbers_for_a_symbolic_answer_say_so(grader: Grader) -> None:
    verdict = check(grader, "sig", Answer("number", value=0.25))
    assert verdict.diagnoses == ("not-equivalent",)
    assert "Your answer is fixed numbers, but the expected answer depends on b" \
        in verdict.feedback


def test_numbers_for_one_size_where_the_shape_varies_are_refused(grader: Grader) -> None:
    verdict = check(grader, "dz_dw", array([[1, 2]]))
    assert verdict.diagnoses == ("wrong-shape",)
    assert verdict.feedback == (
        "Your answer is written for one size only (numbers, or entries x_1, x_2, …), but this "
        "problem is checked at several sizes (n = 2; n = 3; n = 5): write it as an expression "
        "string or with MatrixSymbols, so that it works at every size.")


@pytest.mark.parametrize("given, diagnoses", [
    (("m", "n"), ()), ((3, 2), ()), ("(m, n)", ()), ("m x n", ()),
    (("n", "m"), ("transposed",)), ((2, 3), ("transposed",)), (("n",), ("flat-array",)),
    ((7, 7), ("wrong-shape",)),
])
def test_shape_problems(grader: Grader, given: object, diagnoses: tuple) -> None:
    answer = Answer("string", text=given) if isinstance(given, str) else Answer(
        "shape", value=given)
    assert check(grader, "jac_shape", answer).diagnoses == diagnoses


def test_cancellation_does_not_reject_a_correct_expanded_polynomial() -> None:
    grader = Grader(parse_problem_set("""
        title: Cancellation
        symbols:
          x: {domain: [-3, -2]}
          y: {domain: [0.5, 1.5]}
          z: {domain: [0.5, 1.5]}
        problems:
          - id: p
            derivative: {of: "(x + y + z + 1)**12 / 12", wrt: x}
        """, "cancel.yaml"))
    import sympy as sp
    x, y, z = sp.symbols("x y z")
    expanded = str(sp.expand((x + y + z + 1)**11))   # floats lose this to cancellation
    verdict = grader.check(grader.problem_set.problem("p"), Answer("string", text=expanded))
    assert verdict.status == "correct"


def test_grading_is_deterministic(grader: Grader) -> None:
    first = check(grader, "quad", "2 * x.T @ B")
    again = Grader(parse_problem_set(SET, "engine.yaml"))
    second = again.check(again.problem_set.problem("quad"), Answer("string", text="2 * x.T @ B"))
    assert first == second


def test_symbolic_confirmation_respects_its_budget() -> None:
    grader = Grader(parse_problem_set(SET, "engine.yaml"), symbolic_work=0)
    verdict = grader.check(grader.problem_set.problem("sig"),
                           Answer("string", text="exp(-b) / (1 + exp(-b))**2"))
    assert (verdict.status, verdict.method) == ("correct", "numeric")


def test_absurd_answers_are_refused_quickly(grader: Grader) -> None:
    for text in ["x" * (1 << 20), "x**(10**10)", "(" * 1000 + "x" + ")" * 1000]:
        assert check(grader, "dz_dw", text).diagnoses == ("unparseable",)


def test_exact_built_in_diagnoses_come_before_author_mistakes(grader: Grader) -> None:
    assert check(grader, "shadowed", "-s").diagnoses == ("sign",)
    assert check(grader, "shadowed", "s**2").feedback == "Squared by mistake."
    # looser diagnoses (a transpose on one branch of a kink) come after the author's
    assert check(grader, "relu_grad", "x").diagnoses == ("author-mistake",)


def sympy_answer(value) -> Answer:
    import sympy as sp
    shape = value.shape if isinstance(value, sp.MatrixBase) else ()
    return Answer("sympy", text=sp.srepr(value), shape=shape)


def test_sympy_answers_with_matrix_symbols_apply_at_every_size(grader: Grader) -> None:
    import sympy as sp
    n = sp.Symbol("n", integer=True)
    x, A = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("A", n, n)
    assert check(grader, "dz_dw", sympy_answer(x.T)).status == "correct"
    assert check(grader, "dz_dw", sympy_answer(x)).diagnoses == ("transposed",)
    verdict = check(grader, "hess", sympy_answer(A + A.T))
    assert (verdict.status, verdict.method) == ("correct", "symbolic")


def test_sympy_answers_with_explicit_entries_are_checked_where_they_fit(grader) -> None:
    import sympy as sp
    x1, x2 = sp.symbols("x_1 x_2")
    # dz_dw is 1×n: entries for n = 2 answer one size of a problem about every n
    assert check(grader, "dz_dw", sympy_answer(sp.Matrix([[x1, x2]]))).diagnoses == (
        "wrong-shape",)
    b, s = sp.symbols("b s")
    assert check(grader, "grad_list", sympy_answer(sp.Matrix([[s * b, b**2]]))).diagnoses \
        == ("not-equivalent",)
    assert check(grader, "grad_list", sympy_answer(sp.Matrix([[2 * b * s, b**2]]))).status \
        == "correct"


def test_sympy_answers_with_unknown_symbols_say_which(grader: Grader) -> None:
    import sympy as sp
    verdict = check(grader, "sig", sympy_answer(sp.Symbol("y") ** 2))
    assert verdict.diagnoses == ("unparseable",)
    assert verdict.feedback.startswith("your answer does not work at every size: 'y' is not "
                                       "a symbol of this problem set")


def test_sympy_text_is_never_evaluated(grader: Grader) -> None:
    hostile = Answer("sympy", text="__import__('os').system('touch /tmp/mcgrade-pwned')")
    verdict = check(grader, "sig", hostile)
    assert verdict.diagnoses == ("unparseable",)
    assert verdict.feedback == ("could not read your sympy answer: the sympy answer holds "
                                "something other than sympy objects")


FUNCTION_SET = """
title: Functions
symbols:
  n: {dimension: true, sizes: [2, 3]}
  N: {dimension: true, sizes: [4, 5]}
  w: {shape: [n, 1]}
  X: {shape: [N, n]}
  y: {shape: [N, 1]}
problems:
  - id: grad_fn
    derivative: {of: "sum((X @ w - y)**2)", wrt: w}
    form: function
    signature: [w, X, y]
"""


def _run_function(grader: Grader, function) -> Verdict:
    import numpy as np
    results = []
    for args in grader.calls()["grad_fn"]:
        try:
            value = np.asarray(function(*(np.array(a, dtype=float) for a in args)), float)
            results.append(Answer("array", value=tuple(value.ravel()), shape=value.shape))
        except Exception as exc:                       # what the child would report
            results.append(Answer("error", text=f"{type(exc).__name__}: {exc}"))
    problem = grader.problem_set.problem("grad_fn")
    return grader.check(problem, Answer("function", value=tuple(results)))


def test_function_answers_are_called_at_the_sample_points() -> None:
    grader = Grader(parse_problem_set(FUNCTION_SET, "functions.yaml"))
    calls = grader.calls()["grad_fn"]
    assert len(calls) == 16                     # 2 size assignments × 8 points
    assert [len(a) for a in calls[0]] == [2, 4, 4]   # w 2×1, X 4×2, y 4×1
    assert _run_function(grader, lambda w, X, y: 2 * (X @ w - y).T @ X).status == "correct"
    transposed = _run_function(grader, lambda w, X, y: 2 * X.T @ (X @ w - y))
    assert transposed.diagnoses == ("transposed",)
    flat = _run_function(grader, lambda w, X, y: (2 * (X @ w - y).T @ X).ravel())
    assert flat.diagnoses == ("flat-array",)
    half = _run_function(grader, lambda w, X, y: (X @ w - y).T @ X)
    assert half.diagnoses == ("scale-factor",)


def test_a_function_that_raises_is_an_error_with_its_message() -> None:
    grader = Grader(parse_problem_set(FUNCTION_SET, "functions.yaml"))
    verdict = _run_function(grader, lambda w, X, y: 1 / 0)
    assert (verdict.status, verdict.feedback) == (
        "error", "your function, called at sample point 1: ZeroDivisionError: division by "
        "zero")


def test_an_unanswered_placeholder_is_missing(grader: Grader) -> None:
    verdict = check(grader, "dz_dw", Answer("unsupported", text="ellipsis"))
    assert (verdict.status, verdict.feedback) == (
        "missing", "Not answered yet: replace the ... in `dz_dw = ...` with your answer.")
