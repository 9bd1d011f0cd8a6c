"""Fixtures of the service tests: an app on a migrated registry, on SQLite and PostgreSQL.

``api_registry`` is one registry per backend and test module (upgraded once); ``client`` is
FastAPI's in-process test client on it. ``make_user`` creates users through the accounts use
case (as an administrator would) and returns a bearer token for them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from api_fixtures import ADMIN, PASSWORD
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dongxi.api.app import create_app
from dongxi.services import accounts
from dongxi.store.db import make_engine, session_scope, upgrade

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def api_registry(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """An engine on a registry at head (one per module and backend)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'registry.db'}"
        upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()
        return
    server = request.getfixturevalue("pg_server_url")
    name = f"dongxi_api_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def client(api_registry: Engine) -> Iterator[TestClient]:
    """An in-process client of the app on the module's registry."""
    with TestClient(create_app(api_registry), base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def make_user(api_registry: Engine) -> Callable[..., tuple[str, str]]:
    """``make_user(role, region=None, partner=None)`` → (username, bearer token)."""

    def make(role: str, region: str | None = None, partner: str | None = None) -> tuple[str, str]:
        username = f"{role}-{uuid.uuid4().hex[:8]}"
        with session_scope(api_registry) as session:
            accounts.add_user(
                session,
                ADMIN,
                username=username,
                password=PASSWORD,
                role=role,
                region=region,
                partner=partner,
            )
            token = accounts.create_token(session, ADMIN, username=username)
        return username, token

    return make
