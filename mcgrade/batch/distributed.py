"""Grading on a Dask cluster: ``mcgrade grade … --dask tcp://scheduler:8786``.

A course that outgrows one machine uses an engine that exists rather than a home-made
one: Dask distributed (``pip install mcgrade[dask]``) schedules chunks of submissions on
its workers, retries a chunk whose worker died, and reports back. Each worker runs the very
same code as a single machine does (``local.grade_local``: the warm pool, the same
sandbox), with mcgrade installed on it; the submissions and the problem set travel as bytes,
so workers need no shared file system. Only plain data comes back (records,
``mcgrade.records``); this process writes the ledger. A worker grades one chunk at a time, ``jobs``
submissions at once, keeping one compiled Grader per problem set.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from mcgrade.batch.ledger import set_digest
from mcgrade.batch.local import GradedSubmission, Item, grade_local
from mcgrade.errors import UsageError
from mcgrade.records import answer_data, answer_of, report_of, report_record

CHUNK = 8
Payload = tuple[str, str, "bytes | None"]          # (student, file name, contents)
_graders: dict[str, Any] = {}                         # per worker process: set hash → Grader
_lock = threading.Lock()                              # one chunk at a time per process


def grade_on_dask(address: str, items: Sequence[Item], problem_set_path: str, *,
                  sandbox: str = "auto", jobs: int = 1,
                  chunk: int = CHUNK) -> Iterator[GradedSubmission]:
    """Each item's report (and answers), as the cluster at ``address`` finishes its chunk."""
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise UsageError("--dask needs Dask distributed: pip install 'mcgrade[dask]'") \
            from None
    set_path = Path(problem_set_path)
    set_bytes = set_path.read_bytes()
    payloads = [_payload(student, path) for student, path in items]
    chunks = [payloads[i:i + chunk] for i in range(0, len(payloads), chunk)]
    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"--dask {address}: can't reach the scheduler ({exc})") from None
    try:
        futures = client.map(grade_chunk, chunks, set_name=set_path.name,
                             set_bytes=set_bytes, sandbox=sandbox, jobs=jobs, pure=False)
        for future in as_completed(futures):
            for student, record, answers, ungraded in future.result():
                yield student, report_of(record), {
                    name: answer_of(data) for name, data in answers.items()}, ungraded
    finally:
        client.close()


def grade_chunk(chunk: Sequence[Payload], *, set_name: str, set_bytes: bytes,
                sandbox: str, jobs: int) -> list[tuple[str, dict[str, Any], dict[str, Any], str]]:
    """On a worker: grade a chunk of submissions; their records as plain data."""
    with _lock, tempfile.TemporaryDirectory(prefix="mcgrade-dask-") as folder:
        grader = _grader(set_name, set_bytes)
        items: list[Item] = []
        for index, (student, name, content) in enumerate(chunk):
            path = Path(folder) / str(index) / name
            path.parent.mkdir()
            if content is not None:
                path.write_bytes(content)
            items.append((student, path))
        return [(student, report_record(report),
                 {name: answer_data(a) for name, a in answers.items()}, ungraded)
                for student, report, answers, ungraded in grade_local(
                    items, grader, sandbox=sandbox, jobs=jobs)]


def _grader(set_name: str, set_bytes: bytes) -> Any:
    """This worker's compiled Grader of a problem set (compiled on first use)."""
    from mcgrade.grading import Grader
    from mcgrade.problemset import load_problem_set

    digest = set_digest(set_bytes)
    if digest not in _graders:
        # read from a private folder, removed at once: no key copy stays where a
        # submission (or another user) could find it
        with tempfile.TemporaryDirectory(prefix="mcgrade-dask-set-") as folder:
            path = Path(folder) / set_name
            path.write_bytes(set_bytes)
            _graders[digest] = Grader(load_problem_set(path))
    return _graders[digest]


def _payload(student: str, path: Path) -> Payload:
    try:                # a pipe or a folder is not read: the worker reports it missing
        return student, path.name, path.read_bytes() if path.is_file() else None
    except OSError:                         # the worker reports the missing file
        return student, path.name, None
