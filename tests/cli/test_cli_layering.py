"""The command line is thin: its modules parse, call one use case and print.

Every module of ``src/dongxi/cli/`` is parsed with ``ast`` (nothing is imported or run) and may
not import the registry, the engines, the intake or the heavy libraries — neither at module level
nor inside a function. Use cases live in :mod:`dongxi.services`. The modules named in ``EXEMPT``
are left out, each with its reason; the list is meant to shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "src" / "dongxi" / "cli"

#: Packages a command module may not import (a prefix matches its sub-modules too).
FORBIDDEN = (
    "dongxi.store",
    "dongxi.measure",
    "dongxi.market",
    "dongxi.intake",
    "sqlalchemy",
    "pandas",
)
#: Packages a command module may not import at module level (``dongxi --help`` stays fast).
HEAVY_AT_START = (
    *FORBIDDEN,
    "ibis",
    "numpy",
    "pyarrow",
    "pydantic",
    "rich",  # typer imports it when it renders help; cli/_present.py makes consoles on first use
    "dongxi.policy",
    "dongxi.synth",
    "dongxi.demo",
    "dongxi.report",
)

#: module → why it is not checked yet.
EXEMPT: dict[str, str] = {}


def _imports(tree: ast.AST, *, top_level_only: bool) -> list[tuple[int, str]]:
    nodes = ast.iter_child_nodes(tree) if top_level_only else ast.walk(tree)
    found: list[tuple[int, str]] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _hits(module: str, banned: tuple[str, ...]) -> bool:
    return any(module == b or module.startswith(b + ".") for b in banned)


def _modules() -> list[Path]:
    return sorted(p for p in CLI.glob("*.py") if p.name not in EXEMPT)


def test_the_exempt_modules_exist_and_are_few() -> None:
    assert len(EXEMPT) <= 1
    for name in EXEMPT:
        assert (CLI / name).is_file(), f"{name} is exempt but gone: drop it from EXEMPT"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_command_module_imports_no_lower_layer(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = [f"line {n}: {m}" for n, m in _imports(tree, top_level_only=False) if _hits(m, FORBIDDEN)]
    assert bad == [], f"{path.name} reaches below the use cases: {bad}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_command_module_imports_nothing_heavy_at_start(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = [
        f"line {n}: {m}" for n, m in _imports(tree, top_level_only=True) if _hits(m, HEAVY_AT_START)
    ]
    assert bad == [], f"{path.name} imports at module level: {bad}"


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    source = "def f():\n    from dongxi.store.db import make_engine\n    import pandas as pd\n"
    found = [m for _, m in _imports(ast.parse(source), top_level_only=False)]
    assert [m for m in found if _hits(m, FORBIDDEN)] == [
        "dongxi.store.db",
        "dongxi.store.db.make_engine",
        "pandas",
    ]
    assert _imports(ast.parse(source), top_level_only=True) == []
