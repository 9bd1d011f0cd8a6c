"""Monitoring cases and public notices (两公示一公告) in the API.

Cases: list, one case with its history and the steps the caller's role may take, open a case,
take a step. Notices: list, one notice (households: head's name and village only), create,
record and resolve an objection, close (409 while an objection is open or before the window
ends). Every route calls one use case of :mod:`dongxi.services.cases` or
:mod:`dongxi.services.notices`; scope is applied below.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from dongxi.api.deps import CurrentPrincipal, DbSession
from dongxi.services import cases as case_use
from dongxi.services import notices as use

router = APIRouter(prefix="/api/v1", tags=["monitoring"])

_ID = Path(ge=1, le=2**31 - 1)
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Not in your scope"}}


class CaseOut(BaseModel):
    """A monitoring case (``overdue`` as of today)."""

    id: int
    household_code: str
    village_code: str
    procedure: str
    state: str
    state_zh: str
    state_en: str
    category: str | None
    channel: str
    opened_on: dt.date
    state_since: dt.date
    step_due_on: dt.date | None
    final_due_on: dt.date
    closed_on: dt.date | None
    notice_id: int | None
    source: str | None
    row_version: int
    overdue: bool


class StepOut(BaseModel):
    """A state of a procedure."""

    code: str
    zh: str
    en: str


class TransitionOut(BaseModel):
    """One step of a case's history."""

    on_date: dt.date
    at: dt.datetime
    actor: str
    role: str
    from_state: str | None
    to_state: str
    comment: str | None


class CaseDetailOut(BaseModel):
    """A case, its history, its procedure's states and the steps the caller may take now."""

    case: CaseOut
    history: list[TransitionOut]
    states: list[StepOut]
    allowed: list[StepOut]
    waiting_for_notice: bool


class CaseOpen(BaseModel):
    """A new case for a household."""

    household_code: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")
    procedure: str = Field(max_length=20)
    channel: str = Field(max_length=20)
    category: str | None = Field(default=None, max_length=20)
    comment: str | None = Field(default=None, max_length=500)


class CaseStep(BaseModel):
    """A step: the state reached, the version seen, a comment, the day (default today)."""

    to: str = Field(min_length=1, max_length=40)
    expected_version: int | None = Field(default=None, ge=1)
    comment: str | None = Field(default=None, max_length=500)
    on_date: dt.date | None = None


class NoticeOut(BaseModel):
    """A public notice."""

    id: int
    kind: str
    village_code: str
    title: str
    starts_on: dt.date
    ends_on: dt.date
    state: str
    closed_on: dt.date | None
    row_version: int


class NoticeEntryOut(BaseModel):
    """A household as the notice shows it."""

    household_code: str
    head_name: str
    village_code: str


class ObjectionOut(BaseModel):
    """An objection and its resolution."""

    id: int
    household_code: str | None
    raised_by: str
    raised_on: dt.date
    text: str
    state: str
    resolution: str | None
    resolved_on: dt.date | None
    resolved_by: str | None


class NoticeDetailOut(BaseModel):
    """A notice with its households and objections."""

    notice: NoticeOut
    households: list[NoticeEntryOut]
    objections: list[ObjectionOut]
    can_close: bool
    close_blocker: str | None


class NoticeCreate(BaseModel):
    """A notice for households of one village."""

    kind: str = Field(max_length=20)
    household_codes: list[str] = Field(min_length=1, max_length=500)
    starts_on: dt.date | None = None
    days: int | None = Field(default=None, ge=1, le=60)


class ObjectionIn(BaseModel):
    """An objection: who raised it (in words, never an ID number), what, about which household."""

    raised_by: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=1000)
    household_code: str | None = Field(default=None, max_length=32)
    raised_on: dt.date | None = None


class Resolution(BaseModel):
    """How an objection was resolved."""

    resolution: str = Field(min_length=1, max_length=1000)


@router.get("/cases", response_model=list[CaseOut], summary="Monitoring cases in your scope")
def list_cases(
    db: DbSession,
    me: CurrentPrincipal,
    state: Annotated[str | None, Query(max_length=40)] = None,
    procedure: Annotated[str | None, Query(max_length=20)] = None,
    open_only: bool = False,
) -> list[CaseOut]:
    """The cases of your scope, oldest first."""
    rows = case_use.list_cases(db, me, state=state, procedure=procedure, open_only=open_only)
    return [CaseOut(**asdict(c)) for c in rows]


@router.post(
    "/cases", response_model=CaseOut, status_code=201, summary="Open a case", responses=_NOT_FOUND
)
def open_case(body: CaseOpen, db: DbSession, me: CurrentPrincipal) -> CaseOut:
    """Open a case for a household of your scope (409 if it has an open case)."""
    view = case_use.open_case(
        db, me, household_code=body.household_code, procedure=body.procedure,
        channel=body.channel, category=body.category, comment=body.comment,
    )  # fmt: skip
    return CaseOut(**asdict(view))


@router.get(
    "/cases/{case_id}", response_model=CaseDetailOut, summary="A case", responses=_NOT_FOUND
)
def case_detail(case_id: Annotated[int, _ID], db: DbSession, me: CurrentPrincipal) -> CaseDetailOut:
    """A case, its history and the steps your role may take."""
    return CaseDetailOut(**asdict(case_use.case_detail(db, me, case_id=case_id)))


@router.post(
    "/cases/{case_id}/steps",
    response_model=CaseOut,
    summary="Take a step of a case",
    responses=_NOT_FOUND,
)
def advance(
    case_id: Annotated[int, _ID], body: CaseStep, db: DbSession, me: CurrentPrincipal
) -> CaseOut:
    """Take a step (403 when your role may not, 409 when the case is elsewhere or waits for its
    notice)."""
    view = case_use.advance(
        db, me, case_id=case_id, to=body.to, comment=body.comment, on_date=body.on_date,
        expected_version=body.expected_version,
    )  # fmt: skip
    return CaseOut(**asdict(view))


@router.get("/notices", response_model=list[NoticeOut], summary="Notices in your scope")
def list_notices(
    db: DbSession,
    me: CurrentPrincipal,
    state: Annotated[str | None, Query(max_length=10)] = None,
) -> list[NoticeOut]:
    """The notices of your scope, newest first."""
    return [NoticeOut(**asdict(n)) for n in use.list_notices(db, me, state=state)]


@router.post(
    "/notices",
    response_model=NoticeOut,
    status_code=201,
    summary="Create a notice",
    responses=_NOT_FOUND,
)
def create_notice(body: NoticeCreate, db: DbSession, me: CurrentPrincipal) -> NoticeOut:
    """A notice for households of one village of your scope."""
    view = use.create_notice(
        db, me, kind=body.kind, household_codes=body.household_codes,
        starts_on=body.starts_on, days=body.days,
    )  # fmt: skip
    return NoticeOut(**asdict(view))


@router.get(
    "/notices/{notice_id}",
    response_model=NoticeDetailOut,
    summary="A notice",
    responses=_NOT_FOUND,
)
def notice_detail(
    notice_id: Annotated[int, _ID], db: DbSession, me: CurrentPrincipal
) -> NoticeDetailOut:
    """A notice: households (head's name and village only) and objections (an audited read)."""
    return NoticeDetailOut(**asdict(use.notice_detail(db, me, notice_id=notice_id)))


@router.post(
    "/notices/{notice_id}/objections",
    response_model=ObjectionOut,
    status_code=201,
    summary="Record an objection",
    responses=_NOT_FOUND,
)
def object_to(
    notice_id: Annotated[int, _ID], body: ObjectionIn, db: DbSession, me: CurrentPrincipal
) -> ObjectionOut:
    """Record an objection to an open notice (409 when closed)."""
    view = use.object_to(
        db, me, notice_id=notice_id, raised_by=body.raised_by, text=body.text,
        household_code=body.household_code, raised_on=body.raised_on,
    )  # fmt: skip
    return ObjectionOut(**asdict(view))


@router.post(
    "/notices/{notice_id}/objections/{objection_id}/resolve",
    response_model=ObjectionOut,
    summary="Resolve an objection",
    responses=_NOT_FOUND,
)
def resolve(
    notice_id: Annotated[int, _ID],
    objection_id: Annotated[int, _ID],
    body: Resolution,
    db: DbSession,
    me: CurrentPrincipal,
) -> ObjectionOut:
    """Record how an objection was resolved (409 when already resolved)."""
    view = use.resolve_objection(
        db, me, notice_id=notice_id, objection_id=objection_id, resolution=body.resolution
    )
    return ObjectionOut(**asdict(view))


@router.post(
    "/notices/{notice_id}/close",
    response_model=NoticeOut,
    summary="Close a notice",
    responses=_NOT_FOUND,
)
def close(notice_id: Annotated[int, _ID], db: DbSession, me: CurrentPrincipal) -> NoticeOut:
    """Close a notice (409 while an objection is open or before the window ends)."""
    return NoticeOut(**asdict(use.close_notice(db, me, notice_id=notice_id)))
