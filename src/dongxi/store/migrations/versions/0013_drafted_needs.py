"""Drafted needs: ``market_needs.draft`` marks a need drafted from a monitoring case, not stated.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29

A draft (``draft`` true) is written by ``dongxi monitor needs`` for a working-age member with labour
capacity of a household that agreed to its identification (case state 'consent' or later); it is
kept out of matching until a cadre confirms it by importing it back as a stated need (``draft``
false). Written from ``dongxi.store.market_models.MarketNeed``; a test compares the migrated
schema with the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("market_needs") as batch:
        batch.add_column(
            sa.Column(
                "draft",
                sa.Boolean(create_constraint=False),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("market_needs") as batch:
        batch.drop_column("draft")
