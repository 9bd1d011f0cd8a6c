"""Audited reads: recorded before the caller goes on, in one chain, without a deadlock."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi.store import Change, record_changes, verify_chain
from dongxi.store._changelog import holds_chain_lock
from dongxi.store._read_audit import audit_read


def _reads(registry: Engine, actor: str) -> list[str]:
    with registry.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT entity_key FROM change_log "
                "WHERE action = 'read' AND actor = :a ORDER BY seq"
            ),
            {"a": actor},
        ).all()
    return [r[0] for r in rows]


def test_each_read_is_recorded_before_audit_read_returns(registry: Engine) -> None:
    with registry.connect() as conn:
        audit_read(conn, actor="reader-1", entity="households", key="RA-H1", after={"via": "test"})
        conn.commit()
    assert _reads(registry, "reader-1") == ["RA-H1"]
    assert verify_chain(registry).ok


def test_many_concurrent_reads_are_all_recorded_in_one_chain(registry: Engine) -> None:
    errors: list[BaseException] = []

    def reader(i: int) -> None:
        try:
            with registry.connect() as conn:
                audit_read(
                    conn,
                    actor="reader-many",
                    entity="households",
                    key=f"RA-H{i}",
                    after={"via": "t"},
                )
                conn.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    keys = _reads(registry, "reader-many")
    assert sorted(keys) == sorted(f"RA-H{i}" for i in range(24))
    assert verify_chain(registry).ok


def test_a_read_is_recorded_even_when_the_reader_rolls_back(registry: Engine) -> None:
    # PostgreSQL: the writer commits the entry before audit_read returns (on SQLite the entry
    # is part of the reader's transaction, the one-writer-at-a-time embedded registry)
    with registry.connect() as conn:
        audit_read(conn, actor="reader-rb", entity="people", key="RA-P1", after={"via": "t"})
        conn.rollback()
    expected = ["RA-P1"] if registry.dialect.name == "postgresql" else []
    assert _reads(registry, "reader-rb") == expected


def test_reads_do_not_wait_for_the_pool_their_callers_hold(registry: Engine) -> None:
    # every pooled connection is held by a reader waiting for its entry: the writer has its own
    from dongxi.store import make_engine

    small = make_engine(
        registry.url.render_as_string(hide_password=False),
        pool_size=2,
        max_overflow=0,
        pool_timeout=5,
    )
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def reader(i: int) -> None:
        try:
            with small.connect() as conn:
                barrier.wait(10)  # both connections of the pool are taken
                audit_read(
                    conn,
                    actor="reader-pool",
                    entity="households",
                    key=f"RA-Q{i}",
                    after={"via": "t"},
                )
                conn.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    small.dispose()
    assert not errors, errors
    assert sorted(_reads(registry, "reader-pool")) == ["RA-Q0", "RA-Q1"]


def test_a_transaction_that_wrote_the_log_records_its_reads_itself(registry: Engine) -> None:
    # it holds the chain's lock until it ends: handing the read to the writer would deadlock
    with registry.begin() as conn:
        record_changes(
            conn,
            actor="writer-reader",
            action="update",
            entity="households",
            changes=[Change(key="RA-W1", after={"x": 1})],
        )
        if conn.dialect.name == "postgresql":
            assert holds_chain_lock(conn)
        audit_read(
            conn, actor="writer-reader", entity="households", key="RA-W1", after={"via": "t"}
        )
    assert _reads(registry, "writer-reader") == ["RA-W1"]
    with registry.begin() as conn:  # a new transaction does not hold the lock
        assert not holds_chain_lock(conn)
    assert verify_chain(registry).ok
