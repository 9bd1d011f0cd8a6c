"""Needs drafted from the registry's people, store side: who may be drafted, and the drafts.

The rules (working age, labour capacity, out of school, the safety-net kinds of measure) are
decided by the use case (:mod:`dongxi.services.drafted_needs`) and passed in; this module turns
them into **one** query over ``people`` ⋈ ``households`` (set-based: no loop over households or
people), with the caller's :class:`~dongxi.store.scope.Scope` on the household's village.

A person "already has a need" when a current need (``valid_to IS NULL``, stated or drafted, of any
kind) names them as its seeker: by their keyed hash (a need recorded on the household's page) or
as ``<household code>-<member no>`` (a draft, and the stated need a cadre confirmed from it).
Needs imported under other seeker ids are not linked to a person and do not count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from dongxi.store.db import translate_errors
from dongxi.store.market_models import _NEED_FIELDS, MarketNeed
from dongxi.store.models import Household, Measure, Person
from dongxi.store.scope import Scope

__all__ = ["current_drafts", "draft_candidates", "member_seeker", "safety_net_households"]


def member_seeker(household_code: Any, member_no: Any) -> Any:
    """The seeker id of a drafted need, ``<household code>-<member no>`` (SQL or Python values:
    no ID number, no name)."""
    if isinstance(household_code, str):
        return f"{household_code}-{int(member_no)}"
    return household_code + "-" + sa.cast(member_no, sa.String)


def _has_need(seeker: Any) -> Any:
    need = MarketNeed.__table__
    return sa.exists(
        sa.select(need.c.need_id).where(need.c.seeker_id == seeker, need.c.valid_to.is_(None))
    )


def _net_measure(household_code: Any, batches: Sequence[str]) -> Any:
    measure = Measure.__table__
    return sa.exists(
        sa.select(measure.c.measure_code).where(
            measure.c.household_code == household_code,
            measure.c.batch.in_(list(batches)),
            measure.c.status != "cancelled",
        )
    )


def draft_candidates(
    session: Session,
    *,
    scope: Scope,
    born_after: dt.date,
    born_by: dt.date,
    capacities: Sequence[str],
    out_of_school: Sequence[str],
    safety_net_batches: Sequence[str],
    statuses: Sequence[str] | None = None,
    households: sa.Select[Any] | None = None,
) -> list[dict[str, Any]]:
    """The people a need may be drafted for, one query: in a household inside ``scope`` (and in
    ``households``, a SELECT of household codes, and of one of ``statuses``, when given) that
    has no safety-net measure (``safety_net_batches``, not cancelled), born in
    (``born_after``, ``born_by``], with a labour capacity of ``capacities``, a school status of
    ``out_of_school``, and no current need.

    Rows ``household_code, village_code, status, member_no, birth_date, education,
    labour_capacity, skills`` (no ID number, no name), by household and member."""
    person = Person.__table__
    household = Household.__table__
    query = (
        sa.select(
            household.c.household_code,
            household.c.village_code,
            household.c.status,
            person.c.member_no,
            person.c.birth_date,
            person.c.education,
            person.c.labour_capacity,
            person.c.skills,
        )
        .select_from(person.join(household, household.c.household_code == person.c.household_code))
        .where(
            scope.where_region(household.c.village_code),
            person.c.labour_capacity.in_(list(capacities)),
            person.c.school_status.in_(list(out_of_school)),
            person.c.birth_date > born_after,
            person.c.birth_date <= born_by,
            ~_net_measure(household.c.household_code, safety_net_batches),
            ~_has_need(person.c.id_hash),
            ~_has_need(member_seeker(person.c.household_code, person.c.member_no)),
        )
        .order_by(household.c.household_code, person.c.member_no)
    )
    if statuses is not None:
        query = query.where(household.c.status.in_(list(statuses)))
    if households is not None:
        query = query.where(household.c.household_code.in_(households.scalar_subquery()))
    with translate_errors("Reading people for drafted needs"):
        return [dict(r) for r in session.execute(query).mappings()]


def safety_net_households(
    session: Session,
    *,
    households: sa.Select[Any],
    capacities: Sequence[str],
    safety_net_batches: Sequence[str],
) -> list[str]:
    """Of ``households`` (a SELECT of household codes), those for safety-net help rather than
    drafted needs: no member with a labour capacity of ``capacities``, or a safety-net measure
    not cancelled. Sorted codes."""
    person = Person.__table__
    household = Household.__table__
    able = sa.exists(
        sa.select(person.c.id_hash).where(
            person.c.household_code == household.c.household_code,
            person.c.labour_capacity.in_(list(capacities)),
        )
    )
    query = (
        sa.select(household.c.household_code)
        .where(
            household.c.household_code.in_(households.scalar_subquery()),
            sa.or_(~able, _net_measure(household.c.household_code, safety_net_batches)),
        )
        .order_by(household.c.household_code)
    )
    with translate_errors("Reading households for drafted needs"):
        return [str(c) for c in session.scalars(query)]


def current_drafts(
    session: Session, *, scope: Scope, households: sa.Select[Any] | None = None
) -> pd.DataFrame:
    """The current drafted needs whose household lies inside ``scope`` (and in ``households``,
    a SELECT of household codes, when given): the needs' canonical columns, by seeker."""
    need = MarketNeed.__table__
    household = Household.__table__
    fields = [f for f in _NEED_FIELDS if f != "draft"]
    query = (
        sa.select(*[need.c[f] for f in fields])
        .select_from(need.join(household, household.c.household_code == need.c.household_code))
        .where(
            need.c.valid_to.is_(None),
            need.c.draft == sa.true(),
            scope.where_region(household.c.village_code),
        )
        .order_by(need.c.seeker_id)
    )
    if households is not None:
        query = query.where(need.c.household_code.in_(households.scalar_subquery()))
    with translate_errors("Reading drafted needs"):
        rows = session.execute(query).all()
    return pd.DataFrame(rows, columns=fields)
