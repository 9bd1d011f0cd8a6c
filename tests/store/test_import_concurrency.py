"""Two imports of one file at once queue (two real processes, SQLite and PostgreSQL).

The test holds the imports' lock itself (SQLite: the write lock, ``BEGIN IMMEDIATE``;
PostgreSQL: the advisory lock of ``households`` imports), starts two ``python -m dongxi import``
processes on the same file, waits until both say they are waiting, then lets go: one creates every
row, the other finds them unchanged, and the change log holds one chain with one entry per row.
An import that waits longer than ``DONGXI_IMPORT_LOCK_WAIT`` gives up with a message saying
another import is running.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from test_import import counts, households

from dongxi.cli import main
from dongxi.settings import get_settings
from dongxi.store import verify_chain
from dongxi.store.importer import _PG_IMPORT_LOCK, IMPORT_ORDER

pytestmark = pytest.mark.slow


@contextmanager
def _import_lock(engine: Engine) -> Iterator[Connection]:
    """Hold the lock an import of households takes (until the block ends)."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            finally:
                raw.execute("ROLLBACK")
        else:
            with conn.begin():
                conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:a, :b)"),
                    {"a": _PG_IMPORT_LOCK, "b": IMPORT_ORDER.index("households")},
                )
                yield conn


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_two_imports_of_one_file_queue(registry: Engine, tmp_path: Path) -> None:
    path = tmp_path / "hh.csv"
    households(800, prefix="Q").to_csv(path, index=False, encoding="utf-8")
    env = {**os.environ, "DONGXI_DATABASE_URL": _url(registry)}
    logs = [tmp_path / f"p{i}.txt" for i in range(2)]
    procs: list[subprocess.Popen[bytes]] = []
    with registry.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM change_log")).scalar_one()
    try:
        with _import_lock(registry):
            for i, log in enumerate(logs):
                args = [sys.executable, "-m", "dongxi", "--debug", "import", str(path)]
                with log.open("wb") as sink:
                    procs.append(
                        subprocess.Popen(
                            [*args, "--actor", f"p{i}"],
                            env=env,
                            stdout=sink,
                            stderr=subprocess.STDOUT,
                        )
                    )
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                texts = [log.read_text(errors="replace") for log in logs]
                if all("waiting for other imports" in t for t in texts):
                    break
                assert all(p.poll() is None for p in procs), texts
                time.sleep(0.1)
            time.sleep(1.0)  # both are inside their wait now
            assert all(p.poll() is None for p in procs)
            texts = [log.read_text(errors="replace") for log in logs]
            assert not any("lock taken" in t for t in texts), texts
        for proc in procs:
            proc.wait(timeout=180)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    outputs = [log.read_text(errors="replace") for log in logs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert "Traceback" not in "".join(outputs)
    summaries = sorted(
        line.strip() for text in outputs for line in text.splitlines() if "rows —" in line
    )
    assert summaries == [
        "households: 800 rows — 0 created, 0 updated, 800 unchanged, 0 rejected.",
        "households: 800 rows — 800 created, 0 updated, 0 unchanged, 0 rejected.",
    ]
    assert counts(registry)["households"] == 800
    with registry.connect() as conn:
        after = conn.execute(sa.text("SELECT count(*) FROM change_log")).scalar_one()
    assert after - before == 800  # one create entry per household, from one of the two
    assert verify_chain(registry).ok


def test_import_gives_up_with_a_clear_message(
    registry: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "hh.csv"
    households(3, prefix="G").to_csv(path, index=False, encoding="utf-8")
    monkeypatch.setenv("DONGXI_DATABASE_URL", _url(registry))
    monkeypatch.setenv("DONGXI_IMPORT_LOCK_WAIT", "0.5")
    get_settings.cache_clear()
    try:
        with _import_lock(registry):
            started = time.monotonic()
            assert main(["import", str(path)]) == 2
            waited = time.monotonic() - started
        err = capsys.readouterr().err
        assert "Another import is running (households)" in err
        assert "waited 0.5 s" in err and "Nothing was written" in err
        assert waited >= 0.5
        assert counts(registry)["households"] == 0
        assert main(["import", str(path)]) == 0  # free again: the same import runs
        assert counts(registry)["households"] == 3
    finally:
        get_settings.cache_clear()
