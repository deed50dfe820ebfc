"""The ``mcgrade`` subcommands, one plain function each: ``grade`` (one file, or a batch),
``gradescope``, ``validate``, ``notebook``, ``publish``, ``mistakes``. ``mcgrade.cli``
parses the command line and calls them; they call the core and print what it did.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mcgrade.errors import McgradeError
from mcgrade.settings import SANDBOXES

if TYPE_CHECKING:
    from mcgrade.batch.late import Lateness, Policy, Submitted
    from mcgrade.grading import Grader
    from mcgrade.model import GradeReport, ProblemSet


BATCH_OPTIONS = ("jobs", "out", "csv", "feedback", "id_pattern", "force", "dask",
                 "overrides", "canvas", "moodle", "extensions")


def grade(args: argparse.Namespace) -> int:
    from mcgrade.errors import SubmissionError
    from mcgrade.files import display_name, write_atomic
    from mcgrade.grading import Grader, grade_file, student_of
    from mcgrade.problemset import load_problem_set
    from mcgrade.reporters import gradescope, terminal

    args.sandbox = _sandbox(args.sandbox)
    if _is_batch(args):
        return _grade_batch(args)
    from mcgrade.submission import warm_up

    path = args.submissions[0]
    student = args.student or display_name(student_of(path))     # as a batch names them
    policy = _late_policy(args)                    # checked before anything runs
    grader = None
    try:
        submitted = _submitted(args, policy)       # Gradescope's time, or a clear error
        grader = Grader(load_problem_set(args.problems))
        warm_up(args.sandbox, path)               # the worker starts while we compile
        report = grade_file(path, grader, student=student, sandbox=args.sandbox)
    except McgradeError as exc:
        unreadable = (_unreadable(path, grader.for_student(student))
                      if grader is not None and isinstance(exc, SubmissionError) else None)
        if unreadable is not None:     # its record, as its row in a batch would be
            _write_records(args, unreadable, grader.problem_set)   # type: ignore[union-attr]
        elif args.gradescope:          # Gradescope needs a valid file even now
            write_atomic(args.gradescope, gradescope.render(None, str(exc)))
        raise
    problem_set = grader.problem_set
    _announce_sandbox(problem_set, args.sandbox)
    text = terminal.render(report, problem_set.title)
    outcome = None
    if policy is not None:
        outcome = policy.outcome(student, submitted, report.score)
        text += f"mcgrade: {outcome.note()}\n"
    (sys.stderr if args.json == "-" else sys.stdout).write(text)
    _write_records(args, report, problem_set, outcome)
    return 0


def _submitted(args: argparse.Namespace, policy: Policy | None) -> Submitted | None:
    """When one file was submitted, if a late policy asks (a UsageError when the
    ``--gradescope-metadata`` given can't say: never the file's time instead)."""
    from mcgrade.batch.late import submitted_of

    if policy is None:
        return None
    return submitted_of(args.submissions[0], args.gradescope_metadata,
                        notebook=policy.notebook_times)


def _late_given(args: argparse.Namespace) -> dict[str, str]:
    """The late policy's options given (``mcgrade.batch.late.OPTIONS``' keys)."""
    from mcgrade.batch.late import NO, YES

    notebook = getattr(args, "notebook_times", None)
    given = {"deadline": args.deadline, "penalty": args.late_penalty, "cap": args.late_cap,
             "grace": args.grace, "notebook": None if notebook is None
             else YES if notebook else NO}
    return {k: v for k, v in given.items() if v is not None}


def _late_policy(args: argparse.Namespace) -> Policy | None:
    """One file's late policy (a ``late.Policy``), or None; errors before grading."""
    from mcgrade.batch.late import dropped, policy_of

    given = _late_given(args)
    if dropped(given):
        return None
    return policy_of(given, given)


def _sandbox(given: str | None) -> str:
    """--sandbox, else the environment's MCGRADE_SANDBOX (as for the pytest plugin), else
    auto."""
    from mcgrade.errors import UsageError

    if given is not None:
        return given
    value = os.environ.get("MCGRADE_SANDBOX", "").strip() or "auto"
    if value not in SANDBOXES:
        raise UsageError(f"the environment variable MCGRADE_SANDBOX: sandbox {value!r} is not "
                         f"one of {', '.join(SANDBOXES)}")
    return value


def _announce_sandbox(problem_set: ProblemSet, sandbox: str,
                      protect: Sequence[str] = ()) -> None:
    """Say when submissions run in another sandbox than the one asked for (never silent);
    refuse, before anything runs, where none here can hide the key and ``protect``."""
    from mcgrade.submission import choose_for

    fallback = choose_for(problem_set, sandbox, protect).fallback
    if fallback:
        print(f"mcgrade: note: {fallback}", file=sys.stderr)


def _write_records(args: argparse.Namespace, report: GradeReport,
                   problem_set: ProblemSet, outcome: Lateness | None = None) -> None:
    """The record where ``--json`` and ``--gradescope`` ask for it, with the late
    policy's ``outcome`` (the final score goes to Gradescope)."""
    from mcgrade.batch.late import gradescope_results
    from mcgrade.files import write_atomic
    from mcgrade.reporters import gradescope, json_report

    added = outcome.fields() if outcome is not None else None
    if args.json == "-":
        sys.stdout.write(json_report.render(report, added))
    elif args.json:
        write_atomic(args.json, json_report.render(report, added))
    if args.gradescope:
        results = gradescope.render(report, problem_set=problem_set)
        if outcome is not None:
            results = gradescope_results(results, outcome)
        write_atomic(args.gradescope, results)


def _unreadable(path: str, grader: Grader) -> GradeReport | None:
    """The report of a file that can't be a submission at all (a folder, a pipe, a broken
    notebook): every problem an error saying why, as its row in a batch. None when there
    is no such file (a mistyped path), or when it is one and the sandbox failed instead."""
    import os

    from mcgrade.errors import SubmissionError
    from mcgrade.files import display_name
    from mcgrade.submission import Submission
    from mcgrade.submission.sources import load

    if not os.path.lexists(path):
        return None
    try:
        load(path)
    except SubmissionError as exc:
        return grader.grade_submission(Submission.failed(
            display_name(Path(path).name), (p.answer_name for p in grader.problem_set.problems),
            str(exc)))
    return None


def _is_batch(args: argparse.Namespace) -> bool:
    """Many files, a folder, or any batch option: a batch; else one file, as it always was
    (a folder named like a submission, ``alice.ipynb/``, is one file that can't be read)."""
    from mcgrade.batch.ids import is_folder_of_submissions

    return (len(args.submissions) > 1 or is_folder_of_submissions(Path(args.submissions[0]))
            or any(getattr(args, name) not in (None, False) for name in BATCH_OPTIONS))


def _grade_batch(args: argparse.Namespace) -> int:
    from mcgrade.batch.run import run_batch
    from mcgrade.errors import UsageError
    from mcgrade.problemset import load_problem_set

    if args.student:
        raise UsageError("--student is for one file; in a batch each file's name says "
                         "whose it is (see --id-pattern)")
    if args.json == "-":
        raise UsageError("--json - is for one file; give a path for a batch's JSON array")
    if args.gradescope:
        raise UsageError("--gradescope PATH is for one file; a batch writes one per "
                         "student in DIR/gradescope/")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: give at least 1")
    if args.gradescope_metadata:
        raise UsageError("--gradescope-metadata is for one file graded on Gradescope; a "
                         "batch takes each submission's time from its file (or, with "
                         "--notebook-times, its notebook's metadata)")
    problem_set = load_problem_set(args.problems)
    if problem_set.published:
        raise UsageError(f"{args.problems} is a student copy (published: true, written by "
                         "mcgrade publish): it holds no answers, only local checks; grade "
                         "the class with your own set, the one you published it from")
    out = args.out or "mcgrade-results"
    # what the sandbox hides besides the set: the outputs and the submissions' folders,
    # checked now and used by the run (on a cluster, each worker chooses its own)
    outputs = [out, args.feedback, args.csv, args.json]
    folders = {str(Path(p) if Path(p).is_dir() else Path(p).parent) for p in args.submissions}
    protect = [p for p in outputs if p] + sorted(folders)
    return run_batch(args.submissions, problem_set,
                     out=out, csv_path=args.csv,
                     json_path=args.json, feedback=args.feedback,
                     id_pattern=args.id_pattern, force=args.force,
                     sandbox=args.sandbox, jobs=args.jobs or 1, dask=args.dask,
                     overrides_path=args.overrides, canvas=args.canvas,
                     moodle=args.moodle, late_given=_late_given(args),
                     extensions_path=args.extensions, protect=protect,
                     # a cluster's workers each choose their own sandbox
                     checked=lambda: None if args.dask else _announce_sandbox(
                         problem_set, args.sandbox, protect))


def gradescope(args: argparse.Namespace) -> int:
    from mcgrade.batch.autograder import build
    from mcgrade.files import write_atomic
    from mcgrade.problemset import load_problem_set

    problem_set = load_problem_set(args.problem_set)   # a broken set fails here
    variants = bool(problem_set.params)
    policy = _late_policy(args)                    # checked here, not on Gradescope
    write_atomic(args.output, build(args.problem_set, variants=variants,
                                    student_key=args.student_key,
                                    submission_name=args.submission_name,
                                    late=policy.arguments() if policy else ()))
    print(f"mcgrade: wrote {args.output}, a Gradescope autograder for {args.problem_set} "
          "(upload it as a zip file in the assignment's Configure Autograder page)")
    if variants:
        print(f"mcgrade: each submission is graded in the variant of its student's "
              f"Gradescope {args.student_key}; make their starter notebooks with those ids "
              f"(mcgrade notebook {args.problem_set} --student ID)")
    return 0


def validate(args: argparse.Namespace) -> int:
    from mcgrade.authoring import validate, validate_report
    from mcgrade.errors import UsageError

    files = validate.problem_set_files(args.paths)
    if not files:
        raise UsageError(f"no problem sets (.yaml) in {', '.join(args.paths)}")
    reports = [validate.validate_file(path) for path in files]
    render = validate_report.render_json if args.format == "json" else \
        validate_report.render_text
    sys.stdout.write(render(reports))
    return 1 if validate_report.count(reports, "error") else 0


def notebook(args: argparse.Namespace) -> int:
    from mcgrade.authoring import notebook
    from mcgrade.files import write_atomic

    problem_set = _one_variant(args.problem_set, args.student, "notebook")
    output = Path(args.output)
    built = notebook.build_notebook(problem_set, output.name,
                                    args.checks or Path(args.problem_set).name)
    write_atomic(output, notebook.render(built))
    print(f"mcgrade: wrote {output} ({len(problem_set.problems)} problems)")
    return 0


def publish(args: argparse.Namespace) -> int:
    from mcgrade.authoring.publish import publish
    from mcgrade.files import write_atomic

    problem_set = _one_variant(args.problem_set, args.student, "copy")
    output = Path(args.output)
    if output.suffix not in (".yaml", ".yml"):
        output = output / Path(args.problem_set).name
    if args.wheel:
        from mcgrade.authoring.student_folder import check_folder
        check_folder(output.parent, problem_set, output.name)    # before writing anything
    write_atomic(output, publish(problem_set))
    print(f"mcgrade: wrote {output}, the student copy of {args.problem_set} (no answers; "
          f"local checks only)")
    if args.wheel:
        from mcgrade.authoring.student_folder import write_student_folder
        written = write_student_folder(output.parent, problem_set, output.name)
        for path in written:
            print(f"mcgrade: wrote {path}")
        starter = output.with_suffix(".ipynb")
        if starter not in written:
            print(f"mcgrade: left {starter} as it was (mcgrade notebook writes it anew)")
    return 0


def mistakes(args: argparse.Namespace) -> int:
    from mcgrade.batch import mistakes
    from mcgrade.problemset import load_problem_set

    problem_set = load_problem_set(args.problem_set)
    entries, note = mistakes.read_entries(problem_set, args.results)
    sys.stdout.write(mistakes.proposals(problem_set, entries, note))
    return 0


def _one_variant(path: str, student: str | None, what: str) -> ProblemSet:
    """The set, in ``student``'s variant; a set with params needs a student named."""
    from mcgrade.errors import UsageError
    from mcgrade.problemset import load_problem_set

    problem_set = load_problem_set(path, student)
    if problem_set.params and not student:
        names = ", ".join(p.name for p in problem_set.params)
        raise UsageError(f"{path} has per-student params ({names}): give --student ID to "
                         f"make one student's {what}")
    return problem_set
