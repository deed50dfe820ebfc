"""``mcgrade gradescope SET.yaml -o autograder.zip``: a Gradescope autograder, ready to upload.

Gradescope's "zip upload" autograder is a zip with ``setup.sh`` (run once, as root, to build
the image) and ``run_autograder`` (run per submission; the submission is in
``/autograder/submission/``, the results go to ``/autograder/results/results.json``). The
zip made here holds the problem set, mcgrade's own source (so the image runs the very
version that made the zip, with no package index needed for mcgrade itself), and those two
scripts: ``setup.sh`` installs Python, bubblewrap and mcgrade into a venv;
``run_autograder`` runs ``mcgrade grade --gradescope`` on the one notebook or .py file
submitted, which writes a valid results.json even when grading fails. A set with
``params:`` is graded in the variant of the submitting student, whose id is read from
Gradescope's ``submission_metadata.json`` (``users[0]``, under the key the instructor
chose: the ids their starter notebooks were made with), never from the file's name or the
notebook, which the student controls. The zip is byte-identical for the same inputs
(sorted entries, fixed times).
"""

from __future__ import annotations

import importlib.metadata
import io
import zipfile
from pathlib import Path

from mcgrade.batch.ledger import VERSION

EPOCH = (1980, 1, 1, 0, 0, 0)

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-pip python3-venv bubblewrap
python3 -m venv /autograder/mcgrade-venv
/autograder/mcgrade-venv/bin/pip install --quiet /autograder/source/mcgrade-src
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade its one notebook or .py file against
# {set_name}. mcgrade writes a valid results.json even when grading fails.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
MCGRADE="${{MCGRADE:-$ROOT/mcgrade-venv/bin/python -m mcgrade}}"
PYTHON="${{PYTHON:-$ROOT/mcgrade-venv/bin/python}}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
fail() {{
  printf '{{"score": 0, "output": "%s", "tests": []}}\\n' "$1" > "$RESULTS"
  exit 0
}}
shopt -s nullglob
files=("$ROOT"/submission/*.ipynb "$ROOT"/submission/*.py)
if [ "${{#files[@]}}" -ne 1 ]; then
  fail "mcgrade expects exactly one .ipynb or .py file in the submission; found ${{#files[@]}}. Resubmit one file."
fi
student=()
if [ "{variants}" = yes ]; then
  # the variant is the submitter's, as Gradescope knows them: users[0].{student_key}
  id="$("$PYTHON" -c 'import json, re, sys
user = (json.load(open(sys.argv[1])).get("users") or [{{}}])[0]
value = str(user.get(sys.argv[2]) or "")
print(value if re.fullmatch(r"[A-Za-z0-9@._+-]{{1,200}}", value) else "")' \\
    "$ROOT/submission_metadata.json" "{student_key}" 2>/dev/null)"
  if [ -z "$id" ]; then
    fail "mcgrade could not read this submission's student id (users[0].{student_key} in submission_metadata.json), so it cannot tell which variant of {set_name} to grade. Please tell your instructor."
  fi
  student=(--student "$id")
fi
$MCGRADE grade "${{files[0]}}" --problems "$ROOT/source/{set_name}" "${{student[@]}}" \\
  --gradescope "$RESULTS" --sandbox "${{MCGRADE_SANDBOX:-auto}}"
exit 0
"""


def pyproject() -> str:
    """A minimal pyproject.toml for mcgrade's copied source: its runtime dependencies."""
    try:
        requires = [r for r in importlib.metadata.requires("mcgrade") or ()
                    if "extra ==" not in r]
    except importlib.metadata.PackageNotFoundError:
        requires = ["sympy>=1.12", "numpy>=1.24", "pyyaml>=6.0", "nbformat>=5.7"]
    deps = "".join(f'    "{r}",\n' for r in requires)
    return ('[build-system]\nrequires = ["setuptools>=68"]\n'
            'build-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "mcgrade"\nversion = "{VERSION}"\n'
            f'requires-python = ">=3.10"\ndependencies = [\n{deps}]\n\n'
            '[tool.setuptools.packages.find]\ninclude = ["mcgrade*"]\n')


def build(problem_set: str | Path, *, variants: bool = False,
          student_key: str = "email") -> bytes:
    """The autograder zip for ``problem_set``, as bytes. ``variants``: the set has
    ``params:``, so each submission is graded in the variant of the student whose
    ``student_key`` (a key of Gradescope's user record: email, sid, id) it names."""
    set_path = Path(problem_set)
    run = RUN.format(set_name=set_path.name, variants="yes" if variants else "no",
                     student_key=student_key)
    entries: dict[str, tuple[bytes, int]] = {
        "setup.sh": (SETUP.encode(), 0o755),
        "run_autograder": (run.encode(), 0o755),
        set_path.name: (set_path.read_bytes(), 0o644),
        "mcgrade-src/pyproject.toml": (pyproject().encode(), 0o644),
    }
    package = Path(__file__).resolve().parent.parent          # mcgrade/
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            name = "mcgrade-src/mcgrade/" + path.relative_to(package).as_posix()
            entries[name] = (path.read_bytes(), 0o644)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            data, mode = entries[name]
            info = zipfile.ZipInfo(name, EPOCH)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()
