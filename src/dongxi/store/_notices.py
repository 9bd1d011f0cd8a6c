"""Public notices (两公示一公告), store side: notices, their households, objections.

::

    open ──(window over, no open objection)──► closed
    objection: open ──resolve──► resolved

A notice cannot be closed while one of its objections is open (:class:`ConflictError`). Every
write is written to the change log (entity ``notices``, actions ``create``, ``add_household``,
``object``, ``resolve``, ``close``) in the same transaction; objection texts and who raised them
are logged by length only (they are free text written by people).

Reads take the caller's :class:`~dongxi.store.scope.Scope` (the notice's village).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dongxi.errors import ConflictError, NotFoundError
from dongxi.store._changelog import record_change
from dongxi.store.case_models import Notice, NoticeHousehold, NoticeObjection
from dongxi.store.db import translate_errors
from dongxi.store.models import Person
from dongxi.store.scope import Scope

__all__ = [
    "add_notice",
    "add_notice_household",
    "add_objection",
    "close_notice",
    "find_open_notice",
    "get_notice",
    "get_objection",
    "household_heads",
    "list_notices",
    "notice_households",
    "objections",
    "open_objection_counts",
    "resolve_objection",
]


def _log(
    session: Session, notice: Notice, *, actor: str, action: str,
    after: dict[str, Any], before: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    record_change(
        session.connection(),
        actor=actor,
        action=action,
        entity="notices",
        key=str(notice.id),
        before=before,
        after=after,
    )


def add_notice(
    session: Session,
    *,
    actor: str,
    kind: str,
    village_code: str,
    title: str,
    starts_on: dt.date,
    ends_on: dt.date,
) -> Notice:
    """Insert an open notice and log it."""
    notice = Notice(
        kind=kind,
        village_code=village_code,
        title=title,
        starts_on=starts_on,
        ends_on=ends_on,
        state="open",
        created_by=actor,
    )
    with translate_errors("Creating a notice"):
        session.add(notice)
        session.flush()
        _log(
            session, notice, actor=actor, action="create",
            after={"kind": kind, "village_code": village_code, "title": title,
                   "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
        )  # fmt: skip
    return notice


def add_notice_household(
    session: Session, notice: Notice, *, actor: str, household_code: str, case_id: int | None
) -> None:
    """Put a household on a notice (once; a second time changes nothing)."""
    with translate_errors("Adding a household to a notice"):
        found = session.get(NoticeHousehold, (notice.id, household_code))
        if found is not None:
            return
        session.add(
            NoticeHousehold(notice_id=notice.id, household_code=household_code, case_id=case_id)
        )
        session.flush()
        _log(
            session, notice, actor=actor, action="add_household",
            after={"household_code": household_code, "case_id": case_id},
        )  # fmt: skip


def get_notice(session: Session, *, notice_id: int, scope: Scope) -> Notice:
    """One notice whose village lies inside ``scope`` (else ``NotFoundError``)."""
    query = sa.select(Notice).where(Notice.id == notice_id, scope.where_region(Notice.village_code))
    with translate_errors("Reading notices"):
        notice = session.scalars(query).one_or_none()
    if notice is None:
        raise NotFoundError(
            f"No notice {notice_id}.", fix="Check the number, or list the notices first."
        )
    return notice


def list_notices(
    session: Session, *, scope: Scope, state: str | None = None, limit: int = 1000
) -> Sequence[Notice]:
    """Notices inside ``scope``, newest first."""
    query = sa.select(Notice).where(scope.where_region(Notice.village_code))
    if state is not None:
        query = query.where(Notice.state == state)
    query = query.order_by(Notice.id.desc()).limit(limit)
    with translate_errors("Listing notices"):
        return session.scalars(query).all()


def open_objection_counts(session: Session, *, scope: Scope) -> dict[int, int]:
    """Open notice's number → how many of its objections are open, for the open notices inside
    ``scope`` that have at least one."""
    query = (
        sa.select(NoticeObjection.notice_id, sa.func.count())
        .join(Notice, Notice.id == NoticeObjection.notice_id)
        .where(
            scope.where_region(Notice.village_code),
            Notice.state == "open",
            NoticeObjection.state == "open",
        )
        .group_by(NoticeObjection.notice_id)
    )
    with translate_errors("Counting open objections"):
        return {int(i): int(n) for i, n in session.execute(query).all()}


def find_open_notice(
    session: Session, *, village_code: str, kind: str, starts_on: dt.date
) -> Notice | None:
    """The open notice of this village and kind starting on ``starts_on`` (cases that reach the
    notice step on the same day share one notice)."""
    query = (
        sa.select(Notice)
        .where(
            Notice.village_code == village_code,
            Notice.kind == kind,
            Notice.state == "open",
            Notice.starts_on == starts_on,
        )
        .order_by(Notice.id)
        .limit(1)
    )
    with translate_errors("Reading notices"):
        return session.scalars(query).first()


def notice_households(session: Session, *, notice_id: int) -> Sequence[NoticeHousehold]:
    """The households on a notice, by code."""
    query = (
        sa.select(NoticeHousehold)
        .where(NoticeHousehold.notice_id == notice_id)
        .order_by(NoticeHousehold.household_code)
    )
    with translate_errors("Reading a notice's households"):
        return session.scalars(query).all()


def household_heads(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Household code → the head's name (the name a notice shows; nothing else is read)."""
    wanted = sorted(set(codes))
    out: dict[str, str] = {}
    with translate_errors("Reading heads of households"):
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = session.execute(
                sa.select(Person.household_code, Person.name)
                .where(Person.household_code.in_(chunk), Person.relation == "head")
                .order_by(Person.household_code, Person.member_no)
            )
            for code, name in rows:
                out.setdefault(str(code), str(name))
    return out


def objections(session: Session, *, notice_id: int) -> Sequence[NoticeObjection]:
    """The objections of a notice, oldest first."""
    query = (
        sa.select(NoticeObjection)
        .where(NoticeObjection.notice_id == notice_id)
        .order_by(NoticeObjection.id)
    )
    with translate_errors("Reading objections"):
        return session.scalars(query).all()


def get_objection(session: Session, *, notice: Notice, objection_id: int) -> NoticeObjection:
    """One objection of ``notice`` (else ``NotFoundError``)."""
    with translate_errors("Reading objections"):
        found = session.scalars(
            sa.select(NoticeObjection).where(
                NoticeObjection.id == objection_id, NoticeObjection.notice_id == notice.id
            )
        ).one_or_none()
    if found is None:
        raise NotFoundError(
            f"No objection {objection_id} on notice {notice.id}.",
            fix="Check the number on the notice's page.",
        )
    return found


def add_objection(
    session: Session,
    notice: Notice,
    *,
    actor: str,
    raised_by: str,
    raised_on: dt.date,
    text: str,
    household_code: str | None = None,
) -> NoticeObjection:
    """Record an objection (state ``open``) and log it (its texts by length only)."""
    if notice.state != "open":
        raise ConflictError(
            f"Notice {notice.id} is closed: no objection can be added.",
            fix="Raise the matter with the township, or open a new notice.",
        )
    objection = NoticeObjection(
        notice_id=notice.id,
        household_code=household_code,
        raised_by=raised_by,
        raised_on=raised_on,
        text=text,
        state="open",
        recorded_by=actor,
    )
    with translate_errors("Recording an objection"):
        session.add(objection)
        session.flush()
        _log(
            session, notice, actor=actor, action="object",
            after={"objection": objection.id, "household_code": household_code,
                   "raised_on": raised_on.isoformat(), "text_chars": len(text)},
        )  # fmt: skip
    return objection


def resolve_objection(
    session: Session,
    notice: Notice,
    objection: NoticeObjection,
    *,
    actor: str,
    resolved_by: str,
    resolution: str,
    resolved_on: dt.date,
) -> NoticeObjection:
    """Resolve an open objection and log it."""
    if objection.state != "open":
        raise ConflictError(
            f"Objection {objection.id} is already resolved.",
            fix="Reload the notice's page.",
        )
    objection.state = "resolved"
    objection.resolution = resolution
    objection.resolved_on = resolved_on
    objection.resolved_by = resolved_by
    with translate_errors("Resolving an objection"):
        session.flush()
        _log(
            session, notice, actor=actor, action="resolve",
            before={"objection": objection.id, "state": "open"},
            after={"objection": objection.id, "state": "resolved",
                   "resolved_on": resolved_on.isoformat(), "resolution_chars": len(resolution)},
        )  # fmt: skip
    return objection


def close_notice(session: Session, notice: Notice, *, actor: str, closed_on: dt.date) -> Notice:
    """Close an open notice; refused (:class:`ConflictError`) while an objection is open."""
    if notice.state != "open":
        raise ConflictError(f"Notice {notice.id} is already closed.", fix="Nothing to do.")
    with translate_errors("Reading objections"):
        still_open = session.scalar(
            sa.select(sa.func.count())
            .select_from(NoticeObjection)
            .where(NoticeObjection.notice_id == notice.id, NoticeObjection.state == "open")
        )
    if still_open:
        raise ConflictError(
            f"Notice {notice.id} has {still_open} open objection(s): it cannot be closed.",
            fix="Resolve every objection first (record the resolution), then close the notice.",
        )
    notice.state = "closed"
    notice.closed_on = closed_on
    notice.closed_by = actor
    with translate_errors("Closing a notice"):
        session.flush()
        _log(
            session, notice, actor=actor, action="close", before={"state": "open"},
            after={"state": "closed", "closed_on": closed_on.isoformat()},
        )  # fmt: skip
    return notice
