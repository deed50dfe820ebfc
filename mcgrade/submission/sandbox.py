"""How a worker is started: a plain process, or inside bubblewrap (SPEC §5.1).

``worker_command(sandbox, control_fd, preload)`` gives the argv, environment and descriptors that
start ``_child.py``. Under ``bwrap`` the worker sees, read-only, only ``/usr`` (and the
``/lib*``, ``/bin`` links into it), the Python installation it runs (prefixes and
site-packages directories) and the worker's own scripts at ``/mcgrade-worker``; a tmpfs
``/tmp``; a ``/proc`` of its own PID namespace and a minimal ``/dev``. No network, no
capabilities, uid 65534 inside, a new session. The worker lives as long as its control
socket: when the grader's process ends, however it ends, the socket closes, the worker
exits, and the sandbox ends with it, every job inside included. (Not ``--die-with-parent``:
that signal follows the *thread* that started bwrap, so a worker started by a helper thread
died with the thread, taking its jobs' results along.) When the grader is root,
``_launch.py`` first stages those sources and drops to uid 65534, so the sandbox is not
uid 0 outside either (``RLIMIT_NPROC`` then caps each submission's processes).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import site
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mcgrade.settings import SANDBOXES as SANDBOXES  # re-exported: the kinds

HERE = Path(__file__).parent
CHILD = HERE / "_child.py"
LAUNCH = HERE / "_launch.py"
WORKER_DIR = "/mcgrade-worker"
NOBODY = 65534
JOB_UIDS = range(200_000, 265_536)   # a root grader gives each job its own uid from here
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
       "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
PRELOAD = ("numpy", "sympy")   # what a worker imports before its first fork, by default


@functools.cache
def site_path() -> tuple[str, ...]:
    """The grader's site directories and their ``.pth`` path lines, in ``site``'s order.

    The worker runs with ``-S`` (no ``site``: the code lines of ``.pth`` files are not
    run) and appends these, so it imports numpy and sympy from where the grader does.
    """
    dirs = list(site.getsitepackages()) if hasattr(site, "getsitepackages") else []
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    path: list[str] = []
    for sitedir in dirs:
        if not os.path.isdir(sitedir) or sitedir in path:
            continue
        path.append(sitedir)
        for pth in sorted(Path(sitedir).glob("*.pth")):
            try:
                lines = pth.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            for line in map(str.strip, lines):
                if line and not line.startswith(("#", "import ", "import\t")):
                    full = os.path.normpath(os.path.join(sitedir, line))
                    if os.path.isdir(full) and full not in path:
                        path.append(full)
    return tuple(path)


def runtime_dirs() -> list[str]:
    """Directories of the Python installation: prefixes and site-packages, outermost only.

    A ``.pth`` line pointing outside them (a source checkout, which may hold problem sets)
    is left out: its packages are not importable in the sandbox.
    """
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                              sys.base_exec_prefix)}
    roots = sorted(prefixes | {os.path.realpath(d) for d in site.getsitepackages()
                               if os.path.isdir(d)})
    user = site.getusersitepackages() if site.ENABLE_USER_SITE else ""
    if user and os.path.isdir(user):
        roots.append(os.path.realpath(user))
    kept: list[str] = []
    for d in sorted(set(roots)):
        if not any(d == k or d.startswith(k + os.sep) for k in kept) and d != "/usr" \
                and not d.startswith("/usr/"):
            kept.append(d)
    return kept


def _sandbox_site_path() -> list[str]:
    dirs = runtime_dirs() + ["/usr"]
    return [p for p in site_path()
            if any(os.path.realpath(p) == d or os.path.realpath(p).startswith(d + os.sep)
                   for d in dirs)]


def _bwrap_argv(bwrap: str, binds: list[tuple[str, str]], config: dict[str, Any]) -> list[str]:
    argv = [bwrap, "--unshare-all", "--unshare-user", "--new-session",
            "--cap-drop", "ALL", "--uid", str(NOBODY), "--gid", str(NOBODY),
            "--hostname", "mcgrade", "--clearenv"]
    for key, value in {**ENV, "HOME": "/tmp"}.items():
        argv += ["--setenv", key, value]
    # /tmp first: a bind below it (a venv in /tmp) then lands on the tmpfs, not under it
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for source, dest in binds:
        argv += ["--ro-bind", source, dest]
    for name in ("lib", "lib64", "lib32", "bin", "sbin"):
        path = "/" + name
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    argv += ["--chdir", "/tmp"]
    return argv + [sys.executable, "-I", "-S", "-X", "utf8", f"{WORKER_DIR}/_child.py",
                   json.dumps(config)]


def worker_command(sandbox: str, control_fd: int,
                   preload: Sequence[str] = PRELOAD) -> tuple[list[str], dict[str, str]]:
    """(argv, environment) that start a worker holding ``control_fd`` and importing
    ``preload`` before its first fork.

    ``sandbox`` is ``process`` or ``bwrap``; ``bwrap`` raises FileNotFoundError when the
    program is not installed.
    """
    if sandbox == "process":
        config = {"control_fd": control_fd, "site_path": list(site_path()),
                  "job_uid": JOB_UIDS[0], "preload": list(preload)}
        argv = [sys.executable, "-I", "-S", "-X", "utf8", str(CHILD), json.dumps(config)]
        return argv, {**ENV, "HOME": "/tmp"}
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise FileNotFoundError(2, "it is not installed (not on PATH)", "bwrap")
    config = {"control_fd": control_fd, "site_path": _sandbox_site_path(),
              "preload": list(preload)}
    binds = [("/usr", "/usr")] + [(d, d) for d in runtime_dirs()]
    binds.append((str(HERE), WORKER_DIR))
    if os.path.isfile("/etc/ld.so.cache"):
        binds.append(("/etc/ld.so.cache", "/etc/ld.so.cache"))
    if os.geteuid() != 0:
        return _bwrap_argv(bwrap, binds, config), dict(ENV)
    staged = [(f"/tmp/{i}", dest) for i, (_source, dest) in enumerate(binds)]
    spec = {"sources": [source for source, _ in binds], "uid": NOBODY,
            "argv": _bwrap_argv(bwrap, staged, config)}
    return [sys.executable, "-I", "-S", str(LAUNCH), json.dumps(spec)], dict(ENV)
