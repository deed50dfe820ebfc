"""The ``mcgrade`` command: ``main(argv) -> int``; each subcommand is a plain function of
``mcgrade.subcommands``.

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
from typing import Any

from mcgrade import __version__, subcommands
from mcgrade.errors import CheckAbandoned, McgradeError
from mcgrade.settings import SANDBOXES


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
    validate.set_defaults(run=subcommands.validate)
    for name, run, help_text, output_help in (
            ("notebook", subcommands.notebook, "write the starter notebook of a problem set",
             "the notebook to write (.ipynb)"),
            ("publish", subcommands.publish, "write the student copy: local checks, no answers",
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
    grade.set_defaults(run=subcommands.grade)
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
    autograder.set_defaults(run=subcommands.gradescope)
    mistakes = commands.add_parser(
        "mistakes", help="print the class's uncovered wrong answers as mistakes: entries",
        description="Group the wrong answers graded into RESULTS_DIR by what they are "
        "(answers the engine finds equal are one group) and print, per problem, those no "
        "author's mistake covers, as mistakes: entries to paste into the set.")
    mistakes.add_argument("problem_set", metavar="SET.yaml", help="the problem set")
    mistakes.add_argument("results", metavar="RESULTS_DIR",
                          help="the --out folder of mcgrade grade (its records/)")
    mistakes.set_defaults(run=subcommands.mistakes)
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
