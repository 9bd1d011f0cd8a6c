"""Scoped, keyset-paginated reads for the service's lists: income, measures, partners, helpers,
reference data (regions, pairings, policy parameters), snapshot records, the market (needs,
offers, runs, proposals) and the household counts behind the aggregates.

Every query of registry rows adds the caller's :class:`Scope` (a row outside it does not exist);
pages are ``WHERE key > :after ORDER BY key LIMIT :n`` (no OFFSET), so a page costs the same at
the end of a large table as at its start and a row inserted meanwhile never shifts the pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dongxi.store.db import translate_errors
from dongxi.store.market_models import MarketNeed, MarketOffer, MatchProposal, MatchRun
from dongxi.store.models import (
    Helper,
    Household,
    HouseholdStatus,
    Income,
    Measure,
    Pairing,
    Partner,
    Person,
    PolicyParameter,
    Region,
    Snapshot,
)
from dongxi.store.scope import Scope

__all__ = [
    "household_counts",
    "page_helpers",
    "page_income",
    "page_match_runs",
    "page_measures",
    "page_needs",
    "page_offers",
    "page_pairings",
    "page_partners",
    "page_policy_parameters",
    "page_proposals",
    "page_regions",
    "page_snapshots",
    "paired_west_codes",
]


def _after(keys: Sequence[Any], after: Sequence[Any] | None) -> Any:
    """``(k1, k2, …) > (a1, a2, …)`` written portably (row values compare on both backends, but
    spelled out it uses the primary-key index on each)."""
    if after is None:
        return sa.true()
    first, *rest = keys
    if not rest:
        return first > after[0]
    return sa.or_(first > after[0], sa.and_(first == after[0], _after(rest, after[1:])))


def _prefix(column: Any, prefix: str | None) -> Any:
    return sa.true() if not prefix else column.startswith(prefix, autoescape=True)


def _rows(session: Session, query: Any, what: str) -> list[Any]:
    with translate_errors(what):
        return list(session.execute(query).all())


def _region_or_partner(scope: Scope, region: Any, partner: Any) -> Any:
    """Inside the scope's region subtree or belonging to the scope's partner."""
    if scope.unrestricted:
        return sa.true()
    return sa.or_(scope.where_region(region), scope.where_partner(partner))


def page_income(
    session: Session,
    *,
    scope: Scope,
    year: int | None,
    village_prefix: str | None,
    after: tuple[str, int] | None,
    limit: int,
) -> list[Any]:
    """Income rows of households in scope, by (household_code, year)."""
    query = (
        sa.select(Income, Household.village_code)
        .join(Household, Household.household_code == Income.household_code)
        .where(
            scope.where_region(Household.village_code),
            _prefix(Household.village_code, village_prefix),
            _after((Income.household_code, Income.year), after),
        )
        .order_by(Income.household_code, Income.year)
        .limit(limit)
    )
    if year is not None:
        query = query.where(Income.year == year)
    return _rows(session, query, "Listing income")


def page_measures(
    session: Session,
    *,
    scope: Scope,
    region_prefix: str | None,
    status: str | None,
    partner_code: str | None,
    after: str | None,
    limit: int,
) -> list[Any]:
    """Measures in scope by code: their household's village (or their own region) in the scope's
    region, or (partner scope) measures the partner carries out."""
    place = sa.func.coalesce(Household.village_code, Measure.region_code)
    query = (
        sa.select(Measure, place.label("place"))
        .outerjoin(Household, Household.household_code == Measure.household_code)
        .where(
            _region_or_partner(scope, place, Measure.partner_code),
            _prefix(place, region_prefix),
            _after((Measure.measure_code,), None if after is None else (after,)),
        )
        .order_by(Measure.measure_code)
        .limit(limit)
    )
    if status:
        query = query.where(Measure.status == status)
    if partner_code:
        query = query.where(Measure.partner_code == partner_code)
    return _rows(session, query, "Listing measures")


def page_partners(
    session: Session, *, scope: Scope, kind: str | None, after: str | None, limit: int
) -> list[Any]:
    """Partners by code; a partner scope sees only its own partner."""
    query = (
        sa.select(Partner)
        .where(
            scope.where_partner(Partner.partner_code) if scope.partner_code else sa.true(),
            _after((Partner.partner_code,), None if after is None else (after,)),
        )
        .order_by(Partner.partner_code)
        .limit(limit)
    )
    if kind:
        query = query.where(Partner.kind == kind)
    return _rows(session, query, "Listing partners")


def page_helpers(
    session: Session,
    *,
    scope: Scope,
    region_prefix: str | None,
    side: str | None,
    after: str | None,
    limit: int,
) -> list[Any]:
    """Helpers (帮扶责任人) whose region lies in the scope, by id."""
    query = (
        sa.select(Helper)
        .where(
            scope.where_region(Helper.region_code),
            _prefix(Helper.region_code, region_prefix),
            _after((Helper.helper_id,), None if after is None else (after,)),
        )
        .order_by(Helper.helper_id)
        .limit(limit)
    )
    if side:
        query = query.where(Helper.side == side)
    return _rows(session, query, "Listing helpers")


def page_regions(
    session: Session,
    *,
    parent: str | None,
    level: str | None,
    vintage: int | None,
    after: tuple[str, int] | None,
    limit: int,
) -> list[Any]:
    """Divisions (reference data, not scoped) by (code, vintage)."""
    query = (
        sa.select(Region)
        .where(_after((Region.code, Region.vintage), after))
        .order_by(Region.code, Region.vintage)
        .limit(limit)
    )
    if parent:
        query = query.where(Region.parent_code == parent)
    if level:
        query = query.where(Region.level == level)
    if vintage is not None:
        query = query.where(Region.vintage == vintage)
    return _rows(session, query, "Listing regions")


def page_pairings(
    session: Session,
    *,
    east_prefix: str | None,
    west_prefix: str | None,
    after: int | None,
    limit: int,
) -> list[Any]:
    """East–west pairings (reference data) by id."""
    query = (
        sa.select(Pairing)
        .where(
            _prefix(Pairing.east_code, east_prefix),
            _prefix(Pairing.west_code, west_prefix),
            _after((Pairing.id,), None if after is None else (after,)),
        )
        .order_by(Pairing.id)
        .limit(limit)
    )
    return _rows(session, query, "Listing pairings")


def page_policy_parameters(
    session: Session, *, name: str | None, status: str | None, after: int | None, limit: int
) -> list[Any]:
    """Policy parameters (reference data) by id."""
    query = (
        sa.select(PolicyParameter)
        .where(_after((PolicyParameter.id,), None if after is None else (after,)))
        .order_by(PolicyParameter.id)
        .limit(limit)
    )
    if name:
        query = query.where(PolicyParameter.name == name)
    if status:
        query = query.where(PolicyParameter.status == status)
    return _rows(session, query, "Listing policy parameters")


def page_snapshots(session: Session, *, after: str | None, limit: int) -> list[Any]:
    """Snapshot records by id (their ids begin with the creation time)."""
    query = (
        sa.select(Snapshot)
        .where(_after((Snapshot.snapshot_id,), None if after is None else (after,)))
        .order_by(Snapshot.snapshot_id)
        .limit(limit)
    )
    return _rows(session, query, "Listing snapshots")


def _need_place() -> Any:
    return sa.func.coalesce(Household.village_code, MarketNeed.county_code)


def page_needs(
    session: Session,
    *,
    scope: Scope,
    kind: str | None,
    region_prefix: str | None,
    after: int | None,
    limit: int,
) -> list[Any]:
    """Current needs whose seeker lies in the scope's region (household village, else county)."""
    place = _need_place()
    query = (
        sa.select(MarketNeed, place.label("place"))
        .outerjoin(Household, Household.household_code == MarketNeed.household_code)
        .where(
            MarketNeed.valid_to.is_(None),
            scope.where_region(place),
            _prefix(place, region_prefix),
            _after((MarketNeed.need_id,), None if after is None else (after,)),
        )
        .order_by(MarketNeed.need_id)
        .limit(limit)
    )
    if kind:
        query = query.where(MarketNeed.kind == kind)
    return _rows(session, query, "Listing needs")


def page_offers(
    session: Session,
    *,
    scope: Scope,
    kind: str | None,
    partner_code: str | None,
    after: int | None,
    limit: int,
) -> list[Any]:
    """Current offers by row id; a partner scope sees only its own partner's offers."""
    query = (
        sa.select(MarketOffer)
        .where(
            MarketOffer.valid_to.is_(None),
            scope.where_partner(MarketOffer.partner_code) if scope.partner_code else sa.true(),
            _after((MarketOffer.offer_row_id,), None if after is None else (after,)),
        )
        .order_by(MarketOffer.offer_row_id)
        .limit(limit)
    )
    if kind:
        query = query.where(MarketOffer.kind == kind)
    if partner_code:
        query = query.where(MarketOffer.partner_code == partner_code)
    return _rows(session, query, "Listing offers")


def page_match_runs(
    session: Session, *, kind: str | None, after: str | None, limit: int
) -> list[Any]:
    """Match runs (their counts, not their pairs) by run id."""
    query = (
        sa.select(MatchRun)
        .where(_after((MatchRun.run_id,), None if after is None else (after,)))
        .order_by(MatchRun.run_id)
        .limit(limit)
    )
    if kind:
        query = query.where(MatchRun.kind == kind)
    return _rows(session, query, "Listing match runs")


def match_run_exists(session: Session, *, run_id: str) -> bool:
    """Whether the run exists."""
    with translate_errors("Reading match runs"):
        return session.get(MatchRun, run_id) is not None


def page_proposals(
    session: Session,
    *,
    scope: Scope,
    run_id: str,
    states: Sequence[str] | None,
    after: int | None,
    limit: int,
) -> list[Any]:
    """Proposals of one run by id, with the seeker's current need, the offer's current version,
    the person (when the seeker is a registry person) and the household's helper.

    A region scope sees proposals whose seeker lies in its region; a partner scope those to its
    own offers; ``states`` (when given) narrows to proposals in those states.
    """
    need = sa.orm.aliased(MarketNeed)
    offer = sa.orm.aliased(MarketOffer)
    place = sa.func.coalesce(Household.village_code, need.county_code)
    query = (
        sa.select(
            MatchProposal,
            need.age,
            need.skills,
            need.county_code,
            place.label("place"),
            offer.partner_code,
            Person.name.label("person_name"),
            Helper.name.label("helper_name"),
            Helper.unit.label("helper_unit"),
        )
        .outerjoin(
            need, sa.and_(need.seeker_id == MatchProposal.seeker_id, need.valid_to.is_(None))
        )
        .outerjoin(Household, Household.household_code == need.household_code)
        .outerjoin(Person, Person.id_hash == MatchProposal.seeker_id)
        .outerjoin(Helper, Helper.helper_id == Household.helper_id)
        .outerjoin(
            offer, sa.and_(offer.offer_id == MatchProposal.offer_id, offer.valid_to.is_(None))
        )
        .where(
            MatchProposal.run_id == run_id,
            _region_or_partner(scope, place, offer.partner_code),
            _after((MatchProposal.proposal_id,), None if after is None else (after,)),
        )
        .order_by(MatchProposal.proposal_id)
        .limit(limit)
    )
    if states is not None:
        query = query.where(MatchProposal.state.in_(list(states)))
    return _rows(session, query, "Listing proposals")


def paired_west_codes(session: Session, *, east_prefix: str, year: int | None) -> list[str]:
    """West division codes paired with an eastern division under ``east_prefix`` (in ``year``
    when given, else in any period)."""
    query = (
        sa.select(Pairing.west_code)
        .where(Pairing.east_code.startswith(east_prefix, autoescape=True))
        .distinct()
        .order_by(Pairing.west_code)
    )
    if year is not None:
        query = query.where(
            Pairing.period_start <= year,
            sa.or_(Pairing.period_end.is_(None), Pairing.period_end >= year),
        )
    with translate_errors("Reading pairings"):
        return list(session.scalars(query).all())


def household_counts(
    session: Session, *, year: int | None, digits: int
) -> list[tuple[str, str, str | None, int, int]]:
    """(division, status, monitoring category, households, people) over the whole registry,
    per division of ``digits`` digits (6 county, 9 township).

    With ``year`` the status is the one in force at the end of that year (the latest status
    history entry on or before 31 December; households registered later are left out), else the
    current one. Callers cut the result to their scope *after* protecting it (see
    :mod:`dongxi.services.aggregates`).
    """
    people = (
        sa.select(Person.household_code, sa.func.count().label("n"))
        .group_by(Person.household_code)
        .subquery()
    )
    division = sa.func.substr(Household.village_code, 1, digits)
    status: Any = Household.status
    category: Any = Household.monitoring_category
    query = sa.select(Household.household_code).select_from(Household)
    if year is not None:
        end = dt.date(year, 12, 31)
        latest = (
            sa.select(
                HouseholdStatus.household_code,
                HouseholdStatus.status,
                HouseholdStatus.monitoring_category,
                sa.func.row_number()
                .over(
                    partition_by=HouseholdStatus.household_code,
                    order_by=(HouseholdStatus.effective_date.desc(), HouseholdStatus.id.desc()),
                )
                .label("rn"),
            )
            .where(HouseholdStatus.effective_date <= end)
            .subquery()
        )
        query = query.outerjoin(
            latest,
            sa.and_(latest.c.household_code == Household.household_code, latest.c.rn == 1),
        ).where(sa.or_(Household.year_registered.is_(None), Household.year_registered <= year))
        status = sa.func.coalesce(latest.c.status, Household.status)
        category = sa.case(
            (latest.c.status.is_not(None), latest.c.monitoring_category),
            else_=Household.monitoring_category,
        )
    query = (
        query.outerjoin(people, people.c.household_code == Household.household_code)
        .with_only_columns(
            division.label("division"),
            status.label("status"),
            category.label("category"),
            sa.func.count().label("households"),
            sa.func.coalesce(sa.func.sum(people.c.n), 0).label("people"),
        )
        .group_by(division, status, category)
        .order_by(division, status, category)
    )
    with translate_errors("Counting households"):
        return [
            (str(r.division), str(r.status), r.category, int(r.households), int(r.people))
            for r in session.execute(query).all()
        ]


def newest_income_year(session: Session) -> int | None:
    """The newest year of the income ledger (``None`` when it is empty)."""
    with translate_errors("Reading income years"):
        value = session.scalar(sa.select(sa.func.max(Income.year)))
    return None if value is None else int(value)


def income_poverty_counts(
    session: Session, *, year: int, line: float, digits: int
) -> list[tuple[str, str, str | None, int, int]]:
    """(division, group, ``None``, households, people) over the whole registry per division of
    ``digits`` digits: ``group`` is ``below_line`` (per-capita net income of ``year`` below
    ``line``), ``at_or_above_line``, or ``no_income`` (no income record of that year). Shaped as
    :func:`household_counts` so that the same protection applies."""
    people = (
        sa.select(Person.household_code, sa.func.count().label("n"))
        .group_by(Person.household_code)
        .subquery()
    )
    income = (
        sa.select(Income.household_code, Income.net_income_per_capita)
        .where(Income.year == year)
        .subquery()
    )
    division = sa.func.substr(Household.village_code, 1, digits)
    group = sa.case(
        (income.c.household_code.is_(None), "no_income"),
        (income.c.net_income_per_capita < line, "below_line"),
        else_="at_or_above_line",
    )
    query = (
        sa.select(
            division.label("division"),
            group.label("grp"),
            sa.func.count().label("households"),
            sa.func.coalesce(sa.func.sum(people.c.n), 0).label("people"),
        )
        .select_from(Household)
        .outerjoin(income, income.c.household_code == Household.household_code)
        .outerjoin(people, people.c.household_code == Household.household_code)
        .group_by(division, group)
        .order_by(division, group)
    )
    with translate_errors("Counting households by income"):
        return [
            (str(r.division), str(r.grp), None, int(r.households), int(r.people))
            for r in session.execute(query).all()
        ]
