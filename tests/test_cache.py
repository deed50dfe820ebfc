"""The compile cache (mcgrade.engine.cache): a hit gives the records a cold compile gives,
byte for byte; a corrupted or hostile entry is ignored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from mcgrade.engine import cache
from mcgrade.engine.compiler import compile_problem_set
from mcgrade.grading import Grader
from mcgrade.problemset import load_problem_set
from mcgrade.records import verdict_record
from tests.test_corpus import CORPUS, answer_of

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MCGRADE_CACHE", raising=False)
    monkeypatch.setenv("MCGRADE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _set(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copy(ROOT / "problem_sets" / name, target)
    return target


def _records(path: Path, name: str) -> list[str]:
    grader = Grader(load_problem_set(path))
    out = []
    for case in yaml.safe_load((CORPUS / name).read_text("utf-8")):
        problem = grader.problem_set.problem(case["problem"])
        verdict = grader.check(problem, answer_of(case))
        out.append(json.dumps(verdict_record(verdict), sort_keys=True))
    return out


@pytest.mark.parametrize("name", ["denominator.yaml", "loss.yaml", "second_order.yaml"])
def test_a_cache_hit_gives_the_records_of_a_cold_compile(
        name: str, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _set(tmp_path, name)
    monkeypatch.setenv("MCGRADE_CACHE", "0")
    cold = _records(path, name)
    monkeypatch.delenv("MCGRADE_CACHE")
    compile_problem_set(load_problem_set(path))          # writes the entry
    assert len(list(folder.glob("*.json"))) == 1
    assert _records(path, name) == cold


def test_the_cache_can_be_turned_off(folder: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCGRADE_CACHE", "0")
    compile_problem_set(load_problem_set(_set(tmp_path, "neuron.yaml")))
    assert not folder.exists()


def test_an_edited_set_is_another_entry(folder: Path, tmp_path: Path) -> None:
    path = _set(tmp_path, "neuron.yaml")
    first = cache.key(load_problem_set(path), "")
    text = path.read_text("utf-8")
    path.write_text(text + "\n# a comment changes nothing compiled\n", "utf-8")
    assert cache.key(load_problem_set(path), "") == first
    path.write_text(text.replace("title: ", "title: Edited ", 1), "utf-8")
    assert cache.key(load_problem_set(path), "") != first
    assert cache.key(load_problem_set(path), "salt") != cache.key(load_problem_set(path), "")


@pytest.fixture(scope="module")
def identities(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], str]:
    """neuron.yaml, its records from a cold compile, and the cache entry it writes
    (made once: each damage below is applied to a copy of that entry)."""
    folder = tmp_path_factory.mktemp("identities")
    path = _set(folder, "neuron.yaml")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MCGRADE_CACHE", "0")
        cold = _records(path, "neuron.yaml")
        patch.delenv("MCGRADE_CACHE")
        patch.setenv("MCGRADE_CACHE_DIR", str(folder / "cache"))
        compile_problem_set(load_problem_set(path))
    (entry,) = (folder / "cache").glob("*.json")
    return path, cold, entry.read_text("utf-8")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other-key", "wrong-shape",
                                    "hostile-srepr", "huge-number", "not-a-dict"])
def test_a_damaged_or_hostile_entry_is_ignored(
        damage: str, identities: tuple[Path, list[str], str], folder: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path, cold, text = identities
    data = json.loads(text)
    if damage == "garbage":
        text = "\x00not json"
    elif damage == "truncated":
        text = text[: len(text) // 2]
    elif damage == "other-key":
        text = json.dumps({**data, "key": "0" * 64})
    elif damage == "not-a-dict":
        text = json.dumps([data])
    else:
        instance = data["problems"][0]["instances"][0]
        if damage == "wrong-shape":
            instance["expected"]["shape"] = [1, 2, 3]
        elif damage == "huge-number":
            instance["expected"]["data"][0] = "1e999"
        else:   # text that would run code if it were eval'd; the whitelist refuses it
            for problem in data["problems"]:
                for stored in problem["instances"]:
                    stored["value"] = {"srepr": "__import__('os').system('touch pwned')"}
        text = json.dumps(data)
    folder.mkdir()
    (folder / f"{cache.key(load_problem_set(path), '')}.json").write_text(text, "utf-8")
    monkeypatch.chdir(folder)
    assert _records(path, "neuron.yaml") == cold
    assert not (folder / "pwned").exists()
