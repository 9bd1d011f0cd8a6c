"""Background jobs of the service: what was asked, by whom, how far it got, what it produced.

A job row is written by :mod:`dongxi.services.jobs` (the runner); its life cycle (states and
allowed transitions) is data there. Parameters and results hold no personal value: counts,
codes and the path of a result file under the jobs folder of ``DONGXI_DATA_DIR``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from dongxi.store.base import Base

__all__ = ["JOB_KINDS", "JOB_STATES", "Job"]

#: What a job does (one use case each).
JOB_KINDS = ("import", "snapshot", "measurement", "matching_round")
#: Where a job is in its life cycle (transitions: ``dongxi.services.jobs.TRANSITIONS``).
JOB_STATES = ("queued", "running", "succeeded", "failed")


def _check(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})", name=column)


class Job(Base):
    """One background job and its outcome (stored once, read by every poll)."""

    __tablename__ = "jobs"
    __table_args__ = (_check("kind", JOB_KINDS), _check("state", JOB_STATES))

    job_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    owner: Mapped[str] = mapped_column(sa.String(64), index=True)
    owner_role: Mapped[str] = mapped_column(sa.String(20))
    state: Mapped[str] = mapped_column(sa.String(10), index=True)
    #: the process running the job: ``host:pid:runner`` (a start-up finds jobs of dead ones)
    runner: Mapped[str] = mapped_column(sa.String(200))
    progress_done: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    progress_total: Mapped[int | None] = mapped_column(sa.BigInteger)
    progress_message: Mapped[str | None] = mapped_column(sa.String(200))
    parameters: Mapped[Any] = mapped_column(sa.JSON)
    result: Mapped[Any | None] = mapped_column(sa.JSON)
    result_file: Mapped[str | None] = mapped_column(sa.Text)
    error_class: Mapped[str | None] = mapped_column(sa.String(100))
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
