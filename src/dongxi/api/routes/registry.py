"""Households and people: lists, search, a household's page, a person by ID number, a reveal.

Names and ID numbers never travel in a URL: searches by name or ID number are POST requests
with the value in the body. Every route calls one use case of :mod:`dongxi.services.households`;
scope is applied below, in the data layer (a household outside one's scope is 404, exactly like a
missing one).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from dongxi.api.deps import CurrentPrincipal, DbSession
from dongxi.services import households as use

router = APIRouter(prefix="/api/v1", tags=["registry"])

_CODE = Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")
_HASH = Path(min_length=64, max_length=64, pattern=r"^[0-9a-f]{64}$")


class HouseholdRow(BaseModel):
    """One household in a list (no personal field)."""

    household_code: str
    village_code: str
    county_code: str
    status: str
    monitoring_category: str | None
    primary_cause: str | None
    housing_grade: str
    row_version: int


class HouseholdPage(BaseModel):
    """A page of households; pass ``next_after`` as ``after`` for the next page."""

    items: list[HouseholdRow]
    next_after: str | None


class Member(BaseModel):
    """A household member, ID number masked, birth year only."""

    id_hash: str
    id_masked: str
    member_no: int
    name: str
    relation: str
    sex: str
    birth_year: int
    education: str
    school_status: str
    health: str
    labour_capacity: str
    employment: str
    medical_insurance: bool
    pension_insurance: bool


class PersonFound(Member):
    """A person found by ID number (the number itself is not returned)."""

    household_code: str


class HouseholdDetail(BaseModel):
    """A household's page: members, deprivations, income by year, status history."""

    household: HouseholdRow
    deprivations: dict[str, Any]
    members: list[Member]
    income: list[dict[str, Any]]
    status_history: list[dict[str, Any]]


class NameSearch(BaseModel):
    """Search households by a member's name (or its beginning)."""

    name: str = Field(min_length=1, max_length=100)
    limit: int = Field(default=50, ge=1, le=200)


class IdSearch(BaseModel):
    """Find a person by resident ID number (looked up through its keyed hash)."""

    id_number: str = Field(min_length=15, max_length=18)


class RevealBody(BaseModel):
    """Why the clear number is needed (recorded in the audit log)."""

    reason: str = Field(min_length=1, max_length=500)


class Revealed(BaseModel):
    """One clear ID number."""

    id_number: str


@router.get("/households", response_model=HouseholdPage, summary="List households in scope")
def list_households(
    db: DbSession,
    me: CurrentPrincipal,
    region: Annotated[
        str | None, Query(pattern=r"^[0-9]{2,12}$", description="Division code prefix")
    ] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    after: Annotated[
        str | None, Query(max_length=32, description="household_code of the last row seen")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> HouseholdPage:
    """Households by code, filtered by region prefix and status; keyset pagination."""
    page = use.list_households(db, me, region=region, status=status, after=after, limit=limit)
    return HouseholdPage(
        items=[HouseholdRow(**asdict(r)) for r in page.items], next_after=page.next_after
    )


@router.post(
    "/households/search", response_model=list[HouseholdRow], summary="Search by member name"
)
def search_households(body: NameSearch, db: DbSession, me: CurrentPrincipal) -> list[HouseholdRow]:
    """Households in scope with a member of this name (POST: names never go into URLs)."""
    rows = use.search_households(db, me, name=body.name, limit=body.limit)
    return [HouseholdRow(**asdict(r)) for r in rows]


@router.get(
    "/households/{household_code}",
    response_model=HouseholdDetail,
    summary="A household's page (audited read)",
    responses={404: {"description": "No such household in your scope"}},
)
def household(
    household_code: Annotated[str, _CODE], db: DbSession, me: CurrentPrincipal
) -> HouseholdDetail:
    """Members (masked), deprivations, income by year, status history; the read is audited."""
    detail = use.household_detail(db, me, household_code=household_code)
    return HouseholdDetail(
        household=HouseholdRow(**asdict(detail.household)),
        deprivations=detail.deprivations,
        members=[Member(**m) for m in detail.members],
        income=detail.income,
        status_history=detail.status_history,
    )


@router.post(
    "/people/search",
    response_model=PersonFound,
    summary="Find a person by ID number (keyed hash; audited)",
    responses={404: {"description": "No such person in your scope"}},
)
def person_by_id(body: IdSearch, db: DbSession, me: CurrentPrincipal) -> PersonFound:
    """The person with this ID number, if in scope (POST: ID numbers never go into URLs)."""
    return PersonFound(**use.person_by_id_number(db, me, id_number=body.id_number))


@router.post(
    "/people/{id_hash}/reveal",
    response_model=Revealed,
    summary="Show one clear ID number (pii:reveal; audited with the reason)",
    responses={404: {"description": "No such person in your scope"}},
)
def reveal(
    id_hash: Annotated[str, _HASH], body: RevealBody, db: DbSession, me: CurrentPrincipal
) -> Revealed:
    """The clear ID number of one person in scope; who, when, which and why are audited."""
    return Revealed(id_number=use.reveal_id(db, me, id_hash=id_hash, reason=body.reason))
