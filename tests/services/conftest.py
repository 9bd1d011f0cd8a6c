"""Fixtures of the use-case tests: a real SQLite registry per test and a small synthetic panel.

The registry is upgraded (schema and reference data) once per session and copied for each test,
so every test starts from the same empty registry and none sees another's rows.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dongxi.services import Principal, Scope
from dongxi.store.db import make_engine, upgrade
from dongxi.synth import SynthData, generate

ROUNDS = (2016, 2019)


@pytest.fixture(scope="session")
def empty_registry_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "registry.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def registry(empty_registry_file: Path, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a fresh copy of the empty registry (at head, reference data loaded)."""
    path = tmp_path / "registry.db"
    shutil.copy(empty_registry_file, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@cache
def panel() -> SynthData:
    """80 synthetic households, rounds 2016 and 2019 (deterministic)."""
    return generate(households=80, seed=11, years=ROUNDS)


@pytest.fixture
def admin() -> Principal:
    return Principal(name="tester", role="admin", scope=Scope.everything())
