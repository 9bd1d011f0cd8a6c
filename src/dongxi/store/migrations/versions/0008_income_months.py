"""Monthly income and rigid spending of households (``income_months``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

Written from ``dongxi.store.models.IncomeMonth``; a test compares the migrated schema with the
models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "income_months",
        sa.Column("household_code", sa.String(length=32), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("net_income", sa.Float(), nullable=False),
        sa.Column("medical_spending", sa.Float(), nullable=False),
        sa.Column("schooling_spending", sa.Float(), nullable=False),
        sa.Column("disaster_loss", sa.Float(), nullable=False),
        sa.Column("household_size", sa.Integer(), nullable=False),
        sa.Column("row_version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint("household_size >= 1", name=op.f("ck_income_months_household_size")),
        sa.CheckConstraint(
            "medical_spending >= 0 AND schooling_spending >= 0 AND disaster_loss >= 0",
            name=op.f("ck_income_months_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["household_code"],
            ["households.household_code"],
            name=op.f("fk_income_months_household_code_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("household_code", "month", name=op.f("pk_income_months")),
    )


def downgrade() -> None:
    op.drop_table("income_months")
