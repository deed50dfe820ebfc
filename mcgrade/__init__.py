"""mcgrade: an autograder for matrix calculus.

Importing the package is cheap: the engine (sympy, numpy) loads only when a name below is
first used, so the pytest plugin costs nothing in projects that don't switch it on.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "GradeReport",
    "Grader",
    "McgradeError",
    "ProblemSet",
    "Verdict",
    "assert_correct",
    "check",
    "check_answers",
    "load_problem_set",
]

_HOMES = {
    "assert_correct": "mcgrade.api",
    "check": "mcgrade.api",
    "check_answers": "mcgrade.jupyter",
    "Answer": "mcgrade.model",
    "GradeReport": "mcgrade.model",
    "Grader": "mcgrade.grading",
    "McgradeError": "mcgrade.errors",
    "ProblemSet": "mcgrade.model",
    "Verdict": "mcgrade.model",
    "load_problem_set": "mcgrade.problemset",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'mcgrade' has no attribute {name!r}")
