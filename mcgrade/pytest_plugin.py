"""The pytest plugin: hooks only. Inert until switched on.

Registered through the ``pytest11`` entry point, so it is imported by every pytest run in
an environment that has mcgrade: at import it loads nothing but pytest and this file, and
unless ``--mcgrade-submission`` (or ``mcgrade_submission`` in the ini file) is set, no hook
does anything — no YAML is collected and sympy is never imported. ``-p no:mcgrade`` turns
it off entirely.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mcgrade._pytest_nodes import GradingSession  # imported only once switched on

_SESSION: pytest.StashKey[GradingSession] = pytest.StashKey()

_INI = (("mcgrade_submission", "the submission file to grade (.ipynb or .py)"),
        ("mcgrade_json", "write the verdict records (JSON) here"),
        ("mcgrade_gradescope", "write a Gradescope results.json here"),
        ("mcgrade_sandbox", "auto | bwrap | process | subprocess"))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mcgrade", "grading matrix-calculus answers")
    group.addoption("--mcgrade-submission", metavar="PATH", dest="mcgrade_submission",
                    help="grade this submission against the problem sets named as arguments")
    group.addoption("--mcgrade-json", metavar="PATH", dest="mcgrade_json",
                    help="write the verdict record (JSON) to PATH")
    group.addoption("--mcgrade-gradescope", metavar="PATH", dest="mcgrade_gradescope",
                    help="write a Gradescope results.json to PATH")
    group.addoption("--mcgrade-sandbox", metavar="KIND", dest="mcgrade_sandbox",
                    help="auto (default), bwrap, process or subprocess")
    for name, text in _INI:
        parser.addini(name, text, default=None)
    parser.addini("mcgrade_problems", "problem sets (YAML) to grade against", type="paths",
                  default=[])


_CONFIGURED = 0      # pytest runs configured in this process now (pytester nests them)


def pytest_configure(config: pytest.Config) -> None:
    global _CONFIGURED
    _CONFIGURED += 1
    from mcgrade.errors import UsageError
    from mcgrade.settings import resolve

    ini = str(config.inipath) if config.inipath else "the ini file"
    try:
        settings = resolve(config.getoption, config.getini, ini, config.rootpath, config.args)
    except UsageError as exc:
        raise pytest.UsageError(f"mcgrade: {exc}") from None
    if not settings.enabled:
        return
    from mcgrade._pytest_nodes import GradingSession
    grading = GradingSession(settings, is_worker=hasattr(config, "workerinput"))
    config.stash[_SESSION] = grading
    config.pluginmanager.register(grading, "mcgrade-grading")
    named = {Path(a.split("::")[0]).resolve() for a in config.args}
    # a bare `pytest` configured in pyproject.toml grades the sets it names
    config.args.extend(str(p) for p in settings.problems.value if p not in named)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    global _CONFIGURED
    _CONFIGURED -= 1
    if _CONFIGURED == 0 and _SESSION in config.stash and _ends_the_process(config):
        # A grading run's process is about to end, and pytest's last gc.collect() would
        # walk sympy's whole heap (0.15 s of a 0.9 s run, bench/plugin.py): set what is
        # alive aside from the collector. Never in a process that goes on.
        gc.freeze()


def _ends_the_process(config: pytest.Config) -> bool:
    """Whether this run is the process's own command line (`pytest …`, `python -m pytest
    …`), not one of several made in a process that goes on: pytester, a script or
    notebook calling pytest.main, an IDE's runner."""
    import sys
    script = Path(sys.argv[0]).name if sys.argv else ""
    entry = script.removesuffix(".exe") in ("pytest", "py.test") or (
        script == "__main__.py" and Path(sys.argv[0]).parent.name == "pytest")
    return (entry and "IPython" not in sys.modules
            and tuple(config.invocation_params.args) == tuple(sys.argv[1:]))


@pytest.fixture
def mcgrade_answers(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The submission's answers, read in the sandbox, as plain data (name → value)."""
    grading = request.config.stash.get(_SESSION, None)
    if grading is None:
        pytest.skip("mcgrade is not switched on: pass --mcgrade-submission PATH")
    return grading.plain_answers()
