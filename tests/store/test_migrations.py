"""Alembic: upgrade from empty gives exactly the models' schema; downgrade to base works."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from store_factories import BACKENDS

from dongxi.store.all_models import metadata
from dongxi.store.db import current_revision, downgrade, head_revision, make_engine, upgrade


@pytest.mark.parametrize("empty_url", BACKENDS, indirect=True)
def test_upgrade_from_empty_matches_models_and_downgrade(empty_url: str) -> None:
    assert current_revision(empty_url) is None
    assert upgrade(empty_url, load_reference=False) == head_revision()
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
            tables = set(sa.inspect(conn).get_table_names())
        assert set(metadata.tables) <= tables
        assert downgrade(empty_url, "base") is None
        with engine.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
        # and up again: the downgrade removed everything, triggers included
        assert upgrade(empty_url, load_reference=False) == head_revision()
    finally:
        engine.dispose()


def test_head_is_0001_or_later() -> None:
    head = head_revision()
    assert head is not None
    assert head >= "0001"


def test_upgrade_is_idempotent(registry_url: str) -> None:
    engine = make_engine(registry_url)
    try:
        with engine.connect() as conn:
            before = conn.execute(sa.text("SELECT count(*) FROM regions")).scalar_one()
        assert upgrade(registry_url) == head_revision()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM regions")).scalar_one() == before
    finally:
        engine.dispose()
