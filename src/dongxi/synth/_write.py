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

#: The tables written, in import order (partners and helpers before what refers to them).
FILE_TABLES = ("partners", "helpers", "households", "people", "income", "measures")


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
    round (households and people of that year, its income rows) instead of the current state.
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
    out = output_folder(folder, option="--out")
    paths: dict[str, Path] = {}
    for name in FILE_TABLES:
        frame = tables[name]
        if headers == "zh":
            frame = _localize(frame, name)
        paths[name] = write_table(frame, out / f"{name}.{fmt}", option="--out")
        logger.info("wrote %s (%d rows)", paths[name], len(frame))
    return paths
