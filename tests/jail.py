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

CLONE_NEWUSER = 0x10000000
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
LANDLOCK_SYSCALLS = (444, 445, 446)           # the same numbers on x86-64 and arm64
ENOSYS = 38


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def _deny_landlock(libc: ctypes.CDLL) -> None:
    """A seccomp filter: the Landlock calls fail with ENOSYS, everything else is allowed."""
    load_nr, jump_eq, ret = 0x20, 0x15, 0x06
    count = len(LANDLOCK_SYSCALLS)
    code = [_Filter(load_nr, 0, 0, 0)]
    code += [_Filter(jump_eq, count - i, 0, nr) for i, nr in enumerate(LANDLOCK_SYSCALLS)]
    code += [_Filter(ret, 0, 0, 0x7FFF0000), _Filter(ret, 0, 0, 0x00050000 | ENOSYS)]
    program = _Program(len(code), (_Filter * len(code))(*code))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) or \
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0):
        sys.exit(f"jail: seccomp: {os.strerror(ctypes.get_errno())}")


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
