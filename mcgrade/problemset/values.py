"""Typed reading of YAML values, with errors that say what was expected and what was found.

The checks every level of a problem set shares — a mapping with only schema keys, a number
in a range, a Python name, a domain, a reference to a declared symbol — live here, so the
loader reads as a list of rules and every message has one wording.
"""

from __future__ import annotations

import difflib
import keyword
import math
import re
from typing import Any, TypeGuard, TypeVar, cast

from mcgrade.errors import ProblemSetError
from mcgrade.model import Dimension, Domain, Location, Param, SymbolDecl
from mcgrade.problemset.schema import DOMAIN_CHOICES, MAX_DOMAIN, SCHEMA, Level
from mcgrade.problemset.yamlsource import Path, YamlDocument

_Choice = TypeVar("_Choice", bound=str)

NAME_RULE = "use letters, digits and _, not starting with a digit"
DOMAIN_WORDS = ", ".join(DOMAIN_CHOICES[:-1]) + f", {DOMAIN_CHOICES[-1]} or [low, high]"


def got(value: Any) -> str:
    """How a found value is described in a type error: ``'two'``, ``a list``, ``true``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return repr(value)
    if isinstance(value, list) and len(value) <= 6 and all(
            isinstance(v, (int, float, str)) for v in value):
        return shape_text(value)
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a mapping"
    return f"a {type(value).__name__}"


def is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def is_name(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value)


def shape_text(shape: tuple[Any, ...] | list[Any]) -> str:
    """``("m", 1)`` → ``[m, 1]``, as the shape is written in YAML."""
    return "[" + ", ".join(str(d) for d in shape) + "]"


def float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def check_placeholders(text: str, params: tuple[Param, ...]) -> str | None:
    """A ``{name}`` left in an expression after substitution: the name is not a param."""
    match = re.search(r"\{([A-Za-z_]\w*)\}", text)
    if match is None:
        return None
    declared = ", ".join(p.name for p in params) or "none"
    return (f"{{{match.group(1)}}} is not a declared param (params: {declared}); declare it "
            f"under 'params:' or fix the name")


class ValueReader:
    """Reads typed values out of one parsed file; raises on the first rule broken."""

    def __init__(self, src: YamlDocument) -> None:
        self.src = src
        self.dims: dict[str, Dimension] = {}
        self.symbols: dict[str, SymbolDecl] = {}
        self.params: tuple[Param, ...] = ()
        self.published = False

    # --- values of one type ----------------------------------------------------------

    def fail(self, where: Path, expected: str, value: Any, hint: str = "") -> ProblemSetError:
        if isinstance(value, str) and is_number(float_or_none(value)):
            hint = hint or "remove the quotes"
        if isinstance(value, bool) and "true" not in expected and "number" not in expected:
            hint = hint or "YAML reads yes, no, on and off as true/false; put it in quotes"
        return self.src.error(where, f"expected {expected}, got {got(value)}"
                                     + (f"; {hint}" if hint else ""))

    def mapping(self, where: Path, value: Any, level: Level | None = None) -> dict[str, Any]:
        """A mapping (nothing counts as empty), its keys checked against ``level``."""
        value = {} if value is None else value
        if not isinstance(value, dict):
            raise self.fail(where, "a mapping (key: value pairs)", value)
        if level is not None:
            self.keys(where, value, level)
        return value

    def items(self, where: Path, value: Any, what: str) -> list[Any]:
        """A list (nothing counts as empty); a single string counts as a list of one."""
        value = [] if value is None else [value] if isinstance(value, str) else value
        if not isinstance(value, list):
            raise self.fail(where, f"a list of {what}", value)
        return value

    def number(self, where: Path, value: Any, low: float | None = None, high: float | None
               = None, above: bool = False, what: str = "a number") -> float:
        ok = is_number(value)
        if ok and low is not None:
            ok = value > low if above else value >= low
        if not ok or (high is not None and value > high):
            raise self.fail(where, what, value)
        return float(value)

    def text(self, where: Path, value: Any, what: str = "text") -> str:
        if is_number(value):
            return str(value)
        if not isinstance(value, str) or not value.strip():
            hint = 'write a matrix as "Matrix([[1, 2], [3, 4]])"' if isinstance(
                value, list) and what.startswith("an expression") else ""
            raise self.fail(where, what, value, hint)
        return value

    def expression(self, where: Path, value: Any) -> str:
        text = self.text(where, value, "an expression string")
        left = check_placeholders(text, self.params)
        if left is not None:
            raise self.src.error(where, left)
        return text

    def name(self, where: Path, value: Any, what: str = "a name", line: int | None = None
             ) -> str:
        if is_name(value):
            return value
        if isinstance(value, str):
            fixed = re.sub(r"\W", "_", value.strip())
            fixed = f"_{fixed}" if fixed[:1].isdigit() or keyword.iskeyword(fixed) else fixed
            raise self.src.error(where, f"{value!r} is not a valid Python name; "
                                        f"{NAME_RULE}, e.g. {fixed!r}", line)
        raise self.fail(where, what, value)

    def choice(self, where: Path, value: Any, choices: tuple[_Choice, ...]) -> _Choice:
        if value in choices and isinstance(value, str):
            return cast(_Choice, value)
        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f"did you mean {close[0]!r}?" if close else ""
        raise self.fail(where, " or ".join(choices), value, hint)

    def flag(self, where: Path, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, "true or false", value)
        return value

    def keys(self, where: Path, mapping: dict[str, Any], level: Level) -> None:
        """Unknown keys get a did-you-mean or the allowed list; required keys must be there."""
        for key in mapping:
            if key in level.names:
                continue
            close = difflib.get_close_matches(key, level.names, n=1)
            other = next((lv for lv in SCHEMA if key in lv.names), None)
            hint = (f"did you mean {close[0]!r}?" if close else
                    f"it goes {other.inside}" if other else
                    "the keys here are " + ", ".join(f.name for f in level.fields
                                                     if f.authored))
            raise self.src.error_in(where, f"{key!r} is not a key here; {hint}",
                                    self.src.key_line(where + (key,)))
        for field in level.fields:
            if field.required and mapping.get(field.name) is None:
                if field.name in mapping:
                    raise self.src.error(where + (field.name,), f"no value given; for "
                                                                f"example: {field.example}")
                raise self.src.error_in(where, f"missing required key {field.name!r}; "
                                               f"add it, for example: {field.example}")

    def at_value(self, where: Path, decl: SymbolDecl, value: Any) -> Any:
        """A number, an expression string, or a matrix as rows (nested lists → tuples)."""
        if isinstance(value, str):
            return self.expression(where, value)
        if decl.shape is None:
            if not is_number(value):
                raise self.fail(where, "a number or an expression string", value)
            return value
        rows = value if isinstance(value, list) and value else None
        if rows is None or not all(isinstance(r, list) and r for r in rows):
            raise self.fail(where, f"a list of rows, such as [[1], [2]] for a column "
                                   f"({decl.name} has shape {shape_text(decl.shape)})", value)
        if len({len(r) for r in rows}) > 1:
            raise self.src.error(where, "rows of different lengths; give every row the "
                                        "same number of entries")
        for r, row in enumerate(rows):
            for c, entry in enumerate(row):
                if not is_number(entry) and not (isinstance(entry, str) and entry.strip()):
                    raise self.fail(where + (r, c), "a number or an expression string", entry)
        for dim, size in zip(decl.shape, (len(rows), len(rows[0]))):
            if isinstance(dim, int) and dim != size:
                raise self.src.error(where, f"{decl.name} has shape {shape_text(decl.shape)}, "
                                     f"but this value is {len(rows)}×{len(rows[0])}")
        return tuple(tuple(row) for row in rows)

    def domain(self, where: Path, value: Any) -> Domain:
        if isinstance(value, str) and value in DOMAIN_CHOICES:
            return Domain(value)  # type: ignore[arg-type]
        if isinstance(value, list) and len(value) == 2 and all(map(is_number, value)):
            if value[0] >= value[1]:
                raise self.src.error(where, f"{shape_text(value)} is empty; write [low, high] "
                                            f"with low < high")
            if max(map(abs, value)) > MAX_DOMAIN:
                raise self.src.error(where, f"{shape_text(value)} reaches past ±{MAX_DOMAIN:,}; "
                                            f"sample points must stay within it")
            return Domain("interval", float(value[0]), float(value[1]))
        close = difflib.get_close_matches(str(value), DOMAIN_CHOICES, n=1)
        raise self.fail(where, DOMAIN_WORDS, value,
                        f"did you mean {close[0]!r}?" if close else "")

    def symbol_ref(self, where: Path, value: Any, line: int | None = None) -> str:
        """A name that must be a declared symbol (not a dimension)."""
        if not isinstance(value, str):
            raise self.fail(where, "a symbol name", value)
        declared = ", ".join(self.symbols) or "none"
        if value in self.dims:
            raise self.src.error(where, f"{value!r} is a dimension, not a symbol; "
                                        f"symbols: {declared}", line)
        if value not in self.symbols:
            raise self.src.error(where, f"{value!r} is not a declared symbol; "
                                        f"declared: {declared}", line)
        return value

    def location(self, where: Path) -> Location:
        return Location(self.src.path, self.src.key_line(where))
