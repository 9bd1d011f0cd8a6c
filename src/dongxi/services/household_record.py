"""Use case: what the household page shows beyond members, income and status history — the
line of each income year, the helper (帮扶责任人), measures (帮扶措施), needs with their history,
proposals of the matching rounds with their transitions and outcomes, and the record's change
history.

``registry:read`` on a household in the principal's scope (outside it: ``NotFoundError``, as for
a household that does not exist). The change history names who did what and which fields
changed, never the values (they may be personal); reads of the record are counted, not listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dongxi.errors import NotFoundError
from dongxi.services.principal import Principal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["HouseholdRecord", "field_labels", "household_record", "income_line"]


@dataclass(frozen=True)
class HouseholdRecord:
    """The parts of a household's page that :func:`households.household_detail` does not give."""

    lines: dict[int, dict[str, Any]]
    helper: dict[str, Any] | None
    measures: list[dict[str, Any]]
    needs: list[dict[str, Any]]
    proposals: list[dict[str, Any]]
    history: list[dict[str, Any]]
    reads: int


def field_labels(entity: str) -> dict[str, str]:
    """Column name → its Chinese header (the data dictionary's) for households or people, so a
    page names a changed field as the offices write it."""
    from dongxi.intake.columns import zh_headers

    if entity == "households":
        return dict(zh_headers("households"))
    if entity == "people":
        return dict(zh_headers("people"))
    return {}


def income_line(year: int, region: str) -> dict[str, Any] | None:
    """The line an income of ``year`` is compared with in ``region``: the poverty line (to 2020),
    else the monitoring line (from 2021), by :func:`dongxi.policy.income_line` (the rule of
    ``dongxi measure`` and ``dongxi report``); ``None`` when no figure applies."""
    from dongxi.policy import income_line as line_of_year

    try:
        value = line_of_year(year, scope=region)
    except NotFoundError:
        return None
    return {"name": value.name, "value": float(value.value), "status": value.status}


def _history(
    session: Session, household_code: str, member_hashes: list[str]
) -> tuple[list[dict[str, Any]], int]:
    from dongxi.store._changelog import change_histories

    records = [("households", household_code)] + [("people", h) for h in member_hashes]
    found = change_histories(session.connection(), records)
    entries = [("households", household_code, e) for e in found[records[0]]]
    for number, record in enumerate(records[1:], start=1):
        entries += [("people", str(number), e) for e in found[record]]
    reads = sum(1 for _, _, e in entries if e["action"] == "read")
    shown = []
    for entity, which, e in entries:
        if e["action"] == "read":
            continue
        after = e["after"] or {}
        before = e["before"] or {}
        if e["action"] == "update" and before:
            fields = sorted(k for k in after if before.get(k) != after.get(k))
        else:
            fields = []
        shown.append(
            {
                "seq": e["seq"],
                "at": e["at"],
                "actor": e["actor"],
                "action": e["action"],
                "entity": entity,
                "member": which if entity == "people" else None,
                "fields": [f for f in fields if f not in ("row_version", "updated_at")],
            }
        )
    shown.sort(key=lambda x: x["seq"], reverse=True)
    return shown, reads


def household_record(
    session: Session, principal: Principal, *, household_code: str
) -> HouseholdRecord:
    """The household's helper, measures, needs, proposals, income lines and change history."""
    principal.require("registry:read")
    from dongxi.store import _market_desk as desk
    from dongxi.store._need_drafts import member_seeker
    from dongxi.store._reads import household_income, household_members
    from dongxi.store._repository import get_household

    household = get_household(session, household_code=household_code, scope=principal.scope)
    members = household_members(session, household_code=household_code)
    # a need's seeker is a member's keyed ID hash (recorded on the page) or the member's
    # drafted-need id (drafts, and needs confirmed from a drafts file)
    member = {
        seeker: p
        for p in members
        for seeker in (p.id_hash, member_seeker(household_code, p.member_no))
    }
    lines = {}
    for row in household_income(session, household_code=household_code):
        line = income_line(row.year, household.village_code)
        if line is not None:
            line["below"] = row.net_income_per_capita < line["value"]
        lines[row.year] = line or {}
    helper = desk.helper_of(session, helper_id=household.helper_id)
    measures = [
        {
            "measure_code": m.measure_code,
            "batch": m.batch,
            "subtype": m.subtype,
            "funds": m.funds,
            "fund_source": m.fund_source,
            "start_date": m.start_date,
            "end_date": m.end_date,
            "status": m.status,
            "partner": desk.partner_name(session, partner_code=m.partner_code),
            "outcome": m.outcome,
        }
        for m in desk.household_measures(session, household_code=household_code)
    ]
    needs = [
        {
            "need_id": n.need_id,
            "member_no": member[n.seeker_id].member_no if n.seeker_id in member else None,
            "name": member[n.seeker_id].name if n.seeker_id in member else None,
            "kind": n.kind,
            "willingness": n.willingness,
            "sectors": [s for s in (n.sectors or "").split(";") if s],
            "places": [p for p in (n.places or "").split(";") if p],
            "min_wage": n.min_wage,
            "needs_dormitory": n.needs_dormitory,
            "details": n.details,
            "stated_on": n.stated_on,
            "current": n.valid_to is None,
            "draft": bool(n.draft),
            "recorded_by": n.recorded_by,
            "valid_from": n.valid_from,
        }
        for n in desk.household_needs(session, household_code=household_code)
    ]
    rows = desk.household_proposals(session, household_code=household_code)
    moves: dict[int, list[dict[str, Any]]] = {}
    for t in desk.transitions_of(session, proposal_ids=[r[0].proposal_id for r in rows]):
        moves.setdefault(t.proposal_id, []).append(
            {"to": t.to_state, "at": t.at, "role": t.role, "actor": t.actor, "note": t.note}
        )
    proposals = [
        {
            "proposal_id": r[0].proposal_id,
            "round_no": r.round_no,
            "published": r.published_at is not None,
            "name": r.person_name,
            "offer_id": r[0].offer_id,
            "offer_kind": r.offer_kind,
            "partner": desk.partner_name(session, partner_code=r.partner_code),
            "place_code": r.place_code,
            "sector": r.sector,
            "monthly_wage": r.monthly_wage,
            "state": r[0].state,
            "hired": r.hired,
            "start_date": r.start_date,
            "retained_3m": r.retained_3m,
            "retained_6m": r.retained_6m,
            "transitions": moves.get(r[0].proposal_id, []),
        }
        for r in rows
    ]
    history, reads = _history(session, household_code, [p.id_hash for p in members])
    return HouseholdRecord(
        lines=lines,
        helper=None if helper is None else {"name": helper.name, "unit": helper.unit},
        measures=measures,
        needs=needs,
        proposals=proposals,
        history=history,
        reads=reads,
    )
