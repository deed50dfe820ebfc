"""A student's feedback page: one self-contained HTML file (inline CSS, no script, no
network), with the prompts' and answers' math as MathML that browsers render natively.

    render(report, problem_set, answers=None) -> str

``report`` is the graded submission; ``problem_set`` gives each problem's prompt and the
scope answers are compiled in; ``answers`` (optional) maps a problem's id or its answer
name to the ``Answer`` the submission gave, which the page then shows ("Your answer"),
a string answer as typeset math, a sympy one (its ``srepr``, read back by the engine's
whitelist reader, never evaluated) printed by sympy as LaTeX and typeset the same way.
A problem an instructor overrode shows the override as its status, the grader's verdict
below it, greyed. A note about the whole submission is shown once, at the top. With a
late penalty (``final``), the headline is the final score. Everything a student or a
verdict wrote is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sympy

from mcgrade.engine.compiler import scope_of
from mcgrade.engine.feedback import how_checked
from mcgrade.engine.srepr import read_srepr
from mcgrade.model import OVERRIDE_NOTE, Answer, GradeReport, Problem, ProblemSet, Verdict
from mcgrade.reporters._html import esc, expression_mathml, latex_mathml, page, points, prose
from mcgrade.reporters._notes import without_notes
from mcgrade.reporters.diagnosis_words import cause, label

STATUS_LABELS = {"correct": "Correct", "partial": "Partial credit", "incorrect": "Incorrect",
                 "missing": "Missing", "error": "Error", "timeout": "Timed out"}
OVERRIDDEN = "Set by your instructor"
SEE_NOTE = "See the note at the top of the page."

_CSS = """
.total { font-size: 1.3em; margin: .3em 0 1em; }
.total strong { font-size: 1.4em; }
.late { font-weight: 600; margin: 0 0 1em; }
section.problem { border: 1px solid #d0d7de; border-radius: 6px; padding: .6em 1em;
                  margin: 1em 0; }
section.problem h2 { margin: .1em 0 .5em; display: flex; gap: .8em; align-items: center;
                     flex-wrap: wrap; }
.pts { margin-left: auto; font-variant-numeric: tabular-nums; }
.label { font-weight: bold; color: var(--muted); font-size: .85em; text-transform: uppercase;
         letter-spacing: .03em; margin: .6em 0 .1em; }
.answer-text { color: var(--muted); font-size: .9em; }
ul.diagnoses { margin: .2em 0; padding-left: 1.2em; }
.notes { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px;
         padding: .4em 1em; }
.status-override { background: #0969da; }
.override { font-weight: 600; }
.replaced { opacity: .6; border-left: 3px solid #d0d7de; padding-left: .8em; }
.raw { font-size: .8em; }
"""


def render(report: GradeReport, problem_set: ProblemSet,
           answers: Mapping[str, Answer] | None = None, late: str = "",
           final: float | None = None) -> str:
    """The page for one graded submission; ``late``: the late-work line, if a policy
    applies (``mcgrade.batch.late``), and ``final`` the score after its penalty."""
    answers = answers or {}
    scope = scope_of(problem_set)
    title = f"{problem_set.title}: {report.submission}" if problem_set.title \
        else report.submission
    body = [f"<h1>{esc(problem_set.title or report.problem_set)}</h1>\n",
            f'<p class="muted">Feedback for <span class="code submission">'
            f"{esc(report.submission)}</span> against {esc(report.problem_set)}</p>\n",
            _total(report, final)]
    if late:
        body.append(f'<p class="late">{esc(late)}</p>\n')
    if report.notes:
        body.append('<div class="notes">'
                    + "".join(f'<p class="feedback">{esc(n)}</p>' for n in report.notes)
                    + "</div>\n")
    for verdict in report.verdicts:
        problem = problem_set.problem(verdict.id)
        answer = _answer_for(problem, verdict, answers)
        body.append(_section(verdict, problem, answer, scope, report.notes))
    return page(f"mcgrade: {title}", "".join(body), _CSS)


def _total(report: GradeReport, final: float | None) -> str:
    """The headline: the total, or with a late penalty the final score, the raw score and
    the penalty beside it."""
    if final is None or round(final, 6) == report.score:
        return (f'<p class="total">Total: <strong>{points(report.score)}/'
                f"{points(report.max_score)}</strong> points{_percent(report.score, report)}"
                "</p>\n")
    return (f'<p class="total">Final score: <strong>{points(final)}/'
            f"{points(report.max_score)}</strong> points{_percent(final, report)} "
            f'<span class="muted raw">(raw score {points(report.score)}/'
            f"{points(report.max_score)} − late penalty "
            f"{points(report.score - final)})</span></p>\n")


def _percent(score: float, report: GradeReport) -> str:
    if not report.max_score:
        return ""
    return f' <span class="muted">({round(100 * score / report.max_score)}%)</span>'


def _answer_for(problem: Problem | None, verdict: Verdict,
                answers: Mapping[str, Answer]) -> Answer | None:
    for key in (verdict.id, problem.answer_name if problem else None):
        if key is not None and key in answers:
            return answers[key]
    return None


def _section(verdict: Verdict, problem: Problem | None, answer: Answer | None,
             scope: Any, notes: Sequence[str] = ()) -> str:
    status = verdict.status
    override = verdict.override
    badge = (f'<span class="status status-override">{OVERRIDDEN}</span>' if override
             is not None else f'<span class="status status-{esc(status)}">'
             f"{esc(STATUS_LABELS.get(status, status))}</span>")
    out = [f'<section class="problem" id="problem-{esc(verdict.id)}">\n',
           f'<h2><span class="code">{esc(verdict.id)}</span>{badge}'
           f'<span class="pts">{points(verdict.score)}/{points(verdict.max_score)} '
           "points</span></h2>\n"]
    if problem is not None and problem.prompt:
        out.append(f'<p class="prompt">{prose(problem.prompt)}</p>\n')
    graded = []
    if answer is not None:
        graded.append('<div class="label">Your answer</div>\n'
                      f'<div class="answer">{_answer(answer, scope, verdict, notes)}</div>\n')
    if verdict.diagnoses:
        why = cause(verdict, notes)
        items = "".join(f'<li><span class="code">{esc(code)}</span> '
                        f"{esc(label(code, why))}</li>"
                        for code in verdict.diagnoses)
        graded.append('<div class="label">Diagnosis</div>\n'
                      f'<ul class="diagnoses">{items}</ul>\n')
    feedback = _feedback(verdict, notes)
    if feedback:
        graded.append('<div class="label">Feedback</div>\n'
                      f'<p class="feedback">{esc(feedback)}</p>\n')
    method = _method(verdict)
    if method:
        graded.append(f'<p class="muted method">{method}</p>\n')
    if override is None:
        out += graded
    else:
        comment = str(override.get("comment") or "")
        out.append(f'<p class="override">{OVERRIDDEN}: {points(verdict.score)}/'
                   f"{points(verdict.max_score)}" + (f" — {esc(comment)}" if comment else "")
                   + "</p>\n")
        out.append('<div class="replaced"><div class="label">Replaced: the grader\'s '
                   f"verdict, {esc(STATUS_LABELS.get(status, status))}</div>\n"
                   + "".join(graded) + "</div>\n")
    out.append("</section>\n")
    return "".join(out)


def _feedback(verdict: Verdict, notes: Sequence[str]) -> str:
    """The verdict's feedback without what the page says elsewhere: a note about the
    whole submission (shown once, at the top) and an override's comment (its status)."""
    text = verdict.feedback
    if verdict.override is not None:
        comment = str(verdict.override.get("comment") or "")
        note = f"{OVERRIDE_NOTE}: {comment}" if comment else f"{OVERRIDE_NOTE}."
        if text.endswith(note):
            text = text[:-len(note)].rstrip("\n")
    return without_notes(text, notes, SEE_NOTE)


def _method(verdict: Verdict) -> str:
    how = how_checked(verdict.method, verdict.evidence)
    return esc(how[0].upper() + how[1:] + ".") if how else ""


def _answer(answer: Answer, scope: Any, verdict: Verdict | None = None,
            notes: Sequence[str] = ()) -> str:
    kind = answer.kind
    if kind in ("error", "timeout") and answer.text and answer.text in notes:
        return '<span class="muted">nothing was read (see the note at the top)</span>'
    if kind in ("error", "timeout") and verdict is not None and answer.text \
            and answer.text in verdict.feedback:
        return '<span class="muted">no value was read (the feedback says why)</span>'
    if kind == "string":
        math = expression_mathml(answer.text, scope)
        code = f'<code class="answer-text">{esc(answer.text)}</code>'
        return f"{math} &#8195;{code}" if math else code
    if kind == "number":
        return f"<math><mn>{esc(_num(answer.value))}</mn></math>"
    if kind == "array":
        return _array(answer)
    if kind == "shape":
        return "<code>(" + esc(", ".join(str(d) for d in answer.value or ())) + ")</code>"
    if kind == "missing":
        return '<span class="muted">no answer</span>'
    if kind == "function":
        calls = len(answer.value or ())
        return f'<span class="muted">a function, called at {calls} sample points</span>'
    if kind == "sympy":
        return _sympy(answer.text)
    return f'<span class="muted">{esc(kind)}</span> <code>{esc(answer.text)}</code>'


def _sympy(text: str) -> str:
    """A sympy answer (its ``srepr``) as math: read back through the whitelist, printed as
    LaTeX by sympy, typeset by ``latex_mathml``; what can't be read, as escaped text."""
    try:
        return latex_mathml(sympy.latex(read_srepr(text)))
    except Exception:       # any failure to show math falls back to the escaped text
        shown = text if len(text) <= 400 else text[:400] + "…"
        return f"<code>{esc(shown)}</code>"


def _num(value: Any) -> str:
    try:
        return f"{float(value):.6g}"
    except (TypeError, ValueError):
        return str(value)


def _array(answer: Answer) -> str:
    values = list(answer.value or ())
    shape = tuple(answer.shape)
    if len(shape) == 1:
        shape = (1, shape[0])
    if len(shape) != 2 or shape[0] * shape[1] != len(values) or len(values) > 400:
        return f"<code>{esc(', '.join(_num(v) for v in values[:400]))}</code>"
    rows, cols = shape
    table = "".join("<mtr>" + "".join(f"<mtd><mn>{esc(_num(values[r * cols + c]))}</mn></mtd>"
                                      for c in range(cols)) + "</mtr>" for r in range(rows))
    flat = "" if len(answer.shape) == 2 else ' <span class="muted">(a 1-D array)</span>'
    return ('<math><mrow><mo fence="true">[</mo><mtable>' + table
            + '</mtable><mo fence="true">]</mo></mrow></math>' + flat)
