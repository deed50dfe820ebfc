"""Whitelisted ``ast`` → a typed tree whose every node knows its shape.

Shapes are symbolic (``(n, 1)``), so a clash is reported in the language of the problem
("x is n×1, x.T is 1×n") whatever sizes it is later instantiated at. Where a fixed size
meets a dimension name (``Matrix([[1, 2]]) @ x``) the check is deferred to instantiation.
Constant sub-trees are folded exactly, which is also where absurd numbers are refused.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import cast

import numpy as np

from mcgrade.errors import ExpressionError
from mcgrade.expressions.evaluate import evaluate
from mcgrade.expressions.functions import ALIASES, CONSTANTS, FUNCTIONS
from mcgrade.expressions.nodes import (
    SCALAR,
    IndexCheck,
    Node,
    Scope,
    SizeCheck,
    show_shape,
)
from mcgrade.expressions.numpy_backend import NumpyBackend
from mcgrade.expressions.shape_rules import apply_rule
from mcgrade.expressions.syntax import source_segment
from mcgrade.model import Dim

CHAIN_FAMILY = {ast.Add: "sum", ast.Sub: "sum", ast.Mult: "product", ast.MatMult: "matmul"}
MAX_EXPONENT = 64
MAX_BUILDER_SIZE = 50
_MAX_MAGNITUDE = 10 ** 300


@dataclass
class _Builder:
    text: str
    scope: Scope
    checks: list[SizeCheck | IndexCheck] = field(default_factory=list)

    def fail(self, message: str, node: ast.AST | None = None) -> ExpressionError:
        return ExpressionError(message, self.text, getattr(node, "col_offset", None))

    def src(self, node: ast.AST) -> str:
        return source_segment(self.text, node)

    # --- dimension comparison -----------------------------------------------------------
    def same(self, a: Dim, b: Dim, message: str | Callable[[], str]) -> bool:
        """True if a and b are equal or can only be told apart once sizes are chosen.

        ``message`` (text, or a function making it: most checks pass and need none) is
        kept for a check deferred to instantiation.
        """
        if a == b:
            return True
        if isinstance(a, int) and isinstance(b, int):
            return False
        if isinstance(a, str) and isinstance(b, str):
            return False
        if 1 in (a, b):         # a dimension is a size > 1 in any sensible problem set
            return False
        self.checks.append(SizeCheck(a, b, message() if callable(message) else message))
        return True

    # --- nodes --------------------------------------------------------------------------
    def build(self, node: ast.AST) -> Node:
        method: Callable[[ast.AST], Node] | None = getattr(self, "build_" + type(node).__name__,
                                                           None)
        if method is None:
            raise self.fail(f"{self.src(node)!r} is not allowed here", node)
        return method(node)

    def build_Constant(self, node: ast.Constant) -> Node:
        if isinstance(node.value, int):
            return Node("num", value=Fraction(node.value))
        try:    # the decimal as written, so 0.1 is exactly one tenth
            value = Fraction(self.src(node))
        except (ValueError, ZeroDivisionError):
            value = Fraction(cast(float, node.value))   # syntax.py allows ints and floats only
        return Node("num", value=value)

    def build_Name(self, node: ast.Name) -> Node:
        name = node.id
        if name in self.scope.symbols:
            return Node("symbol", shape=self.scope.symbols[name], value=name)
        if name in self.scope.dimensions:
            return Node("dimension", value=name)
        if name in CONSTANTS:
            return Node("constant", value=name)
        if name in FUNCTIONS or name in ALIASES:
            raise self.fail(f"{name} is a function; call it, as in {name}(…)", node)
        for cut in range(1, len(name)):
            left, right = name[:cut], name[cut:]
            if left in self.scope.symbols and right in self.scope.symbols:
                raise self.fail(f"unknown name {name!r}; multiplication must be written out: "
                                f"{left}*{right}, or {left} @ {right} for a matrix product",
                                node)
        known = [*self.scope.symbols, *self.scope.dimensions, *CONSTANTS, *FUNCTIONS, *ALIASES]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        declared = ", ".join(self.scope.symbols) or "none"
        raise self.fail(f"unknown name {name!r}{hint} (symbols here: {declared})", node)

    def build_UnaryOp(self, node: ast.UnaryOp) -> Node:
        operand = self.build(node.operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        if operand.op == "num":
            return Node("num", value=-operand.value)  # type: ignore[operator]
        return Node("neg", (operand,), operand.shape)

    def build_Attribute(self, node: ast.Attribute) -> Node:   # only .T survives syntax.py
        operand = self.build(node.value)
        return Node("transpose", (operand,), (operand.shape[1], operand.shape[0]))

    def build_BinOp(self, node: ast.BinOp) -> Node:
        """Long chains (a + b - c + …, a * b * …, A @ B @ …) are walked without recursion,
        so a student's fully expanded polynomial is not mistaken for deep nesting."""
        family = CHAIN_FAMILY.get(type(node.op))
        spine = [node]
        current = node.left
        while (family and isinstance(current, ast.BinOp)
               and CHAIN_FAMILY.get(type(current.op)) == family):
            spine.append(current)
            current = current.left
        result = self.build(current)
        for step in reversed(spine):
            result = self.combine(step, result, self.build(step.right))
        return result

    def combine(self, node: ast.BinOp, left: Node, right: Node) -> Node:
        symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
                  ast.MatMult: "@"}[type(node.op)]
        if symbol == "**":
            self.check_exponent(right, node)
        if left.op == "num" and right.op == "num" and not (
                symbol == "**" and right.value.denominator != 1):  # type: ignore[attr-defined]
            return Node("num", value=self.fold(symbol, cast(Fraction, left.value),
                                               cast(Fraction, right.value), node))
        if symbol == "@":
            return Node("@", (left, right), self.matmul_shape(left, right, node))
        return Node(symbol, (left, right), self.broadcast_shape(symbol, left, right, node))

    def check_exponent(self, exponent: Node, node: ast.BinOp) -> None:
        if exponent.op == "num" and abs(exponent.value) > MAX_EXPONENT:  # type: ignore[arg-type]
            raise self.fail(f"the exponent {exponent.value} is too large (at most "
                            f"{MAX_EXPONENT} in absolute value)", node)
        if exponent.shape != SCALAR:
            raise self.fail(f"{self.src(node)}: the exponent must be a scalar", node)
        largest = None if exponent.op == "num" else _constant_magnitude(exponent)
        if largest is not None and largest > MAX_EXPONENT:
            raise self.fail(f"the exponent {self.src(node.right)} is too large (at most "
                            f"{MAX_EXPONENT} in absolute value)", node)

    def fold(self, symbol: str, a: Fraction, b: Fraction, node: ast.AST) -> Fraction:
        result: Fraction | None
        try:
            if symbol == "**":            # whole exponents only: 2**(1/2) stays a power
                result = a ** int(b)
            else:
                result = {"+": a + b, "-": a - b, "*": a * b,
                          "/": a / b if b else None, "@": None}[symbol]
        except ZeroDivisionError:
            result = None
        if result is None:
            raise self.fail(f"{self.src(node)}: division by zero" if symbol in "/**" else
                            f"{self.src(node)}: @ needs matrices, not numbers", node)
        if abs(result.numerator) > _MAX_MAGNITUDE or result.denominator > _MAX_MAGNITUDE:
            raise self.fail(f"{self.src(node)}: this number is too large", node)
        return result

    def broadcast_shape(self, symbol: str, left: Node, right: Node, node: ast.BinOp
                        ) -> tuple[Dim, Dim]:
        if left.shape == SCALAR:
            return right.shape
        if right.shape == SCALAR:
            return left.shape
        def message() -> str:
            return self.broadcast_message(symbol, self.src(node.left), left.shape,
                                          self.src(node.right), right.shape)
        rows = self.same(left.shape[0], right.shape[0], message)
        cols = self.same(left.shape[1], right.shape[1], message)
        if not (rows and cols):
            raise self.fail(message(), node)
        return left.shape

    @staticmethod
    def broadcast_message(symbol: str, a: str, sa: tuple[Dim, Dim], b: str,
                          sb: tuple[Dim, Dim]) -> str:
        kind = "is element-wise and needs" if symbol in "*/**" else "needs"
        message = (f"{symbol} {kind} operands of the same shape (or a scalar): "
                   f"{a} is {show_shape(sa)}, {b} is {show_shape(sb)}")
        if symbol == "*" and sa[1] == sb[0]:
            return message + f"; for a matrix product write {a} @ {b}"
        if symbol == "*" and sa == (sb[1], sb[0]) and 1 in sa:
            return message + f"; for the dot product write {_paren(a)}.T @ {b}"
        if symbol in "+-" and sa == (sb[1], sb[0]):
            return message + f"; did you mean {a} {symbol} {_transposed(b)}?"
        if symbol == "*" and sa[1] == 1 and sa[0] == sb[0]:
            return message + f"; to scale each row of {b} by {a} write diag({a}) @ {b}"
        if symbol == "*" and sb[1] == 1 and sb[0] == sa[0]:
            return message + f"; to scale each row of {a} by {b} write diag({b}) @ {a}"
        return message

    def matmul_shape(self, left: Node, right: Node, node: ast.BinOp) -> tuple[Dim, Dim]:
        (r1, c1), (r2, c2) = left.shape, right.shape

        def clash() -> str:
            return (f"@ needs the columns of the left operand to match the rows of the right: "
                    f"{self.src(node.left)} is {show_shape(left.shape)}, "
                    f"{self.src(node.right)} is {show_shape(right.shape)}")
        if self.same(c1, r2, clash):
            return (r1, c2)
        a, b, message = self.src(node.left), self.src(node.right), clash()
        if r1 == r2:
            message += f"; did you mean {_transposed(a)} @ {_paren(b)}?"
        elif c1 == c2:
            message += f"; did you mean {_paren(a)} @ {_transposed(b)}?"
        elif c2 == r1:
            message += f"; did you mean {_paren(b)} @ {_paren(a)}?"
        if left.shape == SCALAR or right.shape == SCALAR:
            message += "; to scale by a scalar use *"
        raise self.fail(message, node)

    def build_List(self, node: ast.List) -> Node:
        items = ", ".join(self.src(e) for e in node.elts)
        raise self.fail(f"a bare list is not an expression: write Matrix([[{items}]]) for a "
                        f"row or Matrix([{items}]) for a column", node)

    def build_Subscript(self, node: ast.Subscript) -> Node:
        target = self.build(node.value)
        index = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        numbers = [self.integer(i, "an index") for i in index]
        rows, cols = target.shape
        if len(numbers) == 1:
            if rows != 1 and cols != 1:
                raise self.fail(f"{self.src(node)}: index a matrix with two indices, as "
                                f"{self.src(node.value)}[i, j]", node)
            numbers = [0, numbers[0]] if rows == 1 else [numbers[0], 0]
        if len(numbers) != 2:
            raise self.fail(f"{self.src(node)}: use one index for a vector, two for a matrix",
                            node)
        for number, size in zip(numbers, target.shape):
            if isinstance(size, int) and not -size <= number < size:
                raise self.fail(f"{self.src(node)}: index {number} is out of range for size "
                                f"{size} (indices are 0-based)", node)
            if isinstance(size, str):
                self.checks.append(IndexCheck(size, number, f"{self.src(node)}: index {number} "
                                              "is out of range"))
        return Node("index", (target,), SCALAR, tuple(numbers))

    def integer(self, node: ast.AST, what: str) -> int:
        built = self.build(node)
        if built.op != "num" or cast(Fraction, built.value).denominator != 1:
            raise self.fail(f"{what} must be a whole number, got {self.src(node)!r}", node)
        return int(cast(Fraction, built.value))

    def build_Call(self, node: ast.Call) -> Node:
        name = node.func.id  # type: ignore[attr-defined]  # syntax.py guarantees a Name
        if name in self.scope.symbols or name in self.scope.dimensions:
            args = ", ".join(self.src(a) for a in node.args)
            raise self.fail(f"{name} is not a function; multiplication must be written out: "
                            f"{name}*({args})", node)
        spec = FUNCTIONS.get(ALIASES.get(name, name))
        if spec is None:
            close = difflib.get_close_matches(name, [*FUNCTIONS, *ALIASES], n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise self.fail(f"unknown function {name!r}{hint}", node)
        if not spec.min_args <= len(node.args) <= spec.max_args:
            count = (str(spec.min_args) if spec.min_args == spec.max_args
                     else f"{spec.min_args} to {spec.max_args}")
            if name in ("max", "min") and len(node.args) == 1:
                raise self.fail(f"{name}(…) of one argument would be a reduction, which the "
                                f"language does not have; {spec.name}(a, b) is element-wise",
                                node)
            raise self.fail(f"{spec.name} takes {count} argument"
                            f"{'s' if count != '1' else ''}, got {len(node.args)}", node)
        return apply_rule(self, spec, node)

    def dimension(self, node: ast.AST) -> Dim:
        """A builder's size argument: a dimension name or a whole number."""
        if isinstance(node, ast.Name) and node.id in self.scope.dimensions:
            return node.id
        size = self.integer(node, "a size")
        if not 1 <= size <= MAX_BUILDER_SIZE:
            raise self.fail(f"a size must be between 1 and {MAX_BUILDER_SIZE}, got {size}", node)
        return size


def _constant_magnitude(node: Node) -> float | None:
    """The largest absolute value of a scalar made of numbers, constants and dimension
    names alone (``n*10**9``, ``4**(1/2)*100``), with each dimension at the smallest and
    largest size a set may give it; None if it involves a symbol or anything else."""
    stack, dimensions = [node], set[str]()
    while stack:
        current = stack.pop()
        if current.op == "dimension":
            dimensions.add(str(current.value))
        elif current.op not in ("num", "constant", "neg", "+", "-", "*", "/", "**"):
            return None
        stack.extend(current.args)
    largest = 0.0
    with np.errstate(all="ignore"):
        for size in (1, MAX_BUILDER_SIZE):
            value = evaluate(node, NumpyBackend({}, 1), dict.fromkeys(dimensions, size))
            magnitude = float(np.abs(value).max())
            largest = max(largest, magnitude if np.isfinite(magnitude) else float("inf"))
    return largest


def _transposed(text: str) -> str:
    """How to write the transpose of an operand: drop a trailing .T, else add one."""
    return text[:-2] if text.endswith(".T") else f"{_paren(text)}.T"


def _paren(text: str) -> str:
    """Bracket an operand for a suggestion unless it is a name, a number or already whole."""
    plain = text.replace("_", "").replace(".", "").isalnum()
    if plain or (text.startswith("(") and text.endswith(")")):
        return text
    return f"({text})"


def build_typed(tree: ast.expr, text: str, scope: Scope
                ) -> tuple[Node, tuple[SizeCheck | IndexCheck, ...]]:
    """Type ``tree`` (from ``syntax.parse(text)``) in ``scope``."""
    builder = _Builder(text, scope)
    root = builder.build(tree)
    return root, tuple(builder.checks)
