"""Bulk loads (an import at least as large as its table): on PostgreSQL the foreign keys of the
table are dropped for the load and re-created in the same transaction. The registry must end up
exactly as a row-by-row load leaves it, with the same constraints, and a failure must roll the
constraints back with the rows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from test_import import counts, dump, households, income, people

import dongxi.store._changelog as changelog
import dongxi.store._import_write as import_write
import dongxi.store.importer as importer
from dongxi.settings import get_settings
from dongxi.store import verify_chain
from dongxi.store.importer import import_frames

TABLES = ("households", "people", "income", "household_status")


def constraints(engine: Engine) -> list[tuple[Any, ...]]:
    """Every constraint of the registry's tables as PostgreSQL shows it (name, definition)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), "
                "convalidated FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
                "ORDER BY 1, 2"
            )
        ).all()
    return [tuple(r) for r in rows]


def bulk_threshold(monkeypatch: pytest.MonkeyPatch, rows: int) -> None:
    """Set ``DONGXI_IMPORT_BULK_MIN_ROWS`` for this test."""
    monkeypatch.setenv("DONGXI_IMPORT_BULK_MIN_ROWS", str(rows))
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def small_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make a few dozen rows a bulk load (and sent by COPY on PostgreSQL)."""
    bulk_threshold(monkeypatch, 10)
    monkeypatch.setattr(import_write, "_COPY_MIN_ROWS", 5)


def frames(n: int = 24) -> dict[Any, Any]:
    hh = households(n, prefix="B")
    return {"households": hh, "people": people(hh), "income": income(hh)}


def test_bulk_load_keeps_constraints_and_stores_the_same(
    registry: Engine, small_bulk: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = constraints(registry)
    results = import_frames(registry, frames(), actor="tester")
    assert all(r.ok and r.written for r in results.values())
    assert constraints(registry) == before
    bulk_rows = snapshot(registry)
    stats = counts(registry)
    assert stats["households"] == 24 and stats["people"] == 72 and stats["income"] == 24
    assert verify_chain(registry).ok

    # the same import row by row (no bulk load) stores the same rows
    with registry.begin() as conn:
        for table in ("income", "people", "household_status", "households"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
    bulk_threshold(monkeypatch, 10**9)
    import_frames(registry, frames(), actor="tester")
    assert snapshot(registry) == bulk_rows


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of the loaded tables (``household_status`` without its serial id)."""
    out = {t: dump(engine, t, k) for t, k in _KEYS.items()}
    out["household_status"] = [r[1:] for r in out["household_status"]]
    return out


_KEYS = {
    "households": "household_code",
    "people": "id_hash",
    "income": "household_code, year",
    "household_status": "household_code",
}


def test_foreign_keys_hold_after_a_bulk_load(registry: Engine, small_bulk: None) -> None:
    import_frames(registry, frames(), actor="tester")
    with pytest.raises(sa.exc.IntegrityError), registry.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO income (household_code, year, wage_income, operating_income, "
                "property_income, transfer_income, production_costs, household_size, "
                "net_income_per_capita, row_version, created_at, updated_at) VALUES "
                "('NO-SUCH-HOUSEHOLD', 2019, 0, 0, 0, 0, 0, 1, 0, 1, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )


def test_a_failed_bulk_load_leaves_rows_and_constraints_as_before(
    registry: Engine, small_bulk: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = constraints(registry)
    counts_before = counts(registry)

    def broken(**_kwargs: Any) -> Any:
        raise RuntimeError("simulated failure while the rows are being loaded")

    # fails inside the load (after the foreign keys were dropped on PostgreSQL)
    monkeypatch.setattr(importer, "prepare_created", broken)
    with pytest.raises(RuntimeError, match="simulated"):
        import_frames(registry, frames(), actor="tester")
    assert counts(registry) == counts_before
    assert constraints(registry) == before


def test_change_log_bulk_load_keeps_prev_hash_unique(
    registry: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulk append to the change log re-creates the UNIQUE constraint on ``prev_hash``: the
    chain still cannot fork afterwards, and a failed append leaves the constraint in place."""
    bulk_threshold(monkeypatch, 10)
    monkeypatch.setattr(changelog, "table_rows_estimate", lambda _conn, _table: 0)
    before = constraints(registry)
    keys = [f"K{i}" for i in range(30)]
    with registry.begin() as conn:
        written = changelog.record_created(
            conn, actor="tester", entity="bulk", keys=keys, records={"note": keys}
        )
    assert written == 30
    assert constraints(registry) == before
    assert verify_chain(registry).ok
    fork = (
        "INSERT INTO change_log (at, actor, action, entity, entity_key, before, after, "
        "prev_hash, entry_hash) SELECT at, actor, action, entity, 'fork', before, after, "
        "prev_hash, entry_hash FROM change_log WHERE entity = 'bulk' ORDER BY seq DESC LIMIT 1"
    )
    with pytest.raises(sa.exc.IntegrityError), registry.begin() as conn:
        conn.execute(sa.text(fork))

    def broken(_connection: Any, rows: Any) -> int:
        next(iter(rows))
        raise RuntimeError("simulated failure inside the change log's bulk load")

    monkeypatch.setattr(changelog, "_copy_postgres", broken)
    monkeypatch.setattr(changelog, "_insert_sqlite", broken)
    with pytest.raises(RuntimeError, match="simulated"), registry.begin() as conn:
        changelog.record_created(
            conn, actor="tester", entity="bulk", keys=keys, records={"note": keys}
        )
    assert constraints(registry) == before
    assert verify_chain(registry).ok


def test_bulk_load_of_a_table_in_use_checks_row_by_row(registry: Engine, small_bulk: None) -> None:
    """While another transaction reads ``people`` (holding its lock), a bulk load of people does
    not wait for it: after a short wait it loads row by row, so neither blocks the other and two
    bulk loads of one table cannot deadlock. (Without the fallback this test would hang on
    PostgreSQL: the import would wait for the reader, which waits for the import to return.)
    On SQLite (no bulk loads) the reader does not block the import either."""
    hh = households(12, prefix="U")
    import_frames(registry, {"households": hh}, actor="tester")
    before = constraints(registry)
    reader = registry.connect()
    try:
        reading = reader.begin()
        assert reader.execute(sa.text("SELECT count(*) FROM people")).scalar_one() == 0
        start = time.monotonic()
        results = import_frames(registry, {"people": people(hh)}, actor="tester")
        waited = time.monotonic() - start
        assert results["people"].ok and results["people"].created == 36
        # the reader was never blocked: PostgreSQL (read committed) shows it the committed rows,
        # SQLite (WAL: a read transaction keeps its snapshot) still shows it none
        seen = reader.execute(sa.text("SELECT count(*) FROM people")).scalar_one()
        assert seen == (36 if registry.dialect.name == "postgresql" else 0)
        reading.rollback()
    finally:
        reader.close()
    assert waited < 30
    assert constraints(registry) == before
    assert counts(registry)["people"] == 36
