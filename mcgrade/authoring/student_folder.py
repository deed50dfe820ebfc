"""``mcgrade publish --wheel``: what a student folder needs, beside the student copy of
the set, to check answers on any laptop (Linux, macOS, Windows) with no package index
serving mcgrade:

* a wheel of the running mcgrade, ``mcgrade-<version>-py3-none-any.whl``;
* ``pytest.ini`` naming the notebook and the set, so that a bare ``python -m pytest``
  checks the notebook;
* ``README.md`` with two commands that are the same in every shell and every virtual
  environment: ``python -m pip install <wheel>`` and ``python -m pytest``.

The wheel is packed here, following the binary distribution format (a zip of the package
and a ``.dist-info`` folder whose RECORD hashes every file), from the running package's
files and its installed distribution's metadata (version, dependencies, entry points).
That needs no build backend, no network and no source tree, so it works the same for an
editable install, ``pip install .`` or a wheel; the students get exactly the mcgrade
the instructor published with; and the same files give the same bytes (fixed
timestamps).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import json
import sys
import zipfile
from pathlib import Path

from mcgrade.authoring.notebook import build_notebook, render
from mcgrade.errors import McgradeError, UsageError
from mcgrade.files import write_atomic
from mcgrade.model import ProblemSet

TAG = "py3-none-any"                    # pure Python: one wheel for every platform
WHEEL = f"""\
Wheel-Version: 1.0
Generator: mcgrade publish --wheel
Root-Is-Purelib: true
Tag: {TAG}
"""
_EPOCH = (1980, 1, 1, 0, 0, 0)          # the earliest time a zip can store
PACKAGE = Path(__file__).resolve().parent.parent      # the running mcgrade

PYTEST_INI = """\
# Written by `mcgrade publish`: `python -m pytest` in this folder checks {notebook}
# against {set_name}, the student copy of the problem set.
[pytest]
mcgrade_problems = {set_name}
mcgrade_submission = {notebook}
"""

README = """\
# {title}: checking your answers

Answer in `{notebook}`. To check your answers, open a terminal in this folder (on
Windows, a Command Prompt or PowerShell) and run, with Python 3.10 or newer:

```
python -m pip install {wheel}
python -m pytest
```

The first command installs mcgrade, the checker, with what it needs (once). The second
checks the saved notebook: one test per problem, a wrong answer fails with what is wrong
with it, and the last line gives your score. Where `python` is not found, write
`python3` (macOS, Linux) or `py` (Windows) instead. In a virtual environment, create and
activate it first (`python -m venv .venv`, then `source .venv/bin/activate` on macOS and
Linux or `.venv\\Scripts\\activate` on Windows); the two commands stay the same.

Inside the notebook, run the cell under an answer to check it: the feedback appears under
the cell (the notebook's Python must be the one you installed mcgrade into). On Colab,
upload this folder's files and run `%pip install {wheel}` in a cell first.

`{set_name}` checks answers at fixed points and holds none of them: your instructor's
grading uses the full problem set, so a local pass is strong evidence, not a promise.
"""


def write_student_folder(folder: Path, problem_set: ProblemSet, set_name: str) -> list[Path]:
    """Write the wheel, ``pytest.ini`` and ``README.md`` into ``folder``, for the set
    ``set_name`` there, and the starter notebook they name, ``<set stem>.ipynb``, unless
    one is there already (it may hold an instructor's own). The paths written."""
    wheel = build_wheel(folder)
    notebook = f"{Path(set_name).stem}.ipynb"
    ini, readme = folder / "pytest.ini", folder / "README.md"
    write_atomic(ini, PYTEST_INI.format(notebook=notebook, set_name=set_name))
    write_atomic(readme, README.format(title=problem_set.title, notebook=notebook,
                                       set_name=set_name, wheel=wheel.name))
    written = [wheel, ini, readme]
    if not (folder / notebook).exists():
        write_atomic(folder / notebook, render(build_notebook(problem_set, notebook,
                                                              set_name)))
        written.append(folder / notebook)
    return written


def check_folder(folder: Path, problem_set: ProblemSet, set_name: str) -> None:
    """UsageError, before anything is written, if ``folder`` holds another set's or
    another student's starter notebook under this one's name: it would be kept, and
    bob would check against alice's prompts, his work filed under her id."""
    path = folder / f"{Path(set_name).stem}.ipynb"
    ours = {"problem_set": set_name, "student": problem_set.student or None}
    try:
        theirs = json.loads(path.read_text("utf-8")).get("metadata", {}).get("mcgrade", {})
    except (OSError, ValueError, AttributeError):
        return                                   # not a notebook of ours: the author's
    if isinstance(theirs, dict) and theirs and any(theirs.get(k) != v for k, v in ours.items()):
        who = f"{theirs.get('student')}'s" if theirs.get("student") else "another"
        raise UsageError(f"{path} is {who} starter notebook of {theirs.get('problem_set')}, "
                         f"not this copy's: publish each student's copy into a folder of its "
                         f"own, or remove {path.name} (mcgrade notebook writes it anew)")


def build_wheel(folder: Path) -> Path:
    """Write a wheel of the running mcgrade into ``folder``; its path."""
    distribution = _installed()
    stem = f"mcgrade-{distribution.version}"
    info = f"{stem}.dist-info"
    files = {f"mcgrade/{path.relative_to(PACKAGE).as_posix()}": path.read_bytes()
             for path in sorted(PACKAGE.rglob("*")) if _shipped(path)}
    files[f"{info}/METADATA"] = (distribution.read_text("METADATA") or "").encode()
    entry_points = distribution.read_text("entry_points.txt")
    if entry_points:        # the `mcgrade` command and the pytest plugin
        files[f"{info}/entry_points.txt"] = entry_points.encode()
    files[f"{info}/WHEEL"] = WHEEL.encode()
    record = "".join(f"{name},sha256={_digest(data)},{len(data)}\n"
                     for name, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, _EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    target = folder / f"{stem}-{TAG}.whl"
    write_atomic(target, buffer.getvalue())
    return target


def _installed() -> importlib.metadata.Distribution:
    """The installed distribution of the running mcgrade: one with a WHEEL file (a
    source tree's stale ``mcgrade.egg-info`` is not one) and the running version."""
    version = sys.modules["mcgrade"].__version__   # (not `import mcgrade`: a driver)
    for distribution in importlib.metadata.distributions(name="mcgrade"):
        if distribution.read_text("WHEEL") is not None and distribution.version == version:
            return distribution
    raise McgradeError(f"mcgrade {version} (running from {PACKAGE}) is not installed with "
                       "pip, so its wheel can't be made: install it (pip install . in its "
                       "source folder)")


def _shipped(path: Path) -> bool:
    """A file of the package: not compiled bytecode, not hidden (an editor's, the OS's)."""
    parts = path.relative_to(PACKAGE).parts
    return path.is_file() and path.suffix != ".pyc" and "__pycache__" not in parts \
        and not any(part.startswith(".") for part in parts)


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
