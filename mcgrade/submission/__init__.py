"""Submissions: run a student's notebook or Python file in a sandbox; read its answers as data.

    read_answers(path, problem_set, *, sandbox="auto", calls=None) -> Submission
    read_many(paths, problem_set, *, sandbox="auto", calls=None, jobs=1) -> Iterator[Submission]

``sources`` reads the file (notebooks with nbformat, in the grader); ``runner`` makes a job
of it; ``pool`` runs it in a forked child of a warm worker (``_child.py``), inside
bubblewrap where available (``sandbox``); ``protocol`` and ``notes`` validate what came
back and say what happened. Nothing the submission does reaches the grader except plain
values: strings, numbers, shapes, sympy ``srepr`` text, and a function's values at the
points the grader chose (``calls``). docs/security.md describes the threat model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping, Sequence

from mcgrade.errors import SubmissionError
from mcgrade.model import Answer, ProblemSet
from mcgrade.submission.pool import WorkerUnavailable, launch, shared
from mcgrade.submission.runner import make_job, to_result
from mcgrade.submission.sources import Source, load

SANDBOXES = ("auto", "bwrap", "process")
Calls = Mapping[str, Sequence[Sequence[object]]]


@dataclass(frozen=True)
class Submission:
    """A submission's answers by name, and what a person should know about the run."""

    name: str
    answers: Mapping[str, Answer]
    notes: tuple[str, ...] = ()
    ungraded: str = ""      # why it could not be run at all, by a fault of this machine


def warm_up(sandbox: str = "auto") -> None:
    """Start the worker in the background, so that it imports numpy and sympy while the
    grader compiles the problem set (two slow starts overlapped on two cores). Nothing is
    decided here: ``read_answers`` still reports a worker that could not start."""
    if sandbox in SANDBOXES:
        launch("process" if sandbox == "process" else "bwrap")


def sandbox_kind(sandbox: str = "auto") -> str:
    """The sandbox that ``sandbox`` means here: "bwrap" or "process".

    "auto" is bwrap when it can run on this machine, else process; "bwrap" when it can't
    is a SubmissionError saying why and what to do.
    """
    if sandbox not in SANDBOXES:
        raise SubmissionError(f"sandbox {sandbox!r} is not one of {', '.join(SANDBOXES)}")
    if sandbox == "process":
        return "process"
    try:
        shared("bwrap")
    except WorkerUnavailable as exc:
        if sandbox == "bwrap":
            raise SubmissionError(
                f"the bwrap sandbox can't run here ({exc}); install bubblewrap "
                "(apt-get install bubblewrap) on a kernel that allows user namespaces, or "
                "choose the weaker --sandbox process") from None
        return "process"
    return "bwrap"


def read_answers(path: str | os.PathLike[str], problem_set: ProblemSet, *,
                 sandbox: str = "auto", calls: Calls | None = None) -> Submission:
    """Run the submission at ``path`` and return its answer to every problem.

    Raises SubmissionError only when the file can't be a submission at all (missing,
    empty or truncated notebook, wrong kind) or no sandbox can run it; everything the code does
    wrong becomes an answer or a note. ``calls`` maps a function problem's answer name to
    the argument lists to call it with; its answer is ``Answer("function")``.
    """
    source = load(path)
    submission = next(_read([source], problem_set, sandbox, calls, 1))
    if submission.ungraded:
        raise SubmissionError(submission.ungraded)
    return submission


def read_many(paths: Iterable[str | os.PathLike[str]], problem_set: ProblemSet, *,
              sandbox: str = "auto", calls: Calls | None = None,
              jobs: int = 1) -> Iterator[Submission]:
    """Every submission's answers, in the order of ``paths``, ``jobs`` at a time.

    A file that can't be a submission yields a Submission whose every answer is that
    error (and whose one note says it), so a batch always has one row per file. One that
    this machine failed to run (``ungraded``) is reported the same way, to be run again.
    """
    loaded: list[Source | tuple[str, str]] = []
    for path in paths:
        try:
            loaded.append(load(path))
        except SubmissionError as exc:
            loaded.append((os.path.basename(os.fspath(path)), str(exc)))
    sources = [s for s in loaded if isinstance(s, Source)]
    results = _read(sources, problem_set, sandbox, calls, jobs) if sources else iter(())
    names = [p.answer_name for p in problem_set.problems]
    for item in loaded:
        if isinstance(item, Source):
            yield next(results)
        else:
            label, message = item
            yield Submission(label, {n: Answer("error", text=message) for n in names},
                             (message,))


def _read(sources: Sequence[Source], problem_set: ProblemSet, sandbox: str,
          calls: Calls | None, concurrency: int) -> Iterator[Submission]:
    """Submissions for ``sources``, in order (run concurrently, buffered until their turn)."""
    kind = sandbox_kind(sandbox)
    names = [p.answer_name for p in problem_set.problems]
    shapes = {p.answer_name for p in problem_set.problems if p.kind == "shape"}
    budgets = {p.answer_name: float(p.timeout or problem_set.timeout)
               for p in problem_set.problems}
    jobs = [make_job(s, names, timeout=problem_set.timeout, calls=calls, budgets=budgets)
            for s in sources]
    try:
        pool = shared(kind)
    except WorkerUnavailable as exc:
        raise SubmissionError(f"the {kind} worker could not start: {exc}") from None
    done: dict[int, Submission] = {}
    following = 0
    for index, outcome in pool.run(jobs, concurrency):
        result = to_result(jobs[index], outcome, before=sources[index].notes)
        answers = {name: result.answer(name, expect_shape=name in shapes) for name in names}
        ungraded = result.headline if result.status == "internal-error" else ""
        done[index] = Submission(sources[index].label, answers, result.notes, ungraded)
        while following in done:
            yield done.pop(following)
            following += 1
