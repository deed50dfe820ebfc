"""Values → tagged JSON records (the child side; standard library only, never ``mcgrade``).

Imported by ``_child.py`` inside the sandbox. numpy and sympy are used only through
``sys.modules`` (the worker imported them before forking). Types are read through
``type``'s own descriptors and exact-type tests, so no student ``__eq__``, ``__len__``,
``__class__`` or ``__instancecheck__`` is consulted while deciding what a value is. Converting
a value can still run student code (sympy's printer calls methods of a student's subclass):
that happens in a forked helper with its own time limit, never in the worker.

The record format is documented in ``mcgrade.submission.protocol``.
"""

import math
import sys
from typing import Any

MAX_STRING = 100_000          # characters in one string answer
MAX_SREPR = 200_000           # characters of sympy srepr text
MAX_ELEMENTS = 1_000_000      # numbers in one array answer
MAX_DEPTH = 32                # nesting of lists
MAX_ITEMS = 64                # entries of a tuple that is not numeric
_NONFINITE = {math.inf: "inf", -math.inf: "-inf"}


class Refused(Exception):
    """A value that can't be encoded; the message says why, after the value's type name."""


def type_name(value: object) -> str:
    """The qualified name of ``type(value)``, read through ``type``'s own descriptors."""
    t = type(value)
    try:
        name = type.__dict__["__qualname__"].__get__(t, type)
        module = type.__dict__["__module__"].__get__(t, type)
    except Exception:
        return "unknown type"
    if type(name) is not str:
        return "unknown type"
    if type(module) is str and module != "builtins":
        name = f"{module}.{name}"
    return name[:200]


def _mro(value: object) -> "tuple[type, ...]":
    try:
        mro: tuple[type, ...] = type.__dict__["__mro__"].__get__(type(value), type)
        return mro
    except Exception:
        return ()


def num(x: "int | float") -> "int | float | str":
    """A JSON-safe real: small ints stay ints; NaN and infinities become strings."""
    if type(x) is int:
        if -(1 << 53) <= x <= (1 << 53):
            return x
        try:
            x = float(x)
        except OverflowError:
            raise Refused("too large to be a number") from None
    elif type(x) is not float:
        x = float(x)                       # numpy's longdouble and friends
    if x != x:
        return "nan"
    return _NONFINITE.get(x, x)


def _numpy_kind(value: object, np: Any) -> str:
    """'real', 'complex', 'bool', 'other' for exact numpy scalar types; '' otherwise."""
    if np is None:
        return ""
    t = type(value)
    try:
        module = type.__dict__["__module__"].__get__(t, type)
        if module != "numpy" or np.generic not in _mro(value):
            return ""
        kind = np.dtype(t).kind
    except Exception:
        return ""
    return {"f": "real", "i": "real", "u": "real", "c": "complex", "b": "bool"}.get(kind, "other")


def _sympy_kind(value: object, sp: Any) -> str:
    """'matrix' (explicit entries), 'matexpr' (a MatrixSymbol expression), 'scalar', or ''."""
    if sp is None:
        return ""
    mro = _mro(value)
    if sp.MatrixBase in mro:
        return "matrix"
    if sp.Basic not in mro:
        return ""
    return "matexpr" if sp.MatrixExpr in mro else "scalar"


def _complex_record(flat: "list[Any]", shape: "list[int]") -> "dict[str, Any]":
    return {"kind": "complex", "shape": shape, "real": [num(z.real) for z in flat],
            "imag": [num(z.imag) for z in flat]}


def _encode_ndarray(arr: Any, np: Any, sp: Any) -> "dict[str, Any]":
    name = type_name(arr)
    if type(arr) is not np.ndarray:
        arr = np.asarray(arr)              # exact np.matrix only (checked by the caller)
    kind = arr.dtype.kind
    shape = [int(d) for d in arr.shape]
    if arr.size > MAX_ELEMENTS:
        raise Refused(f"{arr.size} numbers; at most {MAX_ELEMENTS}")
    if kind in "fiu":
        if not shape:
            return {"kind": "number", "value": num(arr.item())}
        return {"kind": "array", "shape": shape, "value": [num(x) for x in arr.ravel().tolist()]}
    if kind == "c":
        return _complex_record(arr.ravel().tolist(), shape)
    if kind == "O":
        if not shape:
            return encode(arr.item())
        shape, flat = _nested(arr.tolist(), 0, np, sp, [0])
        return _entries_record(shape, flat, np, sp)
    dtype = {"b": "bool", "U": "str", "S": "bytes"}.get(kind, arr.dtype.name)
    return {"kind": "unsupported", "text": f"{name} (dtype {dtype})"}


def _nested(value: Any, depth: int, np: Any, sp: Any,
            count: "list[int]") -> "tuple[list[int], list[Any]]":
    """(shape, flat entries) of a rectangular nest of lists/tuples/arrays.

    Entries are exact ints and floats, numpy reals and sympy scalars (kept as objects).
    """
    t = type(value)
    if t is int or t is float or _sympy_kind(value, sp) == "scalar":
        count[0] += 1
        return [], [value]
    if _numpy_kind(value, np) == "real":
        count[0] += 1
        return [], [value.item()]
    if np is not None and t is np.ndarray and value.dtype.kind in "fiuO":
        count[0] += int(value.size)
        if count[0] > MAX_ELEMENTS:
            raise Refused(f"more than {MAX_ELEMENTS} numbers")
        if value.dtype.kind == "O":
            return _nested(value.tolist(), depth + 1, np, sp, count)
        return [int(d) for d in value.shape], value.ravel().tolist()
    if t is not list and t is not tuple:
        raise Refused(f"containing {type_name(value)}")
    if depth >= MAX_DEPTH:
        raise Refused("nested too deeply")
    shape: list[int] | None = None
    flat: list[Any] = []
    for item in list.__iter__(value) if t is list else tuple.__iter__(value):
        sub_shape, sub_flat = _nested(item, depth + 1, np, sp, count)
        if shape is None:
            shape = sub_shape
        elif sub_shape != shape:
            raise Refused("ragged: rows of different lengths")
        flat.extend(sub_flat)
        if count[0] > MAX_ELEMENTS:
            raise Refused(f"more than {MAX_ELEMENTS} numbers")
    return [list.__len__(value) if t is list else tuple.__len__(value)] + (shape or []), flat


def _entries_record(shape: "list[int]", flat: "list[Any]", np: Any,
                    sp: Any) -> "dict[str, Any]":
    """An array record for plain numbers; a sympy matrix record when some entry is sympy."""
    symbolic = [x for x in flat if type(x) is not int and type(x) is not float]
    if not symbolic:
        if not shape:
            return {"kind": "number", "value": num(flat[0])}
        return {"kind": "array", "shape": shape, "value": [num(x) for x in flat]}
    if any(_sympy_kind(x, sp) != "scalar" for x in symbolic):
        raise Refused(f"containing {type_name(symbolic[0])}")
    if not shape:
        return _sympy_record(flat[0], sp)
    if len(shape) > 2:
        raise Refused(f"a {len(shape)}-D array of sympy expressions")
    rows = shape[0]
    cols = shape[1] if len(shape) == 2 else 1
    matrix = sp.ImmutableDenseMatrix(rows, cols, flat)
    record = _sympy_record(matrix, sp)
    record["shape"] = shape                # a 1-D array stays 1-D: [n], text an n×1 column
    return record


def _sympy_record(value: Any, sp: Any) -> "dict[str, Any]":
    kind = _sympy_kind(value, sp)
    shape: list[int] = []
    if kind == "matrix":
        value = sp.ImmutableDenseMatrix(value)
        shape = [int(value.rows), int(value.cols)]
    elif kind == "matexpr":
        try:
            shape = [int(d) for d in tuple(value.shape)]
        except (TypeError, ValueError):
            shape = []                     # a symbolic size such as n
        shape = shape if len(shape) == 2 else []
    text = sp.srepr(value)
    if type(text) is not str:
        raise Refused("its sympy form is not text")
    if len(text) > MAX_SREPR:
        raise Refused(f"{len(text)} characters as sympy text; at most {MAX_SREPR}")
    return {"kind": "sympy", "text": text, "shape": shape}


def _flat_items(seq: "list[Any] | tuple[Any, ...]") -> "list[dict[str, Any]] | None":
    """Tagged items of a flat sequence of ints, floats and strings (a possible shape)."""
    items: list[dict[str, Any]] = []
    for item in seq:
        if type(item) is str and len(item) <= 200:
            items.append({"kind": "string", "text": item})
        elif type(item) is int or type(item) is float:
            items.append({"kind": "number", "value": num(item)})
        else:
            return None
    return items


def encode(value: Any) -> "dict[str, Any]":
    """One answer as a tagged record (see ``mcgrade.submission.protocol``)."""
    t = type(value)
    np, sp = sys.modules.get("numpy"), sys.modules.get("sympy")
    if t is str:
        if len(value) > MAX_STRING:
            raise Refused(f"{len(value)} characters; at most {MAX_STRING}")
        return {"kind": "string", "text": value}
    if t is int or t is float:
        return {"kind": "number", "value": num(value)}
    if t is complex:
        return _complex_record([value], [])
    if value is None:
        return {"kind": "none"}
    kind = _numpy_kind(value, np)
    if kind == "real":
        return {"kind": "number", "value": num(value.item())}
    if kind == "complex":
        return _complex_record([complex(value.item())], [])
    if np is not None and (t is np.ndarray or t is getattr(np, "matrix", None)):
        return _encode_ndarray(value, np, sp)
    if _sympy_kind(value, sp):
        return _sympy_record(value, sp)
    if t is tuple or t is list:
        if t is tuple or 0 < list.__len__(value) <= MAX_ITEMS:
            items = _flat_items(value) if len(value) <= MAX_ITEMS else None
            if items is not None and (t is tuple or any(i["kind"] == "string" for i in items)):
                return {"kind": t.__name__, "items": items}
        shape, flat = _nested(value, 0, np, sp, [0])
        return _entries_record(shape, flat, np, sp)
    return {"kind": "unsupported", "text": type_name(value)}


def encode_result(value: Any) -> "dict[str, Any]":
    """A function's return value: numbers only (sympy values are evaluated to numbers)."""
    np, sp = sys.modules.get("numpy"), sys.modules.get("sympy")
    if type(value) is str:
        return {"kind": "unsupported", "text": "str (a function must return numbers)"}
    kind = _sympy_kind(value, sp)
    if kind == "scalar":
        value = complex(value)
    elif kind == "matrix" and np is not None:
        value = np.array([[complex(x) for x in row] for row in value.tolist()])
    elif kind:
        raise Refused("a symbolic matrix expression, not numbers")
    record = encode(value)
    if record["kind"] == "complex" and not any(record["imag"]):
        shape = record["shape"]
        if not shape:
            return {"kind": "number", "value": record["real"][0]}
        return {"kind": "array", "shape": shape, "value": record["real"]}
    if record["kind"] in ("sympy", "tuple", "list"):
        if record["kind"] != "sympy":
            items = record["items"]
            if all(i["kind"] == "number" for i in items):
                return {"kind": "array", "shape": [len(items)],
                        "value": [i["value"] for i in items]}
        raise Refused("not numbers")
    return record
