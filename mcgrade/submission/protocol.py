"""The child's result format, decoded and validated on the parent side.

The child (``_child.py``) writes one JSON object to a dedicated pipe::

    {"protocol": 1,
     "status": "ok" | "raised" | "memory" | "syntax-error",
     "event": null | {"kind": "syntax" | "raised" | "memory" | "exit", "type": str,
                      "message": str, "line": int | null, "toplevel_line": int | null,
                      "code": str, "exit_code": int, "traceback": str},
     "answers": {name: record, ...}}

and each answer record is tagged by ``kind``:

    {"kind": "string", "text": str}
    {"kind": "number", "value": num}                   num: int | float | "nan" | "inf" | "-inf"
    {"kind": "array", "shape": [int, ...], "value": [num, ...]}       flat, row-major
    {"kind": "tuple" | "list", "items": [number or string record, ...]}   flat; maybe a shape
    {"kind": "complex", "shape": [int, ...], "real": [num, ...], "imag": [num, ...]}
    {"kind": "none"}                                   the name is bound to None
    {"kind": "unsupported", "text": "<type name>" or "<type name> (<why>)"}
    {"kind": "error", "text": why the value could not be encoded}
    {"kind": "missing"}

Everything here is untrusted (student code ran in the process that wrote it): it is parsed
with ``json`` only — never ``eval`` or ``pickle`` — and every field is checked. A malformed
record decodes to ``Answer("error")``; nothing in this module raises on bad input except
``read_payload``, whose ``ValueError`` the runner turns into a note.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Mapping, Sequence

from mcgrade.model import Answer

PROTOCOL = 1
MAX_TEXT = 100_000
MAX_DIMS = 32
MAX_SHAPE_LEN = 8

RunStatus = Literal["ok", "raised", "memory", "timeout", "crashed", "syntax-error",
                    "unreadable", "internal-error"]
"""How a run ended.

``ok``: the script finished (or called ``sys.exit(0)``). ``raised``: it raised, or exited
non-zero, part-way; names defined before were read. ``memory``: it ran out of memory
(answers were read if the child could still report). ``timeout``: wall-clock or CPU limit,
nothing read. ``crashed``: it ended without reporting (signal, ``os._exit``, broken
result). ``syntax-error``: it could not be compiled. ``unreadable``: the file could not be
read. ``internal-error``: the child could not be started.
"""

_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_CHILD_STATUSES = ("ok", "raised", "memory", "syntax-error")


@dataclass(frozen=True)
class RunResult:
    """The outcome of running one submission: raw answer records plus what happened.

    ``notes`` are one-line messages for a person; when the run did not finish cleanly the
    first one says why (``headline``). ``output_tail`` is the end of what the submission
    printed (stdout and stderr merged), ``output_bytes`` how much it printed in all.
    ``answers`` maps every requested name to its raw record, and is empty unless
    ``answers_read``; use :meth:`answer` to get a validated :class:`Answer`.
    """

    status: RunStatus
    answers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    answers_read: bool = False
    output_tail: str = ""
    output_bytes: int = 0
    traceback: str = ""
    elapsed: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "answers", MappingProxyType(dict(self.answers)))

    @property
    def headline(self) -> str:
        return self.notes[0] if self.notes and self.status != "ok" else ""

    def answer(self, name: str, *, expect_shape: bool = False) -> Answer:
        """The answer given for ``name``, or why there is none (``timeout``/``error``)."""
        if not self.answers_read:
            return Answer("timeout" if self.status == "timeout" else "error",
                          text=self.headline or "no answers were read")
        if name not in self.answers:
            raise KeyError(f"{name!r} was not among the names asked of the submission")
        answer = decode(self.answers[name], expect_shape=expect_shape)
        if answer.kind == "missing" and self.status in ("raised", "memory") and not answer.text:
            cause = self.headline.split("; ")[0]
            return Answer("error", text=f"{name} was not defined before the script stopped: "
                                        f"{cause}")
        return answer


def _one_line(text: Any, limit: int) -> str:
    """A printable single line: control characters become spaces, lone surrogates '?'."""
    if type(text) is not str:
        return ""
    text = text.encode("utf-8", "replace").decode("utf-8")[:limit]
    return "".join(c if c.isprintable() else " " for c in text).strip()


def _count(x: Any) -> int | None:
    return x if type(x) is int and 0 <= x < 1 << 31 else None


def _real(x: Any) -> float:
    """A number from the wire; raises ValueError for anything else."""
    if type(x) is int or type(x) is float:
        return float(x)   # a huge int raises OverflowError, which decode() catches
    if type(x) is str and x in _NONFINITE:
        return _NONFINITE[x]
    raise ValueError(f"not a number: {type(x).__name__}")


def _shape(raw: Any) -> tuple[int, ...]:
    if type(raw) is not list or len(raw) > MAX_DIMS or any(_count(d) is None for d in raw):
        raise ValueError("bad shape")
    return tuple(raw)


def _values(raw: Any, shape: tuple[int, ...]) -> tuple[float, ...]:
    if type(raw) is not list or len(raw) != math.prod(shape):
        raise ValueError("values do not match the shape")
    return tuple(_real(x) for x in raw)


def _as_shape(items: Sequence[Any]) -> tuple[int | str, ...] | None:
    """Items that spell a shape: non-negative ints and dimension names, at most 8."""
    if len(items) > MAX_SHAPE_LEN:
        return None
    dims: list[int | str] = []
    for item in items:
        if _count(item) is not None:
            dims.append(item)
        elif type(item) is str and item.isascii() and item.isidentifier():
            dims.append(item)
        else:
            return None
    return tuple(dims)


def _fmt_shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape)) or "0-D"


def _decode(record: Any, expect_shape: bool) -> Answer:
    if type(record) is not dict or type(record.get("kind")) is not str:
        raise ValueError("not a tagged record")
    kind = record["kind"]
    if kind == "missing":
        return Answer("missing")
    if kind == "none":
        return Answer("missing", text="it is set to None (no answer yet)")
    if kind in ("string", "unsupported", "error"):
        text = record.get("text")
        if type(text) is not str or len(text) > MAX_TEXT:
            raise ValueError("bad text")
        if kind == "string":
            return Answer("string", text=text.encode("utf-8", "replace").decode("utf-8"))
        return Answer(kind, text=_one_line(text, 500))
    if kind == "number":
        return Answer("number", value=_real(record.get("value")))
    if kind == "array":
        shape = _shape(record.get("shape"))
        raw = record.get("value")
        values = _values(raw, shape)
        if (expect_shape and len(shape) == 1 and all(_count(x) is not None for x in raw)
                and (dims := _as_shape(raw)) is not None):
            return Answer("shape", value=dims)
        if not shape:
            return Answer("number", value=values[0])
        return Answer("array", value=values, shape=shape)   # 3-D and up: the checker says so
    if kind in ("tuple", "list"):
        items = record.get("items")
        if type(items) is not list:
            raise ValueError("bad items")
        plain = [_decode(item, False) for item in items]
        if any(a.kind not in ("number", "string") for a in plain):
            raise ValueError("items must be numbers or strings")
        raw = [a.text if a.kind == "string" else _count(item.get("value"))
               for item, a in zip(items, plain)]      # None (not a dimension) unless an int
        if expect_shape and (dims := _as_shape(raw)) is not None:
            return Answer("shape", value=dims)
        if any(a.kind == "string" for a in plain):
            return Answer("unsupported", text=f"{kind} (containing strings)")
        return Answer("array", value=tuple(a.value for a in plain), shape=(len(plain),))
    if kind == "complex":
        shape = _shape(record.get("shape"))
        re, im = _values(record.get("real"), shape), _values(record.get("imag"), shape)
        values = tuple(complex(a, b) for a, b in zip(re, im))
        if not shape:
            return Answer("complex", value=values[0], text=f"the complex number {values[0]}")
        return Answer("complex", value=values, shape=shape,
                      text=f"a complex array of shape {_fmt_shape(shape)}")
    raise ValueError(f"unknown kind {kind[:40]!r}")


def decode(record: Any, *, expect_shape: bool = False) -> Answer:
    """One raw record as an :class:`Answer`; never raises.

    With ``expect_shape`` (the problem asks for a shape) a flat tuple or list of
    non-negative ints and dimension names becomes ``Answer("shape")``; otherwise tuples of
    numbers are 1-D arrays. Whatever is malformed becomes ``Answer("error")``.
    """
    try:
        return _decode(record, expect_shape)
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        return Answer("error", text=f"the submission's answer could not be read ({exc})"[:300])


def read_payload(data: bytes, names: Sequence[str]
                 ) -> tuple[str, Mapping[str, Any] | None, dict[str, Any]]:
    """``(status, event, answers)`` from the child's bytes; ``ValueError`` if malformed.

    Records are kept raw (decoded lazily by :func:`decode`); a requested name the child
    did not report gets an error record, and unrequested names are dropped.
    """
    def no_constants(name: str) -> None:
        raise ValueError(f"non-standard JSON constant {name}")
    try:
        obj = json.loads(data.decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"the result is not valid JSON ({type(exc).__name__})") from None
    if type(obj) is not dict or obj.get("protocol") != PROTOCOL:
        raise ValueError("the result is not a protocol-1 object")
    status, event, raw = obj.get("status"), obj.get("event"), obj.get("answers")
    if status not in _CHILD_STATUSES or type(raw) is not dict:
        raise ValueError("the result has no valid status or answers")
    if event is not None and type(event) is not dict:
        raise ValueError("the result's event is malformed")
    lost = {"kind": "error", "text": "the submission did not report this name"}
    return status, event, {name: raw.get(name, lost) for name in names}


def event_note(event: Mapping[str, Any] | None, submission: str, memory_mb: int) -> str:
    """The one-line message for how the script stopped early, or "" if it did not."""
    if not event:
        return ""
    kind = event.get("kind")
    line, top = _count(event.get("line")), _count(event.get("toplevel_line"))
    code = _one_line(event.get("code"), 300)
    where = f"line {line}" + (f" (`{code}`)" if code else "") if line else "an unknown line"
    if top and line and top != line:
        where += f", called from line {top}"
    etype, msg = _one_line(event.get("type"), 200), _one_line(event.get("message"), 500)
    error = f"{etype}: {msg}" if msg else etype
    if kind == "syntax":
        return (f"{submission}, line {line or '?'}: {msg or 'syntax error'}"
                + (f" in `{code}`" if code else "") + "; nothing ran, so no answers were read")
    if kind == "exit":
        exit_code = event.get("exit_code")
        exit_code = exit_code if type(exit_code) is int else 1
        after = ("answers were read as they stood then" if exit_code == 0
                 else "answers defined before it were read")
        return f"{submission} called sys.exit({exit_code}) at {where}; {after}"
    if kind == "memory":
        return (f"{submission} ran out of memory (limit {memory_mb} MB) at {where}: {error}; "
                "answers defined before it were read")
    return f"{submission} raised {error} at {where}; answers defined before it were read"
