"""Pages of public notices (两公示一公告) and monitoring cases.

- ``/notices``: the notices of one's scope, and a form to create one;
- ``/notices/{id}``: a notice with its households — the head's name and the village only, as the
  2018 State Council rule on publishing poverty information requires (no ID number, income,
  cause or health) — and its objection register, with forms to raise and resolve an objection
  and to close the notice (refused, with a message in Chinese, while an objection is open or
  before the window ends);
- ``/notices/{id}/print``: the list for the village board (print styles);
- ``/cases``, ``/cases/{id}``: monitoring cases, a case's procedure (state, history, deadlines,
  late steps in red) and the form of the steps the user's role may take.

Every page calls the use cases of :mod:`dongxi.services.notices` and
:mod:`dongxi.services.cases`; forms carry the session's CSRF token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dongxi import vocab
from dongxi.api.deps import DbSession
from dongxi.errors import ConflictError, InputError
from dongxi.services import cases as case_use
from dongxi.services import notices as use
from dongxi.services.principal import Principal
from dongxi.web.pages import PagePrincipal, language, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_BLOCKERS = {
    "open_objection": (
        "还有未处理的异议，公示不能结束。请先登记每条异议的处理结果，再结束公示。",
        "An objection is still open: the notice cannot be closed. Resolve every objection first.",
    ),
    "window": (
        "公示期尚未届满，不能结束公示。",
        "The notice's window has not ended yet: it cannot be closed.",
    ),
    "closed": ("公示已结束。", "The notice is closed."),
}


def _t(request: Request, zh: str, en: str) -> str:
    return en if language(request) == "en" else zh


def _notice_page(
    request: Request,
    db: DbSession,
    me: Principal,
    notice_id: int,
    *,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    detail = use.notice_detail(db, me, notice_id=notice_id, via="page")
    blocker = None
    if detail.close_blocker in _BLOCKERS and detail.close_blocker != "closed":
        zh, en = _BLOCKERS[detail.close_blocker]
        blocker = _t(request, zh, en)
    return render(
        request,
        "notice.html",
        me=me,
        title=_t(request, "公示 ", "Notice ") + str(notice_id),
        d=detail,
        n=detail.notice,
        blocker=blocker,
        can_manage=me.can("notice:manage"),
        message=message,
        error=error,
        status_code=status_code,
    )


@router.get("/notices")
def notices(
    request: Request, db: DbSession, me: PagePrincipal, state: str | None = None
) -> HTMLResponse:
    """The notices of one's scope, newest first."""
    rows = use.list_notices(db, me, state=state or None)
    return render(
        request,
        "notices.html",
        me=me,
        title=_t(request, "公示公告", "Public notices"),
        rows=rows,
        state=state or "",
        states=list(vocab.NOTICE_STATES),
        kinds=list(vocab.NOTICE_KINDS),
        can_manage=me.can("notice:manage"),
    )


@router.post("/notices")
def create(
    request: Request,
    db: DbSession,
    me: PagePrincipal,
    kind: Annotated[str, Form(max_length=20)],
    households: Annotated[str, Form(max_length=20_000)],
    starts_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Create a notice for households of one village; to its page."""
    codes = [c for part in households.replace(",", "\n").splitlines() for c in [part.strip()] if c]
    made = use.create_notice(
        db, me, kind=kind, household_codes=codes,
        starts_on=case_use.parse_day(starts_on, option="starts_on"),
    )  # fmt: skip
    return RedirectResponse(f"/notices/{made.id}", status_code=303)


@router.get("/notices/{notice_id}")
def notice(request: Request, notice_id: int, db: DbSession, me: PagePrincipal) -> HTMLResponse:
    """A notice: households (name and village only) and the objection register."""
    return _notice_page(request, db, me, notice_id)


@router.get("/notices/{notice_id}/print")
def notice_print(
    request: Request, notice_id: int, db: DbSession, me: PagePrincipal
) -> HTMLResponse:
    """The list for the village board (printable)."""
    detail = use.notice_detail(db, me, notice_id=notice_id, via="page:print")
    return render(
        request,
        "notice_print.html",
        me=me,
        title=detail.notice.title,
        d=detail,
        n=detail.notice,
    )


@router.post("/notices/{notice_id}/objections")
def raise_objection(
    request: Request,
    notice_id: int,
    db: DbSession,
    me: PagePrincipal,
    raised_by: Annotated[str, Form(max_length=100)],
    text: Annotated[str, Form(max_length=1000)],
    household_code: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Record an objection; back to the notice."""
    use.object_to(
        db, me, notice_id=notice_id, raised_by=raised_by, text=text,
        household_code=household_code or None,
    )  # fmt: skip
    return RedirectResponse(f"/notices/{notice_id}#objections", status_code=303)


@router.post("/notices/{notice_id}/objections/{objection_id}/resolve")
def resolve(
    request: Request,
    notice_id: int,
    objection_id: int,
    db: DbSession,
    me: PagePrincipal,
    resolution: Annotated[str, Form(max_length=1000)],
) -> Response:
    """Record an objection's resolution; back to the notice."""
    use.resolve_objection(
        db, me, notice_id=notice_id, objection_id=objection_id, resolution=resolution
    )
    return RedirectResponse(f"/notices/{notice_id}#objections", status_code=303)


@router.post("/notices/{notice_id}/close")
def close(request: Request, notice_id: int, db: DbSession, me: PagePrincipal) -> Response:
    """Close the notice; while an objection is open (or before the window ends) the notice's page
    again, with the reason in words (409)."""
    try:
        use.close_notice(db, me, notice_id=notice_id)
    except ConflictError:
        detail = use.notice_detail(db, me, notice_id=notice_id, via="page")
        zh, en = _BLOCKERS.get(detail.close_blocker or "closed", _BLOCKERS["closed"])
        return _notice_page(request, db, me, notice_id, error=_t(request, zh, en), status_code=409)
    return RedirectResponse(f"/notices/{notice_id}", status_code=303)


@router.get("/cases")
def cases(
    request: Request,
    db: DbSession,
    me: PagePrincipal,
    state: str | None = None,
    open_only: bool = True,
) -> HTMLResponse:
    """The monitoring cases of one's scope (late ones in red)."""
    if state is not None and len(state) > 40:
        raise InputError("Unknown state.", column="state", rule="state")
    rows = case_use.list_cases(db, me, state=state or None, open_only=open_only)
    return render(
        request,
        "cases.html",
        me=me,
        title=_t(request, "监测对象程序", "Monitoring cases"),
        rows=rows,
        state=state or "",
        open_only=open_only,
    )


@router.get("/cases/{case_id}")
def case(request: Request, case_id: int, db: DbSession, me: PagePrincipal) -> HTMLResponse:
    """A case's procedure: state, history, deadlines, and the steps the user may take."""
    detail = case_use.case_detail(db, me, case_id=case_id)
    names = {s.code: (s.en if language(request) == "en" else s.zh) for s in detail.states}
    return render(
        request,
        "case.html",
        me=me,
        title=_t(request, "监测案件 ", "Case ") + str(case_id),
        d=detail,
        c=detail.case,
        names=names,
        today=case_use.today(),
    )


@router.post("/cases/{case_id}/advance")
def advance(
    request: Request,
    case_id: int,
    db: DbSession,
    me: PagePrincipal,
    to: Annotated[str, Form(max_length=40)],
    row_version: Annotated[int, Form(ge=1)],
    comment: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Take a step of the case (checked against the procedure and the role); back to the case."""
    case_use.advance(
        db, me, case_id=case_id, to=to, comment=comment or None, expected_version=row_version
    )
    return RedirectResponse(f"/cases/{case_id}", status_code=303)
