"""Scoped reads (and the one write, publishing a round) behind the pages of the two-sided market
and the household page: a household's needs with their history, its proposals with their
transitions and outcomes, its measures and helper; the proposals a cadre answers; the matches a
partner sees; rounds and their publication.

Every query of registry rows adds the caller's :class:`Scope` (a row outside it does not exist)
or is reached only through a record the caller has already read inside its scope (a household
found by :func:`dongxi.store._repository.get_household`). "The latest round" of a chain is a run
that no later run continues; cadres and partners see only published rounds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from dongxi.errors import InputError, NotFoundError
from dongxi.store._changelog import record_change
from dongxi.store.base import utcnow
from dongxi.store.db import translate_errors
from dongxi.store.market_models import (
    MarketNeed,
    MarketOffer,
    MatchOutcome,
    MatchProposal,
    MatchRun,
    MatchTransition,
)
from dongxi.store.models import Helper, Household, Measure, Partner, Person
from dongxi.store.scope import Scope

__all__ = [
    "current_offer",
    "get_run",
    "helper_of",
    "household_measures",
    "household_needs",
    "household_proposals",
    "latest_runs",
    "partner_matches",
    "partner_name",
    "proposal_run",
    "publish_run",
    "recent_runs",
    "run_report",
    "seeker_proposals",
    "transitions_of",
]


def _rows(session: Session, query: Any, what: str) -> list[Any]:
    with translate_errors(what):
        return list(session.execute(query).all())


def household_needs(session: Session, *, household_code: str) -> list[MarketNeed]:
    """Every version of every need stated for the household (current ones have no
    ``valid_to``), newest first (the caller has read the household in scope)."""
    query = (
        sa.select(MarketNeed)
        .where(MarketNeed.household_code == household_code)
        .order_by(MarketNeed.valid_from.desc(), MarketNeed.need_id.desc())
    )
    with translate_errors("Reading needs"):
        return list(session.scalars(query).all())


def household_measures(session: Session, *, household_code: str) -> list[Measure]:
    """The household's measures (帮扶措施) by start date."""
    query = (
        sa.select(Measure)
        .where(Measure.household_code == household_code)
        .order_by(Measure.start_date, Measure.measure_code)
    )
    with translate_errors("Reading measures"):
        return list(session.scalars(query).all())


def helper_of(session: Session, *, helper_id: str | None) -> Helper | None:
    """The helper (帮扶责任人) with this id, if any."""
    if not helper_id:
        return None
    with translate_errors("Reading helpers"):
        return session.get(Helper, helper_id)


def _offer_current() -> Any:
    return aliased(MarketOffer)


def household_proposals(session: Session, *, household_code: str) -> list[Any]:
    """The proposals made to the household's members in every round (newest first), with the
    round, the offer's current version and the outcome."""
    offer = _offer_current()
    query = (
        sa.select(
            MatchProposal,
            MatchRun.round_no,
            MatchRun.created_at.label("run_at"),
            MatchRun.published_at,
            Person.name.label("person_name"),
            offer.kind.label("offer_kind"),
            offer.partner_code,
            offer.place_code,
            offer.sector,
            offer.monthly_wage,
            MatchOutcome.hired,
            MatchOutcome.start_date,
            MatchOutcome.retained_3m,
            MatchOutcome.retained_6m,
        )
        .join(MatchRun, MatchRun.run_id == MatchProposal.run_id)
        .join(Person, Person.id_hash == MatchProposal.seeker_id)
        .outerjoin(
            offer, sa.and_(offer.offer_id == MatchProposal.offer_id, offer.valid_to.is_(None))
        )
        .outerjoin(MatchOutcome, MatchOutcome.proposal_id == MatchProposal.proposal_id)
        .where(Person.household_code == household_code)
        .order_by(MatchRun.created_at.desc(), MatchProposal.proposal_id)
    )
    return _rows(session, query, "Reading proposals")


def transitions_of(session: Session, *, proposal_ids: Sequence[int]) -> list[MatchTransition]:
    """The transitions of these proposals, oldest first."""
    if not proposal_ids:
        return []
    query = (
        sa.select(MatchTransition)
        .where(MatchTransition.proposal_id.in_(list(proposal_ids)))
        .order_by(MatchTransition.transition_id)
    )
    with translate_errors("Reading proposals"):
        return list(session.scalars(query).all())


def _latest_published() -> Any:
    """A condition on ``MatchRun``: published, and no later round continues it."""
    later = aliased(MatchRun)
    return sa.and_(
        MatchRun.published_at.is_not(None),
        ~sa.exists(sa.select(later.run_id).where(later.parent_run_id == MatchRun.run_id)),
    )


def seeker_proposals(
    session: Session, *, scope: Scope, states: Sequence[str], limit: int
) -> list[Any]:
    """Proposals of the latest published rounds whose seeker's household lies in the scope's
    region, in ``states``, with the person's name and household and the offer."""
    offer = _offer_current()
    query = (
        sa.select(
            MatchProposal,
            MatchRun.round_no,
            Person.name.label("person_name"),
            Person.household_code,
            Household.village_code,
            offer.kind.label("offer_kind"),
            offer.partner_code,
            offer.place_code,
            offer.sector,
            offer.monthly_wage,
            offer.dormitory,
        )
        .join(MatchRun, MatchRun.run_id == MatchProposal.run_id)
        .join(Person, Person.id_hash == MatchProposal.seeker_id)
        .join(Household, Household.household_code == Person.household_code)
        .outerjoin(
            offer, sa.and_(offer.offer_id == MatchProposal.offer_id, offer.valid_to.is_(None))
        )
        .where(
            _latest_published(),
            scope.where_region(Household.village_code),
            MatchProposal.state.in_(list(states)),
        )
        .order_by(Household.village_code, Person.household_code, MatchProposal.proposal_id)
        .limit(limit)
    )
    return _rows(session, query, "Listing proposals")


def partner_matches(
    session: Session, *, scope: Scope, states: Sequence[str], limit: int
) -> list[Any]:
    """Proposals of the latest published rounds to the scope partner's offers in ``states``:
    the person's name, age, skills, the household's helper (contact) and the outcome. No ID
    number, hash, income, health or cause is selected."""
    if scope.partner_code is None and not scope.unrestricted:
        return []
    offer = _offer_current()
    need = aliased(MarketNeed)
    query = (
        sa.select(
            MatchProposal.proposal_id,
            MatchProposal.offer_id,
            MatchProposal.state,
            MatchRun.round_no,
            Person.name.label("person_name"),
            need.age,
            need.skills,
            Helper.name.label("helper_name"),
            Helper.unit.label("helper_unit"),
            offer.kind.label("offer_kind"),
            offer.place_code,
            offer.sector,
            MatchOutcome.hired,
            MatchOutcome.start_date,
            MatchOutcome.monthly_wage,
            MatchOutcome.retained_3m,
            MatchOutcome.retained_6m,
        )
        .join(MatchRun, MatchRun.run_id == MatchProposal.run_id)
        .join(offer, sa.and_(offer.offer_id == MatchProposal.offer_id, offer.valid_to.is_(None)))
        .outerjoin(
            need, sa.and_(need.seeker_id == MatchProposal.seeker_id, need.valid_to.is_(None))
        )
        .outerjoin(Person, Person.id_hash == MatchProposal.seeker_id)
        .outerjoin(Household, Household.household_code == Person.household_code)
        .outerjoin(Helper, Helper.helper_id == Household.helper_id)
        .outerjoin(MatchOutcome, MatchOutcome.proposal_id == MatchProposal.proposal_id)
        .where(
            _latest_published(),
            scope.where_partner(offer.partner_code),
            MatchProposal.state.in_(list(states)),
        )
        .order_by(MatchProposal.proposal_id)
        .limit(limit)
    )
    # one current need per (seeker, kind): keep the employment one when a seeker has several
    query = query.where(sa.or_(need.kind.is_(None), need.kind == "employment"))
    return _rows(session, query, "Listing matches")


def current_offer(session: Session, *, offer_id: str, scope: Scope) -> MarketOffer:
    """The current version of an offer of the scope's partner (``NotFoundError`` otherwise)."""
    query = sa.select(MarketOffer).where(
        MarketOffer.offer_id == offer_id,
        MarketOffer.valid_to.is_(None),
        scope.where_partner(MarketOffer.partner_code),
    )
    with translate_errors("Reading offers"):
        found = session.scalars(query).first()
    if found is None:
        raise NotFoundError(
            "This offer does not exist (or belongs to another partner).",
            fix="Open an offer from the list of your offers.",
        )
    return found


def partner_name(session: Session, *, partner_code: str | None) -> str | None:
    """The partner's name (reference data)."""
    if not partner_code:
        return None
    with translate_errors("Reading partners"):
        found = session.get(Partner, partner_code)
    return None if found is None else found.name


def recent_runs(session: Session, *, limit: int) -> list[Any]:
    """The newest runs with whether a later round continues each (``continued``)."""
    later = aliased(MatchRun)
    continued = sa.exists(sa.select(later.run_id).where(later.parent_run_id == MatchRun.run_id))
    query = (
        sa.select(MatchRun, continued.label("continued"))
        .order_by(MatchRun.created_at.desc(), MatchRun.run_id)
        .limit(limit)
    )
    return _rows(session, query, "Listing match runs")


def latest_runs(session: Session) -> list[MatchRun]:
    """The published runs that no later round continues (those cadres and partners answer)."""
    query = sa.select(MatchRun).where(_latest_published()).order_by(MatchRun.created_at.desc())
    with translate_errors("Listing match runs"):
        return list(session.scalars(query).all())


def get_run(session: Session, *, run_id: str) -> MatchRun:
    """One run (``NotFoundError`` when there is none)."""
    with translate_errors("Reading match runs"):
        run = session.get(MatchRun, run_id)
    if run is None:
        raise NotFoundError("This match run does not exist.", fix="Open a run from the list.")
    return run


def run_report(run: MatchRun) -> dict[str, list[dict[str, Any]]]:
    """The stored report tables of a run."""
    report = json.loads(run.report_json or "{}")
    return {str(k): list(v) for k, v in report.items()}


def proposal_run(session: Session, *, proposal_id: int) -> MatchRun | None:
    """The run of a proposal (``None`` when the proposal does not exist)."""
    query = (
        sa.select(MatchRun)
        .join(MatchProposal, MatchProposal.run_id == MatchRun.run_id)
        .where(MatchProposal.proposal_id == proposal_id)
    )
    with translate_errors("Reading match runs"):
        return session.scalars(query).first()


def publish_run(session: Session, *, run_id: str, actor: str) -> MatchRun:
    """Mark a run published (once), with a change-log entry in the same transaction."""
    run = session.get(MatchRun, run_id, with_for_update=True)
    if run is None:
        raise NotFoundError("This match run does not exist.", fix="Open a run from the list.")
    if run.published_at is not None:
        raise InputError(
            "This round is already published.",
            rule="published",
            fix="Nothing to do: cadres and partners already see it.",
        )
    now = utcnow()
    run.published_at = now
    run.published_by = actor
    session.flush()
    record_change(
        session.connection(),
        actor=actor,
        action="update",
        entity="match_runs",
        key=run_id,
        before={"published_at": None},
        after={"published_at": now.isoformat(), "published_by": actor},
    )
    return run
