"""The registry's record of which keys its ID numbers were written with.

``key_checks`` holds one row per key (``encryption``, ``lookup``): the key's check value
(:attr:`dongxi.pii.protect.IdProtector.check_values`), never the key. :mod:`dongxi.store._keys`
records it on first use and refuses a process whose keys give another value.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from dongxi.store.base import Base

__all__ = ["KeyCheck"]


class KeyCheck(Base):
    """The check value of one of the registry's keys."""

    __tablename__ = "key_checks"
    __table_args__ = (sa.CheckConstraint("name IN ('encryption', 'lookup')", name="name"),)

    name: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    check_value: Mapped[str] = mapped_column(sa.String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()
    )
