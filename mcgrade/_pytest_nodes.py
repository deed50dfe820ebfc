"""What the pytest plugin does once switched on: a File per problem set, an Item per
problem, and one grading session that runs the submission once per problem set.

Items only report what the core decided: ``runtest`` looks up the verdict, records it in
``user_properties`` (so scores reach JUnit XML and travel through pytest-xdist), and fails
with the feedback — never a traceback from mcgrade's internals.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from mcgrade.errors import CheckAbandoned, McgradeError, SandboxUnavailable
from mcgrade.settings import Settings

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr  # what pytest's repr_failure may return

_VERDICT = "mcgrade_verdict"


class GradingFailure(Exception):
    """An answer that did not earn full marks; its text is the whole failure report."""


class GradingSession:
    """Grades lazily and once: a problem set is compiled, and the submission run, when the
    first of its items runs. Also a plugin: it gathers verdicts from reports (its own, or
    xdist workers') and writes the summary and the output files."""

    def __init__(self, settings: Settings, is_worker: bool) -> None:
        self.settings = settings
        self.is_worker = is_worker
        self.problem_sets = frozenset(settings.problems.value)
        self._sets: dict[Path, Any] = {}
        self._answers: dict[str, Any] | None = None
        self._reports: dict[Path, Any] = {}
        self._recorded: dict[str, list[dict[str, Any]]] = {}
        self._local: set[str] = set()         # problem sets graded from a student copy
        self._sandboxes: dict[str, str] = {}  # problem set → the sandbox its answers ran in
        self._notes: dict[str, tuple[str, ...]] = {}   # problem set → what the run said

    # --- grading (runs where the items run) -------------------------------------------
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # the sandbox's worker (a fresh interpreter importing numpy and sympy) starts now,
        # beside this process's own imports, in whichever process will run the items
        if self.is_worker or not session.config.pluginmanager.has_plugin("dsession"):
            from mcgrade.submission import warm_up
            warm_up(self.settings.sandbox.value, self.settings.submission.value)

    def problem_set(self, path: Path) -> Any:
        if path not in self._sets:
            from mcgrade.problemset import load_problem_set
            self._sets[path] = load_problem_set(path)
        return self._sets[path]

    def report(self, path: Path) -> Any:
        if path not in self._reports:
            from mcgrade.grading import Grader, grade_file
            grader = Grader(self.problem_set(path))
            try:
                self._reports[path] = grade_file(self.settings.submission.value, grader,
                                                 sandbox=self.settings.sandbox.value)
            except SandboxUnavailable as exc:     # nothing can run: say so once, and stop
                pytest.exit(f"mcgrade: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
            except CheckAbandoned as exc:         # this machine's fault: once, and stop
                pytest.exit(f"mcgrade: {exc}", returncode=pytest.ExitCode.INTERNAL_ERROR)
        return self._reports[path]

    def is_local(self, path: Path) -> bool:
        """Whether this set is a published student copy (graded by local checks)."""
        return bool(self.problem_set(path).published)

    def verdict(self, path: Path, problem_id: str) -> Any:
        return next(v for v in self.report(path).verdicts if v.id == problem_id)

    def plain_answers(self) -> dict[str, Any]:
        """Every answer of the submission, to every problem set, as plain data (read in
        the sandbox once per session, however many tests ask)."""
        if self._answers is None:
            self._answers = self._read_plain_answers()
        return self._answers

    def _read_plain_answers(self) -> dict[str, Any]:
        from mcgrade.submission import read_answers
        answers: dict[str, Any] = {}
        for path in sorted(self.problem_sets):
            submission = read_answers(self.settings.submission.value, self.problem_set(path),
                                      sandbox=self.settings.sandbox.value)
            answers.update((name, answer.text if answer.kind in ("string", "sympy")
                            else answer.value) for name, answer in submission.answers.items())
        return answers

    # --- hooks (run on the controller) ------------------------------------------------
    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> Any:
        if file_path.resolve() in self.problem_sets:
            return ProblemSetFile.from_parent(parent, path=file_path)
        return None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":      # setup and teardown reports repeat the properties
            return
        for name, value in report.user_properties:
            if name == _VERDICT:
                record = json.loads(cast(str, value))     # JSON text, from runtest
                problem_set = record.pop("problem_set")
                if record.pop("local"):
                    self._local.add(problem_set)
                self._sandboxes[problem_set] = record.pop("sandbox", "")
                self._notes[problem_set] = tuple(record.pop("notes", ()))
                self._recorded.setdefault(problem_set, []).append(record)

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self._recorded:
            return
        terminalreporter.section("mcgrade")
        for line in self.summary_lines():
            terminalreporter.write_line(line)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.is_worker:
            self.write_outputs(exitstatus)

    # --- reports --------------------------------------------------------------------------
    def _grade_reports(self) -> list[Any]:
        from mcgrade.model import GradeReport
        from mcgrade.records import verdict_of
        name = Path(self.settings.submission.value).name
        return [GradeReport(name, problem_set, tuple(verdict_of(r) for r in records),
                            self._notes.get(problem_set, ()),
                            self._sandboxes.get(problem_set, ""))
                for problem_set, records in self._recorded.items()]

    def summary_lines(self) -> list[str]:
        from mcgrade.reporters.terminal import points
        lines, score, total = [], 0.0, 0.0
        reports = self._grade_reports()
        for report in reports:
            # how the run went (a cell that failed, a timeout): the why behind the verdicts
            lines += [f"{report.problem_set}: note: {note}" for note in report.notes]
            width = max(len(v.id) for v in report.verdicts)
            for v in report.verdicts:
                shown = [d for d in v.diagnoses if d != v.status]     # not "missing (missing)"
                codes = f" ({', '.join(shown)})" if shown else ""
                lines.append(f"{report.problem_set}::{v.id:<{width}}  "
                             f"{points(v.score)}/{points(v.max_score)}  {v.status}{codes}")
            score, total = score + report.score, total + report.max_score
        scope = (" (local checks: your instructor grades again, with other sample points)"
                 if self._local else "")
        lines.append(f"mcgrade: {points(score)}/{points(total)} points{scope}")
        sandboxes = sorted({r.sandbox for r in reports if r.sandbox})
        if sandboxes:
            lines.append(f"mcgrade: the submission ran in the {' and '.join(sandboxes)} sandbox")
        return lines

    def write_outputs(self, exitstatus: int) -> None:
        from mcgrade.files import write_atomic
        from mcgrade.reporters import gradescope, json_report
        reports = self._grade_reports()
        if self.settings.json.value is not None:
            records = [json.loads(json_report.render(r)) for r in reports]
            text = json.dumps(records[0] if len(records) == 1 else records, indent=2,
                              ensure_ascii=False) + "\n"
            write_atomic(self.settings.json.value, text)
        if self.settings.gradescope.value is not None:
            merged = _merge(reports)
            failure = "" if merged else f"pytest ended with exit status {exitstatus} before " \
                                        "any problem was graded"
            only = next(iter(self._sets.values())) if len(self._sets) == 1 else None
            write_atomic(self.settings.gradescope.value,
                         gradescope.render(merged, failure, problem_set=only))


def _merge(reports: list[Any]) -> Any:
    """One report over several problem sets (Gradescope shows one submission)."""
    if not reports:
        return None
    from mcgrade.model import GradeReport
    first = reports[0]
    return GradeReport(first.submission, ", ".join(r.problem_set for r in reports),
                       tuple(v for r in reports for v in r.verdicts), first.notes,
                       first.sandbox)


def _grading(config: pytest.Config) -> GradingSession:
    """The grading session, registered as a plugin before collection."""
    return cast(GradingSession, config.pluginmanager.get_plugin("mcgrade-grading"))


class ProblemSetFile(pytest.File):
    """A problem set: one item per problem, in the set's order."""

    def collect(self) -> Iterator[pytest.Item]:
        grading = _grading(self.config)
        try:
            problem_set = grading.problem_set(self.path.resolve())
        except McgradeError as exc:
            raise self.CollectError(str(exc)) from None
        for problem in problem_set.problems:
            yield ProblemItem.from_parent(self, name=problem.id, problem=problem)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, self.CollectError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ProblemItem(pytest.Item):
    def __init__(self, *, problem: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problem = problem

    def runtest(self) -> None:
        grading = _grading(self.config)
        verdict = grading.verdict(self.path.resolve(), self.problem.id)
        report = grading.report(self.path.resolve())
        from mcgrade.records import verdict_record
        record = verdict_record(verdict) | {"problem_set": self.path.name,
                                        "local": grading.is_local(self.path.resolve()),
                                        "sandbox": report.sandbox, "notes": list(report.notes)}
        self.user_properties.append((_VERDICT, json.dumps(record)))
        self.user_properties.append(("mcgrade_score", verdict.score))
        self.user_properties.append(("mcgrade_max_score", verdict.max_score))
        if verdict.status != "correct":
            from mcgrade.reporters.terminal import failure_text
            raise GradingFailure(failure_text(verdict))

    def repr_failure(self, excinfo: Any, style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, GradingFailure):
            return str(excinfo.value)
        if isinstance(excinfo.value, McgradeError):
            return f"mcgrade: {excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.problem.location.line
        return self.path, (line - 1 if line else None), f"{self.path.name}::{self.name}"
