"""Kernel isolation for one submission (the child side; standard library only).

Linux system calls through ``ctypes`` (Python 3.10 has no ``os.unshare``/``mount``):

* ``enter_namespaces`` (in the supervisor): new user, mount, PID, network, IPC and UTS
  namespaces. The submission's process is then PID 1 of a namespace of its own: it can see
  and signal nothing outside it, and when it ends the kernel kills everything it started.
  Its user id inside is 65534, mapped to the worker's own id outside.
* ``private_files`` (in the submission's process, still holding capabilities of its new
  user namespace): every mount read-only, a fresh size-capped tmpfs on ``/tmp`` (its working
  directory) and ``/dev/shm``, a ``/proc`` of its own PID namespace where the kernel allows.
  Import directories under ``/tmp`` (a virtual environment there) stay visible, read-only.
* ``drop_privileges``: no capabilities (bounding set included), ``no_new_privs``, not
  dumpable (no ptrace, no ``/proc/<pid>/mem`` for processes of the same user).
* ``become``: when the grader is root, a uid and gid of the submission's own (65534) with
  no supplementary groups, so files readable by root only are not readable by it.

Every function raises ``OSError`` when the kernel refuses; the caller decides what that
means (a note, or a weaker fallback).
"""

import ctypes
import os
import resource
import signal

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 38, 36
SYS_MOUNT_SETATTR = 442       # x86-64 and arm64 alike (a "new" system call number)
AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = -100, 0x8000, 1
INNER_ID = 65534              # the submission's uid and gid inside its user namespace

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = (ctypes.c_char_p,) * 3 + (ctypes.c_ulong, ctypes.c_char_p)
_libc.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong)
_libc.syscall.restype = ctypes.c_long


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def prctl(option: int, arg: int = 0) -> None:
    _check(_libc.prctl(option, arg, 0, 0, 0), f"prctl({option})")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def enter_namespaces() -> None:
    """New user/mount/PID/network/IPC/UTS namespaces; our uid/gid become ``INNER_ID``.

    The PID namespace applies to children forked after this call.
    """
    uid, gid = os.geteuid(), os.getegid()
    prctl(PR_SET_DUMPABLE, 1)     # else /proc/self/uid_map belongs to root, not to us
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET
                         | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{INNER_ID} {uid} 1")
    _write("/proc/self/gid_map", f"{INNER_ID} {gid} 1")
    prctl(PR_SET_DUMPABLE, 0)


def _mount(source: str, target: str, fstype: "str | None", flags: int,
           data: "str | None" = None) -> None:
    _check(_libc.mount(source.encode(), target.encode(),
                       fstype.encode() if fstype else None, flags,
                       data.encode() if data else None), f"mount {target}")


def private_files(tmp_bytes: int, keep: "list[str]") -> "list[str]":
    """This process's own view of the file system (see the module docstring). ``keep``:
    directories (``sys.path``) to keep visible, read-only, if the new ``/tmp`` hides them.

    Returns what could not be done, as short phrases (an empty list when all was).
    """
    missing = []
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    attr = _MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0)
    if _libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, b"/", AT_RECURSIVE, ctypes.byref(attr),
                     ctypes.sizeof(attr)) != 0:
        missing.append("read-only file system")
    hidden = sorted({os.path.realpath(p) for p in keep if os.path.isdir(p)})
    hidden = [p for p in hidden if p.startswith("/tmp/")]
    kept = [(p, os.open(p, os.O_PATH | os.O_CLOEXEC)) for p in hidden
            if not any(p.startswith(q + "/") for q in hidden)]    # outermost only
    options = f"size={tmp_bytes},mode=0700,uid={INNER_ID},gid={INNER_ID}"
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, options)
    for path, fd in kept:
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)   # read-only as its source
        os.close(fd)
    if os.path.isdir("/dev/shm"):
        try:
            _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   f"size={1 << 20},mode=0700")
        except OSError:
            missing.append("private /dev/shm")
    try:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        pass     # under bwrap: its /proc stays, where other processes are not dumpable
    return missing


def drop_bounding_set() -> None:
    """No capability can come back, even through exec (needs CAP_SETPCAP: call it before
    ``become``; without it, there is none to drop)."""
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break


def drop_privileges() -> None:
    """No capabilities now or after exec, and not dumpable."""
    drop_bounding_set()
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_DUMPABLE, 0)


def become(uid: int) -> None:
    """Give up root for ``uid`` (and the same gid), with no supplementary groups. Every
    capability goes with it; so do the parent-death signal and dumpability, which the
    caller sets again."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def not_dumpable() -> None:
    prctl(PR_SET_DUMPABLE, 0)


def die_with_parent() -> None:
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def become_subreaper() -> None:
    prctl(PR_SET_CHILD_SUBREAPER, 1)


def apply_limits(limits: "dict[str, int]") -> None:
    """Hard resource limits the submission can't raise: memory, CPU, files, processes."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writing past the limit raises OSError
    for name, key in (("RLIMIT_AS", "memory_bytes"), ("RLIMIT_CPU", "cpu_seconds"),
                      ("RLIMIT_FSIZE", "file_bytes"), ("RLIMIT_CORE", "core_bytes"),
                      ("RLIMIT_NPROC", "processes")):
        if key in limits and hasattr(resource, name):
            which = getattr(resource, name)
            soft, hard = limits[key], limits[key] + (1 if key == "cpu_seconds" else 0)
            old_hard = resource.getrlimit(which)[1]
            if old_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, old_hard), min(hard, old_hard)
            resource.setrlimit(which, (soft, hard))
