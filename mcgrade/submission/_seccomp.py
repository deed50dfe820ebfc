"""seccomp: the system calls a submission's process may not make (child side; stdlib only).

Landlock and a uid of its own keep a submission from opening files, but not from talking:
connecting to a Unix socket by its path (a session bus, an agent, docker.sock) is outside
every Landlock ABI so far, and without namespaces there is no network isolation. So the
submission's process installs a filter (``deny``) under which ``socket()`` fails with
EACCES — no new socket of any family, so no network and no socket by path — as do
``io_uring_setup`` (which can make sockets without ``socket()``), ``ptrace`` and reading or
writing another process's memory. ``socketpair()`` stays allowed: it reaches nobody.

The filter needs ``no_new_privs`` (set by then) and knows x86-64 and arm64; elsewhere
``deny`` raises OSError, like every other layer that can't be applied.
"""

import ctypes
import os
import platform

PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7, "arm64": 0xC00000B7}
# socket, io_uring_setup, ptrace, process_vm_readv, process_vm_writev
DENIED = {"x86_64": (41, 425, 101, 310, 311), "aarch64": (198, 425, 117, 270, 271)}
X32_BIT = 0x40000000                 # x86-64's x32 calls: denied whole
EACCES = 13

_LOAD, _JEQ, _JSET, _RET = 0x20, 0x15, 0x45, 0x06      # BPF ld [k], jeq #k, jset #k, ret #k
_ALLOW, _ERRNO, _KILL = 0x7FFF0000, 0x00050000, 0x80000000


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def _program(machine: str, denied: "tuple[int, ...]", errno: int) -> "list[_Filter]":
    """A filter for ``machine``'s calls: those numbered ``denied`` fail with ``errno``."""
    arch = "aarch64" if machine == "arm64" else machine
    if arch not in DENIED:
        raise OSError(95, f"seccomp: no filter for {machine}")
    code = [_Filter(_LOAD, 0, 0, 4),                               # the call's architecture
            _Filter(_JEQ, 1, 0, AUDIT_ARCH[arch]),
            _Filter(_RET, 0, 0, _KILL),                            # another ABI: refuse all
            _Filter(_LOAD, 0, 0, 0)]                               # the call's number
    if arch == "x86_64":
        code.append(_Filter(_JSET, len(denied) + 1, 0, X32_BIT))
    code += [_Filter(_JEQ, len(denied) - i, 0, nr) for i, nr in enumerate(denied)]
    code += [_Filter(_RET, 0, 0, _ALLOW), _Filter(_RET, 0, 0, _ERRNO | errno)]
    return code


def install(denied: "tuple[int, ...]", errno: int) -> None:
    """A filter on this process and all it starts under which the calls numbered
    ``denied`` fail with ``errno``; OSError if it can't be installed."""
    code = _program(platform.machine(), denied, errno)
    program = _Program(len(code), (_Filter * len(code))(*code))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"seccomp: {os.strerror(error)}")


def deny() -> None:
    """The submission's filter (see the module's docstring); OSError if it can't be."""
    machine = platform.machine()
    install(DENIED.get("aarch64" if machine == "arm64" else machine, ()), EACCES)
