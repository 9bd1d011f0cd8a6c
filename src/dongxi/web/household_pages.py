"""Pages of the record's upkeep: edit a household's housing and water facts (a change request or
a direct edit, as the role is configured), and the change requests one made or may review, with
the diff and the approve / reject / withdraw forms (maker–checker, :mod:`dongxi.services.changes`).

Every query goes through :mod:`dongxi.services` with the logged-in principal; a record outside
the principal's scope is "not found". Forms carry the session's CSRF token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from dongxi.api.deps import DbSession
from dongxi.services import changes
from dongxi.services import households as use
from dongxi.services.household_record import field_labels
from dongxi.web.pages import DEPRIVATION_CHECKS, PagePrincipal, language, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_CODE = Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
_COMMENT = Form(max_length=500)


_BOX = Form(max_length=1)


@router.post("/households/{household_code}/edit")
def edit_household(
    household_code: Annotated[str, _CODE],
    db: DbSession,
    me: PagePrincipal,
    expected_version: Annotated[int, Form(ge=1)],
    housing_grade: Annotated[str, Form(max_length=1)],
    comment: Annotated[str, _COMMENT],
    water_quantity_ok: Annotated[str | None, _BOX] = None,
    water_quality_ok: Annotated[str | None, _BOX] = None,
    water_convenience_ok: Annotated[str | None, _BOX] = None,
    water_guarantee_ok: Annotated[str | None, _BOX] = None,
    road_access: Annotated[str | None, _BOX] = None,
    electricity: Annotated[str | None, _BOX] = None,
) -> RedirectResponse:
    """The housing and water facts as the form gives them; only the fields that differ from the
    record are proposed (checkboxes: a missing box is ``False``)."""
    boxes = {
        "water_quantity_ok": water_quantity_ok,
        "water_quality_ok": water_quality_ok,
        "water_convenience_ok": water_convenience_ok,
        "water_guarantee_ok": water_guarantee_ok,
        "road_access": road_access,
        "electricity": electricity,
    }
    wanted: dict[str, object] = {"housing_grade": housing_grade}
    for key, _zh, _en in DEPRIVATION_CHECKS:
        wanted[key] = boxes[key] == "1"
    return _edit(db, me, household_code, expected_version, wanted, comment)


def _edit(
    db: DbSession,
    me: PagePrincipal,
    household_code: str,
    expected_version: int,
    wanted: dict[str, object],
    comment: str,
) -> RedirectResponse:
    # read in scope first (an audited read, as the page the form came from)
    detail = use.household_detail(db, me, household_code=household_code, via="page:edit")
    facts = detail.deprivations
    changed = {k: v for k, v in wanted.items() if facts.get(k) != v}
    if not changed:
        return RedirectResponse(f"/households/{household_code}", status_code=303)
    made = changes.edit_household(
        db,
        me,
        household_code=household_code,
        expected_version=expected_version,
        changes=changed,
        comment=comment,
    )
    done = "edited" if made.applied else "request"
    return RedirectResponse(f"/households/{household_code}?done={done}", status_code=303)


@router.get("/changes")
def change_requests(request: Request, db: DbSession, me: PagePrincipal) -> HTMLResponse:
    """My change requests and those waiting for my review."""
    lists = changes.list_requests(db, me)
    lang = language(request)
    return render(
        request,
        "changes.html",
        me=me,
        title="Change requests" if lang == "en" else "修改申请",
        lists=lists,
        fields={e: field_labels(e) for e in ("households", "people")},
        done=request.query_params.get("done"),
    )


@router.get("/changes/{request_id}")
def change_request(
    request: Request,
    request_id: Annotated[int, Path(ge=1, le=2**62)],
    db: DbSession,
    me: PagePrincipal,
) -> HTMLResponse:
    """One change request with its diff (an audited read of the record)."""
    view = changes.request_detail(db, me, request_id=request_id, via="page")
    lang = language(request)
    return render(
        request,
        "change.html",
        me=me,
        title=("Change request " if lang == "en" else "修改申请 ") + str(request_id),
        c=view,
        fields=field_labels(view.entity),
        reviewer=view.state == "submitted" and view.proposed_by != me.name,
        proposer=view.state == "submitted" and view.proposed_by == me.name,
    )


def _act(
    action: str, db: DbSession, me: PagePrincipal, request_id: int, comment: str | None
) -> RedirectResponse:
    if action == "approve":
        changes.approve(db, me, request_id=request_id, comment=comment or None)
    elif action == "reject":
        changes.reject(db, me, request_id=request_id, comment=comment or "")
    else:
        changes.withdraw(db, me, request_id=request_id)
    return RedirectResponse(f"/changes?done={action}", status_code=303)


_ID = Path(ge=1, le=2**62)


@router.post("/changes/{request_id}/approve")
def approve(
    request_id: Annotated[int, _ID],
    db: DbSession,
    me: PagePrincipal,
    comment: Annotated[str, _COMMENT] = "",
) -> RedirectResponse:
    """Approve (the change is applied in the same transaction)."""
    return _act("approve", db, me, request_id, comment)


@router.post("/changes/{request_id}/reject")
def reject(
    request_id: Annotated[int, _ID],
    db: DbSession,
    me: PagePrincipal,
    comment: Annotated[str, _COMMENT] = "",
) -> RedirectResponse:
    """Reject, saying why."""
    return _act("reject", db, me, request_id, comment)


@router.post("/changes/{request_id}/withdraw")
def withdraw(request_id: Annotated[int, _ID], db: DbSession, me: PagePrincipal) -> RedirectResponse:
    """Withdraw one's own submitted request."""
    return _act("withdraw", db, me, request_id, None)
