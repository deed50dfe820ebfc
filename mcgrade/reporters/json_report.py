"""The JSON record of SPEC §4, one object per submission."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from mcgrade.model import GradeReport
from mcgrade.records import report_record


def record(report: GradeReport, added: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The record of ``report``, with fields ``added`` after SPEC §4's (e.g. late work's
    ``submitted`` and ``late``: ``mcgrade.batch.late``)."""
    return {**report_record(report), **(added or {})}


def render(report: GradeReport, added: Mapping[str, Any] | None = None) -> str:
    return json.dumps(record(report, added), indent=2, ensure_ascii=False) + "\n"


def render_array(records: Sequence[Mapping[str, Any]]) -> str:
    """Many records as one JSON array, in the order given."""
    return json.dumps(list(records), indent=2, ensure_ascii=False) + "\n"
