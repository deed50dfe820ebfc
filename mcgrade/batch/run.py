"""``mcgrade grade`` over many files, as the CLI runs it: plan, grade, show, write.

Kept out of ``cli.py`` so that the command stays a thin function. An interrupt (Ctrl-C, or
SIGTERM, which a batch treats the same way) stops grading, the outputs are rendered from
what is done, and the interrupt goes on up to ``main`` (exit 130). The ledger already holds
every finished student, so a re-run resumes there.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from mcgrade.batch import Entry, Ledger, grade_many, plan
from mcgrade.batch.outputs import Written, write_all
from mcgrade.batch.progress import Progress
from mcgrade.model import ProblemSet


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises KeyboardInterrupt (a kill saves what is done)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_batch(paths: Sequence[str], problem_set: ProblemSet, *, out: str,
              csv_path: str | None = None, json_path: str | None = None,
              feedback: str | None = None,
              id_pattern: str | None = None, force: bool = False, sandbox: str = "auto",
              jobs: int = 1, dask: str | None = None) -> int:
    """Grade every submission under ``paths`` into ``out``; the summary on stdout."""
    ledger = Ledger(out)
    batch = plan(paths, problem_set.path, ledger, id_pattern=id_pattern, force=force)
    progress = Progress(len(batch.files))
    entries: list[Entry] = []
    ungraded: list[str] = []
    with terminate_as_interrupt():
        try:
            for graded in grade_many(batch, problem_set, ledger, sandbox=sandbox,
                                     jobs=jobs, dask=dask):
                entries.append(graded.entry)
                if graded.ungraded:
                    ungraded.append(graded.entry.student)
                progress.update(graded)
        finally:
            progress.close()
            written = write_all(entries, out, csv_path=csv_path, json_path=json_path,
                                feedback=feedback, problem_set=problem_set)
            if len(entries) < len(batch.files):
                print(f"mcgrade: stopped after {len(entries)} of {len(batch.files)} "
                      f"students; {_where(written)} hold them. Run the same command again "
                      "to grade the rest.", file=sys.stderr)
    reused = len(batch.done)
    print(f"mcgrade: {len(entries)} students graded against {Path(problem_set.path).name}"
          f" ({len(entries) - reused} now, {reused} unchanged since the last run); "
          f"wrote {_where(written)}")
    if ungraded:
        shown = ", ".join(ungraded[:5]) + (f" and {len(ungraded) - 5} more"
                                           if len(ungraded) > 5 else "")
        print(f"mcgrade: {len(ungraded)} of them could not be run here ({shown}): a fault "
              "of this machine, not theirs, and their rows score 0 for now. Run the same "
              "command again to grade them.", file=sys.stderr)
        return 3
    return 0


def _where(written: Written) -> str:
    pages = f", {written.feedback}/" if written.feedback else ""
    return f"{written.csv}, {written.json}{pages} and {written.gradescope}/"
