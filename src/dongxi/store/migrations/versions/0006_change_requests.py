"""Change requests (maker–checker) of households and people.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

Written from ``dongxi.store.change_models``; a test compares the migrated schema with the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATES = ("submitted", "approved", "rejected", "withdrawn", "applied", "conflict")
_ENTITIES = ("households", "people")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.create_table(
        "change_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposer_role", sa.String(length=20), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_key", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("reviewer", sa.String(length=64), nullable=True),
        sa.Column("review_comment", sa.String(length=500), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("row_version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.CheckConstraint(f"state IN {_in(_STATES)}", name=op.f("ck_change_requests_state")),
        sa.CheckConstraint(f"entity IN {_in(_ENTITIES)}", name=op.f("ck_change_requests_entity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_requests")),
    )
    op.create_index(
        op.f("ix_change_requests_proposed_by"), "change_requests", ["proposed_by"], unique=False
    )
    op.create_index(
        "ix_change_requests_state_region",
        "change_requests",
        ["state", "region_code"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_change_requests_state_region", table_name="change_requests")
    op.drop_index(op.f("ix_change_requests_proposed_by"), table_name="change_requests")
    op.drop_table("change_requests")
