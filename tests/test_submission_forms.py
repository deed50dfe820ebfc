"""Every answer form of SPEC §3 comes back as plain data: sympy as srepr text, functions as
their values at the grader's points, each read with its own time limit."""

from __future__ import annotations

import math
import textwrap
import time
from pathlib import Path

from mcgrade.model import Answer, Problem, ProblemSet
from mcgrade.submission import read_answers
from mcgrade.submission.protocol import RunResult, decode
from mcgrade.submission.runner import run_submission


def run(tmp_path: Path, source: str, names: str, **kw) -> RunResult:
    path = tmp_path / "hw1.py"
    path.write_text(textwrap.dedent(source))
    return run_submission(path, names.split(), **kw)


def test_sympy_values_come_back_as_srepr_text(tmp_path: Path) -> None:
    r = run(tmp_path, """
        import numpy as np, sympy as sp
        x, y = sp.symbols("x y")
        expr = sp.exp(x) * y
        mat = sp.Matrix([[x, 1], [2, y]])
        imm = sp.ImmutableMatrix([[x], [y]])
        obj = np.array([[x, 1.5]], dtype=object)
        flat = np.array([x, y], dtype=object)
        nums = np.array([[1, 2.5]], dtype=object)
        nested = [[x, 0], [0, x]]
        X = sp.MatrixSymbol("X", 3, 2)
        xt = X.T
        n = sp.Symbol("n")
        sym = sp.MatrixSymbol("W", n, 1)
        const = sp.Rational(2, 3)
    """, "expr mat imm obj flat nums nested xt sym const")
    a = r.answer
    assert a("expr") == Answer("sympy", text="Mul(Symbol('y'), exp(Symbol('x')))")
    assert a("mat") == Answer("sympy", shape=(2, 2), text=(
        "ImmutableDenseMatrix([[Symbol('x'), Integer(1)], [Integer(2), Symbol('y')]])"))
    assert a("imm") == Answer("sympy", shape=(2, 1),
                              text="ImmutableDenseMatrix([[Symbol('x')], [Symbol('y')]])")
    assert a("obj") == Answer("sympy", shape=(1, 2),
                              text="ImmutableDenseMatrix([[Symbol('x'), Float('1.5', precision=53)]])")
    assert a("flat") == Answer("sympy", shape=(2,),
                               text="ImmutableDenseMatrix([[Symbol('x')], [Symbol('y')]])")
    assert a("nums") == Answer("array", value=(1.0, 2.5), shape=(1, 2))
    assert a("nested").shape == (2, 2) and a("nested").kind == "sympy"
    assert a("xt") == Answer("sympy", shape=(2, 3), text=(
        "Transpose(MatrixSymbol(Str('X'), Integer(3), Integer(2)))"))
    assert a("sym").kind == "sympy" and a("sym").shape == ()
    assert a("const") == Answer("sympy", text="Rational(2, 3)")


def test_sympy_text_is_capped(tmp_path: Path) -> None:
    r = run(tmp_path, """
        import sympy as sp
        big = sp.Symbol("x" * 250_000) + 1
    """, "big")
    assert r.answer("big").kind == "unsupported" and "at most 200000" in r.answer("big").text
    assert decode({"kind": "sympy", "text": "x" * 200_001, "shape": []}).kind == "error"
    assert decode({"kind": "sympy", "text": "Symbol('x')", "shape": [1, 2, 3]}).kind == "error"


def test_functions_are_called_at_the_given_points(tmp_path: Path) -> None:
    calls = {"grad": [[[[1.0], [2.0]], 3.0], [[[0.0], [1.0]], -1.0]],
             "notfn": [[1.0]], "weird": [[1.0], [2.0], [3.0], [4.0], [5.0]]}
    r = run(tmp_path, """
        import numpy as np, sympy as sp
        def grad(w, b):
            assert w.dtype == np.float64 and w.shape == (2, 1) and type(b) is float
            return b * w.T
        notfn = "x.T"
        def weird(t):
            if t == 1.0:
                return float("nan")
            if t == 2.0:
                return np.sqrt(-1 + 0j)
            if t == 3.0:
                return sp.Matrix([[t, 2 * t]])
            if t == 4.0:
                return "x"
            raise ValueError("no")
    """, "grad notfn weird", calls=calls)
    assert r.answer("grad") == Answer("function", value=(
        Answer("array", value=(3.0, 6.0), shape=(1, 2)),
        Answer("array", value=(-0.0, -1.0), shape=(1, 2))))
    assert r.answer("notfn") == Answer("string", text="x.T")
    nan, cplx, mat, text, raised = r.answer("weird").value
    assert nan.kind == "number" and math.isnan(nan.value)
    assert cplx.kind == "complex" and cplx.value == 1j
    assert mat == Answer("array", value=(3.0, 6.0), shape=(1, 2))
    assert text.kind == "unsupported" and "must return numbers" in text.text
    assert raised == Answer("error", text="weird(…) raised ValueError: no")
    assert "ValueError: no" in r.output_tail          # the student sees the traceback


def test_a_hanging_call_costs_only_that_problem(tmp_path: Path) -> None:
    t = time.monotonic()
    r = run(tmp_path, """
        import os, time
        def slow(t):
            if t > 1:
                while True:
                    pass
            return t
        def dies(t):
            os._exit(3)
        def fine(t):
            return 2 * t
    """, "slow dies fine", timeout=1.0,
        calls={"slow": [[1.0], [2.0], [0.5]], "dies": [[1.0]], "fine": [[1.0]]})
    assert time.monotonic() - t < 3.5
    first, hung, skipped = r.answer("slow").value
    assert first == Answer("number", value=1.0)
    assert hung == Answer("timeout", text="this call did not finish within its time limit")
    assert skipped == Answer("timeout", text="not run: an earlier call ran out of time")
    (died,) = r.answer("dies").value
    assert died == Answer("error", text="dies: reading it ended the process (os._exit)")
    assert r.answer("fine").value == (Answer("number", value=2.0),)


def test_lying_and_hanging_values_cost_only_their_answer(tmp_path: Path) -> None:
    t = time.monotonic()
    r = run(tmp_path, """
        import numpy as np, sympy as sp
        class Liar:
            def __eq__(self, other): return True
            def __float__(self): return 1.0
            def __array__(self, *a, **k): return np.ones((1, 3))
            def __repr__(self): return "x.T"
        class Hang(sp.Symbol):
            def _sympyrepr(self, printer):
                while True:
                    pass
        liar = Liar()
        fakestr = type("S", (str,), {"__eq__": lambda s, o: True})("x.T")
        hang = Hang("h")
        arr = np.empty(2, dtype=object)
        arr[0], arr[1] = Liar(), sp.Symbol("x")
        ok = "x"
    """, "liar fakestr hang arr ok", timeout=1.0)
    assert time.monotonic() - t < 3.5
    assert r.answer("liar") == Answer("unsupported", text="__main__.Liar")
    assert r.answer("fakestr") == Answer("unsupported", text="__main__.S")
    assert r.answer("hang") == Answer("timeout", text="reading hang did not finish within "
                                                      "its time limit")
    assert r.answer("arr").kind == "unsupported" and "Liar" in r.answer("arr").text
    assert r.answer("ok").text == "x"


def test_read_answers_with_calls_and_budgets(tmp_path: Path) -> None:
    problems = (Problem(id="g", kind="derivative", of="x.T @ x", wrt=("x",), form="function",
                        signature=("x",), timeout=1.0),
                Problem(id="s", kind="shape", of="x", wrt=("x",)))
    pset = ProblemSet("t", problems, timeout=2.0)
    path = tmp_path / "hw1.ipynb"
    import nbformat
    from nbformat import v4
    path.write_text(nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell(
        "def g(x):\n    return 2 * x.T\ns = ('n', 'n')")])))
    sub = read_answers(path, pset, sandbox="process", calls={"g": [[[[1.0], [2.0]]]]})
    assert sub.answers["g"] == Answer("function", value=(
        Answer("array", value=(2.0, 4.0), shape=(1, 2)),))
    assert sub.answers["s"] == Answer("shape", value=("n", "n"))


def test_the_child_side_imports_nothing_from_mcgrade() -> None:
    import ast

    import mcgrade.submission as package
    folder = Path(package.__file__).parent
    for path in folder.glob("_*.py"):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n == "mcgrade" or n.startswith("mcgrade.") for n in names), path
