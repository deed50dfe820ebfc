"""``mcgrade publish``: the student copy of a problem set, for checking answers locally.

The copy keeps what students are meant to read (title, layout, symbols, prompts, points,
hints, partial credit) and replaces each problem's reference — ``of``, ``answer``, ``at``,
``mistakes`` — by ``checks``: sample points and, at each, a digest of the reference's value
(:mod:`mcgrade.engine.digest`). What leaks, by design:

* the points themselves, and which symbols the reference depends on (the points name only
  those, plus ``at`` values, which the prompt states anyway);
* nothing about values or shapes: a digest can only be matched by guessing, which is what
  running the local check on a candidate answer already does. The same holds of the exact
  digests (the reference mod p at points drawn from a public seed): a hash of residues
  at a random point, matched only by evaluating a guess there; and of the ball digests
  (the reference's 30-digit cells, in certified balls at public rational points:
  :mod:`mcgrade.engine.ball_digest`). A problem whose answer is a constant (``eye(n)``, a
  number at ``at:``) can be found by guessing constants, as with any local checker; its
  digest makes reading it no easier.

The points are drawn with another seed than grading uses, so the instructor's grading
never meets the published points.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp
import yaml

from mcgrade.engine.ball_digest import reference_digests as ball_digests
from mcgrade.engine.compiler import compile_problem_set
from mcgrade.engine.digest import (
    bits_for,
    context,
    grid_for,
    shape_digest,
    value_digest,
)
from mcgrade.engine.exact_digest import reference_digests
from mcgrade.engine.reference import Instance, Reference
from mcgrade.errors import ProblemSetError
from mcgrade.model import Problem, ProblemSet, SymbolDecl

SALT = "published"
HEADER = """\
# Student copy of {name}, written by `mcgrade publish`{who}. It holds no answers: each
# problem's `checks` are digests of the reference answer at fixed points, which tell a right
# answer from a wrong one and nothing more. Grading with this file is a local check; the
# instructor's grading uses the full problem set and other points.
"""


def publish(problem_set: ProblemSet) -> str:
    """The student copy of ``problem_set`` (one variant, for a set with params) as YAML."""
    if problem_set.published:
        raise ProblemSetError("this is already a published copy; publish the instructor's "
                              "set", problem_set.path)
    if problem_set.params and not problem_set.student:
        names = ", ".join(p.name for p in problem_set.params)
        raise ProblemSetError(f"the set has per-student params ({names}); publish one "
                              f"student's copy with --student ID", problem_set.path)
    compiled = compile_problem_set(problem_set, salt=SALT)
    data: dict[str, Any] = {"title": problem_set.title, "published": True,
                            "layout": problem_set.layout,
                            "orientation": problem_set.orientation,
                            "tolerance": _tolerance(problem_set.tolerance),
                            "timeout": _number(problem_set.timeout),
                            "symbols": _symbols(problem_set)}
    data["problems"] = [_problem(problem_set, compiled.references[p.id])
                        for p in problem_set.problems]
    who = f" for student {problem_set.student!r}" if problem_set.student else ""
    header = HEADER.format(name=Path(problem_set.path).name or "a problem set", who=who)
    return header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                              width=96)


def _problem(problem_set: ProblemSet, reference: Reference) -> dict[str, Any]:
    p = reference.problem
    entry: dict[str, Any] = {"id": p.id, "points": _number(p.points)}
    if p.name:
        entry["name"] = p.name
    if p.prompt:
        entry["prompt"] = p.prompt
    if p.form == "function":
        entry.update(form=p.form, signature=list(p.signature))
    optional = {"partial_credit": dict(p.partial_credit), "hints": list(p.hints),
                "forbid": list(p.forbid),
                "domain": {name: _domain(d) for name, d in p.domains},
                "tolerance": _tolerance(p.tolerance) if p.tolerance else None,
                "timeout": _number(p.timeout) if p.timeout else None}
    entry.update({k: v for k, v in optional.items() if v})
    tolerance = p.tolerance or problem_set.tolerance
    bits, zero = bits_for(tolerance.rtol), max(tolerance.atol, 1e-12)
    stored = [_instance(reference, instance, bits, zero)
              for instance in reference.instances]
    if p.form == "function":     # a function is called at as many points at every size
        fewest = min(len(s["points"]) for s in stored)
        for s in stored:
            s["points"], s["digests"] = s["points"][:fewest], s["digests"][:fewest]
            if "grids" in s:
                s["grids"] = s["grids"][:fewest]
    entry["checks"] = {"kind": p.kind, "bits": bits, "zero": zero, "instances": stored}
    return entry


def _instance(reference: Reference, instance: Instance, bits: int, zero: float
              ) -> dict[str, Any]:
    problem, about = reference.problem, reference.symbols
    sizes = dict(instance.sizes)
    stored: dict[str, Any] = {"sizes": _FlowMap(sizes), "shape": shape_digest(
        context(problem.id, sizes, -1), instance.shape)}
    if problem.kind == "shape":
        return stored
    names = symbols_of(problem, instance, about)
    values = [_exact(instance, k) for k in range(instance.samples.count)]
    grids = [grid_for(v, bits, zero) for v in values]
    keep = [k for k, g in enumerate(grids) if g is not None]
    keep = keep or list(range(instance.samples.count))   # fixed points can't be redrawn
    kept = [grids[k] or "" for k in keep]
    stored["points"] = [{name: _value(instance.samples.values[name][k]) for name in names}
                        for k in keep]
    stored["digests"] = [value_digest(context(problem.id, sizes, j), values[k], bits, zero,
                                      grid) for j, (k, grid) in enumerate(zip(keep, kept))]
    if any(kept):           # on which grid each entry is rounded (engine/digest.py)
        stored["grids"] = kept
    # the reference mod p at public points, where it is rational: what grading's exact
    # check sees and the float digests can't (engine/exact_digest.py says why it is safe)
    exact = reference_digests(reference, instance)
    if exact:
        stored["exact"] = exact
    # the reference's 30-digit cells in certified balls at public points: what grading's
    # ball check sees where mod p can't go (an answer with sin(...) for a rational
    # reference too); engine/ball_digest.py says why it is safe
    ball, ball_grids = ball_digests(reference, instance)
    if ball:
        stored["ball"] = ball
        if any(ball_grids):
            stored["ball_grids"] = ball_grids
    return stored


def symbols_of(problem: Problem, instance: Instance,
               about: frozenset[str] = frozenset()) -> list[str]:
    """The symbols a student's answer needs values of: those of the reference, the ``at``
    symbols (their values are in the prompt) and a function answer's signature. Where the
    reference was built by forward mode (no sympy value to ask), the symbols the problem
    is ``about``."""
    free = instance.value.free_symbols if instance.value is not None else set()
    wanted = {name for name, _ in problem.at} | set(problem.signature)
    if instance.forward:
        wanted |= about
    for name, value in instance.env.items():
        entries = list(value) if isinstance(value, sp.MatrixBase) else [value]
        if any(e in free for e in entries):
            wanted.add(name)
    return [name for name in instance.samples.values if name in wanted]


def _exact(instance: Instance, point: int) -> np.ndarray:
    """The reference at one point, evaluated exactly (the points are dyadic rationals) and
    rounded once to floats, so float noise in the reference never reaches a digest (where
    forward mode built it, its float values: their noise is far inside a grid's margin)."""
    assert instance.expected is not None
    if instance.value is None:
        return np.asarray(instance.expected[point], dtype=float)
    try:
        value = instance.value.xreplace(instance.samples.exact_subs(point, instance.env))
        entries = list(value) if isinstance(value, sp.MatrixBase) else [value]
        exact = np.array([float(sp.N(e, 30)) for e in entries], dtype=float)
        return exact.reshape(instance.shape)
    except (TypeError, ValueError, ZeroDivisionError):
        return np.asarray(instance.expected[point], dtype=float)


# --- YAML ----------------------------------------------------------------------------------

class _Flow(list):  # type: ignore[type-arg]
    """A list written on one line: a point's matrix, a list of sizes."""


class _FlowMap(dict):  # type: ignore[type-arg]
    """A mapping written on one line: sizes, a symbol's declaration."""


class _Dumper(yaml.SafeDumper):
    """Writes strings that look like numbers in quotes: mcgrade reads ``1e5`` as a number
    (YAML 1.2), which PyYAML's writer does not expect."""


def _str(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    if any(c.isdigit() for c in text[:1]) or text[:1] in "+-.":
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
    return dumper.represent_str(text)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(_Flow, lambda d, v: d.represent_sequence(
    "tag:yaml.org,2002:seq", v, flow_style=True))
_Dumper.add_representer(_FlowMap, lambda d, v: d.represent_mapping(
    "tag:yaml.org,2002:map", v, flow_style=True))


def _value(array: np.ndarray) -> Any:
    return float(array[0, 0]) if array.shape == (1, 1) else _Flow(
        _Flow(float(x) for x in row) for row in array)


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _tolerance(tolerance: Any) -> dict[str, float]:
    return _FlowMap(rtol=float(tolerance.rtol), atol=float(tolerance.atol))


def _domain(domain: Any) -> Any:
    return _Flow([domain.low, domain.high]) if domain.kind == "interval" else domain.kind


def _symbols(problem_set: ProblemSet) -> dict[str, Any]:
    table: dict[str, Any] = {d.name: _FlowMap(dimension=True, sizes=_Flow(d.sizes))
                             for d in problem_set.dimensions}
    for decl in problem_set.symbols:
        table[decl.name] = _symbol(decl)
    return table


def _symbol(decl: SymbolDecl) -> dict[str, Any]:
    spec: dict[str, Any] = _FlowMap()
    if decl.shape is not None:
        spec["shape"] = _Flow(decl.shape)
    if decl.domain.kind != "real":
        spec["domain"] = _domain(decl.domain)
    spec.update({k: True for k in ("symmetric", "diagonal", "invertible") if getattr(decl, k)})
    return spec
