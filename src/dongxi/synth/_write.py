"""Writing a synthetic registry as import files (CSV, XLSX, Parquet; Chinese or English headers)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from dongxi.errors import InputError
from dongxi.outputs import output_folder
from dongxi.tables import write_table

if TYPE_CHECKING:
    from dongxi.synth._generate import SynthData

__all__ = ["write_files"]

logger = logging.getLogger(__name__)

#: The tables written, in import order (partners and helpers before what refers to them);
#: ``income_months`` only when the data set has a monthly panel.
FILE_TABLES = ("partners", "helpers", "households", "people", "income", "income_months", "measures")
#: Written beside the import files for evaluation only (not a registry table; English columns).
GROUND_TRUTH = "shocks"
#: Rows an XLSX sheet holds below its header row.
_XLSX_ROWS = 1_048_575


def _localize(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    from dongxi.intake import headers

    return headers.localize(frame, kind=kind)  # type: ignore[arg-type]


def write_files(
    data: SynthData,
    folder: str | Path,
    *,
    fmt: Literal["csv", "xlsx", "parquet"] = "csv",
    headers: Literal["zh", "en"] = "zh",
    year: int | None = None,
) -> dict[str, Path]:
    """Write the tables as import files ``<folder>/<table>.<fmt>``; returns the paths by table.

    ``headers="zh"`` writes the Chinese headers and value labels offices use (the mapping of
    ``dongxi.intake.headers``); ``"en"`` the canonical column names and codes. ``year`` writes one
    round (households and people of that year, its income rows and months) instead of the
    current state. A data set with a monthly panel (``generate(through=...)``) also gets
    ``income_months.<fmt>`` and the ground truth ``shocks.<fmt>`` (canonical English columns;
    for evaluating the monitoring, not for import).
    """
    if fmt not in ("csv", "xlsx", "parquet"):
        raise InputError("Unknown file format.", value=fmt, fix="Use csv, xlsx or parquet.")
    if headers not in ("zh", "en"):
        raise InputError("Unknown header language.", value=headers, fix="Use zh or en.")
    tables = data.tables()
    if year is not None:
        if year not in data.rounds:
            raise InputError(
                "The data set has no round for this year.",
                value=year,
                fix=f"Use one of {', '.join(str(y) for y in data.rounds)}.",
            )
        r = data.rounds[year]
        tables.update(households=r.households, people=r.people, income=r.income)
        if data.income_months is not None:
            months = data.income_months
            tables["income_months"] = months[months["month"].str.startswith(f"{year}-")]
    shocks = data.shocks
    if year is not None and shocks is not None:
        shocks = shocks[shocks["month"].str.startswith(f"{year}-")]
    if fmt == "xlsx":
        for name, frame in (*tables.items(), (GROUND_TRUTH, shocks)):
            if frame is not None and len(frame) > _XLSX_ROWS:
                raise InputError(
                    f"The {name} table has {len(frame):,} rows, more than an XLSX sheet holds "
                    f"({_XLSX_ROWS:,}).",
                    column="--format",
                    value=fmt,
                    fix="Write csv or parquet, or fewer households.",
                )
    out = output_folder(folder, option="--out")
    paths: dict[str, Path] = {}
    for name in FILE_TABLES:
        if name not in tables:
            continue
        frame = tables[name]
        if headers == "zh":
            frame = _localize(frame, name)
        paths[name] = write_table(frame, out / f"{name}.{fmt}", option="--out")
        logger.info("wrote %s (%d rows)", paths[name], len(frame))
    if shocks is not None:
        paths[GROUND_TRUTH] = write_table(shocks, out / f"{GROUND_TRUTH}.{fmt}", option="--out")
    return paths
