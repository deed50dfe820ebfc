"""The worker's result format, decoded and validated on the parent side.

A job's supervisor (``_child.py``) writes one JSON object to the job's result pipe::

    {"protocol": 3, "stream": str, "truncated": bool, "namespaces": bool,
     "exit": {"code": int | null, "signal": int | null, "cpu": float,
              "killed": "" | "script" | "answers"}}
    {"protocol": 3, "fault": str}      it could not confine the job: nothing ran

``exit`` is how the submission's process ended (``killed``: the supervisor's deadline for the
script, or for reading the answers, ran out). ``stream`` is what that process wrote, one
JSON object a line::

    {"t": "armed"}              confined as asked; only now may student code run
    {"t": "fault", "text": str} the layers could not be applied; nothing ran
    {"t": "ran", "status": "ok" | "raised" | "memory" | "timeout" | "syntax-error",
     "events": [event, ...], "isolation": {...}}            after the code ran
    {"t": "answer", "name": str, "record": record}         one per requested name
    {"t": "done"}

Events say where the code stopped or what was skipped (``mcgrade.submission.notes``), and
each answer record is tagged by ``kind``:

    {"kind": "string", "text": str}
    {"kind": "number", "value": num}                   num: int | float | "nan" | "inf" | "-inf"
    {"kind": "array", "shape": [int, ...], "value": [num, ...]}       flat, row-major
    {"kind": "tuple" | "list", "items": [number or string record, ...]}   flat; maybe a shape
    {"kind": "complex", "shape": [int, ...], "real": [num, ...], "imag": [num, ...]}
    {"kind": "sympy", "text": srepr, "shape": [rows, cols] | [n] | []}
    {"kind": "function", "calls": [record, ...]}       one per call, in order
    {"kind": "none"}                                   the name is bound to None
    {"kind": "timeout", "text": str}                   reading it ran out of time
    {"kind": "unsupported", "text": "<type name>" or "<type name> (<why>)"}
    {"kind": "error", "text": why the value could not be read}
    {"kind": "missing"}

A sympy matrix's shape is ``[rows, cols]``; ``[n]`` is a 1-D numpy array (or list) of sympy
entries, sent as the text of an n×1 matrix; ``[]`` anything else. The text is read back
by the grader's own whitelisting reader, never by ``eval``.

A stream that does not open with ``armed`` was cut short before any student code ran: a
fault of this machine, never of the submission (``Stream.fault``); the ``armed`` line can't
be forged away, since it is written before the code runs. Everything after it is untrusted
(student code ran in the process that wrote the stream): it is parsed with ``json`` only
— never ``eval`` or ``pickle`` — and every field is checked.
A malformed record decodes to ``Answer("error")``; nothing in this module raises on bad
input except ``read_result``, whose ``ValueError`` the runner turns into a note.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, cast

from mcgrade.model import NOT_REACHED, Answer

PROTOCOL = 3
MAX_TEXT = 100_000
MAX_SREPR = 200_000
MAX_DIMS = 32
MAX_SHAPE_LEN = 8
MAX_CALLS = 10_000

RunStatus = Literal["ok", "raised", "memory", "timeout", "crashed", "syntax-error",
                    "unreadable", "internal-error"]
"""How a run ended.

``ok``: the code finished (or called ``sys.exit(0)``), maybe after skipping IPython lines.
``raised``: it raised, or exited non-zero, part-way (a notebook: some cell failed); the names
defined were read. ``memory``: it ran out of memory (answers were read if the child could
still report). ``timeout``: out of time; answers defined before were read if the code could
be interrupted (``answers_read``). ``crashed``: it ended without reporting (signal,
``os._exit``, broken result). ``syntax-error``: a ``.py`` file that does not compile.
``unreadable``: the file could not be read. ``internal-error``: no worker could run it.
"""

CauseKind = Literal["timeout", "error"]
"""The kind of answer a name gets when the unit that would have defined it failed."""

_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_CHILD_STATUSES = ("ok", "raised", "memory", "timeout", "syntax-error")
_CALL_KINDS = ("number", "array", "complex", "error", "timeout", "unsupported")


@dataclass(frozen=True)
class RunResult:
    """The outcome of running one submission: raw answer records plus what happened.

    ``notes`` are one-line messages for a person; when the run did not finish cleanly the
    first one says why (``headline``). ``output_tail`` is the end of what the submission
    printed (stdout and stderr merged), ``output_bytes`` how much it printed in all.
    ``answers`` maps every requested name to its raw record, and is empty unless
    ``answers_read``; use :meth:`answer` to get a validated :class:`Answer`. ``causes``
    maps a name that a failed notebook cell (or an interrupted run) would have defined to
    the kind of answer it gets ("timeout" or "error", as that cell failed) and the
    one-line reason it has no value. The headline is the note of what ended the run.
    """

    status: RunStatus
    answers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    answers_read: bool = False
    output_tail: str = ""
    output_bytes: int = 0
    traceback: str = ""
    elapsed: float = 0.0
    causes: Mapping[str, tuple[CauseKind, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "answers", MappingProxyType(dict(self.answers)))
        object.__setattr__(self, "causes", MappingProxyType(dict(self.causes)))

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
        if answer.kind != "missing" or answer.text:
            return answer
        if name in self.causes:
            kind, why = self.causes[name]
            return Answer(kind, text=why)
        if self.status == "timeout":
            return Answer("timeout", text=f"{name} was not defined before the time ran out: "
                                          f"{self.headline.split('; ')[0]}")
        if self.status in ("raised", "memory") and "*" in self.causes:
            return Answer("error", text=f"{name} {NOT_REACHED}: "
                                        f"{self.causes['*'][1]}")
        return answer


def one_line(text: Any, limit: int) -> str:
    """A printable single line: control characters become spaces, lone surrogates '?'."""
    if type(text) is not str:
        return ""
    text = text.encode("utf-8", "replace").decode("utf-8")[:limit]
    return "".join(c if c.isprintable() else " " for c in text).strip()


def count(x: Any) -> int | None:
    """A non-negative int below 2**31 from the wire, else None."""
    return x if type(x) is int and 0 <= x < 1 << 31 else None


def _real(x: Any) -> float:
    """A number from the wire; raises ValueError for anything else."""
    if type(x) is int or type(x) is float:
        return float(x)   # a huge int raises OverflowError, which decode() catches
    if type(x) is str and x in _NONFINITE:
        return _NONFINITE[x]
    raise ValueError(f"not a number: {type(x).__name__}")


def _shape(raw: Any) -> tuple[int, ...]:
    if type(raw) is not list or len(raw) > MAX_DIMS or any(count(d) is None for d in raw):
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
        if count(item) is not None or type(item) is str and item.isascii() and item.isidentifier():
            dims.append(item)
        else:
            return None
    return tuple(dims)


def _fmt_shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape)) or "0-D"


def _text(record: dict[str, Any], limit: int) -> str:
    text = record.get("text")
    if type(text) is not str or len(text) > limit:
        raise ValueError("bad text")
    return text


def _decode(record: Any, expect_shape: bool) -> Answer:
    if type(record) is not dict or type(record.get("kind")) is not str:
        raise ValueError("not a tagged record")
    kind = record["kind"]
    if kind == "missing":
        return Answer("missing")
    if kind == "none":
        return Answer("missing", text="it is set to None (no answer yet)")
    if kind in ("string", "unsupported", "error", "timeout"):
        text = _text(record, MAX_TEXT)
        if kind == "string":
            return Answer("string", text=text.encode("utf-8", "replace").decode("utf-8"))
        return Answer(kind, text=one_line(text, 500))
    if kind == "sympy":
        text = _text(record, MAX_SREPR)
        shape = _shape(record.get("shape"))
        if len(shape) > 2 or not text.isascii():
            raise ValueError("bad sympy record")
        return Answer("sympy", text=text, shape=shape)
    if kind == "function":
        calls = record.get("calls")
        if type(calls) is not list or len(calls) > MAX_CALLS:
            raise ValueError("bad calls")
        results = tuple(decode(call) for call in calls)
        return Answer("function", value=tuple(
            a if a.kind in _CALL_KINDS else
            Answer("unsupported", text=a.text or f"a function must return numbers, not {a.kind}")
            for a in results))
    if kind == "number":
        return Answer("number", value=_real(record.get("value")))
    if kind == "array":
        shape = _shape(record.get("shape"))
        raw = record.get("value")
        values = _values(raw, shape)
        raw = cast("list[Any]", raw)                      # _values checked it is a list
        if (expect_shape and len(shape) == 1 and all(count(x) is not None for x in raw)
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
        raw = [a.text if a.kind == "string" else count(item.get("value"))
               for item, a in zip(items, plain)]      # None (not a dimension) unless an int
        if expect_shape and (dims := _as_shape(raw)) is not None:
            return Answer("shape", value=dims)
        if any(a.kind == "string" for a in plain):
            return Answer("unsupported", text=f"{kind} (containing strings)")
        return Answer("array", value=tuple(a.value for a in plain), shape=(len(plain),))
    if kind == "complex":
        shape = _shape(record.get("shape"))
        re, im = _values(record.get("real"), shape), _values(record.get("imag"), shape)
        numbers = tuple(complex(a, b) for a, b in zip(re, im))
        if not shape:
            return Answer("complex", value=numbers[0], text=f"the complex number {numbers[0]}")
        return Answer("complex", value=numbers, shape=shape,
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


def _loads(text: str | bytes) -> Any:
    def no_constants(name: str) -> None:
        raise ValueError(f"non-standard JSON constant {name}")
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text, parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"not valid JSON ({type(exc).__name__})") from None


@dataclass(frozen=True)
class Stream:
    """A run as the worker reported it (validated, answers still raw)."""

    exit: Mapping[str, Any]
    status: RunStatus | None = None           # None: the code never reported back
    events: tuple[Mapping[str, Any], ...] = ()
    answers: Mapping[str, Any] = field(default_factory=dict)
    done: bool = False
    namespaces: bool = False
    fault: str = ""                           # why the job never ran (not its doing)


def read_result(data: bytes, names: Sequence[str]) -> Stream:
    """The supervisor's result, validated. A broken supervisor's object is a fault of the
    machine (``Stream.fault``); ``ValueError`` if the submission's own report, after its
    ``armed`` line, is malformed (its process wrote it: the submission's doing).

    Lines of the stream that are malformed end it (what came before still counts); a
    requested name never reported stays out of ``answers``; unrequested names are dropped.
    """
    try:                  # the supervisor's own object: if it is broken, the machine is
        obj = _loads(data)
    except ValueError as exc:
        return Stream({}, fault=f"its supervisor's report is {exc}")
    if type(obj) is not dict or obj.get("protocol") != PROTOCOL:
        return Stream({}, fault="its supervisor's report is not a protocol-3 object")
    if "fault" in obj:
        return Stream({}, fault=f"its sandbox could not be set up ({_line(obj['fault'])})")
    stream, exit_ = obj.get("stream"), obj.get("exit")
    if type(stream) is not str or type(exit_) is not dict:
        return Stream({}, fault="its supervisor's report has no stream or exit status")
    lines = stream.split("\n")
    opening = _item(lines[0])
    if opening.get("t") != "armed":
        why = _line(opening.get("text")) if opening.get("t") == "fault" else \
            _line(f"its process ended before its sandbox was ready (exit {exit_})")
        return Stream(exit_, fault=f"its sandbox could not be set up ({why})")
    status: RunStatus | None
    events: tuple[dict[str, Any], ...]
    answers: dict[str, Any]
    status, events, answers, done, wanted = None, (), {}, False, set(names)
    for number, line in enumerate(lines[1:]):
        if not line:
            continue
        try:
            item = _loads(line)
        except ValueError:
            if number == 0:
                raise ValueError("the submission's report is not valid JSON") from None
            break
        if type(item) is not dict:
            break
        tag = item.get("t")
        if number == 0:
            if tag != "ran" or item.get("status") not in _CHILD_STATUSES:
                raise ValueError("the submission's report has no valid status")
            status = item["status"]
            raw = item.get("events")
            events = tuple(e for e in raw[:50] if type(e) is dict) if type(raw) is list else ()
        elif tag == "answer" and type(item.get("name")) is str:
            if item["name"] in wanted:
                answers.setdefault(item["name"], item.get("record"))
        elif tag == "done":
            done = True
            break
        else:
            break
    return Stream(exit_, status, events, answers, done, obj.get("namespaces") is True)


def _item(line: str) -> dict[str, Any]:
    """A line of the trusted opening of a stream, as a dict ({} if it is not one)."""
    try:
        item = _loads(line)
    except ValueError:
        return {}
    return item if type(item) is dict else {}


def _line(text: object) -> str:
    """A one-line message of at most 300 characters ("" if ``text`` is not a string)."""
    return " ".join(text.split())[:300] if type(text) is str else ""
