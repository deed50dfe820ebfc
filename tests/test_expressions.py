"""Typing (shapes and their messages) and the two backends of the expression language."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from mcgrade.errors import ExpressionError
from mcgrade.expressions import Scope, compile_expression
from mcgrade.expressions.functions import FUNCTIONS
from mcgrade.expressions.numpy_backend import NumpyBackend
from mcgrade.expressions.sympy_backend import ELEMENTWISE, SympyBackend

SCOPE = Scope({"x": ("n", 1), "w": ("n", 1), "b": (1, 1), "W": ("m", "n"),
               "A": ("n", "n"), "v": ("m", 1)}, frozenset({"n", "m"}))


def error(text: str) -> str:
    with pytest.raises(ExpressionError) as info:
        compile_expression(text, SCOPE)
    return str(info.value)


@pytest.mark.parametrize("text, shape", [
    ("w.T @ x + b", (1, 1)), ("W @ x", ("m", 1)), ("x.T", (1, "n")), ("x @ x.T", ("n", "n")),
    ("relu(W @ x + v)", ("m", 1)), ("diag(x)", ("n", "n")), ("diag(A)", ("n", 1)),
    ("sum(W, 0)", (1, "n")), ("sum(W, 1)", ("m", 1)), ("ones(n)", ("n", 1)),
    ("eye(n, m)", ("n", "m")), ("softmax(x)", ("n", 1)), ("Matrix([[1, b]])", (1, 2)),
    ("x * b", ("n", 1)), ("(x.T @ x) * x", ("n", 1)), ("x[0] * W[1, 0]", (1, 1)),
    ("Piecewise((x, b > 0), (0 * x, True))", ("n", 1)), ("Max(0, x)", ("n", 1)),
    ("inv(A) @ x", ("n", 1)), ("det(A) + trace(A)", (1, 1)), ("dot(x, w)", (1, 1)),
])
def test_shapes_are_symbolic(text: str, shape: tuple) -> None:
    assert compile_expression(text, SCOPE).shape == shape


@pytest.mark.parametrize("text, expected", [
    ("x * x.T", "* is element-wise and needs operands of the same shape (or a scalar): x is "
                "n×1, x.T is 1×n; for a matrix product write x @ x.T (at column 1)"),
    ("x.T * x", "* is element-wise and needs operands of the same shape (or a scalar): x.T is "
                "1×n, x is n×1; for a matrix product write x.T @ x (at column 1)"),
    ("W * x", "* is element-wise and needs operands of the same shape (or a scalar): W is "
              "m×n, x is n×1; for a matrix product write W @ x (at column 1)"),
    ("v * W", "* is element-wise and needs operands of the same shape (or a scalar): v is "
              "m×1, W is m×n; to scale each row of W by v write diag(v) @ W (at column 1)"),
    ("x + x.T", "+ needs operands of the same shape (or a scalar): x is n×1, x.T is 1×n; "
                "did you mean x + x? (at column 1)"),
    ("W @ v", "@ needs the columns of the left operand to match the rows of the right: W is "
              "m×n, v is m×1; did you mean W.T @ v? (at column 1)"),
    ("x @ W", "@ needs the columns of the left operand to match the rows of the right: x is "
              "n×1, W is m×n; did you mean W @ x? (at column 1)"),
    ("W @ W", "@ needs the columns of the left operand to match the rows of the right: W is "
              "m×n, W is m×n; did you mean W.T @ W? (at column 1)"),
    ("wx", "unknown name 'wx'; multiplication must be written out: w*x, or w @ x for a "
           "matrix product (at column 1)"),
    ("xx1", "unknown name 'xx1' (symbols here: x, w, b, W, A, v) "
            "(at column 1)"),
    ("bb", "unknown name 'bb'; multiplication must be written out: b*b, or b @ b for a "
           "matrix product (at column 1)"),
    ("Wv", "unknown name 'Wv'; multiplication must be written out: W*v, or W @ v for a "
           "matrix product (at column 1)"),
    ("exq(x)", "unknown function 'exq'; did you mean exp? (at column 1)"),
    ("x(b + 1)", "x is not a function; multiplication must be written out: x*(b + 1) "
                 "(at column 1)"),
    ("exp", "exp is a function; call it, as in exp(…) (at column 1)"),
    ("x**(10**10)", "the exponent 10000000000 is too large (at most 64 in absolute value) "
                    "(at column 1)"),
    ("inv(W)", "inv needs a square matrix, got m×n (at column 1)"),
    ("A[1]", "A[1]: index a matrix with two indices, as A[i, j] (at column 1)"),
    ("max(x)", "max(…) of one argument would be a reduction, which the language does not "
               "have; Max(a, b) is element-wise (at column 1)"),
    ("softmax(W)", "softmax needs a vector, got m×n (at column 1)"),
    ("Piecewise((x, b > 0))", "end Piecewise with (expr, True) so that it is defined "
                              "everywhere (at column 1)"),
    ("2**(n*10**9)", "the exponent n*10**9 is too large (at most 64 in absolute value) "
                     "(at column 1)"),
    ("(1/2)**(10**6)", "the exponent 1000000 is too large (at most 64 in absolute value) "
                       "(at column 1)"),
    ("2**(4**(1/2)*100)", "the exponent 4**(1/2)*100 is too large (at most 64 in absolute "
                          "value) (at column 1)"),
    ("diag(x, b)", "diag of several arguments takes scalars; x is n×1 (at column 6)"),
    ("1/0", "1/0: division by zero (at column 1)"),
    ("eye(1000)", "a size must be between 1 and 50, got 1000 (at column 5)"),
    ("Matrix([[1, 2], [3]])", "every row of a Matrix needs the same number of entries "
                              "(at column 1)"),
])
def test_type_errors_say_what_to_write(text: str, expected: str) -> None:
    assert error(text) == expected


def test_size_clashes_between_numbers_and_dimensions_wait_for_sizes() -> None:
    expression = compile_expression("Matrix([[1, 2], [3, 4]]) @ x", SCOPE)
    expression.check_sizes({"n": 2, "m": 3})
    with pytest.raises(ExpressionError) as info:
        expression.check_sizes({"n": 3, "m": 3})
    assert str(info.value) == ("@ needs the columns of the left operand to match the rows of "
                               "the right: Matrix([[1, 2], [3, 4]]) is 2×2, x is n×1 "
                               "(at n = 3, m = 3)")


def test_numbers_are_exact() -> None:
    value = compile_expression("2/3 + 0.1", SCOPE).to_sympy({}, {})
    assert value == sp.Rational(2, 3) + sp.Rational(1, 10)


@pytest.mark.parametrize("text, exact", [
    ("4**(1/2)", sp.Integer(2)), ("2**(1/2) + 1", sp.sqrt(2) + 1),
    ("3**(-1/2)", 1 / sp.sqrt(3)), ("2**0.5", sp.sqrt(2)), ("(1/8)**(1/3)", sp.Rational(1, 2)),
])
def test_fractional_powers_of_numbers_stay_exact(text: str, exact: sp.Expr) -> None:
    expression = compile_expression(text, SCOPE)
    assert sp.simplify(expression.to_sympy({}, {}) - exact) == 0
    assert float(expression.to_numpy({}, {}, 1).ravel()[0]) == pytest.approx(float(exact))


def test_diag_of_several_scalars_is_a_diagonal_matrix() -> None:
    expression = compile_expression("diag(b, 2, b**2)", SCOPE)
    assert expression.shape == (3, 3)
    b = sp.Symbol("b")
    assert expression.to_sympy({"b": b}, {}) == sp.ImmutableMatrix(sp.diag(b, 2, b ** 2))
    values = expression.to_numpy({"b": np.full((2, 1, 1), 3.0)}, {}, 2)
    np.testing.assert_array_equal(values[1], np.diag([3.0, 2.0, 9.0]))


@pytest.mark.parametrize("text", ["sech(b)", "csch(b)", "coth(b)", "sec(b)", "csc(b)",
                                  "cot(b)", "asech(b/4)", "acsch(b)", "acoth(b + 2)",
                                  "asec(b + 2)", "acsc(b + 2)", "acot(b)", "acot(-b)"])
def test_sympy_printed_functions_are_in_the_language(text: str) -> None:
    """What sympy prints for these reads back as the same expression."""
    b = sp.Symbol("b", positive=True)
    exact = compile_expression(text, SCOPE).to_sympy({"b": b}, {})
    assert compile_expression(str(exact), SCOPE).to_sympy({"b": b}, {}) == exact
    for value in (sp.Rational(1, 3), sp.Rational(7, 4)):
        fast = compile_expression(text, SCOPE).to_numpy(
            {"b": np.full((1, 1, 1), float(value))}, {}, 1).ravel()[0]
        assert fast == pytest.approx(float(exact.subs(b, value)), rel=1e-12)


def _environments(sizes: dict[str, int], points: int = 3):
    rng = np.random.default_rng(7)
    symbolic, numeric, table = {}, {}, {}
    for name, shape in SCOPE.symbols.items():
        rows, cols = (sizes.get(d, d) for d in shape)
        values = rng.uniform(0.2, 2.0, (points, rows, cols))
        if (rows, cols) == (1, 1):
            symbolic[name] = sp.Symbol(name, real=True)
            table[symbolic[name]] = values[0, 0, 0]
        else:
            symbolic[name] = sp.ImmutableMatrix(rows, cols, lambda i, j, name=name: sp.Symbol(
                f"{name}_{i}_{j}", real=True))
            for i in range(rows):
                for j in range(cols):
                    table[symbolic[name][i, j]] = values[0, i, j]
        numeric[name] = values
    return symbolic, numeric, table


@pytest.mark.parametrize("text", [
    "w.T @ x + b", "relu(W @ x + v - 2)", "softmax(x)", "logsumexp(x)", "x.T @ A @ x",
    "norm(x)**2", "diag(x) @ A", "inv(A + 3*eye(n))", "det(A)", "sum(W, 0)", "sum(W, 1)",
    "Matrix([[1, 2], [3, b]])", "Piecewise((x, b > 1), (-x, True))", "sigmoid(W @ x)",
    "x[1] + W[1, 2] + x[-1]", "ones(n).T @ x", "eye(n) * 2", "Abs(x - 1) + sign(x - 1)",
    "Heaviside(x - 1)", "Min(x, w)", "Max(x, 1)", "exp(x) / (1 + exp(x))", "log(x) * sqrt(x)",
    "tanh(x) + sin(x) + cos(x) + tan(x/4) + sinh(x) + cosh(x) + atan(x)", "dot(x, w)",
    "trace(A @ A.T)", "diag(A)", "asin(x/3) + acos(x/3) + asinh(x) + acosh(x + 1) + "
    "atanh(x/3)", "pi * E * b", "n * b", "zeros(m, n) + W", "transpose(W) @ v",
    "sec(x/4) + csc(x/4 + 2) + cot(x/4 + 2) + sech(x) + csch(x*x + 1) + coth(x*x + 1)",
    "asec(x*x + 2) + acsc(x*x + 2) + acot(x) + asech(1/(x*x + 2)) + acsch(x) + "
    "acoth(x*x + 2)", "diag(b, 2, b**2) + 2**(1/2)",
])
def test_backends_agree(text: str) -> None:
    sizes = {"n": 3, "m": 2}
    symbolic, numeric, table = _environments(sizes)
    expression = compile_expression(text, SCOPE)
    exact = expression.to_sympy(symbolic, sizes)
    exact = exact if isinstance(exact, sp.MatrixBase) else sp.Matrix([[exact]])
    expected = np.array(exact.xreplace(table).evalf(), dtype=float)
    fast = expression.to_numpy(numeric, sizes, 3)[0]
    np.testing.assert_allclose(fast, expected, rtol=1e-12)


def test_every_function_has_both_implementations() -> None:
    numpy_names = set()
    for name in FUNCTIONS:
        spec = FUNCTIONS[name]
        if spec.rule in ("elementwise",):
            assert name in ELEMENTWISE
        numpy_names.add(name)
    assert hasattr(SympyBackend, "call") and hasattr(NumpyBackend, "call")
    # every function is used in test_backends_agree
    used = " ".join(test_backends_agree.pytestmark[0].args[1])  # type: ignore[attr-defined]
    missing = {n for n in FUNCTIONS if n not in used and n not in ("Piecewise",)}
    assert missing == set()
