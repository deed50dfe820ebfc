"""`mcgrade validate`: errata planted in copies of the bundled sets are each caught, with the
file, the line and the fix; the bundled sets themselves are clean."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from mcgrade.authoring.validate import validate_file
from mcgrade.cli import main

SETS = Path(__file__).parent.parent / "problem_sets"


def plant(tmp_path: Path, name: str, old: str, new: str) -> tuple[Path, int]:
    """A copy of a bundled set with ``old`` replaced by ``new`` once; the line it is on."""
    text = (SETS / name).read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    copy = tmp_path / name
    copy.write_text(text.replace(old, new), encoding="utf-8")
    return copy, text[:text.index(old)].count("\n") + 1


def messages(path: Path) -> list[str]:
    return [str(f) for f in validate_file(path).findings]


@pytest.mark.parametrize("name", ["neuron.yaml", "identities.yaml", "denominator.yaml"])
def test_the_bundled_sets_are_clean(name: str) -> None:
    report = validate_file(SETS / name)
    assert report.findings == () and report.problems > 10


def test_a_wrong_coefficient_is_reported_with_a_checked_fix(tmp_path: Path) -> None:
    path, line = plant(tmp_path, "identities.yaml", 'answer: "2*t*cos(t**2)"',
                       'answer: "t*cos(t**2)"')
    assert messages(path) == [
        f"{path}:{line}: error: problems[9] (id='chain_sin') → answer: the key "
        f"'t*cos(t**2)' is 1/2 times the derivative; write '2 * (t*cos(t**2))'"]


def test_a_transposed_key_is_reported_as_such_in_the_sets_layout(tmp_path: Path) -> None:
    path, line = plant(tmp_path, "neuron.yaml", 'answer: "x.T"\n    partial_credit',
                       'answer: "x"\n    partial_credit')
    assert messages(path) == [
        f"{path}:{line}: error: problems[0] (id='dz_dw') → answer: the key 'x' is the "
        f"transpose of the derivative in numerator layout (in numerator layout the "
        f"derivative of a scalar by an n×1 vector is a 1×n row); write 'x.T'"]


def test_a_transposed_key_in_denominator_layout_names_that_layout(tmp_path: Path) -> None:
    path, line = plant(tmp_path, "denominator.yaml", 'answer: "a"', 'answer: "a.T"')
    (message,) = messages(path)
    assert message.startswith(f"{path}:{line}: error: problems[0] (id='grad_aTx') → answer: "
                              f"the key 'a.T' is the transpose of the derivative in "
                              f"denominator layout")
    assert message.endswith("write 'a'")


def test_a_jacobian_entry_1_that_should_be_2_names_the_entry_and_both_values(
        tmp_path: Path) -> None:
    path, line = plant(tmp_path, "neuron.yaml", 'answer: "Matrix([[6*u*v, 3*u**2]])"',
                       'answer: "Matrix([[6*u*v, 3*u**1]])"')
    (message,) = messages(path)
    assert message.startswith(f"{path}:{line}: error: problems[16] (id='grad_uv') → answer: "
                              f"the key 'Matrix([[6*u*v, 3*u**1]])' is not the derivative: at ")
    assert ", entry (0, 1) the key gives " in message
    assert message.endswith("(that entry of the derivative is 3*u**2); correct the key (or "
                            "remove it: the derivative is the reference)")


def test_a_wrong_quotient_rule_example_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent("""\
        title: Rules
        symbols:
          t: {domain: nonzero}
        problems:
          - id: quotient
            prompt: Find d/dt of sin(t)/t.
            derivative: {of: "sin(t) / t", wrt: t}
            answer: "(cos(t)*t + sin(t)) / t**2"
        """), encoding="utf-8")
    (message,) = messages(path)
    assert message.startswith(f"{path}:8: error: problems[0] (id='quotient') → answer: the "
                              f"key '(cos(t)*t + sin(t)) / t**2' is not the derivative: at t = ")
    assert "the key gives" in message and "where the derivative is" in message


def test_a_mistake_that_is_actually_correct(tmp_path: Path) -> None:
    path, line = plant(tmp_path, "neuron.yaml", '- answer: "2 * (X @ w - y).T"',
                       '- answer: "2 * (X @ w - y).T @ X"')
    assert messages(path) == [
        f"{path}:{line}: error: problems[14] (id='loss_grad') → mistakes[0] → answer: "
        f"'2 * (X @ w - y).T @ X' is not a mistake: it equals the derivative (proved "
        f"symbolically); fix it or remove it"]


def test_a_mistake_caught_first_by_a_built_in_diagnosis_is_shadowed(tmp_path: Path) -> None:
    path, line = plant(tmp_path, "identities.yaml", '- answer: "t**2 * cos(t)"',
                       '- answer: "-(t**2*cos(t) + 2*t*sin(t))"')
    assert messages(path) == [
        f"{path}:{line}: error: problems[11] (id='total_derivative') → mistakes[0] → answer: "
        f"'-(t**2*cos(t) + 2*t*sin(t))' is shadowed: the built-in diagnosis 'sign' catches "
        f"this answer before the author's mistakes, so its feedback is never shown; remove "
        f"it (for credit, use partial_credit: {{sign: …}})"]


def test_an_impossible_domain(tmp_path: Path) -> None:
    path, _ = plant(tmp_path, "identities.yaml", "  t: {}\n", "  t: {domain: [-2, -1]}\n")
    text = path.read_text(encoding="utf-8").replace(
        'of: "sin(t**2)", wrt: t}', 'of: "sin(t**2) + sqrt(t)", wrt: t}')
    path.write_text(text, encoding="utf-8")
    line = text[:text.index("sqrt(t)")].count("\n") + 1
    found = messages(path)
    assert found[0] == (
        f"{path}:{line}: error: problems[9] (id='chain_sin') → derivative → of: no sample "
        f"point inside the symbols' domains gives a finite reference; declare a domain "
        f"(e.g. 'domain: positive') for the symbols involved")


def test_a_kink_reached_from_one_side_only(tmp_path: Path) -> None:
    path = tmp_path / "kink.yaml"
    path.write_text(textwrap.dedent("""\
        title: Kinks
        symbols:
          s: {domain: positive}
        problems:
          - id: relu_s
            prompt: Differentiate relu(s).
            derivative: {of: "relu(s)", wrt: s}
        """), encoding="utf-8")
    assert messages(path) == [
        f"{path}:7: error: problems[0] (id='relu_s') → of: the kink where s = 0 is sampled "
        f"only on its positive side: no point in the domains reaches the other, so an "
        f"answer right on one side only would pass; widen the domains of s, or remove the "
        f"kink"]


def test_a_function_answer_missing_a_symbol_and_a_missing_prompt(tmp_path: Path) -> None:
    path = tmp_path / "fn.yaml"
    path.write_text(textwrap.dedent("""\
        title: Functions
        symbols:
          n: {dimension: true, sizes: [2, 3]}
          w: {shape: [n, 1]}
          x: {shape: [n, 1]}
        problems:
          - id: grad_fn
            derivative: {of: "(w.T @ x)**2", wrt: w}
            form: function
            signature: [w]
        """), encoding="utf-8")
    assert messages(path) == [
        f"{path}:7: warning: problems[0] (id='grad_fn') → id: no prompt: the starter notebook "
        f"will show only a generic question; add prompt:",
        f"{path}:10: error: problems[0] (id='grad_fn') → signature: the derivative depends "
        f"on x, which the function is not given; add it to the signature"]


def test_schema_errors_keep_the_loaders_breadcrumb_and_did_you_mean(tmp_path: Path) -> None:
    path, line = plant(tmp_path, "neuron.yaml", "    derivative: {of: \"W @ x\", wrt: x}\n"
                       "    answer: \"W\"", "    derivatve: {of: \"W @ x\", wrt: x}\n"
                       "    answer: \"W\"")
    assert messages(path) == [f"{path}:{line}: error: problems[4] (id='jac_Wx') → "
                              f"'derivatve' is not a key here; did you mean 'derivative'?"]


def test_cli_exits_1_on_errors_and_serves_json(tmp_path: Path, capsys) -> None:
    path, line = plant(tmp_path, "neuron.yaml", 'answer: "W"', 'answer: "W.T"')
    assert main(["validate", str(tmp_path), "--format", "json"]) == 1
    record = json.loads(capsys.readouterr().out)
    assert record["errors"] == 1 and record["warnings"] == 0
    assert record["files"] == [{"path": str(path), "problems": 17, "variants": 1,
                                "published": False, "errors": 1, "warnings": 0}]
    (finding,) = record["findings"]
    assert (finding["line"], finding["code"], finding["problem"]) == (line, "answer-key",
                                                                      "jac_Wx")
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.endswith("mcgrade validate: 1 file, 17 problems: 1 error, no warnings\n")


def test_cli_exits_0_on_a_clean_set_and_1_when_nothing_is_found(tmp_path: Path,
                                                                capsys) -> None:
    assert main(["validate", str(SETS / "neuron.yaml")]) == 0
    assert capsys.readouterr().out == ("mcgrade validate: 1 file, 17 problems: no errors, "
                                       "no warnings\n")
    assert main(["validate", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"mcgrade: error: no problem sets (.yaml) in {tmp_path}\n"
