"""Reading a published (student) copy's ``checks:``, the stand-in for a problem's reference.

``mcgrade publish`` writes them; a student's grader reads them back here. A published
problem says what kind of answer it wants (``checks: kind``) but has no ``of``, ``answer``
or ``mistakes``: those are refused here, so a hand-edited copy can't smuggle them back in
and be taken for the instructor's set.
"""

from __future__ import annotations

import re
from typing import Any

from mcgrade.model import LocalChecks, StoredInstance
from mcgrade.problemset.schema import CHECK_INSTANCE, CHECKS, MAX_SIZE
from mcgrade.problemset.values import ValueReader, is_number
from mcgrade.problemset.yamlsource import Path

KINDS = ("derivative", "hessian", "answer", "shape")
ANSWER_KEYS = ("derivative", "hessian", "shape", "answer", "mistakes", "at")
"""Keys a published problem may not have: each would hold (part of) the answer."""

MAX_EXACT = 8          # exact (or ball) digests per stored instance (publish writes 2)
_DIGEST = re.compile(r"[0-9a-f]{8,64}")
_GRID = re.compile(r"[0-9a-f]{0,4096}")    # one bit per entry of the value


def read_checks(reader: ValueReader, where: Path, problem: dict[str, Any],
                published: bool) -> tuple[str, LocalChecks] | None:
    """A published problem's kind and ``checks``: required in a published set, refused
    elsewhere (None)."""
    src = reader.src
    if not published:
        if "checks" in problem:
            raise src.error(where + ("checks",), "only a published copy (published: true) "
                            "has checks; mcgrade publish writes them; remove this key")
        return None
    for key in ANSWER_KEYS:
        if key in problem:
            raise src.error(where + (key,), "a published copy holds no answers; remove it "
                            "(publish the instructor's set again with mcgrade publish)")
    if "checks" not in problem:
        raise src.error_in(where, "a problem of a published copy needs 'checks'; write the "
                                  "copy with mcgrade publish")
    w = where + ("checks",)
    spec = reader.mapping(w, problem["checks"], CHECKS)
    kind = reader.choice(w + ("kind",), spec["kind"], KINDS)
    bits = spec.get("bits", CHECKS.default("bits"))
    if isinstance(bits, bool) or not isinstance(bits, int) or not 8 <= bits <= 52:
        raise reader.fail(w + ("bits",), "a whole number from 8 to 52", bits)
    zero = reader.number(w + ("zero",), spec.get("zero", CHECKS.default("zero")), 0,
                         what="a number ≥ 0")
    instances = tuple(_instance(reader, w + ("instances", j), item) for j, item in
                      enumerate(reader.items(w + ("instances",), spec.get("instances"),
                                             "stored instances")))
    if not instances:
        raise src.error(w + ("instances",), "no stored instances; write the copy with "
                                            "mcgrade publish")
    return kind, LocalChecks(bits, zero, instances)


def _instance(reader: ValueReader, where: Path, value: Any) -> StoredInstance:
    spec = reader.mapping(where, value, CHECK_INSTANCE)
    sizes = []
    for name, size in reader.mapping(where + ("sizes",), spec.get("sizes")).items():
        if name not in reader.dims:
            raise reader.src.error(where + ("sizes", name), f"{name!r} is not a declared "
                                   f"dimension")
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
            raise reader.fail(where + ("sizes", name), f"a whole number from 1 to "
                                                       f"{MAX_SIZE}", size)
        sizes.append((name, size))
    points = tuple(_point(reader, where + ("points", j), item) for j, item in
                   enumerate(reader.items(where + ("points",), spec.get("points"), "points")))
    digests = tuple(_digest(reader, where + ("digests", j), d) for j, d in
                    enumerate(reader.items(where + ("digests",), spec.get("digests"),
                                           "digests")))
    if len(digests) != len(points):
        raise reader.src.error(where + ("digests",), f"{len(digests)} digests for "
                               f"{len(points)} points; give one digest per point")
    grids = tuple(_grid(reader, where + ("grids", j), g) for j, g in
                  enumerate(reader.items(where + ("grids",), spec.get("grids"), "grids")))
    if grids and len(grids) != len(points):
        raise reader.src.error(where + ("grids",), f"{len(grids)} grids for "
                               f"{len(points)} points; give one per point")
    exact = tuple(_digest(reader, where + ("exact", j), d) for j, d in
                  enumerate(reader.items(where + ("exact",), spec.get("exact"), "digests")))
    if len(exact) > MAX_EXACT:
        raise reader.src.error(where + ("exact",), f"{len(exact)} exact digests; a copy "
                               f"has at most {MAX_EXACT}: publish the set again")
    ball = tuple(_digest(reader, where + ("ball", j), d) for j, d in
                 enumerate(reader.items(where + ("ball",), spec.get("ball"), "digests")))
    if len(ball) > MAX_EXACT:
        raise reader.src.error(where + ("ball",), f"{len(ball)} ball digests; a copy "
                               f"has at most {MAX_EXACT}: publish the set again")
    ball_grids = tuple(_grid(reader, where + ("ball_grids", j), g) for j, g in enumerate(
        reader.items(where + ("ball_grids",), spec.get("ball_grids"), "grids")))
    if ball_grids and len(ball_grids) != len(ball):
        raise reader.src.error(where + ("ball_grids",), f"{len(ball_grids)} grids for "
                               f"{len(ball)} ball digests; give one per digest")
    return StoredInstance(tuple(sizes), _digest(reader, where + ("shape",), spec["shape"]),
                          points, digests, grids, exact, ball, ball_grids)


def _point(reader: ValueReader, where: Path, value: Any) -> tuple[tuple[str, Any], ...]:
    pairs = []
    for name, entry in reader.mapping(where, value).items():
        reader.symbol_ref(where, name, reader.src.key_line(where + (name,)))
        pairs.append((name, _numbers(reader, where + (name,), entry)))
    return tuple(pairs)


def _numbers(reader: ValueReader, where: Path, value: Any) -> Any:
    """A number, or a matrix as a list of rows of numbers (kept as nested tuples)."""
    if is_number(value):
        return float(value)
    if isinstance(value, list) and value and all(
            isinstance(row, list) and row and all(map(is_number, row)) for row in value) \
            and len({len(row) for row in value}) == 1:
        return tuple(tuple(float(x) for x in row) for row in value)
    raise reader.fail(where, "a number or a list of rows of numbers", value)


def _grid(reader: ValueReader, where: Path, value: Any) -> str:
    if not isinstance(value, str) or not _GRID.fullmatch(value):
        raise reader.fail(where, "a grid mask (hexadecimal text, or '')", value)
    return value


def _digest(reader: ValueReader, where: Path, value: Any) -> str:
    if not isinstance(value, str) or not _DIGEST.fullmatch(value):
        raise reader.fail(where, "a digest (hexadecimal text)", value)
    return value
