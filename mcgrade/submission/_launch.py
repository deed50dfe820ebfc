"""Start bubblewrap as an unprivileged user when the grader runs as root (stdlib only).

Run as ``python -I -S _launch.py '<spec>'`` by ``mcgrade.submission.sandbox``. Under root,
bwrap's user namespace would map the sandbox to uid 0 outside, where ``RLIMIT_NPROC`` does
not apply. So this launcher, still root, enters a private mount namespace, mounts a tmpfs
on its own ``/tmp``, bind-mounts every source that the sandbox needs there (``/tmp/0``,
``/tmp/1``, …: the runtime may live under a directory such as ``/root`` that other users
can't traverse), becomes ``spec["uid"]`` with no supplementary groups, and executes
bwrap, whose arguments already name those staged paths. Nothing here is visible outside
this process and its children.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # -I leaves it out
import _isolate  # noqa: E402


def main() -> None:
    spec = json.loads(sys.argv[1])
    _isolate._check(_isolate._libc.unshare(_isolate.CLONE_NEWNS), "unshare")
    _isolate._mount("none", "/", None, _isolate.MS_REC | _isolate.MS_PRIVATE)
    fds = [os.open(source, os.O_PATH | os.O_CLOEXEC) for source in spec["sources"]]
    _isolate._mount("tmpfs", "/tmp", "tmpfs", _isolate.MS_NOSUID | _isolate.MS_NODEV,
                    "mode=0755,size=65536")
    for i, fd in enumerate(fds):
        target = f"/tmp/{i}"
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.mkdir(target)
        else:
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
        _isolate._mount(f"/proc/self/fd/{fd}", target, None, _isolate.MS_BIND | _isolate.MS_REC)
        os.close(fd)
    uid = gid = int(spec["uid"])
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    os.execv(spec["argv"][0], spec["argv"])


if __name__ == "__main__":
    main()
