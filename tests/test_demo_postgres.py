"""``dongxi demo`` on the registry the user configured: PostgreSQL by ``--url`` or
``DONGXI_DATABASE_URL``; ``--force`` replaces only a previous demo's registry, never a database
the demo did not build."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dongxi._demodb import MARKER_TABLE
from dongxi.cli import main
from dongxi.settings import get_settings

pytestmark = pytest.mark.postgres


@pytest.fixture
def scratch_url(pg_server_url: str) -> Iterator[str]:
    name = f"dongxi_demo_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _scalar(url: str, sql: str) -> object:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_demo_builds_in_postgres_and_force_replaces_only_its_own(
    scratch_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "demo"
    args = ["demo", "--dir", str(folder), "--households", "300", "--seed", "7"]
    assert main([*args, "--url", scratch_url]) == 0
    out = capsys.readouterr().out
    assert "registry 登记库: postgresql+psycopg://" in out
    assert _scalar(scratch_url, "SELECT count(*) FROM households") == 300
    first_id = _scalar(scratch_url, f"SELECT demo_id FROM {MARKER_TABLE}")
    assert not (folder / "dongxi.db").exists()  # no SQLite registry beside it
    assert (folder / "report.html").is_file()
    assert (folder / "snapshots" / "2019" / "manifest.json").is_file()

    # again without --force: refused, the registry untouched
    assert main([*args, "--url", scratch_url]) == 2
    assert "already holds a demo" in capsys.readouterr().err
    assert _scalar(scratch_url, f"SELECT demo_id FROM {MARKER_TABLE}") == first_id

    # --force through DONGXI_DATABASE_URL: the previous demo replaced
    monkeypatch.setenv("DONGXI_DATABASE_URL", scratch_url)
    get_settings.cache_clear()
    try:
        assert main([*args, "--force"]) == 0
    finally:
        get_settings.cache_clear()
    capsys.readouterr()
    assert _scalar(scratch_url, "SELECT count(*) FROM households") == 300
    assert _scalar(scratch_url, f"SELECT demo_id FROM {MARKER_TABLE}") != first_id


def test_force_never_touches_a_database_the_demo_did_not_build(
    scratch_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = sa.create_engine(scratch_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE office_data (id integer)"))
        conn.execute(sa.text("INSERT INTO office_data VALUES (1), (2)"))
    engine.dispose()
    folder = tmp_path / "demo"
    argv = ["demo", "--dir", str(folder), "--households", "300", "--url", scratch_url, "--force"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "holds tables that no dongxi demo created (office_data)" in err
    assert _scalar(scratch_url, "SELECT count(*) FROM office_data") == 2
    assert _scalar(scratch_url, f"SELECT to_regclass('{MARKER_TABLE}') IS NULL") is True


def test_a_demo_registry_with_foreign_tables_is_not_emptied(
    scratch_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = sa.create_engine(scratch_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {MARKER_TABLE} (demo_id integer, about text)"))
        conn.execute(sa.text("CREATE TABLE office_data (id integer)"))
    engine.dispose()
    argv = ["demo", "--dir", str(tmp_path / "d"), "--households", "300", "--url", scratch_url]
    assert main([*argv, "--force"]) == 2
    assert "also holds tables the demo did not write (office_data)" in capsys.readouterr().err
    assert _scalar(scratch_url, "SELECT count(*) FROM office_data") == 0


def test_sqlite_url_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.db"
    argv = ["demo", "--dir", str(tmp_path / "d"), "--households", "300"]
    assert main([*argv, "--url", f"sqlite:///{other}"]) == 2
    assert "builds a SQLite registry only in its own folder" in capsys.readouterr().err
    assert not other.exists()
    assert not (tmp_path / "d").exists()
