"""The declared schema of a problem-set YAML file: every key, at every level, as data.

This is the single description of the format (SPEC §2). The loader takes its allowed
keys, required keys and defaults from here, and the authoring guide (docs/authoring.md) is
generated from it, so a key documented is a key accepted and the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DOMAIN_CHOICES: tuple[str, ...] = ("real", "positive", "nonnegative", "nonzero")
MAX_SIZE = 50
"""The largest fixed size of a shape or of a dimension's ``sizes``."""
MAX_TIMEOUT = 3600
"""The most seconds a submission may run for one problem: an hour is far beyond any
answer's needs, and keeps a whole run's deadline (its script, then each answer's budget)
well inside what a wait can be (2³¹ ms, 24.8 days)."""
MAX_RUN_TIME = 86400
"""The most seconds the time limits of one submission's run may add up to (a day)."""
MAX_POINTS = 1_000_000
"""The most points one problem, or a whole set, may be worth: any real course fits, and
every total stays an exact, finite number in JSON and in Gradescope."""
MAX_DOMAIN = 1_000_000
"""The largest magnitude of a domain's ends: sample points are whole 64ths, and far
larger values only overflow the arithmetic they are checked with."""


@dataclass(frozen=True)
class Field:
    """One key: its name, the type it takes (in words), its default, what it means."""

    name: str
    type: str
    default: Any
    description: str
    example: str
    required: bool = False
    authored: bool = True
    """False for keys only ``mcgrade publish`` writes: they are accepted and documented,
    but not offered to authors in "the keys here are …"."""


@dataclass(frozen=True)
class Level:
    """The keys allowed in one kind of mapping (the set, a symbol, a problem, ...)."""

    key: str
    title: str
    description: str
    fields: tuple[Field, ...]
    inside: str = ""
    """Where these keys are written, as a phrase: "inside a symbol"."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def default(self, name: str) -> Any:
        return self.field(name).default


_DOMAIN_TYPE = "real | positive | nonnegative | nonzero | [low, high]"
_TIMEOUT_TYPE = f"number of seconds > 0, at most {MAX_TIMEOUT}"
_VISIBILITY_TYPE = "visible | after_due_date | after_published | hidden"

SET = Level("set", "Problem set", "The top level of the file.", (
    Field("title", "string", None,
          "The problem set's title, shown in feedback, reports and the starter notebook.",
          "title: Gradient of a neuron", required=True),
    Field("layout", "numerator | denominator", "numerator",
          "The layout every derivative is written in. In numerator layout (Parr & Howard) "
          "the derivative of a scalar by an n×1 vector is a 1×n row; denominator layout "
          "is the transpose of each.", "layout: denominator"),
    Field("orientation", "strict | lenient", "strict",
          "Whether a 1-D array is accepted where a row or a column is expected: strict "
          "requires shapes to match exactly, lenient accepts a 1-D array where that is "
          "unambiguous.", "orientation: lenient"),
    Field("tolerance", "mapping {rtol, atol}", None,
          "How closely numbers must agree when answers are compared numerically.",
          "tolerance: {rtol: 1.0e-6, atol: 1.0e-9}"),
    Field("timeout", _TIMEOUT_TYPE, 10.0,
          "How long a submission's code may run for each problem; at most an hour, and "
          "the limits of all problems may add up to a day at most.", "timeout: 10"),
    Field("symbols", "mapping name → symbol", None,
          "The symbols expressions may use, and the symbolic sizes (dimensions) of their "
          "shapes. A symbol with no keys (`b: {}`) is a real scalar.",
          "symbols: {n: {dimension: true, sizes: [2, 3]}, x: {shape: [n, 1]}}"),
    Field("problems", "list of problems", None,
          "The problems, in the order they are graded and shown.",
          "problems: [{id: q1, answer: \"x.T\"}]", required=True),
    Field("params", "mapping name → param", None,
          "Per-student parameters. Each student gets one value of each, picked from the "
          "student id by a stable hash. `{a}` anywhere in the file's text (prompts, "
          "expressions, `at` values) is replaced by the value of param `a`; a value that "
          "is exactly `\"{a}\"` (quoted) becomes the number itself, so sizes and shapes "
          "can use it too.",
          "params: {a: {range: [2, 9]}, k: {choices: [2, 3, 4]}}"),
    Field("published", "true | false", False,
          "Marks a student copy written by `mcgrade publish`: its problems carry `checks` "
          "(digests of the reference at fixed points) instead of answers, and grading "
          "with it is a local check only.", "published: true", authored=False),
    Field("visibility", _VISIBILITY_TYPE, "visible",
          "When students see each problem's result on Gradescope: always (visible), after "
          "the due date, once grades are published, or never (hidden: Gradescope means "
          "this for problems worth no points). A problem's own `visibility` overrides "
          "it. Instructors always see everything.", "visibility: after_due_date"),
), inside="at the top level")

TOLERANCE = Level("tolerance", "Tolerance",
                  "Numeric agreement, for the set or for one problem: two values agree when "
                  "|a − b| ≤ atol + rtol·|b|. It applies to numbers a student computed "
                  "(numbers, arrays, a function's values) and to the first screening of "
                  "expressions, which are then checked exactly wherever exact arithmetic reaches "
                  "them (a decimal in an expression is exactly that decimal). "
                  "`{rtol: 0, atol: 0}` holds computed numbers to 4 units in the last "
                  "place.", (
    Field("rtol", "number ≥ 0", 1e-6, "The relative tolerance.", "rtol: 1.0e-6"),
    Field("atol", "number ≥ 0", 1e-9, "The absolute tolerance.", "atol: 1.0e-9"),
), inside="inside `tolerance:`")

SYMBOL = Level("symbol", "Symbol", "One entry of `symbols:`, named by its key.", (
    Field("dimension", "true | false", False,
          "Declares a symbolic size rather than a value: answers are checked at each of "
          "its `sizes`, which catches answers that only work for square or small cases.",
          "n: {dimension: true, sizes: [2, 3, 5]}"),
    Field("sizes", f"list of whole numbers 1..{MAX_SIZE}", None,
          "The sizes a dimension takes when answers are checked; required with "
          "`dimension: true`.", "sizes: [2, 3, 5]"),
    Field("shape", "[rows, cols] or [rows]", None,
          f"The symbol's shape; each side is a declared dimension or a whole number "
          f"1..{MAX_SIZE}. `[n]` means a column `[n, 1]`: vectors are columns unless "
          f"declared otherwise. Without a shape the symbol is a scalar.", "shape: [m, n]"),
    Field("domain", _DOMAIN_TYPE, "real",
          "Where the symbol (or each of its entries) is sampled, and what may be assumed "
          "of it when simplifying; `[low, high]` is an interval with low < high, both "
          f"within ±{MAX_DOMAIN:,}.",
          "domain: positive"),
    Field("symmetric", "true | false", False,
          "The matrix is symmetric; only for a square shape.", "symmetric: true"),
    Field("diagonal", "true | false", False,
          "The matrix is diagonal; only for a square shape.", "diagonal: true"),
    Field("invertible", "true | false", False,
          "The matrix is invertible: sampled well-conditioned with a positive "
          "determinant; only for a square shape.", "invertible: true"),
), inside="inside a symbol")

PROBLEM = Level("problem", "Problem",
                "One item of `problems:`. Exactly one of `derivative`, `hessian`, `shape` "
                "and `answer` says what the reference answer is; `answer` may also "
                "accompany `derivative` or `hessian`, and `mcgrade validate` then checks "
                "that the two agree.", (
    Field("id", "name (a Python identifier)", None,
          "The problem's unique identifier; by default also the name the submission "
          "gives its answer.", "id: dz_dw", required=True),
    Field("points", f"number from 0 to {MAX_POINTS:,}", 1.0,
          f"What the problem is worth; the set's points add up to {MAX_POINTS:,} at most.",
          "points: 2"),
    Field("name", "name (a Python identifier)", None,
          "The variable the submission's answer is read from, when it is not the id.",
          "name: grad_w"),
    Field("prompt", "string (Markdown, LaTeX allowed)", "",
          "The question as students read it, in the starter notebook and in feedback.",
          'prompt: "Find $\\\\partial z/\\\\partial \\\\mathbf{w}$."'),
    Field("derivative", "mapping {of, wrt}", None,
          "The reference is the derivative of `of` with respect to `wrt`, in the set's "
          "layout.", 'derivative: {of: "w.T @ x + b", wrt: w}'),
    Field("hessian", "mapping {of, wrt}", None,
          "The reference is the Hessian of the scalar `of` with respect to `wrt`.",
          'hessian: {of: "x.T @ A @ x", wrt: x}'),
    Field("shape", "mapping {of, wrt}", None,
          "The answer is the shape of the derivative of `of` with respect to `wrt`, "
          "such as (m, n) or (3, 2).", 'shape: {of: "W @ x", wrt: x}'),
    Field("answer", "expression string", None,
          "The reference given directly; next to `derivative` or `hessian`, an answer key "
          "that `mcgrade validate` checks against the computed derivative.",
          'answer: "diag(w)"'),
    Field("at", "mapping symbol → number, nested list or expression string", None,
          "Values substituted for some or all symbols after differentiating; with all of "
          "them given, the answer is a number or an array.", "at: {x: [[1], [2], [3]]}"),
    Field("form", "expression | function", "expression",
          "What the submission gives: an expression, or a Python function that is called "
          "with arrays of the declared shapes (then `signature` is required).",
          "form: function"),
    Field("signature", "list of symbol names", None,
          "The arguments of a `form: function` answer, in order.", "signature: [w, X, y]"),
    Field("partial_credit", "mapping diagnosis code → number 0..1", None,
          "The fraction of the points given for a diagnosed mistake such as `transposed` "
          "or `sign`; any other mistake earns 0.", "partial_credit: {transposed: 0.5}"),
    Field("mistakes", "list of {answer, feedback, credit}", None,
          "Wrong answers the author expects, each with the feedback it earns and its "
          "credit.", 'mistakes: [{answer: "x", feedback: "Rows in numerator layout."}]'),
    Field("hints", "list of strings", None,
          "Hints shown with the feedback of a wrong answer.",
          'hints: ["The derivative of a dot product is the other vector."]'),
    Field("forbid", "list of function names", None,
          "Functions a string answer may not use, e.g. `diff` to make students derive "
          "by hand.", "forbid: [diff]"),
    Field("domain", f"mapping symbol → {_DOMAIN_TYPE}", None,
          "Sampling domains for this problem only, overriding the symbols' own.",
          "domain: {x: positive}"),
    Field("tolerance", "mapping {rtol, atol}", None,
          "Numeric agreement for this problem; a key left out keeps the set's value.",
          "tolerance: {rtol: 1.0e-4}"),
    Field("timeout", _TIMEOUT_TYPE, None,
          "How long the submission's code may run for this problem, overriding the set's.",
          "timeout: 30"),
    Field("visibility", _VISIBILITY_TYPE, None,
          "When students see this problem's result on Gradescope, overriding the set's "
          "`visibility`.", "visibility: visible"),
    Field("checks", "mapping (written by `mcgrade publish`)", None,
          "In a published copy only: what the local checks compare an answer with, in "
          "place of `derivative`, `hessian`, `shape` or `answer`.",
          "checks: {kind: derivative, bits: 20, zero: 1.0e-9, instances: [...]}",
          authored=False),
), inside="inside a problem")

DERIVATIVE = Level("derivative", "Derivative, Hessian or shape",
                   "The mapping under `derivative:`, `hessian:` or `shape:`.", (
    Field("of", "expression string", None, "The expression to differentiate.",
          'of: "w.T @ x + b"', required=True),
    Field("wrt", "symbol name, or list of scalar symbol names", None,
          "The symbol to differentiate with respect to; a list of scalars means their "
          "stack as a column vector (∇f(x, y) is `wrt: [x, y]`).", "wrt: w",
          required=True),
), inside="inside `derivative:`, `hessian:` or `shape:`")

MISTAKE = Level("mistake", "Mistake", "One item of a problem's `mistakes:`.", (
    Field("answer", "expression string", None, "The wrong answer, as an expression.",
          'answer: "x"', required=True),
    Field("feedback", "string", None, "What a student who gives this answer is told.",
          'feedback: "Gradients are rows in numerator layout."', required=True),
    Field("credit", "number 0..1", 0.0, "The fraction of the points this answer earns.",
          "credit: 0.25"),
), inside="inside an item of `mistakes:`")

PARAM = Level("param", "Param",
              "One entry of `params:`, named by its key: give `range` or `choices`.", (
    Field("range", "[low, high]", None,
          "The values low, low + step, … up to high (both ends included).",
          "range: [2, 9]"),
    Field("step", "number > 0", 1,
          "The spacing of a range's values; decimals are exact (`step: 0.25`).",
          "step: 0.5"),
    Field("choices", "list of numbers or strings", None,
          "The values, listed. A string is put into the text as written, so it can name a "
          "function (`choices: [sin, cos]`, used as `\"{f}(x)\"`).", "choices: [2, 3, 5]"),
    Field("default", "one of the param's values", None,
          "The value used when no student is named (previews, the first variant `mcgrade "
          "validate` checks); without it, the first choice or the low end of the range.",
          "default: 3"),
), inside="inside a param")

CHECKS = Level("checks", "Local checks",
               "The mapping under a published problem's `checks:`, written by `mcgrade "
               "publish`; not meant to be edited by hand.", (
    Field("kind", "derivative | hessian | answer | shape", None,
          "What the original problem asked for.", "kind: shape", required=True),
    Field("bits", "whole number 8..52", 20,
          "Significant bits each value is rounded to before it is hashed.", "bits: 20"),
    Field("zero", "number ≥ 0", 1e-9,
          "Values smaller than this in magnitude are hashed as 0.", "zero: 1.0e-9"),
    Field("instances", "list of stored instances", None,
          "The checks at each size assignment.", "instances: [{sizes: {n: 2}, ...}]"),
), inside="inside `checks:`")

CHECK_INSTANCE = Level("stored instance", "Stored instance",
                       "One item of `checks: instances:` — one size assignment.", (
    Field("sizes", "mapping dimension → size", None, "The size of each dimension.",
          "sizes: {n: 2, m: 3}"),
    Field("shape", "digest", None, "The digest of the reference's shape at these sizes.",
          "shape: 5d41402abc4b2a76", required=True),
    Field("points", "list of mappings symbol → number or nested list", None,
          "The fixed sample points.", "points: [{x: [[0.5], [1.25]], b: -0.75}]"),
    Field("digests", "list of digests", None,
          "For each point, the digest of the reference's value there.",
          "digests: [9f86d081884c7d65]"),
    Field("grids", "list of hexadecimal masks", None,
          "For each point, which entries are rounded on the grid offset by half a cell "
          "(bit i: entry i); absent, every entry is rounded on the first grid.",
          "grids: ['', '5']"),
    Field("exact", "list of digests", None,
          "Digests of the reference's value in exact arithmetic (mod 2^61 - 1) at points "
          "drawn from a public seed, where the reference is rational; absent, only the "
          "float digests check.", "exact: [9f2c4be01d7a3e55, 03b1aa6c7e29d410]"),
    Field("ball", "list of digests", None,
          "Digests of the reference's value in certified interval arithmetic at points "
          "drawn from a public seed, each entry rounded to cells of about 1e-30 of it; "
          "absent where the reference can't be evaluated so there.",
          "ball: [5e0c7a31f2d94b86, c41a0e9d7b2f3368]"),
    Field("ball_grids", "list of hexadecimal masks", None,
          "For each ball digest, which entries are rounded on the grid offset by half a "
          "cell (bit i: entry i); absent, every entry is rounded on the first grid.",
          "ball_grids: ['', '2']"),
), inside="inside an item of `checks: instances`")

SCHEMA: tuple[Level, ...] = (SET, TOLERANCE, SYMBOL, PROBLEM, DERIVATIVE, MISTAKE, PARAM,
                             CHECKS, CHECK_INSTANCE)
"""Every level of the format, in the order the authoring guide presents them."""
