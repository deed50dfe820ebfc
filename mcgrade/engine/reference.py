"""References: what each problem's answer must be, at every size, computed once per set.

``compile_problem_set`` turns a ProblemSet into a ``CompiledSet``: for every problem, the
reference value (sympy) and its values at the sample points (numpy) at each size
assignment, plus the author's mistakes evaluated at the same points. Grading a submission
then only evaluates the submission's answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import sympy as sp

from mcgrade.engine import conventions, instances, numeric, symbolic
from mcgrade.errors import ExpressionError, ProblemSetError
from mcgrade.expressions import Expression, Scope, compile_expression
from mcgrade.model import Dim, Mistake, Problem, ProblemSet, SymbolDecl

POOL = 4          # candidate points drawn per point kept


@dataclass(frozen=True)
class Instance:
    """One problem at one size assignment."""

    sizes: Mapping[str, int]
    env: Mapping[str, Any]            # symbol → sympy value, `at` symbols bound to numbers
    value: Any                        # the reference (sympy); None for shape problems
    shape: tuple[int, int]
    samples: instances.Samples        # symbol → (K, rows, cols); `at` symbols fixed
    expected: np.ndarray | None       # the reference at the samples, (K, rows, cols)
    structure: Mapping[Any, Any]      # symmetric/diagonal entries, for symbolic checks
    kinks: tuple[Any, ...]            # kink arguments (sympy), for branch diagnoses
    kink_values: np.ndarray           # (K, len(kinks))
    unreached_sides: int              # kink sides no sample point reached
    declared_shapes: Mapping[str, tuple[Dim, Dim]]   # symbol → declared shape
    branches: Mapping[str, np.ndarray]   # "positive"/"negative": the reference with every
                                          # kink on that side, at the samples


@dataclass(frozen=True)
class Reference:
    problem: Problem
    shape: tuple[Dim, Dim]            # symbolic shape of the answer
    arrangement: conventions.Arrangement | None
    instances: tuple[Instance, ...]
    mistakes: tuple[tuple[Mistake, Expression], ...]
    mistake_values: tuple[tuple[np.ndarray, ...], ...]   # [mistake][instance] → (K, r, c)
    symbols: frozenset[str]           # the symbols the problem is about
    declarations: tuple[SymbolDecl, ...] = ()   # the set's symbols, for exact checks
    set_key: str = ""                 # the set's title: seeds the exact check's points


@dataclass(frozen=True)
class CompiledSet:
    problem_set: ProblemSet
    scope: Scope
    references: Mapping[str, Reference]


def scope_of(problem_set: ProblemSet) -> Scope:
    symbols = {s.name: (s.shape if s.shape is not None else (1, 1)) for s in problem_set.symbols}
    return Scope(symbols, frozenset(d.name for d in problem_set.dimensions))


def compile_problem_set(problem_set: ProblemSet, salt: str = "") -> CompiledSet:
    """Every problem's reference; raises ProblemSetError at the first problem that fails.
    A ``salt`` draws other sample points than grading does (``mcgrade publish`` stores
    points in the student copy, and grading must not use those)."""
    scope = scope_of(problem_set)
    references = {}
    for index, problem in enumerate(problem_set.problems):
        references[problem.id] = compile_problem(problem_set, index, scope, salt)
    return CompiledSet(problem_set, scope, references)


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

    def reference(self) -> Reference:
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
        for sizes in instances.size_assignments(self.set, pinned, relevant):
            for key, expression in ((main_key, source), *((f"mistakes[{i}].answer", e)
                                                           for i, (_, e) in enumerate(mistakes))):
                try:
                    expression.check_sizes(sizes)
                except ExpressionError as exc:
                    raise self.error(key, str(exc)) from None
            built.append(self.instance(source, sizes, at))
        mistake_values = tuple(
            tuple(e.to_numpy(i.samples.values, i.sizes, i.samples.count) for i in built)
            for _, e in mistakes)
        return Reference(problem, shape, arrangement, tuple(built), mistakes, mistake_values,
                         frozenset(involved), tuple(self.set.symbols),
                         f"{self.set.title}\x1f{self.salt}")

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
        problem = self.problem
        domains = dict(problem.domains)
        env = {d.name: instances.symbol_value(d, sizes, domains.get(d.name, d.domain))
               for d in self.set.symbols}
        structure: dict[Any, Any] = {}
        for decl in self.set.symbols:
            structure.update(instances.structure_substitution(decl, env[decl.name]))
        of_value = source.to_sympy(env, sizes)
        value = self.differentiate(of_value, env) if problem.kind != "shape" else None
        bound = dict(env)
        substitution: dict[Any, Any] = {}
        for name, given in at.items():
            number = given.to_sympy(env, sizes) if isinstance(given, Expression) else given
            bound[name] = number
            substitution.update(zip(_entries(env[name]), _entries(number)))
        if value is not None and substitution:
            value = value.xreplace(substitution)
        kinks = _kink_arguments(of_value, value)
        return self.sample(sizes, env, bound, value, structure, kinks, at)

    def differentiate(self, of_value: Any, env: Mapping[str, Any]) -> Any:
        problem = self.problem
        if problem.kind == "answer":
            return of_value
        wrt = (conventions.stack([env[n] for n in problem.wrt]) if problem.wrt_is_list
               else env[problem.wrt[0]])
        if problem.kind == "hessian":
            return conventions.hessian(of_value, wrt)
        return conventions.derivative(of_value, wrt, self.set.layout)

    def sample(self, sizes: dict[str, int], env: dict[str, Any], bound: dict[str, Any],
               value: Any, structure: Mapping[Any, Any], kinks: tuple[Any, ...],
               at: Mapping[str, Any]) -> Instance:
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
        table = candidates.by_symbol(env)
        kink_values = np.stack([numeric.evaluate_scalar(k, table, pool_size) for k in kinks],
                               axis=1) if kinks else np.zeros((pool_size, 0))
        expected = (numeric.evaluate_value(value, table, pool_size) if value is not None
                    else np.zeros((pool_size, 1, 1)))
        finite = np.all(np.isfinite(expected.reshape(pool_size, -1)), axis=1)
        kink_values = np.where(finite[:, None], kink_values, 0.0)   # 0: never chosen
        if not kinks:
            kink_values = np.where(finite[:, None], 1.0, 0.0)
        chosen, unreached = instances.choose_points(kink_values, count, rng)
        if not chosen:
            raise self.error(self._main_key(), "no sample point inside the symbols' domains "
                             "gives a finite reference; declare a domain (e.g. "
                             "'domain: positive') for the symbols involved")
        shape = instances.resolve(self.shape, sizes)
        samples = candidates.take(chosen)
        return Instance(
            sizes=sizes, env=bound, value=value, shape=shape,
            samples=samples,
            expected=expected[chosen] if value is not None else None,
            structure=structure, kinks=kinks,
            kink_values=kink_values[chosen][:, :len(kinks)],
            unreached_sides=unreached if kinks else 0,
            declared_shapes=self.scope.symbols,
            branches=_branches(value, samples.by_symbol(env), samples.count))

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
        resolved = symbolic.resolve(value, {k: sign for k in kinks})
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
