"""CLI command ``dongxi report``: a report on the registry's own data, for officials.

``report.html`` (bilingual, or Chinese only with ``--lang zh``; prints whole on paper or to PDF)
and ``report.xlsx`` in ``--out``, for a region (``--region``: a province, city, county or
township code; default: all the registry you may see) and a year (default: the latest).
The data come from snapshot folders (``--snapshot``, one per year; repeat it for the change
between years) or from a snapshot of the registry (``--url``, default: the configured one)
taken into ``OUT/snapshot``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dongxi.cli._present import console, operator

__all__ = ["register"]


def report(
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html and report.xlsx.")],
    region: Annotated[
        str | None,
        typer.Option(
            "--region",
            help="Division code: province (450000), city (451200), county (451221) or township; "
            "default: all.",
        ),
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="The year reported (default: the latest).")
    ] = None,
    snapshot: Annotated[
        list[Path] | None,
        typer.Option(
            "--snapshot", help="Snapshot folder (repeat for several years; the change is shown)."
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="Registry URL (default: DONGXI_DATABASE_URL or ./dongxi.db)."),
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", help="zh-en (bilingual, default) or zh (Chinese only).")
    ] = "zh-en",
    province: Annotated[
        str,
        typer.Option(
            "--province",
            help="Region code of the policy figures (the income line of each year: the poverty "
            "line through 2020, the monitoring line after it).",
        ),
    ] = "450000",
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="Policy file (CSV/XLSX): the office's monitoring lines of the years policy data "
            "lacks, for the identification, income and monitoring sections.",
        ),
    ] = None,
) -> None:
    """Write a report on the registry's own data: rates with counts, by county or township."""
    from dongxi.services.reporting import make_report

    if snapshot and url:
        console().print("Give --snapshot or --url, not both. 快照与登记库只能选一个。")
        raise typer.Exit(2)
    outcome = make_report(
        principal=operator(),
        folder=out,
        snapshots=snapshot or (),
        url=url,
        region=region,
        year=year,
        lang=lang,  # type: ignore[arg-type]
        province=province,
        policy=policy,
    )
    years = ", ".join(str(y) for y in outcome.years)
    console().print(
        f"报告 report: {outcome.html}\n表格 tables: {outcome.workbook}\n"
        f"{outcome.households:,} 户 households, {outcome.people:,} 人 people; {years}"
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the dongxi app."""
    app.command("report")(report)
