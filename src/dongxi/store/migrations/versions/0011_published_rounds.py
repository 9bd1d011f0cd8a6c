"""A matching round is published to the cadres and partners by an officer: when and by whom.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

Written from ``dongxi.store.market_models.MatchRun``; a test compares the migrated schema with
the models. A round stored before this revision is not published (both columns null).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("match_runs") as batch:
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("published_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("match_runs") as batch:
        batch.drop_column("published_by")
        batch.drop_column("published_at")
