"""mcgrade's expression language: text → checked, typed tree → sympy or numpy values.

    compile_expression(text, scope) -> Expression
    expression.check_sizes(sizes)                  # raises if a deferred check fails
    expression.to_sympy(env, sizes)                # exact value
    expression.exact_cost(env, sizes)              # a bound on its work, before building
    expression.to_numpy(env, sizes, points)        # (K, rows, cols) float array

Nothing here evaluates text as Python: ``syntax.parse`` whitelists the tree first.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from mcgrade.errors import ExpressionError
from mcgrade.expressions.cost import exact_cost, rational_names
from mcgrade.expressions.evaluate import concrete, evaluate, functions_used, size_of
from mcgrade.expressions.nodes import (
    SCALAR,
    IndexCheck,
    Node,
    Scope,
    SizeCheck,
    show_shape,
)
from mcgrade.expressions.numpy_backend import NumpyBackend
from mcgrade.expressions.syntax import parse
from mcgrade.expressions.typed import build_typed
from mcgrade.model import Dim

__all__ = ["Expression", "ExpressionError", "Scope", "SCALAR", "compile_expression",
           "concrete", "show_shape"]


@dataclass(frozen=True)
class Expression:
    """A compiled expression: its text, typed tree, symbolic shape and deferred checks."""

    text: str
    root: Node
    checks: tuple[SizeCheck | IndexCheck, ...] = ()

    @property
    def shape(self) -> tuple[Dim, Dim]:
        return self.root.shape

    @property
    def functions(self) -> frozenset[str]:
        return functions_used(self.root)

    @property
    def symbols(self) -> frozenset[str]:
        """The declared symbols the expression uses."""
        found, stack = set(), [self.root]
        while stack:
            node = stack.pop()
            if node.op == "symbol":
                found.add(str(node.value))
            stack.extend(node.args)
        return frozenset(found)

    @property
    def decimals(self) -> tuple[tuple[str, int], ...]:
        """Each non-integer number the text spells, as spelt, with its significant digits
        once normalized (``2.000000`` is 2, one digit; ``.3333333333333333`` and
        ``3333333333333333e-16`` sixteen): a decimal means exactly what it says, and a long
        one is most often the digits of 1/3 or sqrt(2), which it is not."""
        found: list[tuple[str, int]] = []
        try:
            for token in tokenize.generate_tokens(io.StringIO(self.text).readline):
                if token.type != tokenize.NUMBER:
                    continue
                try:
                    value = Decimal(token.string.replace("_", ""))
                except InvalidOperation:          # hexadecimal, imaginary: never decimals
                    continue
                if value != value.to_integral_value():
                    found.append((token.string, len(value.normalize().as_tuple().digits)))
        except (tokenize.TokenError, SyntaxError):  # the text compiled: not expected
            pass
        return tuple(found)

    def check_sizes(self, sizes: Mapping[str, int]) -> None:
        """Raise ExpressionError if the expression is ill-shaped at these sizes."""
        for check in self.checks:
            if isinstance(check, IndexCheck):
                size = size_of(check.size, sizes)
                if not -size <= check.index < size:
                    raise ExpressionError(f"{check.message} when {check.size} = {size} "
                                          "(indices are 0-based)", self.text)
            elif size_of(check.left, sizes) != size_of(check.right, sizes):
                at = ", ".join(f"{k} = {v}" for k, v in sizes.items())
                raise ExpressionError(f"{check.message} (at {at})", self.text)

    def to_sympy(self, env: Mapping[str, Any], sizes: Mapping[str, int]) -> Any:
        from mcgrade.expressions.sympy_backend import SympyBackend
        return evaluate(self.root, SympyBackend(env), sizes)

    def exact_cost(self, env: Mapping[str, Any], sizes: Mapping[str, int]) -> int:
        """An upper bound, known before building, on the work of ``to_sympy(env, sizes)``
        in expression-tree nodes (``mcgrade.expressions.cost``)."""
        return exact_cost(self.root, rational_names(env), sizes)

    def to_numpy(self, env: Mapping[str, np.ndarray], sizes: Mapping[str, int],
                 points: int, dtype: type = np.float64) -> np.ndarray:
        """Float values at ``points`` sample points: an array (points, rows, cols)."""
        with np.errstate(all="ignore"):
            value = evaluate(self.root, NumpyBackend(env, points, dtype), sizes)
        return np.broadcast_to(value, (points, *concrete(self.shape, sizes)))


def compile_expression(text: str, scope: Scope) -> Expression:
    """Parse and type ``text``; raise ExpressionError with what to write instead."""
    tree = parse(text)
    root, checks = build_typed(tree, text.strip(), scope)
    return Expression(text.strip(), root, checks)
