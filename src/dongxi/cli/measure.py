"""CLI command ``dongxi measure``: Alkire–Foster (and income) poverty measures of a table.

``--data`` is a table file (CSV, XLSX, Parquet, Stata ``.dta``), a registry snapshot folder
(``manifest.json`` with ``households.parquet``, ``people.parquet``, ``income.parquet``: joined into
one person-level table, income of ``--year``), or ``example`` (the bundled synthetic example).
Spec parameters written ``{ param = "name" }`` are filled from policy data for ``--year`` and
``--province``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

__all__ = ["load_measure_data", "register", "spec_params"]

console = Console()

EXAMPLE = "example"


def load_measure_data(data: str, *, year: int | None) -> tuple[pd.DataFrame, str, int | None]:
    """Read ``--data``: a file, a snapshot folder or ``example``. Returns (frame, name, year)."""
    from dongxi.errors import InputError, NotFoundError
    from dongxi.tables import read_table

    if data == EXAMPLE:
        ref = resources.files("dongxi.measure") / "data" / "example.parquet"
        with resources.as_file(ref) as path:
            return pd.read_parquet(path), "example", year
    path = Path(data)
    if path.is_dir():
        manifest = path / "manifest.json"
        if not manifest.is_file():
            raise InputError(
                "The folder is not a registry snapshot (no manifest.json).",
                file=str(path),
                rule="snapshot",
                fix="Give a table file, a folder written by 'dongxi snapshot', or 'example'.",
            )
        json.loads(manifest.read_text(encoding="utf-8"))
        tables = {}
        for name in ("households", "people", "income"):
            f = path / f"{name}.parquet"
            if not f.is_file():
                raise InputError(
                    f"The snapshot has no {name}.parquet.",
                    file=str(path),
                    rule="snapshot",
                    fix="Write the snapshot again with 'dongxi snapshot'.",
                )
            tables[name] = pd.read_parquet(f)
        income = tables["income"]
        if year is None and len(income):
            year = int(income["year"].max())
        if year is not None:
            income = income[income["year"] == year]
        people = tables["people"].merge(
            tables["households"], on="household_code", how="left", suffixes=("", "_household")
        )
        frame = people.merge(income, on="household_code", how="left", suffixes=("", "_income"))
        return frame, str(path), year
    if not path.is_file():
        raise NotFoundError(
            f"Data file {path} does not exist.",
            fix="Check the path, or use --data example for the bundled example.",
        )
    return read_table(path), str(path), year


def _params_of(obj: Any, out: set[str]) -> None:
    from pydantic import BaseModel

    from dongxi.measure import Param

    if isinstance(obj, Param):
        out.add(obj.param)
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            _params_of(getattr(obj, name), out)
    elif isinstance(obj, list | tuple):
        for item in obj:
            _params_of(item, out)


def spec_params(spec: Any, *, year: int | None, province: str | None) -> dict[str, float]:
    """Values of the spec's ``{param = …}`` from policy data for the year and province."""
    from dongxi.errors import InputError

    names: set[str] = set()
    _params_of(spec, names)
    if not names:
        return {}
    if year is None:
        raise InputError(
            f"The spec uses policy parameters ({', '.join(sorted(names))}) that depend on the "
            "year.",
            column="--year",
            rule="param",
            fix="Give --year, e.g. --year 2020 (and --province 450000 for a provincial standard).",
        )
    from dongxi.policy import get_parameter

    return {
        name: float(get_parameter(name, year=year, scope=province or "national").value)
        for name in sorted(names)
    }


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _show(result: pd.DataFrame, *, limit: int) -> None:
    main = result[result["measure"].isin(["M0", "H", "A", "FGT0", "FGT1", "FGT2", "Watts", "Gini"])]
    table = Table(title="Poverty measures (estimate, 95% CI)", show_lines=False)
    for col in ("by", "group", "k", "measure", "estimate", "se", "95% CI", "n"):
        table.add_column(
            col, justify="right" if col in ("k", "estimate", "se", "n") else "left", no_wrap=True
        )
    shown = main.head(limit)
    for rec in shown.to_dict("records"):
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
    console.print(table)
    if len(main) > limit:
        console.print(f"… {len(main) - limit} more rows; write them all with --out FILE.")
    console.print(
        f"{len(result)} rows in all (also hd, hdk, actb, pctb, popsh); --out FILE writes "
        "the full table."
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
    no_se: Annotated[bool, typer.Option("--no-se", help="Point estimates only (faster).")] = False,
    limit: Annotated[int, typer.Option("--limit", help="Rows shown in the terminal.")] = 40,
) -> None:
    """Multidimensional (Alkire–Foster) and income poverty measures with 95% intervals."""
    from dongxi.errors import InputError
    from dongxi.measure import identify, load_spec
    from dongxi.measure import measure as run_measure
    from dongxi.settings import get_settings
    from dongxi.tables import write_table

    sp = load_spec(spec)
    frame, name, year = load_measure_data(data, year=year)
    ref: dt.date | None = None
    if reference_date:
        try:
            ref = dt.date.fromisoformat(reference_date)
        except ValueError:
            raise InputError(
                "The reference date is not a date.",
                column="--reference-date",
                value=reference_date,
                fix="Write it as YYYY-MM-DD.",
            ) from None
    elif year is not None and sp.reference_date is None:
        ref = dt.date(year, 12, 31)
    params = spec_params(sp, year=year, province=province)
    result = run_measure(
        frame,
        sp,
        k=k or None,
        by=by or (),
        params=params,
        backend=backend or get_settings().analytics_url,
        se=not no_se,
        reference_date=ref,
        source=name,
    )
    _show(result, limit=limit)
    if out is not None:
        written = write_table(result, out, option="--out", inputs=[data])
        console.print(f"Wrote {len(result)} rows to {written}.")
    if households_out is not None:
        units = identify(frame, sp, k=k or None, params=params, reference_date=ref, source=name)
        written = write_table(units, households_out, option="--households-out", inputs=[data])
        console.print(f"Wrote {len(units)} households to {written}.")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the dongxi app."""
    app.command("measure")(measure)
