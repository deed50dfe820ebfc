"""The whitelisting parser: what it refuses, and what it tells the writer to do instead."""

from __future__ import annotations

import pytest

from mcgrade.errors import ExpressionError
from mcgrade.expressions.syntax import parse


def message(text: str) -> str:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    return str(info.value)


@pytest.mark.parametrize("text, expected", [
    ("2x", "multiplication must be written out: write 2*x… instead of 2x… (at column 1)"),
    ("3 w", "multiplication must be written out: write 3*w… instead of 3w… (at column 1)"),
    ("x'", "x' is not a transpose here; write x.T (at column 2)"),
    ("(A@x)'", "(A@x)' is not a transpose here; write (A@x).T (at column 6)"),
    ("x^T", "x^T is not a transpose here; write x.T (at column 2)"),
    ("x^2", "^ is not a power; write x**2 (at column 2)"),
    ("20*(s + t + 1)^19", "^ is not a power; write 20*(s + t + 1)**19 (at column 15)"),
    ("2*t*cos(t ^ 2)", "^ is not a power; write t**2 (at column 11)"),
    ("x.shape", "x.shape: the only attribute allowed is .T (at column 1)"),
    ("x.t", "x.t: the only attribute allowed is .T; for a transpose write x.T (at column 1)"),
    ("(a+b)(c)", "(a+b)(c) reads as calling (a+b); multiplication must be written out: "
                 "(a+b)*(c) (at column 1)"),
    ("x > 0", "'x > 0': comparisons are allowed only as Piecewise conditions (at column 1)"),
    ("x[1:2]", "'x[1:2]': slices are not supported; index single entries as x[i, j] "
               "(0-based) (at column 1)"),
    ("'a'", "\"'a'\" is not a number or a name (at column 1)"),
    ("lambda: 1", "'lambda: 1' is not allowed in an expression (at column 1)"),
    ("sum(x, axis=0)", "'sum(x, axis=0)': keyword arguments are not supported; pass "
                       "arguments by position (at column 1)"),
    ("", "the expression is empty (at column 1)"),
    ("x +", "not a valid expression: invalid syntax (at column 4)"),
    ("(x + 1", "unbalanced parentheses (at column 1)"),
    ("Piecewise(x)", "Piecewise takes pairs: Piecewise((expr, condition), …, (expr, True)) "
                     "(at column 11)"),
])
def test_misuse_says_what_to_write(text: str, expected: str) -> None:
    assert message(text) == expected


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')",
    "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd').read()",
    "[c for c in ()]",
    "x if y else z",
    "exec('1')",
    "{1: 2}",
    "x == y",
    "not x",
    "a and b",
    "f'{x}'",
    "*x",
    "x := 1",
])
def test_code_is_never_accepted(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse(text)


def test_a_megabyte_string_is_refused_before_parsing() -> None:
    assert message("x" * (1 << 20)) == ("expression is 1,048,576 characters long; "
                                        "the limit is 20,000")


def test_deep_nesting_is_refused() -> None:
    assert message("(" * 1000 + "x" + ")" * 1000) == \
        "brackets are nested more than 40 deep (at column 41)"
    assert message("-" * 1000 + "x") == "expression is nested more than 60 deep"


def test_long_number_literals_are_refused() -> None:
    assert message("1" * 40) == "a number with 40 digits is too long (at most 30) (at column 1)"


def test_valid_expressions_parse() -> None:
    for text in ["w.T @ x + b", "relu(W @ x + b)", "Piecewise((x, x > 0), (0, True))",
                 "Matrix([[1, 2], [3, 4]])", "x[0, 1] + x[-1]", "1e-3 * x", "-x.T"]:
        parse(text)
