"""The compile cache: a problem set's references, on disk, as plain JSON.

Compiling a set builds every reference in sympy (the costly part: differentiation), then
its values at the sample points. A cache entry keeps what grading reads — sample points,
the reference's values there, kink values, branches — as floats written with ``repr`` (so
they read back bit for bit), and each sympy value as ``srepr`` text where it is small and
reads back equal through ``mcgrade.engine.srepr``'s whitelist (checked when it is
written). Anything else (a large value, the kink arguments of one that did not read back)
is rebuilt by sympy on first use only: a proof asks for it, most checks never do.

Where: ``$MCGRADE_CACHE_DIR``, else the user cache folder (``$XDG_CACHE_HOME/mcgrade`` or
``~/.cache/mcgrade``; ``~/Library/Caches/mcgrade`` on macOS; ``%LOCALAPPDATA%\\mcgrade\\Cache``
on Windows). ``MCGRADE_CACHE=0`` turns it off. An entry's name is a sha256 of the set
file's bytes, its variant and salt, mcgrade's version and engine sources, and the Python,
sympy, numpy and python-flint versions: a change to any of them is a different entry.

Never pickled (someone else may have written the file): a file that is not what this
module writes — unreadable, malformed, of another key, of the wrong shapes — is ignored
without a word and the set compiled afresh.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from mcgrade.files import write_atomic
from mcgrade.model import ProblemSet

FORMAT = 1
SREPR_NODES = 5_000       # larger sympy values are rebuilt on use rather than stored


class Invalid(ValueError):
    """A cache entry that is not what this module writes."""


def directory() -> Path | None:
    """The cache folder, or None when the cache is off."""
    if os.environ.get("MCGRADE_CACHE", "1").strip() == "0":
        return None
    chosen = os.environ.get("MCGRADE_CACHE_DIR")
    if chosen:
        return Path(chosen)
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return Path(local, "mcgrade", "Cache") if local else None
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "mcgrade"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg, "mcgrade") if xdg else Path.home() / ".cache" / "mcgrade"


@functools.cache
def _engine_digest() -> str:
    """mcgrade's version and the sources that decide what a compiled set holds: an edited
    engine (between two releases of the same version) is a different entry too."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for folder in ("engine", "expressions", "problemset"):
        for path in sorted((package / folder).glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for name in ("model.py", "__init__.py"):      # __init__.py: mcgrade's __version__
        digest.update((package / name).read_bytes())
    return digest.hexdigest()


def key(problem_set: ProblemSet, salt: str) -> str | None:
    """The entry's name for this set, or None where it has none (no file behind it, or
    the cache is off)."""
    if not problem_set.path or problem_set.published or directory() is None:
        return None
    import sympy
    try:
        engine = _engine_digest()
        flint = metadata.version("python-flint")     # without importing it
    except (OSError, metadata.PackageNotFoundError):
        return None
    # the set as loaded (its repr: every field, deterministic), not its file's bytes now,
    # which may have been edited since it was loaded
    parts = [str(FORMAT), engine, sys.version.split()[0], sympy.__version__,
             np.__version__, flint, salt, hashlib.sha256(repr(problem_set).encode()).hexdigest()]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def read(name: str) -> dict[str, Any] | None:
    folder = directory()
    if folder is None:
        return None
    try:
        data = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != name:
        return None
    return data


def write(name: str, data: dict[str, Any]) -> None:
    folder = directory()
    if folder is None:
        return
    try:
        write_atomic(folder / f"{name}.json",
                     json.dumps({"format": FORMAT, "key": name, **data}, separators=(",", ":")),
                     private=True)
    except OSError:
        pass            # a read-only or full disk: the next run compiles again


# --- arrays: {"shape": [...], "data": [floats]} ------------------------------------------

def array_out(array: np.ndarray) -> dict[str, Any]:
    return {"shape": list(array.shape),
            "data": [float(v) for v in np.asarray(array, dtype=float).ravel()]}


def array_in(data: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A stored array, checked: a list of numbers of the stated (or ``shape``) shape."""
    if not isinstance(data, dict):
        raise Invalid("not an array")
    stated, values = data.get("shape"), data.get("data")
    if not isinstance(stated, list) or not all(type(s) is int and s >= 0 for s in stated):
        raise Invalid("bad shape")
    if shape is not None and tuple(stated) != tuple(shape):
        raise Invalid("unexpected shape")
    if not isinstance(values, list) or not all(type(v) in (float, int) for v in values):
        raise Invalid("bad data")
    if len(values) != int(np.prod(stated, dtype=np.int64)):
        raise Invalid("wrong length")
    return np.array(values, dtype=np.float64).reshape(stated)


def arrays_in(data: Any, count: int) -> dict[str, np.ndarray]:
    """{name: array} with ``count`` rows each."""
    if not isinstance(data, list):
        raise Invalid("not a list of arrays")
    out: dict[str, np.ndarray] = {}
    for item in data:
        if not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], str):
            raise Invalid("bad named array")
        array = array_in(item[1])
        if array.ndim == 0 or array.shape[0] != count:
            raise Invalid("wrong number of points")
        out[item[0]] = array
    return out


def arrays_out(arrays: Mapping[str, np.ndarray]) -> list[Any]:
    return [[name, array_out(array)] for name, array in arrays.items()]


# --- sympy values: srepr text, read back through the whitelist -------------------------

def symbolic_out(value: Any, kinks: tuple[Any, ...]) -> tuple[Any, Any]:
    """(value text, kink texts) to store, or (None, None) where they are too large to be
    worth it or would not read back equal (then they are rebuilt on use)."""
    import sympy as sp

    from mcgrade.engine.symbolic import nodes
    items = ([value] if value is not None else []) + list(kinks)
    if sum(nodes(v, SREPR_NODES) for v in items) > SREPR_NODES:
        return None, None
    texts = [sp.srepr(v) for v in items]
    if _read_all(texts) != items:
        return None, None
    return ({"srepr": texts[0]} if value is not None else {"none": True}), texts[len(texts)
                                                                          - len(kinks):]


def symbolic_in(value: Any, kinks: Any) -> tuple[Any, tuple[Any, ...]] | None:
    """The stored (value, kinks), or None where they were not stored or do not read."""
    if not isinstance(value, dict) or not isinstance(kinks, list) or not all(
            isinstance(k, str) for k in kinks):
        return None
    texts = ([value["srepr"]] if isinstance(value.get("srepr"), str) else []) + kinks
    if value.get("none") is not True and len(texts) == len(kinks):
        return None
    items = _read_all(texts)
    if items is None:
        return None
    return (items[0] if len(items) > len(kinks) else None), tuple(items[len(items)
                                                                          - len(kinks):])


def _read_all(texts: list[str]) -> list[Any] | None:
    from mcgrade.engine.srepr import read_srepr
    from mcgrade.errors import ExpressionError
    try:
        return [read_srepr(t) for t in texts]
    except (ExpressionError, RecursionError):
        return None
