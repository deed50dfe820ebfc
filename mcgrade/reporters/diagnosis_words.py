"""What each diagnosis code means, in words: the one table every reporter reads.

    label(code) -> str     # what the answer is: "wrong sign" (a student's page, a cell)
    phrase(code) -> str    # what the class did: "41% got the sign wrong in q3"
"""

from __future__ import annotations

from dataclasses import dataclass

from mcgrade.model import Diagnosis


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


def _words(code: str) -> Words | None:
    try:
        return WORDS[Diagnosis(code)]
    except ValueError:                    # a code of a newer mcgrade, or an older record
        return None


def label(code: str) -> str:
    """What an answer diagnosed ``code`` is, in a few words ("" for an unknown code)."""
    words = _words(code)
    return words.label if words is not None else ""


def phrase(code: str) -> str:
    """What students diagnosed ``code`` did, as a verb phrase."""
    words = _words(code)
    return words.phrase if words is not None else f"were diagnosed {code}"
