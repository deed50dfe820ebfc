"""Imports flow one way: problem set → answers → checks → verdicts → reports → drivers."""

from __future__ import annotations

import ast
from pathlib import Path

import mcgrade

ROOT = Path(mcgrade.__file__).parent

LAYERS = [   # packages, bottom up: a module may import its own layer or any below it
    {"mcgrade.errors", "mcgrade.model", "mcgrade.records", "mcgrade.settings", "mcgrade.files"},
    {"mcgrade.expressions"},
    {"mcgrade.problemset"},
    {"mcgrade.submission"},
    {"mcgrade.engine"},
    {"mcgrade.grading"},
    {"mcgrade.reporters", "mcgrade.authoring"},
    {"mcgrade.batch"},
    {"mcgrade.cli", "mcgrade.subcommands", "mcgrade.__main__", "mcgrade", "mcgrade.pytest_plugin",
     "mcgrade._pytest_nodes", "mcgrade.api", "mcgrade.jupyter"},
]


def layer_of(module: str) -> int:
    for depth, layer in enumerate(LAYERS):
        for name in layer:
            if module == name or module.startswith(name + ".") and name != "mcgrade":
                return depth
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(p for p in parts if p != "__init__")
        found[name] = path
    return found


def imports_of(path: Path) -> set[str]:
    """The mcgrade modules a file imports (`from pkg import mod` counts as pkg.mod)."""
    known = modules()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                names.add(submodule if submodule in known else node.module)
    return {n for n in names if n == "mcgrade" or n.startswith("mcgrade.")}


def test_every_import_points_down_or_across() -> None:
    known = modules()
    upward = []
    for module, path in known.items():
        for target in imports_of(path):
            if target in known and layer_of(target) > layer_of(module):
                upward.append(f"{module} imports {target}")
    assert upward == []


def test_the_core_never_imports_drivers_or_pytest() -> None:
    for module, path in modules().items():
        if layer_of(module) == len(LAYERS) - 1:
            continue
        text = path.read_text(encoding="utf-8")
        assert "import pytest" not in text and "mcgrade.cli" not in text, module


def test_the_child_script_imports_nothing_from_mcgrade() -> None:
    child = ROOT / "submission" / "_child.py"
    assert imports_of(child) == set()


def test_every_script_beside_the_package_compiles() -> None:
    """bench/, tools/ and examples/ are run by hand, not by the suite: they must at least
    compile on the oldest Python mcgrade supports (3.10: no nested quotes in f-strings)."""
    for path in sorted(ROOT.parent.glob("*/**/*.py")):
        if path.parts[len(ROOT.parent.parts)] in ("bench", "tools", "examples"):
            ast.parse(path.read_text(encoding="utf-8"), str(path), feature_version=(3, 10))


def test_no_module_imports_itself_back() -> None:
    """No circle of imports between modules, not even inside one layer."""
    known = modules()
    graph = {m: {t for t in imports_of(p) if t in known and t != m} for m, p in known.items()}
    circles = []
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            circles.append(" → ".join(path[path.index(module):] + [module]))
            return
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, path + [module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert circles == []
