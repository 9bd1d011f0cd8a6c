"""Use case: households and people by status per division, with small cells suppressed.

For roles without access to personal rows (analysts, east collaboration offices) and anyone
else logged in. The counts are protected once over the whole registry and both division levels
(counties and townships), then cut to the caller's scope, so that no request — another level,
another scope — publishes a value from which a suppressed one could be derived:

1. *Primary suppression*: a cell with 1 ≤ people < ``DONGXI_MIN_CELL`` (5) is hidden.
2. *Complementary suppression*: the published values are tied by equations — a division's total
   is the sum of its cells (one per status / monitoring category), a county's cell the sum of its
   townships' cells, a column's total the sum of the counties' cells. Wherever an equation holds
   exactly one hidden value, the smallest non-zero published value of that equation is hidden
   too; then, while any hidden value is still fixed by the equations together (it lies outside
   the null space of the hidden part of the system), the smallest non-zero published value of an
   equation holding it is hidden (for all such values at once). Zeros are never hidden and never
   needed: every hidden value is then at least 1, so each can move up or down along the system's
   null space and none is determined, even knowing that counts are not negative.
3. The pattern is computed for the whole registry of a year and the same pattern is used for
   every request of that year; a request shows the rows of its scope (with their totals) and the
   column totals only to a caller whose scope is everything.

Households and people share the pattern (a cell is hidden for both).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from dongxi.errors import InputError
from dongxi.services.principal import Principal

__all__ = [
    "AggregateRow",
    "AggregateTable",
    "IncomePoverty",
    "household_aggregates",
    "income_poverty_aggregates",
    "protect",
]

_DIGITS = {"county": 6, "township": 9}
TOTAL = "total"


def _determined(
    values: Sequence[int], equations: Sequence[Sequence[tuple[int, int]]], hidden: set[int]
) -> list[int]:
    """Hidden variables whose value the equations (with the published values known) fix."""
    order = sorted(hidden)
    if not order:
        return []
    column = {v: i for i, v in enumerate(order)}
    rows = [eq for eq in equations if any(v in hidden for v, _ in eq)]
    if not rows:  # no equation holds a hidden value: none is tied to anything published
        return []
    matrix = np.zeros((len(rows), len(order)))
    for r, eq in enumerate(rows):
        for v, coefficient in eq:
            if v in hidden:
                matrix[r, column[v]] = coefficient
    # vt is square (all of the null space) either way; the thin form avoids an m x m U
    _, singular, vt = np.linalg.svd(matrix, full_matrices=matrix.shape[0] < matrix.shape[1])
    rank = int((singular > 1e-9).sum())
    null = vt[rank:]  # rows span the null space
    if null.shape[0] == 0:
        return order
    norms = np.abs(null).max(axis=0)
    return [order[i] for i in range(len(order)) if norms[i] < 1e-9]


def protect(
    values: Sequence[int], equations: Sequence[Sequence[tuple[int, int]]], k: int
) -> set[int]:
    """Indexes of the values to hide: primary (1 ≤ v < k) and complementary (module docstring).

    ``equations`` are lists of (index, coefficient) whose weighted sum is zero.
    """
    hidden = {i for i, v in enumerate(values) if 0 < v < k}

    def smallest(candidates: set[int]) -> int | None:
        shown = [i for i in candidates if i not in hidden and values[i] > 0]
        return min(shown, key=lambda i: (values[i], i)) if shown else None

    for _ in range(len(values) + 1):
        changed = False
        for eq in equations:
            inside = [v for v, _ in eq if v in hidden]
            if len(inside) == 1:
                pick = smallest({v for v, _ in eq})
                if pick is not None:
                    hidden.add(pick)
                    changed = True
        if changed:
            continue
        fixed = _determined(values, equations, hidden)
        if not fixed:
            return hidden
        picks = {
            smallest({v for eq in equations if any(t == target for t, _ in eq) for v, _ in eq})
            for target in fixed
        }
        if None in picks:  # nothing left to hide around one: hide every non-zero value
            return {i for i, v in enumerate(values) if v > 0}
        hidden |= {p for p in picks if p is not None}
    return {i for i, v in enumerate(values) if v > 0}


@dataclass(frozen=True)
class AggregateRow:
    """One division: households and people per group (``None``: suppressed) and in total."""

    division: str
    households: dict[str, int | None]
    people: dict[str, int | None]


@dataclass(frozen=True)
class AggregateTable:
    """Rows of the caller's scope; column totals only for an unrestricted caller."""

    by: str
    year: int | None
    groups: list[str]
    min_cell: int
    rows: list[AggregateRow]
    totals: AggregateRow | None


def _group(status: str, category: str | None) -> str:
    return status if not category else f"{status}:{category}"


def _build(
    counts: Sequence[tuple[str, str, str | None, int, int]],
) -> tuple[list[str], dict[tuple[str, str], tuple[int, int]]]:
    cells: dict[tuple[str, str], tuple[int, int]] = {}
    groups: set[str] = set()
    for division, status, category, households, people in counts:
        group = _group(status, category)
        groups.add(group)
        h, p = cells.get((division, group), (0, 0))
        cells[(division, group)] = (h + households, p + people)
    return sorted(groups), cells


def _pattern(
    townships: dict[tuple[str, str], tuple[int, int]], groups: list[str], k: int
) -> tuple[dict[tuple[str, str], tuple[int, int]], set[tuple[str, str]]]:
    """All published cells (key: (division or 'total', group or 'total')) and the hidden keys,
    for township rows, county rows and column totals together."""
    cells: dict[tuple[str, str], tuple[int, int]] = {}
    tships = sorted({d for d, _ in townships})
    if not tships:  # nothing counted (an empty registry, a year before any record)
        return cells, set()
    counties = sorted({d[:6] for d in tships})

    def add(key: tuple[str, str], value: tuple[int, int]) -> None:
        h, p = cells.get(key, (0, 0))
        cells[key] = (h + value[0], p + value[1])

    for township in tships:
        for group in groups:
            value = townships.get((township, group), (0, 0))
            for key in (
                (township, group),
                (township, TOTAL),
                (township[:6], group),
                (township[:6], TOTAL),
                (TOTAL, group),
                (TOTAL, TOTAL),
            ):
                add(key, value)
    keys = sorted(cells)
    index = {key: i for i, key in enumerate(keys)}
    equations: list[list[tuple[int, int]]] = []

    def equation(whole: tuple[str, str], parts: list[tuple[str, str]]) -> None:
        equations.append([(index[whole], -1)] + [(index[p], 1) for p in parts])

    for division in tships + counties + [TOTAL]:
        equation((division, TOTAL), [(division, g) for g in groups])
    for county in counties:
        inside = [t for t in tships if t[:6] == county]
        for group in [*groups, TOTAL]:
            equation((county, group), [(t, group) for t in inside])
    for group in [*groups, TOTAL]:
        equation((TOTAL, group), [(c, group) for c in counties])
    people = [cells[key][1] for key in keys]
    hidden = protect(people, equations, k)
    return cells, {keys[i] for i in hidden}


@functools.lru_cache(maxsize=32)
def _protected(
    counts: tuple[tuple[str, str, str | None, int, int], ...], k: int
) -> tuple[dict[tuple[str, str], tuple[int, int]], frozenset[tuple[str, str]], list[str]]:
    """The published cells and the hidden keys for these counts (cached: the pattern takes a
    singular value decomposition, and the same counts give the same pattern)."""
    groups, townships = _build(counts)
    cells, hidden = _pattern(townships, groups, k)
    return cells, frozenset(hidden), groups


def household_aggregates(
    session: Session, principal: Principal, *, by: str, year: int | None = None
) -> AggregateTable:
    """Households and people by status (and monitoring category) per county or township in the
    caller's scope (an east office: the western divisions paired with it), small cells hidden."""
    _level(by)
    from dongxi.store._list_reads import household_counts

    counts = household_counts(session, year=year, digits=_DIGITS["township"])
    return _cut(session, principal, counts, by=by, year=year)


def _cut(
    session: Session,
    principal: Principal,
    counts: Sequence[tuple[str, str, str | None, int, int]],
    *,
    by: str,
    year: int | None,
) -> AggregateTable:
    """Protect ``counts`` (township level) over the whole registry, then keep the rows of the
    caller's scope at level ``by``."""
    from dongxi.settings import get_settings
    from dongxi.store._list_reads import paired_west_codes

    k = get_settings().min_cell
    cells, hidden, groups = _protected(tuple(counts), k)
    scope = principal.scope
    if scope.unrestricted:
        prefixes: list[str] | None = None
    elif principal.role == "east_office" and scope.region_prefix:
        prefixes = paired_west_codes(session, east_prefix=scope.region_prefix, year=year)
        prefixes = [_subtree(code) for code in prefixes]
    elif scope.region_prefix:
        prefixes = [scope.region_prefix]
    else:
        prefixes = []
    digits = _DIGITS[by]
    divisions = sorted({d for d, _ in cells if d != TOTAL and len(d) == digits})
    if prefixes is not None:
        divisions = [d for d in divisions if any(d.startswith(p) for p in prefixes)]

    def row(division: str) -> AggregateRow:
        households: dict[str, int | None] = {}
        people: dict[str, int | None] = {}
        for group in [*groups, TOTAL]:
            key = (division, group)
            h, p = cells.get(key, (0, 0))
            households[group] = None if key in hidden else h
            people[group] = None if key in hidden else p
        return AggregateRow(division=division, households=households, people=people)

    return AggregateTable(
        by=by,
        year=year,
        groups=list(groups),
        min_cell=k,
        rows=[row(d) for d in divisions],
        totals=row(TOTAL) if prefixes is None else None,
    )


@dataclass(frozen=True)
class IncomePoverty:
    """Households and people by income against the official poverty line of ``year``
    (groups of :data:`dongxi.vocab.INCOME_POVERTY_GROUPS`), small cells hidden; ``line`` is
    ``None`` (and ``table`` empty) when no official line applies to the year."""

    year: int | None
    line: float | None
    table: AggregateTable


def income_poverty_aggregates(
    session: Session, principal: Principal, *, by: str, year: int | None = None
) -> IncomePoverty:
    """Households and people whose per-capita net income of ``year`` (default: the newest year
    of the income ledger) is below the national poverty line of that year
    (:mod:`dongxi.policy`, ``poverty_line``), at or above it, or unrecorded, per county or
    township of the caller's scope, protected as :func:`household_aggregates` is."""
    _level(by)
    from dongxi.errors import DongxiError
    from dongxi.policy import get_parameter
    from dongxi.store._list_reads import income_poverty_counts, newest_income_year

    if year is None:
        year = newest_income_year(session)
    line: float | None = None
    if year is not None:
        try:
            line = float(get_parameter("poverty_line", year=year, scope="national").value)
        except DongxiError:  # no official line for the year (after 2020: monitoring instead)
            line = None
    if year is None or line is None:
        empty = AggregateTable(by=by, year=year, groups=[], min_cell=0, rows=[], totals=None)
        return IncomePoverty(year=year, line=None, table=empty)
    counts = income_poverty_counts(session, year=year, line=line, digits=_DIGITS["township"])
    return IncomePoverty(
        year=year, line=line, table=_cut(session, principal, counts, by=by, year=year)
    )


def _level(by: str) -> None:
    if by not in _DIGITS:
        raise InputError(
            "Aggregates are by county or by township.",
            column="by",
            value=by,
            rule="aggregate_level",
            fix="Use by=county or by=township.",
        )


def _subtree(code: str) -> str:
    """The subtree prefix of a full division code (``450100`` → ``4501``)."""
    from dongxi.store.scope import Scope

    prefix = Scope.region(code).region_prefix
    return prefix if prefix is not None else code
