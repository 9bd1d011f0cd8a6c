"""Scoped reads for the service: pages of households (keyset), a household's members, income and
status history, search by name. Every query adds the caller's :class:`Scope` (a row outside it
does not exist); results are ORM rows, presented by the use cases.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dongxi.store.db import translate_errors
from dongxi.store.models import Household, HouseholdStatus, Income, Person
from dongxi.store.scope import Scope

__all__ = [
    "household_income",
    "household_members",
    "household_status_history",
    "households_by_member_name",
    "page_households",
]


def page_households(
    session: Session,
    *,
    scope: Scope,
    village_prefix: str | None = None,
    status: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Sequence[Household]:
    """Up to ``limit`` households in ``scope`` with ``household_code > after`` (keyset), by code.

    ``village_prefix`` narrows to a division (a county, township or village code prefix).
    """
    query = (
        sa.select(Household)
        .where(scope.where_region(Household.village_code))
        .order_by(Household.household_code)
        .limit(limit)
    )
    if village_prefix:
        query = query.where(Household.village_code.startswith(village_prefix, autoescape=True))
    if status:
        query = query.where(Household.status == status)
    if after:
        query = query.where(Household.household_code > after)
    with translate_errors("Listing households"):
        return session.scalars(query).all()


def household_members(session: Session, *, household_code: str) -> Sequence[Person]:
    """The members of one household (the caller has checked the household is in scope)."""
    query = (
        sa.select(Person).where(Person.household_code == household_code).order_by(Person.member_no)
    )
    with translate_errors("Reading people"):
        return session.scalars(query).all()


def household_income(session: Session, *, household_code: str) -> Sequence[Income]:
    """The income ledger of one household, by year."""
    query = sa.select(Income).where(Income.household_code == household_code).order_by(Income.year)
    with translate_errors("Reading income"):
        return session.scalars(query).all()


def household_status_history(session: Session, *, household_code: str) -> Sequence[HouseholdStatus]:
    """The status history of one household, oldest first."""
    query = (
        sa.select(HouseholdStatus)
        .where(HouseholdStatus.household_code == household_code)
        .order_by(HouseholdStatus.effective_date, HouseholdStatus.id)
    )
    with translate_errors("Reading status history"):
        return session.scalars(query).all()


def households_by_member_name(
    session: Session, *, scope: Scope, name: str, limit: int = 50
) -> Sequence[Household]:
    """Households in ``scope`` with a member whose name equals or starts with ``name``."""
    query = (
        sa.select(Household)
        .join(Person, Person.household_code == Household.household_code)
        .where(
            scope.where_region(Household.village_code),
            Person.name.startswith(name, autoescape=True),
        )
        .distinct()
        .order_by(Household.household_code)
        .limit(limit)
    )
    with translate_errors("Searching households"):
        return session.scalars(query).all()
