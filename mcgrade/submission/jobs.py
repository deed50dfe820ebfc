"""A sandboxed job and its raw outcome: what every pool takes and gives back, so that the
warm pool (``pool.py``) and the portable one (``portable.py``) are read alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Job:
    """What a child reads (``payload``, JSON) and how much of its output to keep."""

    payload: dict[str, Any]
    output_cap: int = 1 << 20


@dataclass(frozen=True)
class JobOutcome:
    """A job's raw outcome. ``failure``: "" (see ``result``), "deadline", "worker" (it
    killed the worker while running alone), "overflow" (its result was too large) or
    "lost" (its supervisor ended without a whole result, twice)."""

    result: bytes | None
    output: bytes = b""
    output_bytes: int = 0
    elapsed: float = 0.0
    failure: str = ""
