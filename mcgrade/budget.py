"""Time budgets for symbolic work, which can otherwise run for minutes.

sympy is pure Python, so a SIGALRM timer can interrupt it between bytecodes. Signals only
reach the main thread; elsewhere ``TimeBudget.enforced`` is False and callers must skip
the steps that could run long (they then report a numeric verdict, which is honest).
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Iterator


class BudgetExceeded(Exception):
    """The time budget ran out."""


class TimeBudget:
    """A deadline shared by the steps of one check."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.enforced = (threading.current_thread() is threading.main_thread()
                         and hasattr(signal, "setitimer"))

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Run a block that is interrupted with BudgetExceeded when the deadline passes.

        Where signals can't be used the block runs unguarded: callers only put cheap or
        size-bounded work here in that case (see ``enforced``).
        """
        remaining = self.remaining()
        if remaining <= 0:
            raise BudgetExceeded()
        if not self.enforced:
            yield
            return

        def on_alarm(signum: int, frame: object) -> None:
            raise BudgetExceeded()

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, remaining)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
