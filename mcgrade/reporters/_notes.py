"""What every report shows once: a note about the whole submission."""

from __future__ import annotations

from collections.abc import Sequence


def without_notes(feedback: str, notes: Sequence[str], instead: str) -> str:
    """``feedback`` without the lines that repeat a note about the whole submission (a
    syntax error that stopped everything: every answer's feedback is that note), which
    the report shows once at its start; ``instead`` says where, first."""
    lines = feedback.split("\n")
    kept = [line for line in lines if line not in notes]
    if len(kept) < len(lines):
        kept.insert(0, instead)
    return "\n".join(kept).strip("\n")
