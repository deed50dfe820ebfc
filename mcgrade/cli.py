"""The ``mcgrade`` command: ``main(argv) -> int``, one plain function per subcommand.

Exit codes: 0 done; 1 the input is wrong (a problem set, a missing file); 2 usage;
3 an internal error (a bug: the traceback goes to a log file, not the screen); 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Sequence

from mcgrade import __version__
from mcgrade.errors import McgradeError


def _grade(args: argparse.Namespace) -> int:
    from mcgrade.files import write_atomic
    from mcgrade.grading import Grader, grade_file
    from mcgrade.problemset import load_problem_set
    from mcgrade.reporters import gradescope, json_report, terminal

    try:
        problem_set = load_problem_set(args.problems)
        report = grade_file(args.submission, Grader(problem_set))
    except McgradeError as exc:
        if args.gradescope:            # Gradescope needs a valid file even now
            write_atomic(args.gradescope, gradescope.render(None, str(exc)))
        raise
    to_stdout = args.json == "-"
    text = terminal.render(report, problem_set.title)
    (sys.stderr if to_stdout else sys.stdout).write(text)
    if to_stdout:
        sys.stdout.write(json_report.render(report))
    elif args.json:
        write_atomic(args.json, json_report.render(report))
    if args.gradescope:
        write_atomic(args.gradescope, gradescope.render(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcgrade", description="Grade matrix-calculus answers against a problem set.")
    parser.add_argument("--version", action="version", version=f"mcgrade {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    grade = commands.add_parser("grade", help="grade a submission against a problem set",
                                description="Run a .py submission in a child process and "
                                "grade each problem's answer.")
    grade.add_argument("submission", metavar="SUBMISSION", help="the student's .py file")
    grade.add_argument("--problems", "-p", required=True, metavar="SET.yaml",
                       help="the problem set (YAML)")
    grade.add_argument("--json", metavar="PATH", help="write the SPEC §4 record to PATH "
                       "('-' for standard output; the table then goes to standard error)")
    grade.add_argument("--gradescope", metavar="PATH", help="write a Gradescope "
                       "results.json to PATH (written even when grading fails)")
    grade.set_defaults(run=_grade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:          # argparse has printed the usage error
        return int(exc.code or 0)
    try:
        return int(args.run(args))
    except McgradeError as exc:
        print(f"mcgrade: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mcgrade: interrupted", file=sys.stderr)
        return 130
    except Exception:                  # a bug in mcgrade: one line here, details in a log
        log = Path(tempfile.gettempdir()) / "mcgrade-crash.log"
        log.write_text(traceback.format_exc(), encoding="utf-8")
        print(f"mcgrade: internal error (a bug in mcgrade); details in {log}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
