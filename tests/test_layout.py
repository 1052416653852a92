"""The package layout rules of docs/architecture.md, checked on the source tree.

* Subpackages import one way: ``cli`` -> ``run`` -> the stages, in pipeline order
  (``elements`` -> ``mission`` -> ``geometry`` -> ``link`` -> ``key`` -> ``relay`` -> ``report``)
  -> the base (``io``, ``errors``, ``timebase``, ``zones``). A module may import its own
  package, any base module and any package earlier in that order, never a later one; so there
  are no cycles between packages.
* Every module stays small enough to read as one concept.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "planner"

LAYERS = ["elements", "mission", "geometry", "link", "key", "relay", "report", "run", "cli"]
"""Subpackages in import order: each may import the ones before it."""

BASE = {"io", "errors", "timebase", "zones", "__init__", "__main__"}
"""Modules and packages every layer may import (``__main__`` only runs the CLI)."""

MAX_MODULE_LINES = 650
"""Upper bound on a module's length [lines] (the aim is ~600)."""

MODULES = sorted(PACKAGE.rglob("*.py"))


def _layer(module: Path) -> str:
    return module.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imported_layers(module: Path) -> set[tuple[str, int]]:
    """(first component after ``planner.``, line) of every import of the package in ``module``."""
    found = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "planner" else [
                f"planner.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "planner" and len(parts) > 1:
                found.add((parts[1], node.lineno))
    return found


def test_the_layers_cover_every_subpackage():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(LAYERS) | BASE, packages - set(LAYERS) - BASE


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_one_way(module):
    own = _layer(module)
    if own in BASE and own != "__main__":
        allowed = BASE - {"__main__"}
    elif own == "__main__":
        allowed = BASE | {"cli"}
    else:
        allowed = BASE | set(LAYERS[: LAYERS.index(own) + 1])
    wrong = sorted((line, target) for target, line in _imported_layers(module)
                   if target not in allowed and target != "__version__")
    assert not wrong, f"{module.relative_to(PACKAGE)} ({own}) imports later layers: {wrong}"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_are_small(module):
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module.relative_to(PACKAGE)} has {lines} lines"


def test_test_files_share_helpers_only_through_conftest():
    """A helper two test files need lives in ``tests/conftest.py``, not in one of them."""
    tests = Path(__file__).resolve().parent
    wrong = []
    for path in sorted(tests.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            wrong += [f"{path.relative_to(tests)}:{node.lineno} imports {name}" for name in names
                      if (name.startswith("tests.") and name != "tests.conftest")
                      or name.rpartition(".")[2].startswith("test_")]
    assert not wrong, wrong
