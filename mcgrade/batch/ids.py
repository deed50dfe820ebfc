"""Which student each submission file belongs to, decided before anything runs.

An id comes from the file's name (``alice.ipynb`` → alice, or the named group ``id`` of
``--id-pattern``), and, for a file whose name does not match the pattern, from the
notebook's metadata ``{"mcgrade": {"student": "..."}}``. The name comes first because the
instructor's download names the file, while the metadata is whatever the student wrote.
Metadata is read as JSON: nothing in a submission runs to learn whose it is.
Two files for one student, or a file with no id, are refused together, in one message,
before any grading: a gradebook with a silently merged or dropped row is worse than none.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from pathlib import Path

from mcgrade.errors import UsageError
from mcgrade.files import display_name
from mcgrade.submission.sources import SUFFIXES

ID_GROUP = "id"


def collect(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The submission files named by ``paths``: files as given, folders searched (not
    recursively) for notebooks and .py files, sorted by name so runs are repeatable.
    Whatever is named like a submission counts, a folder or a pipe too: it gets its row,
    which says what it is."""
    found: list[Path] = []
    for path in map(Path, paths):
        if is_folder_of_submissions(path):
            found += sorted(p for p in path.iterdir()
                            if p.suffix.lower() in SUFFIXES and not p.name.startswith("."))
        elif os.path.lexists(path):
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    return found


def is_folder_of_submissions(path: Path) -> bool:
    """A folder to search, unless it is named like a submission (``alice.ipynb/``, which
    is then one, unreadable, submission)."""
    return path.is_dir() and path.suffix.lower() not in SUFFIXES


def compile_pattern(pattern: str | None) -> re.Pattern[str] | None:
    """``--id-pattern`` as a regex, checked for its ``(?P<id>...)`` group."""
    if pattern is None:
        return None
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"--id-pattern {pattern!r} is not a regular expression: {exc}") \
            from None
    if ID_GROUP not in compiled.groupindex:
        raise UsageError(f"--id-pattern {pattern!r} has no group named id: write it as "
                         r"e.g. '(?P<id>[a-z0-9]+)_hw1'")
    return compiled


def from_name(path: Path, pattern: re.Pattern[str] | None) -> str | None:
    """The id in the file's name: its stem, or the pattern's ``id`` group (searched in the
    whole file name) when a pattern is given; None when the pattern does not match."""
    if pattern is None:
        return display_name(path.stem) or None
    match = pattern.search(display_name(path.name))
    return (match.group(ID_GROUP) or None) if match else None


def from_metadata(path: Path) -> str | None:
    """The id a notebook's metadata declares, or None (not a notebook, none declared)."""
    if path.suffix.lower() != ".ipynb" or not path.is_file():     # never open a pipe
        return None
    try:
        metadata = json.loads(path.read_bytes()).get("metadata", {})
        student = metadata.get("mcgrade", {}).get("student")
    except (OSError, ValueError, AttributeError):
        return None
    return display_name(student.strip()) or None if isinstance(student, str) else None


def assign(paths: Sequence[Path], pattern: re.Pattern[str] | None = None) -> dict[str, Path]:
    """Each student id with its one file, in the order of ``paths``. Raises UsageError
    naming every file without an id and every id with two files."""
    owners: dict[str, list[Path]] = {}
    unnamed: list[Path] = []
    for path in paths:
        student = from_name(path, pattern) or from_metadata(path)
        if student is None:
            unnamed.append(path)
        else:
            owners.setdefault(student, []).append(path)
    problems = [f"{p}: no student id (the name does not match --id-pattern and the "
                f"notebook's metadata has no mcgrade.student)" for p in unnamed]
    problems += [f"student {student!r} has {len(files)} submissions: "
                 f"{', '.join(map(str, files))}" for student, files in owners.items()
                 if len(files) > 1]
    if problems:
        raise UsageError("; ".join(problems) + ". Keep one file per student, or give "
                         "--id-pattern to say which part of a file name is the id")
    return {student: files[0] for student, files in owners.items()}


def file_name(student: str) -> str:
    """A file name for a student's outputs: the id percent-encoded as UTF-8 (as in a URL:
    one id, one name, so no two students share a record), which no id can escape its
    folder with, and short enough for any file system (a long id keeps its start and,
    after ``=``, which encoding never leaves bare, a hash of the whole)."""
    safe = urllib.parse.quote(student, safe="@+", errors="surrogatepass")
    safe = "%2E" + safe[1:] if safe.startswith(".") else safe
    if len(safe) > 150:
        digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        safe = f"{safe[:100]}={digest}"
    return safe


def student_count(count: int) -> str:
    """'1 student', '3 students': how every line of a batch counts them."""
    return f"{count} student" + ("" if count == 1 else "s")
