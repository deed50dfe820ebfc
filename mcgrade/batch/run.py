"""``mcgrade grade`` over many files, as the CLI runs it: plan, grade, show, write.

Kept out of ``cli.py`` so that the command stays a thin function. An interrupt (Ctrl-C, or
SIGTERM, which a batch treats the same way) stops grading, the outputs are rendered from
the ledger, and the interrupt goes on up to ``main`` (exit 130). The ledger already holds
every finished student, so a re-run resumes there. While the outputs are written, further
interrupts wait: a second Ctrl-C or kill can't leave them half-written.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from mcgrade.batch import Entry, Graded, Ledger, Plan, grade_many, late, overrides, plan, roster
from mcgrade.batch.ids import student_count
from mcgrade.batch.ledger import EXTENSIONS, OVERRIDES
from mcgrade.batch.outputs import Outputs, write_all
from mcgrade.batch.progress import Progress
from mcgrade.errors import UsageError
from mcgrade.grading import Grader
from mcgrade.model import ProblemSet, Verdict
from mcgrade.reporters import class_summary
from mcgrade.reporters.terminal import points


class Interrupts:
    """SIGINT and SIGTERM while a batch runs: the first stops grading (KeyboardInterrupt);
    once ``hold`` is called, or after that first one, they only mark that one came."""

    def __init__(self) -> None:
        self.held = False
        self.pending = False

    def hold(self) -> None:
        """From now on, an interrupt waits for the outputs to be finished."""
        self.held = True

    def arrive(self, signum: int, frame: Any) -> None:
        if self.held:
            self.pending = True
            return
        self.held = True                # grading stops once; the outputs then get written
        raise KeyboardInterrupt


@contextmanager
def interrupts() -> Iterator[Interrupts]:
    """While inside, SIGINT and SIGTERM go to an ``Interrupts`` (a kill saves what is done);
    one that was held raises KeyboardInterrupt on the way out."""
    state = Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous = {s: signal.signal(s, state.arrive) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield state
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if state.pending:
        raise KeyboardInterrupt


def run_batch(paths: Sequence[str], problem_set: ProblemSet, *, out: str,
              csv_path: str | None = None, json_path: str | None = None,
              feedback: str | None = None,
              id_pattern: str | None = None, force: bool = False, sandbox: str = "auto",
              jobs: int = 1, dask: str | None = None, overrides_path: str | None = None,
              canvas: str | None = None, moodle: bool = False,
              late_given: Mapping[str, str] | None = None,
              extensions_path: str | None = None, protect: Sequence[str] = (),
              checked: Callable[[], None] = lambda: None) -> int:
    """Grade every submission under ``paths`` into ``out``, and render every output from
    the whole ledger (students graded before keep their rows), with the instructor's
    overrides in ``overrides_path`` applied, then the late policy (``late_given``: the
    options ``deadline``, ``penalty``, ``cap``, ``grace`` given, and the extensions in
    ``extensions_path``); the summary on stdout. The overrides, the late policy and the
    Canvas roster are checked before anything is graded; then ``checked()`` is called
    (the CLI says there which sandbox runs the class, or refuses), so that a typo in an
    option is the one line a user reads."""
    ledger = Ledger(out)
    batch = plan(paths, problem_set.path, ledger, id_pattern=id_pattern, force=force,
                 problem_set=problem_set)
    given, overrides_path = overrides_path, overrides_path or ledger.remembered(OVERRIDES)
    timed = bool(late_given or extensions_path or ledger.remembered_late())
    students = (_students_of(batch, ledger) if overrides_path or canvas or timed
                else set())
    changes = overrides.read(overrides_path, problem_set, students) if overrides_path else {}
    if given:                      # checked: remembered, so a later run keeps them
        ledger.remember(OVERRIDES, given)
    if changes:
        print(_overridden(changes, given, overrides_path), file=sys.stderr)
    policy = _late_policy(ledger, late_given or {}, extensions_path, students)
    lms_roster = roster.read(canvas, students) if canvas else None
    checked()
    outputs = Outputs.under(out, csv_path=csv_path, json_path=json_path, feedback=feedback,
                            canvas=bool(canvas), moodle=moodle)
    ledger.tidy()
    outputs.remove_temporaries()
    if policy is not None:
        _stamp(batch, ledger, policy.notebook_times)
    grader = Grader(problem_set)         # compiled once, on first use, for all of the run
    if batch.everyone:
        print(f"mcgrade: {Path(problem_set.path).name} changed beyond its problems (layout, "
              "symbols, sizes, tolerance, timeout, params or title): the "
              f"{student_count(len(batch.before))} graded against its earlier version are run "
              "again", file=sys.stderr)
    progress = Progress(len(batch.files), final=lambda entry: _final(
        entry, changes, policy, ledger.submitted.get(entry.student)))
    done = regraded = ran = 0
    compared: list[Graded] = []
    ungraded: list[str] = []
    sandboxes: set[str] = set()          # where this run's submissions ran (named, always)
    with interrupts() as held:
        try:
            for graded in grade_many(batch, problem_set, ledger, sandbox=sandbox,
                                     jobs=jobs, dask=dask, grader=grader, protect=protect):
                done += 1
                regraded += graded.regraded
                if graded.before is not None and not graded.ungraded:
                    compared.append(graded)
                if not (graded.reused or graded.regraded) and graded.entry.report.sandbox:
                    sandboxes.add(graded.entry.report.sandbox)
                    ran += 1                 # a file that is no submission never runs
                if graded.ungraded:
                    ungraded.append(graded.entry.student)
                progress.update(graded)
        finally:
            held.hold()
            progress.close()
            book, others = ledger.gradebook(batch.set_digest)
            settled = [_settled(e, changes, policy) for e in book]
            book = [e for e, _ in settled]
            outcomes = {e.student: lateness for e, lateness in settled if lateness is not None}
            write_all(book, outputs, problem_set, lms_roster, outcomes, grader)
            if lms_roster is not None:
                _unmatched(book, lms_roster)
            if others:
                print(f"mcgrade: {others} records in {ledger.folder}/ were graded against "
                      f"another version of {Path(problem_set.path).name} and are left out "
                      "of the outputs; grade the whole class again with --force to regrade "
                      "them", file=sys.stderr)
            if done < len(batch.files):
                print(f"mcgrade: stopped after {done} of {len(batch.files)} "
                      f"students; {_where(outputs)} hold them. Run the same command again "
                      "to grade the rest.", file=sys.stderr)
    reused = len(batch.done)
    fresh = done - reused - regraded
    where = f" in the {' and '.join(sorted(sandboxes))} sandbox" if sandboxes else ""
    where = where if ran == fresh else f", {ran} of them run{where}" if ran else \
        ", none of them run"
    again = f", {regraded} regraded from their stored answers" if regraded else ""
    print(f"mcgrade: {student_count(done)} graded against {Path(problem_set.path).name}"
          f" ({fresh} now{where}{again}, {reused} unchanged since the last "
          f"run); the gradebook holds {student_count(len(book))}; wrote {_where(outputs)}")
    for line in _changes(batch, compared, outputs):
        print(line)
    unread = _unread(book, ungraded, outputs)
    if unread:
        print(unread)
    if policy is not None:
        print(_lateness(policy, outcomes))
    if ungraded:
        shown = ", ".join(ungraded[:5]) + (f" and {len(ungraded) - 5} more"
                                           if len(ungraded) > 5 else "")
        print(f"mcgrade: {len(ungraded)} of them could not be run here ({shown}): a fault "
              "of this machine, not theirs, and their rows score 0 for now. Run the same "
              "command again to grade them.", file=sys.stderr)
        return 3
    return 0


NAMED = 5
"""Up to this many students of a group of the regrade summary are named."""


def _changes(batch: Plan, compared: Sequence[Graded], outputs: Outputs) -> list[str]:
    """One line per problem that differs from the version the records were graded
    against: who gains, who loses, whose feedback alone changed, how many keep it all
    (named when a group is small; else where to look)."""
    lines = []
    for problem in (*batch.changed, *batch.added):
        moves: dict[float, list[str]] = {}
        reworded: list[str] = []
        nothing: list[str] = []        # a problem added, and no points from it
        same = 0
        for graded in compared:
            new = next((v for v in graded.entry.report.verdicts if v.id == problem), None)
            if new is None:
                continue
            old = next((v for v in graded.before.report.verdicts  # type: ignore[union-attr]
                        if v.id == problem), None)
            delta = round(new.score - (old.score if old is not None else 0.0), 6)
            if delta:
                moves.setdefault(delta, []).append(graded.entry.student)
            elif old is None:
                nothing.append(graded.entry.student)
            elif _seen(old) != _seen(new):
                reworded.append(graded.entry.student)
            else:
                same += 1
        parts = []
        for delta, who in sorted(moves.items(), reverse=True):
            verb = ("gain" if delta > 0 else "lose") + ("s" if len(who) == 1 else "")
            size = abs(delta)
            parts.append(f"{student_count(len(who))} {verb} {points(size)} "
                         f"point{'' if size == 1 else 's'}{_names(who)}")
        if reworded:
            whose = "student's" if len(reworded) == 1 else "students'"
            parts.append(f"{len(reworded)} {whose} feedback changed{_names(reworded)}")
        if nothing:
            verb = "scores" if len(nothing) == 1 else "score"
            parts.append(f"{student_count(len(nothing))} {verb} 0 on it{_names(nothing)}")
        if same:
            parts.append(f"{same} unchanged")
        look = [f"{name} ({what})" for name, what, many in (
            (outputs.csv.name, "points", any(len(w) > NAMED for w in moves.values())),
            (outputs.json.name, "feedback", len(reworded) > NAMED)) if many]
        where = f"; see {' and '.join(look)} for who" if look else ""
        what = "added" if problem in batch.added else "changed"
        lines.append(f"mcgrade: {problem} {what}: "
                     f"{', '.join(parts) or 'no student graded'}{where}")
    for problem in batch.removed:
        lines.append(f"mcgrade: {problem} removed: dropped from the records")
    return lines


def _seen(verdict: Verdict) -> tuple[str, tuple[str, ...], str]:
    """What a student reads of a verdict besides its points."""
    return verdict.status, tuple(verdict.diagnoses), verdict.feedback


def _names(students: Sequence[str]) -> str:
    """`` (carol, dan)``: a small group's students, in order; "" for a larger one."""
    return f" ({', '.join(sorted(students))})" if len(students) <= NAMED else ""


def _unread(book: Sequence[Entry], ungraded: Collection[str], outputs: Outputs) -> str:
    """The line naming the gradebook's submissions with nothing to grade (a truncated
    notebook, a file that is not a submission, a script that hangs before any answer),
    and where their reasons are; "" if none. Those this machine failed to run are said
    apart (``ungraded``): they are not the student's doing."""
    found = [(e, class_summary.ungradable(e.report)) for e in book
             if e.student not in ungraded]
    found = [(e, why) for e, why in found if why]
    if not found:
        return ""
    shown = ", ".join(f"{e.student}: {_short(why, e)}" for e, why in found[:NAMED])
    more = f" and {len(found) - NAMED} more" if len(found) > NAMED else ""
    return (f"mcgrade: {len(found)} had nothing to grade ({shown}{more}); see the notes "
            f"column of {outputs.csv}")


def _short(why: str, entry: Entry) -> str:
    """A note's gist: ``not a valid notebook`` of ``erin.ipynb is not a valid notebook:
    Expecting … at line 1; save it again``."""
    text = why.removeprefix(entry.report.submission).lstrip(" :")
    text = text.removeprefix("is ")
    for stop in (":", ";", " ("):
        text = text.split(stop, 1)[0]
    return text if len(text) <= 60 else text[:57] + "…"


def _settled(entry: Entry, changes: overrides.Overrides, policy: late.Policy | None,
             submitted: Mapping[str, str] | None = None
             ) -> tuple[Entry, late.Lateness | None]:
    """An entry as every output shows it: the instructor's overrides applied, and where
    a late policy applies, its lateness (``submitted``: when, if this run learnt it). The
    penalty is rendered from these, never stored."""
    entry = replace(entry, report=overrides.apply(entry.report, changes.get(entry.student, {})))
    if policy is None:
        return entry, None
    return entry, policy.outcome(entry.student, late.Submitted.of_data(
        submitted or entry.submitted), entry.report.score)


def _final(entry: Entry, changes: overrides.Overrides, policy: late.Policy | None,
           submitted: Mapping[str, str] | None) -> tuple[float | None, str]:
    """A student's final score for the progress line, and what made it differ from the
    graded one (an override, the late penalty); (None, "") when it does not differ."""
    settled, lateness = _settled(entry, changes, policy, submitted)
    why = ["override"] if settled.report.score != entry.report.score else []
    final = settled.report.score
    if lateness is not None and lateness.penalty:
        why.append("late")
        final = lateness.final
    return (final, ", ".join(why)) if why else (None, "")


def _overridden(changes: overrides.Overrides, given: str | None, path: str | None
                ) -> str:
    """The line saying how many overrides this run applies, and from where."""
    count = sum(len(rows) for rows in changes.values())
    where = (Path(given).name if given else
             f"remembered in {path}; give --overrides again to change them, an empty "
             "one to drop them")
    return (f"mcgrade: {count} override{'' if count == 1 else 's'} applied to "
            f"{student_count(len(changes))} ({where})")


def _late_policy(ledger: Ledger, given: Mapping[str, str], extensions_path: str | None,
                 students: Collection[str]) -> late.Policy | None:
    """The late policy of this run: the options given, each replacing the one remembered
    beside the records (``--deadline none`` drops them all), with the extensions given or
    remembered; checked, then remembered. None without a deadline."""
    remembered = ledger.remembered_late()
    if late.dropped(given, extensions_path):
        ledger.remember_late({})
        return None
    options = {**remembered, **given}
    policy = late.policy_of(options, given)
    if policy is None:
        if extensions_path:
            raise UsageError("--extensions without a deadline: give --deadline too, e.g. "
                             f"--deadline {late.EXAMPLE}")
        return None
    table = extensions_path or ledger.remembered(EXTENSIONS)
    extensions = late.read_extensions(table, policy.deadline, students) if table else {}
    if given:
        ledger.remember_late(options)
    if extensions_path:
        ledger.remember(EXTENSIONS, extensions_path)
    kept = [what for what, used in (("late policy", not given),
                                    ("extensions", table and not extensions_path)) if used]
    if kept:
        print(f"mcgrade: applying the {' and '.join(kept)} remembered in {ledger.folder}/ "
              f"({policy.describe()}); give --deadline, --late-penalty or --extensions "
              "again to change them, --deadline none to drop them", file=sys.stderr)
    return replace(policy, extensions=extensions)


def _stamp(batch: Plan, ledger: Ledger, notebook_times: bool) -> None:
    """Learn when each file of the batch was submitted (the notebook's own time only if
    ``notebook_times``), for the ledger to store with its record (``Ledger.put``); a
    record kept from an earlier run gets the time too. Only with a late policy: it
    reads every file."""
    for student, path in batch.files.items():
        found = late.submitted_of(path, notebook=notebook_times)
        if found is not None:
            ledger.submitted[student] = found.to_data()
    for student, entry in batch.done.items():
        if student in ledger.submitted and entry.submitted != ledger.submitted[student]:
            ledger.put(entry)


def _lateness(policy: late.Policy, outcomes: Mapping[str, late.Lateness]) -> str:
    """The late policy's summary: who was late, who had an extension."""
    behind = [o for o in outcomes.values() if o.units]
    unknown = sum(o.submitted is None for o in outcomes.values())
    extended = sum(o.extended for o in outcomes.values())
    parts = [f"{len(behind)} of {student_count(len(outcomes))} late"]
    if extended:
        parts.append(f"{extended} with an extension")
    if unknown:
        parts.append(f"{unknown} without a submission time (counted on time)")
    return (f"mcgrade: late work ({policy.describe()}): {', '.join(parts)}; the gradebooks "
            "show the raw score (total), the penalty and the final_score")


def _students_of(batch: Plan, ledger: Ledger) -> set[str]:
    """Who the gradebook will hold: this batch's students and those graded before."""
    return set(batch.files) | {e.student for e in ledger.gradebook(batch.set_digest)[0]}


def _unmatched(book: list[Entry], lms_roster: roster.Roster) -> None:
    """Say which match the Canvas gradebook used, and whom it leaves out, never silently."""
    graded = {e.student for e in book}
    ids = {p[lms_roster.key] for p in lms_roster.people}
    absent = [p["Student"] for p in lms_roster.people if p[lms_roster.key] not in graded]
    unknown = sorted(graded - ids)
    print(f"mcgrade: canvas.csv: {len(lms_roster.people) - len(absent)} of the "
          f"{len(lms_roster.people)} students of {lms_roster.path} matched on "
          f"{lms_roster.key}")
    if unknown:
        print(f"mcgrade: canvas.csv: {student_count(len(unknown))} in the gradebook but not in "
              f"{lms_roster.path}, left out: {', '.join(unknown)}", file=sys.stderr)
    if absent:
        print(f"mcgrade: canvas.csv: {student_count(len(absent))} in {lms_roster.path} without "
              f"a submission, left out: {'; '.join(absent)}", file=sys.stderr)




def _where(outputs: Outputs) -> str:
    pages = f", {outputs.feedback}/" if outputs.feedback else ""
    lms = "".join(f", {p}" for p in (outputs.canvas, outputs.moodle) if p is not None)
    return f"{outputs.csv}, {outputs.json}{pages}{lms} and {outputs.gradescope}/"
