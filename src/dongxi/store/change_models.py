"""Change requests (maker–checker): an edit proposed by one officer, reviewed by the next level up.

One row per request: who proposed it (and in which role), which record (``entity`` and its key,
``region_code`` the record's village for scoped reads), the ``row_version`` the proposer saw, the
proposed field values (JSON; never an ID number), the state (:data:`dongxi.store._changes.STATES`),
the reviewer and both comments, and the times. Every transition is also written to the change
log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from dongxi.store.base import Base, Timestamped, Versioned

__all__ = ["CHANGE_REQUEST_ENTITIES", "CHANGE_REQUEST_STATES", "ChangeRequest"]

#: The states of a request, in the order of its life (the transitions: ``store._changes``).
CHANGE_REQUEST_STATES = ("submitted", "approved", "rejected", "withdrawn", "applied", "conflict")
#: The kinds of record a request may change.
CHANGE_REQUEST_ENTITIES = ("households", "people")


def _in(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    quoted = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=column)


class ChangeRequest(Versioned, Timestamped, Base):
    """One proposed edit of a household or a person and its review."""

    __tablename__ = "change_requests"
    __table_args__ = (
        _in("state", CHANGE_REQUEST_STATES),
        _in("entity", CHANGE_REQUEST_ENTITIES),
        sa.Index("ix_change_requests_state_region", "state", "region_code"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    proposed_by: Mapped[str] = mapped_column(sa.String(64), index=True)
    proposer_role: Mapped[str] = mapped_column(sa.String(20))
    entity: Mapped[str] = mapped_column(sa.String(20))
    entity_key: Mapped[str] = mapped_column(sa.String(64))
    region_code: Mapped[str] = mapped_column(sa.String(12))
    base_version: Mapped[int] = mapped_column(sa.Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    state: Mapped[str] = mapped_column(sa.String(20))
    comment: Mapped[str | None] = mapped_column(sa.String(500))
    reviewer: Mapped[str | None] = mapped_column(sa.String(64))
    review_comment: Mapped[str | None] = mapped_column(sa.String(500))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
