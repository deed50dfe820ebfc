"""The ``mcgrade`` command: ``main(argv) -> int``, one plain function per subcommand.

Exit codes: 0 done; 1 the input is wrong (a problem set, a missing file, a file that
can't be a submission, whose record is still written); 2 usage;
3 an internal error (a bug: the traceback goes to a log file, not the screen), or a batch
in which this machine failed to run some submissions (the next run grades them); 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcgrade import __version__
from mcgrade.errors import CheckAbandoned, McgradeError
from mcgrade.settings import SANDBOXES

if TYPE_CHECKING:
    from mcgrade.batch.late import Lateness, Policy, Submitted
    from mcgrade.grading import Grader
    from mcgrade.model import GradeReport, ProblemSet


BATCH_OPTIONS = ("jobs", "out", "csv", "feedback", "id_pattern", "force", "dask",
                 "overrides", "canvas", "moodle", "extensions")


def _grade(args: argparse.Namespace) -> int:
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
    if not args.dask:
        _announce_sandbox(problem_set, args.sandbox, protect)
    return run_batch(args.submissions, problem_set,
                     out=out, csv_path=args.csv,
                     json_path=args.json, feedback=args.feedback,
                     id_pattern=args.id_pattern, force=args.force,
                     sandbox=args.sandbox, jobs=args.jobs or 1, dask=args.dask,
                     overrides_path=args.overrides, canvas=args.canvas,
                     moodle=args.moodle, late_given=_late_given(args),
                     extensions_path=args.extensions, protect=protect)


def _gradescope(args: argparse.Namespace) -> int:
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


def _validate(args: argparse.Namespace) -> int:
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


def _notebook(args: argparse.Namespace) -> int:
    from mcgrade.authoring import notebook
    from mcgrade.files import write_atomic

    problem_set = _one_variant(args.problem_set, args.student, "notebook")
    output = Path(args.output)
    built = notebook.build_notebook(problem_set, output.name,
                                    args.checks or Path(args.problem_set).name)
    write_atomic(output, notebook.render(built))
    print(f"mcgrade: wrote {output} ({len(problem_set.problems)} problems)")
    return 0


def _publish(args: argparse.Namespace) -> int:
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


def _mistakes(args: argparse.Namespace) -> int:
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


def _authoring_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """``validate``, ``notebook`` and ``publish``: what instructors run before students."""
    validate = commands.add_parser(
        "validate", help="check problem sets: schema, answer keys, mistakes, domains",
        description="Check problem sets: the schema, every answer key against the "
        "derivative mcgrade computes, every mistake, every domain and kink, several "
        "variants of a set with params. Exits 1 if anything is an error.")
    validate.add_argument("paths", nargs="+", metavar="PATH",
                          help="problem-set files, or folders to search for .yaml files")
    validate.add_argument("--format", choices=("text", "json"), default="text",
                          help="text (file:line: … per finding) or json (for editors, CI)")
    validate.set_defaults(run=_validate)
    for name, run, help_text, output_help in (
            ("notebook", _notebook, "write the starter notebook of a problem set",
             "the notebook to write (.ipynb)"),
            ("publish", _publish, "write the student copy: local checks, no answers",
             "a folder (the copy keeps the set's file name) or a .yaml file")):
        command = commands.add_parser(name, help=help_text, description=help_text + ".")
        command.add_argument("problem_set", metavar="SET.yaml", help="the problem set")
        command.add_argument("--output", "-o", required=True, metavar="PATH",
                             help=output_help)
        command.add_argument("--student", metavar="ID", help="the student whose variant "
                             "to write (required for a set with params)")
        if name == "notebook":
            command.add_argument("--checks", metavar="NAME", help="the student copy the "
                                 "check cells check against (default: the set's file name)")
        else:
            command.add_argument("--wheel", action="store_true", help="also write a wheel "
                                 "of this mcgrade, a pytest.ini and a README.md for students "
                                 "(install, then check, with no package index)")
        command.set_defaults(run=run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcgrade", description="Grade matrix-calculus answers against a problem set.")
    parser.add_argument("--version", action="version", version=f"mcgrade {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    grade = commands.add_parser("grade", help="grade submissions against a problem set",
                                description="Run each submission in a sandboxed child "
                                "process and grade each problem's answer. One file prints "
                                "its report; many files, or a folder, make a batch.")
    grade.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                       help="a student's notebook (.ipynb) or Python file (.py), several, "
                       "or folders of them")
    grade.add_argument("--problems", "-p", required=True, metavar="SET.yaml",
                       help="the problem set (YAML)")
    grade.add_argument("--json", metavar="PATH", help="write the verdict record to PATH "
                       "('-' for standard output; the table then goes to standard error); "
                       "for a batch, the array of every student's record (default DIR/grades.json)")
    grade.add_argument("--sandbox", choices=SANDBOXES, default=None,
                       help="how to isolate the submission: bubblewrap where it can run, "
                       "else the process sandbox with the layers this machine offers "
                       "(auto, the default); bubblewrap or fail (bwrap); the process "
                       "sandbox (process); or, for a student copy only, a plain child "
                       "process on any platform (subprocess). Default: $MCGRADE_SANDBOX, "
                       "else auto")
    grade.add_argument("--student", metavar="ID", help="the student whose variant of a set "
                       "with params: to grade (default: the file's name, alice.ipynb → alice)")
    grade.add_argument("--gradescope", metavar="PATH", help="write a Gradescope "
                       "results.json to PATH (written even when grading fails)")
    _late_arguments(grade, "each submission, from its time: Gradescope's, the notebook's "
                    "metadata mcgrade.submitted_at (with --notebook-times), or the file's")
    grade.add_argument("--notebook-times", action=argparse.BooleanOptionalAction,
                       default=None, help="take a notebook's submission time from its "
                       "metadata mcgrade.submitted_at, which your collection script "
                       "writes (students can edit it too, so it is off by default); "
                       "remembered with the late policy")
    grade.add_argument("--gradescope-metadata", metavar="FILE", help="Gradescope's "
                       "submission_metadata.json: its created_at is the submission time "
                       "(run_autograder gives it)")
    _batch_arguments(grade)
    grade.set_defaults(run=_grade)
    _authoring_commands(commands)
    autograder = commands.add_parser(
        "gradescope", help="write a Gradescope autograder zip for a problem set",
        description="Write a zip to upload as a Gradescope autograder: setup.sh, "
        "run_autograder, the problem set and mcgrade itself.")
    autograder.add_argument("problem_set", metavar="SET.yaml", help="the problem set")
    autograder.add_argument("--output", "-o", required=True, metavar="ZIP",
                            help="the zip to write (e.g. autograder.zip)")
    autograder.add_argument("--student-key", default="email",
                            choices=("email", "sid", "id", "name"),
                            help="for a set with params: the field of the submitter's "
                            "Gradescope record that is the student id picking their variant "
                            "(default: email)")
    autograder.add_argument("--submission-name", default="", metavar="NAME",
                            help="the file students submit (e.g. hw1.ipynb): chosen when "
                            "a submitted folder or repository holds several notebooks "
                            "or .py files")
    _late_arguments(autograder, "each submission, from its Gradescope submission time")
    autograder.set_defaults(run=_gradescope)
    mistakes = commands.add_parser(
        "mistakes", help="print the class's uncovered wrong answers as mistakes: entries",
        description="Group the wrong answers graded into RESULTS_DIR by what they are "
        "(answers the engine finds equal are one group) and print, per problem, those no "
        "author's mistake covers, as mistakes: entries to paste into the set.")
    mistakes.add_argument("problem_set", metavar="SET.yaml", help="the problem set")
    mistakes.add_argument("results", metavar="RESULTS_DIR",
                          help="the --out folder of mcgrade grade (its records/)")
    mistakes.set_defaults(run=_mistakes)
    return parser


def _late_arguments(command: argparse.ArgumentParser, whose: str) -> None:
    """A deadline and a late penalty (``mcgrade.batch.late``; docs/batch.md, Late work)."""
    group = command.add_argument_group("late work", f"a penalty for {whose}")
    group.add_argument("--deadline", metavar="TIME", help="the deadline, ISO 8601 with its "
                       "UTC offset, e.g. 2026-10-01T23:59+02:00 (Z for UTC); 'none' drops "
                       "a remembered one")
    group.add_argument("--late-penalty", metavar="RATE", help="a percentage of the points "
                       "earned per started day or hour late, e.g. 10%%/day or 2%%/hour "
                       "(default 0: lateness is only shown)")
    group.add_argument("--late-cap", metavar="PERCENT", help="the most the penalty takes "
                       "in all, e.g. 50%% (default 100%%)")
    group.add_argument("--grace", metavar="DURATION", help="this long after the deadline "
                       "still counts as on time, e.g. 15m (s, m, h, d)")


def _batch_arguments(grade: argparse.ArgumentParser) -> None:
    """The options of a batch (any of them makes one, even for a single file)."""
    batch = grade.add_argument_group("batch", "many submissions: a gradebook, resumable")
    batch.add_argument("--jobs", "-j", type=int, metavar="N", help="submissions run at "
                       "once (default 1; the number of cores is a good choice)")
    batch.add_argument("--out", "-o", metavar="DIR", help="where results go (default "
                       "mcgrade-results/): grades.csv, grades.json, gradescope/<id>.json, "
                       "records/<id>.json; a re-run resumes from records/")
    batch.add_argument("--csv", metavar="PATH", help="write the CSV gradebook here "
                       "instead of DIR/grades.csv")
    batch.add_argument("--feedback", metavar="DIR", help="write each student's feedback "
                       "page (DIR/<id>.html) and the class report (DIR/class_report.html)")
    batch.add_argument("--id-pattern", metavar="REGEX", help="where a file name holds "
                       "the student id, as a group named id, e.g. '^(?P<id>[^_]+)_'; "
                       "default: the name without extension (a file that does not match "
                       "is identified by its notebook metadata mcgrade.student)")
    batch.add_argument("--force", action="store_true", help="regrade every submission, "
                       "even those graded before with the same file and problem set")
    batch.add_argument("--dask", metavar="ADDRESS", help="grade on a Dask cluster, e.g. "
                       "tcp://scheduler:8786 (pip install 'mcgrade[dask]'; mcgrade on "
                       "every worker)")
    batch.add_argument("--overrides", metavar="FILE", help="a CSV of student,problem,"
                       "points,comment: each row replaces a problem's points for a student "
                       "in every output, its comment shown to them (give it on every run)")
    batch.add_argument("--canvas", metavar="ROSTER.csv", help="also write DIR/canvas.csv "
                       "for Canvas's gradebook import, the students of ROSTER (the "
                       "gradebook Canvas exports)")
    batch.add_argument("--moodle", action="store_true", help="also write DIR/moodle.csv "
                       "for Moodle's Import grades from CSV")
    batch.add_argument("--extensions", metavar="FILE", help="a CSV of student,deadline: "
                       "each student's own deadline, a time or a delay after --deadline "
                       "(+2d, +36h); remembered like --overrides")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:          # argparse has printed the usage error
        return int(exc.code or 0)
    try:
        return int(args.run(args))
    except CheckAbandoned as exc:      # the machine's fault, not the input's: try again
        print(f"mcgrade: error: {exc}", file=sys.stderr)
        return 3
    except McgradeError as exc:
        print(f"mcgrade: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mcgrade: interrupted", file=sys.stderr)
        return 130
    except Exception:                  # a bug in mcgrade: one line here, details in a log
        print(f"mcgrade: internal error (a bug in mcgrade); {_crash_log()}", file=sys.stderr)
        return 3


def _crash_log() -> str:
    """Where the traceback went: a fresh private file (a fixed name in a shared /tmp could
    belong to someone else), or, failing that, nowhere, said so."""
    try:
        handle, log = tempfile.mkstemp(prefix="mcgrade-crash-", suffix=".log")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(traceback.format_exc())
    except OSError as exc:
        return f"its details could not be written ({exc.strerror})"
    return f"details in {log}"


if __name__ == "__main__":
    sys.exit(main())
