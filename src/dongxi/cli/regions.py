"""CLI commands ``dongxi regions …``: find administrative divisions in the packaged data."""

from __future__ import annotations

from typing import Annotated

import typer

from dongxi.cli._present import console

__all__ = ["register"]

regions_app = typer.Typer(
    name="regions",
    help="Administrative divisions (行政区划) packaged with dongxi: find a code or a name.",
    no_args_is_help=True,
)

VintageOption = Annotated[
    int, typer.Option("--vintage", help="Year of the division codes: 2017 or 2023.")
]


@regions_app.command("search")
def search_command(
    text: Annotated[str, typer.Argument(help="A name or part of one (隆安), or a code (450123).")],
    vintage: VintageOption = 2023,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Show at most this many divisions.")
    ] = 50,
) -> None:
    """Find divisions by name or code: code, level and full name, one line each (查找行政区划)."""
    from dongxi.services.regions import count_regions, search_regions

    found = search_regions(text, vintage=vintage, limit=limit)
    out = console()
    if not found:
        out.print(
            f"no division of {vintage} matches '{text}' (没有匹配的行政区划)", highlight=False
        )
        raise typer.Exit(1)
    for match in found:
        # plain tab-separated lines (for cut, grep and spreadsheets), not Rich markup
        typer.echo(f"{match.code}\t{match.level_zh}\t{match.full_name}")
    total = count_regions(text, vintage=vintage)
    if total > len(found):
        out.print(
            f"… {total - len(found)} more (共 {total} 个); "
            f"give more of the name, or --limit {total}",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add ``dongxi regions …`` to the dongxi app."""
    app.add_typer(regions_app)
