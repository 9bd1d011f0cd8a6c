"""CLI command ``dongxi needs draft``: needs drafted from the registry's people (草拟就业需求).

Working-age members with labour capacity, out of school, of registered-poor, escaped and
monitored households, who have no need yet, get a draft need (``services.drafted_needs``): kept
out of matching until a cadre confirms it with the household and imports the file back with
``dongxi import``. The command line acts as the local operator (role admin, every row) unless
``--actor`` names someone; ``--region`` limits it to one division.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dongxi.cli._present import console, operator

__all__ = ["register"]

needs_app = typer.Typer(
    name="needs", help="Needs of the market (就业需求): drafts for cadres to confirm.",
    no_args_is_help=True,
)  # fmt: skip


@needs_app.command("draft")
def draft_command(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the drafts (.xlsx or .csv, the needs' import format, Chinese headers) "
            "for the cadres to check, correct and import back.",
        ),
    ] = None,
    write: Annotated[
        bool,
        typer.Option(
            "--write", help="Keep the drafts in the registry (marked as drafts, never matched)."
        ),
    ] = False,
    region: Annotated[
        str | None,
        typer.Option("--region", help="Only households of this division (code, e.g. 450226)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Day the ages are counted on, YYYY-MM-DD (default: today)."),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option("--actor", help="Name written in the change log (default: OS user)."),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="Registry URL (default: DONGXI_DATABASE_URL or ./dongxi.db)."),
    ] = None,
) -> None:
    """Draft employment needs for working-age people with labour capacity who have none yet
    (16–60, out of school; not in households with 低保/特困). Drafts are never matched: the
    cadres confirm them with the household and 'dongxi import' the file."""
    from dongxi.services.cases import parse_day
    from dongxi.services.drafted_needs import export_registry_drafts

    run = export_registry_drafts(
        principal=operator(actor),
        out=out,
        write=write,
        region=region,
        url=url,
        as_of=parse_day(as_of, option="--as-of"),
    )
    done = "drafted and kept in the registry" if run.written else "to draft (not written)"
    console().print(f"{len(run.drafted)} needs {done}", soft_wrap=True)
    if run.path is not None:
        console().print(f"{run.rows} drafts written to {run.path}", soft_wrap=True)
    console().print(
        "草拟需求不参与匹配；与农户核实后用 dongxi import 导入即为正式需求。", soft_wrap=True
    )


def register(app: typer.Typer) -> None:
    """Add the ``needs`` command group to the dongxi app."""
    app.add_typer(needs_app)
