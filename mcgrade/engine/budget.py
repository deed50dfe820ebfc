"""Bounds on symbolic work: deterministic allowances, and a last-resort wall-clock guard.

A verdict is a function of the inputs and mcgrade's version, never of how fast or loaded
the machine was (SPEC §5.5). So exact and symbolic work is bounded by what it will do,
not by how long it takes: each step is charged, before it runs, a cost known in advance
(the expression-tree nodes it walks or builds, the terms of a polynomial product) against
a ``Work`` allowance per check. A step that would overdraw it is not taken, nor any after
it: the proof stays unproved and the verdict says "numeric", on every machine alike.

``finish_within`` is the last resort against a hang those bounds failed to foresee. It is
the same in every thread (a watchdog thread raises in the checking thread between
bytecodes; SIGALRM could only reach the main thread), and when it fires the check gives
no verdict: it raises ``CheckAbandoned``, a fault of the machine, so the submission is
graded again rather than graded differently.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from mcgrade.errors import CheckAbandoned

T = TypeVar("T")

SYMBOLIC_WORK = 300_000    # expression-tree nodes (and polynomial terms) of proof per check


class WorkExhausted(Exception):
    """A step would overdraw its check's allowance, so it is not taken."""


class Work:
    """The allowance of symbolic work for one check, in expression-tree nodes."""

    def __init__(self, allowance: int) -> None:
        self.left = allowance

    def spend(self, amount: int) -> None:
        """Charge a step before it runs; WorkExhausted (and nothing left for later steps)
        if it does not fit."""
        if amount > self.left:
            self.left = 0
            raise WorkExhausted()
        self.left -= amount


class _PastGuard(BaseException):
    """Raised in the checking thread when the guard fires. A BaseException, so that the
    ``except Exception`` of the code it interrupts does not swallow it."""


def finish_within(seconds: float, what: str, compute: Callable[[], T]) -> T:
    """``compute()``, unless it runs past ``seconds`` of wall-clock time: then
    CheckAbandoned, whatever ``compute`` did meanwhile (never a result it produced late)."""
    guard = _WATCHDOG.arm(seconds)
    try:
        try:
            result = compute()
        finally:
            _WATCHDOG.disarm(guard)
    except BaseException:
        if not guard.fired:          # the check's own error, or Ctrl-C
            raise
    if guard.fired:                  # whatever compute did after: _PastGuard, or a result
        raise CheckAbandoned(f"this machine could not finish checking {what} within "
                             f"{seconds:g} s (a fault of the machine, not of the answer); "
                             "grade it again")
    return result


@dataclass(eq=False)
class _Guard:
    thread: int
    deadline: float
    fired: bool = False


class _Watchdog:
    """One thread for every guard (a thread per check would cost more than most checks):
    it sleeps until the earliest deadline, and interrupts the thread that passed it."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._armed: set[_Guard] = set()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> _Guard:
        guard = _Guard(threading.get_ident(), _clock() + seconds)
        with self._changed:
            if self._thread is None or not self._thread.is_alive():   # or forked since
                self._thread = threading.Thread(target=self._watch, name="mcgrade-guard",
                                                daemon=True)
                self._thread.start()
            self._armed.add(guard)
            self._changed.notify()
        return guard

    def disarm(self, guard: _Guard) -> None:
        """Stop watching; an interruption not raised yet is withdrawn."""
        with self._changed:
            self._armed.discard(guard)
            if guard.fired:
                _raise_in(guard.thread, None)

    def _watch(self) -> None:
        with self._changed:
            while True:
                now = _clock()
                for guard in [g for g in self._armed if g.deadline <= now]:
                    guard.fired = True
                    self._armed.discard(guard)
                    _raise_in(guard.thread, _PastGuard)
                earliest = min((g.deadline for g in self._armed), default=None)
                self._changed.wait(None if earliest is None else earliest - now)


_clock = time.monotonic          # bound once: a test's fake clock must not fire guards
_WATCHDOG = _Watchdog()


def _start_afresh() -> None:
    """In a forked child: the watchdog thread is gone, and its lock may be held forever."""
    global _WATCHDOG
    _WATCHDOG = _Watchdog()


os.register_at_fork(after_in_child=_start_afresh)


def _raise_in(thread: int, exception: type[BaseException] | None) -> None:
    """Make ``thread`` raise ``exception`` at its next bytecode (None: withdraw that)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread), ctypes.py_object(exception) if exception else None)
