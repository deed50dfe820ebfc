"""Evaluate a typed tree with a backend: sympy (exact) or numpy (batched floats).

The walker is shared, so the two backends read the language the same way; each backend is
a small class of operations. Shapes were checked when the tree was typed; here dimension
names only need their sizes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, cast

from mcgrade.expressions.nodes import Node
from mcgrade.model import Dim


class Backend(Protocol):
    def number(self, value: Any) -> Any: ...
    def constant(self, name: str) -> Any: ...
    def symbol(self, name: str) -> Any: ...
    def dimension(self, size: int) -> Any: ...
    def unary(self, op: str, a: Any) -> Any: ...
    def binary(self, op: str, a: Any, b: Any) -> Any: ...
    def call(self, name: str, args: list[Any], shape: tuple[int, int]) -> Any: ...
    def index(self, a: Any, row: int, col: int, shape: tuple[int, int]) -> Any: ...
    def sum_axis(self, a: Any, axis: int) -> Any: ...
    def fill(self, name: str, rows: int, cols: int) -> Any: ...
    def matrix(self, entries: list[Any], rows: int, cols: int) -> Any: ...
    def piecewise(self, pieces: list[Any], shape: tuple[int, int]) -> Any: ...
    def compare(self, op: str, a: Any, b: Any) -> Any: ...
    def true(self) -> Any: ...


def size_of(dim: Dim, sizes: Mapping[str, int]) -> int:
    return dim if isinstance(dim, int) else sizes[dim]


def concrete(shape: tuple[Dim, Dim], sizes: Mapping[str, int]) -> tuple[int, int]:
    return size_of(shape[0], sizes), size_of(shape[1], sizes)


_CHAINS = {"+": "sum", "-": "sum", "*": "product", "@": "matmul"}


def evaluate(node: Node, backend: Backend, sizes: Mapping[str, int]) -> Any:
    """The value of ``node`` in ``backend`` with dimension names set to ``sizes``."""
    op = node.op
    if op in _CHAINS:
        return _evaluate_chain(node, backend, sizes)
    args = [evaluate(a, backend, sizes) for a in node.args]
    if op == "num":
        return backend.number(node.value)
    if op == "symbol":
        return backend.symbol(node.value)  # type: ignore[arg-type]
    if op == "dimension":
        return backend.dimension(sizes[node.value])  # type: ignore[index]
    if op == "constant":
        return backend.constant(node.value)  # type: ignore[arg-type]
    if op in ("neg", "transpose", "diag-matrix", "diag-vector"):
        return backend.unary(op, args[0])
    if op in ("+", "-", "*", "/", "**", "@"):
        return backend.binary(op, args[0], args[1])
    if op == "call":
        return backend.call(node.value, args, concrete(node.shape, sizes))  # type: ignore[arg-type]
    if op == "index":
        row, col = cast("tuple[int, int]", node.value)   # an index node holds (row, col)
        return backend.index(args[0], row, col, concrete(node.args[0].shape, sizes))
    if op == "sum-axis":
        return backend.sum_axis(args[0], node.value)  # type: ignore[arg-type]
    if op == "fill":
        return backend.fill(node.value, *concrete(node.shape, sizes))  # type: ignore[arg-type]
    if op == "matrix":
        return backend.matrix(args, *concrete(node.shape, sizes))
    if op == "piecewise":
        return backend.piecewise(args, concrete(node.shape, sizes))
    if op == "compare":
        return backend.compare(node.value, args[0], args[1])  # type: ignore[arg-type]
    if op == "true":
        return backend.true()
    raise AssertionError(f"unknown node {op!r}")   # the typed tree has no other ops


def _evaluate_chain(node: Node, backend: Backend, sizes: Mapping[str, int]) -> Any:
    """A left-deep chain of + - (or *, or @) folded without recursing down its spine."""
    family = _CHAINS[node.op]
    steps = []
    current = node
    while current.op in _CHAINS and _CHAINS[current.op] == family:
        steps.append(current)
        current = current.args[0]
    value = evaluate(current, backend, sizes)
    for step in reversed(steps):
        value = backend.binary(step.op, value, evaluate(step.args[1], backend, sizes))
    return value


def functions_used(node: Node) -> frozenset[str]:
    """Every function name a tree calls (aliases already resolved)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.op == "call":
            found.add(str(current.value))
        elif current.op in ("diag-matrix", "diag-vector"):
            found.add("diag")
        elif current.op == "fill":
            found.add(str(current.value))
        elif current.op == "sum-axis":
            found.add("sum")
        elif current.op == "piecewise":
            found.add("Piecewise")
        elif current.op == "matrix":
            found.add("Matrix")
        stack.extend(current.args)
    return frozenset(found)
