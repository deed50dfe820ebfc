"""What building an expression's exact (sympy) value costs, known before it is built.

The numeric value of ``A @ A @ A @ A`` at n = 50, or of ``inv(inv(Y))``, takes a
millisecond; the exact one, hours. Exact work is charged this bound against a fixed
allowance (``mcgrade.engine.budget.Work``) before anything is built, so that the same answer gets
the same verdict on every machine, however loaded.

The bound counts expression-tree nodes: for each node of the typed tree, its entries
times an upper bound on the nodes of one entry (sympy's automatic simplification only
makes entries smaller), and, for a determinant or an inverse, the work of computing it.
Entries that are rational numbers (symbols bound to numbers, as at a sample point)
collapse to one node each, but still cost the arithmetic that made them.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import factorial
from typing import Any, NamedTuple

from mcgrade.expressions.evaluate import concrete
from mcgrade.expressions.nodes import Node

_HUGE = 10 ** 15     # past any allowance: bounds stop growing here
_STAYS_RATIONAL = ("Abs", "sign", "Heaviside", "relu", "Max", "Min", "sum", "dot",
                   "trace", "det", "inv")
_ADJUGATE = 8        # cofactors cost more per node than the determinant (measured)


class Entries(NamedTuple):
    """What the bound knows of a node's value: nodes of one entry, whether entries are
    rational numbers, whether the matrix is diagonal (its other entries are zeros, which
    products and inverses skip)."""

    size: int
    rational: bool
    diagonal: bool = False


def exact_cost(root: Node, rational: frozenset[str], sizes: Mapping[str, int]) -> int:
    """The bound for ``root`` at ``sizes``, where the symbols in ``rational`` are bound to
    rational numbers (or matrices of them) and the others to symbols."""
    total = 0
    # post-order without recursion: a 20,000-character sum is a chain thousands deep
    done: dict[int, Entries] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if not ready:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if id(a) not in done)
            continue
        entries, work = _entries(node, [done[id(a)] for a in node.args], rational, sizes)
        done[id(node)] = entries
        rows, cols = concrete(node.shape, sizes)
        total = min(_HUGE, total + rows * cols * (1 if entries.rational else entries.size)
                    + work)
    return total


def _entries(node: Node, args: list[Entries], rational: frozenset[str],
             sizes: Mapping[str, int]) -> tuple[Entries, int]:
    """A node's Entries, given its operands', and the work of computing it besides
    building its entries."""
    op = node.op
    size = sum(a.size for a in args) + 1
    exact = all(a.rational for a in args)
    if op in ("num", "dimension", "true"):
        return Entries(1, True), 0
    if op == "fill":
        return Entries(1, True, node.value == "eye"), 0
    if op == "constant":
        return Entries(1, False), 0
    if op == "symbol":
        return Entries(1, node.value in rational), 0
    if op == "diag-matrix":
        return Entries(size, exact, True), 0
    if op in ("neg", "transpose"):
        return Entries(size, exact, args[0].diagonal), 0
    if op in ("diag-vector", "index"):
        return Entries(size, exact), 0
    if op in ("+", "-"):
        return Entries(size, exact, args[0].diagonal and args[1].diagonal), 0
    if op in ("*", "/"):
        scalar = [node.args[k].shape == (1, 1) for k in (0, 1)]
        diagonal = (args[0].diagonal and not scalar[0]) or (
            op == "*" and args[1].diagonal and not scalar[1])
        return Entries(size, exact, diagonal), 0
    if op == "**":
        exponent = node.args[1]
        integer = exponent.op == "num" and getattr(exponent.value, "denominator", 0) == 1
        return Entries(size, exact and integer), 0
    if op == "@":
        inner = 1 if args[0].diagonal or args[1].diagonal else concrete(
            node.args[0].shape, sizes)[1]
        return Entries(_cap(inner * size), exact, args[0].diagonal and args[1].diagonal), 0
    if op == "sum-axis":
        rows, cols = concrete(node.args[0].shape, sizes)
        return Entries(_cap((rows if node.value == 0 else cols) * size), exact), 0
    if op == "matrix":                       # its operands are its entries
        return Entries(max(a.size for a in args), exact), 0
    if op in ("piecewise", "compare"):
        return Entries(_cap(size), False), 0
    if op == "call":
        return _call(str(node.value), node, args, sizes)
    raise AssertionError(f"unknown node {op!r}")   # the typed tree has no other ops


def _call(name: str, node: Node, args: list[Entries], sizes: Mapping[str, int]
          ) -> tuple[Entries, int]:
    exact = all(a.rational for a in args) and name in _STAYS_RATIONAL
    rows, cols = concrete(node.args[0].shape, sizes)
    entry = args[0].size
    size = sum(a.size for a in args) + 1
    if name in ("softmax", "logsumexp", "norm", "sum", "dot", "trace"):
        # a sum over the entries (softmax: each entry over that sum)
        return Entries(_cap((rows * cols + 1) * size), exact), 0
    if name in ("det", "inv") and args[0].diagonal:
        # the product of the diagonal; its reciprocals
        return Entries(_cap(rows * size), exact, name == "inv"), rows
    if name == "det":
        if exact:
            return Entries(1, True), _cap(rows ** 4)         # Berkowitz: O(n⁴) operations
        return Entries(_determinant(rows, entry), False), 0
    if name == "inv":
        if exact:
            return Entries(1, True), _cap(rows ** 6)         # n² cofactors, then the above
        minor = _determinant(rows - 1, entry)
        return (Entries(_cap(minor + _determinant(rows, entry) + 1), False),
                _cap(_ADJUGATE * rows * rows * minor))
    return Entries(_cap(size + 1), exact), 0              # element-wise functions, Max, Min


def _determinant(n: int, entry: int) -> int:
    """Nodes of a Berkowitz determinant of an n×n matrix with entries of ``entry`` nodes:
    n!·n² bounds it (measured: 28, 264, 1837, 17702 nodes for n = 3 … 6)."""
    if n <= 1:
        return entry
    return _cap(entry * factorial(min(n, 20)) * n * n)


def _cap(value: int) -> int:
    return min(_HUGE, value)


def rational_names(env: Mapping[str, Any]) -> frozenset[str]:
    """The names ``env`` binds to rational numbers, or to matrices of them."""
    found = set()
    for name, value in env.items():
        values = list(value) if getattr(value, "is_Matrix", False) else [value]
        if all(getattr(v, "is_Rational", False) for v in values):
            found.add(name)
    return frozenset(found)
