"""CLI commands ``dongxi import`` and ``dongxi export`` (registry files in and out).

``import`` exits with status 0 when every row was imported, 1 when any row was rejected (with
``--partial`` the valid rows are kept all the same), 2 on errors that stop it (unreadable file,
registry not upgraded). The registry is ``DONGXI_DATABASE_URL`` or the SQLite default; it must
have been created with ``dongxi db upgrade`` first (an import never changes the schema).
"""

from __future__ import annotations

import getpass
from collections import Counter
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy.engine import Engine

from dongxi.errors import BackendError, InputError, RowError
from dongxi.intake.headers import KINDS, Kind

__all__ = ["register", "write_report"]

console = Console()

_KIND_HELP = "Kind of table: " + ", ".join(KINDS) + " (detected from the headers when absent)."


def _actor(value: str | None) -> str:
    if value:
        return value
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "cli"


def _engine() -> Engine:
    from dongxi.store.db import current_revision, head_revision, make_engine, public_url

    engine = make_engine()
    current = current_revision(engine)
    if current is None or current != head_revision():
        url = public_url(engine.url)
        engine.dispose()
        raise BackendError(
            f"The registry at {url} is not at the current schema (revision {current}).",
            fix="Run 'dongxi db upgrade' first (set DONGXI_DATABASE_URL for PostgreSQL).",
        )
    return engine


def write_report(errors: list[RowError], path: Path, *, source: Path | None = None) -> Path:
    """Write the rejected cells (row, column, value, rule, zh, en) as CSV (UTF-8 BOM) or XLSX.

    ``source`` is the imported file, which the report must not overwrite.
    """
    from dongxi.tables import write_table

    frame = pd.DataFrame(
        [
            {
                "file": e.file,
                "row": e.row,
                "column": e.column,
                "value": e.value,
                "rule": e.rule,
                "message_zh": e.message_zh,
                "message_en": e.message_en,
            }
            for e in errors
        ],
        columns=["file", "row", "column", "value", "rule", "message_zh", "message_en"],
    )
    return write_table(frame, path, option="--report", inputs=[source])


def _summary(errors: list[RowError], *, shown: int = 10) -> None:
    counts = Counter(e.rule for e in errors)
    table = Table(title="被拒绝的单元格 / rejected cells by rule")
    table.add_column("rule")
    table.add_column("count", justify="right")
    for rule, n in counts.most_common():
        table.add_row(rule, str(n))
    console.print(table)
    first = Table(title=f"前 {min(shown, len(errors))} 个错误 / first errors")
    for name in ("row", "column", "value", "message"):
        first.add_column(name)
    for e in errors[:shown]:
        first.add_row(str(e.row), e.column or "", e.value or "", f"{e.message_zh}\n{e.message_en}")
    console.print(first)


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
    ) -> None:
        """Validate FILE and write it to the registry (all or nothing unless --partial)."""
        from dongxi.intake.headers import detect_kind, load_mapping
        from dongxi.store.importer import import_frame
        from dongxi.tables import read_table

        if report is not None:
            from dongxi.outputs import output_file

            output_file(report, option="--report", inputs=[file, mapping])
        frame = read_table(file, as_text=True)
        user_map = load_mapping(mapping) if mapping else None
        chosen: Kind = (
            _check_kind(kind) if kind else detect_kind([str(c) for c in frame.columns], user_map)
        )
        engine = _engine()
        try:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            ) as bar:
                task = bar.add_task(f"导入 import {chosen}", total=None)

                def progress(_kind: str, done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                result = import_frame(
                    engine,
                    kind=chosen,
                    frame=frame,
                    actor=_actor(actor),
                    partial=partial,
                    source_name=file.name,
                    mapping=user_map,
                    progress=progress,
                )
        finally:
            engine.dispose()
        if result.written:
            console.print(
                f"[green]{chosen}[/]: {result.rows} rows — {result.created} created, "
                f"{result.updated} updated, {result.unchanged} unchanged, "
                f"{result.rejected_rows} rejected."
            )
        else:
            console.print(
                f"[red]{chosen}: nothing written[/] — {result.rejected_rows} of {result.rows} "
                "rows rejected (all-or-nothing; fix them, or use --partial to keep the valid rows)."
            )
        if result.errors:
            _summary(result.errors)
            if report is not None:
                write_report(result.errors, report, source=file)
                console.print(f"Report of {len(result.errors)} rejected cells: {report}")
            else:
                console.print("Give --report errors.xlsx to get every rejected cell in a file.")
            raise typer.Exit(1)

    @app.command("export")
    def export_command(
        kind: Annotated[str, typer.Argument(help="households, people, income, measures, …")],
        out: Annotated[Path, typer.Option("--out", help="Output file (.csv or .xlsx).")],
        unmask: Annotated[
            bool,
            typer.Option("--unmask", help="Write clear ID numbers (recorded in the change log)."),
        ] = False,
        actor: Annotated[
            str | None, typer.Option("--actor", help="Who exports (default: the OS user).")
        ] = None,
    ) -> None:
        """Write a registry table in the format 'dongxi import' reads (IDs masked by default)."""
        from dongxi.store.exporter import export_file

        engine = _engine()
        try:
            result = export_file(
                engine, kind=_check_kind(kind), out=out, unmask=unmask, actor=_actor(actor)
            )
        finally:
            engine.dispose()
        note = " (ID numbers in clear; recorded in the change log)" if result.unmasked else ""
        console.print(f"{result.rows} {result.kind} rows written to {result.path}{note}.")


def _check_kind(kind: str) -> Kind:
    for known in KINDS:
        if kind == known:
            return known
    raise InputError(
        f"Unknown kind '{kind}'.", value=kind, rule="kind", fix=f"Use one of: {', '.join(KINDS)}."
    )
