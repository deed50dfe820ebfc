"""Notebooks read without nbformat: only those nbformat would read as they are, silently.

``sources._plain_v4`` lets the common notebook skip importing nbformat's validator (a
tenth of a second of every student's ``pytest``). Its promise: a notebook it passes is one
nbformat's schema accepts as it is, and reading it gives the same code cells; anything
else still goes through nbformat. (One difference is left, on purpose: nbformat's
validator recurses, so it refuses free metadata nested hundreds deep, which this path
never reads.) These tests hold it to that against nbformat itself.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from mcgrade.submission import sources
from mcgrade.submission.sources import _plain_v4, _without_outputs, load

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.ipynb"))
SCHEMAS = Path(nbformat.__file__).parent / "v4"


def nbformat_reading(notebook: dict[str, Any]) -> tuple[list[str], str | None]:
    """(code cells, validation error or None) as nbformat reads ``notebook``."""
    captured: dict[str, Any] = {}
    nb = nbformat.reads(json.dumps(_without_outputs(copy.deepcopy(notebook))), as_version=4,
                        capture_validation_error=captured)
    error = captured.get("ValidationError")
    return ([_text(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"],
            None if error is None else str(error.message))


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else source


def colab_like() -> dict[str, Any]:
    """What Google Colab saves: nbformat 4.0, ids in the cells' metadata, outputs."""
    return {"nbformat": 4, "nbformat_minor": 0,
            "metadata": {"colab": {"provenance": []}, "kernelspec": {
                "name": "python3", "display_name": "Python 3"},
                "language_info": {"name": "python"}},
            "cells": [{"cell_type": "markdown", "metadata": {"id": "k2x"}, "source": ["# HW"]},
                      {"cell_type": "code", "execution_count": 3, "metadata": {
                          "id": "a1", "colab": {"base_uri": "https://localhost:8080/"},
                          "outputId": "f0"},
                       "outputs": [{"output_type": "stream", "name": "stdout",
                                    "text": ["1\n"]}],
                       "source": ["a = 'x'\n", "print(1)"]}]}


def vscode_like() -> dict[str, Any]:
    """What VS Code saves: nbformat 4.5 with cell ids, tags, language_info in full."""
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": ".venv",
                                        "language": "python"},
                         "language_info": {"name": "python", "version": "3.12.1",
                                           "codemirror_mode": {"name": "ipython",
                                                               "version": 3},
                                           "file_extension": ".py",
                                           "mimetype": "text/x-python",
                                           "pygments_lexer": "ipython3"}},
            "cells": [{"id": "c-1", "cell_type": "code", "execution_count": None,
                       "metadata": {"tags": ["answer"], "collapsed": False,
                                    "scrolled": "auto", "jupyter": {"source_hidden": False},
                                    "execution": {"iopub.status.busy": "2026-01-01"}},
                       "outputs": [], "source": "b = 2"},
                      {"id": "c_2", "cell_type": "raw", "metadata": {}, "source": ""}]}


BASES = [json.loads(p.read_text("utf-8")) for p in EXAMPLES[:3]] + [colab_like(),
                                                                   vscode_like()]


def test_the_notebooks_students_save_skip_nbformat() -> None:
    for notebook in [json.loads(p.read_text("utf-8")) for p in EXAMPLES] + BASES:
        assert _plain_v4(notebook)
        cells, error = nbformat_reading(notebook)
        assert error is None
        assert cells == [_text(c["source"]) for c in notebook["cells"]
                         if c["cell_type"] == "code"]


def test_reading_a_plain_notebook_does_not_import_nbformat(tmp_path: Path) -> None:
    path = tmp_path / "hw1.ipynb"
    path.write_text(json.dumps(vscode_like()), "utf-8")
    probe = ("import sys; from mcgrade.submission.sources import load; "
             f"s = load({str(path)!r}); print(s.cells, 'nbformat' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "((1, 'b = 2'),) False"


# what a mutation may put in a field: every JSON type, and the edge cases of each rule
VALUES: list[Any] = [None, True, False, 0, 1, -1, 2.5, "", "x", "auto", "a,b", "a\nb",
                     "bad id!", "x" * 65, "ok-id_1", [], ["a"], ["a", "a"], ["a", 1],
                     ["a,b"], {}, {"name": "n"}, {"name": "n", "display_name": "d"},
                     {"source_hidden": "no"}, {"a": 1}, {"a": "b"}]
CELL_KEYS = ["id", "cell_type", "metadata", "source", "outputs", "execution_count",
             "attachments", "extra"]
METADATA_KEYS = ["collapsed", "scrolled", "tags", "jupyter", "execution", "name", "format",
                 "deletable", "free"]
NOTEBOOK_METADATA_KEYS = ["kernelspec", "language_info", "orig_nbformat", "title",
                          "authors", "widgets"]


# values each rule accepts, so that many mutants stay plain and are checked too
FITTING: dict[str, list[Any]] = {
    "collapsed": [True, False], "scrolled": [True, False, "auto"],
    "tags": [[], ["x", "y"], ["answer"]], "jupyter": [{}, {"outputs_hidden": True}, {"a": 1}],
    "execution": [{}, {"iopub.status.idle": "2026"}], "free": VALUES, "deletable": [True]}


def mutate(notebook: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    nb = copy.deepcopy(notebook)
    for _ in range(rng.choice([1, 1, 2, 3])):
        cell = rng.choice(nb["cells"]) if nb["cells"] else {}
        where = rng.randrange(9)
        if where >= 7 and isinstance(cell.get("metadata"), dict):
            key = rng.choice(list(FITTING))
            cell["metadata"][key] = rng.choice(FITTING[key])
            continue
        if where == 0:
            nb[rng.choice(["nbformat", "nbformat_minor", "extra"])] = rng.choice(
                VALUES + [3, 4, 5, 6, "4", 4.0])
        elif where == 1:
            nb["metadata"][rng.choice(NOTEBOOK_METADATA_KEYS)] = rng.choice(VALUES)
        elif where == 2:
            cell[rng.choice(CELL_KEYS)] = rng.choice(VALUES + ["code", "markdown", "raw"])
        elif where == 3 and cell:
            cell.pop(rng.choice(list(cell)), None)
        elif where == 4 and isinstance(cell.get("metadata"), dict):
            cell["metadata"][rng.choice(METADATA_KEYS)] = rng.choice(VALUES)
        elif where == 5 and nb["cells"]:
            nb["cells"].append(copy.deepcopy(cell))          # a repeated id, at 4.5
        else:
            nb["nbformat_minor"] = rng.choice([0, 2, 4, 5, 6])
    return nb


def test_what_skips_nbformat_is_what_nbformat_reads_silently() -> None:
    rng = random.Random(20261206)
    passed = 0
    for trial in range(800):
        notebook = mutate(rng.choice(BASES), rng)
        if not _plain_v4(notebook):
            continue
        passed += 1
        cells, error = nbformat_reading(notebook)
        assert error is None, (trial, notebook)
        assert cells == [_text(c["source"]) for c in notebook["cells"]
                         if c["cell_type"] == "code"], trial
    assert 150 < passed < 650        # the mutations exercise both ways


def test_the_rules_cover_every_field_nbformat_schemas_define() -> None:
    cell_metadata, notebook_metadata = set(), set()
    for schema_file in SCHEMAS.glob("nbformat.v4.*.schema.json"):
        schema = json.loads(schema_file.read_text("utf-8"))
        notebook_metadata |= set(schema["properties"]["metadata"].get("properties", {}))
        assert set(schema["required"]) == {"cells", "metadata", "nbformat", "nbformat_minor"}
        for kind in ("code", "markdown", "raw"):
            cell = schema["definitions"][f"{kind}_cell"]
            cell_metadata |= set(cell["properties"]["metadata"].get("properties", {}))
            assert set(cell["properties"]) - {"id", "attachments"} == sources._CELL_KEYS[kind]
    assert cell_metadata <= sources._SCHEMA_CELL_METADATA
    assert notebook_metadata <= sources._SCHEMA_NOTEBOOK_METADATA


@pytest.mark.parametrize("change, note", [
    (lambda nb: nb["cells"][0]["metadata"].update(collapsed="yes"),
     " in cell 1 (metadata → collapsed) ('yes' is not of type"),
    (lambda nb: nb["cells"][0].update(id="no spaces"), " in cell 1 (id) ('no spaces' does "
     "not match"),
    (lambda nb: nb["metadata"].update(kernelspec={"name": "p"}), " at metadata → kernelspec "
     "('display_name' is a required property)"),
])
def test_a_notebook_off_the_format_is_read_by_nbformat_and_said_so(tmp_path: Path, change,
                                                                   note: str) -> None:
    nb = vscode_like()
    change(nb)
    path = tmp_path / "hw1.ipynb"
    path.write_text(json.dumps(nb), "utf-8")
    source = load(path)
    assert source.cells == ((1, "b = 2"),)
    assert len(source.notes) == 1
    assert source.notes[0].startswith("hw1.ipynb does not fully follow the notebook format")
    assert note in source.notes[0]
    assert source.notes[0].endswith("its code cells were run anyway")


def test_a_number_too_long_to_read_is_one_line_not_a_crash(tmp_path: Path) -> None:
    """json.loads refuses integers past 4,300 digits with a plain ValueError: the file is
    refused in one line, and the worker's guess at what to import falls back quietly."""
    from mcgrade.errors import SubmissionError
    from mcgrade.submission import _preload_for
    path = tmp_path / "hw1.ipynb"
    path.write_text('{"cells": [], "metadata": {"a": ' + "1" * 5000 + '}, "nbformat": 4, '
                    '"nbformat_minor": 4}', "utf-8")
    with pytest.raises(SubmissionError) as caught:
        load(path)
    assert str(caught.value) == ("hw1.ipynb is not a valid notebook: it holds a value that "
                                 "can't be read (a number thousands of digits long); save "
                                 "it again from Jupyter (File → Save)")
    assert _preload_for(path) == ("numpy", "sympy")
