"""The problem-set loader: a set using every key loads to exact values, and every broken
rule is reported word for word with file:line and a breadcrumb."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mcgrade.errors import ProblemSetError
from mcgrade.model import (
    Dimension,
    Domain,
    Location,
    Mistake,
    Problem,
    ProblemSet,
    SymbolDecl,
    Tolerance,
)
from mcgrade.problemset import SCHEMA, load_problem_set, parse_problem_set
from mcgrade.problemset.schema import MISTAKE, PROBLEM, SET, TOLERANCE

FULL = r'''
title: Neuron and friends
layout: denominator
orientation: lenient
tolerance: {rtol: 1.0e-5, atol: 1e-8}
timeout: 5
symbols:
  n: {dimension: true, sizes: [2, 3, 5]}
  N: {dimension: true, sizes: [4]}
  x: {shape: [n]}
  w: {shape: [n, 1]}
  X: {shape: [N, n]}
  y: {shape: [N, 1]}
  A: {shape: [n, n], symmetric: true, diagonal: true, invertible: true}
  M: {shape: [2, 3], domain: [-1, 1]}
  b: {}
  s: {domain: positive}
  t: {domain: nonzero}
problems:
  - id: dz_dw
    points: 2.5
    name: grad_w
    prompt: "Find $\\partial z/\\partial \\mathbf{w}$."
    derivative: {of: "w.T @ x + b", wrt: w}
    answer: "x"
    partial_credit: {transposed: 0.5, sign: 0.25}
    mistakes:
      - {answer: "x.T", feedback: "Denominator layout: a column.", credit: 0.5}
      - answer: 0
        feedback: Not zero.
    hints: ["w.T @ x is a dot product."]
    forbid: [diff, Derivative]
    domain: {b: nonnegative, s: [1, 2]}
    tolerance: {rtol: 1.0e-3}
    timeout: 30
  - id: hess
    hessian: {of: "x.T @ A @ x", wrt: x}
  - id: jac_shape
    shape: {of: "X @ w", wrt: w}
  - id: grad_st
    derivative: {of: "s**2 * t", wrt: [s, t]}
    at: {s: 1, t: "1/2"}
  - id: grad_fn
    derivative:
      of: "sum((X @ w - y)**2)"
      wrt: w
    form: function
    signature: [w, X, y]
  - id: elementwise
    answer: "diag(w)"
    at: {w: [[1], [2]], M: [[1, 2, 3], [4, 5.5, "1/3"]]}
    hints: Use diag.
'''.lstrip("\n")


def write(tmp_path: Path, text: str, name: str = "hw1.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str, tail: str = "") -> str:
    """The message loading ``text`` (dedented) then ``tail`` from hw1.yaml raises."""
    path = write(tmp_path, textwrap.dedent(text).lstrip("\n") + tail)
    with pytest.raises(ProblemSetError) as info:
        load_problem_set(path)
    return str(info.value)


def test_full_set_loads_to_exact_values(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    p = str(path)

    def at(line: int) -> Location:
        return Location(p, line)

    real = Domain()
    expected = ProblemSet(
        title="Neuron and friends", layout="denominator", orientation="lenient",
        tolerance=Tolerance(1e-5, 1e-8), timeout=5.0, path=p,
        dimensions=(Dimension("n", (2, 3, 5), at(7)), Dimension("N", (4,), at(8))),
        symbols=(
            SymbolDecl("x", ("n", 1), real, location=at(9)),
            SymbolDecl("w", ("n", 1), real, location=at(10)),
            SymbolDecl("X", ("N", "n"), real, location=at(11)),
            SymbolDecl("y", ("N", 1), real, location=at(12)),
            SymbolDecl("A", ("n", "n"), real, True, True, True, location=at(13)),
            SymbolDecl("M", (2, 3), Domain("interval", -1.0, 1.0), location=at(14)),
            SymbolDecl("b", None, real, location=at(15)),
            SymbolDecl("s", None, Domain("positive"), location=at(16)),
            SymbolDecl("t", None, Domain("nonzero"), location=at(17)),
        ),
        problems=(
            Problem(
                id="dz_dw", kind="derivative", points=2.5, name="grad_w",
                prompt=r"Find $\partial z/\partial \mathbf{w}$.",
                of="w.T @ x + b", wrt=("w",), answer="x",
                partial_credit=(("transposed", 0.5), ("sign", 0.25)),
                mistakes=(Mistake("x.T", "Denominator layout: a column.", 0.5, at(27)),
                          Mistake("0", "Not zero.", 0.0, at(28))),
                hints=("w.T @ x is a dot product.",), forbid=("diff", "Derivative"),
                domains=(("b", Domain("nonnegative")), ("s", Domain("interval", 1.0, 2.0))),
                tolerance=Tolerance(1e-3, 1e-8), timeout=30.0, location=at(19),
                key_lines=(
                    ("id", 19), ("points", 20), ("name", 21), ("prompt", 22),
                    ("derivative", 23), ("answer", 24), ("partial_credit", 25),
                    ("mistakes", 26), ("hints", 30), ("forbid", 31), ("domain", 32),
                    ("tolerance", 33), ("timeout", 34), ("of", 23), ("wrt", 23),
                    ("partial_credit.transposed", 25), ("partial_credit.sign", 25),
                    ("mistakes[0]", 27), ("mistakes[0].answer", 27),
                    ("mistakes[0].feedback", 27), ("mistakes[0].credit", 27),
                    ("mistakes[1]", 28), ("mistakes[1].answer", 28),
                    ("mistakes[1].feedback", 29), ("domain.b", 32), ("domain.s", 32))),
            Problem(id="hess", kind="hessian", of="x.T @ A @ x", wrt=("x",), location=at(35),
                    key_lines=(("id", 35), ("hessian", 36), ("of", 36), ("wrt", 36))),
            Problem(id="jac_shape", kind="shape", of="X @ w", wrt=("w",), location=at(37),
                    key_lines=(("id", 37), ("shape", 38), ("of", 38), ("wrt", 38))),
            Problem(id="grad_st", kind="derivative", of="s**2 * t", wrt=("s", "t"),
                    wrt_is_list=True, at=(("s", 1), ("t", "1/2")), location=at(39),
                    key_lines=(("id", 39), ("derivative", 40), ("at", 41), ("of", 40),
                               ("wrt", 40), ("at.s", 41), ("at.t", 41))),
            Problem(id="grad_fn", kind="derivative", of="sum((X @ w - y)**2)", wrt=("w",),
                    form="function", signature=("w", "X", "y"), location=at(42),
                    key_lines=(("id", 42), ("derivative", 43), ("form", 46),
                               ("signature", 47), ("of", 44), ("wrt", 45))),
            Problem(id="elementwise", kind="answer", answer="diag(w)",
                    at=(("w", ((1,), (2,))), ("M", ((1, 2, 3), (4, 5.5, "1/3")))),
                    hints=("Use diag.",), location=at(48),
                    key_lines=(("id", 48), ("answer", 49), ("at", 50), ("hints", 51),
                               ("at.w", 50), ("at.M", 50))),
        ),
    )
    loaded = load_problem_set(path)
    for mine, theirs in zip(loaded.problems, expected.problems):
        assert mine == theirs
    assert loaded == expected
    assert loaded.problems[0].line_of("mistakes[1].feedback") == 29
    assert loaded.problems[0].line_of("no-such-key") == 19
    assert parse_problem_set(FULL, p) == expected


def test_schema_defaults_agree_with_the_model() -> None:
    assert SET.default("layout") == ProblemSet.layout
    assert SET.default("orientation") == ProblemSet.orientation
    assert SET.default("timeout") == ProblemSet.timeout
    assert (TOLERANCE.default("rtol"), TOLERANCE.default("atol")) == (
        Tolerance().rtol, Tolerance().atol)
    assert PROBLEM.default("points") == Problem.points
    assert PROBLEM.default("form") == Problem.form
    assert MISTAKE.default("credit") == Mistake.credit
    for level in SCHEMA:
        for f in level.fields:
            assert f.description.endswith(".") and f.example, (level.key, f.name)


MINIMAL_TAIL = """
problems:
  - id: q1
    answer: x
"""


def test_unknown_set_key_suggests_a_close_one(tmp_path: Path) -> None:
    text = "title: T\nlayuot: numerator\n" + MINIMAL_TAIL
    path = tmp_path / "hw1.yaml"
    assert error_of(tmp_path, text) == (
        f"{path}:2: 'layuot' is not a key here; did you mean 'layout'?")


def test_unknown_set_key_without_a_close_one_lists_the_keys(tmp_path: Path) -> None:
    text = "title: T\ncolour: red\n" + MINIMAL_TAIL
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'hw1.yaml'}:2: 'colour' is not a key here; the keys here are title, "
        f"layout, orientation, tolerance, timeout, symbols, problems, params, visibility")


def test_key_of_another_level_says_where_it_goes(tmp_path: Path) -> None:
    text = "title: T\npoints: 3\n" + MINIMAL_TAIL
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'hw1.yaml'}:2: 'points' is not a key here; it goes inside a problem")


def test_unknown_problem_key_suggests_a_close_one(tmp_path: Path) -> None:
    text = """
    title: T
    symbols:
      x: {shape: [3]}
    problems:
      - id: q1
        derivatve: {of: "x.T @ x", wrt: x}
    """
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'hw1.yaml'}:6: problems[0] (id='q1') → 'derivatve' is not a key "
        f"here; did you mean 'derivative'?")


def test_undeclared_wrt(tmp_path: Path) -> None:
    text = """
    title: T
    symbols:
      n: {dimension: true, sizes: [2, 3]}
      w: {shape: [n]}
      x: {shape: [n]}
      b: {}
    problems:
      - id: q1
        answer: x
      - id: dz_dw
        derivative: {of: "w.T @ x + b", wrt: v}
    """
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'hw1.yaml'}:11: problems[1] (id='dz_dw') → derivative → wrt: 'v' is "
        f"not a declared symbol; declared: w, x, b")


def test_bad_shape_dimension(tmp_path: Path) -> None:
    text = """
    title: T
    symbols:
      n: {dimension: true, sizes: [2, 3]}
      m: {dimension: true, sizes: [4]}
      A: {shape: [n, k]}
    """
    assert error_of(tmp_path, text, MINIMAL_TAIL) == (
        f"{tmp_path / 'hw1.yaml'}:5: symbols → A → shape: 'k' is not a declared dimension; "
        f"use one of n, m or a whole number from 1 to 50")


def test_missing_title(tmp_path: Path) -> None:
    text = "layout: numerator\n" + MINIMAL_TAIL
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'hw1.yaml'}:1: missing required key 'title'; add it, for example: "
        f"title: Gradient of a neuron")


def test_duplicate_id(tmp_path: Path) -> None:
    text = """
    title: T
    problems:
      - id: q1
        answer: x
      - id: q1
        answer: y
    """
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'hw1.yaml'}:5: problems[1] (id='q1') → id: 'q1' is already the id "
        f"of problems[0] (line 3); ids must be unique")


def test_duplicate_key(tmp_path: Path) -> None:
    text = """
    title: T
    problems:
      - id: q1
        points: 1
        answer: x
        points: 2
    """
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'hw1.yaml'}:6: problems[0] (id='q1') → duplicate key 'points' "
        f"(first at line 4); keep only one")


def test_bad_partial_credit_code(tmp_path: Path) -> None:
    text = """
    title: T
    problems:
      - id: q1
        answer: x
        partial_credit: {transposed: 0.5, transpose: 0.5}
    """
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'hw1.yaml'}:5: problems[0] (id='q1') → partial_credit: 'transpose' "
        f"is not a diagnosis code; did you mean 'transposed'?")


def test_partial_credit_out_of_range(tmp_path: Path) -> None:
    text = """
    title: T
    problems:
      - id: q1
        answer: x
        partial_credit:
          sign: 2
    """
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'hw1.yaml'}:6: problems[0] (id='q1') → partial_credit → sign: "
        f"expected a number from 0 to 1, got 2")


def test_bad_domain(tmp_path: Path) -> None:
    text = """
    title: T
    symbols:
      s: {domain: positiv}
    """
    assert error_of(tmp_path, text, MINIMAL_TAIL) == (
        f"{tmp_path / 'hw1.yaml'}:3: symbols → s → domain: expected real, positive, "
        f"nonnegative, nonzero or [low, high], got 'positiv'; did you mean 'positive'?")


def test_empty_interval_domain(tmp_path: Path) -> None:
    text = """
    title: T
    symbols:
      s: {domain: [2, 1]}
    """
    assert error_of(tmp_path, text, MINIMAL_TAIL) == (
        f"{tmp_path / 'hw1.yaml'}:3: symbols → s → domain: [2, 1] is empty; write "
        f"[low, high] with low < high")


def test_yaml_syntax_error(tmp_path: Path) -> None:
    text = """
    title: T
    problems:
      - id: q1
        answer: x: y
    """
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'hw1.yaml'}:4: invalid YAML at column 14: mapping values are not "
        f"allowed here; check the indentation, and quote text that contains ': ' or starts "
        f"with one of [ {{ * & ! | > ' \" %")


def test_non_square_symmetric(tmp_path: Path) -> None:
    text = """
    title: T
    symbols:
      n: {dimension: true, sizes: [2]}
      m: {dimension: true, sizes: [3]}
      W: {shape: [m, n], symmetric: true}
    """
    assert error_of(tmp_path, text, MINIMAL_TAIL) == (
        f"{tmp_path / 'hw1.yaml'}:5: symbols → W → symmetric: only a square matrix can be "
        f"symmetric, but W has shape [m, n]; make the shape square or remove 'symmetric'")


def test_form_function_without_signature(tmp_path: Path) -> None:
    text = """
    title: T
    symbols:
      w: {shape: [3]}
    problems:
      - id: grad_fn
        derivative: {of: "w.T @ w", wrt: w}
        form: function
    """
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'hw1.yaml'}:7: problems[0] (id='grad_fn') → form: 'function' needs a "
        f"signature: the symbols the function takes, in order; add for example: "
        f"signature: [w, X, y]")


def test_type_error_says_what_was_expected_and_found(tmp_path: Path) -> None:
    text = """
    title: T
    problems:
      - id: q1
        answer: x
        points: two
    """
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'hw1.yaml'}:5: problems[0] (id='q1') → points: expected a number from "
        f"0 to 1,000,000, got 'two'")


def test_wrt_list_takes_only_scalars(tmp_path: Path) -> None:
    text = """
    title: T
    symbols:
      x: {shape: [3]}
      b: {}
    problems:
      - id: q1
        derivative: {of: "b", wrt: [b, x]}
    """
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'hw1.yaml'}:7: problems[0] (id='q1') → derivative → wrt[1]: 'x' has "
        f"shape [3, 1], but a list of wrt takes only scalars (stacked into a column); to "
        f"differentiate by x, write wrt: x")


def test_unsafe_tag_is_refused_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"title: !!python/object/apply:os.system ['touch {marker}']\n" + MINIMAL_TAIL
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'hw1.yaml'}:1: unsupported YAML tag !!python/object/apply:os.system; "
        f"remove it")
    assert not marker.exists()


def test_yaml_1_2_numbers_and_string_keys() -> None:
    text = "title: T\ntolerance: {rtol: 1e-4}\nsymbols:\n  no: {}\n" + MINIMAL_TAIL
    loaded = parse_problem_set(text)
    assert loaded.tolerance == Tolerance(1e-4, 1e-9)
    assert [s.name for s in loaded.symbols] == ["no"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProblemSetError) as info:
        load_problem_set(tmp_path / "nope.yaml")
    assert str(info.value) == (
        f"{tmp_path / 'nope.yaml'}: can't read the problem set: No such file or directory")


# --- libyaml's parser, PyYAML's composer -----------------------------------------------

def _every_set_text() -> list[tuple[str, str]]:
    from mcgrade.authoring.publish import publish
    root = Path(__file__).resolve().parent.parent
    texts = [(p.name, p.read_text("utf-8")) for p in sorted(root.glob("problem_sets/*.yaml"))]
    texts += [(f"student/{name}", publish(load_problem_set(root / "problem_sets" / name)))
              for name in ("neuron.yaml", "second_order.yaml")]
    return texts


def test_libyaml_reads_every_set_as_pyyaml_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path (libyaml's events) gives the same values and lines as PyYAML alone,
    for the course's sets and their student copies."""
    from mcgrade.problemset import yamlsource
    assert yamlsource.LIBYAML, "PyYAML's wheels carry libyaml: the fast path is tested"
    fast = {name: yamlsource.load_yaml(text, name) for name, text in _every_set_text()}
    monkeypatch.setattr(yamlsource, "LIBYAML", False)
    for name, text in _every_set_text():
        slow = yamlsource.load_yaml(text, name)
        assert (slow.data, slow.value_lines, slow.key_lines) == \
            (fast[name].data, fast[name].value_lines, fast[name].key_lines), name


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, "- " * 100_000 + "x"])
def test_yaml_nested_past_any_stack_is_one_error_not_a_crash(text: str) -> None:
    """libyaml's own composer recurses in C, and 30,000 levels overflow its stack: the
    nodes are composed by PyYAML's, whose depth is Python's to refuse."""
    with pytest.raises(ProblemSetError, match="nested too deeply"):
        parse_problem_set(text, "deep.yaml")


def test_a_syntax_error_is_said_in_pyyamls_words_either_way() -> None:
    from mcgrade.problemset import yamlsource
    with pytest.raises(ProblemSetError) as caught:
        yamlsource.load_yaml("a: [1, 2\nb: c\n", "bad.yaml")
    assert "expected ',' or ']', but got ':'" in str(caught.value)


@pytest.mark.parametrize("text, message", [
    ("title: !!bool maybe\n", "x.yaml:1: 'maybe' is not a !!bool value; remove the tag or "
                              "fix the value"),
    ("title: !!int abc\n", "x.yaml:1: 'abc' is not a !!int value"),
    ("title: !!timestamp 2020-13-45\n", "x.yaml:1: '2020-13-45' is not a !!timestamp value"),
    ("a: \ud800\n", "x.yaml:1: invalid YAML: the control character U+D800 is not allowed"),
])
def test_a_value_its_tag_refuses_is_one_line(text: str, message: str) -> None:
    with pytest.raises(ProblemSetError) as caught:
        parse_problem_set(text, "x.yaml")
    assert str(caught.value).startswith(message)
