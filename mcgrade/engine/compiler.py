"""Compiling a problem set: every problem's reference, at every size, computed once.

``compile_problem_set`` turns a ProblemSet into a ``CompiledSet`` (``mcgrade.engine.
reference``): for every problem, the reference value (sympy) and its values at the sample
points (numpy) at each size assignment, plus the author's mistakes evaluated at the same
points. Grading a submission then only evaluates the submission's answers. Read from the
compile cache (``mcgrade.engine.cache``) where it holds the set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from mcgrade.engine import cache, conventions, forward, instances, numeric, symbolic
from mcgrade.engine.reference import CompiledSet, Deferred, Instance, Reference
from mcgrade.errors import ExpressionError, ProblemSetError
from mcgrade.expressions import Expression, Scope, compile_expression
from mcgrade.model import Dim, Mistake, Problem, ProblemSet

POOL = 4          # candidate points drawn per point kept
# Above this estimate of symbolic work (expression-tree nodes of the `of` expression's
# exact value, ``Expression.exact_cost``, times the entries differentiated by: once for a
# derivative, squared for a Hessian), an instance's reference comes from forward-mode
# differentiation instead of sympy. Known before anything is built, so the choice is the
# same on every machine. Every instance of the course sets is below it (the largest,
# the Hessian of x.T @ A @ x at n = 5, is 13,525); log(det(Y)) at n = 5 (150,675) and the
# hard set's inv and det at n = 8 (up to 5·10⁹) are above.
FORWARD_WORK = 100_000


@dataclass(frozen=True)
class _Values:
    """How an instance's reference is known: ``at_points(samples, env)`` gives its values
    (None for a shape problem) and its kink arguments' values there; the sympy path also
    has the value, its kink arguments and its branches (None on the forward path)."""

    at_points: Callable[[instances.Samples, Mapping[str, Any]],
                        tuple[np.ndarray | None, np.ndarray]]
    value: Any
    kinks: tuple[Any, ...] | None
    branches: Callable[[instances.Samples, Mapping[str, Any]],
                       dict[str, np.ndarray]] | None


def scope_of(problem_set: ProblemSet) -> Scope:
    symbols = {s.name: (s.shape if s.shape is not None else (1, 1)) for s in problem_set.symbols}
    return Scope(symbols, frozenset(d.name for d in problem_set.dimensions))


def compile_problem_set(problem_set: ProblemSet, salt: str = "") -> CompiledSet:
    """Every problem's reference; raises ProblemSetError at the first problem that fails.
    A ``salt`` draws other sample points than grading does (``mcgrade publish`` stores
    points in the student copy, and grading must not use those). Read from the compile
    cache (``mcgrade.engine.cache``) where it holds this set, and written to it if not."""
    scope = scope_of(problem_set)
    name = cache.key(problem_set, salt)
    stored = cache.read(name) if name else None
    if stored is not None:
        try:
            return _from_cache(problem_set, scope, salt, stored)
        except Exception:      # noqa: BLE001 — whatever is wrong with it, compile afresh
            pass
    references = {}
    for index, problem in enumerate(problem_set.problems):
        references[problem.id] = compile_problem(problem_set, index, scope, salt)
    compiled = CompiledSet(problem_set, scope, references)
    if name:
        cache.write(name, _to_cache(compiled))
    return compiled


def _from_cache(problem_set: ProblemSet, scope: Scope, salt: str, stored: dict[str, Any]
                ) -> CompiledSet:
    problems = stored.get("problems")
    if not isinstance(problems, list) or [p.get("id") if isinstance(p, dict) else None
                                          for p in problems] != [
                                              p.id for p in problem_set.problems]:
        raise cache.Invalid("other problems")
    references = {}
    for index, (problem, entry) in enumerate(zip(problem_set.problems, problems)):
        instances_stored = entry.get("instances")
        if not isinstance(instances_stored, list):
            raise cache.Invalid("no instances")
        references[problem.id] = _Compiler(problem_set, scope, problem, index,
                                           salt).reference(instances_stored)
    return CompiledSet(problem_set, scope, references)


def _to_cache(compiled: CompiledSet) -> dict[str, Any]:
    return {"problems": [{"id": pid, "instances": [_stored(i) for i in r.instances]}
                         for pid, r in compiled.references.items()]}


def _stored(instance: Instance) -> dict[str, Any]:
    """What the cache keeps of an instance (``_Compiler.stored_instance`` reads it)."""
    value_text, kink_texts = (None, None) if instance.forward else cache.symbolic_out(
        instance.value, instance.kinks)
    return {
        "sizes": dict(instance.sizes), "count": instance.samples.count,
        "forward": instance.forward,
        "samples": cache.arrays_out(instance.samples.values),
        "expected": (cache.array_out(instance.expected) if instance.expected is not None
                     else None),
        "kink_values": cache.array_out(instance.kink_values),
        "unreached": instance.unreached_sides,
        "branches": cache.arrays_out(instance.branches),
        "value": value_text, "kinks": kink_texts}


def compile_problem(problem_set: ProblemSet, index: int, scope: Scope | None = None,
                    salt: str = "") -> Reference:
    """One problem's reference, so that ``mcgrade validate`` can report every broken
    problem of a set rather than the first."""
    return _Compiler(problem_set, scope or scope_of(problem_set),
                     problem_set.problems[index], index, salt).reference()


class _Compiler:
    def __init__(self, problem_set: ProblemSet, scope: Scope, problem: Problem, index: int,
                 salt: str = ""):
        self.set, self.scope, self.problem, self.index = problem_set, scope, problem, index
        self.salt = salt

    def error(self, key: str, message: str) -> ProblemSetError:
        """``file:line: problems[2] (id='q') → derivative → of: message``."""
        crumb = f"problems[{self.index}] (id={self.problem.id!r})"
        if key in ("of", "wrt") and self.problem.kind != "answer":
            crumb += f" → {self.problem.kind}"
        parent, _, leaf = key.rpartition(".")
        if parent:
            crumb += f" → {parent}"
        return ProblemSetError(f"{leaf}: {message}", self.set.path, self.problem.line_of(key),
                               crumb)

    def compile(self, key: str, text: str) -> Expression:
        try:
            return compile_expression(text, self.scope)
        except ExpressionError as exc:
            raise self.error(key, f"{exc} in {text!r}") from None

    def reference(self, stored: list[Any] | None = None) -> Reference:
        """The reference, its instances built (or, from ``stored``, read back: the compile
        cache's entries for this problem, checked as they are read)."""
        problem = self.problem
        main_key = "answer" if problem.kind == "answer" else "of"
        source = self.compile(main_key, (problem.answer if problem.kind == "answer"
                                         else problem.of) or "")
        arrangement, shape = self.arrangement(source)
        self.shape = shape
        mistakes = tuple((m, self.compile(f"mistakes[{i}].answer", m.answer))
                         for i, m in enumerate(problem.mistakes))
        at = self.at_values()
        pinned = self.pinned_sizes(at)
        built = []
        involved = source.symbols | set(problem.wrt) | {
            name for _, e in mistakes for name in e.symbols}
        relevant = frozenset(d for name in involved for d in self.scope.symbols[name]
                             if isinstance(d, str)) | _dimension_names(source, mistakes)
        assignments = instances.size_assignments(self.set, pinned, relevant)
        if stored is not None and len(stored) != len(assignments):
            raise cache.Invalid("another number of instances")
        for step, sizes in enumerate(assignments):
            for key, expression in ((main_key, source), *((f"mistakes[{i}].answer", e)
                                                           for i, (_, e) in enumerate(mistakes))):
                try:
                    expression.check_sizes(sizes)
                except ExpressionError as exc:
                    raise self.error(key, str(exc)) from None
            built.append(self.instance(source, sizes, at) if stored is None
                         else self.stored_instance(source, sizes, at, stored[step]))
        mistake_values = tuple(
            tuple(e.to_numpy(i.samples.values, i.sizes, i.samples.count) for i in built)
            for _, e in mistakes)
        return Reference(problem, shape, arrangement, tuple(built), mistakes, mistake_values,
                         frozenset(involved), tuple(self.set.symbols),
                         f"{self.set.title}\x1f{self.salt}", source)

    def wrt_shape(self) -> tuple[Dim, Dim]:
        wrt = self.problem.wrt
        if self.problem.wrt_is_list:
            for name in wrt:
                if self.scope.symbols[name] != (1, 1):
                    raise self.error("wrt", f"a wrt list stacks scalars, but {name!r} is "
                                     f"{'×'.join(map(str, self.scope.symbols[name]))}; "
                                     "differentiate by it on its own")
            return (len(wrt), 1)
        return self.scope.symbols[wrt[0]]

    def arrangement(self, source: Expression
                    ) -> tuple[conventions.Arrangement | None, tuple[Dim, Dim]]:
        kind = self.problem.kind
        if kind == "answer":
            return None, source.shape
        try:
            if kind == "hessian":
                if source.shape != (1, 1):
                    raise conventions.TensorDerivativeError("a Hessian needs a scalar function")
                return None, conventions.hessian_shape(self.wrt_shape())
            arrangement = conventions.arrange(source.shape, self.wrt_shape(), self.set.layout)
        except conventions.TensorDerivativeError as exc:
            raise self.error("of", str(exc)) from None
        return arrangement, arrangement.shape

    def at_values(self) -> dict[str, Any]:
        values = {}
        for name, raw in self.problem.at:
            if isinstance(raw, str):
                values[name] = self.compile("at", raw)
            else:
                values[name] = _to_sympy_number(raw)
        return values

    def pinned_sizes(self, at: Mapping[str, Any]) -> dict[str, int]:
        pinned: dict[str, int] = {}
        for name, value in at.items():
            declared = self.scope.symbols[name]
            given = value.shape if isinstance(value, sp.MatrixBase) else (1, 1)
            if isinstance(value, Expression):
                continue
            for dim, size in zip(declared, given):
                if isinstance(dim, str):
                    if pinned.get(dim, size) != size:
                        raise self.error("at", f"the values given make {dim} both "
                                         f"{pinned[dim]} and {size}")
                    pinned[dim] = size
                elif dim != size:
                    raise self.error("at", f"{name} is {'×'.join(map(str, declared))} but the "
                                     f"value given is {given[0]}×{given[1]}")
        return pinned

    def instance(self, source: Expression, sizes: dict[str, int], at: Mapping[str, Any]
                 ) -> Instance:
        env, bound, structure = self.environment(source, sizes, at)
        if self.uses_forward(source, env, sizes):
            return self.sample(sizes, env, bound, structure, at,
                               self.forward_values(source, sizes))
        value, kinks = self.symbolic_value(source, sizes, env, bound, at)
        return self.sample(sizes, env, bound, structure, at, self.sympy_values(value, kinks))

    def stored_instance(self, source: Expression, sizes: dict[str, int],
                        at: Mapping[str, Any], entry: Any) -> Instance:
        """An instance read back from the compile cache; cache.Invalid if ``entry`` is not
        what ``_stored`` writes for it."""
        env, bound, structure = self.environment(source, sizes, at)
        if not isinstance(entry, dict) or entry.get("sizes") != sizes:
            raise cache.Invalid("other sizes")
        count = entry.get("count")
        if type(count) is not int or not 1 <= count <= instances.POINTS:
            raise cache.Invalid("bad count")
        values = cache.arrays_in(entry.get("samples"), count)
        if list(values) != [d.name for d in self.set.symbols] or any(
                values[d.name].shape != (count, *instances.resolve(d.shape, sizes))
                for d in self.set.symbols):
            raise cache.Invalid("other symbols")
        shape = instances.resolve(self.shape, sizes)
        expected = (None if self.problem.kind == "shape"
                    else cache.array_in(entry.get("expected"), (count, *shape)))
        kink_values = cache.array_in(entry.get("kink_values"))
        branches = cache.arrays_in(entry.get("branches"), count)
        unreached = entry.get("unreached")
        is_forward = entry.get("forward")
        if (kink_values.ndim != 2 or kink_values.shape[0] != count
                or type(unreached) is not int or not isinstance(is_forward, bool)
                or not set(branches) <= {"positive", "negative"}
                or any(b.shape != (count, *shape) for b in branches.values())
                or (is_forward and (kink_values.shape[1] or branches))):
            raise cache.Invalid("bad instance")
        symbolic_part: Any = None
        if not is_forward:
            value_text, kink_texts = entry.get("value"), entry.get("kinks")

            def compute() -> tuple[Any, tuple[Any, ...]]:
                read = cache.symbolic_in(value_text, kink_texts)
                return read if read is not None else self.symbolic_value(
                    source, sizes, env, bound, at)
            symbolic_part = Deferred(compute)
        return Instance(
            sizes=sizes, env=bound, symbolic=symbolic_part, shape=shape,
            samples=instances.Samples(values, count), expected=expected,
            structure=structure, kink_terms=symbolic_part if symbolic_part else (),
            kink_values=kink_values, unreached_sides=unreached,
            declared_shapes=self.scope.symbols, branches=branches, forward=is_forward)

    def environment(self, source: Expression, sizes: Mapping[str, int],
                    at: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any],
                                                    dict[Any, Any]]:
        """The symbols' sympy values at these sizes; the same with `at` symbols bound to
        their numbers; the symmetric and diagonal matrices' entry relations."""
        domains = dict(self.problem.domains)
        env = {d.name: instances.symbol_value(d, sizes, domains.get(d.name, d.domain))
               for d in self.set.symbols}
        structure: dict[Any, Any] = {}
        for decl in self.set.symbols:
            structure.update(instances.structure_substitution(decl, env[decl.name]))
        bound = dict(env)
        for name, given in at.items():
            bound[name] = given.to_sympy(env, sizes) if isinstance(given, Expression) else given
        return env, bound, structure

    def uses_forward(self, source: Expression, env: Mapping[str, Any],
                     sizes: Mapping[str, int]) -> bool:
        """Whether this instance's reference is too costly to build symbolically
        (``FORWARD_WORK``): a deterministic estimate, never a timer."""
        problem = self.problem
        entries = 1
        if problem.kind in ("derivative", "hessian"):
            entries = sum(r * c for r, c in (instances.resolve(self.scope.symbols[name], sizes)
                                             for name in problem.wrt))
        factor = entries * entries if problem.kind == "hessian" else entries
        return source.exact_cost(env, sizes) * factor > FORWARD_WORK

    def symbolic_value(self, source: Expression, sizes: Mapping[str, int],
                       env: Mapping[str, Any], bound: Mapping[str, Any],
                       at: Mapping[str, Any]) -> tuple[Any, tuple[Any, ...]]:
        """The reference's sympy value (None for a shape problem) and its kink arguments."""
        of_value = source.to_sympy(env, sizes)
        value = self.differentiate(of_value, env) if self.problem.kind != "shape" else None
        substitution: dict[Any, Any] = {}
        for name in at:
            substitution.update(zip(_entries(env[name]), _entries(bound[name])))
        if value is not None and substitution:
            value = value.xreplace(substitution)
        return value, _kink_arguments(of_value, value)

    def differentiate(self, of_value: Any, env: Mapping[str, Any]) -> Any:
        problem = self.problem
        if problem.kind == "answer":
            return of_value
        wrt = (conventions.stack([env[n] for n in problem.wrt]) if problem.wrt_is_list
               else env[problem.wrt[0]])
        if problem.kind == "hessian":
            return conventions.hessian(of_value, wrt)
        return conventions.derivative(of_value, wrt, self.set.layout)

    def sympy_values(self, value: Any, kinks: tuple[Any, ...]) -> _Values:
        """The reference at candidate points from its sympy value."""
        def at_points(samples: instances.Samples, env: Mapping[str, Any]
                      ) -> tuple[np.ndarray | None, np.ndarray]:
            table, count = samples.by_symbol(env), samples.count
            kink_values = np.stack([numeric.evaluate_scalar(k, table, count) for k in kinks],
                                   axis=1) if kinks else np.zeros((count, 0))
            expected = (numeric.evaluate_value(value, table, count) if value is not None
                        else None)
            return expected, kink_values

        def branches(samples: instances.Samples, env: Mapping[str, Any]
                     ) -> dict[str, np.ndarray]:
            return _branches(value, samples.by_symbol(env), samples.count)
        return _Values(at_points, value, kinks, branches)

    def forward_values(self, source: Expression, sizes: Mapping[str, int]) -> _Values:
        """The reference at candidate points by forward-mode differentiation."""
        problem = self.problem

        def at_points(samples: instances.Samples, env: Mapping[str, Any]
                      ) -> tuple[np.ndarray | None, np.ndarray]:
            kind = problem.kind
            found = forward.reference_values(
                source, "answer" if kind == "shape" else kind, problem.wrt,
                problem.wrt_is_list, self.set.layout, samples.values, sizes, samples.count)
            return (found.values if kind != "shape" else None), found.kinks
        return _Values(at_points, None, None, None)

    def sample(self, sizes: dict[str, int], env: dict[str, Any], bound: dict[str, Any],
               structure: Mapping[Any, Any], at: Mapping[str, Any], values: _Values
               ) -> Instance:
        problem, count = self.problem, instances.POINTS
        rng = np.random.default_rng(instances.seed_for(
            self.set.title, problem.id, sizes, *((self.salt,) if self.salt else ())))
        domains = dict(problem.domains)
        pool_size = count * POOL
        pool = {d.name: instances.draw_symbol(rng, d, domains.get(d.name, d.domain), sizes,
                                              pool_size) for d in self.set.symbols}
        for name, number in bound.items():
            if name in at:
                fixed = np.array(sp.Matrix([[number]]) if not isinstance(number, sp.MatrixBase)
                                 else number, dtype=float)
                pool[name] = np.broadcast_to(fixed, (pool_size, *fixed.shape)).copy()
        candidates = instances.Samples(pool, pool_size)
        found, kink_values = values.at_points(candidates, env)
        expected = found if found is not None else np.zeros((pool_size, 1, 1))
        kinked = kink_values.shape[1] > 0
        finite = np.all(np.isfinite(expected.reshape(pool_size, -1)), axis=1)
        kink_values = np.where(finite[:, None], kink_values, 0.0)   # 0: never chosen
        if not kinked:
            kink_values = np.where(finite[:, None], 1.0, 0.0)
        chosen, unreached = instances.choose_points(kink_values, count, rng)
        if not chosen:
            raise self.error(self._main_key(), "no sample point inside the symbols' domains "
                             "gives a finite reference; declare a domain (e.g. "
                             "'domain: positive') for the symbols involved")
        shape = instances.resolve(self.shape, sizes)
        samples = candidates.take(chosen)
        symbolic_kinks = values.kinks if values.kinks is not None else ()
        return Instance(
            sizes=sizes, env=bound, symbolic=values.value, shape=shape,
            samples=samples,
            expected=expected[chosen] if found is not None else None,
            structure=structure, kink_terms=symbolic_kinks,
            kink_values=(kink_values[chosen][:, :len(symbolic_kinks)]),
            unreached_sides=unreached if kinked else 0,
            declared_shapes=self.scope.symbols,
            branches=(values.branches(samples, env) if values.branches is not None else {}),
            forward=values.kinks is None)

    def _main_key(self) -> str:
        return "answer" if self.problem.kind == "answer" else "of"


def _branches(value: Any, table: Mapping[Any, np.ndarray], count: int
              ) -> dict[str, np.ndarray]:
    """A kinked reference's formula on each side of its kinks, evaluated everywhere: an
    answer equal to one of these is 'right on one branch only'."""
    if value is None:
        return {}
    kinks = symbolic.kinks(value)
    if not kinks or len(kinks) > symbolic.MAX_KINKS:
        return {}
    found = {}
    for side, sign in (("positive", 1), ("negative", -1)):
        resolved = symbolic.resolve(value, dict.fromkeys(kinks, sign))
        if resolved is not None:
            found[side] = numeric.evaluate_value(resolved, table, count)
    return found


def _dimension_names(source: Expression, mistakes: tuple[tuple[Mistake, Expression], ...]
                     ) -> frozenset[str]:
    """Dimension names an expression uses directly (ones(n), n * x…)."""
    names: set[str] = set()
    for expression in (source, *(e for _, e in mistakes)):
        stack = [expression.root]
        while stack:
            node = stack.pop()
            names.update(d for d in node.shape if isinstance(d, str))
            stack.extend(node.args)
    return frozenset(names)


def _entries(value: Any) -> list[Any]:
    return list(value) if isinstance(value, sp.MatrixBase) else [value]


def _to_sympy_number(raw: Any) -> Any:
    """A number or nested tuple from YAML → an exact sympy value (1-D lists are columns)."""
    def exact(x: Any) -> Any:
        return sp.Rational(str(x)) if isinstance(x, float) else sp.Integer(x)
    if isinstance(raw, (int, float)):
        return exact(raw)
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in raw]
    matrix = sp.ImmutableMatrix([[exact(x) for x in row] for row in rows])
    return matrix[0, 0] if matrix.shape == (1, 1) else matrix


def _kink_arguments(*values: Any) -> tuple[Any, ...]:
    """The arguments whose sign switches a branch: relu/Max/Min/Abs/sign/Heaviside and
    Piecewise conditions. Each is kept once, up to sign."""
    found: list[Any] = []

    def add(argument: Any) -> None:
        argument = sp.expand(argument)
        if argument.is_number:
            return
        if argument.could_extract_minus_sign():
            argument = -argument
        if argument not in found:
            found.append(argument)

    for value in values:
        for entry in _entries(value) if value is not None else []:
            for node in sp.preorder_traversal(entry):
                if isinstance(node, (sp.Heaviside, sp.Abs, sp.sign, sp.DiracDelta)):
                    add(node.args[0])
                elif isinstance(node, (sp.Max, sp.Min)):
                    for i, first in enumerate(node.args):
                        for second in node.args[i + 1:]:
                            add(first - second)
                elif isinstance(node, sp.Piecewise):
                    for _, cond in node.args:
                        if isinstance(cond, sp.core.relational.Relational):
                            add(cond.lhs - cond.rhs)
    return tuple(found)
