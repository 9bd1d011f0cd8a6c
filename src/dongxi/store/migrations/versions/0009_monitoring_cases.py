"""Monitoring cases and their append-only procedure history.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

Written from ``dongxi.store.case_models``; a test compares the migrated schema with the models.
(``0008`` is taken by a parallel branch; the chain is relinked when the branches are merged.)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dongxi.store._append_only import append_only_sql, drop_append_only_sql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the codes as they were when this revision was written (migrations are history)
_PROCEDURES = ("identification", "risk_removal", "exit")
_CHANNELS = ("self_declaration", "cadre_sweep", "department_alert", "risk_score")
_CATEGORIES = ("unstable_escaped", "marginal", "sudden_hardship")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.create_table(
        "monitoring_cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("household_code", sa.String(length=32), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("procedure", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("state_since", sa.Date(), nullable=False),
        sa.Column("step_due_on", sa.Date(), nullable=True),
        sa.Column("final_due_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("notice_id", sa.Integer(), nullable=True),
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
        sa.CheckConstraint(
            f"procedure IN {_in(_PROCEDURES)}", name=op.f("ck_monitoring_cases_procedure")
        ),
        sa.CheckConstraint(
            f"channel IN {_in(_CHANNELS)}", name=op.f("ck_monitoring_cases_channel")
        ),
        sa.CheckConstraint(
            f"category IS NULL OR category IN {_in(_CATEGORIES)}",
            name=op.f("ck_monitoring_cases_category"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_cases")),
    )
    op.create_index(
        op.f("ix_monitoring_cases_household_code"),
        "monitoring_cases",
        ["household_code"],
        unique=False,
    )
    op.create_index(
        "ix_monitoring_cases_village_state",
        "monitoring_cases",
        ["village_code", "state"],
        unique=False,
    )
    op.create_table(
        "case_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=40), nullable=True),
        sa.Column("to_state", sa.String(length=40), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["monitoring_cases.id"],
            name=op.f("fk_case_transitions_case_id_monitoring_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_transitions")),
    )
    op.create_index(
        op.f("ix_case_transitions_case_id"), "case_transitions", ["case_id"], unique=False
    )
    for statement in append_only_sql("case_transitions", op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_append_only_sql("case_transitions", op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index(op.f("ix_case_transitions_case_id"), table_name="case_transitions")
    op.drop_table("case_transitions")
    op.drop_index("ix_monitoring_cases_village_state", table_name="monitoring_cases")
    op.drop_index(op.f("ix_monitoring_cases_household_code"), table_name="monitoring_cases")
    op.drop_table("monitoring_cases")
