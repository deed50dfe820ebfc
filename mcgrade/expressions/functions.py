"""The functions of the expression language, as data: name, arity, shape rule, kinks.

Each backend implements every name here; the type checker (``typed.py``) applies the shape
rule. Keeping the table in one place is what lets a test check that both backends cover
the same language, and lets the docs list it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    min_args: int
    max_args: int
    rule: str           # which shape rule applies, see typed.py
    kinked: bool = False
    doc: str = ""


_SPECS = (
    *(FunctionSpec(n, 1, 1, "elementwise", doc=f"{n}, element-wise")
      for n in ("exp", "log", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan",
                "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sec", "csc", "cot",
                "asec", "acsc", "acot", "sech", "csch", "coth", "asech", "acsch", "acoth")),
    FunctionSpec("sigmoid", 1, 1, "elementwise", doc="1/(1 + exp(-z)), element-wise"),
    FunctionSpec("relu", 1, 1, "elementwise", kinked=True, doc="Max(0, z), element-wise"),
    FunctionSpec("Abs", 1, 1, "elementwise", kinked=True, doc="absolute value, element-wise"),
    FunctionSpec("sign", 1, 1, "elementwise", kinked=True, doc="-1, 0 or 1, element-wise"),
    FunctionSpec("Heaviside", 1, 1, "elementwise", kinked=True,
                 doc="0 for z < 0, 1 for z > 0 (1/2 at 0), element-wise"),
    FunctionSpec("Max", 2, 2, "broadcast", kinked=True, doc="larger of two, element-wise"),
    FunctionSpec("Min", 2, 2, "broadcast", kinked=True, doc="smaller of two, element-wise"),
    FunctionSpec("softmax", 1, 1, "vector", doc="exp(z) / sum(exp(z)) of a vector"),
    FunctionSpec("logsumexp", 1, 1, "to-scalar", doc="log(sum(exp(z)))"),
    FunctionSpec("norm", 1, 1, "to-scalar", doc="Euclidean (Frobenius) norm"),
    FunctionSpec("sum", 1, 2, "sum", doc="sum of all entries; sum(X, 0) sums columns "
                 "(1×n), sum(X, 1) sums rows (m×1)"),
    FunctionSpec("dot", 2, 2, "dot", doc="sum of the element-wise product of equal shapes"),
    FunctionSpec("trace", 1, 1, "square-to-scalar", doc="trace of a square matrix"),
    FunctionSpec("det", 1, 1, "square-to-scalar", doc="determinant of a square matrix"),
    FunctionSpec("inv", 1, 1, "square", doc="inverse of a square matrix"),
    FunctionSpec("transpose", 1, 1, "transpose", doc="the same as .T"),
    FunctionSpec("diag", 1, 50, "diag", doc="diag(v): the diagonal matrix of a vector; "
                 "diag(A): the diagonal of a square matrix as a column; diag(a, b, c): the "
                 "diagonal matrix of scalars"),
    FunctionSpec("ones", 1, 2, "builder", doc="ones(m, n); ones(n) is a column"),
    FunctionSpec("zeros", 1, 2, "builder", doc="zeros(m, n); zeros(n) is a column"),
    FunctionSpec("eye", 1, 2, "builder", doc="identity eye(n), or eye(m, n)"),
    FunctionSpec("Matrix", 1, 1, "matrix", doc="Matrix([[a, b], [c, d]]); Matrix([a, b]) "
                 "is a column"),
    FunctionSpec("Piecewise", 1, 32, "piecewise", kinked=True,
                 doc="Piecewise((expr, cond), …, (expr, True))"),
)

FUNCTIONS: dict[str, FunctionSpec] = {spec.name: spec for spec in _SPECS}

ALIASES: dict[str, str] = {
    "abs": "Abs", "max": "Max", "min": "Min", "arcsin": "asin", "arccos": "acos",
    "arctan": "atan", "Transpose": "transpose", "Trace": "trace", "heaviside": "Heaviside",
    "maximum": "Max", "minimum": "Min", "ln": "log",
}

CONSTANTS: tuple[str, ...] = ("pi", "E")
