"""CLI commands ``dongxi import`` and ``dongxi export`` (registry files in and out).

``import`` exits with status 0 when every row was imported, 1 when any row was rejected (with
``--partial`` the valid rows are kept all the same), 2 on errors that stop it (unreadable file,
registry not upgraded). The registry is ``DONGXI_DATABASE_URL`` or the SQLite default; it must
have been created with ``dongxi db upgrade`` first (an import never changes the schema).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dongxi.cli._present import console, new_table, operator, print_alerts
from dongxi.services.imports import KINDS

if TYPE_CHECKING:
    from dongxi.errors import RowError

__all__ = ["register"]

_KIND_HELP = (
    "Kind of table: " + ", ".join(KINDS) + ", or department_alerts (a department's alert file: "
    "opens monitoring cases) — detected from the headers when absent."
)


def _summary(errors: list[RowError], *, shown: int = 10) -> None:
    counts = Counter(e.rule for e in errors)
    table = new_table("被拒绝的单元格 / rejected cells by rule")
    table.add_column("rule")
    table.add_column("count", justify="right")
    for rule, n in counts.most_common():
        table.add_row(rule, str(n))
    console().print(table)
    first = new_table(f"前 {min(shown, len(errors))} 个错误 / first errors")
    for name in ("row", "column", "value", "message"):
        first.add_column(name)
    for e in errors[:shown]:
        first.add_row(str(e.row), e.column or "", e.value or "", f"{e.message_zh}\n{e.message_en}")
    console().print(first)


def register(app: typer.Typer) -> None:
    """Add ``import`` and ``export`` to the dongxi app."""

    @app.command("import")
    def import_command(
        file: Annotated[Path, typer.Argument(help="CSV (UTF-8/GB18030), XLSX or Parquet file.")],
        kind: Annotated[str | None, typer.Option("--kind", help=_KIND_HELP)] = None,
        partial: Annotated[
            bool, typer.Option("--partial", help="Keep the valid rows; report the rest.")
        ] = False,
        report: Annotated[
            Path | None,
            typer.Option("--report", help="Write every rejected cell to this CSV/XLSX file."),
        ] = None,
        mapping: Annotated[
            Path | None,
            typer.Option("--mapping", help="CSV/TOML file 'source_header,column' for headers."),
        ] = None,
        actor: Annotated[
            str | None, typer.Option("--actor", help="Who imports (default: the OS user).")
        ] = None,
        effective_date: Annotated[
            str | None,
            typer.Option(
                "--effective-date",
                help="Date (YYYY-MM-DD) the households' statuses took effect, for rows without "
                "a 状态变更日期 column (default: today).",
            ),
        ] = None,
    ) -> None:
        """Validate FILE and write it to the registry (all or nothing unless --partial).

        A department's alert file (部门, 预警日期, 预警类型, …) opens an identification case for
        each household it names that has none (all or nothing, like 'dongxi monitor alerts').
        Each sheet of a workbook is imported by its kind (recognised from its headers), all in
        one transaction; empty sheets are skipped and named.
        """
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        from dongxi.services.imports import import_file, parse_effective_date

        day = parse_effective_date(effective_date)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console(),
            transient=True,
        ) as bar:
            task = bar.add_task("导入 import", total=None)

            def progress(done_kind: str, done: int, total: int) -> None:
                bar.update(
                    task, description=f"导入 import {done_kind}", completed=done, total=total
                )

            outcome = import_file(
                principal=operator(actor),
                file=file,
                kind=kind,
                partial=partial,
                report=report,
                mapping=mapping,
                progress=progress,
                effective_date=day,
            )
        if outcome.alerts is not None:  # a department's alert file: cases opened, or none
            console().print("部门预警文件 / department alerts: 开启监测识别案件 (monitoring cases)")
            if not print_alerts(outcome.alerts):
                raise typer.Exit(1)
            return
        for ignored in outcome.ignored:
            console().print(f"跳过空工作表 / skipped empty sheet {ignored}")
        several = len(outcome.results) > 1
        for chosen, result in outcome.results.items():
            where = f" ({result.source})" if several else ""
            if result.written:
                console().print(
                    f"[green]{chosen}[/]{where}: {result.rows} rows — {result.created} created, "
                    f"{result.updated} updated, {result.unchanged} unchanged, "
                    f"{result.rejected_rows} rejected."
                )
            else:
                console().print(
                    f"[red]{chosen}: nothing written[/]{where} — {result.rejected_rows} of "
                    f"{result.rows} rows rejected (all-or-nothing; fix them, or use --partial to "
                    "keep the valid rows)."
                )
        errors = outcome.errors
        if errors:
            _summary(errors)
            if outcome.report is not None:
                console().print(f"Report of {len(errors)} rejected cells: {report}")
            else:
                console().print("Give --report errors.xlsx to get every rejected cell in a file.")
            raise typer.Exit(1)

    @app.command("export")
    def export_command(
        kind: Annotated[
            str,
            typer.Argument(
                help="households, people, income, measures, … or regions (the packaged "
                "administrative divisions)."
            ),
        ],
        out: Annotated[Path, typer.Option("--out", help="Output file (.csv or .xlsx).")],
        unmask: Annotated[
            bool,
            typer.Option("--unmask", help="Write clear ID numbers (recorded in the change log)."),
        ] = False,
        actor: Annotated[
            str | None, typer.Option("--actor", help="Who exports (default: the OS user).")
        ] = None,
        vintage: Annotated[
            int, typer.Option("--vintage", help="regions only: year of the codes, 2017 or 2023.")
        ] = 2023,
    ) -> None:
        """Write a registry table in the format 'dongxi import' reads (IDs masked by default),
        or the packaged administrative divisions (``regions``, Chinese headers)."""
        if kind == "regions":
            from dongxi.services.regions import export_regions

            written = export_regions(out, vintage=vintage)
            console().print(
                f"{written.rows} divisions of {written.vintage} written to {written.path}."
            )
            return
        from dongxi.services.exports import export_table

        result = export_table(principal=operator(actor), kind=kind, out=out, unmask=unmask)
        note = " (ID numbers in clear; recorded in the change log)" if result.unmasked else ""
        console().print(f"{result.rows} {result.kind} rows written to {result.path}{note}.")
