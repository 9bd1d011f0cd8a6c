"""An index on people's names, for search by name or its beginning.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

Written from ``dongxi.store.models.Person``; a test compares the migrated schema with the models.
On PostgreSQL the index uses ``text_pattern_ops`` so that ``name LIKE 'x%'`` can use it whatever
the database's collation.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_people_name", "people", ["name"], postgresql_ops={"name": "text_pattern_ops"}
    )


def downgrade() -> None:
    op.drop_index("ix_people_name", table_name="people")
