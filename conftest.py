"""Shared test fixtures: small problem sets written to a temporary folder."""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

# Compiled sets are cached in a folder of this run's own (inherited by the CLIs and kernels
# the tests start), never in the user's ~/.cache; tests/test_cache.py tests the cache.
_CACHE = os.environ.setdefault("MCGRADE_CACHE_DIR", tempfile.mkdtemp(prefix="mcgrade-cache-"))

# Test tiers: these modules spawn sandboxes, processes, kernels or a browser; `pytest -m
# "not slow"` runs the rest (the engine, the problem sets, the reporters) in about a minute.
SLOW = {"test_batch", "test_batch_more", "test_check_cells", "test_cli", "test_every_record",
        "test_example_notebooks", "test_gradebook", "test_gradescope_package", "test_hostile",
        "test_late_work",
        "test_notebook", "test_pages_browser", "test_portable", "test_publish",
        "test_pytest_plugin", "test_sandbox_layers", "test_stress", "test_student_install",
        "test_submission_forms", "test_submission_grading", "test_submission_pool",
        "test_submission_runner", "test_submission_sources"}


@pytest.fixture(scope="session", autouse=True)
def _compile_cache() -> Iterator[None]:
    yield
    if Path(_CACHE).name.startswith("mcgrade-cache-"):
        shutil.rmtree(_CACHE, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in SLOW:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def write_set(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write YAML (dedented) to tmp_path/name and return the path."""
    def write(text: str, name: str = "set.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path
    return write
