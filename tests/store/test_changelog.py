"""The change log: append-only, hash-chained, tampering detected, ID numbers masked."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from store_factories import id_number

from dongxi.errors import InputError
from dongxi.store import Change, change_history, record_changes, verify_chain
from dongxi.store._changelog import GENESIS_HASH

NUMBER = id_number(321)


def _last_seq(conn: Connection) -> int:
    return int(conn.execute(sa.text("SELECT max(seq) FROM change_log")).scalar_one())


def _write(engine: Engine, n: int, *, entity: str = "households") -> None:
    changes = [
        Change(
            key=f"H{i:05d}",
            before=None,
            after={"household_code": f"H{i:05d}", "id_number": NUMBER, "name": "张三丰"},
        )
        for i in range(n)
    ]
    with engine.begin() as conn:
        assert (
            record_changes(conn, actor="tester", action="create", entity=entity, changes=changes)
            == n
        )


def test_bulk_write_chains_and_masks(registry: Engine) -> None:
    _write(registry, 1200)
    check = verify_chain(registry)
    assert check.ok, check
    assert check.entries >= 1200
    with registry.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT after, prev_hash FROM change_log ORDER BY seq DESC LIMIT 1200")
        ).all()
        history = change_history(conn, entity="households", key="H00007")
    for after, _prev in rows:
        assert NUMBER not in after
        assert "张三丰" not in after
        assert json.loads(after)["id_number"] == NUMBER[:4] + "*" * 10 + NUMBER[-4:]
    assert history[-1]["after"]["household_code"] == "H00007"
    assert history[-1]["actor"] == "tester"


def test_first_entry_links_to_genesis(registry: Engine) -> None:
    _write(registry, 1)
    with registry.connect() as conn:
        first = conn.execute(sa.text("SELECT prev_hash FROM change_log ORDER BY seq LIMIT 1"))
        assert first.scalar_one() == GENESIS_HASH


def test_rolled_back_transaction_leaves_no_entries(registry: Engine) -> None:
    _write(registry, 1)
    with registry.connect() as conn:
        before = _last_seq(conn)
    with pytest.raises(RuntimeError), registry.begin() as conn:
        record_changes(
            conn,
            actor="t",
            action="create",
            entity="households",
            changes=[Change(key="X", after={"a": 1})],
        )
        raise RuntimeError("import failed")
    with registry.connect() as conn:
        assert _last_seq(conn) == before
    assert verify_chain(registry).ok


@pytest.mark.parametrize(
    "statement", ["UPDATE change_log SET actor = 'mallory'", "DELETE FROM change_log"]
)
def test_update_and_delete_refused_by_database(registry: Engine, statement: str) -> None:
    _write(registry, 2)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), registry.begin() as conn:
        conn.execute(sa.text(statement))
    assert verify_chain(registry).ok


def _disable_protection(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ALTER TABLE change_log DISABLE TRIGGER USER"))
    else:
        conn.execute(sa.text("DROP TRIGGER change_log_no_update"))
        conn.execute(sa.text("DROP TRIGGER change_log_no_delete"))


def test_tampering_detected(registry: Engine) -> None:
    """Edit, then delete, an entry behind the triggers' back (rolled back afterwards)."""
    _write(registry, 5)
    with registry.connect() as conn:
        transaction = conn.begin()
        try:
            _disable_protection(conn)
            seq = _last_seq(conn) - 2
            conn.execute(
                sa.text("UPDATE change_log SET actor = 'mallory' WHERE seq = :s"), {"s": seq}
            )
            check = verify_chain(conn)
            assert not check.ok
            assert check.broken_at == seq
            assert "changed" in (check.reason or "")
            conn.execute(
                sa.text("UPDATE change_log SET actor = 'tester' WHERE seq = :s"), {"s": seq}
            )
            assert verify_chain(conn).ok
            conn.execute(sa.text("DELETE FROM change_log WHERE seq = :s"), {"s": seq})
            check = verify_chain(conn)
            assert not check.ok
            assert check.broken_at == seq + 1
            assert "removed" in (check.reason or "")
        finally:
            transaction.rollback()
    assert verify_chain(registry).ok  # the rollback restored entries and triggers


def test_fields_checked(registry: Engine) -> None:
    with pytest.raises(InputError), registry.begin() as conn:
        record_changes(conn, actor="", action="create", entity="households", changes=[])
