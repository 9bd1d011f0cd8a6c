"""Tampering with the change log behind the triggers' back is detected, with its position.

Each test writes through the store, then tampers inside a transaction that is rolled back (the
shared registry stays intact): delete the tail, edit and re-hash, delete in the middle, delete
seals, forge seals; and checks what ``verify_chain`` reports. Tail deletion together with the
seals of the deleted entries is only detected with a recorded head (snapshot, anchor): that limit
is tested too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from store_factories import BACKENDS

from dongxi.store import Change, create_snapshot, record_changes, verify_chain
from dongxi.store._changelog import _entry_hash, anchor_of
from dongxi.store._seal import Anchor, seal_key, seal_mac
from dongxi.store.db import downgrade, make_engine, upgrade

_TABLES = ("change_log", "change_log_seals")


def _write(engine: Engine, n: int, tag: str) -> None:
    """``n`` entries in one transaction (one seal, on the last)."""
    with engine.begin() as conn:
        record_changes(
            conn,
            actor="tester",
            action="create",
            entity="households",
            changes=[Change(key=f"{tag}{i}", after={"i": i}) for i in range(n)],
        )


@contextmanager
def _tampering(engine: Engine) -> Iterator[Connection]:
    """A connection with the append-only triggers off, rolled back at the end."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            for table in _TABLES:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
                else:
                    conn.execute(sa.text(f"DROP TRIGGER {table}_no_update"))
                    conn.execute(sa.text(f"DROP TRIGGER {table}_no_delete"))
            yield conn
        finally:
            transaction.rollback()
    assert verify_chain(engine).ok  # the rollback restored everything


def _seqs(conn: Connection) -> list[int]:
    return [
        int(s) for s in conn.execute(sa.text("SELECT seq FROM change_log ORDER BY seq")).scalars()
    ]


def _sealed(conn: Connection) -> list[int]:
    return [
        int(s)
        for s in conn.execute(sa.text("SELECT seq FROM change_log_seals ORDER BY seq")).scalars()
    ]


def _rehash_from(conn: Connection, seq: int) -> None:
    """Recompute every hash from ``seq`` on (what an attacker without the key can do)."""
    prev = conn.execute(
        sa.text("SELECT entry_hash FROM change_log WHERE seq < :s ORDER BY seq DESC LIMIT 1"),
        {"s": seq},
    ).scalar()
    prev = prev or "0" * 64
    rows = conn.execute(
        sa.text(
            "SELECT seq, at, actor, action, entity, entity_key, before, after FROM change_log "
            "WHERE seq >= :s ORDER BY seq"
        ),
        {"s": seq},
    ).all()
    for row in rows:
        entry = _entry_hash(prev, *row[1:])
        conn.execute(
            sa.text("UPDATE change_log SET prev_hash = :p, entry_hash = :e WHERE seq = :s"),
            {"p": prev, "e": entry, "s": row[0]},
        )
        prev = entry


def test_intact_chain_counts_seals(registry: Engine) -> None:
    _write(registry, 3, "A")
    _write(registry, 2, "B")
    with registry.connect() as conn:
        entries, seals = len(_seqs(conn)), len(_sealed(conn))
    check = verify_chain(registry)
    assert check.ok, check
    assert (check.entries, check.seals) == (entries, seals)


def test_deleted_tail_detected_by_its_seal(registry: Engine) -> None:
    _write(registry, 4, "T")
    with _tampering(registry) as conn:
        seqs = _seqs(conn)
        conn.execute(sa.text("DELETE FROM change_log WHERE seq >= :s"), {"s": seqs[-2]})
        check = verify_chain(conn)
        assert not check.ok
        assert check.broken_at == seqs[-1]  # the sealed head that is gone
        assert check.position == len(seqs) - 1  # the first deleted place
        assert f"deleted from position {len(seqs) - 1} on" in (check.reason or "")


def test_deleted_tail_with_its_seals_detected_by_snapshot_head(
    registry: Engine, tmp_path: Path
) -> None:
    _write(registry, 2, "S")
    info = create_snapshot(registry, folder=tmp_path / "snap")
    head = info.manifest["change_log_head"]
    _write(registry, 2, "U")
    with _tampering(registry) as conn:
        conn.execute(sa.text("DELETE FROM change_log WHERE seq >= :s"), {"s": head["seq"]})
        conn.execute(sa.text("DELETE FROM change_log_seals WHERE seq >= :s"), {"s": head["seq"]})
        check = verify_chain(conn)
        assert not check.ok
        assert check.broken_at == head["seq"]
        assert check.position == head["position"]
        assert f"snapshot {info.snapshot_id}" in (check.reason or "")


def test_deleted_tail_with_its_seals_needs_a_recorded_head(registry: Engine) -> None:
    """The documented limit: without a snapshot record or an anchor, cutting the log back to an
    earlier sealed head (seals included) leaves a valid, shorter chain; an anchor catches it."""
    _write(registry, 2, "V")
    anchor = anchor_of(registry)
    assert anchor is not None
    _write(registry, 3, "W")
    assert verify_chain(registry, anchors=[anchor]).anchors == 1
    with _tampering(registry) as conn:
        cut = _sealed(conn)[-2]  # the head sealed before the last transaction
        conn.execute(sa.text("DELETE FROM change_log WHERE seq > :s"), {"s": cut})
        conn.execute(sa.text("DELETE FROM change_log_seals WHERE seq > :s"), {"s": cut})
        assert verify_chain(conn).ok  # undetectable from inside the database
        conn.execute(sa.text("DELETE FROM change_log WHERE seq >= :s"), {"s": anchor.seq})
        conn.execute(sa.text("DELETE FROM change_log_seals WHERE seq >= :s"), {"s": anchor.seq})
        check = verify_chain(conn, anchors=[anchor])
        assert not check.ok
        assert (check.broken_at, check.position) == (anchor.seq, anchor.position)
        assert "anchor" in (check.reason or "") and "deleted" in (check.reason or "")


def test_edit_and_rehash_detected_by_seals(registry: Engine) -> None:
    _write(registry, 3, "E")
    _write(registry, 3, "F")
    with _tampering(registry) as conn:
        seqs = _seqs(conn)
        target = seqs[-5]  # the second entry of the first of the two writes
        conn.execute(
            sa.text("UPDATE change_log SET actor = 'mallory' WHERE seq = :s"), {"s": target}
        )
        _rehash_from(conn, target)
        check = verify_chain(conn)
        assert not check.ok
        assert check.broken_at == seqs[-4]  # the first seal at or after the edit
        assert check.position == len(seqs) - 3
        assert "differs from its seal" in (check.reason or "")


def test_rehash_with_forged_seals_detected(registry: Engine) -> None:
    _write(registry, 2, "G")
    with _tampering(registry) as conn:
        seqs = _seqs(conn)
        conn.execute(
            sa.text("UPDATE change_log SET entity_key = 'forged' WHERE seq = :s"), {"s": seqs[-1]}
        )
        _rehash_from(conn, seqs[-1])
        new_hash = conn.execute(
            sa.text("SELECT entry_hash FROM change_log WHERE seq = :s"), {"s": seqs[-1]}
        ).scalar_one()
        wrong_key = hashlib.sha256(b"not the key").digest()
        conn.execute(
            sa.text("UPDATE change_log_seals SET entry_hash = :h, mac = :m WHERE seq = :s"),
            {"h": new_hash, "m": seal_mac(wrong_key, seqs[-1], new_hash), "s": seqs[-1]},
        )
        check = verify_chain(conn)
        assert not check.ok
        assert (check.broken_at, check.position) == (seqs[-1], len(seqs))
        assert "does not verify with the seal key" in (check.reason or "")
        # the holder of the key can re-seal: documented, and what the check cannot catch
        conn.execute(
            sa.text("UPDATE change_log_seals SET mac = :m WHERE seq = :s"),
            {"m": seal_mac(seal_key(), seqs[-1], new_hash), "s": seqs[-1]},
        )
        assert verify_chain(conn).ok


def test_deleted_middle_entry_detected(registry: Engine) -> None:
    _write(registry, 5, "M")
    with _tampering(registry) as conn:
        seqs = _seqs(conn)
        conn.execute(sa.text("DELETE FROM change_log WHERE seq = :s"), {"s": seqs[-3]})
        check = verify_chain(conn)
        assert not check.ok
        assert check.broken_at == seqs[-2]
        assert check.position == len(seqs) - 2  # the next entry now sits where it was
        assert "removed" in (check.reason or "")


def test_deleted_seals_detected(registry: Engine) -> None:
    _write(registry, 2, "D")
    _write(registry, 2, "D2")
    with _tampering(registry) as conn:
        seqs = _seqs(conn)
        conn.execute(sa.text("DELETE FROM change_log_seals WHERE seq = :s"), {"s": seqs[-1]})
        check = verify_chain(conn)
        assert not check.ok
        assert (check.broken_at, check.position) == (seqs[-2], len(seqs) - 1)
        assert "not sealed" in (check.reason or "")
        conn.execute(sa.text("DELETE FROM change_log_seals"))
        check = verify_chain(conn)
        assert not check.ok
        assert (check.broken_at, check.position) == (seqs[0], 1)
        assert "not sealed" in (check.reason or "")


def test_entry_appended_without_the_key_detected(registry: Engine) -> None:
    _write(registry, 1, "K")
    with registry.connect() as conn:
        transaction = conn.begin()
        try:
            prev = conn.execute(
                sa.text("SELECT entry_hash FROM change_log ORDER BY seq DESC LIMIT 1")
            ).scalar_one()
            at = dt.datetime.now(dt.UTC).isoformat()
            row = (at, "mallory", "create", "households", "X", None, '{"x":1}')
            conn.execute(
                sa.text(
                    "INSERT INTO change_log (at, actor, action, entity, entity_key, before, "
                    "after, prev_hash, entry_hash) VALUES (:a, :b, :c, :d, :e, :f, :g, :p, :h)"
                ),
                dict(zip("abcdefg", row, strict=True)) | {"p": prev, "h": _entry_hash(prev, *row)},
            )
            seqs = _seqs(conn)
            check = verify_chain(conn)
            assert not check.ok
            assert (check.broken_at, check.position) == (seqs[-1], len(seqs))
            assert "not sealed" in (check.reason or "")
        finally:
            transaction.rollback()


def test_altered_anchor_refused(registry: Engine) -> None:
    _write(registry, 1, "N")
    anchor = anchor_of(registry)
    assert anchor is not None
    moved = Anchor(anchor.seq, anchor.position - 1, anchor.entry_hash, anchor.seal)
    check = verify_chain(registry, anchors=[moved])
    assert not check.ok
    assert "anchor" in (check.reason or "") and "does not verify" in (check.reason or "")
    other_key = hashlib.sha256(b"another key").digest()
    assert not verify_chain(registry, anchors=[anchor], key=other_key).ok


@pytest.mark.parametrize("damage", ["position", "hash"])
def test_anchor_not_matching_the_chain(registry: Engine, damage: str) -> None:
    """A correctly signed anchor whose head differs from the chain's entry at that seq."""
    _write(registry, 2, "P")
    anchor = anchor_of(registry)
    assert anchor is not None
    from dongxi.store._seal import anchor_mac

    position = anchor.position + (1 if damage == "position" else 0)
    entry_hash = "f" * 64 if damage == "hash" else anchor.entry_hash
    key = seal_key()
    forged = Anchor(
        anchor.seq, position, entry_hash, anchor_mac(key, anchor.seq, position, entry_hash)
    )
    check = verify_chain(registry, anchors=[forged])
    assert not check.ok
    assert check.broken_at == anchor.seq
    assert "not the head recorded by the anchor" in (check.reason or "")


@pytest.mark.parametrize("empty_url", BACKENDS, indirect=True)
def test_upgrade_to_0003_seals_the_existing_head(empty_url: str) -> None:
    """A registry written before seals existed gets its head sealed by the migration."""
    assert upgrade(empty_url, "0002", load_reference=False) == "0002"
    engine = make_engine(empty_url)
    try:
        prev = "0" * 64
        with engine.begin() as conn:
            for i in range(3):
                row = ("2026-01-01T00:00:00+00:00", "old", "create", "households", f"O{i}", None)
                row += (f'{{"i":{i}}}',)
                entry = _entry_hash(prev, *row)
                conn.execute(
                    sa.text(
                        "INSERT INTO change_log (at, actor, action, entity, entity_key, before, "
                        "after, prev_hash, entry_hash) VALUES (:a, :b, :c, :d, :e, :f, :g, :p, :h)"
                    ),
                    dict(zip("abcdefg", row, strict=True)) | {"p": prev, "h": entry},
                )
                prev = entry
        assert upgrade(engine, "0003", load_reference=False) == "0003"
        check = verify_chain(engine)
        assert check.ok, check
        assert (check.entries, check.seals) == (3, 1)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT entry_hash FROM change_log_seals")).all() == [
                (prev,)
            ]
    finally:
        engine.dispose()
        downgrade(empty_url, "base")
