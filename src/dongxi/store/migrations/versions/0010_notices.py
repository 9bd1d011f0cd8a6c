"""Public notices (两公示一公告): notices, the households on them, objections.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

Written from ``dongxi.store.case_models``; a test compares the migrated schema with the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the codes as they were when this revision was written (migrations are history)
_KINDS = ("identification", "exit", "monitoring_entry", "monitoring_exit")
_NOTICE_STATES = ("open", "closed")
_OBJECTION_STATES = ("open", "resolved")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _stamps() -> list[sa.Column[Any]]:
    return [
        sa.Column(
            name,
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        )
        for name in ("created_at", "updated_at")
    ]


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("row_version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        *_stamps(),
        sa.CheckConstraint(f"kind IN {_in(_KINDS)}", name=op.f("ck_notices_kind")),
        sa.CheckConstraint(f"state IN {_in(_NOTICE_STATES)}", name=op.f("ck_notices_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_index("ix_notices_village_state", "notices", ["village_code", "state"], unique=False)
    op.create_table(
        "notice_households",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("household_code", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_notice_households_notice_id_notices")
        ),
        sa.PrimaryKeyConstraint("notice_id", "household_code", name=op.f("pk_notice_households")),
    )
    op.create_table(
        "notice_objections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("household_code", sa.String(length=32), nullable=True),
        sa.Column("raised_by", sa.String(length=100), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("resolution", sa.String(length=1000), nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("row_version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        *_stamps(),
        sa.CheckConstraint(
            f"state IN {_in(_OBJECTION_STATES)}", name=op.f("ck_notice_objections_state")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_notice_objections_notice_id_notices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_objections")),
    )
    op.create_index(
        op.f("ix_notice_objections_notice_id"), "notice_objections", ["notice_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_notice_objections_notice_id"), table_name="notice_objections")
    op.drop_table("notice_objections")
    op.drop_table("notice_households")
    op.drop_index("ix_notices_village_state", table_name="notices")
    op.drop_table("notices")
