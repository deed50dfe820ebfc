"""What each diagnosis code means, in words: the one table every reporter reads.

    label(code) -> str     # what the answer is: "wrong sign" (a student's page, a cell)
    phrase(code) -> str    # what the class did: "41% got the sign wrong in q3"

An ``error`` verdict says no more than that the answer has no value; ``cause(verdict,
notes)`` reads what it carries to say why (``CAUSES``), and ``label``/``phrase`` take that
cause: nothing of the submission could be run, the script stopped before the answer, or
the answer's own code raised. The codes themselves never change.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from mcgrade.model import NOT_REACHED, Diagnosis, Verdict


@dataclass(frozen=True)
class Words:
    """A diagnosis in words: ``label``, what the answer is; ``phrase``, a verb phrase
    for what the students did."""

    label: str
    phrase: str


WORDS: dict[Diagnosis, Words] = {
    Diagnosis.TRANSPOSED: Words("transposed", "transposed the answer"),
    Diagnosis.FLAT_ARRAY: Words("a 1-D array where a row or column is expected",
                                "gave a 1-D array"),
    Diagnosis.WRONG_SHAPE: Words("wrong shape", "gave the wrong shape"),
    Diagnosis.SIGN: Words("wrong sign", "got the sign wrong"),
    Diagnosis.SCALE_FACTOR: Words("off by a constant factor",
                                  "were off by a constant factor"),
    Diagnosis.ELEMENTWISE_VS_MATRIX: Words(
        "element-wise vs matrix (a missing or extra diag)",
        "mixed up element-wise and matrix (diag)"),
    Diagnosis.PIECEWISE_BRANCH: Words("right on one branch only",
                                      "were right on one branch only"),
    Diagnosis.AUTHOR_MISTAKE: Words("a known mistake", "made a known mistake"),
    Diagnosis.NOT_EQUIVALENT: Words("not equivalent", "gave a non-equivalent answer"),
    Diagnosis.UNPARSEABLE: Words("not an expression",
                                 "wrote something that is not an expression"),
    Diagnosis.NON_FINITE: Words("NaN or infinity", "got NaN or infinity"),
    Diagnosis.MISSING: Words("no answer", "gave no answer"),
    Diagnosis.TIMEOUT: Words("ran out of time", "ran out of time"),
    Diagnosis.ERROR: Words("raised an error", "had code that raised an error"),
    Diagnosis.FORBIDDEN: Words("uses a forbidden function", "used a forbidden function"),
}
"""Every code of SPEC §4's vocabulary (``Diagnosis``), in words."""

NOT_RUN, STOPPED = "not-run", "stopped"

CAUSES: dict[str, Words] = {
    NOT_RUN: Words("not run: the submission could not be read or run",
                   "had a submission that could not be read or run"),
    STOPPED: Words("not reached: the script stopped before defining it",
                   "had a script that stopped before defining it"),
}
"""Why an ``error`` verdict's answer has no value, when it is not that its code raised."""


def cause(verdict: Verdict, notes: Collection[str]) -> str:
    """Why ``verdict`` (an ``error``) has no value, a key of ``CAUSES``; "" when its own
    code raised, or for any other verdict. Its reason, the feedback's first line, is one
    of the submission's ``notes`` when nothing of the submission ran, and starts "x was
    not defined before the script stopped: …" when the script stopped first."""
    if Diagnosis.ERROR not in verdict.diagnoses:
        return ""
    reason = verdict.feedback.split("\n", 1)[0]
    if reason in notes:
        return NOT_RUN
    return STOPPED if reason.split(": ", 1)[0].endswith(NOT_REACHED) else ""


def _words(code: str, why: str = "") -> Words | None:
    if code == Diagnosis.ERROR and why in CAUSES:
        return CAUSES[why]
    try:
        return WORDS[Diagnosis(code)]
    except ValueError:                    # a code of a newer mcgrade, or an older record
        return None


def label(code: str, why: str = "") -> str:
    """What an answer diagnosed ``code`` is, in a few words ("" for an unknown code);
    ``why``: an error's ``cause``."""
    words = _words(code, why)
    return words.label if words is not None else ""


def phrase(code: str, why: str = "") -> str:
    """What students diagnosed ``code`` did, as a verb phrase; ``why``: an error's
    ``cause``."""
    words = _words(code, why)
    return words.phrase if words is not None else f"were diagnosed {code}"
