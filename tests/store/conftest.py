"""Fixtures of the registry tests: every test runs on SQLite and on PostgreSQL.

``registry`` is an engine on a registry upgraded to head with the reference data loaded once per
test session and backend; before each test the mutable tables are emptied (the change log is
append-only and keeps growing, which the tests allow for). PostgreSQL uses a database of its own,
created from ``pg_server_url``, so other test modules sharing ``pg_url`` are not disturbed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from store_factories import BACKENDS

from dongxi.store.db import make_engine, upgrade

_MUTABLE = (
    "snapshots",
    "people",
    "income",
    "income_months",
    "measures",
    "household_status",
    "households",
    "partners",
    "helpers",
    "key_checks",
)


def new_pg_database(server_url: str) -> tuple[str, Engine]:
    """Create an empty database; returns its URL and an admin engine to drop it with."""
    name = f"dongxi_store_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return url, admin


def drop_pg_database(admin: Engine, url: str) -> None:
    name = sa.make_url(url).database
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def registry_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """URL of a registry at head with regions and pairings loaded (one per session/backend)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('registry') / 'registry.db'}"
        upgrade(url)
        yield url
        return
    server = request.getfixturevalue("pg_server_url")
    url, admin = new_pg_database(server)
    try:
        upgrade(url)
        yield url
    finally:
        drop_pg_database(admin, url)


@pytest.fixture
def registry(registry_url: str) -> Iterator[Engine]:
    """An engine on the shared registry with the mutable tables emptied."""
    engine = make_engine(registry_url)
    with engine.begin() as conn:
        for table in _MUTABLE:
            conn.execute(sa.text(f"DELETE FROM {table}"))
    yield engine
    engine.dispose()


@pytest.fixture
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database (parametrised by the test over ``BACKENDS``)."""
    backend = request.param
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = request.getfixturevalue("pg_server_url")
    url, admin = new_pg_database(server)
    try:
        yield url
    finally:
        drop_pg_database(admin, url)
