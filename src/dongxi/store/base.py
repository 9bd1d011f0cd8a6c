"""Declarative base of the registry and the column mixins every editable record uses.

``Base`` carries a naming convention so that constraint names are stable across SQLite and
PostgreSQL (Alembic needs names to drop or alter them). Mixins:

- :class:`Timestamped` — ``created_at`` / ``updated_at`` (set by the database on insert, by the ORM
  on update);
- :class:`Versioned` — ``row_version``, SQLAlchemy's ``version_id_col``: an ORM update checks the
  version it read and bumps it, so a concurrent edit from a stale copy is refused (the store turns
  that into :class:`dongxi.errors.ConflictError`). Core bulk writes (imports) must bump it
  themselves: ``row_version = row_version + 1``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

__all__ = ["NAMING_CONVENTION", "Base", "Timestamped", "Versioned", "utcnow"]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Base class of every registry model."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    """``created_at`` and ``updated_at`` columns (UTC)."""

    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.func.current_timestamp(),
        onupdate=utcnow,
    )


class Versioned:
    """Optimistic locking: ``row_version`` is checked and bumped by every ORM update."""

    row_version: Mapped[int] = mapped_column(
        sa.Integer, nullable=False, server_default=sa.text("1")
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.row_version}
