"""Use cases: lists of the two-sided market — current needs, current offers, runs, and a run's
proposals — each within the caller's scope.

- needs — ``market:answer_seeker`` (west officers): needs whose seeker lies in their region;
- offers — officers and partner users (a partner user: its own offers only);
- runs — officers and partner users (a run's counts, never its pairs or its report);
- proposals of a run — officers: proposals whose seeker lies in their region; a partner user:
  proposals to its own offers that the seeker has accepted (states in :data:`CONSENTED`), showing
  of the person only the name, an age band, the skills and a contact (the household's helper) —
  never an ID number or its hash, income, health or causes of poverty. Each such page is
  audited (change log: action ``read``, entity ``match_proposals``, the run and the proposals).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dongxi.errors import NotFoundError
from dongxi.services._pages import Page, columns, int_cursor, limit_of, make_page
from dongxi.services.principal import Principal

__all__ = [
    "CONSENTED",
    "age_band",
    "list_match_runs",
    "list_needs",
    "list_offers",
    "list_proposals",
]

#: States a proposal reaches only after its seeker accepted it.
CONSENTED = ("accepted", "confirmed", "declined_by_partner", "hired", "not_hired")
_BANDS = ((16, "16-24"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55+"))


def age_band(age: int | None) -> str | None:
    """A ten-year band (``25-34``), ``under 16`` or ``None`` when the age is unknown."""
    if age is None:
        return None
    label = "under 16"
    for start, name in _BANDS:
        if age >= start:
            label = name
    return label


def _market_reader(principal: Principal) -> None:
    if principal.can("market:answer_seeker") or principal.can("market:answer_partner"):
        return
    principal.require("market:answer_seeker")


def list_needs(
    session: Session,
    principal: Principal,
    *,
    kind: str | None = None,
    region: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """Current needs in scope by id."""
    principal.require("market:answer_seeker")
    from dongxi.store._list_reads import page_needs

    rows = page_needs(
        session,
        scope=principal.scope,
        kind=kind,
        region_prefix=region,
        after=int_cursor(after),
        limit=limit_of(limit) + 1,
    )
    return make_page(
        rows,
        limit,
        lambda r: {**columns(r[0]), "place_code": r[1]},
        lambda r: str(r[0].need_id),
    )


def list_offers(
    session: Session,
    principal: Principal,
    *,
    kind: str | None = None,
    partner: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """Current offers by id (a partner user: its own)."""
    _market_reader(principal)
    from dongxi.store._list_reads import page_offers

    rows = page_offers(
        session,
        scope=principal.scope,
        kind=kind,
        partner_code=partner,
        after=int_cursor(after),
        limit=limit_of(limit) + 1,
    )
    return make_page(rows, limit, lambda r: columns(r[0]), lambda r: str(r[0].offer_row_id))


def list_match_runs(
    session: Session,
    principal: Principal,
    *,
    kind: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """Match runs by id: method, kind, round, counts (not the report, not the pairs)."""
    _market_reader(principal)
    from dongxi.store._list_reads import page_match_runs

    rows = page_match_runs(session, kind=kind, after=after, limit=limit_of(limit) + 1)
    return make_page(
        rows,
        limit,
        lambda r: columns(r[0], leave_out=frozenset({"report_json"})),
        lambda r: str(r[0].run_id),
    )


def _partner_view(r: Any) -> dict[str, Any]:
    proposal = r[0]
    contact = None
    if r.helper_name:
        contact = r.helper_name if not r.helper_unit else f"{r.helper_name} ({r.helper_unit})"
    return {
        "proposal_id": proposal.proposal_id,
        "offer_id": proposal.offer_id,
        "state": proposal.state,
        "name": r.person_name,
        "age_band": age_band(r.age),
        "skills": r.skills,
        "contact": contact,
    }


def _officer_view(r: Any) -> dict[str, Any]:
    return {
        **columns(r[0]),
        "county_code": r.county_code,
        "place_code": r.place,
        "partner_code": r.partner_code,
        "name": r.person_name,
        "age_band": age_band(r.age),
        "skills": r.skills,
    }


def list_proposals(
    session: Session,
    principal: Principal,
    *,
    run_id: str,
    state: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """Proposals of one run in scope, by id (see the module docstring for who sees what)."""
    _market_reader(principal)
    from dongxi.store._list_reads import match_run_exists, page_proposals

    if not match_run_exists(session, run_id=run_id):
        raise NotFoundError(
            "This match run does not exist.", fix="List the runs with GET /api/v1/match-runs."
        )
    partner_only = not principal.scope.unrestricted and not principal.can("market:answer_seeker")
    states: list[str] | None = None
    if partner_only:
        states = [s for s in CONSENTED if state is None or s == state]
    elif state is not None:
        states = [state]
    rows = page_proposals(
        session,
        scope=principal.scope,
        run_id=run_id,
        states=states,
        after=int_cursor(after),
        limit=limit_of(limit) + 1,
    )
    present = _partner_view if partner_only else _officer_view
    page = make_page(rows, limit, present, lambda r: str(r[0].proposal_id))
    if partner_only and page.items:
        # names leave the west's administration: the disclosure is audited, proposal by proposal
        from dongxi.store._read_audit import audit_read

        audit_read(
            session.connection(),
            actor=principal.actor,
            entity="match_proposals",
            key=run_id,
            after={"via": "api", "proposals": [p["proposal_id"] for p in page.items]},
        )
    return page
