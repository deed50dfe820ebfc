"""Per-student variants: `params:` values seeded from the student id, substituted into the
prompt, the expressions and the sizes; grading picks the variant from the student id."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mcgrade import Answer, Grader
from mcgrade.authoring.validate import validate_file
from mcgrade.errors import ProblemSetError
from mcgrade.grading import grade_file
from mcgrade.model import Param
from mcgrade.problemset import for_student, load_problem_set, parse_problem_set
from mcgrade.problemset.params import choose

SET = textwrap.dedent("""\
    title: Scaled gradients
    params:
      a: {range: [2, 9]}
      k: {choices: [2, 3, 4], default: 3}
      f: {choices: [sin, cos]}
    symbols:
      n: {dimension: true, sizes: ["{k}"]}
      x: {shape: [n, 1]}
      t: {}
    problems:
      - id: scaled
        prompt: "Find the gradient of ${a}\\\\,x^Tx$ for $x$ with {k} entries."
        derivative: {of: "{a} * x.T @ x", wrt: x}
        answer: "2 * {a} * x.T"
      - id: wave
        prompt: Differentiate {f}({a} t).
        derivative: {of: "{f}({a}*t)", wrt: t}
    """)


def student_answers(problem_set) -> dict[str, Answer]:
    """The right answers of one variant, written out the way that student would."""
    a = dict(problem_set.variant)["a"]
    f = dict(problem_set.variant)["f"]
    wave = f"{a}*cos({a}*t)" if f == "sin" else f"-{a}*sin({a}*t)"
    return {"scaled": Answer("string", text=f"{2 * a} * x.T"),
            "wave": Answer("string", text=wave)}


def test_the_default_variant_and_its_substitutions() -> None:
    base = parse_problem_set(SET, "scaled.yaml")
    assert base.params == (
        Param("a", (2, 3, 4, 5, 6, 7, 8, 9), 2, base.params[0].location),
        Param("k", (2, 3, 4), 3, base.params[1].location),
        Param("f", ("sin", "cos"), "sin", base.params[2].location))
    assert base.params[0].location.line == 3
    assert base.variant == (("a", 2), ("k", 3), ("f", "sin")) and base.student == ""
    scaled, wave = base.problems
    assert scaled.prompt == "Find the gradient of $2\\,x^Tx$ for $x$ with 3 entries."
    assert (scaled.of, scaled.answer) == ("2 * x.T @ x", "2 * 2 * x.T")
    assert wave.of == "sin(2*t)" and wave.prompt == "Differentiate sin(2 t)."
    assert base.dimensions[0].sizes == (3,)     # "{k}" alone became the number 3


def test_a_student_always_gets_the_same_variant_by_a_stable_hash() -> None:
    params = parse_problem_set(SET).params
    # fixed expectations: a change of hashing would silently re-deal every student's variant
    assert choose(params, "alice") == (("a", 3), ("k", 3), ("f", "sin"))
    assert choose(params, " ALICE ") == choose(params, "alice")
    assert choose(params, "bob") == (("a", 6), ("k", 2), ("f", "cos"))
    assert choose(params, None) == choose(params, "") == (("a", 2), ("k", 3), ("f", "sin"))


def test_two_students_get_different_variants_each_graded_correctly() -> None:
    base = parse_problem_set(SET, "scaled.yaml")
    alice, bob = for_student(base, "alice"), for_student(base, "bob")
    assert alice.variant != bob.variant and alice.student == "alice"
    assert alice.dimensions[0].sizes == (3,) and bob.dimensions[0].sizes == (2,)
    grader = Grader(base)
    for variant in (alice, bob):
        mine = grader.for_student(variant.student)
        assert mine.problem_set.variant == variant.variant
        report = mine.grade(student_answers(variant))
        assert report.score == report.max_score == 2
    wrong = grader.for_student("alice").grade(student_answers(bob))
    assert [v.status for v in wrong.verdicts] == ["incorrect", "incorrect"]
    assert grader.for_student("ALICE") is grader.for_student("alice")


def test_grading_a_file_picks_the_variant_from_its_name(tmp_path: Path) -> None:
    problems = tmp_path / "scaled.yaml"
    problems.write_text(SET, encoding="utf-8")
    base = load_problem_set(problems)
    bob = for_student(base, "bob")
    answers = student_answers(bob)
    submission = tmp_path / "bob.py"
    submission.write_text("".join(f"{k} = {v.text!r}\n" for k, v in answers.items()),
                          encoding="utf-8")
    assert grade_file(submission, Grader(base)).score == 2
    assert grade_file(submission, Grader(base), student="alice").score == 0


def test_validate_checks_several_variants_and_says_which(tmp_path: Path) -> None:
    path = tmp_path / "scaled.yaml"
    path.write_text(SET.replace('answer: "2 * {a} * x.T"', 'answer: "2 * 3 * x.T"'),
                    encoding="utf-8")
    report = validate_file(path)
    assert report.variants == 6        # default, all-low, all-high, three students
    (finding,) = report.findings       # one finding, in every variant where a != 3
    assert finding.line == 14 and finding.code == "answer-key"
    assert finding.variants[0] == "a=2, k=3, f=sin" and len(finding.variants) == 5
    assert str(finding).endswith("[variant a=2, k=3, f=sin and 4 more]")


def test_validate_reports_a_variant_that_breaks_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "sizes.yaml"
    path.write_text(SET.replace("k: {choices: [2, 3, 4], default: 3}",
                                "k: {choices: [2, 3, 60], default: 3}"), encoding="utf-8")
    (finding,) = validate_file(path).findings
    assert str(finding) == (f"{path}:7: error: symbols → n → sizes[0]: expected a whole "
                            f"number from 1 to 50, got 60 [variant a=9, k=60, f=cos and 2 more]")


@pytest.mark.parametrize("params, message", [
    ("a: {range: [2, 9], choices: [1]}", "params → a → give either range or choices, for "
                                         "example: range: [2, 9]"),
    ("x: {range: [1, 2]}", "params: 'x' is already a symbol; give the param another name"),
    ("exp: {range: [1, 2]}", "params: 'exp' is already a function of the expression "
                             "language; give the param another name"),
    ("a: {range: [3, 1]}", "params → a → range: [3, 1] is empty; write [low, high] with "
                           "low ≤ high"),
    ("a: {choices: [1, 2], default: 5}", "params → a → default: 5 is not one of a's values; "
                                         "choose one of 1, 2"),
    ("a: {choices: [1, 1]}", "params → a → choices[1]: 1 is listed twice; remove one"),
    ("a: {range: [1, 2], stpe: 1}", "params → a → 'stpe' is not a key here; did you mean "
                                    "'step'?"),
])
def test_bad_params_are_reported_with_line_and_fix(params: str, message: str) -> None:
    text = f"title: T\nparams:\n  {params}\nsymbols:\n  x: {{}}\nproblems:\n  - id: q\n" \
           f"    answer: x\n"
    with pytest.raises(ProblemSetError) as caught:
        parse_problem_set(text, "p.yaml")
    assert str(caught.value) == f"p.yaml:3: {message}"


def test_placeholders_that_are_not_params_or_unquoted_are_explained() -> None:
    text = SET.replace('of: "{a} * x.T @ x"', 'of: "{b} * x.T @ x"')
    with pytest.raises(ProblemSetError) as caught:
        parse_problem_set(text, "p.yaml")
    assert str(caught.value) == ("p.yaml:13: problems[0] (id='scaled') → derivative → of: {b} "
                                 "is not a declared param (params: a, k, f); declare it under "
                                 "'params:' or fix the name")
    with pytest.raises(ProblemSetError) as caught:
        parse_problem_set(SET.replace('sizes: ["{k}"]', "sizes: [{k}]"), "p.yaml")
    assert str(caught.value) == ('p.yaml:7: symbols → n → sizes[0]: {k} was read as a '
                                 'mapping; put the placeholder in quotes: "{k}"')


def test_decimal_ranges_are_exact_and_a_published_copy_has_no_params() -> None:
    text = "title: T\nparams:\n  s: {range: [0.5, 2], step: 0.5}\nsymbols:\n  x: {}\n" \
           "problems:\n  - id: q\n    answer: \"{s} * x\"\n"
    assert parse_problem_set(text).params[0].values == (0.5, 1, 1.5, 2)
    assert parse_problem_set(text, values={"s": 1.5}).problems[0].answer == "1.5 * x"
    with pytest.raises(ProblemSetError) as caught:
        parse_problem_set(text.replace("title: T", "title: T\npublished: true"), "p.yaml")
    assert str(caught.value) == ("p.yaml:4: params: a published copy is one student's "
                                 "variant and has no params; publish with --student ID")
