"""CLI command ``dongxi synth``: write a synthetic registry as import files.

The files are the ones offices hand in (Chinese headers by default), one per table, in the order
they import: partners, helpers, households, people, income, (income_months,) measures; with
``--through`` also ``shocks.<format>``, the ground truth of the monthly panel (not for import).
With several years, each year's round goes into its own sub-folder ``<out>/<year>/`` and the
current state into ``<out>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dongxi.cli._present import console, new_table

__all__ = ["register"]


#: The years a panel may cover (registration of poor households began in 2014).
FIRST_YEAR, LAST_YEAR = 2014, 2030


def _parse_years(text: str) -> list[int]:
    """``2016-2020`` or ``2019,2020`` → years, each checked against FIRST_YEAR–LAST_YEAR
    before a range is expanded (``2019-999999999`` would otherwise fill the memory)."""
    from dongxi.errors import InputError

    def bad(fix: str) -> InputError:
        return InputError(
            f"Years must be whole numbers or ranges within {FIRST_YEAR}–{LAST_YEAR}.",
            column="--years",
            value=text[:40],
            fix=fix,
        )

    years: list[int] = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
            else:
                a = b = int(part)
        except ValueError:
            raise bad("Write e.g. --years 2016-2020 or --years 2019,2020.") from None
        if not (FIRST_YEAR <= a <= b <= LAST_YEAR):
            raise bad(
                f"Write years from {FIRST_YEAR} to {LAST_YEAR}, the first of a range no later "
                "than the last, e.g. --years 2016-2020."
            )
        years.extend(range(a, b + 1))
    return years


def synth(
    households: Annotated[
        int | None, typer.Option("--households", "-n", help="Number of households.", min=1)
    ] = None,
    scale: Annotated[
        str | None,
        typer.Option("--scale", help="Area instead of a count: village, county, city or province."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 0,
    years: Annotated[
        str, typer.Option("--years", help="Years of the panel, e.g. 2016-2020 or 2019,2020.")
    ] = "2016-2020",
    vintage: Annotated[
        int, typer.Option("--vintage", help="Division codes of 2017 or 2023.")
    ] = 2017,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write.")] = Path("synth"),
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="File format: csv, xlsx or parquet.")
    ] = "csv",
    headers: Annotated[
        str, typer.Option("--headers", help="zh (Chinese headers and labels) or en (canonical).")
    ] = "zh",
    rounds: Annotated[
        bool,
        typer.Option("--rounds/--no-rounds", help="Also write each year's round to <out>/<year>/."),
    ] = True,
    through: Annotated[
        int | None,
        typer.Option(
            "--through",
            help="Continue the panel month by month from 2021-01 to December of this year "
            "(2021–2030): monthly income (income_months), shocks.csv (ground truth), yearly "
            "rounds. --years must then end by 2020.",
        ),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="Override file (CSV/XLSX: name, scope, value, year, source) whose monitoring_line "
            "figures (for 450000 or single counties) the monthly panel uses instead of the "
            "default lines.",
        ),
    ] = None,
) -> None:
    """Synthesise a realistic registry of Guangxi's 33 paired poverty counties (Guangdong help)."""
    from dongxi.services.synthetic import synthesise

    year_list = _parse_years(years)
    with console().status("synthesising …") as status:
        outcome = synthesise(
            out=out,
            households=households,
            scale=scale,
            seed=seed,
            years=year_list,
            vintage=vintage,
            fmt=fmt,
            headers=headers,
            rounds=rounds,
            through=through,
            policy=policy,
            phase=status.update,
        )
    table = new_table(f"dongxi synth → {out}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in outcome.rows.items():
        table.add_row(name, f"{rows:,}")
    console().print(table)
    console().print(
        f"seed {seed}, years {', '.join(str(y) for y in outcome.years)}, vintage {vintage}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the dongxi app."""
    app.command("synth")(synth)
