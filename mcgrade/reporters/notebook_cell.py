"""What a notebook's check cell shows: the checked answers' verdicts under the cell.

    html(report) -> str         math as MathML, inline styles, no script
    markdown(report) -> str     math as $…$, for front ends that show Markdown only
    error_html(message), error_markdown(message)    why nothing could be checked

The HTML is a fragment, not a page: JupyterLab, classic Notebook, VS Code and Colab put
it in the output area as it is. Its styles are inline, since a ``<style>`` element in an
output would restyle the whole notebook, and colours are only on badges and borders, so
dark themes stay readable. Feedback and hints are prose: ``$…$`` becomes MathML, as on
the feedback page.
"""

from __future__ import annotations

import re

from mcgrade.model import GradeReport, Verdict
from mcgrade.reporters._html import esc, points, prose
from mcgrade.reporters.diagnosis_words import label as diagnosis_label
from mcgrade.reporters.html_feedback import STATUS_LABELS

_RED = "#cf222e"
_COLORS = {"correct": "#1a7f37", "partial": "#9a6700", "missing": "#57606a"}
_HINT = "Hint: "                                   # how grading appends a problem's hints
_PARAGRAPH = 'style="margin:.15em 0"'
_MATH_OR_CODE = re.compile(r"(\$[^$]+\$|`[^`]+`)")
_MARKDOWN_SPECIAL = re.compile(r"([\\*_\[\]<>#|~])")


def html(report: GradeReport) -> str:
    """The verdicts of ``report``; checking more than one problem, its total and notes
    (they are about the whole submission, and one problem's feedback already says
    "Local check")."""
    out = ['<div class="mcgrade-check" style="line-height:1.45">']
    out += [_verdict_html(v) for v in report.verdicts]
    if len(report.verdicts) > 1:
        out += [f'<p {_PARAGRAPH}><i>{esc(note)}</i></p>' for note in report.notes]
        out.append(f'<p style="margin:.5em 0;font-size:1.15em"><b>Total: {_score(report)} '
                   "points</b></p>")
    return "\n".join(out + ["</div>"])


def markdown(report: GradeReport) -> str:
    out = []
    for verdict in report.verdicts:
        feedback, hints = _split(verdict.feedback)
        codes = ", ".join(f"`{code}`" for code in verdict.diagnoses)
        out.append(f"**`{verdict.id}`: {STATUS_LABELS.get(verdict.status, verdict.status)}**"
                   f", {_score(verdict)} points" + (f"; diagnosis: {codes}" if codes else ""))
        out += [_escape(line) for line in feedback]
        out += [f"**Hint:** {_escape(hint)}" for hint in hints]
    if len(report.verdicts) > 1:
        out += [f"*{_escape(note)}*" for note in report.notes]
        out.append(f"**Total: {_score(report)} points**")
    return "\n\n".join(out)


def error_html(message: str) -> str:
    return f'<p {_PARAGRAPH}><b style="color:{_RED}">mcgrade:</b> {esc(message)}</p>'


def error_markdown(message: str) -> str:
    return f"**mcgrade:** {_escape(message)}"


def _verdict_html(verdict: Verdict) -> str:
    color = _COLORS.get(verdict.status, _RED)
    label = STATUS_LABELS.get(verdict.status, verdict.status)
    badge = (f'<span style="background:{color};color:#fff;border-radius:1em;'
             f'padding:0 .55em;font-weight:bold">{esc(label)}</span>')
    out = [f'<div style="border-left:4px solid {color};padding:.2em .8em;margin:.5em 0">',
           f'<p {_PARAGRAPH}><code>{esc(verdict.id)}</code> {badge} {_score(verdict)} '
           "points</p>"]
    if verdict.diagnoses:
        codes = ", ".join(f"<code>{esc(code)}</code>" + _meaning(code)
                          for code in verdict.diagnoses)
        out.append(f"<p {_PARAGRAPH}>Diagnosis: {codes}</p>")
    feedback, hints = _split(verdict.feedback)
    out += [f"<p {_PARAGRAPH}>{prose(line)}</p>" for line in feedback]
    out += [f"<p {_PARAGRAPH}><b>Hint:</b> {prose(hint)}</p>" for hint in hints]
    return "\n".join(out + ["</div>"])


def _meaning(code: str) -> str:
    words = diagnosis_label(code)
    return f" ({esc(words)})" if words and words != code else ""


def _score(scored: Verdict | GradeReport) -> str:
    return f"{points(scored.score)}/{points(scored.max_score)}"


def _split(feedback: str) -> tuple[list[str], list[str]]:
    """The feedback's own lines, and the hints grading appended to it (a hint's later
    lines stay with it)."""
    lines: list[str] = []
    hints: list[str] = []
    for line in filter(str.strip, feedback.split("\n")):
        if line.startswith(_HINT):
            hints.append(line[len(_HINT):])
        elif hints:
            hints[-1] += f" {line}"
        else:
            lines.append(line)
    return lines, hints


def _escape(text: str) -> str:
    """Markdown's special characters escaped, except inside $…$ math and `code`."""
    return "".join(part if _MATH_OR_CODE.fullmatch(part) else
                   _MARKDOWN_SPECIAL.sub(r"\\\1", part)
                   for part in _MATH_OR_CODE.split(text))
