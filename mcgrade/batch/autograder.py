"""``mcgrade gradescope SET.yaml -o autograder.zip``: a Gradescope autograder, ready to upload.

Gradescope's "zip upload" autograder is a zip with ``setup.sh`` (run once, as root, to build
the image) and ``run_autograder`` (run per submission; the submission is in
``/autograder/submission/``, the results go to ``/autograder/results/results.json``). The
zip made here holds the problem set, mcgrade's own source (so the image runs the very
version that made the zip, with no package index needed for mcgrade itself), and those two
scripts:

* ``setup.sh`` installs Python (3.10 or newer, with venv and pip) and bubblewrap, installs
  mcgrade into a venv that every user can read (submissions run as uid 65534), makes the
  problem set readable by root only, and checks the result; any failure stops the build
  with a message.
* ``run_autograder`` finds the notebook (or .py file) anywhere in the submission (an
  upload, a folder, a repository), runs ``mcgrade grade --gradescope`` on it, and then
  makes sure a valid results.json exists: if mcgrade could not start, crashed or was
  killed, it writes one that says so, with nothing but bash.

A set with ``params:`` is graded in the variant of the submitting student, whose id is read
from Gradescope's ``submission_metadata.json`` (``users[0]``, under the key the instructor
chose: the ids their starter notebooks were made with), never from the file's name or the
notebook, which the student controls. The zip is byte-identical for the same inputs
(sorted entries, fixed times).
"""

from __future__ import annotations

import importlib.metadata
import io
import shlex
import zipfile
from collections.abc import Sequence
from pathlib import Path

from mcgrade.batch.ledger import VERSION
from mcgrade.errors import UsageError
from mcgrade.submission.sources import SUFFIXES

EPOCH = (1980, 1, 1, 0, 0, 0)

SETUP = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder's image (choose the Ubuntu
# 22.04 or 24.04 base image). It installs Python 3.10+ with venv and pip, and bubblewrap;
# installs mcgrade from the source in this zip into a venv; locks the problem set (the
# answer key) away from submissions; and checks that it all works. Any failure stops the
# build with a line saying what failed, so a broken image never grades a student.
set -Eeuo pipefail
SET_NAME=@SET_NAME@
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
VENV="$ROOT/mcgrade-venv"
KEY="$SOURCE/$SET_NAME"
export DEBIAN_FRONTEND=noninteractive
umask 022   # the venv must stay readable by uid 65534, which runs the submissions

die() { printf '\nmcgrade setup.sh FAILED: %s\n' "$*" >&2; exit 1; }
trap 'die "line $LINENO: \"$BASH_COMMAND\" exited with status $?"' ERR
step() { printf 'mcgrade setup.sh: %s\n' "$*"; }
retry() {  # the network of a build can blip: three tries
  local try
  for try in 1 2 3; do
    "$@" && return 0
    [ "$try" = 3 ] || { step "'$*' failed; trying again"; sleep 10; }
  done
  return 1
}

step "installing Python 3 (venv, pip) and bubblewrap"
retry apt-get update -qq || die "apt-get update failed (no network?)"
retry apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip \
  bubblewrap || die "apt-get could not install python3, python3-venv, python3-pip, bubblewrap"
command -v python3 >/dev/null || die "python3 is not on PATH after installing it"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "$(python3 --version 2>&1) \
is too old: mcgrade needs Python 3.10 or newer; choose the Ubuntu 22.04 or 24.04 base image"
command -v bwrap >/dev/null || die "bubblewrap (bwrap) is not on PATH after installing it"

step "installing mcgrade and its dependencies into $VENV"
python3 -m venv --clear "$VENV" || die "python3 -m venv could not create $VENV"
retry "$VENV/bin/python" -m pip install --quiet --no-cache-dir "$SOURCE/mcgrade-src" \
  || die "pip could not install mcgrade and its dependencies (numpy, sympy, ...) into $VENV"
chmod -R a+rX "$VENV"
chmod a+x "$ROOT"   # others may pass through to the venv, not list or read the rest

step "making $KEY readable by root only"
chown -R root:root "$SOURCE"
chmod -R go-rwx "$SOURCE"   # mcgrade's copy in the venv is what runs; this stays private
chmod 0700 "$SOURCE"
chmod 0600 "$KEY"

step "checking the installation"
version=$("$VENV/bin/python" -m mcgrade --version) \
  || die "the installed mcgrade does not run ('mcgrade --version' failed)"
"$VENV/bin/python" -c 'import sys, numpy, sympy
from mcgrade.problemset import load_problem_set
print("mcgrade setup.sh: loaded", sys.argv[1], "-", load_problem_set(sys.argv[1]).title)' "$KEY" \
  || die "mcgrade could not load the problem set $KEY"
[ "$(stat -c '%a %u' "$KEY") $(stat -c '%a %u' "$SOURCE")" = "600 $(id -u) 700 $(id -u)" ] \
  || die "the problem set is not readable by root only: $(ls -ld "$SOURCE" "$KEY")"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then   # as the sandbox's user
  setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$VENV/bin/python" -c 'import mcgrade, numpy, sympy' || die "uid 65534, which runs \
submissions, can't use the venv $VENV: check the permissions of $ROOT and $VENV"
fi
step "OK: $version, $("$VENV/bin/python" --version), $(bwrap --version)"
"""

RUN = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission. It finds the notebook (or .py file) to grade
# anywhere in the submission (an upload, a folder or a repository), grades it with mcgrade
# against the problem set, and makes sure results.json is valid whatever happens: when
# mcgrade can't start, crashes or is killed, a results.json saying so is written here with
# nothing but bash. It exits 0, so that Gradescope shows that message to the student.
set -uo pipefail
# Filled in by `mcgrade gradescope`: the problem set (in the source folder); the file
# students are asked to submit ('' when not set); "yes" when the set has params, so each
# submission is graded in its submitter's variant; the field of users[0] that is their id.
SET_NAME=@SET_NAME@
SUBMISSION_NAME=@SUBMISSION_NAME@
VARIANTS=@VARIANTS@
STUDENT_KEY=@STUDENT_KEY@
# the late policy (`mcgrade gradescope --deadline …`): applied from Gradescope's
# submission time, created_at in submission_metadata.json
LATE=(@LATE@)
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${PYTHON:-$ROOT/mcgrade-venv/bin/python}"
if [ -n "${MCGRADE:-}" ]; then read -ra MCGRADE_CMD <<< "$MCGRADE"
else MCGRADE_CMD=("$PYTHON" -m mcgrade); fi
SUBMISSION="$ROOT/submission"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"

json_text() {  # $1 as the inside of a JSON string
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\r'/\\r}; s=${s//$'\t'/\\t}
  # other control characters go, and so do bytes that are not UTF-8: a file's name may
  # hold any byte, JSON must be UTF-8
  if command -v iconv >/dev/null 2>&1; then
    printf '%s' "$s" | LC_ALL=C tr -d '\001-\037' | iconv -f UTF-8 -t UTF-8 -c 2>/dev/null
  else
    printf '%s' "$s" | LC_ALL=C tr -d '\001-\037\200-\377'
  fi
}

fail() {  # a results.json with score 0 and the message $1, then stop
  printf '{"score": 0, "output": "%s", "output_format": "text", "tests": [], "stdout_visibility": "hidden"}\n' \
    "$(json_text "$1")" > "$RESULTS.tmp" && mv -f "$RESULTS.tmp" "$RESULTS"
  printf 'run_autograder: %s\n' "$1"
  exit 0
}

broken() {  # mcgrade ended with status $1 and no valid results.json
  local why="ended without writing its results"
  case $1 in
    0) ;;
    126|127) why="is not installed or can't start (rebuild the autograder: setup.sh's output says what failed)" ;;
    *) why="stopped with exit status $1"
       [ "$1" -gt 128 ] && why="was killed (signal $(($1 - 128)): out of memory or time?)" ;;
  esac
  # an internal error's traceback, for the instructor's eyes only (stdout)
  # (the CLI names its crash log mcgrade-crash-XXXX.log; the newest is this run's)
  if [ "$1" = 3 ]; then
    local log
    log=$(ls -t "${TMPDIR:-/tmp}"/mcgrade-crash-*.log 2>/dev/null | head -n 1)
    [ -n "$log" ] && cat "$log"
  fi
  fail "The autograder could not grade this submission: mcgrade $why. This is not a problem with your work: please tell your instructor (who can see the details in the autograder's output)."
}

valid_results() {  # results.json is a JSON object with a finite numeric score
  [ -s "$RESULTS" ] || return 1
  local python3
  if python3=$(command -v python3) && "$python3" -I -S -c '' 2>/dev/null; then
    "$python3" -I -S -c 'import json, math, sys
data = json.load(open(sys.argv[1], encoding="utf-8"))
score = data.get("score") if isinstance(data, dict) else None
sys.exit(not (type(score) in (int, float) and math.isfinite(score)))' "$RESULTS" 2>/dev/null
    return
  fi
  [ "$(head -c 1 "$RESULTS")" = "{" ] && grep -q '"score"' "$RESULTS"   # no Python at all
}

listing() {  # the names given, quoted, at most ten
  local out="" name n=0
  for name in "$@"; do
    n=$((n + 1))
    if [ "$n" -gt 10 ]; then out+=" and $(($# - 10)) more"; break; fi
    out+="${out:+, }\"$name\""
  done
  printf '%s' "$out"
}

# Every .ipynb and .py file (in any case), however deep, except in what editors, macOS and git leave
# behind (hidden files and folders such as .ipynb_checkpoints and .git, __MACOSX,
# __pycache__). Only regular files: a link could point at the answer key.
candidates=()
while IFS= read -r -d '' path; do
  candidates+=("${path#"$SUBMISSION"/}")
done < <(find "$SUBMISSION" -mindepth 1 \( -name '.*' -o -name __MACOSX -o -name __pycache__ \) \
           -prune -o -type f \( -iname '*.ipynb' -o -iname '*.py' \) -print0 2>/dev/null \
         | LC_ALL=C sort -z)
named=() notebooks=() scripts=()
for path in ${candidates[@]+"${candidates[@]}"}; do
  base=${path##*/}
  [ -n "$SUBMISSION_NAME" ] && [ "${base,,}" = "${SUBMISSION_NAME,,}" ] && named+=("$path")
  case ${path,,} in *.ipynb) notebooks+=("$path") ;; *) scripts+=("$path") ;; esac
done
# the file the instructor named, else the notebooks, else the .py files
if [ "${#named[@]}" -gt 0 ]; then pool=("${named[@]}")
elif [ "${#notebooks[@]}" -gt 0 ]; then pool=("${notebooks[@]}")
else pool=(${scripts[@]+"${scripts[@]}"}); fi
wanted="${SUBMISSION_NAME:-your notebook (.ipynb) or Python file (.py)}"
if [ "${#pool[@]}" -eq 0 ]; then
  fail "No notebook (.ipynb) or Python file (.py) was found in your submission. Submit $wanted."
elif [ "${#pool[@]}" -gt 1 ]; then
  fail "mcgrade found ${#pool[@]} files it could grade in your submission and can't tell which one holds your answers: $(listing "${pool[@]}"). Submit only $wanted (hidden folders, __MACOSX and .ipynb_checkpoints are ignored)."
fi
file="$SUBMISSION/${pool[0]}"

student=()
if [ "$VARIANTS" = yes ]; then
  # the variant is the submitter's, as Gradescope knows them: users[0].$STUDENT_KEY
  id="$("$PYTHON" -I -S -c 'import json, re, sys
user = (json.load(open(sys.argv[1])).get("users") or [{}])[0]
value = str(user.get(sys.argv[2]) or "")
print(value if re.fullmatch(r"[A-Za-z0-9@._+-]{1,200}", value) else "")' \
    "$ROOT/submission_metadata.json" "$STUDENT_KEY" 2>/dev/null)"
  if [ -z "$id" ]; then
    [ -x "$PYTHON" ] || broken 127
    fail "mcgrade could not read this submission's student id (users[0].$STUDENT_KEY in submission_metadata.json), so it cannot tell which variant of $SET_NAME to grade. Please tell your instructor."
  fi
  student=(--student "$id")
fi

late=()
[ "${#LATE[@]}" -gt 0 ] && late=("${LATE[@]}" --gradescope-metadata "$ROOT/submission_metadata.json")

rm -f "$RESULTS"   # a stale file must not pass for this submission's results
"${MCGRADE_CMD[@]}" grade "$file" --problems "$ROOT/source/$SET_NAME" ${student[@]+"${student[@]}"} \
  ${late[@]+"${late[@]}"} --gradescope "$RESULTS" --sandbox "${MCGRADE_SANDBOX:-auto}"
status=$?
valid_results || broken "$status"
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


def script(template: str, **values: str) -> bytes:
    """``template`` with each ``@NAME@`` replaced by its value, quoted for bash."""
    for name, value in values.items():
        template = template.replace(f"@{name.upper()}@", shlex.quote(value))
    return template.encode()


def build(problem_set: str | Path, *, variants: bool = False,
          student_key: str = "email", submission_name: str = "",
          late: Sequence[str] = ()) -> bytes:
    """The autograder zip for ``problem_set``, as bytes. ``variants``: the set has
    ``params:``, so each submission is graded in the variant of the student whose
    ``student_key`` (a key of Gradescope's user record: email, sid, id) it names.
    ``submission_name`` (``hw1.ipynb``) picks the file to grade among several. ``late``:
    the options of a late policy (``late.Policy.arguments``), given to every grading."""
    if submission_name and (Path(submission_name).name != submission_name
                            or not submission_name.lower().endswith(SUFFIXES)):
        raise UsageError(f"--submission-name {submission_name!r}: give a file name "
                         f"ending in .ipynb or .py, without a folder (e.g. hw1.ipynb)")
    set_path = Path(problem_set)
    entries: dict[str, tuple[bytes, int]] = {
        "setup.sh": (script(SETUP, set_name=set_path.name), 0o755),
        "run_autograder": (script(RUN.replace("@LATE@", " ".join(map(shlex.quote, late))),
                                  set_name=set_path.name,
                                  submission_name=submission_name,
                                  variants="yes" if variants else "no",
                                  student_key=student_key), 0o755),
        set_path.name: (set_path.read_bytes(), 0o600),
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
