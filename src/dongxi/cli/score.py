"""CLI command ``dongxi monitor score``: the learned risk score, a list that orders sweeps.

``dongxi monitor score --year YEAR --out FILE [--snapshot DIR | --url URL] [--policy FILE]``
scores every household with a model learned on the years before ``YEAR`` (use case
:func:`dongxi.services.risk.score_risk`). The score never decides who is included: the rules do.
The command lives in the ``monitor`` group (:func:`register_monitor`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dongxi.cli._present import console, operator

__all__ = ["register_monitor"]


def score(
    year: Annotated[int, typer.Option("--year", help="Year to score (the panel's income year).")],
    out: Annotated[Path, typer.Option("--out", help="Write the list (.xlsx or .csv).")],
    snapshot: Annotated[
        Path | None, typer.Option("--snapshot", help="A snapshot folder instead of the registry.")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="Registry URL (default: DONGXI_DATABASE_URL or ./dongxi.db)."),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy", help="Policy override file (monitoring_line of years policy data lacks)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the model.")] = 0,
    open_cases: Annotated[
        bool,
        typer.Option(
            "--open-cases",
            help="Also open an identification case (channel risk_score, state 'warning', no "
            "category) for each of the --top N highest-ranked households not in monitoring and "
            "without an open case; the registry only. Off by default. The score orders the "
            "visits; the procedure and the rules decide.",
        ),
    ] = False,
    top: Annotated[
        int | None,
        typer.Option(
            "--top", help="How many of the highest-ranked households (with --open-cases)."
        ),
    ] = None,
) -> None:
    """Risk score of each household for next year (orders sweeps; the rules decide inclusion)."""
    from dongxi.errors import InputError
    from dongxi.services.risk import score_risk

    if open_cases != (top is not None):
        raise InputError(
            "--open-cases and --top N go together.",
            column="--top",
            fix="Give both (e.g. --open-cases --top 50), or neither.",
        )

    outcome = score_risk(
        principal=operator(),
        year=year,
        out=out,
        snapshot=snapshot,
        url=url,
        policy=policy,
        seed=seed,
        open_cases=top if open_cases else None,
    )
    years = ", ".join(map(str, outcome.train_years))
    console().print(
        f"Scored {outcome.households} households for {outcome.year} "
        f"(trained on {years}, calibrated on {outcome.calibration_year}); wrote {outcome.out}."
    )
    console().print("风险评分只用于安排排查顺序，不决定纳入或排除：是否纳入监测由规则认定。")
    console().print("The score orders sweeps only; the rules decide who is included.")
    if open_cases:
        console().print(f"识别案件 identification cases opened (risk_score): {len(outcome.opened)}")


def register_monitor(monitor_app: typer.Typer) -> None:
    """Add ``score`` to the ``dongxi monitor`` group."""
    monitor_app.command("score")(score)
