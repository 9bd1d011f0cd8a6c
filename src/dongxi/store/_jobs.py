"""Background jobs in the registry (SQL only; the life cycle and the runner live in
:mod:`dongxi.services.jobs`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dongxi.store.base import utcnow
from dongxi.store.db import session_scope, translate_errors
from dongxi.store.job_models import Job
from dongxi.store.models import Snapshot

__all__ = [
    "add_job",
    "fail_jobs",
    "get_job",
    "list_jobs",
    "snapshot_folder",
    "unfinished_jobs",
    "update_job",
]


def add_job(
    engine: Engine,
    *,
    job_id: str,
    kind: str,
    owner: str,
    owner_role: str,
    runner: str,
    parameters: dict[str, Any],
) -> None:
    """Insert a queued job (its own transaction: the job exists before it starts)."""
    now = utcnow()
    with translate_errors("Recording a job"), session_scope(engine) as session:
        session.add(
            Job(
                job_id=job_id,
                kind=kind,
                owner=owner,
                owner_role=owner_role,
                state="queued",
                runner=runner,
                progress_done=0,
                parameters=parameters,
                created_at=now,
                updated_at=now,
            )
        )


def get_job(session: Session, job_id: str) -> Job | None:
    """One job by id (``None`` when absent)."""
    with translate_errors("Reading a job"):
        return session.get(Job, job_id)


def list_jobs(session: Session, *, owner: str | None, limit: int) -> Sequence[Job]:
    """The newest jobs first, of ``owner`` (every owner when ``None``)."""
    query = sa.select(Job).order_by(Job.created_at.desc(), Job.job_id).limit(limit)
    if owner is not None:
        query = query.where(Job.owner == owner)
    with translate_errors("Listing jobs"):
        return session.scalars(query).all()


def update_job(
    engine: Engine, job_id: str, *, from_states: Iterable[str] | None = None, **values: Any
) -> bool:
    """Set ``values`` on a job (its own transaction); with ``from_states`` only while the job is
    in one of them. ``True`` when the row was changed."""
    query = sa.update(Job).where(Job.job_id == job_id)
    if from_states is not None:
        query = query.where(Job.state.in_(list(from_states)))
    with translate_errors("Updating a job"), engine.begin() as conn:
        return conn.execute(query.values(updated_at=utcnow(), **values)).rowcount == 1


def unfinished_jobs(engine: Engine, states: Iterable[str]) -> list[tuple[str, str]]:
    """(job id, runner) of every job in ``states``."""
    with translate_errors("Reading jobs"), engine.connect() as conn:
        rows = conn.execute(
            sa.select(Job.job_id, Job.runner).where(Job.state.in_(list(states)))
        ).all()
    return [(r.job_id, r.runner) for r in rows]


def fail_jobs(
    engine: Engine,
    job_ids: Sequence[str],
    *,
    from_states: Iterable[str],
    error_class: str,
    message: str,
    at: dt.datetime,
) -> int:
    """Mark jobs failed (only those still in ``from_states``); how many were."""
    if not job_ids:
        return 0
    query = (
        sa.update(Job)
        .where(Job.job_id.in_(list(job_ids)), Job.state.in_(list(from_states)))
        .values(
            state="failed",
            error_class=error_class,
            error_message=message,
            finished_at=at,
            updated_at=at,
        )
    )
    with translate_errors("Updating jobs"), engine.begin() as conn:
        return int(conn.execute(query).rowcount)


def snapshot_folder(session: Session, snapshot_id: str) -> str | None:
    """The folder the registry recorded for a snapshot (``None`` when there is no such one)."""
    with translate_errors("Reading snapshots"):
        return session.scalar(sa.select(Snapshot.folder).where(Snapshot.snapshot_id == snapshot_id))
