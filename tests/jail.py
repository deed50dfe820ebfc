"""Run a command where bubblewrap can't start, as Docker and Gradescope containers do.

    python tests/jail.py [--uid N] [--ids N] [--no-landlock] -- COMMAND...

Needs root. The command runs in a user namespace of its own (ids 0 to N-1 mapped to
themselves, so files keep their owners: 300,000 by default, as in a container without a
user namespace; 65,536 as in a rootless one) in which no further user namespace can be made
(``user.max_user_namespaces`` is 0 there): bubblewrap is installed but fails to start, and
the process sandbox gets no namespaces. ``--no-landlock`` also makes the Landlock system
calls fail (a seccomp filter), as on a kernel without it; ``--uid`` runs the command as
that user (an ordinary grader) instead of root.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from pathlib import Path

CLONE_NEWUSER = 0x10000000
PR_SET_NO_NEW_PRIVS = 38
LANDLOCK_SYSCALLS = (444, 445, 446)           # the same numbers on x86-64 and arm64
ENOSYS = 38

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "mcgrade" / "submission"))
import _seccomp  # noqa: E402  (the sandbox's own filter maker)


def _deny_landlock(libc: ctypes.CDLL) -> None:
    """A seccomp filter: the Landlock calls fail with ENOSYS, as on a kernel without it."""
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0):
        sys.exit(f"jail: no_new_privs: {os.strerror(ctypes.get_errno())}")
    try:
        _seccomp.install(LANDLOCK_SYSCALLS, ENOSYS)
    except OSError as exc:
        sys.exit(f"jail: {exc}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uid", type=int, default=0)
    parser.add_argument("--ids", type=int, default=300_000)
    parser.add_argument("--no-landlock", action="store_true")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
    libc = ctypes.CDLL(None, use_errno=True)
    ready_r, ready_w = os.pipe()
    mapped_r, mapped_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        os.close(mapped_w)
        if libc.unshare(CLONE_NEWUSER) != 0:
            sys.exit(f"jail: unshare: {os.strerror(ctypes.get_errno())}")
        os.write(ready_w, b"x")
        os.read(mapped_r, 1)
        with open("/proc/sys/user/max_user_namespaces", "w") as limit:
            limit.write("0")
        os.setgroups([])
        os.setresgid(args.uid, args.uid, args.uid)
        os.setresuid(args.uid, args.uid, args.uid)
        if args.no_landlock:
            _deny_landlock(libc)
        os.execvp(args.command[0], args.command)
    os.close(ready_w)
    os.close(mapped_r)
    os.read(ready_r, 1)
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{name}", "w") as mapping:
            mapping.write(f"0 0 {args.ids}\n")
    os.write(mapped_w, b"x")
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
