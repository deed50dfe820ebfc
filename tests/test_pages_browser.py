"""The HTML pages in a real headless Chromium: what a person would see is there.

Each page is written to a temporary directory and opened from ``file://`` with the network
machinery off. Two views are checked:

* the page as shipped (``--dump-dom``): the DOM Chromium built holds no element a
  student's text could have injected, and the MathML elements are there;
* a copy with a small probe script appended (and the page's no-script CSP removed, which
  is the only change): the probe records ``document.body.innerText`` — the text as laid
  out, what a person reads — and whether each fraction's numerator is drawn above its
  denominator, i.e. the math is really typeset as MathML rather than run together.

CI installs Chromium (``.ci/run``: ``apt-get install chromium``); without it these tests
skip and say so. A screenshot of each page is written too (kept in the pytest tmp dir).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mcgrade.reporters import class_report, html_feedback
from tests.test_pages import alice, bob, class_reports, problem_set

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser",
                                                       "google-chrome")) if p), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium installed (CI installs it: apt-get install "
                             "chromium); the pages' browser tests need a real browser")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars"]

PROBE = """<script>
(function () {
  var fracs = Array.prototype.slice.call(document.querySelectorAll('mfrac'));
  var stacked = fracs.filter(function (f) {
    var a = f.children[0].getBoundingClientRect(), b = f.children[1].getBoundingClientRect();
    return a.bottom <= b.top + 1 && a.height > 0 && b.height > 0;
  }).length;
  var maths = Array.prototype.slice.call(document.querySelectorAll('math'));
  var shown = maths.filter(function (m) { return m.getBoundingClientRect().width > 0; });
  var svgs = Array.prototype.slice.call(document.querySelectorAll('svg'));
  var seen = {
    text: document.body.innerText,
    title: document.title,
    math: maths.length, mathShown: shown.length,
    fracs: fracs.length, fracsStacked: stacked,
    svgShown: svgs.filter(function (s) { return s.getBoundingClientRect().height > 50; }).length,
    rects: document.querySelectorAll('svg rect').length,
    scripts: document.querySelectorAll('script').length,
    images: document.querySelectorAll('img, iframe, object, embed').length
  };
  var pre = document.createElement('pre');
  pre.id = 'mcgrade-probe';
  pre.textContent = JSON.stringify(seen);
  document.documentElement.appendChild(pre);
})();
</script>"""


def _chromium(tmp: Path, *args: str) -> str:
    profile = tmp / "profile"
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def dump_dom(page: str, tmp: Path, name: str) -> str:
    path = tmp / f"{name}.html"
    path.write_text(page, encoding="utf-8")
    return _chromium(tmp, "--dump-dom", path.as_uri())


def seen(page: str, tmp: Path, name: str) -> dict:
    """What the probe saw: the visible text and facts about the layout."""
    probed = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n', "", page)
    assert probed != page
    probed = probed.replace("</body>", PROBE + "\n</body>")
    dom = dump_dom(probed, tmp, f"{name}.probed")
    match = re.search(r'<pre id="mcgrade-probe">(.*?)</pre>', dom, re.DOTALL)
    assert match, dom[-2000:]
    return json.loads(html.unescape(match.group(1)))


def screenshot(page: str, tmp: Path, name: str) -> Path:
    path = tmp / f"{name}.html"
    path.write_text(page, encoding="utf-8")
    png = tmp / f"{name}.png"
    _chromium(tmp, "--window-size=1000,1800", f"--screenshot={png}", path.as_uri())
    return png


def _lines(text: str) -> str:
    return re.sub(r"[ \t\u00a0]+", " ", text)


def test_feedback_page_shows_score_statuses_math_and_hostile_text_as_text(
        tmp_path: Path) -> None:
    report, answers = alice()
    page = html_feedback.render(report, problem_set(), answers)
    view = seen(page, tmp_path, "alice")
    text = _lines(view["text"])
    assert "Total: 2/6 points (33%)" in text
    for status in ("Partial credit", "Incorrect", "Correct"):
        assert status in text
    for points in ("1/2 points", "0/2 points", "1/1 points", "0/1 points"):
        assert points in text
    assert "transposed" in text and "Checked numerically at 24 points." in text
    # the hostile string is shown, literally, as text — three times — and did nothing
    assert text.count('<script>alert("x")</script><img src=x onerror=alert(1)>') == 3
    assert view["scripts"] == 1            # the probe only
    assert view["images"] == 0
    # math is typeset: every <math> has a box, every fraction is stacked
    assert view["math"] >= 6 and view["mathShown"] == view["math"]
    assert view["fracs"] >= 2 and view["fracsStacked"] == view["fracs"]
    assert view["title"] == "mcgrade: Pages <fixture> & co: alice <b>.py"


def test_feedback_page_as_shipped_has_no_injected_elements(tmp_path: Path) -> None:
    report, answers = alice()
    dom = dump_dom(html_feedback.render(report, problem_set(), answers), tmp_path, "alice")
    assert "<script" not in dom and "<img" not in dom
    assert dom.count("&lt;script&gt;") == 3
    assert dom.count("<math") >= 6 and "<mfrac>" in dom and "<mtable>" in dom
    assert 'id="problem-dz_dw"' in dom and 'id="problem-at_pt"' in dom


def test_feedback_page_without_answers(tmp_path: Path) -> None:
    view = seen(html_feedback.render(bob(), problem_set()), tmp_path, "bob")
    text = _lines(view["text"])
    assert "Total: 4/6 points" in text and "Missing" in text and "No answer named at_pt." in text
    assert "YOUR ANSWER" not in text.upper()


def test_class_report_shows_counts_rates_plots_and_diagnoses(tmp_path: Path) -> None:
    page = class_report.render(class_reports(), problem_set())
    view = seen(page, tmp_path, "class")
    text = _lines(view["text"])
    assert "17\nstudents" in text
    assert "mean score" in text and "median score" in text
    assert "41% transposed the answer in dz_dw (7 of 17)" in text
    assert "Success rate per problem" in text and "Score distribution" in text
    for problem_id in ("dz_dw", "jac", "shape_q", "at_pt"):
        assert problem_id in text
    assert view["svgShown"] == 2 and view["rects"] > 10      # the two plots are drawn
    assert view["mathShown"] == view["math"] > 0            # the prompts' math


def test_screenshots_are_taken(tmp_path: Path) -> None:
    report, answers = alice()
    for name, page in (("alice", html_feedback.render(report, problem_set(), answers)),
                       ("class", class_report.render(class_reports(), problem_set()))):
        png = screenshot(page, tmp_path, name)
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000, name



# --- the class report of a real class, graded through the CLI ------------------------------

LINKS = """<script>
(function () {
  var links = Array.prototype.slice.call(document.querySelectorAll('a[href]'));
  var ids = ['histogram', 'success-rates', 'item-analysis', 'ungradable', 'roster'];
  var seen = {
    links: links.map(function (a) { return [a.textContent, a.href]; }),
    sections: ids.filter(function (id) {
      var e = document.getElementById(id);
      return e && e.getBoundingClientRect().height > 0;
    }),
    groups: document.querySelectorAll('table.groups tr').length,
    // the roster (a column per problem) scrolls in its own box, not the page
    rosterBox: getComputedStyle(document.getElementById('roster').parentElement).overflowX,
    pageWider: document.documentElement.scrollWidth > window.innerWidth,
    text: document.body.innerText
  };
  var pre = document.createElement('pre');
  pre.id = 'mcgrade-links';
  pre.textContent = JSON.stringify(seen);
  document.documentElement.appendChild(pre);
})();
</script>"""


def test_class_report_of_a_graded_class_links_every_student_and_renders(
        tmp_path: Path) -> None:
    from urllib.parse import unquote, urlparse

    from tests.test_class_mistakes import CLASS, grade, make_class

    problems, folder = make_class(tmp_path)
    assert grade(problems, folder, tmp_path) == 0
    report = tmp_path / "feedback" / "class_report.html"
    shipped = report.read_text(encoding="utf-8")
    # as shipped: Chromium logs no script error and no refused content
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                             "--enable-logging=stderr", "--v=0", "--dump-dom",
                             report.as_uri()], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "Refused" in line], console
    assert "<script" not in result.stdout and 'id="roster"' in result.stdout
    # a copy beside it, with a probe: every link resolves to a page the batch wrote
    probed = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n', "", shipped)
    probed = probed.replace("</body>", LINKS + "\n</body>")
    copy = report.with_name("class_report.probed.html")
    copy.write_text(probed, encoding="utf-8")
    dom = _chromium(tmp_path, "--dump-dom", copy.as_uri())
    match = re.search(r'<pre id="mcgrade-links">(.*?)</pre>', dom, re.DOTALL)
    assert match, dom[-2000:]
    view = json.loads(html.unescape(match.group(1)))
    targets = {text: Path(unquote(urlparse(href).path)) for text, href in view["links"]}
    students = set(CLASS) | {"gus", "hal"}
    assert set(targets) == students
    for student, target in targets.items():
        assert target.parent == report.parent and target.is_file(), (student, target)
        assert student in html.unescape(target.read_text(encoding="utf-8")), student
    assert view["sections"] == ["histogram", "success-rates", "item-analysis", "ungradable",
                                "roster"]
    assert view["groups"] >= 4                    # a header and a row per group shown
    assert (view["rosterBox"], view["pageWider"]) == ("auto", False)
    text = _lines(view["text"])
    assert "Submissions with nothing to grade" in text and "Roster" in text
    assert "2*x.T @ A and 2 other spellings" in text
