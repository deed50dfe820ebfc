"""The verdict corpus: hand-judged answers to the bundled problem sets.

Each file ``tests/corpus/<set>.yaml`` is a list of cases for ``problem_sets/<set>.yaml``
(or, for a set made for the corpus alone, ``tests/corpus/sets/<set>.yaml``)::

    - {problem: dz_dw, answer: "x", expect: partial, diagnoses: [transposed], score: 1}

Keys: ``problem`` (id), ``answer``, ``kind`` (string | array | number | shape | missing;
default string; ``missing`` takes no answer), ``shape`` (for arrays given flat; otherwise the nested list's shape), ``expect``
(the status), ``diagnoses`` (the exact list; default []), and optionally ``score``,
``feedback_contains`` and ``xfail: "<reason>"`` (the engine is believed wrong; strict, so a
fix shows up as XPASS and the marker must then be removed).

Every case was judged by the mathematics, not by what the engine said.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from mcgrade.grading import Grader
from mcgrade.model import DIAGNOSES, STATUSES, Answer
from mcgrade.problemset import load_problem_set

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
SETS = ROOT / "problem_sets"
KINDS = ("string", "array", "number", "shape", "missing")
KEYS = {"problem", "answer", "kind", "shape", "expect", "diagnoses", "score",
        "feedback_contains", "xfail"}


@functools.cache
def grader(set_name: str) -> Grader:
    return Grader(load_problem_set(set_path(set_name)))


def set_path(set_name: str) -> Path:
    """The bundled set of that name, else a set made for the corpus alone (the engine's
    edge cases that no course problem reaches), in ``tests/corpus/sets/``."""
    bundled = SETS / set_name
    return bundled if bundled.is_file() else CORPUS / "sets" / set_name


def answer_of(case: dict[str, Any]) -> Answer:
    kind = case.get("kind", "string")
    if kind == "missing":
        return Answer("missing")
    raw = case["answer"]
    if kind == "string":
        return Answer("string", text=raw)
    if kind == "number":
        return Answer("number", value=float(raw))
    if kind == "shape":
        return Answer("shape", value=tuple(raw))
    array = np.asarray(raw, dtype=float)
    shape = tuple(case["shape"]) if "shape" in case else array.shape
    return Answer("array", value=tuple(float(v) for v in array.ravel()), shape=shape)


def _load() -> list[Any]:
    params = []
    seen: set[str] = set()
    for path in sorted(CORPUS.glob("*.yaml")):
        cases = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        for index, case in enumerate(cases):
            answer = case.get("answer")
            shown = answer if isinstance(answer, str) else repr(answer)
            if len(shown) > 60:
                shown = f"{shown[:40]}...({len(shown)} chars)"
            case_id = f"{path.name}::{case.get('problem')}::{shown}"
            if case.get("kind", "string") != "string":
                case_id += f"[{case['kind']}]"
            if case_id in seen:
                case_id += f"#{index}"
            seen.add(case_id)
            marks = ([pytest.mark.xfail(reason=case["xfail"], strict=True)]
                     if case.get("xfail") else [])
            params.append(pytest.param(path.name, case, id=case_id, marks=marks))
    return params


CASES = _load()


def test_corpus_is_well_formed() -> None:
    """Every case names a real problem and uses only known keys, kinds, statuses and
    diagnosis codes, so a typo can't make a case vacuous."""
    assert len(CASES) >= 250
    for param in CASES:
        set_name, case = param.values
        assert set(case) <= KEYS, f"{param.id}: unknown keys {set(case) - KEYS}"
        assert set_path(set_name).is_file(), f"{param.id}: no problem set {set_name}"
        assert grader(set_name).problem_set.problem(case["problem"]) is not None, param.id
        assert case.get("kind", "string") in KINDS, param.id
        assert case["expect"] in STATUSES, param.id
        assert set(case.get("diagnoses", [])) <= set(DIAGNOSES), param.id
        assert (case["expect"] == "correct") == (not case.get("diagnoses")), param.id


@pytest.mark.parametrize(("set_name", "case"), CASES)
def test_verdict(set_name: str, case: dict[str, Any]) -> None:
    g = grader(set_name)
    problem = g.problem_set.problem(case["problem"])
    assert problem is not None
    verdict = g.check(problem, answer_of(case))
    got = (verdict.status, list(verdict.diagnoses))
    want = (case["expect"], list(case.get("diagnoses", [])))
    assert got == want, f"feedback: {verdict.feedback}"
    if "score" in case:
        assert verdict.score == pytest.approx(case["score"])
    if "feedback_contains" in case:
        assert case["feedback_contains"] in verdict.feedback
    assert verdict.feedback, "every verdict carries feedback"
