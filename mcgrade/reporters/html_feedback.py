"""A student's feedback page: one self-contained HTML file (inline CSS, no script, no
network), with the prompts' and answers' math as MathML that browsers render natively.

    render(report, problem_set, answers=None) -> str

``report`` is the graded submission; ``problem_set`` gives each problem's prompt and the
scope answers are compiled in; ``answers`` (optional) maps a problem's id or its answer
name to the ``Answer`` the submission gave, which the page then shows ("Your answer"),
a string answer as typeset math. Everything a student or a verdict wrote is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcgrade.engine.feedback import how_checked
from mcgrade.engine.reference import scope_of
from mcgrade.model import Answer, GradeReport, Problem, ProblemSet, Verdict
from mcgrade.reporters._html import esc, expression_mathml, page, points, prose
from mcgrade.reporters.diagnosis_words import label

STATUS_LABELS = {"correct": "Correct", "partial": "Partial credit", "incorrect": "Incorrect",
                 "missing": "Missing", "error": "Error", "timeout": "Timed out"}

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
"""


def render(report: GradeReport, problem_set: ProblemSet,
           answers: Mapping[str, Answer] | None = None, late: str = "") -> str:
    """The page for one graded submission; ``late``: the late-work line, if a policy
    applies (``mcgrade.batch.late``)."""
    answers = answers or {}
    scope = scope_of(problem_set)
    title = f"{problem_set.title}: {report.submission}" if problem_set.title \
        else report.submission
    body = [f"<h1>{esc(problem_set.title or report.problem_set)}</h1>\n",
            f'<p class="muted">Feedback for <span class="code submission">'
            f"{esc(report.submission)}</span> against {esc(report.problem_set)}</p>\n",
            f'<p class="total">Total: <strong>{points(report.score)}/'
            f"{points(report.max_score)}</strong> points{_percent(report)}</p>\n"]
    if late:
        body.append(f'<p class="late">{esc(late)}</p>\n')
    if report.notes:
        body.append('<div class="notes">'
                    + "".join(f'<p class="feedback">{esc(n)}</p>' for n in report.notes)
                    + "</div>\n")
    for verdict in report.verdicts:
        problem = problem_set.problem(verdict.id)
        answer = _answer_for(problem, verdict, answers)
        body.append(_section(verdict, problem, answer, scope))
    return page(f"mcgrade: {title}", "".join(body), _CSS)


def _percent(report: GradeReport) -> str:
    if not report.max_score:
        return ""
    return f' <span class="muted">({round(100 * report.score / report.max_score)}%)</span>'


def _answer_for(problem: Problem | None, verdict: Verdict,
                answers: Mapping[str, Answer]) -> Answer | None:
    for key in (verdict.id, problem.answer_name if problem else None):
        if key is not None and key in answers:
            return answers[key]
    return None


def _section(verdict: Verdict, problem: Problem | None, answer: Answer | None,
             scope: Any) -> str:
    status = verdict.status
    out = [f'<section class="problem" id="problem-{esc(verdict.id)}">\n',
           f'<h2><span class="code">{esc(verdict.id)}</span>'
           f'<span class="status status-{esc(status)}">{esc(STATUS_LABELS.get(status, status))}'
           f'</span><span class="pts">{points(verdict.score)}/{points(verdict.max_score)} '
           "points</span></h2>\n"]
    if problem is not None and problem.prompt:
        out.append(f'<p class="prompt">{prose(problem.prompt)}</p>\n')
    if answer is not None:
        out.append('<div class="label">Your answer</div>\n'
                   f'<div class="answer">{_answer(answer, scope)}</div>\n')
    if verdict.diagnoses:
        items = "".join(f'<li><span class="code">{esc(code)}</span> '
                        f"{esc(label(code))}</li>"
                        for code in verdict.diagnoses)
        out.append(f'<div class="label">Diagnosis</div>\n<ul class="diagnoses">{items}</ul>\n')
    if verdict.feedback:
        out.append('<div class="label">Feedback</div>\n'
                   f'<p class="feedback">{esc(verdict.feedback)}</p>\n')
    method = _method(verdict)
    if method:
        out.append(f'<p class="muted method">{method}</p>\n')
    out.append("</section>\n")
    return "".join(out)


def _method(verdict: Verdict) -> str:
    how = how_checked(verdict.method, verdict.evidence)
    return esc(how[0].upper() + how[1:] + ".") if how else ""


def _answer(answer: Answer, scope: Any) -> str:
    kind = answer.kind
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
        text = answer.text if len(answer.text) <= 400 else answer.text[:400] + "…"
        return f"<code>{esc(text)}</code>"
    return f'<span class="muted">{esc(kind)}</span> <code>{esc(answer.text)}</code>'


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
