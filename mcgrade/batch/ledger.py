"""The ledger: one record per graded student in ``OUT/records/``, what resume reads.

Each record is written atomically as soon as its student is graded, so an interrupted run
(Ctrl-C, a kill, a power cut) leaves only whole records. A record carries a key: a hash of
the submission's bytes, the problem set's bytes, the student id and mcgrade's version. A
re-run skips a student whose stored key matches (nothing changed) and regrades the rest;
``--force`` regrades everyone. Gradebooks are rendered from the whole ledger, never kept
apart from it, so they can't disagree with it; a record also carries the digest of the
problem set it was graded against, so that records of another version of the set are
never mixed into a gradebook. The records hold students' answers: the folder is private
to its owner (0700), as is each record.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from mcgrade.batch.ids import file_name
from mcgrade.files import remove_temporaries, write_atomic
from mcgrade.model import Answer, GradeReport, Verdict

FORMAT = 1
try:
    VERSION = importlib.metadata.version("mcgrade")
except importlib.metadata.PackageNotFoundError:     # run from a source tree
    VERSION = "unknown"


@dataclass(frozen=True)
class Entry:
    """A student's graded submission: whose, which file, its key, and the report."""

    student: str
    file: str
    key: str
    report: GradeReport
    answers: Mapping[str, Answer] = field(default_factory=dict)   # for feedback pages
    set_digest: str = ""            # the problem set graded against (``set_digest``)

    def to_json(self) -> str:
        record = {"format": FORMAT, "student": self.student, "file": self.file,
                  "key": self.key, "set_digest": self.set_digest,
                  "notes": list(self.report.notes),
                  "record": self.report.to_record(),
                  "answers": {n: answer_data(a) for n, a in self.answers.items()}}
        return json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Entry:
        report = report_of(data["record"], data.get("notes", ()))
        answers = {n: answer_of(a) for n, a in data.get("answers", {}).items()}
        return cls(data["student"], data["file"], data["key"], report, answers,
                   data.get("set_digest", ""))


def answer_data(answer: Answer) -> dict[str, Any]:
    """An answer as JSON data (what the feedback pages show as "your answer")."""
    value = answer.value
    if answer.kind == "function":
        value = [answer_data(a) for a in value or ()]
    elif isinstance(value, tuple):
        value = list(value)
    elif not isinstance(value, (int, float, str, type(None))):
        value = None                                    # e.g. a complex: its text says it
    return {"kind": answer.kind, "text": answer.text, "value": value,
            "shape": list(answer.shape)}


def answer_of(data: Mapping[str, Any]) -> Answer:
    """The inverse of ``answer_data``."""
    value = data.get("value")
    if data["kind"] == "function":
        value = tuple(answer_of(a) for a in value or ())
    elif isinstance(value, list):
        value = tuple(value)
    return Answer(data["kind"], data.get("text", ""), value, tuple(data.get("shape", ())))


def report_of(record: Mapping[str, Any], notes: Iterable[str] = ()) -> GradeReport:
    """The GradeReport a SPEC §4 record (and its notes, which the record leaves out) was."""
    return GradeReport(record["submission"], record["problem_set"],
                       tuple(Verdict.from_record(v) for v in record["problems"]),
                       tuple(notes), record.get("sandbox", ""))


def set_digest(problem_set: bytes) -> str:
    """Which version of a problem set a record was graded against: its bytes, hashed."""
    return hashlib.sha256(problem_set).hexdigest()


def key_of(submission: bytes, problem_set: bytes, student: str) -> str:
    """What a record depends on, hashed: any change to one of these regrades."""
    digest = hashlib.sha256()
    for part in (VERSION.encode(), problem_set, student.encode("utf-8"), submission):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


OVERRIDES = "overrides.csv"      # the instructor's last --overrides, beside the records


class Ledger:
    """The records folder of an output directory."""

    def __init__(self, out: str | Path) -> None:
        self.folder = Path(out) / "records"

    def path(self, student: str) -> Path:
        return self.folder / f"{file_name(student)}.json"

    def get(self, student: str) -> Entry | None:
        """The stored entry of ``student``, or None (none yet, or unreadable: regrade)."""
        try:
            data = json.loads(self.path(student).read_text(encoding="utf-8"))
            if data.get("format") != FORMAT or data.get("student") != student:
                return None
            return Entry.from_json(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, entry: Entry) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(self.path(entry.student), entry.to_json(), private=True)

    def remembered_overrides(self) -> str | None:
        """The overrides file a run was last given (see ``remember_overrides``), if any."""
        kept = self.folder / OVERRIDES
        return str(kept) if kept.is_file() else None

    def remember_overrides(self, path: str | os.PathLike[str]) -> None:
        """Keep a copy of the overrides file (private, like the records): overrides
        survive a later run that does not name it."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if Path(path).resolve() != (self.folder / OVERRIDES).resolve():
            write_atomic(self.folder / OVERRIDES, Path(path).read_bytes(), private=True)

    def tidy(self) -> None:
        """Before a run: remove the temporaries a killed run left, and make a folder that
        an older mcgrade created readable by its owner only."""
        remove_temporaries(self.folder, ".json")
        if self.folder.is_dir() and self.folder.stat().st_mode & 0o077:
            self.folder.chmod(0o700)

    def gradebook(self, digest: str) -> tuple[list[Entry], int]:
        """The entries graded against the problem set with this ``digest`` (``set_digest``),
        and how many others the ledger holds (graded against another version of it)."""
        everyone = list(self.entries())
        current = [e for e in everyone if e.set_digest == digest]
        return current, len(everyone) - len(current)

    def entries(self) -> Iterator[Entry]:
        """Every readable entry, in the order of student ids."""
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                found.append(Entry.from_json(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        yield from sorted(found, key=lambda e: e.student)
