"""A killed import leaves no trace, and the ``dongxi import``/``export`` commands' exit codes.

The kill test runs ``python -m dongxi import`` on a large file in a subprocess, waits until the
import is inside its write transaction (SQLite: it holds the database's write lock; PostgreSQL:
the server shows the session inside a transaction running an INSERT/COPY), sends SIGKILL, and checks
that the registry is exactly as before and still usable.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from test_bulk_load import constraints
from test_import import counts, households, people

from dongxi.cli import main
from dongxi.settings import get_settings


@pytest.fixture
def cli_env(registry: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = registry.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DONGXI_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _writing(engine: Engine, url: str, pid: int) -> bool:
    if engine.dialect.name == "sqlite":
        # Inside its write transaction the import holds SQLite's write lock (its pages may all sit
        # in the enlarged page cache, so the WAL file need not grow before the commit): probe the
        # lock with a zero timeout; once the commit is done the lock is free again.
        database = engine.url.database
        assert database is not None
        probe = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        else:
            probe.execute("ROLLBACK")
            return False
        finally:
            probe.close()
    with engine.connect() as conn:
        n = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND pid <> "
                "pg_backend_pid() AND xact_start IS NOT NULL AND state <> 'idle' "
                "AND (query ILIKE 'INSERT%' OR query ILIKE 'COPY%')"
            ),
            {"db": sa.make_url(url).database},
        ).scalar_one()
    return bool(n) and pid > 0


@pytest.mark.slow
@pytest.mark.parametrize("bulk", [False, True], ids=["row-checks", "bulk-load"])
def test_killed_import_leaves_no_trace(
    registry: Engine, cli_env: str, tmp_path: Path, bulk: bool
) -> None:
    """Killed while writing; with ``bulk`` the import is a bulk load (on PostgreSQL its table's
    constraints are dropped while it writes): they must be back, unchanged, after the kill."""
    hh = households(1500, prefix="K")
    path = tmp_path / "big_people.csv"
    assert main(["import", str(_write(hh, tmp_path / "hh.csv"))]) == 0
    people(hh, per_household=4).to_csv(path, index=False, encoding="utf-8")
    before = counts(registry)
    constraints_before = constraints(registry)
    env = {**os.environ, "DONGXI_DATABASE_URL": cli_env}
    if bulk:
        env["DONGXI_IMPORT_BULK_MIN_ROWS"] = "100"
    err = tmp_path / "stderr.txt"
    with err.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dongxi", "import", str(path), "--actor", "killed"],
            env=env,
            stdout=sink,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 180
        seen = False
        while time.monotonic() < deadline and proc.poll() is None:
            if _writing(registry, cli_env, proc.pid):
                seen = True
                break
            time.sleep(0.02)
        assert seen, f"not killed mid-way: {proc.poll()} {err.read_text(errors='replace')}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    registry.dispose()
    if registry.dialect.name == "postgresql":
        _wait_backends_gone(registry, cli_env)
    assert counts(registry) == before
    assert constraints(registry) == constraints_before
    if registry.dialect.name == "sqlite":
        with registry.connect() as conn:
            assert conn.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok"
    # the registry is usable: the same import now runs to the end
    assert main(["import", str(path), "--actor", "again"]) == 0
    assert counts(registry)["people"] == before["people"] + len(hh) * 4


def _wait_backends_gone(engine: Engine, url: str) -> None:
    database = sa.make_url(url).database
    for _ in range(200):
        with engine.connect() as conn:
            n = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                ),
                {"db": database},
            ).scalar_one()
        if n == 0:
            return
        time.sleep(0.05)


def _write(frame: object, path: Path) -> Path:
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    frame.to_csv(path, index=False, encoding="utf-8")
    return path


def test_cli_exit_codes_and_report(cli_env: str, tmp_path: Path) -> None:
    hh = households(4, prefix="C")
    good = _write(hh, tmp_path / "good.csv")
    assert main(["import", str(good)]) == 0
    bad = hh.copy()
    bad.loc[1, "户类型"] = "富裕户"
    bad_path = _write(bad, tmp_path / "bad.csv")
    report = tmp_path / "report.csv"
    assert main(["import", str(bad_path), "--report", str(report)]) == 1
    import pandas as pd

    rows = pd.read_csv(report, dtype=str, encoding="utf-8-sig")
    assert rows[["row", "column", "rule"]].values.tolist() == [["3", "户类型", "domain"]]
    assert main(["import", str(bad_path), "--partial", "--kind", "households"]) == 1
    out = tmp_path / "hh.xlsx"
    assert main(["export", "households", "--out", str(out)]) == 0
    assert main(["import", str(out)]) == 0
    assert main(["import", str(good), "--kind", "nonsense"]) == 2


def test_cli_refuses_a_registry_without_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DONGXI_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        path = _write(households(1), tmp_path / "h.csv")
        assert main(["import", str(path)]) == 2
    finally:
        get_settings.cache_clear()
