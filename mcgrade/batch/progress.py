"""Progress of a batch: a tqdm bar on a terminal, one plain line per student elsewhere.

tqdm because it is small, pure Python, has no dependencies of its own and is kept up by
many hands; it draws on standard error and falls back to nothing fancy. In CI (``CI`` set)
or when standard error is not a terminal, each student gets a line instead, which a log
can be read from: ``mcgrade: [12/400] alice graded 7.5/10`` (the grader's score), with
``, final 6.4 (late)`` when an override or the late penalty changes it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TextIO

from mcgrade.batch import Entry, Graded
from mcgrade.reporters.terminal import points


class Progress:
    """Counts students as they are graded (or found done) and shows it."""

    def __init__(self, total: int, stream: TextIO | None = None,
                 final: Callable[[Entry], tuple[float | None, str]] | None = None) -> None:
        """``final``: an entry's final score where an override or the late penalty
        makes it differ from the graded one, and what did (None, "" where not)."""
        self.total = total
        self.final = final
        self.count = 0
        self.stream = stream or sys.stderr
        self._bar = None
        if self.stream.isatty() and not os.environ.get("CI"):
            try:
                from tqdm import tqdm
            except ImportError:                 # plain lines then
                pass
            else:
                self._bar = tqdm(total=total, file=self.stream, unit="sub",
                                 desc="mcgrade", dynamic_ncols=True)

    def update(self, graded: Graded) -> None:
        """Count ``graded``; its line shows the graded score and, when an override or
        the late penalty makes it differ, the final one."""
        self.count += 1
        report = graded.entry.report
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix_str(graded.entry.student, refresh=False)
            return
        final, why = self.final(graded.entry) if self.final else (None, "")
        said = [why] if final is not None else []
        said += (["done before"] if graded.reused else
                 ["regraded from the stored answers"] if graded.regraded else [])
        then = f", final {points(final)}" if final is not None else ""
        more = f" ({'; '.join(said)})" if said else ""
        self.stream.write(f"mcgrade: [{self.count}/{self.total}] {graded.entry.student} "
                          f"graded {points(report.score)}/{points(report.max_score)}"
                          f"{then}{more}\n")
        self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
