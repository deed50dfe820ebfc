"""Late work: a deadline, a penalty per started day or hour (with a cap and a grace
period), per-student extensions, applied from the time each submission was made.

    --deadline 2026-10-01T23:59+02:00   ISO 8601 with its UTC offset (Z for UTC)
    --late-penalty 10%/day              a percentage of the points earned, per started
                                        day (or hour) after the deadline
    --late-cap 50%                      at most this much in all (default 100%)
    --grace 15m                         this long after the deadline is on time (s m h d)
    --extensions FILE                   a CSV of student,deadline: a new deadline, or a
                                        delay after --deadline (+2d, +36h)

The rule: late = submitted − the student's deadline. At most the grace period late (or
early) is on time. Otherwise each started unit counts as one (1 minute late is 1 day
late), and the penalty is min(cap, rate × units) percent of the raw score: the score
after the instructor's overrides. It is never more than the raw score, so a final score
is never negative.

When a submission was made: Gradescope's ``submission_metadata.json`` (``created_at``)
when grading there, else the notebook's metadata ``mcgrade.submitted_at`` (what a
collection script writes; Jupyter itself writes no time), else the file's modification
time; the record says which (``"submitted": {"at": …, "from": "gradescope" | "notebook" |
"file"}``). Like overrides, the penalty is applied when the outputs are rendered, never
stored in a record, and the policy and extensions given last are remembered beside the
records (``Ledger``), so a regrade needs not repeat them.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Collection, Mapping

from mcgrade.batch import spreadsheet
from mcgrade.errors import UsageError
from mcgrade.model import number

UNITS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
DURATION = {"s": "seconds", "m": "minutes", "min": "minutes", "h": "hours", "d": "days"}
EXAMPLE = "2026-10-01T23:59+02:00"
NONE = "none"                                 # --deadline none: drop a remembered policy


# --- parsing --------------------------------------------------------------------------

def parse_time(text: str, where: str) -> datetime:
    """An ISO 8601 date and time with its UTC offset; ``where`` starts the error."""
    value = text.strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{where} {text!r} is not a date and time: write it in ISO 8601 "
                         f"with its UTC offset, e.g. {EXAMPLE} (or Z for UTC)") from None
    if moment.tzinfo is None:
        raise UsageError(f"{where} {text!r} has no time or no UTC offset: write both, e.g. "
                         f"{EXAMPLE} (or Z for UTC), so that it is the same moment on "
                         "every machine")
    return moment


def parse_penalty(text: str) -> tuple[float, str]:
    """``10%/day`` (also ``10% per day``, ``2.5%/hour``): the rate and its unit."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*(?:/|per)\s*(day|hour)s?\s*", text)
    if match is None:
        raise UsageError(f"--late-penalty {text!r}: write a percentage of the points per "
                         "started day or hour, e.g. 10%/day or 2%/hour")
    return float(match.group(1)), match.group(2)


def parse_percent(text: str, option: str) -> float:
    """``50%``: a percentage from 0 to 100."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", text)
    if match is None or float(match.group(1)) > 100:
        raise UsageError(f"{option} {text!r}: write a percentage from 0% to 100%, e.g. 50%")
    return float(match.group(1))


def parse_duration(text: str, where: str) -> timedelta:
    """``15m``, ``2h``, ``1d``, ``90s``, ``0``: a length of time."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*", text)
    if match is None or (match.group(2) is None and float(match.group(1)) != 0):
        raise UsageError(f"{where} {text!r}: write a number and a unit, e.g. 15m, 2h or "
                         "1d (s, m, h, d)")
    return timedelta(**{DURATION[match.group(2) or "s"]: float(match.group(1))})


# --- the policy -----------------------------------------------------------------------

OPTIONS = {"deadline": "--deadline", "penalty": "--late-penalty", "cap": "--late-cap",
           "grace": "--grace"}


def policy_of(options: Mapping[str, str], given: Collection[str] = ()) -> Policy | None:
    """The policy of ``options`` (``OPTIONS``' keys, as written), None without any;
    ``given`` names those of this run, for the error when the deadline is missing."""
    if not options.get("deadline"):
        if options:
            named = ", ".join(OPTIONS[k] for k in given or options)
            raise UsageError(f"{named} without a deadline: give --deadline too, e.g. "
                             f"--deadline {EXAMPLE}")
        return None
    return Policy.of(options)


@dataclass(frozen=True)
class Policy:
    """A deadline and what being late costs; ``given`` holds the options as written
    (what ``Ledger.remember_late`` keeps and a later run reads back)."""

    deadline: datetime
    rate: float = 0.0                      # percent per started unit
    unit: str = "day"
    cap: float = 100.0
    grace: timedelta = timedelta(0)
    extensions: Mapping[str, datetime] = field(default_factory=dict)
    given: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, given: Mapping[str, str]) -> Policy:
        """The policy of the options ``deadline``, ``penalty``, ``cap`` and ``grace`` as
        written (the last three may be missing or empty)."""
        kept = {k: v for k, v in given.items() if v}
        rate, unit = parse_penalty(kept["penalty"]) if "penalty" in kept else (0.0, "day")
        return cls(parse_time(kept["deadline"], "--deadline"), rate, unit,
                   parse_percent(kept["cap"], "--late-cap") if "cap" in kept else 100.0,
                   parse_duration(kept["grace"], "--grace") if "grace" in kept
                   else timedelta(0), given=kept)

    def describe(self) -> str:
        """``deadline 2026-10-01T23:59:00+02:00, 10%/day, max 50%, grace 15m``."""
        parts = [f"deadline {self.deadline.isoformat()}",
                 f"{number(self.rate)}%/{self.unit}" if self.rate else "no penalty"]
        if self.rate and self.cap < 100:
            parts.append(f"max {number(self.cap)}%")
        if "grace" in self.given:
            parts.append(f"grace {self.given['grace']}")
        return ", ".join(parts)

    def arguments(self) -> list[str]:
        """The options of ``mcgrade grade`` that give this policy (no extensions), each
        one word, for run_autograder."""
        return ["--deadline", self.deadline.isoformat(),
                "--late-penalty", f"{number(self.rate)}%/{self.unit}",
                "--late-cap", f"{number(self.cap)}%",
                "--grace", f"{number(self.grace.total_seconds())}s"]

    def outcome(self, student: str, submitted: Submitted | None, raw: float) -> Lateness:
        """What the policy makes of ``student``'s ``raw`` score, submitted then."""
        deadline = self.extensions.get(student, self.deadline)
        units = 0
        if submitted is not None:
            late = submitted.at - deadline
            if late > self.grace and late > timedelta(0):
                units = math.ceil(late / UNITS[self.unit])
        percent = min(self.cap, self.rate * units, 100.0)
        penalty = round(raw * percent / 100, 6)
        return Lateness(deadline, student in self.extensions, submitted, units, self.unit,
                       percent, raw, penalty)


@dataclass(frozen=True)
class Submitted:
    """When a submission was made, and what said so."""

    at: datetime
    source: str                            # "gradescope" | "notebook" | "file"

    def to_data(self) -> dict[str, str]:
        return {"at": _utc(self.at), "from": self.source}

    @classmethod
    def of_data(cls, data: Mapping[str, Any] | None) -> Submitted | None:
        if data is None:
            return None
        try:
            return cls(parse_time(str(data["at"]), "submitted"), str(data["from"]))
        except (TypeError, KeyError, UsageError):
            return None


@dataclass(frozen=True)
class Lateness:
    """One student against the policy: late by ``units`` started days or hours, so
    ``penalty`` points (``percent`` of ``raw``) are taken off."""

    deadline: datetime
    extended: bool
    submitted: Submitted | None
    units: int
    unit: str
    percent: float
    raw: float
    penalty: float

    @property
    def final(self) -> float:
        return round(self.raw - self.penalty, 6)

    def fields(self) -> dict[str, Any]:
        """What the record adds (SPEC §4 fields unchanged): ``submitted`` and ``late``."""
        late = {"deadline": self.deadline.isoformat(), "extension": self.extended,
                f"{self.unit}s": self.units, "percent": number(self.percent),
                "penalty": number(self.penalty), "final_score": number(self.final)}
        if self.submitted is None:
            return {"late": late}
        return {"submitted": {"at": self.at(), "from": self.submitted.source}, "late": late}

    def at(self) -> str:
        """When it was submitted, in the deadline's UTC offset (to compare at a glance)."""
        if self.submitted is None:
            return ""
        return self.submitted.at.astimezone(self.deadline.tzinfo).isoformat()

    def cells(self) -> list[str | float | int]:
        """Its cells under ``columns``."""
        return [self.at(), self.units, number(self.penalty), number(self.final)]

    def note(self) -> str:
        """One line for the student (Gradescope's output) and the terminal."""
        when = (f"submitted {self.at()} ({_SOURCES[self.submitted.source]})"
                if self.submitted else "no submission time known")
        whose = "your extended deadline" if self.extended else "the deadline"
        if not self.units:
            return f"On time: {when}, deadline {self.deadline.isoformat()}."
        return (f"Late: {when}, {self.units} {self.unit}{'s' if self.units != 1 else ''} "
                f"after {whose} {self.deadline.isoformat()}: {number(self.percent)}% off "
                f"{number(self.raw)} points is {number(self.penalty)}, so "
                f"{number(self.final)} points.")


_SOURCES = {"gradescope": "Gradescope's time", "notebook": "the notebook's metadata",
            "file": "the file's time"}


def columns(unit: str) -> list[str]:
    """The gradebook's columns for late work, after its others."""
    return ["submitted", f"{unit}s_late", "penalty", "final_score"]


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


# --- extensions -----------------------------------------------------------------------

def read_extensions(path: str | os.PathLike[str], deadline: datetime,
                    students: Collection[str]) -> dict[str, datetime]:
    """``student,deadline`` rows: each student's own deadline, a date and time or a delay
    after ``deadline`` (``+2d``); a UsageError names the first wrong line."""
    header, rows = spreadsheet.read(path)
    names = {c: spreadsheet.column(header, c) or "" for c in ("student", "deadline")}
    if not all(names.values()):
        raise UsageError(f"{path}:1: the header names the columns student and deadline "
                         "(in any order)")
    found: dict[str, datetime] = {}
    lines: dict[str, int] = {}
    for line, row in rows:
        student, text = row[names["student"]], row[names["deadline"]]
        where = f"{path}:{line}"
        spreadsheet.require_known(where, "student", student, students, "is not in the gradebook")
        if student in found:
            raise UsageError(f"{where}: {student!r} has an extension already on line "
                             f"{lines[student]}; keep one row")
        try:
            found[student] = (deadline + parse_duration(text[1:], "") if text[:1] == "+"
                              else parse_time(text, ""))
        except UsageError:
            raise UsageError(f"{where}: deadline {text!r}: give a date and time with its "
                             f"UTC offset, e.g. {EXAMPLE}, or a delay after --deadline, "
                             "e.g. +2d or +36h") from None
        lines[student] = line
    return found


# --- submission times -----------------------------------------------------------------

def submitted_of(path: str | os.PathLike[str],
                 gradescope: str | os.PathLike[str] | None = None) -> Submitted | None:
    """When ``path`` was submitted: Gradescope's ``created_at`` in the metadata file
    ``gradescope``, else the notebook's ``mcgrade.submitted_at``, else the file's time
    (whole seconds); None when none is known (e.g. a broken link)."""
    if gradescope is not None:
        found = _gradescope(Path(gradescope))
        if found is not None:
            return found
    found = _notebook(Path(path))
    if found is not None:
        return found
    try:
        seconds = os.stat(path).st_mtime
    except OSError:
        return None
    return Submitted(datetime.fromtimestamp(int(seconds), timezone.utc), "file")


def _gradescope(path: Path) -> Submitted | None:
    try:
        created = json.loads(path.read_bytes()).get("created_at")
        return Submitted(parse_time(str(created), "created_at"), "gradescope")
    except (OSError, ValueError, AttributeError, UsageError):
        return None


def _notebook(path: Path) -> Submitted | None:
    """The time a notebook's metadata says it was submitted (``mcgrade.submitted_at``).
    Read as JSON: nothing runs. Only a regular file: opening a pipe would wait."""
    if path.suffix.lower() != ".ipynb" or not path.is_file():
        return None
    try:
        at = json.loads(path.read_bytes())["metadata"]["mcgrade"]["submitted_at"]
        return Submitted(parse_time(str(at), "submitted_at"), "notebook")
    except (OSError, ValueError, KeyError, TypeError, UsageError):
        return None


def gradescope_results(text: str, outcome: Lateness) -> str:
    """A Gradescope ``results.json`` with the final score and the late note first in
    its output (the tests keep the problems' points, the raw score)."""
    results = json.loads(text)
    results["score"] = number(outcome.final)
    results["output"] = "\n".join(p for p in (outcome.note(), results.get("output", ""))
                                  if p)
    return json.dumps(results, indent=2, ensure_ascii=False) + "\n"
