"""Reports and answers as plain JSON data, and back: the one codec.

A record is SPEC §4's: a submission's score and one entry per problem. The ledger, the
Dask workers, the pytest plugin, the API and the JSON reporters all write and read
records here, so a report crosses a process or a run whole (its notes included).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcgrade.model import Answer, GradeReport, Verdict, number


def verdict_record(verdict: Verdict) -> dict[str, Any]:
    """One problem's entry in a record."""
    return {
        "id": verdict.id, "status": verdict.status, "score": number(verdict.score),
        "max_score": number(verdict.max_score), "diagnoses": list(verdict.diagnoses),
        "feedback": verdict.feedback, "method": verdict.method,
        "evidence": dict(verdict.evidence),
        **({"override": dict(verdict.override)} if verdict.override is not None else {}),
    }


def verdict_of(record: Mapping[str, Any]) -> Verdict:
    """The inverse of ``verdict_record``."""
    return Verdict(record["id"], record["status"], float(record["score"]),
                   float(record["max_score"]), tuple(record["diagnoses"]),
                   record["feedback"], record["method"], dict(record["evidence"]),
                   record.get("override"))


def report_record(report: GradeReport) -> dict[str, Any]:
    """A submission's record; ``sandbox`` and ``notes`` only when there are any."""
    return {
        "submission": report.submission, "problem_set": report.problem_set,
        "score": number(report.score), "max_score": number(report.max_score),
        **({"sandbox": report.sandbox} if report.sandbox else {}),
        **({"notes": list(report.notes)} if report.notes else {}),
        "problems": [verdict_record(v) for v in report.verdicts],
    }


def report_of(record: Mapping[str, Any], notes: tuple[str, ...] = ()) -> GradeReport:
    """The inverse of ``report_record``. ``notes``: where a record of an older mcgrade
    kept them beside it (its ledger files did)."""
    return GradeReport(record["submission"], record["problem_set"],
                       tuple(verdict_of(v) for v in record["problems"]),
                       tuple(record.get("notes", notes)), record.get("sandbox", ""))


def answer_data(answer: Answer) -> dict[str, Any]:
    """An answer as JSON data (what the feedback pages show as "your answer")."""
    value = answer.value
    if answer.kind == "function":
        value = [answer_data(a) for a in value or ()]
    elif isinstance(value, tuple):
        value = list(value)
    elif not isinstance(value, (int, float, str, type(None))):
        value = None                                    # e.g. a complex: its text says it
    return {"kind": answer.kind, "text": answer.text, "value": value,
            "shape": list(answer.shape)}


def answer_of(data: Mapping[str, Any]) -> Answer:
    """The inverse of ``answer_data``."""
    value = data.get("value")
    if data["kind"] == "function":
        value = tuple(answer_of(a) for a in value or ())
    elif isinstance(value, list):
        value = tuple(value)
    return Answer(data["kind"], data.get("text", ""), value, tuple(data.get("shape", ())))
