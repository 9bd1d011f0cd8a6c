"""Reads for the monitoring use cases: the registry's tables as plain frames, inside a scope.

Households of the caller's scope (and of the ``region`` asked for), with their people (no ID
numbers; the head's name only when asked — the use case decides by the caller's role), measures,
status history and monthly income (``income_months``). Snapshot folders are read with
:func:`snapshot_tables` after they matched their manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import dongxi.store.all_models  # noqa: F401  (every table in Base.metadata)
from dongxi.errors import InputError
from dongxi.store.base import Base
from dongxi.store.db import translate_errors
from dongxi.store.scope import Scope

__all__ = ["INCOME_MONTHS", "MONITOR_TABLES", "monitoring_tables", "snapshot_tables"]

#: The monthly income table (store model, migration 0008, snapshot file ``income_months.parquet``).
INCOME_MONTHS = "income_months"
#: The tables the monitoring reads.
MONITOR_TABLES = ("households", "people", "measures", "household_status", INCOME_MONTHS)

_PEOPLE = (
    "household_code",
    "member_no",
    "relation",
    "sex",
    "ethnicity",
    "education",
    "school_status",
    "health",
    "disability_grade",
    "medical_insurance",
    "pension_insurance",
    "labour_capacity",
    "employment",
)
_MONTHS = (
    "household_code",
    "month",
    "net_income",
    "medical_spending",
    "schooling_spending",
    "disaster_loss",
    "household_size",
)


def _no_monthly_income(where: str) -> InputError:
    return InputError(
        f"{where} 没有月度收入表 income_months / {where} has no monthly income table "
        "(income_months), which the monitoring reads.",
        rule="income_months",
        fix="Upgrade the registry with 'dongxi db upgrade' on a dongxi that has income_months, "
        "import the monthly income, and write the snapshot again.",
    )


def _select(table: sa.Table, columns: tuple[str, ...] | None = None) -> sa.Select[Any]:
    cols = [c for c in table.c if columns is None or c.name in columns]
    return sa.select(*cols)


def monitoring_tables(
    engine: Engine, *, scope: Scope, region: str | None = None, head_names: bool = False
) -> dict[str, pd.DataFrame]:
    """The tables of :data:`MONITOR_TABLES` for the households inside ``scope`` and ``region``.

    ``people`` has no ID numbers; with ``head_names`` a column ``head_name`` on ``households``
    carries the name of each household's head (the caller must be allowed to see names).
    """
    meta = Base.metadata.tables
    hh = meta["households"]
    where = scope.where_region(hh.c.village_code)
    if region:
        where = sa.and_(where, Scope.region(region).where_region(hh.c.village_code))
    in_scope = sa.select(hh.c.household_code).where(where)
    queries: dict[str, sa.Select[Any]] = {
        "households": _select(hh).where(where).order_by(hh.c.household_code),
        "people": _select(meta["people"], _PEOPLE).where(
            meta["people"].c.household_code.in_(in_scope)
        ),
        "measures": _select(meta["measures"]).where(
            meta["measures"].c.household_code.in_(in_scope)
        ),
        "household_status": _select(
            meta["household_status"],
            ("household_code", "status", "monitoring_category", "effective_date"),
        ).where(meta["household_status"].c.household_code.in_(in_scope)),
        INCOME_MONTHS: _select(meta[INCOME_MONTHS], _MONTHS).where(
            meta[INCOME_MONTHS].c.household_code.in_(in_scope)
        ),
    }
    out: dict[str, pd.DataFrame] = {}
    with translate_errors("Reading the registry for monitoring"), engine.connect() as conn:
        for name, query in queries.items():
            result = conn.execute(query)
            out[name] = pd.DataFrame(result.all(), columns=list(result.keys()))
        if head_names:
            people = meta["people"]
            heads = conn.execute(
                sa.select(people.c.household_code, people.c.name).where(
                    people.c.household_code.in_(in_scope), people.c.relation == "head"
                )
            ).all()
            names = dict(heads)
            out["households"]["head_name"] = out["households"]["household_code"].map(names)
    for name in ("households", "people", "measures"):  # the columns the engine reads are there
        if out[name].empty:
            out[name] = pd.DataFrame(columns=[c.name for c in meta[name].c])
    out[INCOME_MONTHS] = _categorical(out[INCOME_MONTHS])
    return out


def _categorical(frame: pd.DataFrame) -> pd.DataFrame:
    """Household codes and months as categories (each distinct value looked up once)."""
    if frame.empty:
        return frame.reindex(columns=list(_MONTHS))
    return frame.assign(
        household_code=frame["household_code"].astype("category"),
        month=frame["month"].astype("category"),
    )


def snapshot_tables(
    folder: Path, manifest: Mapping[str, Any], *, region: str | None = None, scope: Scope
) -> dict[str, pd.DataFrame]:
    """The tables of :data:`MONITOR_TABLES` from a verified snapshot folder, cut to ``scope`` and
    ``region`` (households by village code; the others by household)."""
    import pyarrow.parquet as pq

    tables = manifest["tables"]
    if INCOME_MONTHS not in tables:
        raise _no_monthly_income("The snapshot")
    out: dict[str, pd.DataFrame] = {}
    for name in MONITOR_TABLES:
        entry = tables.get(name)
        if entry is None:
            raise InputError(
                f"The snapshot has no {name} table.",
                file=str(folder),
                rule="snapshot",
                fix="Write the snapshot again with 'dongxi snapshot'.",
            )
        table = pq.read_table(folder / str(entry["file"]))
        if name == INCOME_MONTHS:
            for column in ("household_code", "month"):
                at = table.schema.get_field_index(column)
                table = table.set_column(at, column, table[column].dictionary_encode())
        out[name] = table.to_pandas()
    hh = out["households"]
    keep = pd.Series(True, index=hh.index)
    villages = hh["village_code"].astype(str)
    if not scope.unrestricted:
        keep &= villages.map(scope.covers_region).astype(bool)
    if region:
        keep &= villages.str.startswith(Scope.region(region).region_prefix or "")
    if not keep.all():
        hh = hh[keep].reset_index(drop=True)
        codes = set(hh["household_code"].astype(str))
        for name in MONITOR_TABLES[1:]:
            frame = out[name]
            out[name] = frame[frame["household_code"].astype(str).isin(codes)].reset_index(
                drop=True
            )
        out["households"] = hh
        months = out[INCOME_MONTHS]
        months["household_code"] = months["household_code"].cat.remove_unused_categories()
    personal = [
        c for c in ("birth_date", "birth_year", "id_masked", "id_hash") if c in out["people"]
    ]
    out["people"] = out["people"].drop(columns=personal)
    return out
