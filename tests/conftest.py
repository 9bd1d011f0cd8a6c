"""Fixtures shared by every test: the shared reference data and a real PostgreSQL database.

PostgreSQL: ``DONGXI_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
names a server where the tests may create databases. Each test session (each xdist worker) gets a
fresh database of its own, dropped at the end, so concurrent runs never see each other's tables.
Without a server the PostgreSQL tests skip, except under ``CI=true``, where they fail.

ID-number keys: dongxi has no default key, so the suite sets ``DONGXI_ENCRYPTION_KEY`` and
``DONGXI_LOOKUP_KEY`` for itself, random for each run (each xdist worker: its own keys and its
own databases). Tests of missing or wrong keys change them with ``monkeypatch``.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# session-wide keys, set before any test module reads the settings (subprocesses inherit them)
os.environ["DONGXI_ENCRYPTION_KEY"] = secrets.token_urlsafe(32)
os.environ["DONGXI_LOOKUP_KEY"] = secrets.token_urlsafe(32)
# the default data folder (jobs' files, the default SQLite registry) is a temporary one, so that
# no test leaves files in the working directory; tests that need a folder of their own set it
os.environ["DONGXI_DATA_DIR"] = tempfile.mkdtemp(prefix="dongxi-test-data-")


def _shared_dir() -> Path:
    env = os.environ.get("DONGXI_SHARED_DIR")
    return Path(env) if env else REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``shared/`` folder beside the repository (or ``DONGXI_SHARED_DIR``)."""
    path = _shared_dir()
    if not (path / "data").is_dir():
        if IN_CI:
            pytest.fail(f"shared data folder {path} is missing under CI=true")
        pytest.skip(f"shared data folder {path} is not present (set DONGXI_SHARED_DIR)")
    return path


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """URL of a PostgreSQL server database the tests may use to create databases."""
    import sqlalchemy as sa

    url = os.environ.get("DONGXI_TEST_POSTGRES_URL", DEFAULT_PG)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true but {url} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {url} is unreachable: {exc}")
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def pg_url(pg_server_url: str) -> Iterator[str]:
    """SQLAlchemy URL (``postgresql+psycopg://``) of a fresh, empty database for this session."""
    import sqlalchemy as sa

    name = f"dongxi_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(pg_server_url).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
