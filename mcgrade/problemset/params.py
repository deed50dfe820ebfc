"""Per-student variants: the ``params:`` block, a student's values, and their substitution.

A variant is made *before* the schema is read: every ``{a}`` in the file's strings is
replaced by the value of param ``a``, and a string that is exactly ``"{a}"`` becomes the
value itself (a number can then be a size, a shape or a point). The rest of the loader
and the engine see an ordinary problem set, so everything they check holds for every
variant, and ``mcgrade validate`` checks several.

A student's value of each param is picked by SHA-256 of the normalised student id and the
param's name — never Python's ``hash()``, which changes between runs — so the same id gets
the same variant on every machine, and editing a prompt or the title changes nobody's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from mcgrade.expressions.functions import ALIASES, CONSTANTS, FUNCTIONS
from mcgrade.model import Location, Param
from mcgrade.problemset.schema import PARAM
from mcgrade.problemset.values import ValueReader, is_name, is_number
from mcgrade.problemset.yamlsource import Path, YamlDocument

MAX_VALUES = 10_000
"""A range may not have more values than this."""


def normalise_student(student: str) -> str:
    """The form of a student id that picks the variant: ``" Alice "`` and ``alice`` agree."""
    return student.strip().casefold()


def read_params(src: YamlDocument) -> tuple[Param, ...]:
    """The ``params:`` block of a parsed file, checked; () when there is none."""
    data = src.data
    if not isinstance(data, dict) or data.get("params") is None:
        return ()
    return _ParamReader(src).read(data)


def choose(params: tuple[Param, ...], student: str | None,
           fixed: Mapping[str, Any] | None = None) -> tuple[tuple[str, Any], ...]:
    """Each param's value for ``student`` (its default when no student is named);
    ``fixed`` sets some values outright (``mcgrade validate`` walks the extremes)."""
    who = normalise_student(student or "")
    chosen = []
    for param in params:
        if fixed and param.name in fixed:
            if fixed[param.name] not in param.values:
                raise ValueError(f"{fixed[param.name]!r} is not a value of {param.name}")
            chosen.append((param.name, fixed[param.name]))
        elif not who:
            chosen.append((param.name, param.default))
        else:
            digest = hashlib.sha256(f"mcgrade-param\x1f{who}\x1f{param.name}".encode()
                                    ).digest()
            index = int.from_bytes(digest[:8], "big") % len(param.values)
            chosen.append((param.name, param.values[index]))
    return tuple(chosen)


def text_of(value: Any) -> str:
    """How a value is written into text: 3, 0.25, sin."""
    return repr(value) if isinstance(value, float) else str(value)


def substitute(src: YamlDocument, values: tuple[tuple[str, Any], ...]) -> YamlDocument:
    """The file with every ``{name}`` of a param replaced (the ``params:`` block itself
    and the line tables are kept as they are)."""
    if not values:
        return src
    table = dict(values)
    pattern = re.compile(r"\{(" + "|".join(re.escape(n) for n in table) + r")\}")

    def walk(node: Any, where: Path) -> Any:
        if isinstance(node, str):
            whole = pattern.fullmatch(node.strip())
            if whole:
                return table[whole.group(1)]
            return pattern.sub(lambda m: text_of(table[m.group(1)]), node)
        if isinstance(node, list):
            return [walk(item, where + (i,)) for i, item in enumerate(node)]
        if isinstance(node, dict):
            if len(node) == 1 and next(iter(node)) in table and \
                    next(iter(node.values())) is None:
                name = next(iter(node))
                raise src.error(where, f"{{{name}}} was read as a mapping; put the "
                                       f"placeholder in quotes: \"{{{name}}}\"")
            return {k: (v if where == () and k == "params" else walk(v, where + (k,)))
                    for k, v in node.items()}
        return node

    return YamlDocument(src.path, walk(src.data, ()), src.value_lines, src.key_lines)


class _ParamReader(ValueReader):
    def read(self, data: dict[str, Any]) -> tuple[Param, ...]:
        table = self.mapping(("params",), data["params"])
        taken = set(data["symbols"]) if isinstance(data.get("symbols"), dict) else set()
        reserved = set(FUNCTIONS) | set(ALIASES) | set(CONSTANTS)
        params = []
        for name, spec in table.items():
            where: Path = ("params", name)
            line = self.src.key_line(where)
            if not is_name(name):
                self.name(("params",), name, line=line)
            if name in taken or name in reserved:
                what = "a symbol" if name in taken else "a function of the expression language"
                raise self.src.error(("params",), f"{name!r} is already {what}; give the "
                                                  f"param another name", line)
            params.append(self.param(where, self.mapping(where, spec, PARAM)))
        return tuple(params)

    def param(self, where: Path, spec: dict[str, Any]) -> Param:
        name = str(where[-1])
        if ("range" in spec) == ("choices" in spec):
            raise self.src.error_in(where, "give either range or choices, for example: "
                                    + PARAM.field("range").example)
        if "choices" in spec:
            if "step" in spec:
                raise self.src.error(where + ("step",), "only a range has a step; remove it")
            values = self.choices(where + ("choices",), spec["choices"])
        else:
            values = self.range(where, spec["range"], spec.get("step", PARAM.default("step")))
        default = values[0]
        if "default" in spec:
            default = spec["default"]
            if default not in values or isinstance(default, bool):
                raise self.src.error(where + ("default",), f"{default!r} is not one of "
                                     f"{name}'s values; choose one of "
                                     + ", ".join(map(text_of, values[:6]))
                                     + (", …" if len(values) > 6 else ""))
        return Param(name, values, default, Location(self.src.path, self.src.key_line(where)))

    def choices(self, where: Path, value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(where, "a non-empty list of numbers or strings", value)
        for j, item in enumerate(value):
            if not is_number(item) and not (isinstance(item, str) and item.strip()):
                raise self.fail(where + (j,), "a number or a string", item)
            if item in value[:j]:
                raise self.src.error(where + (j,), f"{item!r} is listed twice; remove one")
        return tuple(value)

    def range(self, where: Path, value: Any, step: Any) -> tuple[Any, ...]:
        if not isinstance(value, list) or len(value) != 2 or not all(map(is_number, value)):
            raise self.fail(where + ("range",), "[low, high] (two numbers)", value)
        if not is_number(step) or step <= 0:
            raise self.fail(where + ("step",), "a number > 0", step)
        try:
            low, high, size = (Decimal(str(v)) for v in (*value, step))
        except InvalidOperation:   # pragma: no cover - is_number excludes these
            raise self.fail(where + ("range",), "[low, high]", value) from None
        if low > high:
            raise self.src.error(where + ("range",), f"[{value[0]}, {value[1]}] is empty; "
                                                     f"write [low, high] with low ≤ high")
        count = int((high - low) / size) + 1
        if count > MAX_VALUES:
            raise self.src.error(where + ("range",), f"{count} values is too many (at most "
                                 f"{MAX_VALUES}); narrow the range or take a larger step")
        return tuple(_plain(low + i * size) for i in range(count))


def _plain(value: Decimal) -> int | float:
    """An exact decimal as YAML would have written it: 3, not 3.0; 0.25."""
    return int(value) if value == value.to_integral_value() else float(value)


def unused(src: YamlDocument, params: tuple[Param, ...]) -> list[Param]:
    """Params no string of the file refers to."""
    found: set[str] = set()

    def walk(node: Any, top: bool) -> None:
        if isinstance(node, str):
            found.update(re.findall(r"\{([A-Za-z_]\w*)\}", node))
        elif isinstance(node, list):
            for item in node:
                walk(item, False)
        elif isinstance(node, dict):
            for key, item in node.items():
                if not (top and key == "params"):
                    walk(item, False)

    walk(src.data, True)
    return [p for p in params if p.name not in found]

