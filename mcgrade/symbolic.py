"""Symbolic confirmation: prove that reference − answer is zero, within a budget.

A ladder of cheap to costly steps: structural zero, ``expand``, ``cancel``, then
``simplify`` only while the budget lasts. Kinked expressions (relu, Max, Abs, Heaviside,
sign, Piecewise) are split into regions by the sign of each kink argument and each smooth
region is proved on its own: sympy's ``simplify``/``equals`` can't show that a Piecewise
and a Heaviside form of a ReLU derivative agree, and take seconds to fail.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterable

import sympy as sp

from mcgrade.budget import BudgetExceeded, TimeBudget

MAX_KINKS = 6                    # 2**6 regions at most
MAX_OPS_UNGUARDED = 400          # without a timer, only expressions this small are tried
_KINKED = (sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign, sp.Piecewise, sp.DiracDelta)


def prove_equal(reference: Any, answer: Any, structure: dict[Any, Any],
                budget: TimeBudget) -> bool:
    """True if every entry of reference − answer is provably zero; False if not proved
    (which is not a proof of difference)."""
    left = _entries(reference)
    right = _entries(answer)
    if len(left) != len(right):
        return False
    try:
        return all(_is_zero(_expr(a - b).xreplace(structure), budget)
                   for a, b in zip(left, right))
    except (BudgetExceeded, RecursionError, MemoryError, ZeroDivisionError,
            TypeError, ValueError, AttributeError):
        return False


def _expr(value: Any) -> Any:
    """A sympy number for a plain one (entries are sympy already; text never gets here)."""
    return value if isinstance(value, sp.Basic) else sp.Rational(value)


def _entries(value: Any) -> list[Any]:
    return list(value) if isinstance(value, sp.MatrixBase) else [value]


def _is_zero(difference: Any, budget: TimeBudget) -> bool:
    if difference == 0:
        return True
    if not budget.enforced and sp.count_ops(difference) > MAX_OPS_UNGUARDED:
        return False
    if difference.has(*_KINKED):
        return _zero_in_every_region(difference, budget)
    return _smooth_zero(difference, budget)


def _smooth_zero(difference: Any, budget: TimeBudget) -> bool:
    with budget.guard():
        if difference.has(sp.exp):
            # rational in exponentials: cheapest as a rational function of fresh symbols
            if sp.cancel(sp.together(_exp_as_symbols(difference))) == 0:
                return True
        elif sp.expand(difference) == 0:
            return True
        if sp.cancel(sp.together(difference)) == 0:
            return True
    if not budget.enforced:
        return False
    with budget.guard():
        return sp.simplify(difference) == 0


def _exp_as_symbols(expression: Any) -> Any:
    """Each exp(±u) → t_u**±1 with a fresh symbol per argument u (up to sign).

    A zero after this is a zero of the original (the symbols are only freer than the
    exponentials), and rational simplification in plain symbols is far faster: it proves
    sigmoid(z) * (1 - sigmoid(z)) = exp(-z) / (1 + exp(-z))**2 entry by entry.
    """
    generators: dict[Any, Any] = {}

    def generator(e: Any) -> Any:
        argument = sp.expand(e.args[0])
        sign = -1 if argument.could_extract_minus_sign() else 1
        key = -argument if sign < 0 else argument
        if key not in generators:
            generators[key] = sp.Dummy("t")
        return generators[key] ** sign

    return expression.replace(lambda e: isinstance(e, sp.exp), generator)


def _canonical(argument: Any) -> tuple[Any, int]:
    """An argument up to sign: (canonical form, +1 or -1)."""
    expanded = sp.expand(argument)
    if expanded.could_extract_minus_sign():
        return -expanded, -1
    return expanded, 1


def kinks(expression: Any) -> list[Any]:
    found: list[Any] = []
    for node in sp.preorder_traversal(expression):
        arguments: Iterable[Any] = ()
        if isinstance(node, (sp.Heaviside, sp.Abs, sp.sign, sp.DiracDelta)):
            arguments = (node.args[0],)
        elif isinstance(node, (sp.Max, sp.Min)):
            arguments = (a - b for a, b in itertools.combinations(node.args, 2))
        elif isinstance(node, sp.Piecewise):
            arguments = (c.lhs - c.rhs for _, c in node.args
                         if isinstance(c, sp.core.relational.Relational))
        for argument in arguments:
            canonical, _ = _canonical(argument)
            if not canonical.is_number and canonical not in found:
                found.append(canonical)
    return found


def _zero_in_every_region(difference: Any, budget: TimeBudget) -> bool:
    arguments = kinks(difference)
    if len(arguments) > MAX_KINKS:
        return False
    for signs in itertools.product((1, -1), repeat=len(arguments)):
        sign_of = dict(zip(arguments, signs))
        with budget.guard():
            smooth = resolve(difference, sign_of)
        if smooth is None or smooth.has(*_KINKED):
            return False
        if smooth != 0 and not _smooth_zero(smooth, budget):
            return False
    return True


def resolve(expression: Any, sign_of: dict[Any, int]) -> Any:
    """Replace every kinked function by its branch where each kink has the given sign."""
    def sign(argument: Any) -> int | None:
        canonical, flip = _canonical(argument)
        if canonical.is_number:
            value = canonical * flip
            return 1 if value > 0 else -1 if value < 0 else None
        known = sign_of.get(canonical)
        return None if known is None else known * flip

    class Unresolved(Exception):
        pass

    def branch(node: Any) -> Any:
        if isinstance(node, sp.DiracDelta):
            return sp.Integer(0)
        if isinstance(node, (sp.Heaviside, sp.sign, sp.Abs)):
            s = sign(node.args[0])
            if s is None:
                raise Unresolved
            if isinstance(node, sp.Heaviside):
                return sp.Integer(1 if s > 0 else 0)
            if isinstance(node, sp.sign):
                return sp.Integer(s)
            return node.args[0] * s
        if isinstance(node, (sp.Max, sp.Min)):
            best = node.args[0]
            for other in node.args[1:]:
                s = sign(best - other)
                if s is None:
                    raise Unresolved
                keep_best = (s > 0) == isinstance(node, sp.Max)
                best = best if keep_best else other
            return best
        if isinstance(node, sp.Piecewise):
            for value, cond in node.args:
                if cond is sp.true:
                    return value
                if not isinstance(cond, sp.core.relational.Relational):
                    raise Unresolved
                s = sign(cond.lhs - cond.rhs)
                if s is None:
                    raise Unresolved
                holds = {"<": s < 0, "<=": s < 0, ">": s > 0, ">=": s > 0}.get(cond.rel_op)
                if holds is None:
                    raise Unresolved
                if holds:
                    return value
            raise Unresolved
        return node

    try:
        return expression.replace(lambda e: isinstance(e, _KINKED), branch)
    except Unresolved:
        return None
