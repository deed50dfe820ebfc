"""The HTML pages (per-student feedback, class report) and every reporter's output
against golden files.

The reports here are built by hand, so the golden files change only when a reporter does.
After an intended change to a reporter, regenerate them and review the diff:

    MCGRADE_UPDATE_GOLDEN=1 python -m pytest tests/test_pages.py
    git diff tests/golden/

The browser tests (a real headless Chromium) are in ``test_pages_browser.py``.
"""

from __future__ import annotations

import glob
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mcgrade.engine.compiler import scope_of
from mcgrade.model import Answer, GradeReport, Verdict
from mcgrade.problemset import load_problem_set, parse_problem_set
from mcgrade.reporters import (
    class_report,
    class_summary,
    gradescope,
    html_feedback,
    json_report,
    terminal,
)
from mcgrade.reporters._html import expression_mathml, latex_mathml, prose

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).parent.parent
UPDATE = os.environ.get("MCGRADE_UPDATE_GOLDEN") == "1"

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & $\\frac{a}{b}$'

SET_YAML = r"""
title: "Pages <fixture> & co"
symbols:
  n: {dimension: true, sizes: [2, 3]}
  m: {dimension: true, sizes: [3]}
  x: {shape: [n, 1]}
  w: {shape: [n, 1]}
  W: {shape: [m, n]}
  b: {}
  t: {}
problems:
  - id: dz_dw
    points: 2
    prompt: "Find $\\frac{\\partial z}{\\partial \\mathbf{w}}$ for $z = \\mathbf{w}^T\\mathbf{x} + b$ (a $1\\times n$ row)."
    derivative: {of: "w.T @ x + b", wrt: w}
    partial_credit: {transposed: 0.5}
  - id: jac
    points: 2
    prompt: "Find the Jacobian of $\\mathbf{y} = \\begin{bmatrix} t^2 \\\\ \\sin 3t \\end{bmatrix}$, `Matrix([...])`."
    derivative: {of: "Matrix([t**2, sin(3*t)])", wrt: t}
  - id: shape_q
    prompt: "What is the shape of $\\partial (W\\mathbf{x})/\\partial \\mathbf{x}$?"
    shape: {of: "W @ x", wrt: x}
  - id: at_pt
    prompt: "Evaluate $\\left.\\frac{d}{dt} t^3\\right|_{t=2}$."
    derivative: {of: "t**3", wrt: t}
    at: {t: 2}
"""


def problem_set():
    return parse_problem_set(SET_YAML, "pages.yaml")


def _v(pid, status, score, max_score, diagnoses=(), feedback="", method="", **evidence):
    return Verdict(pid, status, score, max_score, tuple(diagnoses), feedback, method,
                   evidence)


def alice() -> tuple[GradeReport, dict[str, Answer]]:
    """A submission with one of each kind of answer, and student text that is hostile."""
    report = GradeReport("alice <b>.py", "pages.yaml", (
        _v("dz_dw", "partial", 1, 2, ["transposed"],
           "This is the transpose of the expected answer: in numerator layout the "
           "derivative of a scalar by an n×1 vector is a 1×n row.", "numeric", points=24),
        _v("jac", "incorrect", 0, 2, ["unparseable"],
           f"This is not an expression: {HOSTILE}\nwrite Matrix([[a], [b]])."),
        _v("shape_q", "correct", 1, 1, (), "Correct.", "symbolic"),
        _v("at_pt", "incorrect", 0, 1, ["scale-factor"],
           "Your answer is 2 times the expected one.", "symbolic", factor=2),
    ), notes=(f"note from the runner: {HOSTILE}",))
    answers = {
        "dz_dw": Answer("string", text="x + 0*w"),
        "jac": Answer("string", text=HOSTILE),
        "shape_q": Answer("shape", value=("m", "n")),
        "at_pt": Answer("number", value=24.0),
    }
    return report, answers


def bob() -> GradeReport:
    return GradeReport("bob.py", "pages.yaml", (
        _v("dz_dw", "correct", 2, 2, (), "Correct.", "symbolic"),
        _v("jac", "correct", 2, 2, (), "Correct.", "symbolic"),
        _v("shape_q", "incorrect", 0, 1, ["transposed"], "Transposed shape."),
        _v("at_pt", "missing", 0, 1, ["missing"], "No answer named at_pt."),
    ))


def class_reports() -> list[GradeReport]:
    """Seventeen students: 7 of them (41%) transposed dz_dw; 3 made the author's mistakes
    in jac (2 * W twice, W.T once)."""
    reports = [alice()[0], bob()]
    for i in range(15):
        transposed = i < 6
        reports.append(GradeReport(f"s{i:02d}.py", "pages.yaml", (
            _v("dz_dw", "partial" if transposed else "correct", 1 if transposed else 2, 2,
               ["transposed"] if transposed else (), "", "numeric"),
            _v("jac", "incorrect" if i % 3 == 0 else "correct", 0 if i % 3 == 0 else 2, 2,
               ["sign"] if i % 3 == 0 else ()) if i not in (1, 2, 4) else
            _v("jac", "incorrect", 0, 2, ["author-mistake"], "Known.", "numeric",
               mistake="W.T" if i == 4 else "2 * W"),
            _v("shape_q", "correct", 1, 1),
            _v("at_pt", "error" if i == 14 else "correct", 0 if i == 14 else 1, 1,
               ["error"] if i == 14 else ()),
        )))
    return reports


def outputs() -> dict[str, str]:
    """Every output format for the fixed reports: file name → rendered text."""
    ps = problem_set()
    report, answers = alice()
    return {
        "feedback_alice.html": html_feedback.render(report, ps, answers),
        "feedback_bob.html": html_feedback.render(bob(), ps),
        "class_report.html": class_report.render(class_reports(), ps),
        "class_report_empty.html": class_report.render([], ps),
        "alice_terminal.txt": terminal.render(report, ps.title),
        "alice.json": json_report.render(report),
        "alice_gradescope.json": gradescope.render(report),
    }


@pytest.mark.parametrize("name", sorted(outputs()))
def test_output_matches_its_golden_file(name: str) -> None:
    rendered = outputs()[name]
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8", newline="\n")
    assert path.exists(), f"no golden file {path}: run with MCGRADE_UPDATE_GOLDEN=1"
    assert rendered == path.read_text(encoding="utf-8"), (
        f"{name} differs from {path}; if the change is intended, regenerate with "
        "MCGRADE_UPDATE_GOLDEN=1 and review the diff")


def test_rendering_is_deterministic() -> None:
    assert outputs() == outputs()


# --- safety: nothing student-controlled becomes markup -----------------------------------

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "div", "span",
    "section", "strong", "code", "ul", "li", "table", "tr", "th", "td", "a",
    "svg", "line", "rect", "text",
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "mtext", "mspace",
    "mfrac", "msup", "msub", "msubsup", "mover", "msqrt", "mtable", "mtr", "mtd",
}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(page: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


@pytest.mark.parametrize("name", ["feedback_alice.html", "feedback_bob.html",
                                  "class_report.html", "class_report_empty.html"])
def test_pages_use_only_known_elements_and_no_handlers(name: str) -> None:
    page = outputs()[name]
    tags = tags_of(page)
    assert {t for t, _ in tags} <= ALLOWED_TAGS
    for tag, attrs in tags:
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)
        assert "src" not in attrs, (tag, attrs)
        # a link only to a student's page beside the report: no scheme, no folder
        assert "href" not in attrs or tag == "a" and re.fullmatch(
            r"[A-Za-z0-9%._~-]+\.html", attrs["href"]), (tag, attrs)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()


def test_hostile_student_text_is_escaped_everywhere() -> None:
    report, answers = alice()
    page = html_feedback.render(report, problem_set(), answers)
    escaped = ("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
               "&lt;img src=x onerror=alert(1)&gt; &amp; $\\frac{a}{b}$")
    assert page.count(escaped) == 3          # the answer, the feedback, the note
    assert "alice &lt;b&gt;.py" in page and "<b>" not in page
    assert "<img" not in page and "<script" not in page


def test_the_class_report_escapes_ids_and_titles() -> None:
    ps = problem_set()
    evil = GradeReport("e.py", "pages.yaml", (_v("<i>q</i>", "incorrect", 0, 1, ["<x>"]),))
    page = class_report.render([evil], ps)
    assert "<i>" not in page and "<x>" not in page
    assert "&lt;i&gt;q&lt;/i&gt;" in page
    assert "Pages &lt;fixture&gt; &amp; co" in page


def test_pages_are_self_contained() -> None:
    for name, page in outputs().items():
        if name.endswith(".html"):
            urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
            assert urls <= {"http://www.w3.org/2000/svg"}, (name, urls)
            assert "Content-Security-Policy" in page and "default-src 'none'" in page


# --- the class report's numbers ----------------------------------------------------------

def test_class_summary_counts_and_shares() -> None:
    data = class_summary.summary(class_reports(), problem_set())
    assert data.students == 17
    dz = data.problems[0]
    assert dz.id == "dz_dw" and dz.graded == 17
    assert dz.diagnoses[0] == ("transposed", 7)
    assert round(100 * dz.share(7)) == 41
    assert dz.count("correct") == 10 and dz.count("partial") == 7
    at = data.problems[3]
    assert at.count("missing") == 1 and at.count("incorrect") == 2   # wrong and error


def test_class_report_says_what_share_made_which_mistake() -> None:
    page = class_report.render(class_reports(), problem_set())
    assert re.search(r"<strong>41%</strong> transposed the answer in "
                     r'<span class="code">dz_dw</span>', page)
    assert "17" in page and 'id="histogram"' in page and 'id="success-rates"' in page


def test_histogram_bins_cover_every_score() -> None:
    data = class_summary.summary(class_reports(), problem_set())
    bins = class_report._bins(data)
    assert len(bins) == 7                                 # one per whole point, 0..6
    assert sum(n for _, _, n in bins) == 17
    assert [n for _, _, n in bins] == [sum(1 for s in data.scores if int(s) == k)
                                       for k in range(7)]


# --- math ---------------------------------------------------------------------------------

def _prompts():
    for path in sorted(glob.glob(str(ROOT / "problem_sets" / "*.yaml"))):
        ps = load_problem_set(path)
        for problem in ps.problems:
            yield ps, problem


def test_every_prompt_of_the_bundled_sets_converts_to_well_formed_mathml() -> None:
    count = 0
    for ps, problem in _prompts():
        markup = prose(problem.prompt)
        ET.fromstring(f"<div>{markup}</div>")               # well-formed
        assert "<mtext>\\" not in markup, (ps.path, problem.id)  # no command unknown
        count += markup.count("<math>")
    assert count > 300


def test_every_reference_and_mistake_of_the_bundled_sets_prints_as_mathml() -> None:
    count = 0
    for ps, problem in _prompts():
        scope = scope_of(ps)
        for text in [problem.answer] + [m.answer for m in problem.mistakes]:
            if text:
                markup = expression_mathml(text, scope)
                assert markup is not None, (ps.path, problem.id, text)
                ET.fromstring(markup)
                count += 1
    assert count > 100


@pytest.mark.parametrize("latex, expected", [
    (r"\frac{\partial z}{\partial \mathbf{w}}",
     '<mfrac><mrow><mi>∂</mi><mi>z</mi></mrow><mrow><mi>∂</mi><mrow>'
     '<mi mathvariant="normal" class="bf">w</mi></mrow></mrow></mfrac>'),
    (r"x^2_i", "<msubsup><mrow><mi>x</mi></mrow><mrow><mi>i</mi></mrow><mrow><mn>2</mn>"
               "</mrow></msubsup>"),
    (r"\mathbb{R}^n", "<msup><mrow><mi>ℝ</mi></mrow><mrow><mi>n</mi></mrow></msup>"),
    (r"\tfrac12", "<mfrac><mn>1</mn><mn>2</mn></mfrac>"),
    (r"\sin x", "<mi>sin</mi><mo>\u2061</mo><mspace width=\"0.1667em\"></mspace><mi>x</mi>"),
    (r"\ln(x)", "<mi>ln</mi><mo>\u2061</mo><mo stretchy=\"false\">(</mo>"),
    (r"\undefined{<b>}", "<mtext>\\undefined</mtext>"),
])
def test_latex_subset(latex: str, expected: str) -> None:
    markup = latex_mathml(latex)
    assert expected in markup
    ET.fromstring(markup)


def test_latex_never_passes_markup_through() -> None:
    markup = latex_mathml(r"\text{<script>} a<b \mathrm{</math>} \left< x \right>")
    assert "<script>" not in markup and "</math>" not in markup[:-len("</math>")]
    ET.fromstring(markup)


@pytest.mark.parametrize("text, needles", [
    ("x.T @ W.T", ['<msup><mrow><mi mathvariant="normal" class="bf">x</mi></mrow>'
                   '<mi mathvariant="normal">T</mi></msup>', "<mi>W</mi>"]),
    ("2*x", ["<mn>2</mn><mo>\u2062</mo>"]),
    ("x * w", ["<mo>⊙</mo>"]),
    ("(x + w).T", ["<mo>(</mo>"]),
    ("diag(w)", ["<mi>diag</mi>"]),
    ("t**2/3", ["<mfrac>", "<msup>"]),
    ("Piecewise((1, t > 0), (0, True))", ["<mtext>otherwise</mtext>", "<mo>&gt;</mo>"]),
    ("x[0]", ["<msub><mrow><mi>x</mi></mrow><mn>0</mn></msub>"]),
])
def test_expression_printer(text: str, needles: list[str]) -> None:
    markup = expression_mathml(text, scope_of(problem_set()))
    assert markup is not None
    for needle in needles:
        assert needle in markup
    ET.fromstring(markup)


def test_an_expression_that_does_not_compile_has_no_mathml() -> None:
    assert expression_mathml("x @@ w", scope_of(problem_set())) is None
    assert expression_mathml(HOSTILE, scope_of(problem_set())) is None


# --- what the trial of a new instructor found ----------------------------------------------

SREPR_X_T = "Transpose(MatrixSymbol(Str('x'), Symbol('n'), Integer(1)))"
CUT_SHORT = "erin.ipynb is cut short: its JSON ends early at line 12; save it again"
STOPPED = ("heidi.py raised NameError: name 'oops' is not defined at line 7 "
           "(`quad = oops.T`); answers defined before it were read")


def erin() -> GradeReport:
    """Nothing of her notebook could be read; an instructor set dz_dw by hand (applied as
    the batch applies it)."""
    from mcgrade.batch.overrides import Override, apply

    report = GradeReport("erin.ipynb", "pages.yaml", tuple(
        _v(pid, "error", 0, worth, ["error"], CUT_SHORT)
        for pid, worth in (("dz_dw", 2), ("jac", 2), ("shape_q", 1), ("at_pt", 1))),
        notes=(CUT_SHORT,))
    return apply(report, {"dz_dw": Override(2, f"checked by hand {HOSTILE}", 2)})


def heidi() -> GradeReport:
    """Her script stopped at jac's line: jac and the rest were never defined."""
    return GradeReport("heidi.py", "pages.yaml", (
        _v("dz_dw", "correct", 2, 2, (), "Correct.", "symbolic"),
        *(_v(pid, "error", 0, worth, ["error"],
             f"{pid} was not defined before the script stopped: {STOPPED.split('; ')[0]}")
          for pid, worth in (("jac", 2), ("shape_q", 1), ("at_pt", 1)))), notes=(STOPPED,))


def test_a_sympy_answer_is_typeset_not_shown_as_srepr() -> None:
    report = GradeReport("h.py", "pages.yaml", (_v("dz_dw", "correct", 2, 2),))
    page = html_feedback.render(report, problem_set(),
                                {"dz_dw": Answer("sympy", text=SREPR_X_T)})
    answer = page.split('<div class="answer">')[1].split("</div>")[0]
    assert "MatrixSymbol" not in answer and "<math>" in answer and "<msup>" in answer
    # outside the whitelist (never evaluated): the text as it is, escaped
    for text in ("__import__('os').system('echo pwned')", f"Symbol({HOSTILE!r})"):
        page = html_feedback.render(report, problem_set(), {"dz_dw": Answer("sympy", text=text)})
        answer = page.split('<div class="answer">')[1].split("</div>")[0]
        assert answer.startswith("<code>") and "<math>" not in answer
        assert "<script" not in page and "<img" not in page


def test_an_overridden_problem_shows_the_override_as_its_status() -> None:
    page = html_feedback.render(erin(), problem_set())
    section = page.split('id="problem-dz_dw"')[1].split("</section>")[0]
    assert ('<p class="override">Set by your instructor: 2/2 — checked by hand '
            "&lt;script&gt;") in section
    assert 'class="status status-override"' in section and "status-error" not in section
    replaced = section.split('<div class="replaced">')[1]
    assert "Replaced: the grader's verdict, Error" in replaced
    assert "Override by your instructor" not in section      # said once, as the status
    assert "<script" not in page and "<img" not in page
    roster = [class_summary.RosterRow("erin", "erin.html", erin())]
    report = class_report.render([erin()], problem_set(), roster=roster)
    row = report.split('<table id="roster">')[1].split("</table>")[0]
    assert '<td class="st st-override">✎</td>' in row
    assert row.count('<td class="st st-error">!</td>') == 3    # the three not overridden
    assert "✎ points set by the instructor" in report


def test_an_error_is_worded_by_what_happened_and_a_note_is_shown_once() -> None:
    page = html_feedback.render(erin(), problem_set(),
                                {pid: Answer("error", text=CUT_SHORT) for pid in ("jac",)})
    assert page.count(CUT_SHORT) == 1                       # at the top, not per problem
    assert page.count("not run: the submission could not be read or run") == 4
    assert "raised an error" not in page
    assert "nothing was read (see the note at the top)" in page
    page = html_feedback.render(heidi(), problem_set())
    assert page.count("not reached: the script stopped before defining it") == 3
    assert "raised an error" not in page
    report = class_report.render([heidi(), bob()], problem_set())
    assert "had a script that stopped before defining it in" in report
    assert "had code that raised an error" not in report
    raised = GradeReport("r.py", "pages.yaml", (
        _v("jac", "error", 0, 2, ["error"], "jac(…) raised ZeroDivisionError"),))
    assert "had code that raised an error" in class_report.render([raised], problem_set())


def test_per_problem_numbers_are_over_the_graded_submissions() -> None:
    """erin's notebook could not be read: the cards count her 0, the per-problem rates
    and the item analysis leave her out, and the page says so."""
    others = class_reports()
    unread = GradeReport("x.ipynb", "pages.yaml", tuple(
        _v(pid, "error", 0, worth, ["error"], CUT_SHORT)
        for pid, worth in (("dz_dw", 2), ("jac", 2), ("shape_q", 1), ("at_pt", 1))),
        notes=(CUT_SHORT,))
    data = class_summary.summary([*others, unread], problem_set())
    alone = class_summary.summary(others, problem_set())
    assert data.students == 18 and data.gradable == 17
    assert [(p.graded, p.counts, p.mean_score) for p in data.problems] == \
        [(p.graded, p.counts, p.mean_score) for p in alone.problems]
    assert [p.item for p in data.problems] == [p.item for p in alone.problems]
    page = class_report.render([*others, unread], problem_set())
    assert ("Every per-problem number below is over the 17 submissions with answers to "
            "grade") in page
    assert "the 1 with nothing to grade (listed further down) is left out here" in page


def test_late_work_headlines_the_final_score_and_the_report_lists_it() -> None:
    report = bob()                                             # 4/6
    page = html_feedback.render(report, problem_set(), late="Late: 1 day, 10% off.",
                                final=3.6)
    assert ('<p class="total">Final score: <strong>3.6/6</strong> points '
            '<span class="muted">(60%)</span> <span class="muted raw">(raw score 4/6 − '
            "late penalty 0.4)</span></p>") in page
    on_time = html_feedback.render(report, problem_set(), late="On time.", final=4.0)
    assert "Total: <strong>4/6</strong>" in on_time and "Final score" not in on_time
    roster = [class_summary.RosterRow("bob", "bob.html", report, 3.6),
              class_summary.RosterRow("alice", "alice.html", alice()[0], 3.0)]
    page = class_report.render([report, alice()[0]], problem_set(), roster=roster)
    assert '<th class="num">Final (late policy)</th>' in page
    assert '3.6 <span class="muted">(−0.4 late)</span>' in page
    assert 'id="card-mean-final-score"><div class="value">3.3/6</div>' in page


def test_the_batch_gives_the_pages_the_late_policy(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from mcgrade.batch.late import Lateness
    from mcgrade.batch.ledger import Entry
    from mcgrade.batch.outputs import Outputs, write_all

    ps = problem_set()
    entries = [Entry("bob", "bob.py", "k1", bob()), Entry("alice", "alice.py", "k2",
                                                          alice()[0], alice()[1])]
    deadline = datetime(2026, 10, 1, tzinfo=timezone.utc)
    late = {"bob": Lateness(deadline, False, None, 1, "day", 10, 4, 0.4),
            "alice": Lateness(deadline, False, None, 0, "day", 0, 2, 0)}
    write_all(entries, Outputs.under(tmp_path / "out", feedback=tmp_path / "pages"), ps,
              late=late)
    bob_page = (tmp_path / "pages" / "bob.html").read_text(encoding="utf-8")
    assert "Final score: <strong>3.6/6</strong>" in bob_page
    report = (tmp_path / "pages" / "class_report.html").read_text(encoding="utf-8")
    assert '3.6 <span class="muted">(−0.4 late)</span>' in report
    assert "mean final score" in report


def test_a_note_about_the_whole_submission_is_printed_once() -> None:
    """A syntax error stops everything: every answer's feedback is that note. The
    terminal prints it once, at the top, and each problem points to it (its hint stays)."""
    note = "syn.py, line 2: expected ':' in `if True`; nothing ran, so no answers were read"
    report = GradeReport("syn.py", "pages.yaml", (
        _v("dz_dw", "error", 0, 2, ["error"], f"{note}\nHint: differentiate by each w_i."),
        _v("jac", "error", 0, 2, ["error"], note)), notes=(note,))
    text = terminal.render(report)
    assert text.count(note) == 1
    assert "  dz_dw  error          0/2  (see the note above)\n" in text
    assert "Hint: differentiate by each w_i." in text
