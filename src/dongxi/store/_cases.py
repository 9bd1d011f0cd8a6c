"""Monitoring cases, store side: reads and writes of cases and their history.

Which steps a case may take, and its deadlines, are decided by the pure engine
(:mod:`dongxi.monitor.procedures`) in the use cases; this module stores the result. Every write
is also written to the change log (entity ``monitoring_cases``, action ``open`` or ``step``) in
the same transaction, and every step appends a row to ``case_transitions`` (append-only).

Reads take the caller's :class:`~dongxi.store.scope.Scope` (the case's village): a case outside
it is ``NotFoundError``, exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dongxi.errors import ConflictError, NotFoundError
from dongxi.store._changelog import record_change
from dongxi.store.base import utcnow
from dongxi.store.case_models import CaseTransition, MonitoringCase
from dongxi.store.db import translate_errors
from dongxi.store.models import HouseholdStatus, Person
from dongxi.store.scope import Scope

__all__ = [
    "add_case",
    "case_history",
    "consented_cases",
    "consented_query",
    "get_case",
    "households_by_id_hash",
    "households_in_open_cases",
    "list_cases",
    "log_batch_opening",
    "move_case",
    "open_case_households",
    "status_before_monitoring",
]


def _log(
    session: Session, case: MonitoringCase, *, actor: str, action: str, before: str | None,
    comment: str | None,
) -> None:  # fmt: skip
    after: dict[str, Any] = {
        "household_code": case.household_code,
        "procedure": case.procedure,
        "state": case.state,
        "channel": case.channel,
        "state_since": case.state_since.isoformat(),
    }
    if case.closed_on is not None:
        after["closed_on"] = case.closed_on.isoformat()
    if case.notice_id is not None:
        after["notice_id"] = case.notice_id
    if comment:
        after["comment"] = comment
    record_change(
        session.connection(),
        actor=actor,
        action=action,
        entity="monitoring_cases",
        key=str(case.id),
        before=None if before is None else {"state": before},
        after=after,
    )


def _transition(
    session: Session, case: MonitoringCase, *, actor: str, role: str, before: str | None,
    on_date: dt.date, comment: str | None,
) -> None:  # fmt: skip
    session.add(
        CaseTransition(
            case_id=case.id,
            at=utcnow(),
            on_date=on_date,
            actor=actor,
            role=role,
            from_state=before,
            to_state=case.state,
            comment=comment,
        )
    )


def add_case(
    session: Session,
    *,
    actor: str,
    role: str,
    household_code: str,
    village_code: str,
    procedure: str,
    state: str,
    channel: str,
    opened_on: dt.date,
    step_due_on: dt.date | None,
    final_due_on: dt.date,
    category: str | None = None,
    source: str | None = None,
    comment: str | None = None,
) -> MonitoringCase:
    """Insert a case in its first state, with its first history row, and log it."""
    case = MonitoringCase(
        household_code=household_code,
        village_code=village_code,
        procedure=procedure,
        state=state,
        category=category,
        channel=channel,
        opened_on=opened_on,
        state_since=opened_on,
        step_due_on=step_due_on,
        final_due_on=final_due_on,
        opened_by=actor,
        source=source,
    )
    with translate_errors("Opening a monitoring case"):
        session.add(case)
        session.flush()
        _transition(
            session, case, actor=actor, role=role, before=None, on_date=opened_on, comment=comment
        )
        session.flush()
        _log(session, case, actor=actor, action="open", before=None, comment=comment)
    return case


def log_batch_opening(
    session: Session, *, actor: str, channel: str, candidates: int, opened: Sequence[int],
    skipped: int,
) -> None:  # fmt: skip
    """One change-log entry (action ``open_batch``) for a run that opened cases for a list of
    candidates (a sweep, the risk score): how many were put forward, opened and skipped."""
    record_change(
        session.connection(),
        actor=actor,
        action="open_batch",
        entity="monitoring_cases",
        key=f"{channel} {utcnow():%Y-%m-%dT%H:%M:%S.%fZ}",
        after={
            "channel": channel,
            "candidates": candidates,
            "opened": len(opened),
            "cases": list(opened)[:1000],
            "skipped": skipped,
        },
    )


def get_case(session: Session, *, case_id: int, scope: Scope) -> MonitoringCase:
    """One case whose village lies inside ``scope`` (else ``NotFoundError``)."""
    query = sa.select(MonitoringCase).where(
        MonitoringCase.id == case_id, scope.where_region(MonitoringCase.village_code)
    )
    with translate_errors("Reading monitoring cases"):
        case = session.scalars(query).one_or_none()
    if case is None:
        raise NotFoundError(
            f"No monitoring case {case_id}.",
            fix="Check the number, or list the cases first (dongxi monitor cases).",
        )
    return case


def list_cases(
    session: Session,
    *,
    scope: Scope,
    state: str | None = None,
    procedure: str | None = None,
    open_only: bool = False,
    household_code: str | None = None,
    limit: int = 10_000,
) -> Sequence[MonitoringCase]:
    """Cases inside ``scope``, oldest first, filtered by state, procedure, openness, household."""
    query = sa.select(MonitoringCase).where(scope.where_region(MonitoringCase.village_code))
    if state is not None:
        query = query.where(MonitoringCase.state == state)
    if procedure is not None:
        query = query.where(MonitoringCase.procedure == procedure)
    if open_only:
        query = query.where(MonitoringCase.closed_on.is_(None))
    if household_code is not None:
        query = query.where(MonitoringCase.household_code == household_code)
    query = query.order_by(MonitoringCase.id).limit(limit)
    with translate_errors("Listing monitoring cases"):
        return session.scalars(query).all()


def households_in_open_cases(session: Session, codes: Iterable[str]) -> set[str]:
    """The households among ``codes`` that have an open case (of any procedure)."""
    wanted = sorted(set(codes))
    found: set[str] = set()
    with translate_errors("Reading monitoring cases"):
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(
                session.scalars(
                    sa.select(MonitoringCase.household_code).where(
                        MonitoringCase.household_code.in_(chunk),
                        MonitoringCase.closed_on.is_(None),
                    )
                )
            )
    return found


def open_case_households(
    session: Session, *, scope: Scope, procedure: str | None = None
) -> set[str]:
    """The households inside ``scope`` with an open case (of ``procedure``, or of any)."""
    query = sa.select(MonitoringCase.household_code).where(
        scope.where_region(MonitoringCase.village_code), MonitoringCase.closed_on.is_(None)
    )
    if procedure is not None:
        query = query.where(MonitoringCase.procedure == procedure)
    with translate_errors("Reading monitoring cases"):
        return set(session.scalars(query.distinct()))


def case_history(session: Session, *, case_id: int) -> Sequence[CaseTransition]:
    """The steps of one case, in order (the caller has read the case in its scope)."""
    query = (
        sa.select(CaseTransition)
        .where(CaseTransition.case_id == case_id)
        .order_by(CaseTransition.id)
    )
    with translate_errors("Reading a case's history"):
        return session.scalars(query).all()


def move_case(
    session: Session,
    case: MonitoringCase,
    *,
    actor: str,
    role: str,
    to: str,
    on_date: dt.date,
    step_due_on: dt.date | None,
    final: bool,
    expected_version: int | None = None,
    comment: str | None = None,
    notice_id: int | None = None,
    category: str | None = None,
) -> MonitoringCase:
    """Record a step (already checked against the procedure): new state and deadline, a history
    row and a change-log entry. ``expected_version``: the ``row_version`` the caller saw (a
    stale one is :class:`ConflictError`)."""
    if expected_version is not None and case.row_version != expected_version:
        raise ConflictError(
            f"The case was changed since you read it (version {expected_version}, "
            f"now {case.row_version}).",
            fix="Reload the case and take the step again if it is still due.",
        )
    before = case.state
    case.state = to
    case.state_since = on_date
    case.step_due_on = step_due_on
    if final:
        case.closed_on = on_date
    if notice_id is not None:
        case.notice_id = notice_id
    if category is not None:
        case.category = category
    with translate_errors("Recording a step of a monitoring case"):
        session.flush()
        _transition(
            session, case, actor=actor, role=role, before=before, on_date=on_date, comment=comment
        )
        session.flush()
        _log(session, case, actor=actor, action="step", before=before, comment=comment)
    return case


def households_by_id_hash(session: Session, hashes: Iterable[str]) -> dict[str, str]:
    """Keyed hash of an ID number → the household of that person (no number is decrypted)."""
    wanted = sorted(set(hashes))
    out: dict[str, str] = {}
    with translate_errors("Reading people"):
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = session.execute(
                sa.select(Person.id_hash, Person.household_code).where(Person.id_hash.in_(chunk))
            )
            out.update({str(h): str(c) for h, c in rows})
    return out


def status_before_monitoring(session: Session, *, household_code: str) -> str | None:
    """The household's latest status other than 'monitored' in its status history (by effective
    date, then entry), or ``None`` if it never had one: the status risk removal returns it to."""
    query = (
        sa.select(HouseholdStatus.status)
        .where(
            HouseholdStatus.household_code == household_code,
            HouseholdStatus.status != "monitored",
        )
        .order_by(HouseholdStatus.effective_date.desc(), HouseholdStatus.id.desc())
        .limit(1)
    )
    with translate_errors("Reading a household's status history"):
        return session.scalars(query).first()


def consented_query(
    *, scope: Scope, state: str = "consent", refused: Sequence[str] = ()
) -> sa.Select[str, int]:
    """``household_code, case_id``: each household's latest identification case (inside
    ``scope``) that reached ``state`` (the household's consent) and did not end in one of
    ``refused`` (e.g. 'not_included') — a query, for the caller to run or to nest."""
    query = (
        sa.select(MonitoringCase.household_code, sa.func.max(MonitoringCase.id).label("case_id"))
        .join(CaseTransition, CaseTransition.case_id == MonitoringCase.id)
        .where(
            scope.where_region(MonitoringCase.village_code),
            MonitoringCase.procedure == "identification",
            CaseTransition.to_state == state,
        )
        .group_by(MonitoringCase.household_code)
    )
    if refused:
        query = query.where(MonitoringCase.state.not_in(list(refused)))
    return query


def consented_cases(
    session: Session, *, scope: Scope, state: str = "consent", refused: Sequence[str] = ()
) -> dict[str, int]:
    """Household → its latest identification case (inside ``scope``) that reached ``state`` (the
    household's consent) and did not end in one of ``refused`` (:func:`consented_query`)."""
    query = consented_query(scope=scope, state=state, refused=refused)
    with translate_errors("Reading monitoring cases"):
        return {str(code): int(case_id) for code, case_id in session.execute(query)}
