"""The class report: one self-contained HTML page over every graded submission.

    render(reports, problem_set) -> str

It shows the number of students, the mean and median score, a histogram of total scores,
each problem's success rate (a stacked bar per problem: correct, partial, incorrect, no
answer; and a table), and per problem the most frequent diagnoses with their share of the
class ("41% transposed in dz_dw"), an author's anticipated mistake named by its answer.
The plots are inline SVG written here — no script, no matplotlib, no network — so the
page is byte-for-byte deterministic for given reports.
The numbers come from ``mcgrade.reporters.class_summary`` (``summary``), as plain data.

Given more data by the batch (``mcgrade.batch.outputs``), the page also has what an
instructor acts on: a ``roster`` (each student's score, linked to their feedback page),
the submissions with nothing to grade and why, per problem the class's wrong answers
in ``groups`` (``AnswerGroup``: grouped by the engine, ``mcgrade.batch.mistakes``), and a
short item analysis (``ItemStats``): each problem's difficulty and its corrected
item–total correlation, the problems that discriminate least flagged. This module only
renders: the numbers are ``class_summary``'s, the groups and the links the batch layer's.

Two bases, each said on the page: the score cards and the histogram are over every
student (the gradebook's totals, an ungradable submission with its points, usually 0);
every per-problem number (success rates, diagnoses, the item analysis) is over the
submissions with answers to grade. A problem an instructor overrode is marked so in the
roster; with a late policy (``RosterRow.final``) the roster and the cards give the final
scores too.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Mapping, Sequence

from mcgrade.model import Diagnosis, GradeReport, ProblemSet
from mcgrade.reporters._html import esc, page, points, prose
from mcgrade.reporters.class_summary import (
    LOW_DISCRIMINATION,
    STATUS_GROUPS,
    AnswerGroup,
    ProblemSummary,
    RosterRow,
    Summary,
    summary,
    ungradable,
)
from mcgrade.reporters.diagnosis_words import phrase

TOP_DIAGNOSES = 3
"""How many diagnoses each problem lists."""

HEADLINES = 5
"""How many of the class's most common mistakes open the page."""

TOP_GROUPS = 5
"""How many answer groups each problem lists."""

GROUP_STUDENTS = 12
"""How many students of a group are named (the rest are counted)."""


_CSS = """
.cards { display: flex; gap: 1em; flex-wrap: wrap; margin: 1em 0; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: .5em 1em; min-width: 8em; }
.card .value { font-size: 1.6em; font-weight: bold; }
.card .what { color: var(--muted); font-size: .9em; }
svg { max-width: 100%; height: auto; font-family: "DejaVu Sans", Arial, sans-serif; }
ul.headlines li { margin: .2em 0; }
.problem-diagnoses { margin: .8em 0; }
.problem-diagnoses h3 { font-size: 1em; margin: .6em 0 .2em; }
.prompt { color: var(--muted); font-size: .9em; margin: .1em 0 .3em; }
tr.flagged td { background: #fff8c5; }
.wide { overflow-x: auto; max-width: 100%; }
td.st { text-align: center; }
.st-correct { color: var(--ok); } .st-partial { color: var(--part); }
.st-incorrect, .st-error, .st-timeout { color: var(--bad); } .st-missing { color: var(--muted); }
.st-override { color: #0969da; }
"""


def render(reports: Sequence[GradeReport], problem_set: ProblemSet, *,
           roster: Sequence[RosterRow] = (),
           groups: Mapping[str, Sequence[AnswerGroup]] | None = None,
           cut_short: Collection[str] = ()) -> str:
    """The class report page for these graded submissions of ``problem_set``; with the
    ``roster`` (the same students, with their pages) and each problem's answer
    ``groups``, also the roster and the groups; ``cut_short``: the problems whose
    grouping the machine cut short, each said so."""
    data = summary(reports, problem_set)
    title = problem_set.title or "Problem set"
    finals = ([row.report.score if row.final is None else row.final for row in roster]
              if any(row.final is not None for row in roster) else [])
    body = [f"<h1>Class report: {esc(title)}</h1>\n", _cards(data, finals)]
    if not data.students:
        body.append('<p class="muted">No submissions were graded.</p>\n')
        return page(f"mcgrade class report: {title}", "".join(body), _CSS)
    links = {row.student: row.page for row in roster}
    body += ["<h2>Score distribution</h2>\n", _histogram(data),
             "<h2>Most common mistakes</h2>\n", _headlines(data),
             "<h2>Success rate per problem</h2>\n", _basis(data), _bars(data), _table(data),
             "<h2>Items that discriminate least</h2>\n", _items(data),
             "<h2>Submissions with nothing to grade</h2>\n",
             _ungradable(reports, roster),
             "<h2>Per problem: diagnoses and the class's answers</h2>\n",
             _diagnoses(data, problem_set, groups or {}, links, cut_short)]
    if roster:
        body += ["<h2>Roster</h2>\n", _roster(roster, data)]
    return page(f"mcgrade class report: {title}", "".join(body), _CSS)


def _basis(data: Summary) -> str:
    """What the per-problem numbers are over, and how that differs from the cards'."""
    left = data.students - data.gradable
    out = (f"Every per-problem number below is over the {data.gradable} submission"
           f"{'s' if data.gradable != 1 else ''} with answers to grade (a problem an "
           "instructor overrode counts by the override's points)")
    if left:
        out += (f"; the {left} with nothing to grade (listed further down) "
                f"{'is' if left == 1 else 'are'} left out here, while the score cards and "
                f"the histogram above count all {data.students} students with their points")
    return f'<p class="muted" id="basis">{esc(out)}.</p>\n'


def _said(p: ProblemSummary) -> list[tuple[str, str, int]]:
    """The problem's diagnoses as (code, cause, count): an error split by its causes."""
    out: list[tuple[str, str, int]] = []
    for code, n in p.diagnoses:
        if code == Diagnosis.ERROR and p.causes:
            out += [(code, why, k) for why, k in sorted(p.causes, key=lambda c: (-c[1], c[0]))]
        else:
            out.append((code, "", n))
    return out


def _link(student: str, links: Mapping[str, str]) -> str:
    """A student's id, linked to their feedback page when there is one."""
    href = links.get(student, "")
    if not href:
        return esc(student)
    return f'<a href="{esc(href)}">{esc(student)}</a>'


def _r(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _items(data: Summary) -> str:
    """Every problem's difficulty and discrimination, the least discriminating first
    (those where it is undefined last)."""
    rated = [(p.id, p.item) for p in data.problems if p.item is not None]
    if not rated:
        return '<p class="muted">No submission had answers to grade.</p>\n'
    rated.sort(key=lambda pair: (pair[1].discrimination is None,
                                 pair[1].discrimination or 0.0, pair[0]))
    rows = []
    for problem_id, item in rated:
        flagged = ' class="flagged"' if item.flag else ""
        rows.append(f'<tr id="item-{esc(problem_id)}"{flagged}>'
                    f'<td><span class="code">{esc(problem_id)}</span></td>'
                    f'<td class="num">{_pct(item.difficulty)}</td>'
                    f'<td class="num">{_r(item.discrimination)}</td>'
                    f"<td>{esc(item.flag)}</td></tr>")
    return ('<p class="muted">Difficulty: the mean share of the problem\'s points earned. '
            "Discrimination: the correlation between a student's share of the problem's "
            "points and the rest of their total (corrected item–total correlation); "
            f"under {LOW_DISCRIMINATION:g} the problem hardly tells stronger students from "
            "weaker ones. Submissions with nothing to grade are left out.</p>\n"
            '<table id="item-analysis"><tr><th>Problem</th><th class="num">Difficulty</th>'
            '<th class="num">Discrimination</th><th>Flag</th></tr>' + "".join(rows)
            + "</table>\n")


def _ungradable(reports: Sequence[GradeReport], roster: Sequence[RosterRow]) -> str:
    """Whose submission had nothing to grade, and why."""
    rows = ([(_link(r.student, {r.student: r.page}), r.report) for r in roster] if roster
            else [(esc(r.submission), r) for r in reports])
    found = [(who, report, ungradable(report)) for who, report in rows if ungradable(report)]
    if not found:
        return '<p id="ungradable" class="muted">Every submission gave answers to grade.</p>\n'
    items = "".join(f'<li>{who} <span class="muted">({esc(report.submission)})</span>: '
                    f'<span class="feedback">{esc(why)}</span></li>'
                    for who, report, why in found)
    return f'<ul id="ungradable">{items}</ul>\n'


def _roster(roster: Sequence[RosterRow], data: Summary) -> str:
    """Every student: their page, score (and final score, with a late policy), and each
    problem's status, an overridden one marked as such."""
    ids = [p.id for p in data.problems]
    late = any(row.final is not None for row in roster)
    head = ("<tr><th>Student</th><th class=\"num\">Score</th>"
            + ('<th class="num">Final (late policy)</th>' if late else "")
            + "".join(f'<th><span class="code">{esc(_short(i, 10))}</span></th>' for i in ids)
            + "</tr>")
    rows = []
    for row in sorted(roster, key=lambda r: r.student):
        status = {v.id: OVERRIDE if v.override is not None else v.status
                  for v in row.report.verdicts}
        cells = "".join(f'<td class="st st-{esc(status.get(i, "missing"))}">'
                        f'{_MARKS.get(status.get(i, "missing"), "?")}</td>' for i in ids)
        final = "" if not late else f'<td class="num">{_final(row)}</td>'
        rows.append(f"<tr><td>{_link(row.student, {row.student: row.page})}</td>"
                    f'<td class="num">{points(row.report.score)}/'
                    f"{points(row.report.max_score)}</td>{final}{cells}</tr>")
    # a column per problem: wide, so it scrolls in its own box and the page does not
    return (f'<div class="wide"><table id="roster">{head}{"".join(rows)}</table></div>\n'
            '<p class="muted">'
            "✓ correct, ½ partial, ✗ incorrect, ! error or timeout, – no answer, "
            "✎ points set by the instructor (an override)."
            + (" Score: the problems' points; final: after the late penalty." if late else "")
            + "</p>\n")


def _final(row: RosterRow) -> str:
    """A roster row's final score, with the late penalty taken when there is one."""
    final = row.report.score if row.final is None else row.final
    taken = round(row.report.score - final, 6)
    return f"{points(final)}" + (f' <span class="muted">(−{points(taken)} late)</span>'
                                 if taken else "")


OVERRIDE = "override"
_MARKS = {"correct": "✓", "partial": "½", "incorrect": "✗", "error": "!", "timeout": "!",
          "missing": "–", OVERRIDE: "✎"}


def _groups(problem_groups: Sequence[AnswerGroup], links: Mapping[str, str]) -> str:
    """A problem's largest groups of equal wrong answers."""
    if not problem_groups:
        return ""
    shown = problem_groups[:TOP_GROUPS]
    rows = []
    for g in shown:
        others = (f' <span class="muted">and {g.spellings - 1} other spelling'
                  f"{'s' if g.spellings > 2 else ''}</span>" if g.spellings > 1 else "")
        named = ", ".join(_link(s, links) for s in g.students[:GROUP_STUDENTS])
        if len(g.students) > GROUP_STUDENTS:
            named += f" and {len(g.students) - GROUP_STUDENTS} more"
        why = ", ".join(esc(c) for c in g.diagnoses) or "—"
        covered = ' <span class="muted">(an author\'s mistake)</span>' if g.covered else ""
        rows.append(f'<tr><td><span class="code">{esc(g.example)}</span>{others}</td>'
                    f'<td class="num">{g.count}</td><td>{why}{covered}</td>'
                    f"<td>{named}</td></tr>")
    rest = problem_groups[TOP_GROUPS:]
    more = (f'<p class="muted">and {len(rest)} more group{"s" if len(rest) > 1 else ""} '
            f"({sum(g.count for g in rest)} students)</p>" if rest else "")
    return ('<table class="groups"><tr><th>Answer</th><th class="num">Students</th>'
            "<th>Diagnosis</th><th>Who</th></tr>" + "".join(rows) + "</table>" + more)


def _pct(share: float) -> str:
    return f"{round(100 * share)}%"


def _cards(data: Summary, finals: Sequence[float] = ()) -> str:
    """The class's numbers over every student; ``finals``: their scores after a late
    penalty, when a policy applies."""
    cards = [("students", str(data.students)),
             ("mean score", f"{points(round(data.mean, 2))}/{points(data.max_score)}"),
             ("median score", f"{points(round(data.median, 2))}/{points(data.max_score)}")]
    if finals:
        cards.append(("mean final score", f"{points(round(statistics.fmean(finals), 2))}/"
                                          f"{points(data.max_score)}"))
    if data.scores:
        cards.append(("range", f"{points(data.scores[0])}–{points(data.scores[-1])}"))
    return ('<div class="cards">' + "".join(
        f'<div class="card" id="card-{esc(what.replace(" ", "-"))}"><div class="value">'
        f'{esc(value)}</div><div class="what">{esc(what)}</div></div>'
        for what, value in cards) + "</div>\n")


def _bins(data: Summary) -> list[tuple[float, float, int]]:
    """(low, high, count). Up to 20 whole points: one bin per whole score 0…max, a score
    counted in the bin of its whole part (4.5 with 4); otherwise 10 equal bins over
    0…max, the last one including the maximum."""
    top = data.max_score or max(data.scores, default=1.0) or 1.0
    whole = float(top).is_integer() and top <= 20
    count = int(top) + 1 if whole else 10
    width = 1.0 if whole else top / count
    bins = [[i * width, (i + 1) * width, 0] for i in range(count)]
    for score in data.scores:
        index = min(max(int(score / width + 1e-9), 0), count - 1)
        bins[index][2] += 1
    return [(low, high, int(n)) for low, high, n in bins]


def _f(value: float) -> str:
    return f"{value:.1f}"


def _histogram(data: Summary) -> str:
    bins = _bins(data)
    whole = all(high - low == 1.0 for low, high, _ in bins)
    width, height, left, bottom, top = 640, 260, 44, 40, 16
    plot_w, plot_h = width - left - 12, height - bottom - top
    most = max(n for _, _, n in bins) or 1
    step = plot_w / len(bins)
    out = [f'<svg id="histogram" class="chart" role="img" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
           "<title>Histogram of total scores</title>"]
    ticks = sorted({0, most} | ({(most + 1) // 2} if most > 2 else set()))
    for tick in ticks:
        y = top + plot_h - plot_h * tick / most
        out.append(f'<line x1="{left}" y1="{_f(y)}" x2="{left + plot_w}" y2="{_f(y)}" '
                   f'stroke="#d0d7de"/><text x="{left - 6}" y="{_f(y + 4)}" '
                   f'text-anchor="end" font-size="12">{tick}</text>')
    for i, (low, high, n) in enumerate(bins):
        x = left + i * step
        h = plot_h * n / most
        label = (points(low) if whole
                 else f"{points(round(low, 2))}–{points(round(high, 2))}")
        out.append(f'<rect x="{_f(x + 2)}" y="{_f(top + plot_h - h)}" width="{_f(step - 4)}" '
                   f'height="{_f(h)}" fill="#0969da"><title>{esc(label)} points: {n} '
                   f"student{'s' if n != 1 else ''}</title></rect>")
        if n:
            out.append(f'<text x="{_f(x + step / 2)}" y="{_f(top + plot_h - h - 4)}" '
                       f'text-anchor="middle" font-size="12">{n}</text>')
        out.append(f'<text x="{_f(x + step / 2)}" y="{top + plot_h + 16}" '
                   f'text-anchor="middle" font-size="11">{esc(label)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
               f'font-size="12">total score (points{", rounded down" if whole else ""}, out of '
               f'{points(data.max_score)})</text>')
    out.append("</svg>\n")
    return "".join(out)


def _bars(data: Summary) -> str:
    row_h, left, right, top = 26, 130, 60, 28
    width = 640
    plot_w = width - left - right
    height = top + row_h * len(data.problems) + 8
    out = [f'<svg id="success-rates" class="chart" role="img" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
           "<title>Success rate per problem</title>"]
    x = left
    for _, label, colour in STATUS_GROUPS:          # the legend
        out.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{x + 16}" y="16" font-size="12">{esc(label)}</text>')
        x += 16 + 8 * len(label) + 18
    for row, problem in enumerate(data.problems):
        y = top + row * row_h
        out.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" font-size="12">'
                   f"{esc(_short(problem.id))}</text>")
        x0 = float(left)
        for group, label, colour in STATUS_GROUPS:
            share = problem.share(problem.count(group))
            if share <= 0:
                continue
            w = plot_w * share
            out.append(f'<rect x="{_f(x0)}" y="{y + 3}" width="{_f(w)}" height="{row_h - 8}" '
                       f'fill="{colour}"><title>{esc(problem.id)}: {_pct(share)} '
                       f"{esc(label.lower())}</title></rect>")
            x0 += w
        correct = problem.share(problem.count("correct"))
        out.append(f'<text x="{left + plot_w + 6}" y="{y + 15}" font-size="12">'
                   f"{_pct(correct)}</text>")
    out.append("</svg>\n")
    return "".join(out)


def _short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _table(data: Summary) -> str:
    head = ("<tr><th>Problem</th><th class=\"num\">Points</th><th class=\"num\">Mean</th>"
            + "".join(f'<th class="num">{esc(label)}</th>' for _, label, _ in STATUS_GROUPS)
            + "</tr>")
    rows = []
    for p in data.problems:
        cells = "".join(f'<td class="num">{_pct(p.share(p.count(g)))}</td>'
                        for g, _, _ in STATUS_GROUPS)
        rows.append(f'<tr id="row-{esc(p.id)}"><td><span class="code">{esc(p.id)}</span></td>'
                    f'<td class="num">{points(p.points)}</td>'
                    f'<td class="num">{points(round(p.mean_score, 2))}</td>{cells}</tr>')
    return f'<table id="success-table">{head}{"".join(rows)}</table>\n'


def _headlines(data: Summary) -> str:
    found = [(p.share(n), code, why, n, p) for p in data.problems
             for code, why, n in _said(p) if code != Diagnosis.MISSING]
    found.sort(key=lambda item: (-item[0], item[4].id, item[1], item[2]))
    if not found:
        return '<p class="muted">No diagnoses: every answer was right.</p>\n'
    items = "".join(
        f"<li><strong>{_pct(share)}</strong> {esc(phrase(code, why))} in "
        f'<span class="code">{esc(p.id)}</span> <span class="muted">({n} of {p.graded})'
        "</span></li>" for share, code, why, n, p in found[:HEADLINES])
    return f'<ul class="headlines">{items}</ul>\n'


def _mistakes(p: ProblemSummary) -> str:
    """Which of the author's mistakes were made, each by its answer, most frequent first."""
    if not p.mistakes:
        return ""
    return '<ul class="mistakes">' + "".join(
        f'<li><span class="code">{esc(answer)}</span> <span class="muted">({n})</span></li>'
        for answer, n in p.mistakes) + "</ul>"


def _diagnoses(data: Summary, problem_set: ProblemSet,
               groups: Mapping[str, Sequence[AnswerGroup]], links: Mapping[str, str],
               cut_short: Collection[str] = ()) -> str:
    out = []
    for p in data.problems:
        problem = problem_set.problem(p.id)
        item = (f" · difficulty {_pct(p.item.difficulty)}, discrimination "
                f"{_r(p.item.discrimination)}" if p.item is not None else "")
        out.append(f'<div class="problem-diagnoses" id="diagnoses-{esc(p.id)}">'
                   f'<h3><span class="code">{esc(p.id)}</span> — '
                   f"{_pct(p.share(p.count('correct')))} correct{item}</h3>")
        if problem is not None and problem.prompt:
            out.append(f'<p class="prompt">{prose(problem.prompt)}</p>')
        if p.diagnoses:
            out.append("<ul>" + "".join(
                f"<li><strong>{_pct(p.share(n))}</strong> {esc(phrase(code, why))} "
                f'<span class="muted">(<span class="code">{esc(code)}</span>, {n} of '
                f"{p.graded})</span>{_mistakes(p) if code == Diagnosis.AUTHOR_MISTAKE else ''}</li>"
                for code, why, n in _said(p)[:TOP_DIAGNOSES]) + "</ul>")
        else:
            out.append('<p class="muted">No diagnoses.</p>')
        out.append(_groups(groups.get(p.id, ()), links))
        if p.id in cut_short:
            out.append(f'<p class="cut-short" id="cut-short-{esc(p.id)}"><strong>Grouping '
                       f'of <span class="code">{esc(p.id)}</span> was cut short on this '
                       "machine; run again</strong> (a check of whether two answers are "
                       "equal could not finish in time, so they are listed apart).</p>")
        out.append("</div>\n")
    return "".join(out)
