"""CLI command ``dongxi measure``: Alkire–Foster (and income) poverty measures of a table.

``--data`` is a table file (CSV, XLSX, Parquet, Stata ``.dta``), a registry snapshot folder
(``manifest.json`` with ``households.parquet``, ``people.parquet``, ``income.parquet``: joined into
one person-level table, income of ``--year``; verified against its manifest before any file is
read), or ``example`` (the bundled synthetic example).
Spec parameters written ``{ param = "name" }`` are filled from policy data for ``--year`` and
``--province``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from dongxi.cli._present import console, new_table, operator

__all__ = ["register"]


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _show(main: list[dict[str, Any]], *, rows: int, limit: int) -> None:
    table = new_table("Poverty measures (estimate, 95% CI)", show_lines=False)
    for col in ("by", "group", "k", "measure", "estimate", "se", "95% CI", "n"):
        table.add_column(
            col, justify="right" if col in ("k", "estimate", "se", "n") else "left", no_wrap=True
        )
    for rec in main[:limit]:
        low, high = float(rec["ci_low"]), float(rec["ci_high"])
        ci = "" if math.isnan(low) else f"[{low:.4f}, {high:.4f}]"
        table.add_row(
            str(rec["by"]) or "(all)",
            str(rec["group"]),
            _fmt(float(rec["k"]), 2),
            str(rec["measure"]),
            _fmt(float(rec["estimate"])),
            _fmt(float(rec["se"])),
            ci,
            str(rec["n"]),
        )
    console().print(table)
    if len(main) > limit:
        console().print(f"… {len(main) - limit} more rows; write them all with --out FILE.")
    console().print(
        f"{rows} rows in all (also hd, hdk, actb, pctb, popsh); --out FILE writes the full table."
    )


def measure(
    spec: Annotated[str, typer.Option("--spec", help="Spec TOML file or built-in name.")],
    data: Annotated[
        str,
        typer.Option(
            "--data", help="Table file (CSV/XLSX/Parquet/.dta), snapshot folder, or 'example'."
        ),
    ],
    k: Annotated[
        list[str] | None,
        typer.Option("--k", help="Cutoff in percent (repeat for several), or union/intersection."),
    ] = None,
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="Subgroup column (repeat); 'a,b' crosses two columns."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the full table (.csv, .xlsx, .parquet).")
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="Year of policy parameters and snapshot income.")
    ] = None,
    province: Annotated[
        str | None, typer.Option("--province", help="Region code for provincial standards.")
    ] = None,
    reference_date: Annotated[
        str | None,
        typer.Option("--reference-date", help="Date (YYYY-MM-DD) at which ages are computed."),
    ] = None,
    households_out: Annotated[
        Path | None,
        typer.Option(
            "--households-out", help="Write each household's profile, score, poor-or-not."
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            help="Where the analytics run: duckdb:// or postgresql://… "
            "(default: DONGXI_ANALYTICS_URL).",
        ),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="Override file (CSV/XLSX: name, scope, value, year or effective_from, source) "
            "with the province's or county's own figures, e.g. poverty_line or monitoring_line "
            "of a year after 2020; they win over the built-in figures.",
        ),
    ] = None,
    no_se: Annotated[bool, typer.Option("--no-se", help="Point estimates only (faster).")] = False,
    limit: Annotated[int, typer.Option("--limit", help="Rows shown in the terminal.")] = 40,
) -> None:
    """Multidimensional (Alkire–Foster) and income poverty measures with 95% intervals."""
    from dongxi.services.measurement import measure_data

    outcome = measure_data(
        principal=operator(),
        spec=spec,
        data=data,
        k=k or None,
        by=by or (),
        year=year,
        province=province,
        reference_date=reference_date,
        backend=backend,
        se=not no_se,
        out=out,
        units_out=households_out,
        policy=policy,
    )
    _show(outcome.headline(), rows=len(outcome.result), limit=limit)
    if outcome.out is not None:
        console().print(f"Wrote {len(outcome.result)} rows to {outcome.out}.")
    if outcome.units_out is not None and outcome.units is not None:
        console().print(f"Wrote {len(outcome.units)} households to {outcome.units_out}.")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the dongxi app."""
    app.command("measure")(measure)
