"""The change log: append-only, hash-chained, tampering detected, ID numbers masked."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from store_factories import id_number

from dongxi.errors import InputError
from dongxi.store import Change, change_history, record_changes, verify_chain
from dongxi.store._changelog import GENESIS_HASH, canonical_json, redact

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
        assert json.loads(after)["id_number"] == NUMBER[:4] + "*" * 14
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


def test_awkward_text_round_trips_and_verifies(registry: Engine) -> None:
    # tabs, newlines, backslashes and quotes must survive PostgreSQL's COPY text format
    awkward = 'a\tb\nc\r\\d"e\\N'
    changes = [
        Change(key=f"K{awkward}{i}", before={"note": awkward}, after={"note": None, "n": i})
        for i in range(3)
    ]
    with registry.begin() as conn:
        record_changes(
            conn, actor=f"act\\{awkward}"[:100], action="update", entity="notes", changes=changes
        )
    assert verify_chain(registry).ok
    with registry.connect() as conn:
        history = change_history(conn, entity="notes", key=f"K{awkward}1")
    assert history[0]["actor"] == f"act\\{awkward}"
    assert history[0]["before"] == {"note": awkward}
    assert history[0]["after"] == {"n": 1, "note": None}


def test_redact_and_canonical_json() -> None:
    number = id_number(7)
    record = {
        "name": "张三丰",
        "id_encrypted": b"\x01secret",
        "id_number": number.lower(),
        "spouse_id": number,  # an ID number under an unexpected name is masked too
        "household_code": "450123100200000001",  # 18 digits, but not an ID number
        7: dt.date(2020, 1, 2),
        "at": dt.datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
        "wage": np.float64(3485.5),
        "members": np.int64(4),
        "nested": {"b": 1, "a": [1, "x"]},
        "huge": 2**70,
    }
    masked = number[:4] + "*" * 14
    clean = redact(record)
    assert clean is not None
    assert list(clean) == sorted(clean)
    assert "id_encrypted" not in clean
    assert clean["id_number"] == masked
    assert clean["spouse_id"] == masked
    assert clean["household_code"] == "450123100200000001"
    assert clean["name"] == "张**"
    text = canonical_json(record)
    assert text is not None
    assert number not in text
    assert "张三丰" not in text
    # the standard library gives the same text (fallback for values orjson cannot write)
    expected = json.dumps(
        {
            **clean,
            "7": "2020-01-02",
            "at": "2020-01-02T03:04:05.000006+00:00",
            "wage": 3485.5,
            "members": 4,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert text == expected
    # without the 70-bit integer orjson writes it: the same text as the standard library
    small = {k: v for k, v in record.items() if k != "huge"}
    loaded = json.loads(expected)
    del loaded["huge"]
    assert canonical_json(small) == json.dumps(
        loaded, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


@pytest.mark.parametrize("special", ["\t", "\n", "\r", "\\", "\\N", "a\\tb"])
def test_values_with_copy_control_characters_round_trip(registry: Engine, special: str) -> None:
    """Keys and values holding tabs, line ends or backslashes are stored exactly (PostgreSQL
    COPY escapes them), in blocks that also hold plain entries and NULLs."""
    changes = [Change(key=f"K{i}", after={"note": f"plain {i}"}) for i in range(30)]
    changes.append(Change(key=f"K{special}X", after={"note": f"x{special}y"}))
    changes.append(Change(key="K-before", before={"note": special}, after=None))
    with registry.begin() as conn:
        record_changes(conn, actor=f"actor{special}", action="create", entity="t", changes=changes)
    check = verify_chain(registry)
    assert check.ok, check
    with registry.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT actor, entity_key, before, after FROM change_log "
                "WHERE entity = 't' ORDER BY seq DESC LIMIT 2"
            )
        ).all()
    (actor2, key2, before2, after2), (actor1, key1, before1, after1) = rows
    assert actor1 == actor2 == f"actor{special}"
    assert key1 == f"K{special}X" and before1 is None
    assert json.loads(after1) == {"note": f"x{special}y"}
    assert key2 == "K-before" and after2 is None
    assert json.loads(before2) == {"note": special}
