"""CLI command ``dongxi measure``: Alkire–Foster (and income) poverty measures of a table.

``--data`` is a table file (CSV, XLSX, Parquet, Stata ``.dta``), a registry snapshot folder
(``manifest.json`` with ``households.parquet``, ``people.parquet``, ``income.parquet``: joined into
one person-level table, income of ``--year``; verified against its manifest before any file is
read), or ``example`` (the bundled synthetic example).
Spec parameters written ``{ param = "name" }`` are filled from policy data for ``--year`` and
``--province``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dongxi.cli._present import console, new_table, operator

__all__ = ["register"]


def _show(view: Any, *, rows: int, limit: int) -> None:
    """The headline measures, readable at 80 columns: names, percentages, SEs and counts."""
    table = new_table(f"{view.title}\n{view.rule}", show_lines=False, box=None, pad_edge=False)
    columns: list[tuple[str, Any]] = [
        ("组别 group", "left"),
        ("指标", "left"),
        ("估计 est.", "right"),
    ]
    columns += [("标准误 SE", "right"), ("95% 置信区间 CI", "right"), ("n", "right")]
    if view.several_k:
        columns.insert(1, ("k", "right"))
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold")
    for rec in view.rows[:limit]:
        cells = [rec["group"], rec["measure"], rec["estimate"], rec["se"], rec["ci"], rec["n"]]
        if view.several_k:
            cells.insert(1, rec["k"])
        table.add_row(*cells)
    out = console()
    out.print(table)
    if view.line:
        out.print(view.line, markup=False, highlight=False)
    if len(view.rows) > limit:
        out.print(f"… {len(view.rows) - limit} more rows; write them all with --out FILE.")
    out.print(view.legend)
    out.print(view.counts)
    out.print(
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
    change_interval: Annotated[
        str,
        typer.Option(
            "--change-interval",
            help="Intervals of changes between rounds: normal (mpitbR, default) or t.",
        ),
    ] = "normal",
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
        change_interval=change_interval,
    )
    _show(outcome.view, rows=len(outcome.result), limit=limit)
    if outcome.out is not None:
        console().print(f"Wrote {len(outcome.result)} rows to {outcome.out}.")
    if outcome.units_out is not None and outcome.units is not None:
        console().print(f"Wrote {len(outcome.units)} households to {outcome.units_out}.")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the dongxi app."""
    app.command("measure")(measure)
