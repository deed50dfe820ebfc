"""Landlock: what a submission's process may read and write (child side; stdlib only).

Landlock (Linux 5.13+) lets an unprivileged process give up file-system access for itself
and every process it starts, with no namespaces and no root, so it works inside Docker and
Gradescope containers where bubblewrap can't. ``abi()`` says which version the kernel
offers (0: none); ``confine(read, write)`` builds a ruleset in which only the directories
in ``read`` may be read and executed, only those in ``write`` may also be written, TCP
bind and connect are denied (ABI 4+), and signals and abstract Unix sockets can't reach
processes outside the domain (ABI 6+); then it restricts this process. The ruleset is
built before privileges are dropped (its paths are opened here) and applied after, with
``no_new_privs`` set. Every failure raises ``OSError``.
"""

import ctypes
import os
import stat

# x86-64 and arm64 share these "new" system call numbers
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1, 2, 4, 8
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 16, 32, 64, 128
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 256, 512, 1024, 2048, 4096
REFER, TRUNCATE, IOCTL_DEV = 8192, 16384, 32768
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2

READ = EXECUTE | READ_FILE | READ_DIR
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV   # valid on a file

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi() -> int:
    """The Landlock ABI version this kernel offers, 0 when it offers none."""
    version = _libc.syscall(SYS_CREATE_RULESET, None, 0, CREATE_RULESET_VERSION)
    return max(0, int(version))


def _handled_fs(version: int) -> int:
    rights = (MAKE_SYM << 1) - 1                        # ABI 1: EXECUTE … MAKE_SYM
    if version >= 2:
        rights |= REFER
    if version >= 3:
        rights |= TRUNCATE
    if version >= 5:
        rights |= IOCTL_DEV
    return rights


def _fail(what: str) -> OSError:
    errno = ctypes.get_errno()
    return OSError(errno, f"landlock {what}: {os.strerror(errno)}")


def ruleset(read: "list[str]", write: "list[str]") -> int:
    """A ruleset's descriptor allowing ``read`` (read, execute) and ``write`` (everything).

    Paths that don't exist are skipped; a file gets only the rights a file can have.
    """
    version = abi()
    if version < 1:
        raise OSError(95, "landlock: not offered by this kernel")
    handled = _handled_fs(version)
    attr = _RulesetAttr(handled, NET_BIND_TCP | NET_CONNECT_TCP if version >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if version >= 6 else 0)
    size = 8 if version < 4 else 16 if version < 6 else 24
    fd = _libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if fd < 0:
        raise _fail("create_ruleset")
    try:
        for paths, rights in ((read, READ), (write, handled)):
            for path in paths:
                _allow(fd, path, rights & handled)
    except OSError:
        os.close(fd)
        raise
    return int(fd)


def _allow(ruleset_fd: int, path: str, rights: int) -> None:
    try:
        target = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        if not stat.S_ISDIR(os.fstat(target).st_mode):
            rights &= FILE_RIGHTS
        rule = _PathBeneath(rights, target)
        if _libc.syscall(SYS_ADD_RULE, ruleset_fd, RULE_PATH_BENEATH, ctypes.byref(rule), 0):
            raise _fail(f"add_rule {path}")
    finally:
        os.close(target)


def restrict(ruleset_fd: int) -> None:
    """Confine this process (and all it starts) to the ruleset; needs ``no_new_privs``."""
    try:
        if _libc.syscall(SYS_RESTRICT_SELF, ruleset_fd, 0) != 0:
            raise _fail("restrict_self")
    finally:
        os.close(ruleset_fd)
