"""Submissions: run a student's notebook or Python file in a sandbox; read its answers as data.

    read_answers(path, problem_set, *, sandbox="auto", calls=None, protect=()) -> Submission
    read_many(paths, problem_set, *, sandbox="auto", calls=None, jobs=1, protect=())
        -> Iterator[Submission]
    choose_for(problem_set, sandbox="auto", protect=()) -> Sandbox

``sources`` reads the file (notebooks with nbformat, in the grader); ``runner`` makes a job
of it; ``pool`` runs it in a forked child of a warm worker (``_child.py``), inside
bubblewrap where available (``sandbox``), else with the layers that ``layers`` chooses
(and never next to a key it can't hide); ``protocol`` and ``notes`` validate what came
back and say what happened. Nothing the submission does reaches the grader except plain
values: strings, numbers, shapes, sympy ``srepr`` text, and a function's values at the
points the grader chose (``calls``). docs/security.md describes the threat model.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from mcgrade.errors import SubmissionError
from mcgrade.model import Answer, ProblemSet
from mcgrade.submission.layers import Sandbox, choose
from mcgrade.submission.pool import launch, shared
from mcgrade.submission.runner import make_job, to_result
from mcgrade.submission.sandbox import PRELOAD, SANDBOXES
from mcgrade.submission.sources import PY_CAP, Source, load

Calls = Mapping[str, Sequence[Sequence[object]]]


@dataclass(frozen=True)
class Submission:
    """A submission's answers by name, and what a person should know about the run."""

    name: str
    answers: Mapping[str, Answer]
    notes: tuple[str, ...] = ()
    ungraded: str = ""      # why it could not be run at all, by a fault of this machine
    sandbox: str = ""       # the sandbox it ran in, and its layers (``Sandbox.label``)

    @classmethod
    def failed(cls, name: str, answer_names: Iterable[str], why: str, *,
               ungraded: bool = False, sandbox: str = "") -> Submission:
        """A submission none of whose answers could be read, for ``why``: every answer
        is that error (so every problem scores nothing) and its one note says it, so it
        still gets its record. ``ungraded``: this machine was at fault, not the file, and
        the next run grades it again."""
        return cls(name, {n: Answer("error", text=why) for n in answer_names}, (why,),
                   why if ungraded else "", sandbox)


def warm_up(sandbox: str = "auto", submission: str | os.PathLike[str] | None = None) -> None:
    """Start the worker in the background, so that it imports numpy and sympy while the
    grader compiles the problem set (two slow starts overlapped on two cores). Nothing is
    decided here: ``read_answers`` still reports a worker that could not start.

    Given the one ``submission`` it will run, the worker imports sympy only if the code
    names it: sympy is most of a worker's start, which a student's ``pytest`` waits for."""
    if sandbox in SANDBOXES:
        launch("process" if sandbox == "process" else "bwrap",
               PRELOAD if submission is None else _preload_for(submission))


def _preload_for(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """What the worker should import for the submission at ``path``: numpy, and sympy if
    its code mentions it anywhere (a comment or a string counts: when in doubt, import)."""
    try:
        if os.path.getsize(path) > PY_CAP:
            return PRELOAD
        source = load(path)
    except Exception:  # noqa: BLE001 — only a guess: whatever is wrong is reported when
        return PRELOAD  # the file is read for real
    code = source.data.decode("utf-8", "replace") + "".join(c for _, c in source.cells)
    return PRELOAD if "sympy" in code else ("numpy",)


def choose_for(problem_set: ProblemSet, sandbox: str = "auto",
               protect: Sequence[str] = ()) -> Sandbox:
    """The sandbox that runs ``problem_set``'s submissions here (``layers.choose``): a set
    that holds keys must be hidden from them — and so must its folder, which may hold
    the course's other sets — with ``protect`` (the grader's outputs); a student copy
    holds none."""
    if problem_set.published:
        return choose(sandbox, None)
    folder = os.path.dirname(os.path.abspath(problem_set.path)) if problem_set.path else ""
    return choose(sandbox, [problem_set.path, folder, *protect])


def read_answers(path: str | os.PathLike[str], problem_set: ProblemSet, *,
                 sandbox: str = "auto", calls: Calls | None = None,
                 protect: Sequence[str] = ()) -> Submission:
    """Run the submission at ``path`` and return its answer to every problem.

    Raises SubmissionError only when the file can't be a submission at all (missing,
    empty or truncated notebook, wrong kind) or no sandbox can run it; everything the code does
    wrong becomes an answer or a note. ``calls`` maps a function problem's answer name to
    the argument lists to call it with; its answer is ``Answer("function")``. ``protect``:
    what else no submission may read (the grader's outputs; see ``choose_for``).
    """
    source = load(path)
    submission = next(_read([source], problem_set, sandbox, calls, 1, protect))
    if submission.ungraded:
        raise SubmissionError(submission.ungraded)
    return submission


def read_many(paths: Iterable[str | os.PathLike[str]], problem_set: ProblemSet, *,
              sandbox: str = "auto", calls: Calls | None = None,
              jobs: int = 1, protect: Sequence[str] = ()) -> Iterator[Submission]:
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
    results = _read(sources, problem_set, sandbox, calls, jobs, protect) if sources \
        else iter(())
    names = [p.answer_name for p in problem_set.problems]
    for item in loaded:
        if isinstance(item, Source):
            yield next(results)
        else:
            label, message = item
            yield Submission.failed(label, names, message)


def _read(sources: Sequence[Source], problem_set: ProblemSet, sandbox: str,
          calls: Calls | None, concurrency: int,
          protect: Sequence[str]) -> Iterator[Submission]:
    """Submissions for ``sources``, in order (run concurrently, buffered until their turn)."""
    chosen = choose_for(problem_set, sandbox, protect)
    names = [p.answer_name for p in problem_set.problems]
    shapes = {p.answer_name for p in problem_set.problems if p.kind == "shape"}
    budgets = {p.answer_name: float(p.timeout or problem_set.timeout)
               for p in problem_set.problems}
    jobs = [make_job(s, names, timeout=problem_set.timeout, calls=calls, budgets=budgets,
                     confine=chosen.for_job()) for s in sources]
    pool = shared(chosen.kind)                # started by ``choose``
    done: dict[int, Submission] = {}
    following = 0
    if chosen.confine.get("serial"):
        concurrency = 1
    for index, outcome in pool.run(jobs, concurrency):
        result = to_result(jobs[index], outcome, before=sources[index].notes)
        answers = {name: result.answer(name, expect_shape=name in shapes) for name in names}
        ungraded = result.headline if result.status == "internal-error" else ""
        done[index] = Submission(sources[index].label, answers, result.notes, ungraded,
                                 chosen.label)
        while following in done:
            yield done.pop(following)
            following += 1
