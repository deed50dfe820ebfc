"""Shared test fixtures: small problem sets written to a temporary folder."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def write_set(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write YAML (dedented) to tmp_path/name and return the path."""
    def write(text: str, name: str = "set.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path
    return write
