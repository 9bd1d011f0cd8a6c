"""Monitoring cases with their procedure history, and public notices (两公示一公告).

- :class:`MonitoringCase` — one household in one procedure (identification, risk removal, exit:
  :data:`dongxi.vocab.CASE_PROCEDURES`): its state (a state of the procedure's file, not checked
  by the database: an office may give its own states), how it was found
  (:data:`dongxi.vocab.DISCOVERY_CHANNELS`), the day it was opened, the day it entered its
  state, its deadlines and the day it closed. ``village_code`` places it for scoped reads.
- :class:`CaseTransition` — the append-only history of a case's steps (who, when, from, to,
  comment); database triggers refuse UPDATE and DELETE.
- :class:`Notice` — a public notice of a village with its window (``starts_on`` .. ``ends_on``),
  the households on it (:class:`NoticeHousehold`) and its objections (:class:`NoticeObjection`:
  who raised it, in free text without ID numbers; when; the text; the resolution).

Every write is also written to the change log by ``store._cases`` / ``store._notices``.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from dongxi.store.base import Base, Timestamped, Versioned
from dongxi.vocab import (
    CASE_PROCEDURES,
    DISCOVERY_CHANNELS,
    MONITORING_CATEGORIES,
    NOTICE_KINDS,
    NOTICE_STATES,
    OBJECTION_STATES,
    Vocabulary,
)

__all__ = ["CaseTransition", "MonitoringCase", "Notice", "NoticeHousehold", "NoticeObjection"]


def _in(column: str, values: Vocabulary, *, nullable: bool = False) -> sa.CheckConstraint:
    quoted = ", ".join(f"'{v}'" for v in values.codes)
    text = f"{column} IN ({quoted})"
    if nullable:
        text = f"{column} IS NULL OR {text}"
    return sa.CheckConstraint(text, name=column)


class MonitoringCase(Versioned, Timestamped, Base):
    """One household in one procedure."""

    __tablename__ = "monitoring_cases"
    __table_args__ = (
        _in("procedure", CASE_PROCEDURES),
        _in("channel", DISCOVERY_CHANNELS),
        _in("category", MONITORING_CATEGORIES, nullable=True),
        sa.Index("ix_monitoring_cases_village_state", "village_code", "state"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    household_code: Mapped[str] = mapped_column(sa.String(32), index=True)
    village_code: Mapped[str] = mapped_column(sa.String(12))
    procedure: Mapped[str] = mapped_column(sa.String(20))
    state: Mapped[str] = mapped_column(sa.String(40))
    category: Mapped[str | None] = mapped_column(sa.String(20))
    channel: Mapped[str] = mapped_column(sa.String(20))
    opened_on: Mapped[dt.date] = mapped_column(sa.Date)
    state_since: Mapped[dt.date] = mapped_column(sa.Date)
    step_due_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    final_due_on: Mapped[dt.date] = mapped_column(sa.Date)
    closed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    opened_by: Mapped[str] = mapped_column(sa.String(100))
    #: Where the case came from, in words (a department alert's department, date and kind).
    source: Mapped[str | None] = mapped_column(sa.String(500))
    notice_id: Mapped[int | None] = mapped_column(sa.Integer)


class CaseTransition(Base):
    """One step of a case (append-only)."""

    __tablename__ = "case_transitions"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("monitoring_cases.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    on_date: Mapped[dt.date] = mapped_column(sa.Date)
    actor: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[str] = mapped_column(sa.String(20))
    from_state: Mapped[str | None] = mapped_column(sa.String(40))
    to_state: Mapped[str] = mapped_column(sa.String(40))
    comment: Mapped[str | None] = mapped_column(sa.String(500))


class Notice(Versioned, Timestamped, Base):
    """A public notice of one village."""

    __tablename__ = "notices"
    __table_args__ = (
        _in("kind", NOTICE_KINDS),
        _in("state", NOTICE_STATES),
        sa.Index("ix_notices_village_state", "village_code", "state"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    village_code: Mapped[str] = mapped_column(sa.String(12))
    title: Mapped[str] = mapped_column(sa.String(200))
    starts_on: Mapped[dt.date] = mapped_column(sa.Date)
    ends_on: Mapped[dt.date] = mapped_column(sa.Date)
    state: Mapped[str] = mapped_column(sa.String(10))
    created_by: Mapped[str] = mapped_column(sa.String(100))
    closed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    closed_by: Mapped[str | None] = mapped_column(sa.String(100))


class NoticeHousehold(Base):
    """A household on a notice (with the case that put it there, if any)."""

    __tablename__ = "notice_households"

    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("notices.id"), primary_key=True)
    household_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    case_id: Mapped[int | None] = mapped_column(sa.Integer)


class NoticeObjection(Versioned, Timestamped, Base):
    """An objection to a notice and its resolution."""

    __tablename__ = "notice_objections"
    __table_args__ = (_in("state", OBJECTION_STATES),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("notices.id"), index=True)
    household_code: Mapped[str | None] = mapped_column(sa.String(32))
    raised_by: Mapped[str] = mapped_column(sa.String(100))
    raised_on: Mapped[dt.date] = mapped_column(sa.Date)
    text: Mapped[str] = mapped_column(sa.String(1000))
    state: Mapped[str] = mapped_column(sa.String(10))
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    resolution: Mapped[str | None] = mapped_column(sa.String(1000))
    resolved_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    resolved_by: Mapped[str | None] = mapped_column(sa.String(100))
