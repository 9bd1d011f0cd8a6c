"""Use cases of the market's daily work in the browser: a cadre records a person's need, answers
a proposal for the seeker; a partner posts and edits its offers, confirms or declines the
matches the seekers accepted and records hires and retention; an officer with the right publishes
a round and reads its report.

Each takes the request's session (one transaction with its audit entries) and the acting
:class:`Principal`, checks a permission of :data:`~dongxi.services.principal.PERMISSIONS` and
passes the scope down to the store, where a row outside it does not exist:

- :func:`record_need` — ``market:answer_seeker`` and ``registry:write``; the person must be a
  member of a household in the principal's region. Stored as a new version of the person's need
  of that kind (the earlier one closed, and the person's draft of that kind too: migration
  0013, ``services.drafted_needs``), change-logged.
- :func:`seeker_answers` / :func:`answer_for_seeker` — ``market:answer_seeker``: proposals of the
  latest *published* round whose seeker lives in the principal's region; the answer (accept or
  decline) is the household's own word, recorded as such (the transition's note starts with
  ``household's word:``, the actor is the cadre, the side ``cadre``).
- :func:`partner_offers` / :func:`save_offer` — ``market:answer_partner`` with a partner scope:
  a partner's own offers only (another partner's offer does not exist).
- :func:`partner_matches` / :func:`partner_answer` / :func:`partner_outcome` —
  ``market:answer_partner``: proposals to the partner's offers the seeker accepted, in the latest
  published round, showing of the person only the name, an age band, the skills and a contact
  (the household's helper); each page of them is an audited disclosure.
- :func:`rounds` / :func:`round_report` / :func:`publish_round` — ``market:run`` (publishing:
  with an unrestricted scope, like running a round).

A declined pair is never proposed again: the next round of a chain leaves out every pair struck
in any earlier round (:func:`dongxi.services.matching.run_round`, ``after=``).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dongxi import vocab
from dongxi.errors import InputError, NotFoundError, PermissionDeniedError
from dongxi.services.market_reads import CONSENTED, age_band
from dongxi.services.principal import Principal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "ANSWER_STATES",
    "HOUSEHOLD_WORD",
    "NeedInput",
    "OfferInput",
    "RoundView",
    "answer_for_seeker",
    "partner_answer",
    "partner_matches",
    "partner_offer",
    "partner_offers",
    "partner_outcome",
    "publish_round",
    "record_need",
    "round_report",
    "rounds",
    "save_offer",
    "seeker_answers",
]

#: Prefix of a cadre's note: what follows is the household's own word, not the cadre's.
HOUSEHOLD_WORD = "household's word: "
#: States of proposals a cadre's list shows (those waiting first, then their fate).
ANSWER_STATES = (
    "proposed",
    "accepted",
    "confirmed",
    "hired",
    "not_hired",
    "declined_by_seeker",
    "declined_by_partner",
)
_ID_LIKE = re.compile(r"[0-9]{17}[0-9Xx]")
_PLACE = re.compile(r"^[0-9]{2,12}$")
_MAX_LIST = 500
_MAX_NOTE = 300


def _text(value: str | None, *, column: str, limit: int, required: bool = False) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InputError(
                "This field is required.", column=column, rule="required", fix="Fill it in."
            )
        return None
    if len(text) > limit:
        raise InputError(
            f"At most {limit} characters.",
            column=column,
            rule="max_length",
            fix=f"Shorten it to {limit} characters.",
        )
    if _ID_LIKE.search(text):
        raise InputError(
            "Free text must not hold an ID number.",
            column=column,
            rule="no_id_number",
            fix="Leave the ID number out (the record already identifies the person).",
        )
    return text


def _choice(value: str, vocabulary: vocab.Vocabulary, column: str) -> str:
    if value not in vocabulary:
        raise InputError(
            f"Unknown {vocabulary.name}.",
            column=column,
            value=value,
            rule=column,
            fix=f"Use one of: {', '.join(vocabulary.codes)}.",
        )
    return value


def _places(codes: list[str], column: str) -> list[str]:
    out: list[str] = []
    for code in codes:
        code = code.strip()
        if not code:
            continue
        if not _PLACE.match(code):
            raise InputError(
                "A place is a division code of 2 to 12 digits.",
                column=column,
                value=code,
                rule="place",
                fix="Write division codes (e.g. 440300 for Shenzhen), separated by spaces.",
            )
        if code not in out:
            out.append(code)
    return out


def _money(value: float | None, column: str) -> float | None:
    if value is None:
        return None
    if not 0 <= value <= 1_000_000:
        raise InputError(
            "An amount in yuan between 0 and 1,000,000.",
            column=column,
            value=value,
            rule="range",
            fix="Give the monthly amount in yuan.",
        )
    return float(value)


# --------------------------------------------------------------------------------- needs
@dataclass(frozen=True)
class NeedInput:
    """What a cadre writes down of a person's need (employment: sectors, places, minimum wage,
    dormitory; other kinds: the details in words)."""

    kind: str
    willingness: str = "willing"
    sectors: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    min_wage: float | None = None
    needs_dormitory: bool = False
    details: str | None = None


def record_need(
    session: Session,
    principal: Principal,
    *,
    household_code: str,
    id_hash: str,
    need: NeedInput,
    today: dt.date | None = None,
) -> int:
    """Record a person's need as stated to the cadre (a new version of the person's need of that
    kind); the household must lie in the principal's region and the person be its member.
    Returns the number of versions written (1)."""
    principal.require("market:answer_seeker")
    principal.require("registry:write")
    from dongxi.store import _repository as repo

    household = repo.get_household(session, household_code=household_code, scope=principal.scope)
    person = repo.get_person(session, scope=principal.scope, id_hash=id_hash)
    if person.household_code != household.household_code:
        raise NotFoundError(
            "This person is not a member of this household.",
            fix="Choose a member listed on the household's page.",
        )
    kind = _choice(need.kind, vocab.NEED_KINDS, "kind")
    willingness = _choice(need.willingness, vocab.WILLINGNESS, "willingness")
    sectors = [_choice(s, vocab.SECTORS, "sectors") for s in need.sectors]
    places = _places(need.places, "places")
    details = _text(need.details, column="details", limit=1000)
    if kind == "employment" and not places:
        raise InputError(
            "An employment need names at least one place of work.",
            column="places",
            rule="required",
            fix="Write the division codes of the places the person would go to.",
        )
    stated = today or dt.date.today()
    age = stated.year - person.birth_date.year
    import pandas as pd

    from dongxi.store.market_models import close_drafts, save_needs

    row = {
        "seeker_id": person.id_hash,
        "household_code": household.household_code,
        "county_code": household.village_code[:6],
        "kind": kind,
        "status": household.status,
        "age": age,
        "education": person.education,
        "labour_capacity": person.labour_capacity,
        "skills": getattr(person, "skills", None) or None,
        "sectors": ";".join(sectors) or None,
        "places": ";".join(places) or None,
        "min_wage": _money(need.min_wage, "min_wage"),
        "needs_dormitory": bool(need.needs_dormitory),
        "details": details,
        "willingness": willingness,
        "stated_on": stated,
    }
    written = save_needs(session, pd.DataFrame([row]), actor=principal.actor, kind=kind)
    # the person's draft of this kind (``<household>-<member no>``), if any, is now stated
    close_drafts(session, [(f"{household.household_code}-{person.member_no}", kind)],
                 actor=principal.actor)  # fmt: skip
    return written


# ------------------------------------------------------------------------ seekers' answers
def _check_open(session: Session, proposal_id: int) -> None:
    """A proposal of an unpublished round does not exist for cadres and partners."""
    from dongxi.store._market_desk import proposal_run

    run = proposal_run(session, proposal_id=proposal_id)
    if run is None or run.published_at is None:
        raise NotFoundError(
            f"proposal {proposal_id} does not exist (or lies outside your scope).",
            fix="Answer the proposals listed on your page.",
        )


def seeker_answers(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """Proposals of the latest published rounds to seekers of the principal's region."""
    principal.require("market:answer_seeker")
    from dongxi.store._market_desk import seeker_proposals

    rows = seeker_proposals(session, scope=principal.scope, states=ANSWER_STATES, limit=_MAX_LIST)
    order = {s: i for i, s in enumerate(ANSWER_STATES)}
    out = [
        {
            "proposal_id": r[0].proposal_id,
            "state": r[0].state,
            "round_no": r.round_no,
            "name": r.person_name,
            "household_code": r.household_code,
            "village_code": r.village_code,
            "offer_id": r[0].offer_id,
            "offer_kind": r.offer_kind,
            "partner_code": r.partner_code,
            "place_code": r.place_code,
            "sector": r.sector,
            "monthly_wage": r.monthly_wage,
            "dormitory": r.dormitory,
        }
        for r in rows
    ]
    return sorted(out, key=lambda p: (order[p["state"]], p["household_code"], p["proposal_id"]))


def answer_for_seeker(
    session: Session, principal: Principal, *, proposal_id: int, accept: bool, reason: str | None
) -> None:
    """The household's answer to a proposal, recorded by the cadre as the household's own word
    (a decline needs the household's reason)."""
    principal.require("market:answer_seeker")
    words = _text(reason, column="reason", limit=_MAX_NOTE, required=not accept)
    _check_open(session, proposal_id)
    from dongxi.services.matching import answer_proposal

    answer_proposal(
        principal,
        session,
        proposal_id,
        to_state="accepted" if accept else "declined_by_seeker",
        side="cadre",
        note=HOUSEHOLD_WORD + (words or ("accepts" if accept else "declines")),
    )


# ---------------------------------------------------------------------------- partner side
@dataclass(frozen=True)
class OfferInput:
    """An offer as a partner writes it (job post, training seats, workshop places, …)."""

    kind: str
    place_code: str
    positions: int
    sector: str | None = None
    monthly_wage: float | None = None
    dormitory: bool = False
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    details: str | None = None


def _partner(principal: Principal) -> str:
    principal.require("market:answer_partner")
    code = principal.scope.partner_code
    if code is None:
        raise PermissionDeniedError(
            "Only a partner's user posts and answers for its offers.",
            fix="Log in with the account of the partner.",
        )
    return code


def partner_offers(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The partner's current offers (its own only)."""
    _partner(principal)
    from dongxi.services.market_reads import list_offers

    items: list[dict[str, Any]] = []
    after = None
    while True:
        page = list_offers(session, principal, after=after, limit=200)
        items += page.items
        after = page.next_after
        if after is None or len(items) >= _MAX_LIST:
            return items


def partner_offer(session: Session, principal: Principal, *, offer_id: str) -> dict[str, Any]:
    """One of the partner's offers (another partner's does not exist)."""
    _partner(principal)
    from dongxi.store._market_desk import current_offer

    offer = current_offer(session, offer_id=offer_id, scope=principal.scope)
    return {c.name: getattr(offer, c.name) for c in offer.__table__.columns}


def save_offer(
    session: Session, principal: Principal, *, offer: OfferInput, offer_id: str | None = None
) -> str:
    """Post a new offer of the principal's partner, or a new version of one of its offers;
    returns the offer's id."""
    code = _partner(principal)
    existing = None
    if offer_id is not None:  # another partner's offer does not exist, whatever the form says
        from dongxi.store._market_desk import current_offer

        existing = current_offer(session, offer_id=offer_id, scope=principal.scope)
    kind = _choice(offer.kind, vocab.OFFER_KINDS, "kind")
    place = _places([offer.place_code], "place_code")
    if not place:
        raise InputError(
            "An offer needs its place.", column="place_code", rule="required",
            fix="Write the division code of the place (e.g. 440300).",
        )  # fmt: skip
    if not 0 <= offer.positions <= 100_000:
        raise InputError(
            "Places must be between 0 and 100,000.",
            column="positions",
            value=offer.positions,
            rule="range",
            fix="Give the number of places (0 closes the offer).",
        )
    wage = _money(offer.monthly_wage, "monthly_wage")
    if kind == "job" and wage is None:
        raise InputError(
            "A job post states its monthly wage.",
            column="monthly_wage",
            rule="required",
            fix="Give the monthly wage in yuan.",
        )
    if offer.starts_on and offer.ends_on and offer.ends_on < offer.starts_on:
        raise InputError(
            "The end date is before the start date.",
            column="ends_on",
            rule="dates",
            fix="Correct the dates.",
        )
    sector = None if not offer.sector else _choice(offer.sector, vocab.SECTORS, "sector")
    details = _text(offer.details, column="details", limit=1000)
    import pandas as pd

    from dongxi.store.market_models import save_offers

    row: dict[str, Any] = {}
    if existing is not None:
        if existing.kind != kind:
            raise InputError(
                "An offer keeps its kind.",
                column="kind",
                value=kind,
                rule="kind",
                fix="Post a new offer for another kind.",
            )
        row = {c.name: getattr(existing, c.name) for c in existing.__table__.columns}
        for bookkeeping in ("offer_row_id", "valid_from", "valid_to", "recorded_by"):
            row.pop(bookkeeping, None)
    the_id = offer_id if offer_id is not None else f"{code}-{uuid.uuid4().hex[:10]}"
    row.update(
        {
            "offer_id": the_id,
            "partner_code": code,
            "kind": kind,
            "place_code": place[0],
            "sector": sector,
            "monthly_wage": wage,
            "positions": int(offer.positions),
            "dormitory": bool(offer.dormitory),
            "starts_on": offer.starts_on,
            "ends_on": offer.ends_on,
            "details": details,
        }
    )
    save_offers(session, pd.DataFrame([row]), actor=principal.actor, kind=kind)
    return the_id


def partner_matches(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The matches to the partner's offers that the seekers accepted (latest published rounds):
    name, age band, skills, contact and outcome; an audited disclosure."""
    _partner(principal)
    from dongxi.store._changelog import record_change
    from dongxi.store._market_desk import partner_matches as rows_of

    rows = rows_of(session, scope=principal.scope, states=CONSENTED, limit=_MAX_LIST)
    out = []
    for r in rows:
        contact = None
        if r.helper_name:
            contact = r.helper_name if not r.helper_unit else f"{r.helper_name} ({r.helper_unit})"
        out.append(
            {
                "proposal_id": r.proposal_id,
                "offer_id": r.offer_id,
                "offer_kind": r.offer_kind,
                "place_code": r.place_code,
                "sector": r.sector,
                "state": r.state,
                "round_no": r.round_no,
                "name": r.person_name,
                "age_band": age_band(r.age),
                "skills": r.skills,
                "contact": contact,
                "hired": r.hired,
                "start_date": r.start_date,
                "monthly_wage": r.monthly_wage,
                "retained_3m": r.retained_3m,
                "retained_6m": r.retained_6m,
            }
        )
    if out:
        record_change(
            session.connection(),
            actor=principal.actor,
            action="read",
            entity="match_proposals",
            key="partner-matches",
            after={"via": "page", "proposals": [m["proposal_id"] for m in out]},
        )
    return out


def partner_answer(
    session: Session, principal: Principal, *, proposal_id: int, confirm: bool, note: str | None
) -> None:
    """The partner confirms or declines a match the seeker accepted."""
    _partner(principal)
    words = _text(note, column="note", limit=_MAX_NOTE, required=not confirm)
    _check_open(session, proposal_id)
    from dongxi.services.matching import answer_proposal

    answer_proposal(
        principal,
        session,
        proposal_id,
        to_state="confirmed" if confirm else "declined_by_partner",
        side="partner",
        note=words,
    )


def partner_outcome(
    session: Session,
    principal: Principal,
    *,
    proposal_id: int,
    hired: bool,
    start_date: dt.date | None = None,
    monthly_wage: float | None = None,
    retained_3m: bool | None = None,
    retained_6m: bool | None = None,
) -> None:
    """Hired or not (a confirmed match moves to ``hired``/``not_hired``), then the outcome
    with start date, wage and retention at 3 and 6 months (recorded again as they become known)."""
    _partner(principal)
    _check_open(session, proposal_id)
    from dongxi.services.matching import answer_proposal, record_outcome
    from dongxi.store.market_models import MatchProposal

    proposal = session.get(MatchProposal, proposal_id)
    if proposal is not None and proposal.state == "confirmed":
        answer_proposal(
            principal,
            session,
            proposal_id,
            to_state="hired" if hired else "not_hired",
            side="partner",
        )
    elif (
        proposal is not None
        and proposal.state in ("hired", "not_hired")
        and (proposal.state == "hired") != hired
    ):
        raise InputError(
            f"This match is already recorded as {proposal.state}.",
            column="hired",
            rule="state_machine",
            fix="Record the retention of the recorded outcome.",
        )
    record_outcome(
        principal,
        session,
        proposal_id,
        hired=hired,
        start_date=start_date,
        monthly_wage=_money(monthly_wage, "monthly_wage"),
        retained_3m=retained_3m,
        retained_6m=retained_6m,
    )


# ------------------------------------------------------------------------------- rounds
@dataclass(frozen=True)
class RoundView:
    """A round as the officer's page shows it."""

    run_id: str
    parent_run_id: str | None
    round_no: int
    method: str
    created_at: dt.datetime
    actor: str
    seekers: int
    offers: int
    matched: int
    blocking_pairs: int
    total_welfare: float
    published_at: dt.datetime | None
    published_by: str | None
    continued: bool = False
    report: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    states: dict[str, int] = field(default_factory=dict)


def _officer(principal: Principal) -> None:
    principal.require("market:run")


def _view(run: Any, **extra: Any) -> RoundView:
    return RoundView(
        run_id=run.run_id,
        parent_run_id=run.parent_run_id,
        round_no=run.round_no,
        method=run.engine,
        created_at=run.created_at,
        actor=run.actor,
        seekers=run.seekers,
        offers=run.offers,
        matched=run.matched,
        blocking_pairs=run.blocking_pairs,
        total_welfare=run.total_welfare,
        published_at=run.published_at,
        published_by=run.published_by,
        **extra,
    )


def rounds(session: Session, principal: Principal, *, limit: int = 50) -> list[RoundView]:
    """The newest rounds (counts, publication, whether a later round continues each)."""
    _officer(principal)
    from dongxi.store._market_desk import recent_runs

    return [_view(r[0], continued=bool(r.continued)) for r in recent_runs(session, limit=limit)]


def round_report(session: Session, principal: Principal, *, run_id: str) -> RoundView:
    """One round with its report (overall, by county, unmatched and why, blocking pairs) and
    its proposals counted by state. Outside an unrestricted scope only the principal's
    counties' rows of the report are kept."""
    _officer(principal)
    from dongxi.store._list_reads import page_proposals
    from dongxi.store._market_desk import get_run, recent_runs, run_report

    run = get_run(session, run_id=run_id)
    report = run_report(run)
    if not principal.scope.unrestricted:
        prefix = principal.scope.region_prefix or "\0"
        report = {
            name: [r for r in rows if str(r.get("county_code", "")).startswith(prefix[:6])]
            for name, rows in report.items()
            if name != "overall"
        }
    states: dict[str, int] = {}
    after = None
    while True:
        rows = page_proposals(
            session, scope=principal.scope, run_id=run_id, states=None, after=after, limit=5000
        )
        for r in rows:
            states[r[0].state] = states.get(r[0].state, 0) + 1
        if len(rows) < 5000:
            break
        after = rows[-1][0].proposal_id
    continued = any(r[0].parent_run_id == run_id for r in recent_runs(session, limit=1000))
    return _view(run, report=report, states=states, continued=continued)


def publish_round(session: Session, principal: Principal, *, run_id: str) -> None:
    """Publish a round to the cadres and partners (unrestricted scope; audited; once)."""
    _officer(principal)
    if not principal.scope.unrestricted:
        raise PermissionDeniedError(
            "A principal whose scope is restricted may not publish a matching round.",
            fix="Ask an administrator (or an officer with an unrestricted scope) to do it.",
        )
    from dongxi.store._market_desk import publish_run

    publish_run(session, run_id=run_id, actor=principal.actor)
