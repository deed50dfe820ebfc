"""The JSON record of SPEC §4, one object per submission."""

from __future__ import annotations

import json

from mcgrade.model import GradeReport


def render(report: GradeReport) -> str:
    return json.dumps(report.to_record(), indent=2, ensure_ascii=False) + "\n"
