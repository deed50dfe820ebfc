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
when grading there, else, only with ``--notebook-times`` (the instructor's collection
writes it: a student can edit their notebook's metadata, so it is never trusted unasked),
the notebook's metadata ``mcgrade.submitted_at`` (Jupyter itself writes no time), else
the file's modification time; the record says which (``"submitted": {"at": …, "from":
"gradescope" | "notebook" | "file"}``). Like overrides, the penalty is applied when the
outputs are rendered, never stored in a record, and the policy and extensions given last
are remembered beside the records (``Ledger``), so a regrade needs not repeat them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from mcgrade.batch import spreadsheet
from mcgrade.errors import UsageError
from mcgrade.model import number

UNITS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
DURATION = {"s": "seconds", "m": "minutes", "min": "minutes", "h": "hours", "d": "days"}
EXAMPLE = "2026-10-01T23:59+02:00"
NONE = "none"                                 # --deadline none: drop a remembered policy
YES, NO = "yes", "no"                         # --notebook-times, --no-notebook-times


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
    if match is None or float(match.group(1)) > 100:
        raise UsageError(f"--late-penalty {text!r}: write a percentage of the points per "
                         "started day or hour, at most 100%, e.g. 10%/day or 2%/hour")
    return float(match.group(1)), match.group(2)


def parse_percent(text: str, option: str) -> float:
    """``50%``: a percentage from 0 to 100."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", text)
    if match is None or float(match.group(1)) > 100:
        raise UsageError(f"{option} {text!r}: write a percentage from 0% to 100%, e.g. 50%")
    return float(match.group(1))


def parse_duration(text: str, where: str) -> timedelta:
    """``15m``, ``2h``, ``1d``, ``90s``, ``0``: a length of time."""
    try:
        return _duration(text)
    except ValueError:
        raise UsageError(f"{where} {text!r}: write a number and a unit, e.g. 15m, 2h or "
                         "1d (s, m, h, d)") from None
    except OverflowError:
        raise UsageError(f"{where} {text!r} is longer than mcgrade can count: give at "
                         f"most {timedelta.max.days}d") from None


def _duration(text: str) -> timedelta:
    """``parse_duration``'s length of time; ValueError if it is not one, OverflowError
    if it is too long for a ``timedelta``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*", text)
    if match is None or (match.group(2) is None and float(match.group(1)) != 0):
        raise ValueError(text)
    return timedelta(**{DURATION[match.group(2) or "s"]: float(match.group(1))})


# --- the policy -----------------------------------------------------------------------

OPTIONS = {"deadline": "--deadline", "penalty": "--late-penalty", "cap": "--late-cap",
           "grace": "--grace", "notebook": "--notebook-times"}


def dropped(given: Mapping[str, str], extensions: str | None = None) -> bool:
    """Whether ``given`` (this run's options) is ``--deadline none``; refused, in one
    line, with any other late option, which it would silently ignore."""
    if given.get("deadline", "").strip().lower() != NONE:
        return False
    others = [OPTIONS[k] for k in given if k != "deadline"]
    others += ["--extensions"] if extensions else []
    if others:
        raise UsageError(f"{', '.join(others)} with --deadline none: none drops the late "
                         "policy and everything with it; give a deadline, or leave out "
                         f"{', '.join(others)}")
    return True


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
    notebook_times: bool = False           # the notebook's mcgrade.submitted_at counts
    extensions: Mapping[str, datetime] = field(default_factory=dict)
    given: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, given: Mapping[str, str]) -> Policy:
        """The policy of the options ``deadline``, ``penalty``, ``cap``, ``grace`` and
        ``notebook`` (``yes`` or ``no``) as written (all but the first may be missing or
        empty)."""
        kept = {k: v for k, v in given.items() if v}
        rate, unit = parse_penalty(kept["penalty"]) if "penalty" in kept else (0.0, "day")
        return cls(parse_time(kept["deadline"], "--deadline"), rate, unit,
                   parse_percent(kept["cap"], "--late-cap") if "cap" in kept else 100.0,
                   parse_duration(kept["grace"], "--grace") if "grace" in kept
                   else timedelta(0), kept.get("notebook") == YES, given=kept)

    def describe(self) -> str:
        """``deadline 2026-10-01T23:59:00+02:00, 10%/day, max 50%, grace 15m``."""
        parts = [f"deadline {self.deadline.isoformat()}",
                 f"{number(self.rate)}%/{self.unit}" if self.rate else "no penalty"]
        if self.rate and self.cap < 100:
            parts.append(f"max {number(self.cap)}%")
        if "grace" in self.given:
            parts.append(f"grace {self.given['grace']}")
        if self.notebook_times:
            parts.append("notebook times")
        return ", ".join(parts)

    def arguments(self) -> list[str]:
        """The options of ``mcgrade grade`` that give this policy (no extensions, and
        never the notebook's time: Gradescope's is known), each one word, for
        run_autograder."""
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
                units = -(-late // UNITS[self.unit])        # started units, exactly
        percent = min(self.cap, self.rate * units, 100.0) if units else 0.0
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
            at = _moment(data["at"])
            return cls(at, str(data["from"])) if at is not None else None
        except (TypeError, KeyError):
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
        return [self.at(), self.deadline.isoformat(), self.units, number(self.penalty),
                number(self.final)]

    def note(self) -> str:
        """One line for the student (Gradescope's output) and the terminal."""
        when = (f"submitted {self.at()} ({_SOURCES[self.submitted.source]})"
                if self.submitted else "no submission time known")
        whose = "your extended deadline" if self.extended else "the deadline"
        if not self.units and self.submitted and self.submitted.at > self.deadline:
            return (f"On time, in the grace period: {when}, after {whose} "
                    f"{self.deadline.isoformat()}.")
        if not self.units:
            return f"On time: {when}, deadline {self.deadline.isoformat()}."
        return (f"Late: {when}, {self.units} {self.unit}{'s' if self.units != 1 else ''} "
                f"after {whose} {self.deadline.isoformat()}: {number(self.percent)}% off "
                f"{number(self.raw)} points is {number(self.penalty)}, so "
                f"{number(self.final)} points.")


_SOURCES = {"gradescope": "Gradescope's time", "notebook": "the notebook's metadata",
            "file": "the file's time"}


def columns(unit: str) -> list[str]:
    """The gradebook's columns for late work, after its others: ``deadline`` is the
    student's own (after any extension)."""
    return ["submitted", "deadline", f"{unit}s_late", "penalty", "final_score"]


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
            found[student] = _own_deadline(text, deadline)
        except (ValueError, UsageError):
            raise UsageError(f"{where}: deadline {text!r}: give a date and time with its "
                             f"UTC offset, e.g. {EXAMPLE}, or a delay after --deadline, "
                             "e.g. +2d or +36h") from None
        except OverflowError:
            raise UsageError(f"{where}: deadline {text!r} ends after the year 9999: give "
                             "a date and time, or a shorter delay after --deadline") from None
        lines[student] = line
    return found


def _own_deadline(text: str, deadline: datetime) -> datetime:
    """An extensions row's deadline: a delay after ``deadline`` (``+2d``) or a date and
    time; ValueError or UsageError if it is neither, OverflowError past the year 9999."""
    if text[:1] == "+":
        return deadline + _duration(text[1:])
    return parse_time(text, "")


# --- submission times -----------------------------------------------------------------

def submitted_of(path: str | os.PathLike[str],
                 gradescope: str | os.PathLike[str] | None = None,
                 notebook: bool = False) -> Submitted | None:
    """When ``path`` was submitted: Gradescope's ``created_at`` in the metadata file
    ``gradescope`` (a UsageError if it is given and gives none: on Gradescope, the file's
    time would make everyone late), else, if ``notebook`` (the instructor's collection
    writes it; a student can too), the notebook's ``mcgrade.submitted_at``, else the
    file's time (whole seconds); None when none is known (e.g. a broken link)."""
    if gradescope is not None:
        return _gradescope(Path(gradescope))
    found = _notebook(Path(path)) if notebook else None
    if found is not None:
        return found
    try:
        seconds = os.stat(path).st_mtime
    except OSError:
        return None
    return Submitted(datetime.fromtimestamp(int(seconds), timezone.utc), "file")


def _gradescope(path: Path) -> Submitted:
    """Gradescope's ``created_at``; a UsageError names the file and what is wrong."""
    where = f"--gradescope-metadata {path}"
    todo = ("give Gradescope's submission_metadata.json (run_autograder passes "
            "/autograder/submission_metadata.json), or leave out the late policy")
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"{where}: can't be read ({exc.strerror}): {todo}") from None
    except ValueError:
        raise UsageError(f"{where}: is not JSON: {todo}") from None
    created = data.get("created_at") if isinstance(data, dict) else None
    if created is None:
        raise UsageError(f"{where}: has no created_at (Gradescope's submission time): "
                         f"{todo}")
    found = _moment(created)
    if found is None:
        raise UsageError(f"{where}: created_at {created!r} is not a date and time with "
                         f"its UTC offset: {todo}")
    return Submitted(found, "gradescope")


def _notebook(path: Path) -> Submitted | None:
    """The time a notebook's metadata says it was submitted (``mcgrade.submitted_at``).
    Read as JSON: nothing runs. Only a regular file: opening a pipe would wait."""
    if path.suffix.lower() != ".ipynb" or not path.is_file():
        return None
    try:
        at = json.loads(path.read_bytes())["metadata"]["mcgrade"]["submitted_at"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    found = _moment(at)
    return Submitted(found, "notebook") if found is not None else None


def _moment(text: Any) -> datetime | None:
    """A submission time written in a file, or None: not a string in ISO 8601 with its
    offset, or too near the year 1 or 9999 to be shown in every UTC offset."""
    if not isinstance(text, str):
        return None
    try:
        moment = parse_time(text, "submitted_at")
    except UsageError:
        return None
    return moment if 1 < moment.year < 9999 else None


def gradescope_results(text: str, outcome: Lateness) -> str:
    """A Gradescope ``results.json`` with the final score and the late note first in
    its output (the tests keep the problems' points, the raw score)."""
    results = json.loads(text)
    results["score"] = number(outcome.final)
    results["output"] = "\n".join(p for p in (outcome.note(), results.get("output", ""))
                                  if p)
    return json.dumps(results, indent=2, ensure_ascii=False) + "\n"
