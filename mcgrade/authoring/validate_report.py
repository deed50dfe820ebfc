"""``mcgrade validate``'s reports: pure functions of the file reports, text or JSON.

Text is one line per finding, ``file:line: severity: breadcrumb → what; what to do``, the
form editors and CI logs link to, then a summary line. JSON is one object with every
finding as a record, for editor plugins and CI annotations.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mcgrade.authoring.validate import FileReport, Finding


def count(reports: Sequence[FileReport], severity: str) -> int:
    return sum(1 for r in reports for f in r.findings if f.severity == severity)


def render_text(reports: Sequence[FileReport]) -> str:
    """Every finding, then ``mcgrade validate: 3 files, 45 problems: 1 error, no warnings``."""
    lines = [str(f) for r in reports for f in r.findings]
    problems = sum(r.problems for r in reports)
    variants = sum(r.variants for r in reports if r.variants > 1)
    copies = sum(1 for r in reports if r.published)
    extra = f" in {variants} variants" if variants else ""
    extra += f" ({copies} published {'copy' if copies == 1 else 'copies'}: schema only)" \
        if copies else ""
    errors, warnings = count(reports, "error"), count(reports, "warning")
    lines.append(f"mcgrade validate: {_n(len(reports), 'file')}, {_n(problems, 'problem')}"
                 f"{extra}: {_n(errors, 'error', 'no')}, {_n(warnings, 'warning', 'no')}")
    return "\n".join(lines) + "\n"


def render_json(reports: Sequence[FileReport]) -> str:
    """``{"errors": n, "warnings": n, "files": [...], "findings": [...]}``."""
    record: dict[str, Any] = {
        "errors": count(reports, "error"), "warnings": count(reports, "warning"),
        "files": [{"path": r.path, "problems": r.problems, "variants": r.variants,
                   "published": r.published,
                   "errors": sum(1 for f in r.findings if f.severity == "error"),
                   "warnings": sum(1 for f in r.findings if f.severity == "warning")}
                  for r in reports],
        "findings": [_record(f) for r in reports for f in r.findings]}
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"


def _record(finding: Finding) -> dict[str, Any]:
    return {"path": finding.path, "line": finding.line, "severity": finding.severity,
            "code": finding.code, "problem": finding.problem, "message": finding.message,
            "variants": list(finding.variants)}


def _n(number: int, noun: str, none: str = "0") -> str:
    if number == 0:
        return f"{none} {noun}s"
    return f"{number} {noun}{'' if number == 1 else 's'}"
