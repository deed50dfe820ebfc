"""The ledger: one record per graded student in ``OUT/records/``, what resume reads.

Each record is written atomically as soon as its student is graded, so an interrupted run
(Ctrl-C, a kill, a power cut) leaves only whole records. A record carries a key: a hash of
the submission's bytes, the problem set's bytes, the student id and mcgrade's version. A
re-run skips a student whose stored key matches (nothing changed) and regrades the rest;
``--force`` regrades everyone. Gradebooks are rendered from the whole ledger, never kept
apart from it, so they can't disagree with it; a record also carries the digest of the
problem set it was graded against, so that records of another version of the set are
never mixed into a gradebook. It also carries what each problem's verdict depends on
(``Definitions``: a digest of each problem's definition, of what running the submission
for it asks, and of the rest of the set), so that editing one problem regrades only that
problem, from the stored answers (``mcgrade.batch.plan``). The records hold students'
answers: the folder is private to its owner (0700), as is each record.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from mcgrade.batch.ids import file_name
from mcgrade.files import remove_temporaries, write_atomic
from mcgrade.model import Answer, GradeReport, Problem, ProblemSet
from mcgrade.records import answer_data, answer_of, report_of, report_record

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
    # what the verdicts depend on (``definitions``), and the key of the submission alone
    # (``key_of`` with no set): empty in records of an older mcgrade
    definitions: Definitions | None = None
    submission_key: str = ""
    # when the file was submitted, and what said so ({"at": …, "from": "file"}:
    # ``mcgrade.batch.late``); None in records of an older mcgrade
    submitted: Mapping[str, str] | None = None

    def to_json(self) -> str:
        record = {"format": FORMAT, "student": self.student, "file": self.file,
                  "key": self.key, "set_digest": self.set_digest,
                  "record": report_record(self.report),
                  "answers": {n: answer_data(a) for n, a in self.answers.items()}}
        if self.definitions is not None and self.submission_key:
            record["submission_key"] = self.submission_key
            record.update(self.definitions.to_data())
        if self.submitted is not None:
            record["submitted"] = dict(self.submitted)
        return json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Entry:
        report = report_of(data["record"], tuple(data.get("notes", ())))
        answers = {n: answer_of(a) for n, a in data.get("answers", {}).items()}
        return cls(data["student"], data["file"], data["key"], report, answers,
                   data.get("set_digest", ""), Definitions.of_data(data),
                   data.get("submission_key", ""), data.get("submitted"))


@dataclass(frozen=True)
class Definitions:
    """What a set's verdicts depend on, hashed: ``frame``, everything but the problems
    (layout, symbols, dimensions, tolerance, timeout, params, the title that seeds the
    sample points…), a change to which regrades everyone from their submissions;
    ``problems``, each problem's definition (not where it is written); and ``runs``,
    what running a submission asks of each problem (its name, form, timeout, whether it
    is a shape): a change there means the stored answer is not the one a run would read."""

    frame: str
    problems: Mapping[str, str]
    runs: Mapping[str, str]

    @classmethod
    def of(cls, problem_set: ProblemSet) -> Definitions:
        frame = {k: v for k, v in asdict(problem_set).items() if k not in ("problems", "path")}
        return cls(_digest(frame), {p.id: _digest(asdict(p)) for p in problem_set.problems},
                   {p.id: _digest(_run_of(p)) for p in problem_set.problems})

    def to_data(self) -> dict[str, Any]:
        return {"frame_digest": self.frame, "problems_digest": dict(self.problems),
                "runs_digest": dict(self.runs)}

    @classmethod
    def of_data(cls, data: Mapping[str, Any]) -> Definitions | None:
        if not all(k in data for k in ("frame_digest", "problems_digest", "runs_digest")):
            return None
        return cls(str(data["frame_digest"]), dict(data["problems_digest"]),
                   dict(data["runs_digest"]))


def _run_of(problem: Problem) -> dict[str, Any]:
    """What reading a submission's answer to ``problem`` depends on. A function answer's
    values were computed at the problem's sample points: its whole definition."""
    if problem.form == "function":
        return {"function": asdict(problem)}
    return {"name": problem.answer_name, "shape": problem.kind == "shape",
            "timeout": problem.timeout}


def _digest(data: Any) -> str:
    """A definition hashed, without where it was written (lines shift with any edit)."""
    return hashlib.sha256(json.dumps(_unplaced(data), sort_keys=True, default=repr)
                          .encode()).hexdigest()


def _unplaced(data: Any) -> Any:
    if isinstance(data, dict):
        return {str(k): _unplaced(v) for k, v in data.items()
                if k not in ("location", "key_lines")}
    if isinstance(data, (list, tuple)):
        return [_unplaced(v) for v in data]
    return data


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
LATE = "late-policy"             # the last late policy (--deadline …), as JSON: not a
                                 # record (no .json: a student may be called "late")
EXTENSIONS = "extensions.csv"    # and the last --extensions


class Ledger:
    """The records folder of an output directory."""

    def __init__(self, out: str | Path) -> None:
        self.folder = Path(out) / "records"
        self.submitted: dict[str, Mapping[str, str]] = {}   # see ``put``

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
        """Store ``entry``, with its student's submission time if the driver set one in
        ``submitted`` (a batch learns it from the files, before grading)."""
        entry = replace(entry, submitted=self.submitted.get(entry.student, entry.submitted))
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(self.path(entry.student), entry.to_json(), private=True)

    def remembered(self, name: str) -> str | None:
        """The file ``name`` (``OVERRIDES``, ``EXTENSIONS``) a run was last given, kept by
        ``remember``, if any."""
        kept = self.folder / name
        return str(kept) if kept.is_file() else None

    def remember(self, name: str, path: str | os.PathLike[str]) -> None:
        """Keep a copy of a file a run was given (private, like the records) as ``name``:
        overrides and extensions survive a later run that does not name them."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if Path(path).resolve() != (self.folder / name).resolve():
            write_atomic(self.folder / name, Path(path).read_bytes(), private=True)

    def remembered_late(self) -> dict[str, str]:
        """The late policy a run was last given (``remember_late``), or {}."""
        try:
            data = json.loads((self.folder / LATE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def remember_late(self, given: Mapping[str, str]) -> None:
        """Keep the late policy's options as written ({} forgets it, and the extensions)."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not given:
            for name in (LATE, EXTENSIONS):
                (self.folder / name).unlink(missing_ok=True)
            return
        write_atomic(self.folder / LATE, json.dumps(dict(given), indent=2, sort_keys=True)
                     + "\n", private=True)

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
