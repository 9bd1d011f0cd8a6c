"""CLI command ``dongxi audit verify``: check the audit log (the change log's chain and seals)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dongxi.cli._present import console, operator

__all__ = ["register"]

audit_app = typer.Typer(name="audit", help="The audit log (change log).", no_args_is_help=True)


@audit_app.command("verify")
def verify_command(
    url: Annotated[
        str | None,
        typer.Option("--url", help="Registry URL (default: DONGXI_DATABASE_URL or ./dongxi.db)."),
    ] = None,
    anchor: Annotated[
        list[Path] | None,
        typer.Option("--anchor", help="An anchor file or a snapshot's manifest.json (repeatable)."),
    ] = None,
) -> None:
    """Check the audit log; a changed, removed or unsealed entry is reported with its position."""
    from dongxi.services.registry import check_change_log

    check = check_change_log(principal=operator(), url=url, anchors=anchor or [])
    if check.ok:
        console().print(
            f"audit log intact: {check.entries} entries, {check.seals} seals, "
            f"{check.anchors} recorded heads checked"
        )
        return
    console().print(
        f"[bold red]audit log broken[/] at entry {check.broken_at} "
        f"(position {check.position}): {check.reason}"
    )
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``audit`` to the main app."""
    app.add_typer(audit_app)
