"""Problem-set YAML → the frozen :class:`~mcgrade.model.ProblemSet`, checked against the schema.

Every rule of SPEC §2 that can be checked without reading an expression is checked here,
and the first broken one raises :class:`~mcgrade.errors.ProblemSetError` with the file, the
line and a breadcrumb. Expression strings (``of``, ``answer``, mistakes) are kept as text:
the expression parser reads them later and places its errors with ``Problem.line_of``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path as FilePath
from typing import Any

from mcgrade.errors import ProblemSetError
from mcgrade.model import (
    DIAGNOSES,
    VISIBILITIES,
    Dimension,
    Domain,
    Location,
    Mistake,
    Problem,
    ProblemSet,
    SymbolDecl,
    Tolerance,
    Visibility,
)
from mcgrade.problemset.params import choose, normalise_student, read_params, substitute
from mcgrade.problemset.published import read_checks
from mcgrade.problemset.schema import (
    DERIVATIVE,
    MAX_POINTS,
    MAX_RUN_TIME,
    MAX_SIZE,
    MAX_TIMEOUT,
    MISTAKE,
    PROBLEM,
    SET,
    SYMBOL,
    TOLERANCE,
)
from mcgrade.problemset.values import ValueReader, is_name, shape_text
from mcgrade.problemset.yamlsource import Path, load_yaml

_FRACTION = "a number from 0 to 1"
_SECONDS = f"a number of seconds > 0 and at most {MAX_TIMEOUT} (an hour)"


def load_problem_set(path: str | os.PathLike[str], student: str | None = None
                     ) -> ProblemSet:
    """Read and check the problem set in the YAML file at ``path`` (for a set with
    ``params:``, the variant of ``student``; without one, the default variant)."""
    name = str(path)
    try:
        text = FilePath(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProblemSetError(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8",
                              name) from None
    except OSError as exc:
        raise ProblemSetError(f"can't read the problem set: {exc.strerror}", name) from None
    return parse_problem_set(text, name, student)


def parse_problem_set(text: str, path: str = "<string>", student: str | None = None,
                      values: Mapping[str, Any] | None = None) -> ProblemSet:
    """Check YAML ``text`` and build its ProblemSet; ``path`` only names it in errors.
    With ``params:``, the result is ``student``'s variant (``values`` fixes some params
    outright) and remembers ``text``, so :func:`for_student` can make any other's."""
    src = load_yaml(text, path)
    params = read_params(src)
    chosen = choose(params, student, values)
    reader = _Reader(substitute(src, chosen))
    reader.params = params
    problem_set = reader.read_set()
    if not params:
        return problem_set
    return replace(problem_set, params=params, variant=chosen,
                   student=normalise_student(student or ""), template=text)


def for_student(problem_set: ProblemSet, student: str) -> ProblemSet:
    """``student``'s variant of a set with ``params:`` (the set itself when it has none)."""
    if not problem_set.params:
        return problem_set
    return parse_problem_set(problem_set.template, problem_set.path, student)


class _Reader(ValueReader):
    """Reads one problem set; raises on the first rule broken."""

    visibility: Visibility = SET.default("visibility")   # the set's, which problems inherit

    # --- the set and its symbols -----------------------------------------------------

    def read_set(self) -> ProblemSet:
        src = self.src
        if src.data is None:
            raise ProblemSetError("the problem set is empty; it needs at least 'title:' and "
                                  "'problems:'", src.path, 1)
        top = self.mapping((), src.data, SET)
        title = self.text(("title",), top["title"])
        self.published = self.flag(("published",), top.get("published", False))
        if self.published and "params" in top:
            raise src.error(("params",), "a published copy is one student's variant and "
                            "has no params; publish with --student ID")
        layout = self.choice(("layout",), top.get("layout", SET.default("layout")),
                             ("numerator", "denominator"))
        orientation = self.choice(("orientation",), top.get(
            "orientation", SET.default("orientation")), ("strict", "lenient"))
        tolerance = Tolerance(TOLERANCE.default("rtol"), TOLERANCE.default("atol"))
        if "tolerance" in top:
            tolerance = self.tolerance(("tolerance",), top["tolerance"], tolerance)
        timeout = self.number(("timeout",), top.get("timeout", SET.default("timeout")), 0,
                              MAX_TIMEOUT, above=True, what=_SECONDS)
        self.visibility = self.choice(("visibility",), top.get(
            "visibility", SET.default("visibility")), VISIBILITIES)
        self.read_symbols(self.mapping(("symbols",), top.get("symbols")))
        problems = self.items(("problems",), top["problems"], "problems")
        if not problems:
            raise src.error(("problems",), "the list is empty; add at least one problem")
        read: list[Problem] = []
        for i, item in enumerate(problems):
            read.append(self.read_problem(("problems", i), item, read, tolerance))
            self.totals(("problems", i), read, timeout)
        return ProblemSet(title, tuple(read), layout, orientation,  # type: ignore[arg-type]
                          tolerance, timeout, tuple(self.dims.values()),
                          tuple(self.symbols.values()), src.path, self.published,
                          visibility=self.visibility)

    def totals(self, where: Path, problems: list[Problem], timeout: float) -> None:
        """The points, and the time limits of one submission's run (its script, then each
        answer's budget), of the problems read so far: bounded, so every total is finite
        and no deadline overflows a wait."""
        points = sum(p.points for p in problems)
        if points > MAX_POINTS:
            raise self.src.error(where + ("points",), f"the problems' points add up to "
                                 f"{points:,.10g}, more than {MAX_POINTS:,}; give fewer points")
        seconds = timeout + sum(p.timeout or timeout for p in problems)
        if seconds > MAX_RUN_TIME:
            raise self.src.error(where + ("timeout",), f"the time limits add up to "
                                 f"{seconds:,.10g} s (the set's timeout for the script, then "
                                 f"each problem's), more than a day ({MAX_RUN_TIME:,} s); "
                                 f"lower the timeouts")

    def tolerance(self, where: Path, value: Any, base: Tolerance) -> Tolerance:
        given = self.mapping(where, value, TOLERANCE)
        return replace(base, **{k: self.number(where + (k,), v, 0, what="a number ≥ 0")
                                for k, v in given.items()})

    def read_symbols(self, table: dict[str, Any]) -> None:
        """Dimensions first (a shape may name one declared below it), then the symbols."""
        specs: dict[str, dict[str, Any]] = {}
        for name, spec in table.items():
            where: Path = ("symbols", name)
            if not is_name(name):
                self.name(("symbols",), name, line=self.src.key_line(where))
            specs[name] = self.mapping(where, spec, SYMBOL)
            if self.flag(where + ("dimension",), specs[name].get("dimension", False)):
                self.dims[name] = self.read_dimension(where, specs[name])
        for name, spec in specs.items():
            if name not in self.dims:
                self.symbols[name] = self.read_symbol(("symbols", name), spec)

    def read_dimension(self, where: Path, spec: dict[str, Any]) -> Dimension:
        for key in spec:
            if key not in ("dimension", "sizes"):
                raise self.src.error(where + (key,), "not allowed on a dimension "
                                     "(dimension: true takes only sizes); remove it")
        if "sizes" not in spec:
            raise self.src.error_in(where, "a dimension needs sizes; add them, for example: "
                                    + SYMBOL.field("sizes").example)
        what = f"a non-empty list of whole numbers from 1 to {MAX_SIZE}"
        sizes = spec["sizes"]
        if not isinstance(sizes, list) or not sizes:
            raise self.fail(where + ("sizes",), what, sizes)
        for j, size in enumerate(sizes):
            if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
                raise self.fail(where + ("sizes", j), f"a whole number from 1 to {MAX_SIZE}",
                                size)
            if size in sizes[:j]:
                raise self.src.error(where + ("sizes", j), f"{size} is listed twice; "
                                                           f"remove one")
        return Dimension(str(where[-1]), tuple(sizes), self.location(where))

    def read_symbol(self, where: Path, spec: dict[str, Any]) -> SymbolDecl:
        if "sizes" in spec:
            raise self.src.error(where + ("sizes",), "only a dimension has sizes; add "
                                 "'dimension: true' or remove 'sizes'")
        shape = self.shape(where + ("shape",), spec["shape"]) if "shape" in spec else None
        structure = {}
        for key in ("symmetric", "diagonal", "invertible"):
            structure[key] = self.flag(where + (key,), spec.get(key, False))
            if structure[key] and (shape is None or shape[0] != shape[1]):
                has = f"has shape {shape_text(shape)}" if shape else "is a scalar"
                raise self.src.error(where + (key,), f"only a square matrix can be {key}, "
                                     f"but {where[-1]} {has}; make the shape square or "
                                     f"remove '{key}'")
        domain = self.domain(where + ("domain",), spec.get("domain", SYMBOL.default("domain")))
        return SymbolDecl(str(where[-1]), shape, domain, location=self.location(where),
                          **structure)

    def shape(self, where: Path, value: Any) -> tuple[Any, Any]:
        if not isinstance(value, list) or len(value) not in (1, 2):
            hint = f"for a column vector write [{value}, 1]" if isinstance(value, str) else ""
            raise self.fail(where, "[rows, cols] or [rows]", value, hint)
        for dim in value:
            if isinstance(dim, str) and dim in self.dims:
                continue
            if isinstance(dim, int) and not isinstance(dim, bool) and 1 <= dim <= MAX_SIZE:
                continue
            if isinstance(dim, str):
                use = (f"use one of {', '.join(self.dims)} or" if self.dims else
                       f"declare it ({dim}: {{dimension: true, sizes: [2, 3]}}) or use")
                raise self.src.error(where, f"{dim!r} is not a declared dimension; {use} "
                                            f"a whole number from 1 to {MAX_SIZE}")
            raise self.fail(where, f"a declared dimension or a whole number from 1 to "
                                   f"{MAX_SIZE}", dim)
        return (value[0], value[1] if len(value) == 2 else 1)



    # --- problems --------------------------------------------------------------------

    def read_problem(self, w: Path, item: Any, before: list[Problem],
                     set_tolerance: Tolerance) -> Problem:
        src = self.src
        p = self.mapping(w, item, PROBLEM)
        lines = {key: src.key_line(w + (key,)) for key in p}
        pid = self.name(w + ("id",), p["id"], "an id (a Python name)")
        name = self.name(w + ("name",), p["name"]) if "name" in p else ""
        for j, other in enumerate(before):
            if other.id == pid:
                raise src.error(w + ("id",), f"{pid!r} is already the id of problems[{j}] "
                                f"(line {other.location.line}); ids must be unique")
            if other.answer_name == (name or pid):
                raise src.error(w + ("name" if name else "id",), f"{other.answer_name!r} is "
                                f"already the answer name of problems[{j}] (line "
                                f"{other.location.line}); give this problem another 'name'")
        published = read_checks(self, w, p, self.published)
        if published is not None:
            return self.problem(w, p, pid, name, published[0], set_tolerance, lines,
                                checks=published[1])
        kinds = [k for k in ("derivative", "hessian", "shape") if k in p]
        if len(kinds) > 1:
            raise src.error_in(w, f"give only one of derivative, hessian and shape, not "
                                  f"both {kinds[0]} and {kinds[1]}", lines[kinds[1]])
        if not kinds and "answer" not in p:
            raise src.error_in(w, "nothing says what the answer is; add derivative, hessian, "
                                  "shape or answer, for example: "
                               + PROBLEM.field("derivative").example)
        kind = kinds[0] if kinds else "answer"
        of: str | None = None
        wrt: tuple[str, ...] = ()
        wrt_is_list = False
        if kinds:
            spec = self.mapping(w + (kind,), p[kind], DERIVATIVE)
            of = self.expression(w + (kind, "of"), spec["of"])
            wrt, wrt_is_list = self.wrt(w + (kind, "wrt"), spec["wrt"])
            lines.update(of=src.key_line(w + (kind, "of")), wrt=src.key_line(w + (kind, "wrt")))
        for key in ("answer", "at", "form"):
            if kind == "shape" and key in p:
                raise src.error(w + (key,), "not used by a shape problem (its answer is the "
                                            "shape of the derivative); remove it")
        answer = self.expression(w + ("answer",), p["answer"]) if "answer" in p else None
        at = self.at(w + ("at",), p.get("at"), lines)
        return self.problem(w, p, pid, name, kind, set_tolerance, lines, of=of, wrt=wrt,
                            wrt_is_list=wrt_is_list, answer=answer, at=at)

    def problem(self, w: Path, p: dict[str, Any], pid: str, name: str, kind: Any,
                set_tolerance: Tolerance, lines: dict[str, int | None], **parts: Any
                ) -> Problem:
        """The Problem, from the keys every problem may have plus the ``parts`` that say
        what its reference is (or its published checks)."""
        src = self.src
        form: Any
        form, signature = self.form(w, p)
        # kind and form are checked Literals
        return Problem(
            id=pid, kind=kind, name=name, **parts,
            points=self.number(w + ("points",), p.get("points", PROBLEM.default("points")), 0,
                               MAX_POINTS, what=f"a number from 0 to {MAX_POINTS:,}"),
            prompt=self.text(w + ("prompt",), p["prompt"]) if "prompt" in p else "",
            form=form, signature=signature,
            partial_credit=self.partial_credit(w + ("partial_credit",),
                                               p.get("partial_credit"), lines),
            mistakes=self.mistakes(w + ("mistakes",), p.get("mistakes"), lines),
            hints=tuple(self.text(w + ("hints", j), h) for j, h in
                        enumerate(self.items(w + ("hints",), p.get("hints"), "strings"))),
            forbid=tuple(self.name(w + ("forbid", j), f, "a function name") for j, f in
                         enumerate(self.items(w + ("forbid",), p.get("forbid"), "names"))),
            domains=self.domains(w + ("domain",), p.get("domain"), lines),
            tolerance=(self.tolerance(w + ("tolerance",), p["tolerance"], set_tolerance)
                       if "tolerance" in p else None),
            timeout=(self.number(w + ("timeout",), p["timeout"], 0, MAX_TIMEOUT, above=True,
                                 what=_SECONDS) if "timeout" in p else None),
            visibility=(self.choice(w + ("visibility",), p["visibility"], VISIBILITIES)
                        if "visibility" in p else self.visibility),
            location=Location(src.path, src.line(w)),
            key_lines=tuple((k, v) for k, v in lines.items() if v is not None))

    def wrt(self, where: Path, value: Any) -> tuple[tuple[str, ...], bool]:
        """One symbol, or a list of scalars meaning their stack as a column vector."""
        if not isinstance(value, list):
            return (self.symbol_ref(where, value),), False
        if not value:
            raise self.fail(where, "a symbol name or a list of scalar symbol names", value)
        for j, name in enumerate(value):
            decl = self.symbols[self.symbol_ref(where + (j,), name)]
            if name in value[:j]:
                raise self.src.error(where + (j,), f"{name!r} is listed twice; remove one")
            if decl.shape is not None:
                raise self.src.error(where + (j,), f"{name!r} has shape "
                                     f"{shape_text(decl.shape)}, but a list of wrt takes only "
                                     f"scalars (stacked into a column); to differentiate "
                                     f"by {name}, write wrt: {name}")
        return tuple(value), True

    def at(self, where: Path, value: Any, lines: dict[str, int | None]
           ) -> tuple[tuple[str, Any], ...]:
        pairs = []
        for name, given in self.mapping(where, value).items():
            line = lines[f"at.{name}"] = self.src.key_line(where + (name,))
            decl = self.symbols[self.symbol_ref(where, name, line)]
            pairs.append((name, self.at_value(where + (name,), decl, given)))
        return tuple(pairs)

    def form(self, w: Path, p: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
        form = self.choice(w + ("form",), p.get("form", PROBLEM.default("form")),
                           ("expression", "function"))
        names = self.items(w + ("signature",), p.get("signature"), "symbol names")
        for j, name in enumerate(names):
            self.symbol_ref(w + ("signature", j), name)
            if name in names[:j]:
                raise self.src.error(w + ("signature", j), f"{name!r} is listed twice")
        if form == "function" and not names:
            raise self.src.error(w + ("form",), "'function' needs a signature: the symbols "
                                 "the function takes, in order; add for example: "
                                 + PROBLEM.field("signature").example)
        if names and form != "function":
            raise self.src.error(w + ("signature",), "only a 'form: function' problem takes "
                                 "a signature; add 'form: function' or remove the signature")
        return form, tuple(names)

    def partial_credit(self, where: Path, value: Any, lines: dict[str, int | None]
                       ) -> tuple[tuple[str, float], ...]:
        pairs = []
        for code, credit in self.mapping(where, value).items():
            line = lines[f"partial_credit.{code}"] = self.src.key_line(where + (code,))
            if code not in DIAGNOSES:
                close = difflib.get_close_matches(code, DIAGNOSES, n=1)
                hint = (f"did you mean {close[0]!r}?" if close else
                        "the codes are " + ", ".join(DIAGNOSES))
                raise self.src.error(where, f"{code!r} is not a diagnosis code; {hint}", line)
            pairs.append((code, self.number(where + (code,), credit, 0, 1, what=_FRACTION)))
        return tuple(pairs)

    def mistakes(self, where: Path, value: Any, lines: dict[str, int | None]
                 ) -> tuple[Mistake, ...]:
        read = []
        for j, item in enumerate(self.items(where, value, "mistakes")):
            w = where + (j,)
            spec = self.mapping(w, item, MISTAKE)
            lines[f"mistakes[{j}]"] = self.src.line(w)
            lines.update({f"mistakes[{j}].{k}": self.src.key_line(w + (k,)) for k in spec})
            credit = spec.get("credit", MISTAKE.default("credit"))
            read.append(Mistake(self.expression(w + ("answer",), spec["answer"]),
                                self.text(w + ("feedback",), spec["feedback"]),
                                self.number(w + ("credit",), credit, 0, 1, what=_FRACTION),
                                Location(self.src.path, self.src.line(w))))
        return tuple(read)

    def domains(self, where: Path, value: Any, lines: dict[str, int | None]
                ) -> tuple[tuple[str, Domain], ...]:
        pairs = []
        for name, domain in self.mapping(where, value).items():
            line = lines[f"domain.{name}"] = self.src.key_line(where + (name,))
            self.symbol_ref(where, name, line)
            pairs.append((name, self.domain(where + (name,), domain)))
        return tuple(pairs)
