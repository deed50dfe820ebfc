"""The class's mistakes, closed into a loop, through the CLI on a generated class.

Eight students answer two problems: three spell the same wrong answer three ways, one
transposes, one makes the author's own mistake, two hand in files that can't be graded
(one named with a space and accents, so that its page's link needs percent-encoding).
The class report groups the answers by what they are; ``mcgrade mistakes`` prints the
uncovered group as a ``mistakes:`` entry, valid YAML; pasted into the set it validates,
and the same ``mcgrade grade`` then changes those three students' verdicts and no one
else's.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from mcgrade.batch import local, mistakes
from mcgrade.batch.ids import file_name
from mcgrade.batch.ledger import Ledger
from mcgrade.cli import main
from mcgrade.problemset import load_problem_set
from mcgrade.reporters import class_report, class_summary

SET = """\
title: Class mistakes
symbols:
  n: {dimension: true, sizes: [2, 3]}
  x: {shape: [n, 1]}
  A: {shape: [n, n]}
  b: {}
problems:
  - id: dcube
    derivative: {of: "b**3", wrt: b}
    mistakes:
      - {answer: "3*b", feedback: "The power rule lowers the exponent by one.", credit: 0}
  - id: quad
    points: 2
    prompt: "Find $\\\\partial (\\\\mathbf{x}^T A \\\\mathbf{x})/\\\\partial \\\\mathbf{x}$ (A is not symmetric)."
    derivative: {of: "x.T @ A @ x", wrt: x}
    partial_credit: {transposed: 0.5}
    mistakes:
      - {answer: "x.T @ A", feedback: "x appears twice in x.T @ A @ x: differentiate both.", credit: 0}
"""

SYMMETRIC = ["2*x.T @ A", "x.T @ A * 2", "x.T @ (A + A)"]   # one wrong answer, three ways

CLASS = {
    "alice": ("3*b**2", "x.T @ (A + A.T)"),
    "bob": ("3*b**3", SYMMETRIC[0]),
    "carol": ("b**3*3", SYMMETRIC[1]),
    "dan": ("3*b**2", SYMMETRIC[2]),
    "erin": ("3*b", "(A + A.T) @ x"),               # the author's mistake; transposed
    "José Núñez": ("3*b**2", "x.T @ A"),            # right; the author's mistake
}
UNGRADABLE = {"gus.py": "this is not python (", "hal.ipynb": '{"cells": ['}
FEEDBACK = "You treated A as symmetric: the derivative is x.T @ (A + A.T)."


def make_class(tmp_path: Path) -> tuple[Path, Path]:
    problems = tmp_path / "hw.yaml"
    problems.write_text(SET, encoding="utf-8")
    folder = tmp_path / "subs"
    folder.mkdir()
    for student, (dcube, quad) in CLASS.items():
        (folder / f"{student}.py").write_text(f"dcube = {dcube!r}\nquad = {quad!r}\n",
                                              encoding="utf-8")
    for name, text in UNGRADABLE.items():
        (folder / name).write_text(text, encoding="utf-8")
    return problems, folder


def grade(problems: Path, folder: Path, tmp_path: Path) -> int:
    return main(["grade", str(folder), "--problems", str(problems), "--out",
                 str(tmp_path / "results"), "--feedback", str(tmp_path / "feedback"),
                 "--jobs", "2"])


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The class graded once, for the tests that only read it."""
    tmp = tmp_path_factory.mktemp("class")
    problems, folder = make_class(tmp)
    assert grade(problems, folder, tmp) == 0
    return tmp


def groups_of(tmp: Path) -> dict[str, tuple[class_summary.AnswerGroup, ...]]:
    problem_set = load_problem_set(tmp / "hw.yaml")
    entries, _ = mistakes.read_entries(problem_set, tmp / "results")
    return mistakes.answer_groups(entries, problem_set).groups


def test_answers_are_grouped_by_what_they_are_not_how_they_are_spelt(graded: Path) -> None:
    groups = groups_of(graded)
    quad = groups["quad"]
    assert [(g.example, g.count, g.students, g.diagnoses, g.spellings, g.covered)
            for g in quad] == [
        ("2*x.T @ A", 3, ("bob", "carol", "dan"), ("not-equivalent",), 3, False),
        ("(A + A.T) @ x", 1, ("erin",), ("transposed",), 1, False),
        ("x.T @ A", 1, ("José Núñez",), ("author-mistake",), 1, True)]
    dcube = groups["dcube"]
    assert [(g.example, g.count, g.students, g.spellings, g.covered) for g in dcube] == [
        ("3*b**3", 2, ("bob", "carol"), 2, False), ("3*b", 1, ("erin",), 1, True)]


def test_the_class_report_lists_groups_roster_ungradable_and_items(graded: Path) -> None:
    page = (graded / "feedback" / "class_report.html").read_text(encoding="utf-8")
    assert "2*x.T @ A</span>" in page and "and 2 other spellings" in page
    for student in ("bob", "carol", "dan"):
        assert f'<a href="{student}.html">{student}</a>' in page
    # the roster links a percent-encoded page, encoded once more as a URL
    assert file_name("José Núñez") == "Jos%C3%A9%20N%C3%BA%C3%B1ez"
    assert '<a href="Jos%25C3%25A9%2520N%25C3%25BA%25C3%25B1ez.html">' in page
    assert (graded / "feedback" / "Jos%C3%A9%20N%C3%BA%C3%B1ez.html").is_file()
    # the submissions with nothing to grade, and why
    ungradable = page.split('id="ungradable"')[1].split("</ul>")[0]
    assert "gus" in ungradable and "was never closed" in ungradable
    assert "hal" in ungradable and "cut short" in ungradable
    assert 'id="item-analysis"' in page and 'id="roster"' in page


def test_item_analysis_is_the_corrected_item_total_correlation() -> None:
    from mcgrade.model import GradeReport, Verdict

    def report(q1: float, q2: float, q3: float) -> GradeReport:
        return GradeReport("s.py", "hw.yaml", tuple(
            Verdict(pid, "correct" if s else "incorrect", s, 1.0, (), "", "", {})
            for pid, s in (("q1", q1), ("q2", q2), ("q3", q3))))
    reports = [report(1, 1, 1), report(1, 1, 0), report(0, 0, 1), report(0, 0, 0)]
    stats = class_summary.item_stats(reports, "q1")
    assert stats is not None and stats.difficulty == 0.5
    # x = (1, 1, 0, 0), rest = (2, 1, 1, 0): r = 1 / sqrt(1 * 2)
    assert stats.discrimination == pytest.approx(2 ** -0.5)
    q3 = class_summary.item_stats(reports, "q3")
    assert q3 is not None and q3.discrimination == pytest.approx(0.0)
    assert q3.flag.startswith("low")
    same = class_summary.item_stats([report(1, 0, 0)] * 3, "q1")
    assert same is not None and same.discrimination is None and same.flag


def test_mistakes_prints_the_uncovered_groups_as_yaml_to_paste(graded: Path,
                                                               capsys) -> None:
    capsys.readouterr()
    assert main(["mistakes", str(graded / "hw.yaml"), str(graded / "results")]) == 0
    out = capsys.readouterr().out
    data = yaml.safe_load(out)
    by_id = {p["id"]: p for p in data["problems"]}
    assert by_id["quad"]["mistakes"] == [
        {"answer": "2*x.T @ A", "feedback": mistakes.PLACEHOLDER, "credit": 0}]
    assert by_id["dcube"]["mistakes"] == [
        {"answer": "3*b**3", "feedback": mistakes.PLACEHOLDER, "credit": 0}]
    # the transposed answer is mcgrade's own diagnosis, the author's mistake is covered
    assert ('"(A + A.T) @ x" (1 student): mcgrade diagnoses it itself (transposed), which '
            "its partial_credit (transposed: 0.5) credits already") in out
    assert "partial_credit: {" not in out          # quad has it: nothing to suggest
    assert '"x.T @ A"' not in out and '"3*b"' not in out
    assert '# 3 students, 3 spellings: "bob", "carol", "dan"' in out


def test_a_pasted_mistake_validates_and_regrading_changes_only_its_students(
        tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    problems, folder = make_class(tmp_path)
    assert grade(problems, folder, tmp_path) == 0
    results, feedback = tmp_path / "results", tmp_path / "feedback"
    before = {e.student: e for e in Ledger(results).entries()}
    pages = {p.name: p.read_bytes() for p in feedback.iterdir()}
    capsys.readouterr()
    assert main(["mistakes", str(problems), str(results)]) == 0
    printed = capsys.readouterr().out.splitlines()
    # paste the quad entry (quad is the set's last problem; mistakes its last key)
    start = printed.index('      - answer: "2*x.T @ A"')
    entry = printed[start:start + 4]
    pasted = "\n".join(entry).replace(mistakes.PLACEHOLDER, FEEDBACK) \
        .replace("credit: 0", "credit: 0.5")
    problems.write_text(SET + pasted + "\n", encoding="utf-8")
    assert main(["validate", str(problems)]) == 0
    capsys.readouterr()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a submission ran")
    monkeypatch.setattr(local, "read_many", refuse)
    assert grade(problems, folder, tmp_path) == 0
    said = capsys.readouterr().out
    assert "mcgrade: quad changed: 3 students gain 1 point (bob, carol, dan), 5 unchanged" \
        in said
    after = {e.student: e for e in Ledger(results).entries()}
    assert set(after) == set(before)
    for student, entry in after.items():
        old = {v.id: v for v in before[student].report.verdicts}
        for verdict in entry.report.verdicts:
            if student in ("bob", "carol", "dan") and verdict.id == "quad":
                assert verdict.status == "partial" and verdict.score == 1.0
                assert verdict.diagnoses == ("author-mistake",)
                assert verdict.feedback == FEEDBACK
            else:
                assert verdict == old[verdict.id], (student, verdict.id)
    # the other students' pages are byte for byte the same; the three show the feedback
    for student in CLASS:
        name = f"{file_name(student)}.html"
        page = (feedback / name).read_bytes()
        if student in ("bob", "carol", "dan"):
            assert FEEDBACK.encode() in page and page != pages[name]
        else:
            assert page == pages[name], student
    # the group is now covered: it is no longer proposed
    assert main(["mistakes", str(problems), str(results)]) == 0
    again = yaml.safe_load(capsys.readouterr().out)
    quad = next(p for p in again["problems"] if p["id"] == "quad")
    assert "mistakes" not in quad
    report = json.loads((results / "grades.json").read_text(encoding="utf-8"))
    assert len(report) == 8


@pytest.mark.parametrize("empty", ["mistakes: []", "mistakes:", "mistakes: [ ]  # none yet"])
def test_an_empty_mistakes_key_is_replaced_and_the_paste_validates(
        tmp_path: Path, capsys, empty: str) -> None:
    problems, folder = make_class(tmp_path)
    assert grade(problems, folder, tmp_path) == 0
    start = SET.index("    mistakes:\n      - {answer: \"3*b\"")
    end = SET.index("  - id: quad")
    problems.write_text(SET[:start] + f"    {empty}\n" + SET[end:], encoding="utf-8")
    capsys.readouterr()
    assert main(["mistakes", str(problems), str(tmp_path / "results")]) == 0
    printed = capsys.readouterr().out.splitlines()
    key = next(i for i, text in enumerate(printed) if "replace `" in text)
    line = SET[:start].count("\n") + 1
    assert printed[key] == f"    mistakes:  # replace `{empty.strip()}` (line {line}) with this"
    source = problems.read_text(encoding="utf-8").splitlines()
    source[line - 1:line] = printed[key:key + 5]          # the key and its entry
    problems.write_text("\n".join(source) + "\n", encoding="utf-8")
    assert main(["validate", str(problems)]) == 0, capsys.readouterr().out
    dcube = next(p for p in load_problem_set(problems).problems if p.id == "dcube")
    assert [m.answer for m in dcube.mistakes] == ["3*b**3"]


def test_mistakes_refuses_records_of_another_problem_set(graded: Path, capsys) -> None:
    other = graded / "hw2.yaml"
    other.write_text(SET.replace("title: Class mistakes", "title: Homework 2"),
                     encoding="utf-8")
    capsys.readouterr()
    assert main(["mistakes", str(other), str(graded / "results")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "holds records graded against hw.yaml, not hw2.yaml" in err
    # an earlier version of the same set is fine: checked against it as it is now
    edited = graded / "edited" / "hw.yaml"
    edited.parent.mkdir()
    edited.write_text(SET.replace("lowers the exponent", "lowers the power"),
                      encoding="utf-8")
    assert main(["mistakes", str(edited), str(graded / "results")]) == 0
    assert "were graded against another version of hw.yaml" in capsys.readouterr().out


def test_mistakes_says_what_to_do_without_records(tmp_path: Path, capsys) -> None:
    problems = tmp_path / "hw.yaml"
    problems.write_text(textwrap.dedent(SET), encoding="utf-8")
    assert main(["mistakes", str(problems), str(tmp_path / "nothing")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no such folder of records" in err
    assert "mcgrade grade" in err


# --- docs/term.md: every command of the term guide works, in its order ---------------------

TERM = Path(__file__).parent.parent / "docs" / "term.md"


def guide_commands() -> list[list[str]]:
    """The ``$ mcgrade …`` lines of the guide's console blocks, as argument lists."""
    import shlex

    text = TERM.read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n(.*?)```", text, re.DOTALL)
    return [shlex.split(line[2:])[1:] for block in blocks for line in block.splitlines()
            if line.startswith("$ mcgrade ")]


def test_every_command_of_the_term_guide_works(tmp_path: Path, capsys, monkeypatch) -> None:
    problems, folder = make_class(tmp_path)
    problems.rename(tmp_path / "hw1.yaml")
    folder.rename(tmp_path / "submissions")
    (tmp_path / "overrides.csv").write_text(
        "student,problem,points,comment\nerin,quad,2,Transposes accepted this week\n",
        encoding="utf-8")
    (tmp_path / "extensions.csv").write_text("student,deadline\nbob,+2d\n", encoding="utf-8")
    (tmp_path / "roster.csv").write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Class mistakes\n"
        "Points Possible,,,,,3\n" + "".join(
            f"{s.title()},{i},{s},{s},A,\n" for i, s in enumerate(CLASS, 1)),
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    commands = guide_commands()
    assert [c[0] for c in commands] == ["validate", "notebook", "publish", "grade",
                                        "mistakes", "grade", "grade", "grade"]
    for command in commands:
        assert main(command) == 0, (command, capsys.readouterr())
    said = capsys.readouterr()
    assert "2*x.T @ A" in said.out
    assert (tmp_path / "student" / "hw1.ipynb").is_file()
    assert (tmp_path / "results" / "canvas.csv").is_file()
    assert (tmp_path / "results" / "moodle.csv").is_file()
    assert (tmp_path / "feedback" / "class_report.html").is_file()


def test_student_ids_and_answers_can_t_inject_lines_into_the_yaml(tmp_path: Path,
                                                                  capsys) -> None:
    problems, folder = make_class(tmp_path)
    evil = {                     # ids from file names, answers as a student wrote them
        'eve\n    - answer: "x"\n      credit: 1 #': ("3*b**3", "x.T @ A * 2"),
        "mal\u2028- answer: y\x85credit: 1": ("3*b**3", "x.T @ A * 2"),
        "nul\x01\x9f\ufffe": ("3*b**3", "2*(x.T @ A)"),
    }
    for student, (dcube, quad) in evil.items():
        (folder / f"{student}.py").write_text(f"dcube = {dcube!r}\nquad = {quad!r}\n",
                                              encoding="utf-8")
    (folder / "zed.py").write_text(            # an answer with line breaks of its own
        "dcube = '3*b**3 \\n  - answer: \"z\"\\u2028'\nquad = '2*x.T @ A'\n",
        encoding="utf-8")
    assert grade(problems, folder, tmp_path) == 0
    capsys.readouterr()
    assert main(["mistakes", str(problems), str(tmp_path / "results")]) == 0
    out = capsys.readouterr().out
    data = yaml.safe_load(out)                  # always YAML
    entries = [m for p in data["problems"] for m in p.get("mistakes", [])]
    assert len(entries) == 2                    # dcube's and quad's: never one more
    assert entries[0]["answer"] == "3*b**3"
    assert all(m["credit"] == 0 for m in entries)
    assert all(set(m) == {"answer", "feedback", "credit"} for m in entries)
    # every id is there, escaped, in the comment of its group
    assert '"eve\\n    - answer: \\"x\\"\\n      credit: 1 #"' in out
    assert '"mal\\u2028- answer: y\\u0085credit: 1"' in out
    assert '"nul\\u0001\\u009f\\ufffe"' in out
    assert "\u2028" not in out and "\x85" not in out


def test_a_grouping_cut_short_is_left_unmerged_and_said(graded: Path, monkeypatch) -> None:
    from mcgrade.errors import CheckAbandoned
    from mcgrade.grading import Grader

    problem_set = load_problem_set(graded / "hw.yaml")
    entries, _ = mistakes.read_entries(problem_set, graded / "results")
    grader = Grader(problem_set)
    quiet = mistakes.answer_groups(entries, problem_set, grader)
    assert quiet.cut_short == ()

    def busy(self: Grader, problem: object, answer: object) -> object:
        raise CheckAbandoned("this machine could not finish checking it within 60 s")
    monkeypatch.setattr(Grader, "outcome", busy)
    loud = mistakes.answer_groups(entries, problem_set, grader)
    assert loud.cut_short == ("dcube", "quad")
    # unmerged, never merged wrongly: the three spellings of quad stay apart
    assert [g.count for g in loud.groups["quad"]] == [1, 1, 1, 1, 1]
    page = class_report.render([e.report for e in entries], problem_set,
                               groups=loud.groups, cut_short=loud.cut_short)
    assert ('Grouping of <span class="code">quad</span> was cut short on this machine; '
            "run again") in page
    quiet_page = class_report.render([e.report for e in entries], problem_set,
                                     groups=quiet.groups, cut_short=quiet.cut_short)
    assert "cut-short" not in quiet_page


def test_the_class_report_uses_the_batch_s_grader(tmp_path: Path, monkeypatch) -> None:
    """The set is compiled once per batch: the report groups with the batch's grader."""
    from mcgrade.grading import Grader

    made: list[Grader] = []
    real = Grader.__init__

    def counted(self: Grader, *args: object, **kwargs: object) -> None:
        made.append(self)
        real(self, *args, **kwargs)             # type: ignore[arg-type]
    monkeypatch.setattr(Grader, "__init__", counted)
    problems, folder = make_class(tmp_path)
    assert grade(problems, folder, tmp_path) == 0
    problem_set = load_problem_set(problems)
    whole = [g for g in made if g.problem_set.problems == problem_set.problems]
    assert len(whole) == 1, "the set was compiled more than once"


def test_every_diagnosis_has_words() -> None:
    from mcgrade.model import Diagnosis
    from mcgrade.reporters import diagnosis_words

    assert set(diagnosis_words.WORDS) == set(Diagnosis)
    for code in Diagnosis:
        words = diagnosis_words.WORDS[code]
        assert words.label and words.phrase, code
        assert diagnosis_words.label(code.value) == words.label
        assert not diagnosis_words.phrase(code.value).startswith("were diagnosed")
    assert diagnosis_words.label("new-code") == ""
    assert diagnosis_words.phrase("new-code") == "were diagnosed new-code"
