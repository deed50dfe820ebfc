"""Many submissions' SPEC §4 records as one JSON array, in the order given."""

from __future__ import annotations

import json
from typing import Sequence

from mcgrade.model import GradeReport


def render(reports: Sequence[GradeReport]) -> str:
    return json.dumps([r.to_record() for r in reports], indent=2, ensure_ascii=False) + "\n"
