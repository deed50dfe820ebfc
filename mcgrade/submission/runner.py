"""Submissions as jobs for the worker pool, and what came back as a ``RunResult``.

SPEC §5: student code never runs in the grading process. ``make_job`` turns a ``Source``
into the plain data a child reads (code, answer names, function calls with their sample
points, time and memory limits); ``to_result`` validates what the child reported and says,
in one line, how the run ended. ``run_submission`` does both for one ``.py`` file.

Limits per job: wall-clock ``timeout`` for the code (raised inside it by an alarm, then
enforced from outside), then each answer's own budget for reading it or calling it;
CPU time for the whole (``RLIMIT_CPU``); address space ``memory_mb``; 64 MiB per written
file; a 64 MiB private ``/tmp``; at most 64 processes where the kernel counts them per
namespace; no core dumps; no stdin; output capped at ``output_cap`` bytes (the rest is
read and dropped, so printing never blocks).
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import TypedDict

from mcgrade.errors import SubmissionError
from mcgrade.submission import notes as messages
from mcgrade.submission.jobs import Job, JobOutcome
from mcgrade.submission.layers import choose
from mcgrade.submission.pool import shared
from mcgrade.submission.protocol import RunResult, read_result
from mcgrade.submission.sources import Source, load

ANSWER_CAP = 5 << 20          # bytes of encoded answers the child may send
FILE_SIZE_LIMIT = 64 << 20    # RLIMIT_FSIZE for files the submission writes
TMP_SIZE = 64 << 20           # its private /tmp
PROCESSES = 64                # RLIMIT_NPROC inside its own user namespace


class _Output(TypedDict):
    """What the submission printed, and how long it ran: in every ``RunResult``."""

    output_tail: str
    output_bytes: int
    elapsed: float


def make_job(source: Source, names: Sequence[str], *, timeout: float = 10.0,
             memory_mb: int = 2048, output_cap: int = 1 << 20,
             calls: Mapping[str, Sequence[Sequence[object]]] | None = None,
             budgets: Mapping[str, float] | None = None,
             confine: Mapping[str, object] | None = None) -> Job:
    """The job for one submission. ``budgets``: seconds per answer (default ``timeout``);
    ``confine``: the layers its process must apply (``Sandbox.confine``), all or none run."""
    names = list(dict.fromkeys(str(n) for n in names))
    calls = {str(k): [list(args) for args in v] for k, v in (calls or {}).items()
             if str(k) in names}
    budgets = {n: float((budgets or {}).get(n, timeout)) for n in names}
    total = timeout + sum(budgets.values())
    payload = {
        "kind": source.kind, "label": source.label, "names": names, "calls": calls,
        "budgets": budgets, "timeout": timeout, "total": total, "answer_cap": ANSWER_CAP,
        "workname": "submission-" + secrets.token_hex(6), "confine": dict(confine or {}),
        "filename": file_name(source.label),
        "limits": {"memory_bytes": memory_mb << 20, "cpu_seconds": max(1, math.ceil(total)) + 1,
                   "file_bytes": FILE_SIZE_LIMIT, "core_bytes": 0, "processes": PROCESSES,
                   "tmp_bytes": TMP_SIZE},
    }
    if source.kind == "py":
        payload["source_hex"] = source.data.hex()
    else:
        payload["cells"] = [list(cell) for cell in source.cells]
    return Job(payload, max(0, output_cap))


def file_name(label: str) -> str:
    """The name the submission's code is written under in its folder: its own, where that
    is a short, plain file name on every platform, else ``submission`` with its suffix
    (a name the student chose must not be able to keep the sandbox from starting)."""
    if len(label.encode("utf-8", "replace")) <= 120 and label not in ("", ".", "..") \
            and not any(c in '/\\:*?"<>|' or ord(c) < 32 for c in label):
        return label
    return "submission" + os.path.splitext(label)[1][:10]


def to_result(job: Job, outcome: JobOutcome, *, memory_mb: int = 2048,
              before: Sequence[str] = ()) -> RunResult:
    """The validated result of one job; never raises for anything the submission did."""
    payload, cap = job.payload, job.output_cap
    label, names, timeout = payload["label"], payload["names"], payload["timeout"]
    extra = list(before)
    if outcome.output_bytes > cap:
        extra.append(f"{label} printed {messages.size(outcome.output_bytes)}; only the last "
                     f"{messages.size(cap)} were kept")
    common: _Output = {"output_tail": outcome.output.decode("utf-8", "replace"),
                       "output_bytes": outcome.output_bytes, "elapsed": outcome.elapsed}
    if outcome.failure == "worker":
        return RunResult("crashed", notes=(f"the grading worker died while running {label} "
                                           "on its own; no answers were read", *extra), **common)
    if outcome.failure == "lost":
        return RunResult("internal-error", notes=(
            f"{label} could not be graded: its sandbox ended twice without a whole report (a "
            "fault of the grading machine, not of the submission); grade it again", *extra),
            **common)
    if outcome.failure == "overflow":
        return RunResult("crashed", notes=(f"{label} sent more answer data than allowed; no "
                                           "answers were read", *extra), **common)
    if outcome.failure == "deadline" or outcome.result is None:
        return RunResult("timeout", notes=(f"{label} did not finish within {timeout:g} s; "
                                           "no answers were read", *extra), **common)
    try:
        stream = read_result(outcome.result, names)
    except ValueError as exc:
        return RunResult("crashed", notes=(f"{label} produced an unreadable result ({exc}); "
                                           "no answers were read", *extra), **common)
    if stream.fault:
        return RunResult("internal-error", notes=(
            f"{label} could not be graded: {stream.fault}; a fault of the grading machine, "
            "not of the submission; grade it again", *extra),
            **common)
    killed = stream.exit.get("killed")
    cpu_limit = payload["limits"]["cpu_seconds"]
    if stream.status is None:
        if killed == "script":
            note = f"{label} did not finish within {timeout:g} s; no answers were read"
            return RunResult("timeout", notes=(note, *extra), **common)
        status, note = messages.failure(label, stream.exit, cpu_limit, memory_mb, "",
                                        outcome.output)
        return RunResult(status, notes=(note, *extra), **common)
    # what ended the run first (its headline), then the other failures, then the magics
    stopped = [e for e in stream.events if e.get("kind") == stream.status][:1]
    events = stopped + [e for e in stream.events if e.get("kind") != "magic"
                        and e not in stopped] + \
        [e for e in stream.events if e.get("kind") == "magic"]
    lines = [messages.event_note(e, label, memory_mb, timeout) for e in events]
    causes = messages.causes(events, lines, timeout)
    answers = dict(stream.answers)
    if not stream.done:
        if killed == "answers":
            why = f"reading {label}'s answers ran out of time"
        else:
            why = messages.failure(label, stream.exit, cpu_limit, memory_mb, "",
                                   outcome.output)[1].split("; ")[0]
        for name in names:
            answers.setdefault(name, {"kind": "timeout" if killed else "error",
                                      "text": f"{name} was not read: {why}"})
        extra.append(f"{why}; the answers read before were kept")
    trace: str = next((e["traceback"] for e in events if type(e.get("traceback")) is str), "")
    read = stream.status != "syntax-error"
    for name in names:
        answers.setdefault(name, {"kind": "error", "text": "the submission did not report "
                                                           "this name"})
    return RunResult(stream.status, answers=answers if read else {}, answers_read=read,
                     notes=tuple(filter(None, [*lines, *extra])), traceback=trace,
                     causes=causes, **common)


def run_submission(path: str | os.PathLike[str], names: Iterable[str], *,
                   timeout: float = 10.0, memory_mb: int = 2048, output_cap: int = 1 << 20,
                   sandbox: str = "process",
                   calls: Mapping[str, Sequence[Sequence[object]]] | None = None
                   ) -> RunResult:
    """Run the file at ``path`` and return the values of ``names`` (never raises for
    anything the submission does; a file that can't be read is ``unreadable``). There is
    no key to hide: the job runs with every layer ``sandbox`` has here."""
    label = os.path.basename(os.fspath(path)) or "submission"
    try:
        source = load(path)
    except SubmissionError as exc:
        text = str(exc)
        if "no such file" in text:
            text = f"{label} could not be read: no such file"
        return RunResult("unreadable", notes=(text,))
    try:
        chosen = choose(sandbox)
    except SubmissionError as exc:
        return RunResult("internal-error", notes=(str(exc),))
    job = make_job(source, list(names), timeout=timeout, memory_mb=memory_mb,
                   output_cap=output_cap, calls=calls, confine=chosen.for_job())
    (_, outcome), = shared(chosen.kind).run([job])
    return to_result(job, outcome, memory_mb=memory_mb, before=source.notes)
