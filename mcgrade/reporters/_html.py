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

import functools
import re

from mcgrade.reporters._latex import esc, latex_mathml
from mcgrade.reporters._mathml import expression_mathml

__all__ = ["esc", "expression_mathml", "latex_mathml", "page", "points", "prose"]

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


@functools.lru_cache(maxsize=4096)   # the same prompts, for every student
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
