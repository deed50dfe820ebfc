"""Which sandbox runs submissions here, with which layers, and whether they hide the key.

A submission never reads the problem sets, the answer keys or the grader's outputs, and
never reaches the grader, wherever grading runs. Bubblewrap does that by showing the
submission nothing but the Python installation. Where bwrap can't start (Docker and
Gradescope containers usually forbid the user namespaces it needs), the process sandbox
does it with other layers, chosen from what the kernel offers (the worker's probe, asked
before any submission runs):

* **landlock** — the submission may read only the Python installation (and write only its
  own directory), however privileged it is; no TCP, no signals out of its domain (ABI 6).
* **seccomp** — no new socket (so no network, and no Unix socket by its path, which
  Landlock does not cover), no ptrace.
* **own uid** — when the grader is root, each job runs as a user of its own, so files
  readable by root only, the grader and the other jobs are out of its reach.
* **namespaces** — user, PID, mount, network namespaces: a read-only file system, no
  network, no other process in sight (they hide no file by themselves).

Off Linux (macOS, Windows) there is only the **subprocess** sandbox, a plain child
process (``mcgrade.submission.portable``): it hides nothing, so ``auto`` picks it for a
student copy only.

``choose`` picks the sandbox and its layers. For a set that holds keys (``hidden`` given:
the set's file and the grader's outputs) it refuses, with one line saying why and what to
do, unless Landlock or the uid layer hides every one of them and seccomp, namespaces,
another uid or Landlock's signal scoping keep the submission from reaching the grader. A
student copy holds no key, so it runs with whatever layers there are. Every layer asked
for is applied by every job, or the job reports a fault of the machine and runs nothing.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import random
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mcgrade.errors import SandboxUnavailable, SubmissionError
from mcgrade.settings import SANDBOXES
from mcgrade.submission.pool import WorkerUnavailable, shared
from mcgrade.submission.sandbox import JOB_UIDS, NOBODY, runtime_dirs

# /proc stays readable (libraries look at /proc/self); another process's memory, fds,
# root and environment need ptrace access, which Landlock denies outside the domain
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ld.so.cache", "/proc")
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
ADVICE = ("install bubblewrap on a kernel that allows user namespaces, or grade on Linux "
          "5.13+ with Landlock enabled, or as root with {what} readable by root only "
          "({chmod}); students check their work against the student copy "
          "(mcgrade publish), which holds no key")


@dataclass(frozen=True)
class Sandbox:
    """The sandbox that runs the submissions: its worker, what records call it, and the
    layers every job applies (``confine``, read by the child side)."""

    kind: str                                   # the worker: "bwrap" or "process"
    label: str                                  # "bwrap", "process (own uid, landlock)"
    confine: Mapping[str, Any] = field(default_factory=dict)
    fallback: str = ""                          # why "auto" is not bwrap here

    def for_job(self) -> dict[str, Any]:
        """What one job's process applies: ``confine``, with a uid of that job's own where
        the grader gives each job one (so no job can signal or read another's files)."""
        if not self.confine.get("own_uid"):
            return dict(self.confine)
        return {**self.confine, "uid": JOB_UIDS[next(_job_numbers) % len(JOB_UIDS)]}


# job uids are drawn in turn, from a place of this process's own, so that two graders
# running at once are unlikely to hand out the same uid to jobs running at once
_job_numbers = itertools.count(random.randrange(len(JOB_UIDS)))


def choose(requested: str = "auto", hidden: Sequence[str] | None = None) -> Sandbox:
    """The sandbox ``requested`` ("auto", "bwrap", "process" or "subprocess") means here.

    ``hidden``: for a set that holds keys, the files and folders no submission may read
    (its own file, the grader's outputs); ``None`` for a student copy or a bare run.
    Raises SubmissionError (one line: why, and what to do) when ``bwrap`` was asked for
    and can't start, or when no layer here would hide ``hidden``.
    """
    if requested not in SANDBOXES:
        raise SubmissionError(f"sandbox {requested!r} is not one of {', '.join(SANDBOXES)}")
    if requested == "subprocess":
        return _portable(hidden, "--sandbox subprocess was chosen")
    bwrap_error = ""
    if requested != "process":
        try:
            pool = shared("bwrap")
            return Sandbox("bwrap", "bwrap", {"namespaces": bool(pool.probe.get("namespaces"))})
        except WorkerUnavailable as exc:
            if requested == "bwrap":
                raise SandboxUnavailable(
                    f"the bwrap sandbox can't run here ({exc}); install bubblewrap "
                    "(apt-get install bubblewrap) on a kernel that allows user namespaces, "
                    "or choose --sandbox process") from None
            bwrap_error = str(exc)
    try:
        pool = shared("process")
    except WorkerUnavailable as exc:
        if requested == "auto":            # not Linux, or no fork: a student copy still runs
            return _portable(hidden, f"the Linux sandbox can't run here ({exc})")
        raise SandboxUnavailable(f"the process worker could not start: {exc}") from None
    sandbox = _process(pool.probe, tuple(hidden) if hidden is not None else None,
                       bwrap_error)
    if bwrap_error:
        return Sandbox(sandbox.kind, sandbox.label, sandbox.confine,
                       f"bwrap can't start here ({bwrap_error}); submissions run in the "
                       f"{sandbox.label} sandbox instead")
    return sandbox


def _portable(hidden: Sequence[str] | None, why: str) -> Sandbox:
    """The portable sandbox (a plain child process, any platform), for a student copy only:
    it hides nothing, so a set that holds keys is refused."""
    if hidden is not None:
        what = _name(hidden[0]) if hidden and hidden[0] else "the problem set"
        raise SandboxUnavailable(
            f"refusing to run submissions where they could read {what}: {why}, and the "
            "portable subprocess sandbox hides nothing; it is for a student copy "
            f"(mcgrade publish), which holds no key; grade {what} on Linux, where "
            "bubblewrap, Landlock or a uid of its own can hide it")
    fallback = "" if why.startswith("--sandbox") else \
        f"{why}; submissions run in the subprocess sandbox (a plain child process) instead"
    return Sandbox("subprocess", "subprocess", {}, fallback)


def landlock_paths() -> tuple[list[str], list[str]]:
    """What a submission may read (the Python installation, system libraries) and write
    besides its own directory (harmless devices), under Landlock."""
    return [*runtime_dirs(), *SYSTEM_DIRS], list(DEVICES)


def _process(probe: Mapping[str, Any], hidden: tuple[str, ...] | None,
             bwrap_error: str) -> Sandbox:
    read, write = landlock_paths()
    abi = int(probe.get("landlock") or 0)
    root = probe.get("euid") == 0
    check = _as_nobody(tuple(runtime_dirs()), tuple(_existing(hidden or ()))) if root else None
    uid = check is not None and check["runtime"]
    own_uids = uid and bool(probe.get("own_uids"))
    namespaces = bool(probe.get("namespaces_as_other" if uid else "namespaces"))
    seccomp = bool(probe.get("seccomp"))
    used = (("namespaces", namespaces), ("own uid" if own_uids else f"uid {NOBODY}", uid),
            ("landlock", abi >= 1), ("seccomp", seccomp))
    layers = [name for name, on in used if on]
    label = f"process ({', '.join(layers)})" if layers else "process"
    confine: dict[str, Any] = {
        "namespaces": namespaces, "uid": NOBODY if uid else None, "own_uid": own_uids,
        "landlock": {"read": read, "write": write} if abi >= 1 else None,
        "seccomp": seccomp,
        # jobs that could signal each other (one uid, no namespaces, no signal scoping)
        # run one at a time: a neighbour's kill would be scored as the victim's crash
        "serial": not (namespaces or own_uids or abi >= 6)}
    if hidden is not None:
        bwrap = f"bwrap can't start here ({bwrap_error})" if bwrap_error else \
            "--sandbox process was chosen"
        why = _exposed(hidden, abi >= 1, root, check, read)
        if why:
            readable = check["readable"] if check and check["readable"] else hidden[:1]
            what = _names(readable) if readable else "the problem set"
            chmod = " or ".join(sorted({"chmod 700" if os.path.isdir(p) else "chmod 600"
                                        for p in readable})) or "chmod 600"
            raise SandboxUnavailable(
                f"refusing to run submissions where they could read {what}: {bwrap}, and "
                f"{why}; {ADVICE.format(what=what, chmod=chmod)}")
        why = _unguarded(namespaces, uid, abi, seccomp)
        if why:
            raise SandboxUnavailable(
                f"refusing to run submissions where they could reach the grader: {bwrap}, "
                f"and {why}; install bubblewrap on a kernel that allows user namespaces, "
                "or grade on Linux 6.12+ (Landlock ABI 6), or as root; students check "
                "their work against the student copy (mcgrade publish), which holds no key")
    return Sandbox("process", label, confine)


def _unguarded(namespaces: bool, uid: bool, abi: int, seccomp: bool) -> str:
    """Why a submission could reach the grader though the key is hidden ("" if it can't):
    a socket (a session bus, an agent: Landlock does not cover connecting to one by path),
    or a signal, where it runs as the grader's own user."""
    reasons = []
    if not seccomp:
        reasons.append("this kernel can't filter system calls (seccomp), so submissions "
                       "could open sockets")
    if not (namespaces or uid or abi >= 6):
        reasons.append(f"they would run as the grader's user, free to signal it (no "
                       f"namespaces, Landlock ABI {abi} has no signal scoping)")
    return "; ".join(reasons)


def _exposed(hidden: tuple[str, ...], landlock: bool, root: bool,
             check: Mapping[str, Any] | None, read: Sequence[str]) -> str:
    """Why no layer here hides ``hidden`` ("" when one does)."""
    reasons = []
    if landlock:
        inside = [s for s in _existing(hidden) if _within(s, read)]
        if not inside:
            return ""
        reasons.append(f"Landlock would let them read {_name(inside[0])}, which is inside "
                       "the Python installation or a system folder")
    else:
        reasons.append("this kernel offers no Landlock")
    if not root:
        reasons.append("the grader is not root, so submissions can't run as a user of "
                       "their own")
    elif check is None or not check["runtime"]:
        reasons.append(f"uid {NOBODY} can't read this Python installation "
                       f"({sys.prefix}), so submissions can't run as that user (install "
                       "mcgrade in a Python other users can read, e.g. a venv under /opt)")
    elif check["readable"]:
        reasons.append(f"uid {NOBODY} can read {_names(check['readable'])}")
    else:
        return ""
    return "; ".join(reasons)


def _existing(paths: Sequence[str]) -> list[str]:
    return [os.path.realpath(p) for p in paths if p and os.path.exists(p)]


def _within(path: str, roots: Sequence[str]) -> bool:
    real = [os.path.realpath(r) for r in roots]
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in real)


def _name(path: str) -> str:
    return os.path.basename(path.rstrip("/")) or path


def _names(paths: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c' (at most five named)."""
    names = [_name(p) for p in paths[:5]] + ([f"{len(paths) - 5} more"] if len(paths) > 5
                                              else [])
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# Run as uid 65534: can it use this Python installation, and which of the hidden paths can it reach
# (a file it can read, a folder it can enter)?
_CHECK = """import json, os, sys
paths = json.loads(sys.argv[1])
ok = all(os.access(d, os.R_OK | os.X_OK) for d in paths["runtime"])
reach = [p for p in paths["hidden"]
         if os.access(p, os.X_OK if os.path.isdir(p) else os.R_OK)]
print(json.dumps({"runtime": ok, "readable": reach}))
"""


@functools.lru_cache(maxsize=64)
def _as_nobody(runtime: tuple[str, ...], hidden: tuple[str, ...]) -> dict[str, Any] | None:
    """What uid 65534 can reach, asked of a process running as it (exact: ACLs and all);
    None when that process can't even start (the interpreter is not readable by it)."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _CHECK,
             json.dumps({"runtime": list(runtime), "hidden": list(hidden)})],
            user=NOBODY, group=NOBODY, extra_groups=[], capture_output=True, timeout=60,
            cwd="/", env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        result = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    if done.returncode != 0 or not isinstance(result, dict):
        return None
    return {"runtime": result.get("runtime") is True,
            "readable": [p for p in result.get("readable", []) if p in hidden]}
