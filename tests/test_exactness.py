"""Exactness: the vocabulary a week-one student writes (and sympy prints), an exact
difference overturning a float agreement, and tolerance 0 meaning exact."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp
from sympy.combinatorics import Permutation

from mcgrade.engine import exact as exact_check
from mcgrade.expressions import Scope, compile_expression
from mcgrade.grading import Grader
from mcgrade.model import Answer
from mcgrade.problemset import load_problem_set, parse_problem_set
from tests.test_grading import check

x, y, z, s = sp.symbols("x y z s")

SYMBOLS = """
symbols:
  x: {domain: [8, 10]}
  y: {domain: [8, 10]}
  z: {}
  s: {domain: positive}
  v: {shape: [3, 1]}
  A: {shape: [3, 3], invertible: true}
"""

SET = "title: Exactness" + SYMBOLS + """problems:
  - id: poly
    answer: "(x + y + 3)**6"
  - id: sech_of
    derivative: {of: "sech(z) + csch(z) + coth(z) + sec(z) + csc(z) + cot(z)", wrt: z}
  - id: inverse_of
    derivative: {of: "asech(1/(z**2 + 2)) + acsch(z) + acoth(z**2 + 2) + asec(z**2 + 2)
                       + acsc(z**2 + 2) + acot(z)", wrt: z}
  - id: surd_key
    answer: "4**(1/2) * z + 2**(1/2) + 1 + 3**(-1/2)"
  - id: diag_key
    answer: "diag(z, 2, z**2)"
  - id: printed_key
    answer: "Piecewise((sech(z), z > 0), (sqrt(2)*z, True)) + Matrix([[z]])[0, 0]"
"""

EXACT_SET = "title: Exactness, tolerance 0\ntolerance: {rtol: 0, atol: 0}" + SYMBOLS + """
problems:
  - {id: quotient, answer: "(x**2 + 3*x*y + 7) / (10*s)"}
  - {id: third, answer: "z / 3"}
  - {id: third_at, derivative: {of: "z**2 / 6", wrt: z}, at: {z: 1}}
  - {id: scaled_vector, answer: "v / 7"}
  - {id: inverse, answer: "inv(A) @ A.T"}
"""


@pytest.fixture(scope="module", name="grader")
def exactness_grader() -> Grader:
    return Grader(parse_problem_set(SET, "exactness.yaml"))


@pytest.fixture(scope="module")
def exact() -> Grader:
    return Grader(parse_problem_set(EXACT_SET, "exact.yaml"))


# --- 1. vocabulary -----------------------------------------------------------------------

@pytest.mark.parametrize("problem, answer", [
    ("sech_of", str(sp.diff(sp.sech(z) + sp.csch(z) + sp.coth(z) + sp.sec(z) + sp.csc(z)
                            + sp.cot(z), z))),
    ("sech_of", ("-tanh(z)*sech(z) - coth(z)*csch(z) + 1 - coth(z)**2 + tan(z)*sec(z)"
                 " - cot(z)*csc(z) - 1 - cot(z)**2")),
    ("inverse_of", str(sp.diff(sp.asech(1 / (z**2 + 2)) + sp.acsch(z) + sp.acoth(z**2 + 2)
                               + sp.asec(z**2 + 2) + sp.acsc(z**2 + 2) + sp.acot(z), z))),
    ("surd_key", "2*z + sqrt(2) + 1 + sqrt(3)/3"),
    ("surd_key", "2*z + 2**0.5 + 1 + 3**(-0.5)"),
    ("diag_key", "Matrix([[z, 0, 0], [0, 2, 0], [0, 0, z**2]])"),
    ("diag_key", str(sp.diag(z, 2, z**2))),
    ("printed_key", "Piecewise((sech(z) + z, z > 0), (sqrt(2)*z + z, True))"),
])
def test_references_and_answers_use_the_whole_vocabulary(grader: Grader, problem: str,
                                                         answer: str) -> None:
    """Keys (`of:` and `answer:`) load with it, and sympy's own printing of them reads
    back as a right answer."""
    verdict = check(grader, problem, answer)
    assert verdict.status == "correct", verdict.feedback


def test_a_wrong_answer_in_the_new_vocabulary_is_still_wrong(grader: Grader) -> None:
    assert check(grader, "surd_key", "2*z + sqrt(3) + 1 + sqrt(2)/2").status == "incorrect"
    assert check(grader, "diag_key", "diag(z, 2, z)").diagnoses == ("not-equivalent",)


@pytest.mark.parametrize("text", ["2**(10**9)", "(1/2)**(10**6)", "z**(2**(1/2)*100)"])
def test_huge_exponents_stay_refused(grader: Grader, text: str) -> None:
    verdict = check(grader, "surd_key", text)
    assert verdict.diagnoses == ("unparseable",)
    assert "too large" in verdict.feedback


# --- 2. an exact difference overturns a float agreement ------------------------------

def test_an_expanded_polynomial_off_by_one_is_not_accepted(grader: Grader) -> None:
    expanded = sp.expand((x + y + 3)**6)
    assert check(grader, "poly", str(expanded)).status == "correct"
    verdict = check(grader, "poly", str(expanded + 1))
    assert (verdict.status, verdict.diagnoses) == ("incorrect", ("not-equivalent",))
    assert verdict.method == "symbolic"
    assert verdict.evidence["difference"] == "1"
    assert verdict.evidence["expected"] > 1e7            # the floats could not tell
    assert "yours minus the expected value is 1 there" in verdict.feedback


def test_an_off_by_one_is_caught_even_without_symbolic_work() -> None:
    grader = Grader(parse_problem_set(SET, "exactness.yaml"), symbolic_work=0)
    verdict = check(grader, "poly", str(sp.expand((x + y + 3)**6) + 1))
    assert verdict.diagnoses == ("not-equivalent",)


def test_a_decimal_for_an_irrational_number_is_that_decimal(grader: Grader) -> None:
    """Floats pasted for sqrt(2) and 1/sqrt(3): an expression is exact, so certified balls
    prove it different from the surds, as mod p proves 0.3333333333333333 is not 1/3, and
    the feedback says what to write instead."""
    verdict = check(grader, "surd_key", "2*z + 1.4142135623730951 + 1 + 0.5773502691896258")
    assert (verdict.status, verdict.diagnoses, verdict.method) == (
        "incorrect", ("not-equivalent",), "symbolic")
    assert verdict.evidence["checked"] == "proved different in certified interval (ball) " \
                                          "arithmetic"
    assert 1e-17 < abs(float(verdict.evidence["difference"].split()[1])) < 1e-15
    assert verdict.evidence["decimal"] == "1.4142135623730951"
    assert ("You wrote 1.4142135623730951: a decimal in an expression means exactly that "
            "decimal, so write the number you mean itself") in verdict.feedback
    exact = check(grader, "surd_key", "2*z + 2**0.5 + 1 + 3**(-0.5)")      # 0.5 is 1/2
    assert exact.status == "correct"


# --- 3. tolerance 0 is exact -------------------------------------------------------------

@pytest.mark.parametrize("answer", [
    "0.1*(x**2 + 3*x*y + 7)/s",                    # a decimal is the exact decimal
    "(x**2 + 3*x*y + 7) / (10*s)",                 # the reference, character for character
    "(7 + x**2 + 3*x*y) * s**(-1) / 10",
])
def test_zero_tolerance_accepts_exactly_equal_forms(exact: Grader, answer: str) -> None:
    verdict = check(exact, "quotient", answer)
    assert verdict.status == "correct", verdict.feedback


def test_zero_tolerance_accepts_the_reference_whose_floats_differ(exact: Grader) -> None:
    """numpy's inverse and the reference's exact one, evaluated in floats, differ by more
    than a few ulps; the proof decides."""
    assert check(exact, "inverse", "inv(A) @ A.T").status == "correct"
    assert check(exact, "inverse", "A.T @ inv(A)").diagnoses == ("not-equivalent",)


@pytest.mark.parametrize("answer, difference", [
    ("z * 0.3333333333333333", None),               # the float nearest 1/3, written out
    ("z * 0.33333333333333333333", None),           # closer than any float can tell
    ("(x**2 + 3*x*y + 7) / (10*s) + 10**(-20)", "1/100000000000000000000"),
])
def test_zero_tolerance_rejects_rationals_that_round_alike(exact: Grader, answer: str,
                                                           difference: str | None) -> None:
    problem = "third" if answer.startswith("z") else "quotient"
    verdict = check(exact, problem, answer)
    assert (verdict.status, verdict.diagnoses) == ("incorrect", ("not-equivalent",))
    if difference:
        assert verdict.evidence["difference"] == difference


def test_zero_tolerance_compares_numbers_to_a_few_ulps(exact: Grader) -> None:
    assert check(exact, "third_at", Answer("number", value=1 / 3)).status == "correct"
    assert check(exact, "third_at", Answer("number", value=0.33333333333333)).status \
        == "incorrect"


def test_zero_tolerance_with_a_sympy_answer(exact: Grader) -> None:
    v = sp.MatrixSymbol("v", 3, 1)
    good = Answer("sympy", text=sp.srepr(v / 7))
    bad = Answer("sympy", text=sp.srepr(v * sp.Rational(142857142857142857, 10**18)))
    assert check(exact, "scaled_vector", good).status == "correct"
    assert check(exact, "scaled_vector", bad).diagnoses == ("not-equivalent",)


# --- 4. exact checking at random points and sizes (mcgrade.engine.exact) ---------------

SIZES_SET = Path(__file__).resolve().parent / "corpus" / "sets" / "sizes.yaml"


def _s4(names: str) -> str:
    """The standard polynomial s_4: zero on every 2×2 matrix (Amitsur–Levitzki)."""
    terms = []
    for perm in itertools.permutations(range(4)):
        sign = Permutation(list(perm)).signature()
        terms.append(("+ " if sign > 0 else "- ") + " @ ".join(names[i] for i in perm))
    return " ".join(terms)[2:]


def test_a_wrong_answer_that_agrees_at_2x2_is_caught_at_a_larger_size() -> None:
    grader = Grader(load_problem_set(SIZES_SET))
    verdict = check(grader, "just_p", "P + " + _s4("PQRS"))
    assert (verdict.status, verdict.diagnoses) == ("incorrect", ("not-equivalent",))
    assert verdict.evidence["sizes"]["n"] >= 3            # 2k > 4: checked at k ≥ 3
    assert verdict.evidence["difference"] != "0"
    assert "In exact arithmetic" in verdict.feedback


def test_the_degree_rule_picks_a_size_beyond_the_identities() -> None:
    expression = compile_expression(_s4("PQRS"), Scope(dict.fromkeys("PQRS", ("n", "n")),
                                                       frozenset({"n"})))
    assert exact_check.matrix_degree(expression.root) == 4


def test_an_exact_agreement_says_so_with_its_bound() -> None:
    """No symbolic work at all: a rational answer is still settled exactly."""
    grader = Grader(parse_problem_set(SET, "exactness.yaml"), symbolic_work=0)
    verdict = check(grader, "poly", "(3 + y + x)**6")
    assert (verdict.status, verdict.method) == ("correct", "exact")
    points = verdict.evidence["points"]
    assert points >= 2
    assert verdict.evidence["checked"] == (f"exact at {points} random points and sizes "
                                           f"(false-accept chance below 2^-{points})")


def test_an_exact_check_is_reproducible() -> None:
    first = check(Grader(load_problem_set(SIZES_SET)), "zero_matrix", _s4("PQRS"))
    second = check(Grader(load_problem_set(SIZES_SET)), "zero_matrix", _s4("PQRS"))
    assert first == second


def test_the_arithmetics_say_where_they_cannot_answer() -> None:
    scope = Scope({"z": (1, 1)})
    env = {"z": exact_check.Value(1, 1, [exact_check.MODP.number(Fraction(0))])}
    with pytest.raises(exact_check.NotExact):          # a division by zero mod p: redraw
        exact_check.evaluate_tree(compile_expression("1/z", scope), exact_check.MODP, env, {})
    with pytest.raises(exact_check.NotExact):          # no exp mod p
        exact_check.evaluate_tree(compile_expression("exp(z)", scope), exact_check.MODP, env, {})
    ball = {"z": exact_check.Value(1, 1, [exact_check.BALL.number(Fraction(0))])}
    with pytest.raises(exact_check.NotExact):          # relu at its kink
        exact_check.evaluate_tree(compile_expression("relu(z)", scope), exact_check.BALL, ball, {})


TALL = """
title: a tall matrix
symbols:
  N: {dimension: true, sizes: [3]}
  n: {dimension: true, sizes: [2]}
  X: {shape: [N, n]}
problems:
  - id: gram_inverse
    answer: "inv(X.T @ X)"
"""


def test_a_larger_size_where_the_reference_is_singular_is_skipped_not_the_rest() -> None:
    """At N = k, n = k + 1 the Gram matrix XᵀX is singular: that size is skipped and the
    other order (N = k + 1, n = k) is still checked."""
    grader = Grader(parse_problem_set(TALL, "tall.yaml"), symbolic_work=0)
    verdict = check(grader, "gram_inverse", "inv(X.T @ X).T")
    assert (verdict.status, verdict.method) == ("correct", "exact")
    assert verdict.evidence["points"] == 2 * exact_check.POINTS_PER_SIZE


# --- `at:` numbers are exact in every arithmetic -------------------------------------

AT_SET = """
title: at
symbols:
  n: {dimension: true, sizes: [2, 30]}
  z: {}
  t: {}
  x: {shape: [n, 1]}
  A: {shape: [n, n]}
problems:
  - id: tenth
    derivative: {of: "exp(t*z)", wrt: z}
    at: {t: 0.1}
  - id: third
    derivative: {of: "exp(t*z)", wrt: z}
    at: {t: 1/3}
  - id: vector
    derivative: {of: "exp(x.T @ x * z)", wrt: z}
    at: {x: [[0.1], [0.2]]}
  - id: irrational
    derivative: {of: "t*z**2", wrt: z}
    at: {t: pi}
  - id: lse
    derivative: {of: "t * logsumexp(A @ x)", wrt: x}
    at: {t: 0.1}
"""


@pytest.fixture(scope="module")
def at_grader() -> Grader:
    return Grader(parse_problem_set(AT_SET, "at.yaml"))


@pytest.mark.parametrize("problem, text", [
    ("tenth", "t*exp(t*z)"), ("tenth", "exp(z/10)/10"), ("tenth", "0.1*exp(0.1*z)"),
    ("third", "t*exp(t*z)"), ("third", "exp(z/3)/3"),
    ("vector", "x.T @ x * exp(x.T @ x * z)"), ("vector", "exp(z/20)/20"),
    ("irrational", "2*t*z"), ("irrational", "2*pi*z"),
    # at n = 30 forward mode builds the reference, with t exactly 1/10 as here
    ("lse", "softmax(A @ x).T @ A / 10"), ("lse", "t*softmax(A @ x).T @ A"),
])
def test_a_number_an_at_binds_is_the_number_written(at_grader: Grader, problem: str,
                                                    text: str) -> None:
    """`at: {t: 0.1}` means 1/10: the balls, the witness and mod p all use it, not the
    float nearest it (which made a right answer 'proved different' by 5e-18)."""
    assert check(at_grader, problem, text).status == "correct"


def test_an_answer_off_by_less_than_floats_show_at_an_at_point_is_wrong(
        at_grader: Grader) -> None:
    verdict = check(at_grader, "tenth", "exp(z/10)/10 + 10**(-20)")
    assert (verdict.status, verdict.diagnoses) == ("incorrect", ("not-equivalent",))
    assert "decimal" not in verdict.evidence           # none written: no advice on one
    assert "You wrote" not in verdict.feedback
    assert "decimal" not in check(at_grader, "irrational", "2*3.14159*z").evidence  # short
    verdict = check(at_grader, "irrational", "2*3.141592653589793*z")
    assert verdict.evidence["decimal"] == "3.141592653589793"
    assert "You wrote 3.141592653589793: a decimal in an expression" in verdict.feedback


def test_values_too_close_for_floats_are_said_to_round_alike(at_grader: Grader) -> None:
    """Never "should be 0.113138 but yours is 0.113138": the same float is said so, and
    values that differ only past 6 digits are shown with the digits that tell them apart."""
    same = check(at_grader, "tenth", "exp(z/10)/10 + 10**(-20)")
    assert "yours and the expected value round to the same float, " in same.feedback
    assert "but they differ. In exact arithmetic, yours minus the expected value is " \
           "about 1e-20 there." in same.feedback
    close = check(at_grader, "tenth", "exp(z/10)/10 + 10**(-9)")
    shown = close.feedback.split("should be ")[1].split(". In exact")[0]
    expected, given = shown.split(" but yours is ")
    assert expected != given and len(expected) > 8            # more than 6 digits shown


def test_a_shape_with_a_float_in_it_is_told_what_a_shape_is() -> None:
    from mcgrade.api import grade_values
    from mcgrade.problemset import load_problem_set
    neuron = load_problem_set(Path(__file__).resolve().parent.parent / "problem_sets" /
                              "neuron.yaml")
    [verdict] = grade_values({"grad_shape": (1.0, "n")}, neuron, ["grad_shape"]).verdicts
    assert verdict.feedback.startswith(
        "a value of type tuple (containing strings) is not a shape: give a tuple of whole "
        "numbers and dimension names, such as (1, \"n\") or (\"m\", \"n\")")
