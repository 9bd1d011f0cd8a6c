"""CLI commands: ``dongxi policy list`` and ``dongxi policy show`` (policy parameters)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dongxi.cli._present import console, new_table

__all__ = ["register"]

policy_app = typer.Typer(
    name="policy",
    help="Policy parameters (政策参数): poverty lines, monitoring lines, criteria, with sources.",
    no_args_is_help=True,
)

PolicyFile = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Override file (CSV/XLSX: name, scope, value, year or effective_from, source) "
        "with a province's own figures (省定标准); they win over the built-in figures.",
    ),
]


@policy_app.command("list")
def list_parameters(
    name: Annotated[str | None, typer.Option("--name", help="Show one parameter only.")] = None,
    policy_file: PolicyFile = None,
) -> None:
    """List every policy figure with its years, scope, status and source."""
    from dongxi.policy import describe_parameters, load_overrides

    overrides = load_overrides(policy_file) if policy_file else []
    frame = describe_parameters(name=name, overrides=overrides)
    table = new_table("dongxi policy parameters")
    for column in ("name", "scope", "years", "value", "unit", "status", "source"):
        table.add_column(column, overflow="fold")
    for rec in frame.itertuples(index=False):
        table.add_row(
            str(rec.name),
            str(rec.scope),
            str(rec.years),
            f"{rec.value:g}",
            str(rec.unit),
            str(rec.status),
            str(rec.source),
        )
    console().print(table)


@policy_app.command("show")
def show_parameter(
    name: Annotated[str, typer.Argument(help="Parameter name, e.g. poverty_line.")],
    year: Annotated[int, typer.Option("--year", help="Calendar year.")],
    scope: Annotated[
        str, typer.Option("--scope", help="'national' or a region code (450000, 450102, …).")
    ] = "national",
    policy_file: PolicyFile = None,
) -> None:
    """Show the figure of one parameter that applies to a year and a region."""
    from dongxi.policy import get_parameter, load_overrides

    overrides = load_overrides(policy_file) if policy_file else []
    value = get_parameter(name, year=year, scope=scope, overrides=overrides)
    out = console()
    out.print(f"[bold]{value.name}[/] {year} {scope}: [bold]{value.value:g}[/] {value.unit}")
    out.print(f"scope {value.scope}, in force {value.years}, status {value.status}")
    out.print(f"source: {value.source or '(none recorded)'}", soft_wrap=True)
    if value.note:
        out.print(f"note: {value.note}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``policy`` command group to the dongxi app."""
    app.add_typer(policy_app)
