"""Hours a day on needs and offers: ``market_needs.hours_per_day``, ``market_offers.hours_per_day``.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29

On a need, the most hours a day the person can give (a carer's limit, 每天最多可工作小时数);
on an offer, the hours a day the work or the course asks (每天工作小时数). Null: not stated.
Checked to lie in 0.5–24, as the import checks it. The training and workshop kinds of matching
read it (rule ``hours_too_long``). Written from ``dongxi.store.market_models``; a test compares
the migrated schema with the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("market_needs", "market_offers")
#: As ``market_models._HOURS_CHECK`` was written at this revision (0.5 to 24 hours).
_CHECK = "hours_per_day IS NULL OR hours_per_day BETWEEN 0.5 AND 24.0"


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("hours_per_day", sa.Float(), nullable=True))
            batch.create_check_constraint(op.f(f"ck_{table}_hours_per_day"), _CHECK)


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_hours_per_day"), type_="check")
            batch.drop_column("hours_per_day")
