"""The class report: one self-contained HTML page over every graded submission.

    render(reports, problem_set) -> str

It shows the number of students, the mean and median score, a histogram of total scores,
each problem's success rate (a stacked bar per problem: correct, partial, incorrect, no
answer; and a table), and per problem the most frequent diagnoses with their share of the
class ("41% transposed in dz_dw"), an author's anticipated mistake named by its answer. The plots are inline SVG written here — no script, no
matplotlib, no network — so the page is byte-for-byte deterministic for given reports.
``summary(reports, problem_set)`` gives the same numbers as plain data.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from mcgrade.model import GradeReport, ProblemSet
from mcgrade.reporters._html import esc, page, points, prose

TOP_DIAGNOSES = 3
"""How many diagnoses each problem lists."""

HEADLINES = 5
"""How many of the class's most common mistakes open the page."""

# A diagnosis as a verb phrase: "41% <phrase> in q3".
DIAGNOSIS_PHRASES: dict[str, str] = {
    "transposed": "transposed the answer",
    "flat-array": "gave a 1-D array",
    "wrong-shape": "gave the wrong shape",
    "sign": "got the sign wrong",
    "scale-factor": "were off by a constant factor",
    "elementwise-vs-matrix": "mixed up element-wise and matrix (diag)",
    "piecewise-branch": "were right on one branch only",
    "author-mistake": "made a known mistake",
    "not-equivalent": "gave a non-equivalent answer",
    "unparseable": "wrote something that is not an expression",
    "non-finite": "got NaN or infinity",
    "missing": "gave no answer",
    "timeout": "ran out of time",
    "error": "had code that raised an error",
    "forbidden": "used a forbidden function",
}

# Status groups, in the order the bars stack them, with their colours.
_GROUPS = (("correct", "Correct", "#1a7f37"), ("partial", "Partial", "#bf8700"),
           ("incorrect", "Incorrect / error", "#cf222e"), ("missing", "No answer", "#8c959f"))
_GROUP_OF = {"correct": "correct", "partial": "partial", "incorrect": "incorrect",
             "error": "incorrect", "timeout": "incorrect", "missing": "missing"}


@dataclass(frozen=True)
class ProblemSummary:
    id: str
    points: float
    graded: int                                  # submissions with a verdict for it
    counts: tuple[tuple[str, int], ...]          # status group → submissions
    mean_score: float
    diagnoses: tuple[tuple[str, int], ...]       # most frequent first
    mistakes: tuple[tuple[str, int], ...] = ()   # author's mistakes made, by their answer

    def share(self, count: int) -> float:
        return count / self.graded if self.graded else 0.0

    def count(self, group: str) -> int:
        return dict(self.counts).get(group, 0)


@dataclass(frozen=True)
class Summary:
    students: int
    max_score: float
    scores: tuple[float, ...]                   # sorted
    mean: float
    median: float
    problems: tuple[ProblemSummary, ...]


def summary(reports: Sequence[GradeReport], problem_set: ProblemSet) -> Summary:
    scores = tuple(sorted(r.score for r in reports))
    problems = []
    ids = [p.id for p in problem_set.problems]
    ids += sorted({v.id for r in reports for v in r.verdicts} - set(ids))
    for problem_id in ids:
        problem = problem_set.problem(problem_id)
        verdicts = [v for r in reports for v in r.verdicts if v.id == problem_id]
        groups = Counter(_GROUP_OF.get(v.status, "incorrect") for v in verdicts)
        diagnoses = Counter(code for v in verdicts for code in dict.fromkeys(v.diagnoses))
        ranked = sorted(diagnoses.items(), key=lambda item: (-item[1], item[0]))
        mistakes = Counter(str(v.evidence["mistake"]) for v in verdicts
                           if "author-mistake" in v.diagnoses and "mistake" in v.evidence)
        max_points = problem.points if problem else max((v.max_score for v in verdicts),
                                                        default=0.0)
        problems.append(ProblemSummary(
            problem_id, max_points, len(verdicts),
            tuple((g, groups.get(g, 0)) for g, _, _ in _GROUPS),
            statistics.fmean(v.score for v in verdicts) if verdicts else 0.0,
            tuple(ranked),
            tuple(sorted(mistakes.items(), key=lambda item: (-item[1], item[0])))))
    return Summary(len(reports), problem_set.max_score, scores,
                   statistics.fmean(scores) if scores else 0.0,
                   statistics.median(scores) if scores else 0.0, tuple(problems))


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
"""


def render(reports: Sequence[GradeReport], problem_set: ProblemSet) -> str:
    """The class report page for these graded submissions of ``problem_set``."""
    data = summary(reports, problem_set)
    title = problem_set.title or "Problem set"
    body = [f"<h1>Class report: {esc(title)}</h1>\n", _cards(data)]
    if not data.students:
        body.append('<p class="muted">No submissions were graded.</p>\n')
        return page(f"mcgrade class report: {title}", "".join(body), _CSS)
    body += ["<h2>Score distribution</h2>\n", _histogram(data),
             "<h2>Most common mistakes</h2>\n", _headlines(data),
             "<h2>Success rate per problem</h2>\n", _bars(data), _table(data),
             "<h2>Most frequent diagnoses per problem</h2>\n",
             _diagnoses(data, problem_set)]
    return page(f"mcgrade class report: {title}", "".join(body), _CSS)


def _pct(share: float) -> str:
    return f"{round(100 * share)}%"


def _cards(data: Summary) -> str:
    cards = [("students", str(data.students)),
             ("mean score", f"{points(round(data.mean, 2))}/{points(data.max_score)}"),
             ("median score", f"{points(round(data.median, 2))}/{points(data.max_score)}")]
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
    return [(low, high, n) for low, high, n in bins]


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
    for group, label, colour in _GROUPS:          # the legend
        out.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{x + 16}" y="16" font-size="12">{esc(label)}</text>')
        x += 16 + 8 * len(label) + 18
    for row, problem in enumerate(data.problems):
        y = top + row * row_h
        out.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" font-size="12">'
                   f"{esc(_short(problem.id))}</text>")
        x0 = float(left)
        for group, label, colour in _GROUPS:
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
            + "".join(f'<th class="num">{esc(label)}</th>' for _, label, _ in _GROUPS)
            + "</tr>")
    rows = []
    for p in data.problems:
        cells = "".join(f'<td class="num">{_pct(p.share(p.count(g)))}</td>'
                        for g, _, _ in _GROUPS)
        rows.append(f'<tr id="row-{esc(p.id)}"><td><span class="code">{esc(p.id)}</span></td>'
                    f'<td class="num">{points(p.points)}</td>'
                    f'<td class="num">{points(round(p.mean_score, 2))}</td>{cells}</tr>')
    return f'<table id="success-table">{head}{"".join(rows)}</table>\n'


def _headlines(data: Summary) -> str:
    found = [(p.share(n), code, n, p) for p in data.problems for code, n in p.diagnoses
             if code not in ("missing",)]
    found.sort(key=lambda item: (-item[0], item[3].id, item[1]))
    if not found:
        return '<p class="muted">No diagnoses: every answer was right.</p>\n'
    items = "".join(
        f"<li><strong>{_pct(share)}</strong> {esc(_phrase(code))} in "
        f'<span class="code">{esc(p.id)}</span> <span class="muted">({n} of {p.graded})'
        "</span></li>" for share, code, n, p in found[:HEADLINES])
    return f'<ul class="headlines">{items}</ul>\n'


def _phrase(code: str) -> str:
    return DIAGNOSIS_PHRASES.get(code, f"were diagnosed {code}")


def _mistakes(p: ProblemSummary) -> str:
    """Which of the author's mistakes were made, each by its answer, most frequent first."""
    if not p.mistakes:
        return ""
    return '<ul class="mistakes">' + "".join(
        f'<li><span class="code">{esc(answer)}</span> <span class="muted">({n})</span></li>'
        for answer, n in p.mistakes) + "</ul>"


def _diagnoses(data: Summary, problem_set: ProblemSet) -> str:
    out = []
    for p in data.problems:
        problem = problem_set.problem(p.id)
        out.append(f'<div class="problem-diagnoses" id="diagnoses-{esc(p.id)}">'
                   f'<h3><span class="code">{esc(p.id)}</span> — '
                   f"{_pct(p.share(p.count('correct')))} correct</h3>")
        if problem is not None and problem.prompt:
            out.append(f'<p class="prompt">{prose(problem.prompt)}</p>')
        if p.diagnoses:
            out.append("<ul>" + "".join(
                f"<li><strong>{_pct(p.share(n))}</strong> {esc(_phrase(code))} "
                f'<span class="muted">(<span class="code">{esc(code)}</span>, {n} of '
                f"{p.graded})</span>{_mistakes(p) if code == 'author-mistake' else ''}</li>"
                for code, n in p.diagnoses[:TOP_DIAGNOSES]) + "</ul>")
        else:
            out.append('<p class="muted">No diagnoses.</p>')
        out.append("</div>\n")
    return "".join(out)
