"""Idempotent load of the packaged reference data: regions, code changes, pairings, policy.

Called by :func:`dongxi.store.db.upgrade` after the schema migration (a post-upgrade load rather
than a data migration, so that a newer dongxi with corrected region files refreshes them without a
new revision). Each table is compared with the packaged rows by count and reloaded only when they
differ, so a second ``dongxi db upgrade`` does nothing.

The same step re-masks stored ``people.id_masked`` values of an older masked form
(``4501**********1234``) to the current one (``4501**************``, ``docs/security.md``): the new
form only drops characters of the old one, so no key is needed; the count is recorded in the change
log. A registry already re-masked is left alone.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dongxi import regions
from dongxi.pii.idnumber import mask_id
from dongxi.store.db import translate_errors
from dongxi.store.models import Pairing, Person, PolicyParameter, Region, RegionChange

__all__ = [
    "load_policy_parameters",
    "load_reference_data",
    "pairing_rows",
    "policy_rows",
    "region_rows",
    "remask_ids",
]

log = logging.getLogger(__name__)

_CHUNK = 5000


def region_rows() -> list[dict[str, Any]]:
    """Rows of ``regions``: Guangxi and Guangdong, five levels, 2017 and 2023 vintages."""
    frames = [regions.divisions(2017), regions.divisions(2023)]
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[["code", "vintage", "name", "level", "parent_code", "side"]]
    return [
        {
            "code": code,
            "vintage": int(vintage),
            "name": name,
            "level": level,
            "parent_code": parent or None,
            "side": side,
        }
        for code, vintage, name, level, parent, side in frame.itertuples(index=False)
    ]


def _period(text: str) -> tuple[int, int | None]:
    start, _, end = text.partition("-")
    return int(start), int(end) if end else None


def pairing_rows() -> list[dict[str, Any]]:
    """Rows of ``pairings``: city pairs of 2016–2020 and of 2021–2025, and the 33 poverty
    counties' pairs of both rounds (after 2020 at city level: the 2021 adjustment's sources name
    the helper cities, not the helper districts)."""
    frame = regions.divisions(2023)
    upper = frame[frame["level"].isin(["prefecture", "county"])]
    names = dict(zip(upper["code"], upper["name"], strict=True))
    rows: list[dict[str, Any]] = []
    for pair in regions.pairings().to_dict("records"):
        start, end = _period(pair["period"])
        rows.append(
            {
                "east_code": pair["east_city_code"],
                "east_name": pair["east_city_name"],
                "west_code": pair["west_city_code"],
                "west_name": pair["west_city_name"],
                "level": "city",
                "period_start": start,
                "period_end": end,
                "confidence": pair["confidence"] or None,
                "source": pair["source"] or None,
                "note": pair["note"] or None,
            }
        )
    for county in regions.poverty_counties().to_dict("records"):
        east = county["east_county_code"] or county["east_city_code"]
        notes = [f"category {county['category']}", f"exit year {county['exit_year']}"]
        if not county["east_county_code"]:
            notes.append("east partner known at city level only")
        if county["county_code_2017"] != county["county_code_2023"]:
            notes.append(f"2017 code {county['county_code_2017']}")
        rows.append(
            {
                "east_code": east,
                "east_name": county["east_county_name"] or names.get(east),
                "west_code": county["county_code_2023"],
                "west_name": county["county_name_2023"],
                "level": "county",
                "period_start": 2016,
                "period_end": 2020,
                "confidence": county["confidence"] or None,
                "source": county["pairing_source"] or None,
                "note": "; ".join(notes),
            }
        )
    later: dict[str, dict[str, str]] = {
        str(p["west_city_code"]): {str(k): str(v) for k, v in p.items()}
        for p in regions.pairings(2021).to_dict("records")
    }
    for county in regions.poverty_counties().to_dict("records"):
        found = later.get(str(county["west_city_code"]))
        if found is None:
            continue
        start, end = _period(found["period"])
        moved = found["east_city_code"] != county["east_city_code"]
        notes = [
            f"category {county['category']}",
            "east partner known at city level only (2021 adjustment)",
        ]
        if moved:
            notes.append(f"helped by {county['east_city_name']} until 2020")
        rows.append(
            {
                "east_code": found["east_city_code"],
                "east_name": found["east_city_name"],
                "west_code": county["county_code_2023"],
                "west_name": county["county_name_2023"],
                "level": "county",
                "period_start": start,
                "period_end": end,
                "confidence": found["confidence"] or None,
                "source": found["source"] or None,
                "note": "; ".join(notes),
            }
        )
    # the same east unit may appear twice for one county (city and county rows): keep the first
    seen: set[tuple[str, str, str, int]] = set()
    unique = []
    for row in rows:
        key = (row["east_code"], row["west_code"], row["level"], row["period_start"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def policy_rows() -> list[dict[str, Any]]:
    """Rows of ``policy_parameters`` from :func:`dongxi.policy.all_parameters` (if present)."""
    try:
        from dongxi import policy  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        log.info("dongxi.policy is not available: no policy parameters loaded")
        return []
    loader = getattr(policy, "all_parameters", None)
    if loader is None:
        return []
    rows = []
    for item in loader():
        rows.append(
            {
                "name": item.name,
                "scope": item.scope,
                "value": _jsonable(item.value),
                "unit": getattr(item, "unit", None),
                "effective_from": _as_date(item.effective_from),
                "effective_to": _as_date(getattr(item, "effective_to", None)),
                "status": getattr(item, "status", "unverified"),
                "source": getattr(item, "source", None),
                "note": getattr(item, "note", None),
            }
        )
    return rows


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _count(connection: Connection, table: sa.Table) -> int:
    return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _insert(connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    if connection.dialect.name == "postgresql" and table.name != "policy_parameters":
        _copy(connection, table, rows)
        return
    for start in range(0, len(rows), _CHUNK):
        connection.execute(table.insert(), list(rows[start : start + _CHUNK]))


def _copy(connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """PostgreSQL ``COPY`` (many times faster than INSERTs for the ~93k region rows)."""
    names = list(rows[0])
    raw = connection.connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([row[name] for name in names])


def _refresh(
    connection: Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]] | Callable[[], Sequence[dict[str, Any]]],
    expected: int | None = None,
) -> bool:
    """Replace the table's rows by ``rows`` unless the counts already agree.

    ``rows`` may be a function, called only when a reload is needed (``expected`` rows).
    """
    have = _count(connection, table)
    if callable(rows):
        if have == expected:
            return False
        rows = rows()
    elif have == len(rows):
        return False
    connection.execute(table.delete())
    _insert(connection, table, rows)
    log.info("loaded %d rows into %s", len(rows), table.name)
    return True


def load_policy_parameters(connection: Connection) -> int:
    """Insert the policy parameters not yet present (by name, scope, effective_from)."""
    table = PolicyParameter.__table__
    assert isinstance(table, sa.Table)
    existing = {
        (name, scope, start)
        for name, scope, start in connection.execute(
            sa.select(table.c.name, table.c.scope, table.c.effective_from)
        )
    }
    new = [
        row
        for row in policy_rows()
        if (row["name"], row["scope"], row["effective_from"]) not in existing
    ]
    _insert(connection, table, new)
    return len(new)


def _tables(models: Iterable[Any]) -> list[sa.Table]:
    out = []
    for model in models:
        table = model.__table__
        assert isinstance(table, sa.Table)
        out.append(table)
    return out


def remask_ids(connection: Connection) -> int:
    """Rewrite masked ID numbers of an older form to the current mask; returns how many.

    Runs in the caller's transaction; one change-log entry records the count (not the values).
    """
    from dongxi.store._changelog import record_change

    (people,) = _tables((Person,))
    current = mask_id("0" * 18)[4:]  # the masked tail of an 18-character number
    col = people.c.id_masked
    new = sa.func.substr(col, 1, 4).concat(current)
    stale = sa.and_(sa.func.length(col) == 18, col != new)
    n = int(connection.execute(sa.update(people).where(stale).values(id_masked=new)).rowcount)
    if n:
        record_change(
            connection,
            actor="dongxi db upgrade",
            action="remask_ids",
            entity="people",
            key="id_masked",
            after={"rows": n, "mask": mask_id("450000000000000000")},
        )
        log.info("re-masked %d stored ID numbers", n)
    return n


def load_reference_data(engine: Engine) -> dict[str, bool | int]:
    """Load regions, region changes, pairings and policy parameters where missing, and re-mask
    stored ID numbers of an older masked form (:func:`remask_ids`).

    Returns, per table, whether it was (re)loaded (policy: the number of rows added;
    ``people_masks``: the number of masks rewritten).
    """
    region_table, change_table, pairing_table = _tables((Region, RegionChange, Pairing))
    changes = [
        {str(k): (v or None) for k, v in row.items()}
        for row in regions.county_changes().to_dict("records")
    ]
    with translate_errors("Loading reference data"), engine.begin() as connection:
        result: dict[str, bool | int] = {
            "regions": _refresh(
                connection,
                region_table,
                region_rows,
                len(regions.divisions(2017)) + len(regions.divisions(2023)),
            ),
            "region_changes": _refresh(connection, change_table, changes),
            "pairings": _refresh(connection, pairing_table, pairing_rows()),
            "policy_parameters": load_policy_parameters(connection),
            "people_masks": remask_ids(connection),
        }
    return result
