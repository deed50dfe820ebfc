"""docs/authoring.md is generated from the declared schema: a key added, renamed or
re-described without regenerating the guide fails here."""

from __future__ import annotations

from pathlib import Path

from mcgrade.authoring import guide
from mcgrade.problemset import SCHEMA, parse_problem_set

DOC = Path(__file__).parent.parent / "docs" / "authoring.md"
REGENERATE = "python -m mcgrade.authoring.guide > docs/authoring.md"


def test_the_guide_is_the_schema_rendered() -> None:
    assert DOC.read_text(encoding="utf-8") == guide.render(), (
        f"docs/authoring.md is out of date with the schema; run: {REGENERATE}")


def test_every_key_of_every_level_has_its_row() -> None:
    text = guide.render()
    for level in SCHEMA:
        assert f"## {level.title}\n" in text
        for field in level.fields:
            assert f"| `{field.name}` | " in text, (level.key, field.name)


def test_the_guides_variant_example_loads_as_written() -> None:
    text = guide.INTRODUCTION
    example = text[text.index("params:\n  a:"):text.index("```", text.index("params:\n  a:"))]
    example = example.replace("problems:", "symbols:\n  x: {shape: [3, 1]}\nproblems:")
    problem_set = parse_problem_set("title: Example\n" + example, "example.yaml",
                                    values={"a": 4, "f": "cos"})
    (problem,) = problem_set.problems
    assert problem.of == "4 * cos(x.T @ x)"
    assert problem.prompt == ("Find the gradient of $f(\\mathbf{x}) = 4\\,\\cos"
                              "(\\mathbf{x}^T\\mathbf{x})$.")
