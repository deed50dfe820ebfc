"""Writing output files atomically: a reader sees the old file or the new one, never half.

Files are created with the user's umask, as any program's output is; ``private`` ones are
readable by their owner only. A kill between creating a temporary and renaming it leaves
``.NAME.XXXXXXXX`` next to NAME, which ``remove_temporaries`` clears at the next run.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

# ".NAME.XXXXXXXX": write_atomic's temporaries (and tempfile.mkstemp's, which it once used)
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}")


def write_atomic(path: str | os.PathLike[str], text: str | bytes, *,
                 private: bool = False) -> None:
    """Write ``text`` (UTF-8) or bytes to ``path``: a temporary file, synced, renamed.
    Its mode is 0o666 less the umask, or 0o600 if ``private``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
        try:        # the kernel applies the umask to a file created with this mode
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                             0o600 if private else 0o666)
            break
        except FileExistsError:
            continue
    try:
        data = text.encode("utf-8") if isinstance(text, str) else text
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def remove_temporaries(folder: str | os.PathLike[str], ending: str) -> None:
    """Delete the temporaries of files whose names end with ``ending`` (".json", or one
    file's whole name) that a killed run left in ``folder``."""
    try:
        names = os.listdir(folder)
    except OSError:                    # no folder yet: nothing was left
        return
    for name in names:
        match = _TEMPORARY.fullmatch(name)
        if match and match.group("name").endswith(ending):
            Path(folder, name).unlink(missing_ok=True)


def display_name(name: str) -> str:
    """A name as text to show and store: bytes of a file name that are not UTF-8 (which
    Python keeps as surrogates) become ``\\xNN`` escapes, any other lone surrogate
    ``\\uNNNN``, so that any name can be written as UTF-8."""
    try:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:                     # a surrogate no file name holds
        return name.encode("utf-8", "backslashreplace").decode("utf-8")
