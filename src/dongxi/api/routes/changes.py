"""Edits of households and people, and change requests (maker–checker).

``PATCH`` an editable record with the version you saw and the new values: 200 when your role
edits directly (``DONGXI_DIRECT_EDIT_ROLES``), 202 with the id of the change request created
otherwise. A stale version is 409 with ``changed_fields`` (names only). Requests are listed (your
own and those waiting for your review), shown with their diff, approved, rejected or withdrawn.
Every route calls one use case of :mod:`dongxi.services.changes`; scope is applied below.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from dongxi.api.deps import CurrentPrincipal, DbSession
from dongxi.services import changes as use

router = APIRouter(prefix="/api/v1", tags=["changes"])

_CODE = Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")
_HASH = Path(min_length=64, max_length=64, pattern=r"^[0-9a-f]{64}$")
_ID = Path(ge=1, le=2**31 - 1)
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such record or request in your scope"}
}


class Edit(BaseModel):
    """An edit: the ``row_version`` you saw and the fields' new values."""

    expected_version: int = Field(ge=1)
    changes: dict[str, Any] = Field(min_length=1, max_length=40)
    comment: str | None = Field(default=None, max_length=500)


class Edited(BaseModel):
    """Applied (``row_version`` the new version) or proposed (``change_request_id``)."""

    applied: bool
    row_version: int | None = None
    change_request_id: int | None = None


class Review(BaseModel):
    """A reviewer's or proposer's comment (required to reject)."""

    comment: str | None = Field(default=None, max_length=500)


class ChangeRequestOut(BaseModel):
    """A change request; ``diff`` (field → current and proposed value) on its own page."""

    id: int
    entity: str
    entity_key: str
    region_code: str
    proposed_by: str
    proposer_role: str
    base_version: int
    fields: list[str]
    state: str
    comment: str | None
    reviewer: str | None
    review_comment: str | None
    created_at: dt.datetime
    reviewed_at: dt.datetime | None
    closed_at: dt.datetime | None
    diff: dict[str, dict[str, Any]] | None = None
    current_version: int | None = None
    conflict_fields: list[str] | None = None


class ChangeRequestLists(BaseModel):
    """The requests you made and those waiting for your review."""

    mine: list[ChangeRequestOut]
    to_review: list[ChangeRequestOut]


def _edited(outcome: use.EditOutcome, response: Response) -> Edited:
    response.status_code = 200 if outcome.applied else 202
    return Edited(
        applied=outcome.applied,
        row_version=outcome.row_version,
        change_request_id=outcome.request_id,
    )


def _out(view: use.ChangeRequestView) -> ChangeRequestOut:
    return ChangeRequestOut(**asdict(view))


@router.patch(
    "/households/{household_code}",
    response_model=Edited,
    summary="Edit a household (direct, or a change request)",
    responses={202: {"description": "A change request was created"}, **_NOT_FOUND},
)
def edit_household(
    household_code: Annotated[str, _CODE],
    body: Edit,
    db: DbSession,
    me: CurrentPrincipal,
    response: Response,
) -> Edited:
    """Apply the edit (direct-edit roles) or propose it to the next level up (202)."""
    outcome = use.edit_household(
        db,
        me,
        household_code=household_code,
        expected_version=body.expected_version,
        changes=body.changes,
        comment=body.comment,
    )
    return _edited(outcome, response)


@router.patch(
    "/people/{id_hash}",
    response_model=Edited,
    summary="Edit a person (direct, or a change request; never the ID number)",
    responses={202: {"description": "A change request was created"}, **_NOT_FOUND},
)
def edit_person(
    id_hash: Annotated[str, _HASH],
    body: Edit,
    db: DbSession,
    me: CurrentPrincipal,
    response: Response,
) -> Edited:
    """Apply the edit (direct-edit roles) or propose it to the next level up (202)."""
    outcome = use.edit_person(
        db,
        me,
        id_hash=id_hash,
        expected_version=body.expected_version,
        changes=body.changes,
        comment=body.comment,
    )
    return _edited(outcome, response)


@router.get(
    "/change-requests",
    response_model=ChangeRequestLists,
    summary="My change requests and those waiting for my review",
)
def list_requests(db: DbSession, me: CurrentPrincipal) -> ChangeRequestLists:
    """Both lists hold only requests on records inside your scope, newest first."""
    lists = use.list_requests(db, me)
    return ChangeRequestLists(
        mine=[_out(v) for v in lists.mine], to_review=[_out(v) for v in lists.to_review]
    )


@router.get(
    "/change-requests/{request_id}",
    response_model=ChangeRequestOut,
    summary="A change request with its diff (audited read)",
    responses=_NOT_FOUND,
)
def request_detail(
    request_id: Annotated[int, _ID], db: DbSession, me: CurrentPrincipal
) -> ChangeRequestOut:
    """The request, the current and proposed value of each field, the record's version now."""
    return _out(use.request_detail(db, me, request_id=request_id))


@router.post(
    "/change-requests/{request_id}/approve",
    response_model=ChangeRequestOut,
    summary="Approve and apply (state applied, or conflict if the record moved)",
    responses={409: {"description": "The request is not submitted"}, **_NOT_FOUND},
)
def approve(
    request_id: Annotated[int, _ID], body: Review, db: DbSession, me: CurrentPrincipal
) -> ChangeRequestOut:
    """Approve a submitted request of a lower level in your scope; it is applied at once."""
    return _out(use.approve(db, me, request_id=request_id, comment=body.comment))


@router.post(
    "/change-requests/{request_id}/reject",
    response_model=ChangeRequestOut,
    summary="Reject with a comment",
    responses={409: {"description": "The request is not submitted"}, **_NOT_FOUND},
)
def reject(
    request_id: Annotated[int, _ID], body: Review, db: DbSession, me: CurrentPrincipal
) -> ChangeRequestOut:
    """Reject a submitted request of a lower level in your scope (a comment is required)."""
    return _out(use.reject(db, me, request_id=request_id, comment=body.comment or ""))


@router.post(
    "/change-requests/{request_id}/withdraw",
    response_model=ChangeRequestOut,
    summary="Withdraw my own submitted request",
    responses={409: {"description": "The request is not submitted"}, **_NOT_FOUND},
)
def withdraw(
    request_id: Annotated[int, _ID], body: Review, db: DbSession, me: CurrentPrincipal
) -> ChangeRequestOut:
    """Withdraw a request you made while it is still submitted."""
    return _out(use.withdraw(db, me, request_id=request_id, comment=body.comment))
