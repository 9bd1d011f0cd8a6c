"""An index on the change log's record key, for one record's history.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29

A household's page shows the history of the household and of each member
(``dongxi.store._changelog.change_history``: ``WHERE entity = ? AND entity_key IN (…) ORDER BY
seq``). Without an index each of those is a scan of the whole log: 230 ms for one key on a
province's registry (1.7 million entries), so a page of a household of four took about 2 s and
a hundred users' pages saturated the database. Written from
``dongxi.store.models.ChangeLogEntry``; a test compares the migrated schema with the models.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_change_log_entity_key", "change_log", ["entity", "entity_key", "seq"])


def downgrade() -> None:
    op.drop_index("ix_change_log_entity_key", table_name="change_log")
