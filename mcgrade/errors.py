"""Errors mcgrade raises, one class per audience.

    McgradeError
    ├── ProblemSetError    an author's YAML is wrong: carries file:line and a breadcrumb
    ├── ExpressionError    an expression (author's or student's) can't be read or typed;
    │                      carries the text and the column where it went wrong
    ├── SubmissionError    a submission file can't be run or read
    │   └── SandboxUnavailable  no sandbox here may run this set's submissions: grading
    │                      refuses before any runs (one line: why, and what to do)
    ├── CheckAbandoned     this machine could not finish checking an answer: a fault of
    │                      the machine, never a verdict; grade it again
    └── UsageError         the command line asks for something impossible

Raise once, where the fact is known; print at the top (the CLI or the pytest plugin).
"""

from __future__ import annotations


class McgradeError(Exception):
    """Base of every error mcgrade raises on purpose."""


class ExpressionError(McgradeError):
    """An expression string that is not valid in mcgrade's expression language.

    ``message`` says what is wrong and what to write instead; ``column`` (0-based) points
    into ``text`` where that is known.
    """

    def __init__(self, message: str, text: str = "", column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.text = text
        self.column = column

    def __str__(self) -> str:
        if self.column is None:
            return self.message
        return f"{self.message} (at column {self.column + 1})"


class ProblemSetError(McgradeError):
    """A problem set that does not follow the schema.

    Rendered as ``file:line: breadcrumb → message``, e.g.
    ``hw1.yaml:12: problems[3] (id='dz_dw') → wrt: 'v' is not a declared symbol``.
    """

    def __init__(self, message: str, path: str = "", line: int | None = None,
                 breadcrumb: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.breadcrumb = breadcrumb

    def __str__(self) -> str:
        where = self.path or "<problem set>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        crumb = f"{self.breadcrumb} → " if self.breadcrumb else ""
        return f"{where}: {crumb}{self.message}"


class SubmissionError(McgradeError):
    """A submission that can't be read or run at all (not one problem's wrong answer)."""


class SandboxUnavailable(SubmissionError):
    """No sandbox here may run this set's submissions: the one asked for can't start, or
    none that can would hide the set's keys. Nothing has run; nothing will."""


class CheckAbandoned(McgradeError):
    """Checking one answer ran past the last-resort wall-clock guard (``mcgrade.engine.budget``).

    Symbolic work is bounded by deterministic allowances, so this means a hang they did
    not foresee, or a machine too loaded to finish: no verdict is given (a verdict must not
    depend on the machine), and the submission should be graded again.
    """


class UsageError(McgradeError):
    """The command line asks for something that can't be done."""
