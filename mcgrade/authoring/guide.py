"""The authoring reference, docs/authoring.md, generated from the declared schema.

Every key of every level of ``mcgrade.problemset.schema.SCHEMA`` gets a row: its type, its
default, what it means and an example, so the guide can't document a key the loader
refuses or miss one it accepts. ``tests/test_authoring_guide.py`` fails when the file and
the schema drift apart; regenerate it with::

    python -m mcgrade.authoring.guide > docs/authoring.md
"""

from __future__ import annotations

import sys
from typing import Any

from mcgrade.problemset.schema import SCHEMA, Field, Level

INTRODUCTION = r"""# Writing problem sets

<!-- Generated from mcgrade/problemset/schema.py by `python -m mcgrade.authoring.guide`;
     edit the schema (or the generator's prose), not this file. -->

A problem set is a YAML file: a title, the symbols its expressions use, and the problems.
This page is the reference for every key; the README shows a whole set. Three commands
take a set from draft to students:

```sh
mcgrade validate problem_sets/                    # errors with file:line, exit 1 if any
mcgrade notebook hw1.yaml -o student/hw1.ipynb    # the starter notebook
mcgrade publish hw1.yaml -o student/              # student/hw1.yaml: checks, no answers
```

## What `mcgrade validate` checks

Every file named, or found in the folders named (`--format json` for editors and CI):

| code | what is wrong | what to do |
|---|---|---|
| `schema` | a key, a type or a value breaks the rules below (a misspelt key gets "did you mean") | fix it where the breadcrumb points |
| `compile` | an expression can't be read or typed, or no sample point gives a finite reference | fix the expression, or declare a `domain` |
| `domain` | fewer than 8 sample points give a finite reference, away from kinks | widen the domains of the symbols named |
| `kink` | a kink (`relu`, `Abs`, `Max`, …) is sampled on one side only, so an answer right on one side would pass | widen the domains, or remove the kink |
| `answer-key` | a hand-written `answer` next to `derivative`/`hessian` is not the derivative mcgrade computes: transposed (the layout is named), negated, scaled, or wrong at an entry (the point, the entry, both values) | use the fix it suggests (always checked first) |
| `mistake` | a `mistakes` entry is correct, or is caught first by a built-in diagnosis or an earlier mistake, so its feedback never shows | fix or remove it |
| `signature` | a function answer is not given a symbol the derivative depends on | add it to `signature` |
| `variant` | one variant of a set with `params` breaks a rule | narrow the param's range |
| `prompt`, `param`, `slow` | warnings: no prompt; a param never used, or used inside a LaTeX command; a slow reference | |

## Per-student variants

`params:` declares values that differ from student to student. `{a}` in any text — a
prompt, an expression, an `at` value — is replaced by param `a`'s value; a value that is
exactly `"{k}"` (quoted: YAML reads `{k}` bare as a mapping) becomes the number itself,
so sizes and shapes can use it: `sizes: ["{k}"]`, `shape: ["{k}", 1]`.

```yaml
params:
  a: {range: [2, 9]}                 # 2, 3, …, 9
  s: {range: [0.5, 2], step: 0.5}    # 0.5, 1, 1.5, 2 (exact decimals)
  f: {choices: [sin, cos]}
problems:
  - id: scaled
    prompt: >-
      Find the gradient of $f(\mathbf{x}) = {a}\,\{f}(\mathbf{x}^T\mathbf{x})$.
    derivative: {of: "{a} * {f}(x.T @ x)", wrt: x}
```

A student's value of each param is picked by SHA-256 of the student id (trimmed, case
folded) and the param's name: the same id gets the same variant on every machine, and
editing a prompt or the title changes nobody's. Without a student, each param takes its
`default` (else its first value). `mcgrade notebook --student ID` and `mcgrade publish
--student ID` write one student's variant; grading takes the student id from the
submission's file name (`alice.ipynb` → `alice`). A negative value is written with its
minus sign (`x - {a}` may read `x - -2`, which is fine); in LaTeX write `x^{{a}}` for an
exponent, and don't name a param after a letter you use as `\mathbf{a}`.

## The student copy

`mcgrade publish` keeps what students read — title, layout, symbols, prompts, points,
hints, partial credit — and replaces each problem's `derivative`/`hessian`/`shape`/
`answer`, `at` and `mistakes` by `checks`: sample points and, at each, a SHA-256 digest
of the reference's value rounded to about the set's `rtol`. A digest tells a right value
from a wrong one and nothing else: learning the value from it takes guessing, which is
what running the local check on a candidate already does. The points name only the
symbols the reference depends on (and `at` values, which the prompt states). A constant
answer (`eye(n)`, a number at `at:`) can be found by guessing constants, as with any local
checker. The points are drawn with another seed than grading's. Grading with the copy says
"local check" and can't give value-based diagnoses beyond the transpose, the sign and a
missing `diag`;
grading with the instructor's set is authoritative.

# Reference
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(field: Field) -> str:
    value: Any = field.default
    if field.required:
        return "**required**"
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def _level(level: Level) -> list[str]:
    lines = [f"## {level.title}", "", f"{level.description} Keys {level.inside}:", "",
             "| key | type | default | meaning | example |", "|---|---|---|---|---|"]
    for field in level.fields:
        written = "" if field.authored else " (written by `mcgrade publish`)"
        lines.append(f"| `{field.name}` | {_cell(field.type)} | {_default(field)} | "
                     f"{_cell(field.description)}{written} | `{_cell(field.example)}` |")
    return lines + [""]


def render() -> str:
    """The whole of docs/authoring.md."""
    lines = [INTRODUCTION]
    for level in SCHEMA:
        lines += _level(level)
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
