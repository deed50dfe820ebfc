"""Text → a whitelisted Python ``ast`` tree, with messages that say what to write instead.

This is the only place expression text is read, for YAML and student strings alike. It
never evaluates anything: ``ast.parse`` builds a tree and every node is checked against a
whitelist before any other module sees it (SPEC §5.3). Absurd input is refused before the
parser runs or right after, so it costs microseconds.
"""

from __future__ import annotations

import ast
import re

from mcgrade.errors import ExpressionError

MAX_LENGTH = 20_000
MAX_DEPTH = 60
MAX_NESTING = 40          # brackets open at once, checked before ast.parse sees the text
MAX_LITERAL_DIGITS = 30

_ALLOWED_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
                   ast.MatMult: "@"}
_ALLOWED_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}

_IMPLICIT_MUL = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?)\s*([A-Za-z_(])")
_PRIME_TRANSPOSE = re.compile(r"([\w)\]]+)'")


def parse(text: str) -> ast.expr:
    """Parse ``text`` into a whitelisted expression tree or raise ExpressionError."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is {len(text):,} characters long; the limit is {MAX_LENGTH:,}")
    stripped = text.strip()
    if not stripped:
        raise ExpressionError("the expression is empty", text, 0)
    _check_bracket_nesting(text)
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        raise _explain_syntax_error(stripped, exc) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression is too long or too deeply nested to read",
                              text) from None
    _check(tree.body, stripped)
    return tree.body


def _check_bracket_nesting(text: str) -> None:
    depth = 0
    for column, char in enumerate(text):
        if char in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise ExpressionError(
                    f"brackets are nested more than {MAX_NESTING} deep", text, column)
        elif char in ")]}":
            depth -= 1


def _prime_operand(text: str, quote: int) -> str:
    """The operand before a transposing quote: a name, or a bracketed group."""
    end = quote
    if end > 0 and text[end - 1] in ")]":
        depth, start = 0, end - 1
        while start >= 0:
            depth += {")": 1, "]": 1, "(": -1, "[": -1}.get(text[start], 0)
            if depth == 0:
                break
            start -= 1
        start = max(start, 0)
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_."):
            start -= 1
        return text[start:end]
    start = end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_."):
        start -= 1
    return text[start:end]


def _explain_syntax_error(text: str, exc: SyntaxError) -> ExpressionError:
    column = (exc.offset - 1) if exc.offset else len(text)
    prime = _PRIME_TRANSPOSE.search(text)
    if prime:
        operand = _prime_operand(text, prime.end() - 1)
        return ExpressionError(f"{operand}' is not a transpose here; write {operand}.T", text,
                               prime.end() - 1)
    implicit = _IMPLICIT_MUL.search(text)
    if implicit:
        number, follower = implicit.groups()
        return ExpressionError(
            f"multiplication must be written out: write {number}*{follower}… instead of "
            f"{number}{follower}…", text, implicit.start())
    if text.count("(") != text.count(")"):
        return ExpressionError("unbalanced parentheses", text, column)
    if text.count("[") != text.count("]"):
        return ExpressionError("unbalanced square brackets", text, column)
    reason = (exc.msg or "invalid syntax").replace("invalid syntax. Perhaps you forgot a comma?",
                                                  "invalid syntax")
    return ExpressionError(f"not a valid expression: {reason}", text, column)


def _check(root: ast.expr, text: str) -> None:
    """Walk the tree without recursion, refusing anything outside the language.

    A comparison or ``True`` is allowed only as the condition of a ``Piecewise`` pair.
    """
    stack: list[tuple[ast.AST, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, is_condition = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"expression is nested more than {MAX_DEPTH} deep", text)
        if is_condition and isinstance(node, ast.Constant) and node.value is True:
            continue
        if isinstance(node, ast.Compare) and not is_condition:
            raise ExpressionError(f"{_segment(text, node)!r}: comparisons are allowed only as "
                                  "Piecewise conditions", text, _col(node))
        if _is_piecewise(node):
            for pair in node.args:  # type: ignore[attr-defined]
                if not (isinstance(pair, ast.Tuple) and len(pair.elts) == 2):
                    raise ExpressionError("Piecewise takes pairs: Piecewise((expr, condition), "
                                          "…, (expr, True))", text, _col(pair))
                stack.append((pair.elts[0], depth + 2, False))
                stack.append((pair.elts[1], depth + 2, True))
            continue
        for child in _allowed_children(node, text):
            # a + b + c … is a chain, not nesting: the left operand of the same family
            # stays at this depth
            chained = (isinstance(node, ast.BinOp) and child is node.left
                       and isinstance(child, ast.BinOp) and _family(child) == _family(node))
            stack.append((child, depth if chained else depth + 1, False))


def _family(node: ast.BinOp) -> str:
    return {ast.Add: "sum", ast.Sub: "sum", ast.Mult: "product",
            ast.MatMult: "matmul"}.get(type(node.op), "other")


def _is_piecewise(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "Piecewise" and not node.keywords)


def source_segment(text: str, node: ast.AST) -> str:
    """The source text of ``node``: like ``ast.get_source_segment`` but without splitting
    the whole text on every call (which made long answers quadratic)."""
    start, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    if start is None or end is None:
        return "…"
    lines = text.encode("utf-8").split(b"\n")[start - 1:end]
    if not lines:
        return "…"
    lines[-1] = lines[-1][:node.end_col_offset]   # type: ignore[attr-defined]
    lines[0] = lines[0][node.col_offset:]          # type: ignore[attr-defined]
    return b"\n".join(lines).decode("utf-8", errors="replace") or "…"


_segment = source_segment


def _col(node: ast.AST) -> int | None:
    return getattr(node, "col_offset", None)


def _operator_col(text: str, node: ast.BinOp, operator: str) -> int | None:
    """Where ``operator`` of ``node`` stands (after its left operand), so a caret points at
    it rather than at the start of the left operand; the node's start if not found."""
    left = node.left
    if getattr(left, "end_lineno", None) == node.lineno == 1:
        at = text.encode().find(operator.encode(), left.end_col_offset or 0)
        if at >= 0:
            return at
    return _col(node)


def _allowed_children(node: ast.AST, text: str) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.BitXor):
            left = _segment(text, node.left)
            if isinstance(node.right, ast.Name) and node.right.id == "T":
                raise ExpressionError(f"{left}^T is not a transpose here; write {left}.T",
                                      text, _operator_col(text, node, "^"))
            right = _segment(text, node.right)
            raise ExpressionError(f"^ is not a power; write {left}**{right}", text,
                                  _operator_col(text, node, "^"))
        if type(node.op) not in _ALLOWED_BINOPS:
            raise ExpressionError(f"the operator in {_segment(text, node)!r} is not part of "
                                  "the language (use + - * / ** @)", text, _col(node))
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ExpressionError(f"{_segment(text, node)!r}: only unary + and - are allowed",
                                  text, _col(node))
        return [node.operand]
    if isinstance(node, ast.Constant):
        _check_constant(node, text)
        return []
    if isinstance(node, ast.Name):
        return []
    if isinstance(node, ast.Attribute):
        if node.attr != "T":
            base = _segment(text, node.value)
            hint = f"; for a transpose write {base}.T" if node.attr.lower().startswith("t") else ""
            raise ExpressionError(f"{base}.{node.attr}: the only attribute allowed is .T"
                                  f"{hint}", text, _col(node))
        return [node.value]
    if isinstance(node, ast.Subscript):
        index = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if any(isinstance(i, ast.Slice) for i in index):
            raise ExpressionError(f"{_segment(text, node)!r}: slices are not supported; index "
                                  "single entries as x[i, j] (0-based)", text, _col(node))
        return [node.value, *index]
    if isinstance(node, ast.Call):
        return _call_children(node, text)
    if isinstance(node, ast.Compare):
        if len(node.ops) != 1 or type(node.ops[0]) not in _ALLOWED_CMPOPS:
            raise ExpressionError(f"{_segment(text, node)!r}: use one of < <= > >= in a "
                                  "condition", text, _col(node))
        return [node.left, node.comparators[0]]
    if isinstance(node, ast.List):
        return list(node.elts)
    raise ExpressionError(f"{_segment(text, node)!r} is not allowed in an expression",
                          text, _col(node))


def _call_children(node: ast.Call, text: str) -> list[ast.AST]:
    if node.keywords:
        raise ExpressionError(f"{_segment(text, node)!r}: keyword arguments are not "
                              "supported; pass arguments by position", text, _col(node))
    if isinstance(node.func, ast.Attribute):
        method = _segment(text, node.func)
        hint = (f"; for a transpose write {_segment(text, node.func.value)}.T"
                if node.func.attr.lower().startswith("t") else "")
        raise ExpressionError(f"{method}(…): methods can't be called in an expression; the "
                              f"only attribute is .T{hint}", text, _col(node))
    if not isinstance(node.func, ast.Name):
        func = _segment(text, node.func)
        if not isinstance(node.func, (ast.Attribute, ast.Subscript)):
            func = f"({func})"
        args = ", ".join(_segment(text, a) for a in node.args)
        raise ExpressionError(f"{func}({args}) reads as calling {func}; multiplication must be "
                              f"written out: {func}*({args})", text, _col(node))
    if any(isinstance(a, ast.Starred) for a in node.args):
        raise ExpressionError("* unpacking is not allowed in an expression", text, _col(node))
    return list(node.args)


def _check_constant(node: ast.Constant, text: str) -> None:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpressionError(f"{_segment(text, node)!r} is not a number or a name",
                              text, _col(node))
    if isinstance(value, int) and value.bit_length() > 3.33 * MAX_LITERAL_DIGITS:
        digits = len(str(value))
        raise ExpressionError(f"a number with {digits} digits is too long "
                              f"(at most {MAX_LITERAL_DIGITS})", text, _col(node))
