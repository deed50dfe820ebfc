"""A small LaTeX → MathML, for the prompts of problem sets.

It covers the commands the bundled problem sets use (``\\frac``, ``\\mathbf``,
``\\partial``, ``^``/``_``, ``\\left…\\right``, ``bmatrix``, Greek letters, operators…);
anything outside that subset is shown as its escaped source rather than guessed at.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable
from typing import cast


def esc(text: object) -> str:
    """Text as HTML: ``<``, ``>``, ``&`` and both quotes escaped."""
    return html.escape(str(text), quote=True)

# --- a small LaTeX → MathML --------------------------------------------------------------

IDENTIFIERS = {
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
_Token = tuple[str | None, str | None, str | None, str | None]   # command, number, letter, char


class _Latex:
    """A recursive-descent reader of the LaTeX subset; its output is fixed element names
    around escaped text, whatever the input."""

    def __init__(self, source: str) -> None:
        self.tokens = [(m.group(1), m.group(2), m.group(3), m.group(5))
                       for m in _TOKEN.finditer(source) if m.group(4) is None]
        self.at = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token | None:
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
            return f"<msubsup>{one(base)}{one(sub)}{one(sup)}</msubsup>"
        if sub is not None:
            return f"<msub>{one(base)}{one(sub)}</msub>"
        if sup is not None:
            return f"<msup>{one(base)}{one(sup)}</msup>"
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
        return self.command(cast(str, command))      # a token is exactly one of the four

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
            return (f'<mover accent="true">{one(self.argument())}'
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
        if name in IDENTIFIERS:
            return f"<mi>{esc(IDENTIFIERS[name])}</mi>"
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
        return (f"<mrow>{fence(opening)}{inner}{fence(closing)}</mrow>")

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
        return f"<mrow>{fence(left)}<mtable>{table}</mtable>{fence(right)}</mrow>"


def fence(symbol: str) -> str:
    return f'<mo fence="true" stretchy="true">{esc(symbol)}</mo>' if symbol else ""


def one(markup: str) -> str:
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


@functools.lru_cache(maxsize=4096)   # the same prompts, for every student
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


