"""Audit trail: keyed seals of the change log, snapshot heads, append-only match transitions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

- ``change_log_seals`` (append-only): the keyed seal of the change log's head written by every
  write transaction (``dongxi.store._seal``). A registry that already has entries gets a seal of
  its current head, made with the configured ``DONGXI_LOOKUP_KEY``: the upgrade vouches for the
  chain as it finds it.
- ``snapshots.log_seq`` / ``log_head``: the change log's head when the snapshot was read.
- ``match_transitions`` becomes append-only at the database level (the same triggers as the
  change log: ``dongxi.store._append_only``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dongxi.store._append_only import append_only_sql, drop_append_only_sql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPEND_ONLY = ("change_log_seals", "match_transitions")


def upgrade() -> None:
    op.create_table(
        "change_log_seals",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change_log_seals")),
    )
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("log_seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("log_head", sa.String(length=64), nullable=True))
    dialect = op.get_bind().dialect.name
    for table in _APPEND_ONLY:
        for statement in append_only_sql(table, dialect):
            op.execute(statement)
    _seal_existing_head()


def _seal_existing_head() -> None:
    from dongxi.store._seal import seal_key, seal_mac

    bind = op.get_bind()
    head = bind.execute(
        sa.text("SELECT seq, entry_hash FROM change_log ORDER BY seq DESC LIMIT 1")
    ).first()
    if head is None:
        return
    seq, entry_hash = int(head[0]), str(head[1])
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    bind.execute(
        sa.text(
            "INSERT INTO change_log_seals (seq, entry_hash, mac, sealed_at) "
            "VALUES (:seq, :entry_hash, :mac, :at)"
        ),
        {
            "seq": seq,
            "entry_hash": entry_hash,
            "mac": seal_mac(seal_key(), seq, entry_hash),
            "at": stamp,
        },
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in _APPEND_ONLY:
        for statement in drop_append_only_sql(table, dialect):
            op.execute(statement)
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_column("log_head")
        batch_op.drop_column("log_seq")
    op.drop_table("change_log_seals")
