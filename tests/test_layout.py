"""The layout rules: layers import downwards only, no cycles, small modules, a short top level.

import-linter would be the usual tool, but it accepts only packages as roots and the user fixed
most of the service as top-level modules, so this reads every import with `ast` instead,
TYPE_CHECKING blocks and function-level imports included.
"""

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("routers", "kit", "access", "catalogue", "prm", "reporting", "system", "credit", "claims")
MAX_TOP_LEVEL_MODULES = 14
MAX_MODULE_LINES = 500

# Top to bottom; a module may import its own layer (no cycles) and any layer below it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("main", "manage", "serve"),
    ("routers",),
    ("prm_import", "reports", "system", "credit", "claims"),
    ("prm", "catalogue", "reporting"),
    ("tally_cache",),
    ("access",),
    ("database", "tally_client"),
    ("models", "schemas"),
    ("kit",),
    ("errors", "settings"),
)
# Pairs on one layer that must not import each other, in either direction.
INDEPENDENT = {("database", "tally_client")}
# (importer prefix, imported prefix): forbidden even where the layers would allow it.
FORBIDDEN = (
    ("reports", "tally_client"),
    ("tally_client", "database"),
    ("tally_client", "models"),
    ("tally_client", "sqlalchemy"),
    ("routers", "sqlalchemy"),
)
# Service code never speaks HTTP: only routers, main, errors, database (the session dependency)
# and the toolkit's middleware and lanes may import the web framework.
WEB_FRAMEWORKS = ("fastapi", "starlette")
MAY_IMPORT_WEB = ("main", "routers", "errors", "database", "kit.request_log", "kit.upload_limit", "kit.lanes")


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


def _top(module: str) -> str:
    return module.split(".")[0]


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def our_modules(root: Path) -> dict[str, Path]:
    """Module name -> file, for every module of ours (not tests, benchmarks, tools or migrations)."""
    found = {path.stem: path for path in root.glob("*.py")}
    for package in PACKAGES:
        for path in sorted((root / package).glob("*.py")):
            found[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return found


def imports_of(name: str, path: Path, known: Iterable[str]) -> list[Import]:
    """Every import in the file, anywhere in it, as absolute names (ours and third-party)."""
    known = set(known)
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend(Import(name, alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.append(Import(name, candidate if candidate in known else node.module, node.lineno))
    return found


def _layer(module: str) -> int | None:
    for index, names in enumerate(LAYERS):
        if any(_within(module, top) for top in names):
            return index
    return None


def violations(root: Path) -> list[str]:
    """Every broken rule in the tree at `root`, as sentences; empty when the layout holds."""
    modules = our_modules(root)
    problems: list[str] = []
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for imp in imports_of(name, path, modules):
            where = f"{path.relative_to(root)}:{imp.line}"
            for importer, imported in FORBIDDEN:
                if _within(name, importer) and _within(imp.imported, imported):
                    problems.append(f"{where}: {name} must not import {imp.imported}")
            if _top(imp.imported) in WEB_FRAMEWORKS and not any(_within(name, m) for m in MAY_IMPORT_WEB):
                problems.append(f"{where}: {name} is not HTTP code and must not import {imp.imported}")
            target = next((m for m in (imp.imported, _top(imp.imported)) if m in modules), None)
            if target is None or target == name:
                continue
            graph[name].add(target)
            own, theirs = _layer(name), _layer(target)
            if own is None:
                problems.append(f"{path.relative_to(root)}: {name} belongs to no layer; add it to LAYERS")
            elif theirs is not None and theirs < own:
                problems.append(f"{where}: {name} (layer {own}) imports {target}, a layer above it ({theirs})")
            pair = (_top(name), _top(target))
            if pair in INDEPENDENT or pair[::-1] in INDEPENDENT:
                problems.append(f"{where}: {pair[0]} and {pair[1]} must stay independent")
            if _top(name) == "kit" and _top(target) not in ("kit", "settings", "errors"):
                problems.append(f"{where}: the toolkit imports {target}; it may import only settings and errors")
    problems.extend(f"import cycle: {' -> '.join(cycle)}" for cycle in _cycles(graph))
    return problems


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


class TestTheLayout:
    def test_every_import_goes_down_the_layers_without_a_cycle(self) -> None:
        assert violations(ROOT) == []

    def test_the_top_level_holds_at_most_fourteen_modules(self) -> None:
        top = sorted(path.name for path in ROOT.glob("*.py"))

        assert len(top) <= MAX_TOP_LEVEL_MODULES, top

    def test_no_module_is_over_five_hundred_lines(self) -> None:
        long = {str(path.relative_to(ROOT)): lines for path in our_modules(ROOT).values()
                if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}

        assert long == {}

    def test_every_package_says_what_it_holds_and_may_import(self) -> None:
        silent = [package for package in PACKAGES if (ROOT / package).is_dir()
                  and "import" not in (ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text())) or "")]

        assert silent == []


class TestTheChecker:
    """The checker itself must catch what it is there to catch."""

    @pytest.fixture
    def tree(self, tmp_path: Path) -> Path:
        for name in ("errors", "settings", "models", "schemas", "database", "tally_client", "reports"):
            (tmp_path / f"{name}.py").write_text('"""x."""\n')
        for package in ("kit", "routers"):
            (tmp_path / package).mkdir()
            (tmp_path / package / "__init__.py").write_text('"""Holds x; may import nothing."""\n')
        (tmp_path / "kit" / "money.py").write_text("import errors\n")
        (tmp_path / "routers" / "things.py").write_text("import reports\n")
        return tmp_path

    def test_a_clean_tree_has_no_violations(self, tree: Path) -> None:
        assert violations(tree) == []

    def test_it_reports_a_toolkit_module_that_imports_a_model(self, tree: Path) -> None:
        (tree / "kit" / "money.py").write_text("import errors\nfrom models import Product\n")

        assert violations(tree) == [
            "kit/money.py:2: kit.money (layer 8) imports models, a layer above it (7)",
            "kit/money.py:2: the toolkit imports models; it may import only settings and errors",
        ]

    def test_it_reports_an_import_hidden_under_type_checking(self, tree: Path) -> None:
        (tree / "models.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import reports\n")

        assert violations(tree) == ["models.py:3: models (layer 7) imports reports, a layer above it (2)"]

    def test_it_reports_a_cycle_within_one_layer(self, tree: Path) -> None:
        (tree / "models.py").write_text("import schemas\n")
        (tree / "schemas.py").write_text("import models\n")

        assert violations(tree) == ["import cycle: models -> schemas -> models"]

    def test_it_reports_a_router_that_runs_sql_and_a_report_that_calls_tally(self, tree: Path) -> None:
        (tree / "routers" / "things.py").write_text("import reports\nfrom sqlalchemy import select\n")
        (tree / "reports.py").write_text("def f():\n    import tally_client\n")

        assert violations(tree) == [
            "reports.py:2: reports must not import tally_client",
            "routers/things.py:2: routers.things must not import sqlalchemy",
        ]
