"""The batch's files, rendered from the ledger: the gradebook, the records, Gradescope's.

    OUT/grades.csv              one row per student (``reporters.csv_report``)
    OUT/grades.json             the SPEC §4 records, one per student, as one array
    OUT/gradescope/<id>.json    a Gradescope results.json per student
    OUT/records/<id>.json       the ledger (``ledger``), written while grading

Every file is written atomically, and all of them only from the ledger, so after an
interrupt they hold exactly the students done so far, and a re-run completes them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from mcgrade.batch.ids import file_name
from mcgrade.batch.ledger import Entry
from mcgrade.files import write_atomic
from mcgrade.reporters import csv_report, gradescope, json_array


@dataclass(frozen=True)
class Written:
    """The files one rendering wrote, for the driver to name."""

    csv: Path
    json: Path
    gradescope: Path


def write_all(entries: Sequence[Entry], out: str | os.PathLike[str], *,
              csv_path: str | os.PathLike[str] | None = None,
              json_path: str | os.PathLike[str] | None = None) -> Written:
    """Render every output of ``entries`` (only students still in the batch) under
    ``out``; ``csv_path``/``json_path`` put the gradebook or the array elsewhere."""
    root = Path(out)
    ordered = sorted(entries, key=lambda e: e.student)
    written = Written(Path(csv_path) if csv_path else root / "grades.csv",
                      Path(json_path) if json_path else root / "grades.json",
                      root / "gradescope")
    write_atomic(written.csv, csv_report.render([(e.student, e.report) for e in ordered]))
    write_atomic(written.json, json_array.render([e.report for e in ordered]))
    for entry in ordered:
        write_atomic(written.gradescope / f"{file_name(entry.student)}.json",
                     gradescope.render(entry.report))
    return written
