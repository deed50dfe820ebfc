"""``mcgrade validate``: problem sets checked the way a careful reader checks an errata list.

Per file: the schema (the loader's first error, with file:line and "did you mean"), then
every problem on its own (:mod:`mcgrade.authoring.checks`: references, domains, kinks,
answer keys, mistakes, signatures). A set with ``params:`` is checked in several variants
(the default, each param's extremes, and a few students' ids); a finding says in which,
and one found in several variants is reported once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mcgrade.authoring.checks import Finding, from_error, validate_set
from mcgrade.errors import ProblemSetError
from mcgrade.model import ProblemSet
from mcgrade.problemset import load_problem_set, parse_problem_set
from mcgrade.problemset.params import unused
from mcgrade.problemset.yamlsource import load_yaml

STUDENTS = ("validate-1", "validate-2", "validate-3")

__all__ = ["FileReport", "Finding", "problem_set_files", "validate_file", "validate_set"]


@dataclass(frozen=True)
class FileReport:
    """What ``validate`` found in one file."""

    path: str
    problems: int
    variants: int
    findings: tuple[Finding, ...]
    published: bool = False


def problem_set_files(paths: Iterable[str]) -> list[Path]:
    """The YAML files named, and those inside the folders named (sorted)."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            found.append(path)
    return found


def validate_file(path: str | Path) -> FileReport:
    """Every check, in every variant checked, of the problem set in one file."""
    name = str(path)
    try:
        base = load_problem_set(path)
    except ProblemSetError as exc:
        return FileReport(name, 0, 0, (from_error(exc, "schema", name),))
    if base.published:
        return FileReport(name, len(base.problems), 1, (), published=True)
    found: list[Finding] = []
    variants = _variants(base, found)
    for variant in variants:
        label = ", ".join(f"{k}={v}" for k, v in variant.variant)
        found += [replace(f, variants=(label,)) if label else f
                  for f in validate_set(variant)]
    found += _param_warnings(base)
    return FileReport(name, len(base.problems), len(variants), _merge(found))


def _variants(base: ProblemSet, found: list[Finding]) -> list[ProblemSet]:
    """The default variant, each param's extremes, and a few students'; deduplicated."""
    if not base.params:
        return [base]
    wanted: list[dict[str, Any] | str] = [
        {p.name: p.values[0] for p in base.params},
        {p.name: p.values[-1] for p in base.params}, *STUDENTS]
    made, seen = [base], {base.variant}
    for how in wanted:
        try:
            variant = (parse_problem_set(base.template, base.path, student=how)
                       if isinstance(how, str) else
                       parse_problem_set(base.template, base.path, values=how))
        except ProblemSetError as exc:
            label = ", ".join(f"{k}={v}" for k, v in how.items()) if isinstance(how, dict) \
                else f"of student {how!r}"
            found.append(replace(from_error(exc, "variant", base.path), variants=(label,)))
            continue
        if variant.variant not in seen:
            seen.add(variant.variant)
            made.append(variant)
    return made


# --- helpers ---------------------------------------------------------------------------

def _param_warnings(base: ProblemSet) -> list[Finding]:
    """Params nothing refers to, and placeholders a LaTeX command would swallow."""
    found = []
    text = base.template
    idle = unused(load_yaml(text, base.path), base.params)
    for param in base.params:
        if param in idle:
            found.append(Finding(base.path, param.location.line, "warning", "param",
                                 f"params → {param.name}: declared but never used; write "
                                 f"{{{param.name}}} where its value goes, or remove it"))
        for match in re.finditer(r"\\[A-Za-z]+\{" + re.escape(param.name) + r"\}", text):
            found.append(Finding(base.path, text.count("\n", 0, match.start()) + 1, "warning",
                                 "param", f"{match.group(0)} puts the value of param "
                                 f"{param.name} inside a LaTeX command; if you meant the "
                                 f"letter, rename the param"))
    return found


def _merge(found: list[Finding]) -> tuple[Finding, ...]:
    """One finding per place and kind, listing every variant it was found in."""
    merged: dict[tuple[Any, ...], Finding] = {}
    for f in found:
        key = (f.path, f.line, f.code, f.problem, f.message if not f.variants else "")
        if key in merged:
            old = merged[key]
            merged[key] = replace(old, variants=old.variants + f.variants)
        else:
            merged[key] = f
    return tuple(sorted(merged.values(), key=lambda f: (f.path, f.line or 0)))


