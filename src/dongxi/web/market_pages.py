"""Pages of the two-sided market (zh-CN first, English by ``?lang=en``):

- a cadre records a person's need from the household page (``POST /households/{code}/needs``)
  and answers the proposals of the latest published round for the seekers of its area
  (``/market/answers``), the household's own word recorded as such;
- an officer with ``market:run`` starts a round as a background job (``/market/rounds``; the
  job's page follows its progress, reloaded by a small script, or by a link without one), reads
  the report (matched, unmatched and why, by county, blocking pairs), publishes it and starts the
  next round of those left;
- a partner posts and edits its offers (``/market/offers``) and answers the matches the seekers
  accepted, recording hired / not hired and retention at 3 and 6 months (``/market/matches``).

Every query goes through :mod:`dongxi.services` with the logged-in principal; scope is applied in
the data layer (a record outside it is "not found"). Forms carry the session's CSRF token; names
travel only in POST bodies and pages, never in URLs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from dongxi import vocab
from dongxi.api.deps import DbSession
from dongxi.errors import InputError
from dongxi.services import market_desk as desk
from dongxi.web.pages import PagePrincipal, language, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_CODE = Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
_RUN = Path(min_length=1, max_length=36, pattern=r"^[0-9a-fA-F-]+$")
_JOB = Path(min_length=32, max_length=32, pattern=r"^[0-9a-f]+$")
_OFFER = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
_PROPOSAL = Path(ge=1, le=2**62)
_TEXT = Form(max_length=1000)
_BOX = Form(max_length=1)
_DATE = Form(max_length=10)


def _t(request: Request, zh: str, en: str) -> str:
    return en if language(request) == "en" else zh


def _date(value: str | None, column: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(
            "A date is written YYYY-MM-DD.", column=column, rule="date", fix="e.g. 2026-03-01."
        ) from None


def _number(value: str | None, column: str) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise InputError(
            "A number is expected.", column=column, rule="number", fix="Write digits only."
        ) from None


def _tri(value: str | None) -> bool | None:
    """A yes / no / not yet known select."""
    return {"yes": True, "no": False}.get(value or "")


# ------------------------------------------------------------------------------ needs
@router.post("/households/{household_code}/needs")
def record_need(
    household_code: Annotated[str, _CODE],
    db: DbSession,
    me: PagePrincipal,
    id_hash: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")],
    kind: Annotated[str, Form(max_length=20)],
    willingness: Annotated[str, Form(max_length=20)] = "willing",
    sectors: Annotated[list[str] | None, Form(max_length=20)] = None,
    places: Annotated[str, Form(max_length=200)] = "",
    min_wage: Annotated[str | None, Form(max_length=10)] = None,
    needs_dormitory: Annotated[str | None, _BOX] = None,
    details: Annotated[str, _TEXT] = "",
) -> RedirectResponse:
    """Record a member's need as the cadre heard it (a new version of that need)."""
    desk.record_need(
        db,
        me,
        household_code=household_code,
        id_hash=id_hash,
        need=desk.NeedInput(
            kind=kind,
            willingness=willingness,
            sectors=list(sectors or []),
            places=places.replace(",", " ").replace("，", " ").split(),
            min_wage=_number(min_wage, "min_wage"),
            needs_dormitory=needs_dormitory == "1",
            details=details or None,
        ),
    )
    return RedirectResponse(f"/households/{household_code}?done=need#needs", status_code=303)


# ------------------------------------------------------------------------ the hub
@router.get("/market")
def market(me: PagePrincipal) -> RedirectResponse:
    """The market page of one's role: rounds (officers who run them), matches (partners),
    answers (cadres)."""
    if me.can("market:run"):
        return RedirectResponse("/market/rounds", status_code=303)
    if me.can("market:answer_partner"):
        return RedirectResponse("/market/matches", status_code=303)
    me.require("market:answer_seeker")
    return RedirectResponse("/market/answers", status_code=303)


# ------------------------------------------------------------------ cadres' answers
@router.get("/market/answers")
def answers(request: Request, db: DbSession, me: PagePrincipal) -> HTMLResponse:
    """The proposals for the seekers of my area (latest published rounds)."""
    rows = desk.seeker_answers(db, me)
    return render(
        request,
        "market_answers.html",
        me=me,
        title=_t(request, "岗位推荐答复", "Answers to proposals"),
        rows=rows,
        done=request.query_params.get("done"),
    )


@router.post("/market/answers/{proposal_id}")
def answer(
    proposal_id: Annotated[int, _PROPOSAL],
    db: DbSession,
    me: PagePrincipal,
    decision: Annotated[str, Form(pattern="^(accept|decline)$")],
    reason: Annotated[str, Form(max_length=300)] = "",
) -> RedirectResponse:
    """The household's answer (accept or decline with its reason), recorded as its own word."""
    desk.answer_for_seeker(
        db, me, proposal_id=proposal_id, accept=decision == "accept", reason=reason or None
    )
    return RedirectResponse(f"/market/answers?done={decision}", status_code=303)


# -------------------------------------------------------------------------- rounds
@router.get("/market/rounds")
def rounds(request: Request, db: DbSession, me: PagePrincipal) -> HTMLResponse:
    """The rounds, newest first, and the form that starts one."""
    items = desk.rounds(db, me)
    return render(
        request,
        "market_rounds.html",
        me=me,
        title=_t(request, "匹配轮次", "Matching rounds"),
        items=items,
        may_start=me.scope.unrestricted,
    )


def _submit(request: Request, me: PagePrincipal, method: str, after: str | None) -> str:
    runner = request.app.state.jobs
    return str(runner.submit_matching_round(me, method=method, after=after))


@router.post("/market/rounds")
def start_round(
    request: Request,
    me: PagePrincipal,
    method: Annotated[str, Form(max_length=20)] = "stable",
) -> RedirectResponse:
    """Start a round on the current needs and offers (a background job; the permission is
    checked before the method is)."""
    job_id = _submit(request, me, method, None)
    return RedirectResponse(f"/market/jobs/{job_id}", status_code=303)


@router.post("/market/rounds/{run_id}/next")
def next_round(
    request: Request,
    run_id: Annotated[str, _RUN],
    db: DbSession,
    me: PagePrincipal,
    method: Annotated[str, Form(pattern="^(stable|optimal)$")] = "stable",
) -> RedirectResponse:
    """The next round of a run: those left are matched again; declined pairs never return."""
    desk.round_report(db, me, run_id=run_id)  # exists, and the principal may read it
    job_id = _submit(request, me, method, run_id)
    return RedirectResponse(f"/market/jobs/{job_id}", status_code=303)


@router.get("/market/jobs/{job_id}")
def job(
    request: Request, job_id: Annotated[str, _JOB], db: DbSession, me: PagePrincipal
) -> HTMLResponse:
    """A round's job: its progress (the page refreshes itself while the job runs), then a link
    to the report."""
    view = request.app.state.jobs.get(db, me, job_id)
    return render(
        request,
        "market_job.html",
        me=me,
        title=_t(request, "匹配任务", "Matching job"),
        job=view,
        refresh=view.state in ("queued", "running"),
    )


@router.get("/market/rounds/{run_id}")
def round_page(
    request: Request, run_id: Annotated[str, _RUN], db: DbSession, me: PagePrincipal
) -> HTMLResponse:
    """A round's report: overall, by county, unmatched and why, blocking pairs; publication."""
    view = desk.round_report(db, me, run_id=run_id)
    return render(
        request,
        "market_round.html",
        me=me,
        title=_t(request, "匹配轮次报告", "Round report"),
        run=view,
        may_publish=me.scope.unrestricted,
        done=request.query_params.get("done"),
    )


@router.post("/market/rounds/{run_id}/publish")
def publish(run_id: Annotated[str, _RUN], db: DbSession, me: PagePrincipal) -> RedirectResponse:
    """Publish the round: cadres and partners see and answer its proposals."""
    desk.publish_round(db, me, run_id=run_id)
    return RedirectResponse(f"/market/rounds/{run_id}?done=published", status_code=303)


# ------------------------------------------------------------------------- offers
def _offer_form(
    kind: Annotated[str, Form(max_length=20)],
    place_code: Annotated[str, Form(max_length=12)],
    positions: Annotated[int, Form(ge=0, le=100_000)],
    sector: Annotated[str, Form(max_length=40)] = "",
    monthly_wage: Annotated[str | None, Form(max_length=10)] = None,
    dormitory: Annotated[str | None, _BOX] = None,
    starts_on: Annotated[str | None, _DATE] = None,
    ends_on: Annotated[str | None, _DATE] = None,
    details: Annotated[str, _TEXT] = "",
) -> desk.OfferInput:
    """The offer form's fields (a dependency of the routes that post it)."""
    return desk.OfferInput(
        kind=kind,
        place_code=place_code.strip(),
        positions=positions,
        sector=sector or None,
        monthly_wage=_number(monthly_wage, "monthly_wage"),
        dormitory=dormitory == "1",
        starts_on=_date(starts_on, "starts_on"),
        ends_on=_date(ends_on, "ends_on"),
        details=details or None,
    )


OfferForm = Annotated[desk.OfferInput, Depends(_offer_form)]


def _offers_page(
    request: Request,
    me: PagePrincipal,
    title: str,
    *,
    items: object = None,
    offer: object = None,
    done: str | None = None,
) -> HTMLResponse:
    """My offers (``items``) and the form for a new one, or the form to edit ``offer``."""
    return render(
        request,
        "market_offers.html",
        me=me,
        title=title,
        items=items,
        offer=offer,
        kinds=vocab.OFFER_KINDS.codes,
        sectors=vocab.SECTORS.codes,
        done=done,
    )


@router.get("/market/offers")
def offers(request: Request, db: DbSession, me: PagePrincipal) -> HTMLResponse:
    """My offers and the form for a new one."""
    return _offers_page(
        request,
        me,
        _t(request, "我的岗位和名额", "My offers"),
        items=desk.partner_offers(db, me),
        done=request.query_params.get("done"),
    )


@router.post("/market/offers")
def new_offer(
    db: DbSession,
    me: PagePrincipal,
    offer: OfferForm,
) -> RedirectResponse:
    """Post a new offer."""
    desk.save_offer(db, me, offer=offer)
    return RedirectResponse("/market/offers?done=posted", status_code=303)


@router.get("/market/offers/{offer_id}")
def offer_page(
    request: Request, offer_id: Annotated[str, _OFFER], db: DbSession, me: PagePrincipal
) -> HTMLResponse:
    """One of my offers, with the form to edit it."""
    return _offers_page(
        request,
        me,
        _t(request, "修改岗位", "Edit the offer"),
        offer=desk.partner_offer(db, me, offer_id=offer_id),
    )


@router.post("/market/offers/{offer_id}")
def edit_offer(
    offer_id: Annotated[str, _OFFER],
    db: DbSession,
    me: PagePrincipal,
    offer: OfferForm,
) -> RedirectResponse:
    """A new version of one of my offers."""
    desk.save_offer(db, me, offer_id=offer_id, offer=offer)
    return RedirectResponse("/market/offers?done=saved", status_code=303)


# ------------------------------------------------------------------------ matches
@router.get("/market/matches")
def matches(request: Request, db: DbSession, me: PagePrincipal) -> HTMLResponse:
    """The matches the seekers accepted, to my offers (an audited disclosure)."""
    rows = desk.partner_matches(db, me)
    return render(
        request,
        "market_matches.html",
        me=me,
        title=_t(request, "匹配人员", "Matched people"),
        rows=rows,
        done=request.query_params.get("done"),
    )


@router.post("/market/matches/{proposal_id}/answer")
def match_answer(
    proposal_id: Annotated[int, _PROPOSAL],
    db: DbSession,
    me: PagePrincipal,
    decision: Annotated[str, Form(pattern="^(confirm|decline)$")],
    note: Annotated[str, Form(max_length=300)] = "",
) -> RedirectResponse:
    """Confirm or decline a match."""
    desk.partner_answer(
        db, me, proposal_id=proposal_id, confirm=decision == "confirm", note=note or None
    )
    return RedirectResponse(f"/market/matches?done={decision}", status_code=303)


@router.post("/market/matches/{proposal_id}/outcome")
def match_outcome(
    proposal_id: Annotated[int, _PROPOSAL],
    db: DbSession,
    me: PagePrincipal,
    hired: Annotated[str, Form(pattern="^(yes|no)$")],
    start_date: Annotated[str | None, _DATE] = None,
    monthly_wage: Annotated[str | None, Form(max_length=10)] = None,
    retained_3m: Annotated[str | None, Form(max_length=3)] = None,
    retained_6m: Annotated[str | None, Form(max_length=3)] = None,
) -> RedirectResponse:
    """Hired or not, the start date and wage, retention at 3 and 6 months."""
    desk.partner_outcome(
        db,
        me,
        proposal_id=proposal_id,
        hired=hired == "yes",
        start_date=_date(start_date, "start_date"),
        monthly_wage=_number(monthly_wage, "monthly_wage"),
        retained_3m=_tri(retained_3m),
        retained_6m=_tri(retained_6m),
    )
    return RedirectResponse("/market/matches?done=outcome", status_code=303)
