"""Use cases: lists of the registry's other records and of its reference data.

- income, helpers — ``registry:read``, rows of households / helpers in the caller's region;
- measures (帮扶措施) — ``registry:read`` in the region scope, or a partner user's own measures;
- partners — ``registry:read`` (all partners) or a partner user (its own partner only);
- regions, pairings, policy parameters — reference data, any logged-in user;
- snapshot records — ``snapshot:create`` with an unrestricted scope (a snapshot holds the whole
  registry).

Every list is a keyset page (:mod:`dongxi.services._pages`); scope is applied in the store
(:mod:`dongxi.store._list_reads`). No list returns a total: counting a scoped large table costs a
scan per page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dongxi.errors import PermissionDeniedError
from dongxi.services._pages import Page, columns, int_cursor, limit_of, make_page, split_cursor
from dongxi.services.principal import Principal

__all__ = [
    "list_helpers",
    "list_income",
    "list_measures",
    "list_pairings",
    "list_partners",
    "list_policy_parameters",
    "list_regions",
    "list_snapshots",
]

_STAMPS = frozenset({"created_at", "updated_at"})


def _reader_or_partner(principal: Principal) -> None:
    """Registry readers, or a partner user (who then sees its own partner's rows only)."""
    if principal.can("registry:read"):
        return
    if principal.can("market:answer_partner") and principal.scope.partner_code:
        return
    principal.require("registry:read")


def list_income(
    session: Session,
    principal: Principal,
    *,
    year: int | None = None,
    region: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """Income rows of households in scope by (household, year); cursor ``HOUSEHOLD:YEAR``."""
    principal.require("registry:read")
    from dongxi.store._list_reads import page_income

    rows = page_income(
        session,
        scope=principal.scope,
        year=year,
        village_prefix=region,
        after=split_cursor(after),
        limit=limit_of(limit) + 1,
    )
    return make_page(
        rows,
        limit,
        lambda r: {**columns(r[0], leave_out=_STAMPS), "village_code": r[1]},
        lambda r: f"{r[0].household_code}:{r[0].year}",
    )


def list_measures(
    session: Session,
    principal: Principal,
    *,
    region: str | None = None,
    status: str | None = None,
    partner: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """Measures in scope by code (a partner user: the measures its partner carries out)."""
    _reader_or_partner(principal)
    from dongxi.store._list_reads import page_measures

    rows = page_measures(
        session,
        scope=principal.scope,
        region_prefix=region,
        status=status,
        partner_code=partner,
        after=after,
        limit=limit_of(limit) + 1,
    )
    return make_page(
        rows,
        limit,
        lambda r: {**columns(r[0], leave_out=_STAMPS), "place_code": r[1]},
        lambda r: str(r[0].measure_code),
    )


def list_partners(
    session: Session,
    principal: Principal,
    *,
    kind: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """Partners by code (a partner user: its own only)."""
    _reader_or_partner(principal)
    from dongxi.store._list_reads import page_partners

    rows = page_partners(
        session, scope=principal.scope, kind=kind, after=after, limit=limit_of(limit) + 1
    )
    return make_page(
        rows,
        limit,
        lambda r: columns(r[0], leave_out=_STAMPS),
        lambda r: str(r[0].partner_code),
    )


def list_helpers(
    session: Session,
    principal: Principal,
    *,
    region: str | None = None,
    side: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """Helpers (帮扶责任人) whose region lies in scope, by id."""
    principal.require("registry:read")
    from dongxi.store._list_reads import page_helpers

    rows = page_helpers(
        session,
        scope=principal.scope,
        region_prefix=region,
        side=side,
        after=after,
        limit=limit_of(limit) + 1,
    )
    return make_page(
        rows, limit, lambda r: columns(r[0], leave_out=_STAMPS), lambda r: str(r[0].helper_id)
    )


def list_regions(
    session: Session,
    principal: Principal,
    *,
    parent: str | None = None,
    level: str | None = None,
    vintage: int | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """Divisions (reference data; any logged-in user) by (code, vintage); cursor CODE:VINTAGE."""
    del principal  # reference data: every logged-in user
    from dongxi.store._list_reads import page_regions

    rows = page_regions(
        session,
        parent=parent,
        level=level,
        vintage=vintage,
        after=split_cursor(after),
        limit=limit_of(limit) + 1,
    )
    return make_page(rows, limit, lambda r: columns(r[0]), lambda r: f"{r[0].code}:{r[0].vintage}")


def list_pairings(
    session: Session,
    principal: Principal,
    *,
    east: str | None = None,
    west: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """East–west pairings (reference data; any logged-in user) by id."""
    del principal
    from dongxi.store._list_reads import page_pairings

    rows = page_pairings(
        session,
        east_prefix=east,
        west_prefix=west,
        after=int_cursor(after),
        limit=limit_of(limit) + 1,
    )
    return make_page(rows, limit, lambda r: columns(r[0]), lambda r: str(r[0].id))


def list_policy_parameters(
    session: Session,
    principal: Principal,
    *,
    name: str | None = None,
    status: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """Policy parameters (reference data; any logged-in user) by id."""
    del principal
    from dongxi.store._list_reads import page_policy_parameters

    rows = page_policy_parameters(
        session, name=name, status=status, after=int_cursor(after), limit=limit_of(limit) + 1
    )
    return make_page(rows, limit, lambda r: columns(r[0]), lambda r: str(r[0].id))


def list_snapshots(
    session: Session, principal: Principal, *, after: str | None = None, limit: int = 50
) -> Page:
    """Snapshot records by id (not their folders): ``snapshot:create`` and an unrestricted
    scope, since a snapshot holds the whole registry."""
    principal.require("snapshot:create")
    if not principal.scope.unrestricted:
        raise PermissionDeniedError(
            "Snapshots hold the whole registry; a user with a restricted scope may not list them.",
            fix="Ask an administrator or an analyst whose scope is everything.",
        )
    from dongxi.store._list_reads import page_snapshots

    rows = page_snapshots(session, after=after, limit=limit_of(limit) + 1)
    present: Any = lambda r: columns(r[0], leave_out=frozenset({"folder"}))  # noqa: E731
    return make_page(rows, limit, present, lambda r: str(r[0].snapshot_id))
