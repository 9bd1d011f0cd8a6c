"""Use cases: browse and search the registry's households within one's scope, read a household
(audited), find a person by ID number (through the keyed hash), reveal one ID number (audited).

Every read of a personal record (a household's page, a person found by number) is written to the
change log with who, when and which record (action ``read``); a reveal with its reason (action
``unmask``). ID numbers are masked in every result; birth dates are shown as the year.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from dongxi.errors import InputError
from dongxi.services.principal import Principal

__all__ = [
    "HouseholdDetail",
    "HouseholdPage",
    "HouseholdRow",
    "household_detail",
    "list_households",
    "person_by_id_number",
    "reveal_id",
    "search_households",
]

_MAX_LIMIT = 200


@dataclass(frozen=True)
class HouseholdRow:
    """One household in a list (no personal field)."""

    household_code: str
    village_code: str
    county_code: str
    status: str
    monitoring_category: str | None
    primary_cause: str | None
    housing_grade: str
    row_version: int


@dataclass(frozen=True)
class HouseholdPage:
    """A page of households; ``next_after`` continues the list (``None`` at the end)."""

    items: list[HouseholdRow]
    next_after: str | None


@dataclass(frozen=True)
class HouseholdDetail:
    """A household with its members (masked), income by year and status history."""

    household: HouseholdRow
    deprivations: dict[str, Any]
    members: list[dict[str, Any]]
    income: list[dict[str, Any]]
    status_history: list[dict[str, Any]]


def _row(household: Any) -> HouseholdRow:
    return HouseholdRow(
        household_code=household.household_code,
        village_code=household.village_code,
        county_code=household.village_code[:6],
        status=household.status,
        monitoring_category=household.monitoring_category,
        primary_cause=household.primary_cause,
        housing_grade=household.housing_grade,
        row_version=household.row_version,
    )


def _limit(limit: int) -> int:
    if not 1 <= limit <= _MAX_LIMIT:
        raise InputError(
            f"limit must be between 1 and {_MAX_LIMIT}.",
            column="limit",
            value=limit,
            rule="limit",
            fix=f"Ask for at most {_MAX_LIMIT} rows and follow next_after for more.",
        )
    return limit


def list_households(
    session: Session,
    principal: Principal,
    *,
    region: str | None = None,
    status: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> HouseholdPage:
    """Households in the principal's scope, by code, one page at a time (keyset pagination)."""
    principal.require("registry:read")
    from dongxi.store._reads import page_households

    rows = page_households(
        session,
        scope=principal.scope,
        village_prefix=region,
        status=status,
        after=after,
        limit=_limit(limit) + 1,
    )
    items = [_row(h) for h in rows[:limit]]
    more = len(rows) > limit
    return HouseholdPage(items=items, next_after=items[-1].household_code if more else None)


def _audit_read(session: Session, principal: Principal, entity: str, key: str, via: str) -> None:
    from dongxi.store._read_audit import audit_read

    audit_read(
        session.connection(), actor=principal.actor, entity=entity, key=key, after={"via": via}
    )


def _member(person: Any) -> dict[str, Any]:
    from dongxi.pii.idnumber import mask_id

    return {
        "id_hash": person.id_hash,
        "id_masked": mask_id(person.id_masked),
        "member_no": person.member_no,
        "name": person.name,
        "relation": person.relation,
        "sex": person.sex,
        "birth_year": person.birth_date.year,
        "education": person.education,
        "school_status": person.school_status,
        "health": person.health,
        "labour_capacity": person.labour_capacity,
        "employment": person.employment,
        "medical_insurance": person.medical_insurance,
        "pension_insurance": person.pension_insurance,
    }


def household_detail(
    session: Session, principal: Principal, *, household_code: str, via: str = "api"
) -> HouseholdDetail:
    """One household in scope with members, income and status history (an audited read)."""
    principal.require("registry:read")
    from dongxi.store._reads import (
        household_income,
        household_members,
        household_status_history,
    )
    from dongxi.store._repository import get_household

    household = get_household(session, household_code=household_code, scope=principal.scope)
    members = [_member(p) for p in household_members(session, household_code=household_code)]
    income = [
        {
            "year": i.year,
            "net_income_per_capita": i.net_income_per_capita,
            "household_size": i.household_size,
            "wage_income": i.wage_income,
            "operating_income": i.operating_income,
            "property_income": i.property_income,
            "transfer_income": i.transfer_income,
            "production_costs": i.production_costs,
        }
        for i in household_income(session, household_code=household_code)
    ]
    history = [
        {
            "status": h.status,
            "monitoring_category": h.monitoring_category,
            "effective_date": h.effective_date.isoformat(),
            "reason": h.reason,
        }
        for h in household_status_history(session, household_code=household_code)
    ]
    deprivations = {
        "housing_grade": household.housing_grade,
        "water_quantity_ok": household.water_quantity_ok,
        "water_quality_ok": household.water_quality_ok,
        "water_convenience_ok": household.water_convenience_ok,
        "water_guarantee_ok": household.water_guarantee_ok,
        "road_access": household.road_access,
        "electricity": household.electricity,
    }
    _audit_read(session, principal, "households", household_code, via)
    return HouseholdDetail(
        household=_row(household),
        deprivations=deprivations,
        members=members,
        income=income,
        status_history=history,
    )


def search_households(
    session: Session, principal: Principal, *, name: str, limit: int = 50
) -> list[HouseholdRow]:
    """Households in scope with a member whose name is or starts with ``name``."""
    principal.require("registry:read")
    text = name.strip()
    if not text:
        raise InputError(
            "Give a name (or its beginning) to search for.",
            column="name",
            rule="required",
            fix="Type at least one character of the name.",
        )
    from dongxi.store._reads import households_by_member_name

    return [
        _row(h)
        for h in households_by_member_name(
            session, scope=principal.scope, name=text, limit=_limit(limit)
        )
    ]


def person_by_id_number(
    session: Session, principal: Principal, *, id_number: str, via: str = "api"
) -> dict[str, Any]:
    """The person with this ID number, if in scope (found through the keyed hash, never by
    decrypting the table); an audited read. The number itself is not returned."""
    principal.require("registry:read")
    from dongxi.pii.idnumber import validate_id
    from dongxi.store._repository import get_person

    person = get_person(
        session, scope=principal.scope, id_number=validate_id(id_number, column="id_number")
    )
    _audit_read(session, principal, "people", person.id_hash, via)
    return {"household_code": person.household_code, **_member(person)}


def reveal_id(session: Session, principal: Principal, *, id_hash: str, reason: str) -> str:
    """One person's clear ID number (``pii:reveal``, in scope, with a stated reason; audited)."""
    principal.require("pii:reveal")
    from dongxi.store._repository import get_person, reveal_id_number

    get_person(session, scope=principal.scope, id_hash=id_hash)  # NotFoundError outside scope
    return reveal_id_number(session, actor=principal.actor, id_hash=id_hash, reason=reason)
