"""Shape rules for calls: what shapes a function takes and what shape it gives.

``apply_rule`` is called by the type checker with itself as ``builder`` (for building
arguments, comparing dimensions and failing with a located message).
"""

from __future__ import annotations

import ast
from typing import Any

from mcgrade.expressions.functions import FunctionSpec
from mcgrade.expressions.nodes import SCALAR, Node, show_shape
from mcgrade.model import Dim

_COMPARISONS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


def apply_rule(builder: Any, spec: FunctionSpec, node: ast.Call) -> Node:
    rule = _RULES[spec.rule]
    return rule(builder, spec, node)


def _args(builder: Any, node: ast.Call) -> list[Node]:
    return [builder.build(a) for a in node.args]


def _elementwise(builder: Any, spec: FunctionSpec, node: ast.Call) -> Node:
    (arg,) = _args(builder, node)
    return Node("call", (arg,), arg.shape, spec.name)


def _broadcast(builder: Any, spec: FunctionSpec, node: ast.Call) -> Node:
    left, right = _args(builder, node)
    shape = _common_shape(builder, spec.name, [left, right], node)
    return Node("call", (left, right), shape, spec.name)


def _common_shape(builder: Any, what: str, nodes: list[Node],
                  node: ast.AST) -> tuple[Dim, Dim]:
    shapes = [n.shape for n in nodes if n.shape != SCALAR]
    if not shapes:
        return SCALAR
    first = shapes[0]
    for other in shapes[1:]:
        message = (f"{what} needs operands of the same shape (or a scalar): got "
                   f"{show_shape(first)} and {show_shape(other)}")
        if not (builder.same(first[0], other[0], message)
                and builder.same(first[1], other[1], message)):
            raise builder.fail(message, node)
    return first


def _vector(builder: Any, spec: FunctionSpec, node: ast.Call) -> Node:
    (arg,) = _args(builder, node)
    if 1 not in arg.shape:
        raise builder.fail(f"{spec.name} needs a vector, got {show_shape(arg.shape)}", node)
    return Node("call", (arg,), arg.shape, spec.name)


def _to_scalar(builder: Any, spec: FunctionSpec, node: ast.Call) -> Node:
    (arg,) = _args(builder, node)
    return Node("call", (arg,), SCALAR, spec.name)


def _sum(builder: Any, spec: FunctionSpec, node: ast.Call) -> Node:
    arg = builder.build(node.args[0])
    if len(node.args) == 1:
        return Node("call", (arg,), SCALAR, "sum")
    axis = builder.integer(node.args[1], "the axis of sum")
    if axis not in (0, 1):
        raise builder.fail(f"sum(X, axis): axis is 0 (sum each column) or 1 (sum each row), "
                           f"got {axis}", node)
    shape = (1, arg.shape[1]) if axis == 0 else (arg.shape[0], 1)
    return Node("sum-axis", (arg,), shape, axis)


def _dot(builder: Any, spec: FunctionSpec, node: ast.Call) -> Node:
    left, right = _args(builder, node)
    message = (f"dot needs two operands of the same shape: got {show_shape(left.shape)} and "
               f"{show_shape(right.shape)}")
    if not (builder.same(left.shape[0], right.shape[0], message)
            and builder.same(left.shape[1], right.shape[1], message)):
        raise builder.fail(message, node)
    return Node("call", (left, right), SCALAR, "dot")


def _square(builder: Any, spec: FunctionSpec, node: ast.Call) -> Node:
    (arg,) = _args(builder, node)
    message = f"{spec.name} needs a square matrix, got {show_shape(arg.shape)}"
    if not builder.same(arg.shape[0], arg.shape[1], message):
        raise builder.fail(message, node)
    shape = SCALAR if spec.rule == "square-to-scalar" else arg.shape
    return Node("call", (arg,), shape, spec.name)


def _transpose(builder: Any, spec: FunctionSpec, node: ast.Call) -> Node:
    (arg,) = _args(builder, node)
    return Node("transpose", (arg,), (arg.shape[1], arg.shape[0]))


def _diag(builder: Any, spec: FunctionSpec, node: ast.Call) -> Node:
    args = _args(builder, node)
    if len(args) > 1:                  # diag(a, b, c): the diagonal matrix of scalars
        for element, built in zip(node.args, args):
            if built.shape != SCALAR:
                raise builder.fail(f"diag of several arguments takes scalars; "
                                   f"{builder.src(element)} is {show_shape(built.shape)}",
                                   element)
        column = Node("matrix", tuple(args), (len(args), 1))
        return Node("diag-matrix", (column,), (len(args), len(args)))
    (arg,) = args
    rows, cols = arg.shape
    if arg.shape == SCALAR:
        return arg
    if rows == 1 or cols == 1:
        size = cols if rows == 1 else rows
        return Node("diag-matrix", (arg,), (size, size))
    message = (f"diag needs a vector (to build a diagonal matrix) or a square matrix (to "
               f"take its diagonal), got {show_shape(arg.shape)}")
    if not builder.same(rows, cols, message):
        raise builder.fail(message, node)
    return Node("diag-vector", (arg,), (rows, 1))


def _builder(builder: Any, spec: FunctionSpec, node: ast.Call) -> Node:
    sizes = [builder.dimension(a) for a in node.args]
    if len(sizes) == 1:
        sizes = [sizes[0], sizes[0] if spec.name == "eye" else 1]
    return Node("fill", (), (sizes[0], sizes[1]), spec.name)


def _matrix(builder: Any, spec: FunctionSpec, node: ast.Call) -> Node:
    (arg,) = node.args
    if not isinstance(arg, ast.List) or not arg.elts:
        raise builder.fail("write Matrix([[a, b], [c, d]]) for a matrix, or Matrix([a, b]) "
                           "for a column", node)
    if all(isinstance(e, ast.List) for e in arg.elts):
        rows = [list(e.elts) for e in arg.elts]  # type: ignore[attr-defined]
    elif any(isinstance(e, ast.List) for e in arg.elts):
        raise builder.fail("Matrix rows must all be lists: Matrix([[a, b], [c, d]])", node)
    else:
        rows = [[e] for e in arg.elts]
    width = len(rows[0])
    if width == 0 or any(len(r) != width for r in rows):
        raise builder.fail("every row of a Matrix needs the same number of entries", node)
    entries = []
    for element in (e for r in rows for e in r):
        built = builder.build(element)
        if built.shape != SCALAR:
            raise builder.fail(f"Matrix entries must be scalars; {builder.src(element)} is "
                               f"{show_shape(built.shape)}", element)
        entries.append(built)
    return Node("matrix", tuple(entries), (len(rows), width))


def _piecewise(builder: Any, spec: FunctionSpec, node: ast.Call) -> Node:
    pieces: list[Node] = []
    for pair in node.args:
        expr_ast, cond_ast = pair.elts  # type: ignore[attr-defined]  # syntax.py checked
        expr = builder.build(expr_ast)
        if isinstance(cond_ast, ast.Constant) and cond_ast.value is True:
            cond = Node("true")
        else:
            op = _COMPARISONS[type(cond_ast.ops[0])]
            left = builder.build(cond_ast.left)
            right = builder.build(cond_ast.comparators[0])
            cond = Node("compare", (left, right), _common_shape(builder, op, [left, right],
                                                                  cond_ast), op)
        pieces += [expr, cond]
    if pieces[-1].op != "true":
        raise builder.fail("end Piecewise with (expr, True) so that it is defined everywhere",
                           node)
    shape = _common_shape(builder, "Piecewise", pieces, node)
    return Node("piecewise", tuple(pieces), shape)


_RULES = {
    "elementwise": _elementwise, "broadcast": _broadcast, "vector": _vector,
    "to-scalar": _to_scalar, "sum": _sum, "dot": _dot, "square-to-scalar": _square,
    "square": _square, "transpose": _transpose, "diag": _diag, "builder": _builder,
    "matrix": _matrix, "piecewise": _piecewise,
}
