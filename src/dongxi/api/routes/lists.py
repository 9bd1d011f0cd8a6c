"""Lists of the registry's other records and of reference data, the market, and aggregates.

Every list is a keyset page: ``items`` by the list's key and ``next_after``, the cursor to pass
as ``after`` for the next page (``null`` at the end). Each route parses, calls one use case of
:mod:`dongxi.services.reference`, :mod:`dongxi.services.market_reads` or
:mod:`dongxi.services.aggregates`, and presents; scope is applied in the data layer.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from dongxi.api.deps import CurrentPrincipal, DbSession
from dongxi.services import aggregates, market_reads, reference
from dongxi.services._pages import Page as _Page

router = APIRouter(prefix="/api/v1", tags=["lists"])

_PREFIX = Query(pattern=r"^[0-9]{2,12}$", description="Division code prefix")
_TOKEN = Query(max_length=40, pattern=r"^[0-9A-Za-z_.-]+$")
_AFTER = Query(max_length=80, description="next_after of the previous page")
Limit = Annotated[int, Query(ge=1, le=200)]


class Page(BaseModel):
    """A page of rows; pass ``next_after`` as ``after`` for the next page."""

    items: list[dict[str, Any]]
    next_after: str | None


def _out(page: _Page) -> Page:
    return Page(items=page.items, next_after=page.next_after)


@router.get("/income", response_model=Page, summary="Income rows of households in scope")
def income(
    db: DbSession,
    me: CurrentPrincipal,
    year: Annotated[int | None, Query(ge=1949, le=2100)] = None,
    region: Annotated[str | None, _PREFIX] = None,
    after: Annotated[str | None, _AFTER] = None,
    limit: Limit = 50,
) -> Page:
    """By (household_code, year); cursor ``HOUSEHOLD:YEAR``."""
    return _out(reference.list_income(db, me, year=year, region=region, after=after, limit=limit))


@router.get("/measures", response_model=Page, summary="Measures (帮扶措施) in scope")
def measures(
    db: DbSession,
    me: CurrentPrincipal,
    region: Annotated[str | None, _PREFIX] = None,
    status: Annotated[str | None, _TOKEN] = None,
    partner: Annotated[str | None, _TOKEN] = None,
    after: Annotated[str | None, _AFTER] = None,
    limit: Limit = 50,
) -> Page:
    """By measure code; a partner user sees the measures its partner carries out."""
    return _out(
        reference.list_measures(
            db, me, region=region, status=status, partner=partner, after=after, limit=limit
        )
    )


@router.get("/partners", response_model=Page, summary="Partners (a partner user: its own)")
def partners(
    db: DbSession,
    me: CurrentPrincipal,
    kind: Annotated[str | None, _TOKEN] = None,
    after: Annotated[str | None, _AFTER] = None,
    limit: Limit = 50,
) -> Page:
    """By partner code."""
    return _out(reference.list_partners(db, me, kind=kind, after=after, limit=limit))


@router.get("/helpers", response_model=Page, summary="Helpers (帮扶责任人) in scope")
def helpers(
    db: DbSession,
    me: CurrentPrincipal,
    region: Annotated[str | None, _PREFIX] = None,
    side: Annotated[Literal["west", "east"] | None, Query()] = None,
    after: Annotated[str | None, _AFTER] = None,
    limit: Limit = 50,
) -> Page:
    """By helper id."""
    return _out(reference.list_helpers(db, me, region=region, side=side, after=after, limit=limit))


@router.get("/regions", response_model=Page, summary="Divisions (reference data)")
def regions(
    db: DbSession,
    me: CurrentPrincipal,
    parent: Annotated[str | None, Query(pattern=r"^[0-9]{6,12}$")] = None,
    level: Annotated[str | None, _TOKEN] = None,
    vintage: Annotated[int | None, Query(ge=1980, le=2100)] = None,
    after: Annotated[str | None, _AFTER] = None,
    limit: Limit = 50,
) -> Page:
    """By (code, vintage); cursor ``CODE:VINTAGE``."""
    return _out(
        reference.list_regions(
            db, me, parent=parent, level=level, vintage=vintage, after=after, limit=limit
        )
    )


@router.get("/pairings", response_model=Page, summary="East–west pairings (reference data)")
def pairings(
    db: DbSession,
    me: CurrentPrincipal,
    east: Annotated[str | None, _PREFIX] = None,
    west: Annotated[str | None, _PREFIX] = None,
    after: Annotated[str | None, _AFTER] = None,
    limit: Limit = 50,
) -> Page:
    """By id; ``east``/``west`` are division code prefixes."""
    return _out(reference.list_pairings(db, me, east=east, west=west, after=after, limit=limit))


@router.get("/policy/parameters", response_model=Page, summary="Policy parameters (reference)")
def policy_parameters(
    db: DbSession,
    me: CurrentPrincipal,
    name: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str | None, _TOKEN] = None,
    after: Annotated[str | None, _AFTER] = None,
    limit: Limit = 50,
) -> Page:
    """By id."""
    return _out(
        reference.list_policy_parameters(db, me, name=name, status=status, after=after, limit=limit)
    )


@router.get("/snapshots", response_model=Page, summary="Snapshot records (analyst, admin)")
def snapshots(
    db: DbSession,
    me: CurrentPrincipal,
    after: Annotated[str | None, _AFTER] = None,
    limit: Limit = 50,
) -> Page:
    """By snapshot id (creation time first)."""
    return _out(reference.list_snapshots(db, me, after=after, limit=limit))


@router.get("/needs", response_model=Page, summary="Current needs of seekers in scope")
def needs(
    db: DbSession,
    me: CurrentPrincipal,
    kind: Annotated[str | None, _TOKEN] = None,
    region: Annotated[str | None, _PREFIX] = None,
    after: Annotated[str | None, _AFTER] = None,
    limit: Limit = 50,
) -> Page:
    """By need id."""
    return _out(market_reads.list_needs(db, me, kind=kind, region=region, after=after, limit=limit))


@router.get("/offers", response_model=Page, summary="Current offers (a partner user: its own)")
def offers(
    db: DbSession,
    me: CurrentPrincipal,
    kind: Annotated[str | None, _TOKEN] = None,
    partner: Annotated[str | None, _TOKEN] = None,
    after: Annotated[str | None, _AFTER] = None,
    limit: Limit = 50,
) -> Page:
    """By offer row id."""
    return _out(
        market_reads.list_offers(db, me, kind=kind, partner=partner, after=after, limit=limit)
    )


@router.get("/match-runs", response_model=Page, summary="Match runs (counts only)")
def match_runs(
    db: DbSession,
    me: CurrentPrincipal,
    kind: Annotated[str | None, _TOKEN] = None,
    after: Annotated[str | None, _AFTER] = None,
    limit: Limit = 50,
) -> Page:
    """By run id."""
    return _out(market_reads.list_match_runs(db, me, kind=kind, after=after, limit=limit))


@router.get(
    "/match-runs/{run_id}/proposals",
    response_model=Page,
    summary="A run's proposals in scope",
    responses={404: {"description": "No such run"}},
)
def proposals(
    run_id: Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-fA-F-]+$")],
    db: DbSession,
    me: CurrentPrincipal,
    state: Annotated[str | None, _TOKEN] = None,
    after: Annotated[str | None, _AFTER] = None,
    limit: Limit = 50,
) -> Page:
    """By proposal id; a partner user sees only accepted proposals to its offers, and of the
    person only name, age band, skills and a contact."""
    return _out(
        market_reads.list_proposals(db, me, run_id=run_id, state=state, after=after, limit=limit)
    )


class AggregateRow(BaseModel):
    """Households and people per group (``null``: suppressed) and in total."""

    division: str
    households: dict[str, int | None]
    people: dict[str, int | None]


class AggregateTable(BaseModel):
    """Rows of the caller's scope; column totals only for a caller whose scope is everything."""

    by: str
    year: int | None
    groups: list[str]
    min_cell: int
    rows: list[AggregateRow]
    totals: AggregateRow | None


@router.get(
    "/aggregates/households",
    response_model=AggregateTable,
    summary="Households and people by status per division (small cells suppressed)",
)
def household_aggregates(
    db: DbSession,
    me: CurrentPrincipal,
    by: Annotated[Literal["county", "township"], Query()] = "county",
    year: Annotated[int | None, Query(ge=1949, le=2100)] = None,
) -> AggregateTable:
    """Groups are ``status`` or ``status:monitoring_category``; see docs/service.md."""
    table = aggregates.household_aggregates(db, me, by=by, year=year)
    return AggregateTable.model_validate(asdict(table))
