"""Frozen value types that flow through the grader.

YAML → ProblemSet → (submission → Answers) → checks → Verdict → GradeReport → reporters.
Every hop hands on immutable values: tuples, not lists; scores are computed once, in
``mcgrade.grading``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

Dim = int | str
"""One side of a shape: a fixed size, or the name of a dimension symbol (``n``)."""

Shape = tuple[Dim, Dim]  # a scalar has shape (1, 1)

Layout = Literal["numerator", "denominator"]
Orientation = Literal["strict", "lenient"]
ProblemKind = Literal["derivative", "hessian", "answer", "shape"]
Status = Literal["correct", "partial", "incorrect", "missing", "error", "timeout"]

STATUSES: tuple[str, ...] = ("correct", "partial", "incorrect", "missing", "error", "timeout")

Visibility = Literal["visible", "after_due_date", "after_published", "hidden"]
VISIBILITIES: tuple[Visibility, ...] = ("visible", "after_due_date", "after_published", "hidden")
"""When Gradescope shows a problem's result to students (its documented test visibilities)."""

class Code(str, Enum):
    """A word of the grader's vocabulary: a str (records, partial-credit keys and
    comparisons with plain strings see its value), so a misspelt member fails at once."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Diagnosis(Code):
    """SPEC §4's fixed vocabulary, plus ``forbidden`` (a string answer used a function the
    problem forbids). Codes may be added; these must not change."""

    TRANSPOSED = "transposed"
    FLAT_ARRAY = "flat-array"
    WRONG_SHAPE = "wrong-shape"
    SIGN = "sign"
    SCALE_FACTOR = "scale-factor"
    ELEMENTWISE_VS_MATRIX = "elementwise-vs-matrix"
    PIECEWISE_BRANCH = "piecewise-branch"
    AUTHOR_MISTAKE = "author-mistake"
    NOT_EQUIVALENT = "not-equivalent"
    UNPARSEABLE = "unparseable"
    NON_FINITE = "non-finite"
    MISSING = "missing"
    TIMEOUT = "timeout"
    ERROR = "error"
    FORBIDDEN = "forbidden"


DIAGNOSES: tuple[str, ...] = tuple(code.value for code in Diagnosis)


@dataclass(frozen=True)
class Location:
    """Where something was written: a file and a 1-based line."""

    path: str = ""
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path


@dataclass(frozen=True)
class Domain:
    """Where a scalar (or each entry of a matrix) is sampled, and what sympy may assume."""

    kind: Literal["real", "positive", "nonnegative", "nonzero", "interval"] = "real"
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 1e-6
    atol: float = 1e-9


@dataclass(frozen=True)
class Dimension:
    """A symbolic size such as ``n``, instantiated at each of ``sizes``."""

    name: str
    sizes: tuple[int, ...]
    location: Location = Location()


@dataclass(frozen=True)
class SymbolDecl:
    """A declared symbol. ``shape`` is None for a scalar; vectors are columns (n, 1)."""

    name: str
    shape: tuple[Dim, Dim] | None = None
    domain: Domain = Domain()
    symmetric: bool = False
    diagonal: bool = False
    invertible: bool = False
    location: Location = Location()

    @property
    def is_scalar(self) -> bool:
        return self.shape is None


@dataclass(frozen=True)
class Mistake:
    """An author-written wrong answer, the feedback it earns and its credit (0..1)."""

    answer: str
    feedback: str
    credit: float = 0.0
    location: Location = Location()


@dataclass(frozen=True)
class StoredInstance:
    """One size assignment of a published problem's local checks: fixed sample points and,
    at each, a digest of the reference's value (``mcgrade.engine.digest``), never the
    value itself. ``shape`` is the digest of the reference's shape at these sizes."""

    sizes: tuple[tuple[str, int], ...]
    shape: str
    points: tuple[tuple[tuple[str, Any], ...], ...] = ()   # per point: (symbol, value) pairs
    digests: tuple[str, ...] = ()                            # per point
    grids: tuple[str, ...] = ()      # per point, the grid of each entry (a hex mask; none:
                                     # a copy published before grids, every entry on the first)
    exact: tuple[str, ...] = ()      # digests of the reference mod p at public points
                                     # (``mcgrade.engine.exact_digest``); none: not rational,
                                     # or a copy published before them
    ball: tuple[str, ...] = ()       # digests of the reference's cells in certified balls
                                     # at public points (``mcgrade.engine.ball_digest``)
    ball_grids: tuple[str, ...] = ()     # per ball digest, each entry's grid (a hex mask)


@dataclass(frozen=True)
class LocalChecks:
    """What a published (student) copy keeps of a problem's reference: enough to tell a
    right answer from a wrong one at fixed points, nothing to read the answer from.

    ``bits`` is the number of significant bits values are rounded to before hashing, and
    ``zero`` the magnitude below which a value counts as 0."""

    bits: int
    zero: float
    instances: tuple[StoredInstance, ...] = ()


@dataclass(frozen=True)
class Param:
    """A per-student parameter: the values it can take, in order, and the one used when no
    student is named. A student's value is picked by a stable hash of the student id
    (``mcgrade.problemset.params``), so the same id always gets the same variant."""

    name: str
    values: tuple[Any, ...]            # ints, floats or strings
    default: Any
    location: Location = Location()


@dataclass(frozen=True)
class Problem:
    """One problem of a set.

    ``kind`` says how the reference is made: the derivative or Hessian of ``of`` with
    respect to ``wrt``; a given ``answer``; or the ``shape`` of a derivative. ``wrt`` is a
    tuple of names; ``wrt_is_list`` records that the author wrote a list (the stack of
    scalars as a column vector), which differs from a single name only in wording.
    """

    id: str
    kind: ProblemKind
    points: float = 1.0
    name: str = ""                     # the submission's variable; defaults to ``id``
    prompt: str = ""
    of: str | None = None
    wrt: tuple[str, ...] = ()
    wrt_is_list: bool = False
    answer: str | None = None
    at: tuple[tuple[str, Any], ...] = ()   # (symbol, value) pairs: numbers or nested lists
    form: Literal["expression", "function"] = "expression"
    signature: tuple[str, ...] = ()
    partial_credit: tuple[tuple[str, float], ...] = ()
    mistakes: tuple[Mistake, ...] = ()
    hints: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()        # functions a string answer may not use
    domains: tuple[tuple[str, Domain], ...] = ()   # per-problem sampling domains
    tolerance: Tolerance | None = None  # overrides the set's
    timeout: float | None = None        # overrides the set's
    location: Location = Location()
    key_lines: tuple[tuple[str, int], ...] = ()   # key ("of", "mistakes[0]") → YAML line
    checks: LocalChecks | None = None   # a published copy's stand-in for the reference
    visibility: Visibility = "visible"  # on Gradescope; the set's unless the problem says

    @property
    def answer_name(self) -> str:
        return self.name or self.id

    def credit_for(self, diagnosis: str) -> float:
        return dict(self.partial_credit).get(diagnosis, 0.0)

    def line_of(self, key: str) -> int | None:
        """The YAML line of one of this problem's keys, else the problem's own line."""
        return dict(self.key_lines).get(key, self.location.line)


@dataclass(frozen=True)
class ProblemSet:
    title: str
    problems: tuple[Problem, ...]
    layout: Layout = "numerator"
    orientation: Orientation = "strict"
    tolerance: Tolerance = Tolerance()
    timeout: float = 10.0
    dimensions: tuple[Dimension, ...] = ()
    symbols: tuple[SymbolDecl, ...] = ()
    path: str = ""
    published: bool = False             # a student copy: graded by local checks only
    params: tuple[Param, ...] = ()      # per-student parameters (``params:``)
    variant: tuple[tuple[str, Any], ...] = ()   # the values this ProblemSet was made with
    student: str = ""                   # whose variant this is ("" when none was named)
    template: str = ""                  # the YAML text variants are made from (with params)
    visibility: Visibility = "visible"  # on Gradescope, for problems that don't say

    @property
    def max_score(self) -> float:
        return sum(p.points for p in self.problems)

    def symbol(self, name: str) -> SymbolDecl | None:
        return next((s for s in self.symbols if s.name == name), None)

    def problem(self, problem_id: str) -> Problem | None:
        return next((p for p in self.problems if p.id == problem_id), None)


# --- answers: plain data that came back from a submission ------------------------------

@dataclass(frozen=True)
class Answer:
    """What a submission gave for one problem, as plain data.

    ``kind`` is one of:
      ``missing``   no such name;
      ``string``    an expression string (``text``);
      ``number``    a real number (``value``, a float; NaN and infinities allowed);
      ``array``     numbers with a ``shape`` (``value`` is a flat tuple, row-major);
      ``shape``     a shape tuple, entries ints or dimension names (``value``);
      ``sympy``     a sympy expression or matrix, as ``srepr`` text (``text``) — read back
                    by mcgrade's own whitelisting reader, never by ``eval``;
      ``function``  a function's values at the sample points the grader chose: ``value``
                    is a tuple with one Answer (``number``/``array``/``error``/``timeout``)
                    per call, in the order the calls were asked for;
      ``complex``   a complex value (kept only to be reported);
      ``error``     reading the value raised inside the submission (``text`` says what);
      ``timeout``   the submission, or this answer's function, ran out of time;
      ``unsupported`` a value of a type mcgrade can't grade (``text`` names the type).
    """

    kind: Literal["missing", "string", "number", "array", "shape", "sympy", "function",
                  "complex", "error", "unsupported", "timeout"]
    text: str = ""
    value: Any = None
    shape: tuple[int, ...] = ()


MISSING = Answer("missing")

NOT_REACHED = "was not defined before the script stopped"
"""What an error answer's text says when the script stopped (it raised) before defining
it: ``submission.protocol`` writes it, the reporters word such a verdict by it."""

OVERRIDE_NOTE = "Override by your instructor"
"""How an override's comment starts in a verdict's feedback (``batch.overrides``)."""


def number(value: float) -> float | int:
    """A score as JSON shows it: 2 rather than 2.0, 7.5 as it is."""
    rounded = round(value, 6)
    return int(rounded) if float(rounded).is_integer() else rounded


# --- verdicts --------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """One problem's result: the record of SPEC §4 for that problem."""

    id: str
    status: Status
    score: float
    max_score: float
    diagnoses: tuple[str, ...] = ()
    feedback: str = ""
    method: str = ""                     # "symbolic", "numeric", or "" when nothing ran
    evidence: Mapping[str, Any] = field(default_factory=dict)
    # an instructor's override ({"points": 2, "comment": "…"}): applied to the outputs,
    # never stored in the ledger (``mcgrade.batch.overrides``); None for a graded verdict
    override: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class GradeReport:
    """A whole submission graded against a problem set."""

    submission: str
    problem_set: str
    verdicts: tuple[Verdict, ...]
    notes: tuple[str, ...] = ()          # submission-level messages (e.g. it crashed)
    sandbox: str = ""                    # the sandbox the code ran in, and its layers
                                         # ("bwrap", "process (uid 65534, landlock)")

    @property
    def score(self) -> float:
        return round(sum(v.score for v in self.verdicts), 6)

    @property
    def max_score(self) -> float:
        return sum(v.max_score for v in self.verdicts)
