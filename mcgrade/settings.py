"""Settings of the pytest plugin, resolved once: command line > environment > ini > default.

Each value remembers where it came from, so a bad one is reported with its source
("--mcgrade-sandbox", "MCGRADE_SANDBOX", "mcgrade_sandbox in pyproject.toml"). Nothing
here imports sympy or numpy: the plugin reads settings in every pytest run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcgrade.errors import UsageError

SANDBOXES = ("auto", "bwrap", "process", "subprocess")   # the one list of sandbox kinds
PROBLEM_SET_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Setting:
    value: Any
    source: str          # where it came from, for messages


@dataclass(frozen=True)
class Settings:
    submission: Setting
    problems: Setting    # tuple[Path, ...]
    json: Setting
    gradescope: Setting
    sandbox: Setting

    @property
    def enabled(self) -> bool:
        return self.submission.value is not None


def _first(option: Any, option_name: str, env: str, ini: Any, ini_name: str,
           ini_file: str, default: Any = None) -> Setting:
    if option not in (None, "", []):
        return Setting(option, option_name)
    if os.environ.get(env):
        return Setting(os.environ[env], f"the environment variable {env}")
    if ini not in (None, "", []):
        return Setting(ini, f"{ini_name} in {ini_file}")
    return Setting(default, "the default")


def resolve(get_option: Callable[[str], Any], get_ini: Callable[[str], Any],
            ini_file: str, root: Path, args: Sequence[str]) -> Settings:
    """Read every setting once. ``args`` are the command line's paths: problem sets named
    there switch on the plugin together with ``--mcgrade-submission``."""
    submission = _first(get_option("mcgrade_submission"), "--mcgrade-submission",
                        "MCGRADE_SUBMISSION", get_ini("mcgrade_submission"),
                        "mcgrade_submission", ini_file)
    on_command_line = tuple(Path(a.split("::")[0]) for a in args
                            if a.split("::")[0].endswith(PROBLEM_SET_SUFFIXES))
    if on_command_line:
        problems = Setting(tuple(p.resolve() for p in on_command_line), "the command line")
    else:
        raw = _first(None, "", "MCGRADE_PROBLEMS", get_ini("mcgrade_problems"),
                     "mcgrade_problems", ini_file, ())
        paths = raw.value.split(os.pathsep) if isinstance(raw.value, str) else raw.value
        problems = Setting(tuple((root / p).resolve() for p in paths if p), raw.source)
    settings = Settings(
        submission=_resolve_path(submission, root),
        problems=problems,
        json=_resolve_path(_first(get_option("mcgrade_json"), "--mcgrade-json",
                                  "MCGRADE_JSON", get_ini("mcgrade_json"), "mcgrade_json",
                                  ini_file), root),
        gradescope=_resolve_path(_first(get_option("mcgrade_gradescope"),
                                        "--mcgrade-gradescope", "MCGRADE_GRADESCOPE",
                                        get_ini("mcgrade_gradescope"), "mcgrade_gradescope",
                                        ini_file), root),
        sandbox=_first(get_option("mcgrade_sandbox"), "--mcgrade-sandbox", "MCGRADE_SANDBOX",
                       get_ini("mcgrade_sandbox"), "mcgrade_sandbox", ini_file, "auto"),
    )
    _check(settings)
    return settings


def _resolve_path(setting: Setting, root: Path) -> Setting:
    if setting.value is None:
        return setting
    path = Path(setting.value)
    # ini values are relative to the ini file's folder; others to the working directory
    base = root if " in " in setting.source else Path.cwd()
    return Setting((base / path).resolve(), setting.source)


def _check(settings: Settings) -> None:
    if settings.sandbox.value not in SANDBOXES:
        raise UsageError(f"{settings.sandbox.source}: sandbox {settings.sandbox.value!r} is not "
                         f"one of {', '.join(SANDBOXES)}")
    if not settings.enabled:
        return
    if not settings.submission.value.is_file():
        raise UsageError(f"{settings.submission.source}: submission "
                         f"{settings.submission.value} does not exist")
    if not settings.problems.value:
        raise UsageError(f"{settings.submission.source} names a submission but no problem set "
                         "is given: name one on the command line (pytest --mcgrade-submission "
                         "hw1.ipynb hw1.yaml) or set mcgrade_problems in pyproject.toml")
    for path in settings.problems.value:
        if not path.is_file():
            raise UsageError(f"{settings.problems.source}: problem set {path} does not exist")
