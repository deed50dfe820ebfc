"""MathML for the HTML reporters: mcgrade's own expression language (answers) as MathML
Core, which browsers render natively; ``_latex`` does the prompts.

Every piece of text placed in markup is escaped here first.
"""

from __future__ import annotations

from fractions import Fraction
from typing import cast

from mcgrade.expressions import Scope, compile_expression
from mcgrade.expressions.nodes import SCALAR, Node
from mcgrade.model import Dim
from mcgrade.reporters._latex import IDENTIFIERS, esc, fence, one

# --- an expression string (mcgrade's language) → MathML -----------------------------------

_PRECEDENCE = {"+": 1, "-": 1, "neg": 2, "*": 3, "@": 3, "/": 3, "**": 5}


def expression_mathml(text: str, scope: Scope) -> str | None:
    """The student's expression as ``<math>``, or None when it doesn't compile (the
    caller then shows the text as written)."""
    try:
        expression = compile_expression(text, scope)
        body = _node(expression.root, 0)
    except Exception:       # any failure to show math falls back to the escaped text
        return None
    return f"<math><mrow>{body}</mrow></math>"


def _paren(markup: str) -> str:
    return f'<mrow><mo>(</mo>{markup}<mo>)</mo></mrow>'


def _node(node: Node, outer: int) -> str:
    """MathML for ``node``, parenthesised when its precedence is below ``outer``."""
    op = node.op
    inner = _PRECEDENCE.get(op, 9)
    markup = _node_body(node)
    return _paren(markup) if inner < outer else markup


def _symbol(name: str, shape: tuple[Dim, Dim]) -> str:
    if shape != SCALAR and shape[1] == 1:            # a column vector: bold, as in prompts
        return f'<mi mathvariant="normal" class="bf">{esc(name)}</mi>'
    if "_" in name and not name.startswith("_"):
        base, _, sub = name.partition("_")
        return f"<msub><mi>{esc(base)}</mi><mi>{esc(sub)}</mi></msub>"
    return f"<mi>{esc(IDENTIFIERS.get(name, name))}</mi>"


def _number(value: object) -> str:
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return f"<mn>{value.numerator}</mn>"
        number = float(value)
        shown = f"{number:.12g}"
        if Fraction(shown) == value:
            return f"<mn>{esc(shown)}</mn>"
        return f"<mfrac><mn>{value.numerator}</mn><mn>{value.denominator}</mn></mfrac>"
    return f"<mn>{esc(value)}</mn>"


def _node_body(node: Node) -> str:
    op, args = node.op, node.args
    if op == "num":
        return _number(node.value)
    if op == "symbol":
        return _symbol(str(node.value), node.shape)
    if op in ("dimension", "constant"):
        name = str(node.value)
        return f"<mi>{esc({'pi': 'π', 'E': 'e'}.get(name, name))}</mi>"
    if op == "neg":
        return f"<mrow><mo>−</mo>{_node(args[0], 3)}</mrow>"
    if op == "transpose":
        return f'<msup>{one(_node(args[0], 9))}<mi mathvariant="normal">T</mi></msup>'
    if op in ("+", "-"):
        second = _node(args[1], 2 if op == "-" else 1)
        return f"<mrow>{_node(args[0], 1)}<mo>{'+' if op == '+' else '−'}</mo>{second}</mrow>"
    if op in ("*", "@"):
        left, right = args
        if op == "*" and left.shape != SCALAR and right.shape != SCALAR:
            sign = "<mo>⊙</mo>"                       # element-wise product
        elif op == "*" and not (left.op == "num" and right.op != "num"):
            sign = "<mo>⋅</mo>"
        else:
            sign = "<mo>\u2062</mo>"                 # invisible times: juxtaposition
        return f"<mrow>{_node(left, 3)}{sign}{_node(right, 4)}</mrow>"
    if op == "/":
        return f"<mfrac>{one(_node(args[0], 0))}{one(_node(args[1], 0))}</mfrac>"
    if op == "**":
        return f"<msup>{one(_node(args[0], 6))}{one(_node(args[1], 0))}</msup>"
    if op in ("diag-matrix", "diag-vector"):
        return _call("diag", args)
    if op == "call":
        name = str(node.value)
        if name == "Abs":
            return f"<mrow><mo>|</mo>{_node(args[0], 0)}<mo>|</mo></mrow>"
        return _call(name, args)
    if op == "index":
        row, col = cast("tuple[int, int]", node.value)   # an index node holds (row, col)
        target = args[0]
        subscript = (f"<mn>{row}</mn>" if target.shape[1] == 1 else
                     f"<mn>{col}</mn>" if target.shape[0] == 1 else
                     f"<mrow><mn>{row}</mn><mo>,</mo><mn>{col}</mn></mrow>")
        base = _node(target, 9)
        if base.startswith('<mi mathvariant="normal" class="bf">'):
            base = f"<mi>{esc(target.value)}</mi>"     # x[0] reads x₀, not bold x₀
        return f"<msub>{one(base)}{subscript}</msub>"
    if op == "sum-axis":
        return (f"<mrow><msub><mi>sum</mi><mrow><mi>axis</mi><mo>=</mo>"
                f"<mn>{esc(node.value)}</mn></mrow></msub><mo>\u2061</mo>"
                f"{_paren(_node(args[0], 0))}</mrow>")
    if op == "fill":
        rows, cols = node.shape
        name = {"eye": "I", "zeros": "0", "ones": "1"}.get(str(node.value), str(node.value))
        size = f"{rows}" if rows == cols else f"{rows}×{cols}"
        return (f'<msub><mi mathvariant="normal" class="bf">{esc(name)}</mi>'
                f"<mi>{esc(size)}</mi></msub>")
    if op == "matrix":
        rows, cols = cast("tuple[int, int]", node.shape)   # a literal matrix: fixed sizes
        cells = [_node(a, 0) for a in args]
        table = "".join("<mtr>" + "".join(f"<mtd>{cells[r * cols + c]}</mtd>"
                                          for c in range(cols)) + "</mtr>"
                        for r in range(rows))
        return f"<mrow>{fence('[')}<mtable>{table}</mtable>{fence(']')}</mrow>"
    if op == "piecewise":
        pieces = [(args[i], args[i + 1]) for i in range(0, len(args), 2)]
        table = "".join(
            f"<mtr><mtd>{_node(value, 0)}</mtd><mtd>"
            + ("<mtext>otherwise</mtext>" if cond.op == "true" else
               f"<mtext>if\u00a0</mtext>{_node(cond, 0)}") + "</mtd></mtr>"
            for value, cond in pieces)
        return (f'<mrow>{fence("{")}<mtable columnalign="left">{table}</mtable></mrow>')
    if op == "compare":
        symbol = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}.get(str(node.value), "?")
        return f"<mrow>{_node(args[0], 1)}<mo>{esc(symbol)}</mo>{_node(args[1], 1)}</mrow>"
    if op == "true":
        return "<mtext>otherwise</mtext>"
    raise ValueError(f"no MathML for {op!r}")


def _call(name: str, args: tuple[Node, ...]) -> str:
    inside = "<mo>,</mo>".join(_node(a, 0) for a in args)
    return f"<mrow><mi>{esc(name)}</mi><mo>\u2061</mo>{_paren(inside)}</mrow>"
