"""Shared pieces of the HTML reporters: escaping, the page frame, math as MathML.

Everything here returns markup built from fixed element names; text that came from a
problem set, a submission or a verdict is always escaped before it is placed. Math is
MathML Core (what Chromium, Firefox and Safari render natively), so the pages need no
script, no font download and no network:

* ``prose(text)`` — a prompt: plain text with ``$…$`` LaTeX and ```code```, where the
  LaTeX is the small subset problem sets use (``\\frac``, ``\\mathbf``, ``\\partial``,
  ``^``/``_``, ``\\left…\\right``, ``bmatrix``, Greek letters, operators…); anything
  outside that subset is shown as its escaped source rather than guessed at.
* ``expression_mathml(text, scope)`` — a student's expression string, compiled by
  ``mcgrade.expressions`` and printed from its typed tree, so ``x.T @ W`` reads
  x\u1d40W exactly as written (sympy's printer would evaluate and reorder it, and its
  presentation MathML uses ``mfenced``, which MathML Core does not render).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from fractions import Fraction

from mcgrade.expressions import Scope, compile_expression
from mcgrade.expressions.nodes import SCALAR, Node

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""No script, no network: even a markup mistake could not run or fetch anything."""

BASE_CSS = """
:root { --ok: #1a7f37; --part: #9a6700; --bad: #cf222e; --muted: #57606a; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 2em auto;
       max-width: 60em; padding: 0 1em; color: #1f2328; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { font-size: 1.25em; margin: 1.4em 0 .4em; }
.muted { color: var(--muted); }
code, .code { font-family: "DejaVu Sans Mono", monospace; background: #f6f8fa;
              padding: 0 .2em; border-radius: 3px; }
math { font-family: "DejaVu Serif", "Liberation Serif", serif; font-size: 1.1em; }
math .bf { font-weight: bold; }
.status { display: inline-block; padding: .05em .55em; border-radius: 1em; color: #fff;
          font-size: .9em; font-weight: bold; }
.status-correct { background: var(--ok); }
.status-partial { background: var(--part); }
.status-incorrect, .status-error, .status-timeout { background: var(--bad); }
.status-missing { background: var(--muted); }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border-bottom: 1px solid #d0d7de; padding: .3em .8em; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.feedback { white-space: pre-wrap; }
"""


def esc(text: object) -> str:
    """Text as HTML: ``<``, ``>``, ``&`` and both quotes escaped."""
    return html.escape(str(text), quote=True)


def points(value: float) -> str:
    """7.5 → '7.5', 2.0 → '2' (as the terminal shows points)."""
    return f"{round(float(value), 6):g}"


def page(title: str, body: str, css: str = "") -> str:
    """A whole self-contained document: inline CSS, a no-script no-network CSP."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        f"<style>{BASE_CSS}{css}</style>\n"
        "</head>\n<body>\n"
        f"{body}"
        "</body>\n</html>\n"
    )


# --- prose: text with $…$ LaTeX and `code` ----------------------------------------------

_SEGMENT = re.compile(r"\$([^$]+)\$|`([^`]+)`")


def prose(text: str) -> str:
    """A prompt as HTML: escaped text, ``$…$`` as inline MathML, ```…``` as code."""
    out, last = [], 0
    for match in _SEGMENT.finditer(text):
        out.append(esc(text[last:match.start()]))
        if match.group(1) is not None:
            out.append(latex_mathml(match.group(1)))
        else:
            out.append(f"<code>{esc(match.group(2))}</code>")
        last = match.end()
    out.append(esc(text[last:]))
    return "".join(out)


# --- a small LaTeX → MathML --------------------------------------------------------------

_IDENTIFIERS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε",
    "varepsilon": "ε", "zeta": "ζ", "eta": "η", "theta": "θ", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Sigma": "Σ", "Phi": "Φ",
    "Psi": "Ψ", "Omega": "Ω", "partial": "∂", "nabla": "∇", "infty": "∞", "ell": "ℓ",
}
_OPERATORS = {
    "times": "×", "cdot": "⋅", "in": "∈", "notin": "∉", "neq": "≠", "ne": "≠",
    "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "approx": "≈", "to": "→",
    "rightarrow": "→", "mapsto": "↦", "otimes": "⊗", "oslash": "⊘", "odot": "⊙",
    "circ": "∘", "pm": "±", "ldots": "…", "cdots": "⋯", "dots": "…", "lVert": "‖",
    "rVert": "‖", "Vert": "‖", "lvert": "|", "rvert": "|", "langle": "⟨", "rangle": "⟩",
    "sum": "∑", "prod": "∏", "int": "∫", "{": "{", "}": "}", "|": "‖", "setminus": "∖",
    "subset": "⊂", "cup": "∪", "cap": "∩", "forall": "∀", "exists": "∃",
}
_FUNCTIONS = {"sin", "cos", "tan", "sinh", "cosh", "tanh", "ln", "log", "exp", "max",
              "min", "det", "tr", "arg", "sup", "inf", "lim", "diag"}
_SPACES = {",": "0.1667em", ":": "0.2222em", ";": "0.2778em", " ": "0.25em",
           "quad": "1em", "qquad": "2em", "!": "-0.1667em"}
_ACCENTS = {"bar": "‾", "hat": "^", "tilde": "~", "vec": "→", "dot": "˙", "overline": "‾"}
_BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ"}
_ENVIRONMENTS = {"bmatrix": ("[", "]"), "pmatrix": ("(", ")"), "vmatrix": ("|", "|"),
                 "matrix": ("", ""), "array": ("", "")}
_TOKEN = re.compile(r"\\([A-Za-z]+|.)|(\d+(?:\.\d+)?)|([A-Za-z])|(\s+)|(.)", re.DOTALL)


class _Latex:
    """A recursive-descent reader of the LaTeX subset; its output is fixed element names
    around escaped text, whatever the input."""

    def __init__(self, source: str) -> None:
        self.tokens = [(m.group(1), m.group(2), m.group(3), m.group(5))
                       for m in _TOKEN.finditer(source) if m.group(4) is None]
        self.at = 0

    def peek(self) -> tuple | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple | None:
        token = self.peek()
        self.at += token is not None
        return token

    def is_char(self, char: str) -> bool:
        token = self.peek()
        return token is not None and token[3] == char

    def is_command(self, *names: str) -> bool:
        token = self.peek()
        return token is not None and token[0] in names

    def row(self, stop: Iterable[str] = ()) -> str:
        """Atoms up to a closing brace, the end, or (inside an environment) ``&``/``\\\\``
        /``\\end``, or a ``\\right``."""
        stops = set(stop)
        items = []
        while self.peek() is not None:
            command, _, _, char = self.peek()  # type: ignore[misc]
            if char == "}" or (char is not None and char in stops) \
                    or (command is not None and command in stops):
                break
            items.append(self.scripted())
        return "".join(items)

    def scripted(self) -> str:
        base = self.atom()
        sub = sup = None
        while self.is_char("_") or self.is_char("^") or self.is_char("'"):
            if self.is_char("'"):
                self.take()
                sup = (sup or "") + "<mo>′</mo>"
                continue
            kind = self.take()[3]  # type: ignore[index]
            script = self.argument()
            if kind == "_":
                sub = script
            else:
                sup = script
        if sub is not None and sup is not None:
            return f"<msubsup>{_one(base)}{_one(sub)}{_one(sup)}</msubsup>"
        if sub is not None:
            return f"<msub>{_one(base)}{_one(sub)}</msub>"
        if sup is not None:
            return f"<msup>{_one(base)}{_one(sup)}</msup>"
        return base

    def group(self) -> str:
        """The rest of a group whose ``{`` was taken, up to and with its ``}``."""
        inner = self.row()
        if self.is_char("}"):
            self.take()
        return f"<mrow>{inner}</mrow>"

    def argument(self) -> str:
        """A braced group, or the single next atom (``x^2``, ``\\frac12``)."""
        if self.is_char("{"):
            self.take()
            return self.group()
        token = self.peek()
        if token is not None and token[1] is not None and len(token[1]) > 1:
            self.take()              # \frac12: one digit at a time
            digits = token[1]
            self.tokens.insert(self.at, (None, digits[1:], None, None))
            return f"<mn>{esc(digits[0])}</mn>"
        return self.atom() if token is not None else "<mrow></mrow>"

    def text_argument(self) -> str:
        """The raw text of a braced group (for ``\\mathrm``, ``\\text``, ``\\mathbb``)."""
        if not self.is_char("{"):
            token = self.take()
            return "" if token is None else (token[2] or token[1] or token[3] or "")
        self.take()
        parts, depth = [], 0
        while self.peek() is not None:
            command, number, letter, char = self.take()  # type: ignore[misc]
            if char == "{":
                depth += 1
            elif char == "}":
                if depth == 0:
                    break
                depth -= 1
            parts.append(f"\\{command}" if command is not None and len(command) > 1
                         else " " if command == " " else (command or number or letter
                                                          or char or ""))
        return "".join(parts)

    def atom(self) -> str:
        token = self.take()
        if token is None:
            return ""
        command, number, letter, char = token
        if number is not None:
            return f"<mn>{esc(number)}</mn>"
        if letter is not None:
            return f"<mi>{esc(letter)}</mi>"
        if char is not None:
            if char == "{":
                return self.group()
            if char == "}":
                return ""
            if char == "&":
                return ""
            if char in "()[]|":
                return f'<mo stretchy="false">{esc(char)}</mo>'
            return f"<mo>{esc(char.replace('-', '−'))}</mo>"
        return self.command(command)

    def command(self, name: str) -> str:
        if name in ("frac", "tfrac", "dfrac"):
            num, den = self.argument(), self.argument()
            return f"<mfrac>{num}{den}</mfrac>"
        if name == "sqrt":
            return f"<msqrt>{self.argument()}</msqrt>"
        if name in ("mathbf", "boldsymbol", "bm"):
            return _bold(self.argument())
        if name == "mathbb":
            text = self.text_argument()
            return f"<mi>{esc(''.join(_BLACKBOARD.get(c, c) for c in text))}</mi>"
        if name in ("mathrm", "operatorname"):
            return f'<mi mathvariant="normal">{esc(self.text_argument())}</mi>'
        if name in ("text", "textrm", "mbox"):
            return f"<mtext>{esc(self.text_argument())}</mtext>"
        if name in _ACCENTS:
            return (f'<mover accent="true">{_one(self.argument())}'
                    f"<mo>{esc(_ACCENTS[name])}</mo></mover>")
        if name in ("left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr",
                    "Bigl", "Bigr"):
            return self.fence(name)
        if name == "begin":
            return self.environment()
        if name == "end":
            self.text_argument()
            return ""
        if name in _SPACES:
            return f'<mspace width="{_SPACES[name]}"></mspace>'
        if name in _IDENTIFIERS:
            return f"<mi>{esc(_IDENTIFIERS[name])}</mi>"
        if name in _FUNCTIONS:     # \sin x: a thin space, as TeX; \sin(x): none
            space = "" if self.is_char("(") or self.is_command("left", "big", "Big") \
                or self.is_char("_") or self.is_char("^") \
                else '<mspace width="0.1667em"></mspace>'
            return f"<mi>{esc(name)}</mi><mo>\u2061</mo>{space}"
        if name in _OPERATORS:
            symbol = _OPERATORS[name]
            large = ' largeop="true"' if name in ("sum", "prod", "int") else ""
            return f"<mo{large}>{esc(symbol)}</mo>"
        if name == "\\":
            return ""
        return f"<mtext>{esc(chr(92) + name)}</mtext>"   # outside the subset: as written

    def delimiter(self) -> str:
        token = self.take()
        if token is None:
            return ""
        command, _, _, char = token
        if char is not None:
            return "" if char == "." else char
        return _OPERATORS.get(command or "", "")

    def fence(self, name: str) -> str:
        if name != "left":          # \right outside \left, or \big: just the delimiter
            symbol = self.delimiter()
            return f'<mo stretchy="false">{esc(symbol)}</mo>' if symbol else ""
        opening = self.delimiter()
        inner = self.row(stop=("right",))
        closing = ""
        if self.is_command("right"):
            self.take()
            closing = self.delimiter()
        return (f"<mrow>{_fence(opening)}{inner}{_fence(closing)}</mrow>")

    def environment(self) -> str:
        name = self.text_argument()
        if name == "array" and self.is_char("{"):
            self.text_argument()    # the column spec
        rows, cells = [], []
        while self.peek() is not None:
            cells.append(self.row(stop=("&", "\\", "end")))
            token = self.take()
            if token is None:
                rows.append(cells)
                break
            if token[3] == "&":
                continue
            rows.append(cells)
            cells = []
            if token[0] == "end":
                self.text_argument()
                break
            if token[3] == "}":       # a stray brace: stop the table here
                break
        table = "".join("<mtr>" + "".join(f"<mtd>{c}</mtd>" for c in row) + "</mtr>"
                        for row in rows if any(row))
        left, right = _ENVIRONMENTS.get(name, ("", ""))
        return f"<mrow>{_fence(left)}<mtable>{table}</mtable>{_fence(right)}</mrow>"


def _fence(symbol: str) -> str:
    return f'<mo fence="true" stretchy="true">{esc(symbol)}</mo>' if symbol else ""


def _one(markup: str) -> str:
    """MathML script and fraction elements take exactly one child per slot."""
    return markup if markup.startswith("<mrow>") and markup.endswith("</mrow>") \
        and _balanced_single(markup) else f"<mrow>{markup}</mrow>"


def _balanced_single(markup: str) -> bool:
    """Is ``markup`` one ``<mrow>…</mrow>`` element (not ``<mrow>a</mrow><mrow>b</mrow>``)?"""
    depth = 0
    for match in re.finditer(r"<(/?)mrow>", markup):
        depth += -1 if match.group(1) else 1
        if depth == 0 and match.end() != len(markup):
            return False
    return True


def _bold(markup: str) -> str:
    """``\\mathbf``: bold upright letters."""
    return re.sub(r"<mi>", '<mi mathvariant="normal" class="bf">', markup)


def latex_mathml(source: str) -> str:
    """Inline ``<math>`` for a LaTeX fragment of the subset (see the module docstring)."""
    reader = _Latex(source)
    items = []
    while reader.peek() is not None:
        items.append(reader.row())
        if reader.peek() is not None:     # an unmatched closing brace
            reader.take()
    annotation = f'<annotation encoding="application/x-tex">{esc(source)}</annotation>'
    return (f'<math><semantics><mrow>{"".join(items)}</mrow>{annotation}</semantics>'
            "</math>")


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


def _symbol(name: str, shape: tuple) -> str:
    if shape != SCALAR and shape[1] == 1:            # a column vector: bold, as in prompts
        return f'<mi mathvariant="normal" class="bf">{esc(name)}</mi>'
    if "_" in name and not name.startswith("_"):
        base, _, sub = name.partition("_")
        return f"<msub><mi>{esc(base)}</mi><mi>{esc(sub)}</mi></msub>"
    return f"<mi>{esc(_IDENTIFIERS.get(name, name))}</mi>"


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
        return f'<msup>{_one(_node(args[0], 9))}<mi mathvariant="normal">T</mi></msup>'
    if op in ("+", "-"):
        right = _node(args[1], 2 if op == "-" else 1)
        return f"<mrow>{_node(args[0], 1)}<mo>{'+' if op == '+' else '−'}</mo>{right}</mrow>"
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
        return f"<mfrac>{_one(_node(args[0], 0))}{_one(_node(args[1], 0))}</mfrac>"
    if op == "**":
        return f"<msup>{_one(_node(args[0], 6))}{_one(_node(args[1], 0))}</msup>"
    if op in ("diag-matrix", "diag-vector"):
        return _call("diag", args)
    if op == "call":
        name = str(node.value)
        if name == "Abs":
            return f"<mrow><mo>|</mo>{_node(args[0], 0)}<mo>|</mo></mrow>"
        return _call(name, args)
    if op == "index":
        row, col = node.value  # type: ignore[misc]
        target = args[0]
        subscript = (f"<mn>{row}</mn>" if target.shape[1] == 1 else
                     f"<mn>{col}</mn>" if target.shape[0] == 1 else
                     f"<mrow><mn>{row}</mn><mo>,</mo><mn>{col}</mn></mrow>")
        base = _node(target, 9)
        if base.startswith('<mi mathvariant="normal" class="bf">'):
            base = f"<mi>{esc(target.value)}</mi>"     # x[0] reads x₀, not bold x₀
        return f"<msub>{_one(base)}{subscript}</msub>"
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
        rows, cols = node.shape
        cells = [_node(a, 0) for a in args]
        table = "".join("<mtr>" + "".join(f"<mtd>{cells[r * cols + c]}</mtd>"
                                          for c in range(cols)) + "</mtr>"
                        for r in range(rows))
        return f"<mrow>{_fence('[')}<mtable>{table}</mtable>{_fence(']')}</mrow>"
    if op == "piecewise":
        pieces = [(args[i], args[i + 1]) for i in range(0, len(args), 2)]
        table = "".join(
            f"<mtr><mtd>{_node(value, 0)}</mtd><mtd>"
            + ("<mtext>otherwise</mtext>" if cond.op == "true" else
               f"<mtext>if\u00a0</mtext>{_node(cond, 0)}") + "</mtd></mtr>"
            for value, cond in pieces)
        return (f'<mrow>{_fence("{")}<mtable columnalign="left">{table}</mtable></mrow>')
    if op == "compare":
        symbol = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}.get(str(node.value), "?")
        return f"<mrow>{_node(args[0], 1)}<mo>{esc(symbol)}</mo>{_node(args[1], 1)}</mrow>"
    if op == "true":
        return "<mtext>otherwise</mtext>"
    raise ValueError(f"no MathML for {op!r}")


def _call(name: str, args: tuple[Node, ...]) -> str:
    inside = "<mo>,</mo>".join(_node(a, 0) for a in args)
    return f"<mrow><mi>{esc(name)}</mi><mo>\u2061</mo>{_paren(inside)}</mrow>"
