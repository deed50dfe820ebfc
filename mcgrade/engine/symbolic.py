"""Symbolic confirmation: prove that reference − answer is zero, within a work allowance.

A fixed ladder of steps, each paid for before it runs from the check's allowance
(``mcgrade.engine.budget.Work``) with a cost known in advance: structural zero; logarithms of
products split; trigonometric and hyperbolic functions as exponentials, exponentials as
fresh symbols; then the rational-function test ``expand`` and ``cancel`` make, done in
sparse polynomials so that every product is charged its operands' term counts. Whether
a proof succeeds therefore depends on the expressions alone, never on the machine.
``simplify`` is not used: its cost can't be told in advance (it takes seconds on some
30-node expressions).

Kinked expressions (relu, Max, Abs, Heaviside, sign, Piecewise) are split into regions by
the sign of each kink argument and each smooth region is proved on its own: sympy's
``simplify``/``equals`` can't show that a Piecewise and a Heaviside form of a ReLU
derivative agree, and take seconds to fail.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import sympy as sp
from sympy.polys.domains import QQ, QQ_I
from sympy.polys.rings import PolyElement, ring

from mcgrade.engine.budget import Work, WorkExhausted

MAX_KINKS = 6                    # 2**6 regions at most
MAX_POWER = 64                   # exp(64 u) → t**64 at most, else not proved
_KINKED = (sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign, sp.Piecewise, sp.DiracDelta)
_TRIGONOMETRIC = (sp.sin, sp.cos, sp.tan, sp.cot, sp.sec, sp.csc,
                  sp.sinh, sp.cosh, sp.tanh, sp.coth, sp.sech, sp.csch)
_HUGE = 10 ** 15                 # past any allowance


def prove_equal(reference: Any, answer: Any, structure: dict[Any, Any], work: Work) -> bool:
    """True if every entry of reference − answer is provably zero; False if not proved
    (which is not a proof of difference), including when the work would exceed ``work``."""
    left = _entries(reference)
    right = _entries(answer)
    if len(left) != len(right):
        return False
    try:
        return all(_is_zero(_expr(a - b).xreplace(structure), work)
                   for a, b in zip(left, right))
    except (WorkExhausted, RecursionError, MemoryError, ZeroDivisionError, TypeError,
            ValueError, AttributeError, sp.polys.polyerrors.BasePolynomialError):
        return False


def nodes(expression: Any, limit: int = _HUGE) -> int:
    """The nodes of an expression's tree (a matrix: of all its entries); counting stops
    once past ``limit``, so this costs at most ``limit`` steps."""
    count = 0
    for entry in _entries(expression):
        for _ in sp.preorder_traversal(entry):
            count += 1
            if count > limit:
                return count
    return count


def _expr(value: Any) -> Any:
    """A sympy number for a plain one (entries are sympy already; text never gets here)."""
    return value if isinstance(value, sp.Basic) else sp.Rational(value)


def _entries(value: Any) -> list[Any]:
    return list(value) if isinstance(value, sp.MatrixBase) else [value]


def _is_zero(difference: Any, work: Work) -> bool:
    if difference == 0:
        return True
    if difference.has(*_KINKED):
        return _zero_in_every_region(difference, work)
    return _smooth_zero(difference, work)


def _smooth_zero(difference: Any, work: Work) -> bool:
    """Logarithms of products split, trigonometric and hyperbolic functions as
    exponentials, exponentials as symbols, then the rational-function test. The walks over
    the tree are paid for first."""
    work.spend(nodes(difference, work.left))
    if difference.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return False
    if difference.has(sp.log):               # log(E*x) = 1 + log(x), where x > 0
        difference = sp.expand_log(difference)
    if difference.has(*_TRIGONOMETRIC):
        difference = difference.rewrite(list(_TRIGONOMETRIC), sp.exp)
    if difference.has(sp.exp):
        difference = _exp_as_symbols(difference)
        if difference is None:
            return False
    return _zero_as_fraction(difference, work)


Fraction = tuple[PolyElement, dict[PolyElement, int]]     # numerator, {factor: exponent}


def _zero_as_fraction(expression: Any, work: Work) -> bool:
    """Whether ``expression`` is 0 as a rational function of its generators: its symbols
    and every other part that is not a sum, a product or an integer power (functions,
    fractional powers, constants such as pi). This is the test ``expand`` and ``cancel``
    make, done in sparse polynomials so that each step's cost is known before it runs: a
    product is charged the product of its operands' term counts.

    Denominators stay factored, and a sum brings its terms over the least common multiple
    of those factors; the expression is 0 exactly when its numerator is.
    """
    found: set[Any] = set()
    _generators(expression, found)
    generators = sorted(found, key=sp.default_sort_key) or [sp.Dummy()]
    domain = QQ_I if expression.has(sp.I) else QQ
    polynomials = ring(generators, domain)[0]
    as_polynomial = dict(zip(generators, polynomials.gens))
    fractions: dict[Any, Fraction] = {}

    def fraction(part: Any) -> Fraction:
        if part not in fractions:
            if part.is_Add:
                fractions[part] = _fold(_add, [fraction(a) for a in part.args], work)
            elif part.is_Mul:
                fractions[part] = _fold(_multiply, [fraction(a) for a in part.args], work)
            elif part.is_Pow and part.exp.is_Integer:
                fractions[part] = _power(fraction(part.base), int(part.exp), work)
            elif part in as_polynomial:
                fractions[part] = as_polynomial[part], {}
            else:                                    # a rational (or Gaussian) number
                fractions[part] = polynomials(domain.from_sympy(part)), {}
        return fractions[part]

    return not fraction(expression)[0]


def _generators(expression: Any, found: set[Any]) -> None:
    if expression.is_Add or expression.is_Mul:
        for argument in expression.args:
            _generators(argument, found)
    elif expression.is_Pow and expression.exp.is_Integer:
        _generators(expression.base, found)
    elif not (expression.is_Rational or expression is sp.I):
        found.add(expression)


def _fold(step: Any, fractions: list[Fraction], work: Work) -> Fraction:
    result = fractions[0]
    for other in fractions[1:]:
        result = step(result, other, work)
    return result


def _multiply(a: Fraction, b: Fraction, work: Work) -> Fraction:
    work.spend(len(a[0]) * len(b[0]))
    denominator = dict(a[1])
    for factor, exponent in b[1].items():
        denominator[factor] = denominator.get(factor, 0) + exponent
    return a[0] * b[0], denominator


def _add(a: Fraction, b: Fraction, work: Work) -> Fraction:
    common = dict(a[1])                  # in a fixed order: it decides what each step costs
    for factor, exponent in b[1].items():
        common[factor] = max(common.get(factor, 0), exponent)
    left, right = (_times_missing(x, common, work) for x in (a, b))
    work.spend(len(left) + len(right))
    return left + right, common


def _times_missing(a: Fraction, common: dict[PolyElement, int], work: Work) -> PolyElement:
    """a's numerator over the common denominator: times the factors a's lacks."""
    numerator = a[0]
    for factor, exponent in common.items():
        missing = exponent - a[1].get(factor, 0)
        if missing and numerator:
            power = _power((factor, {}), missing, work)
            numerator = _multiply((numerator, {}), power, work)[0]
    return numerator


def _power(a: Fraction, exponent: int, work: Work) -> Fraction:
    """a ** exponent by repeated squaring, each product charged."""
    if exponent < 0:
        if not a[0]:
            raise ZeroDivisionError
        one = a[0].ring.one
        a = _times_missing((one, {}), a[1], work), {a[0]: 1}
        exponent = -exponent
    result: Fraction = (a[0].ring.one, {})
    while exponent:
        if exponent & 1:
            result = _multiply(result, a, work)
        exponent >>= 1
        if exponent:
            a = _multiply(a, a, work)
    return result


def _exp_as_symbols(expression: Any) -> Any:
    """exp(c₁u₁ + c₂u₂ + …) → t₁**(c₁L₁) · t₂**(c₂L₂) · …, with a fresh symbol t per term u
    (up to sign) standing for exp(u/L), L the least common denominator of u's rational
    factors; None if a power would pass MAX_POWER.

    A zero after this is a zero of the original (the symbols are only freer than the
    exponentials), and rational simplification in plain symbols is far faster: it proves
    sigmoid(z) * (1 - sigmoid(z)) = exp(-z) / (1 + exp(-z))**2 entry by entry, and, with
    trigonometric functions rewritten as exponentials, tanh' = 1/cosh².
    """
    factors: dict[Any, list[tuple[Any, Any]]] = {}
    # in a fixed order (not a set's): the fresh symbols' order decides how sympy orders
    # terms, and so what each step of the rational test costs
    for atom in sorted(expression.atoms(sp.exp), key=sp.default_sort_key):
        for term in sp.Add.make_args(atom.args[0]):
            coefficient, base = term.as_coeff_Mul()
            if not coefficient.is_Rational:
                coefficient, base = sp.Integer(1), term
            if base.could_extract_minus_sign():
                coefficient, base = -coefficient, -base
            factors.setdefault(atom, []).append((base, coefficient))
    denominators: dict[Any, int] = {}
    for parts in factors.values():
        for base, coefficient in parts:
            denominators[base] = sp.ilcm(denominators.get(base, 1), coefficient.q)
    powers = {atom: [(base, coefficient * denominators[base]) for base, coefficient in parts]
              for atom, parts in factors.items()}
    if any(abs(power) > MAX_POWER for parts in powers.values() for _, power in parts):
        return None
    symbols = {base: sp.Dummy("t") for base in denominators}
    return expression.xreplace({atom: sp.Mul(*(symbols[base] ** power for base, power in parts))
                                for atom, parts in powers.items()})


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


def _zero_in_every_region(difference: Any, work: Work) -> bool:
    size = nodes(difference, work.left)
    work.spend(size)
    arguments = kinks(difference)
    if len(arguments) > MAX_KINKS:
        return False
    for signs in itertools.product((1, -1), repeat=len(arguments)):
        work.spend(size)                  # resolving walks the whole tree
        smooth = resolve(difference, dict(zip(arguments, signs)))
        if smooth is None or smooth.has(*_KINKED):
            return False
        if smooth != 0 and not _smooth_zero(smooth, work):
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
