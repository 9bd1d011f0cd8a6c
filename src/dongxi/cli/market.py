"""CLI commands of the two-sided market: ``dongxi match`` and ``dongxi proposal …``.

``dongxi match`` has three sources of an instance:

- explicit rank lists (research mode): ``--seeker-ranks``, ``--offer-ranks``, ``--capacities``
  and ``--out`` (CSV ``seeker_id,offer_id``; empty ``offer_id`` for the unmatched);
- needs and offers tables: ``--needs`` and ``--offers`` (CSV/XLSX/Parquet), report to ``--report``;
- the registry (default): current needs and offers, proposals stored as a new run (round);
  ``--after RUN`` starts the next round of an earlier run, keeping accepted placements.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["register"]

console = Console()

proposal_app = typer.Typer(
    name="proposal",
    help="Answer match proposals (accept, decline, confirm) and record outcomes.",
    no_args_is_help=True,
)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Registry URL (default: DONGXI_DATABASE_URL or ./dongxi.db)."),
]


def _engine_name(value: str) -> str:
    from dongxi.errors import InputError

    if value not in ("stable", "optimal"):
        raise InputError(
            "unknown engine.", column="--engine", value=value, fix="Use 'stable' or 'optimal'."
        )
    return value


def _show_overall(overall: Any) -> None:
    table = Table(title="match report")
    for column in ("engine", "seekers", "matched", "match_rate", "blocking_pairs", "total_welfare"):
        table.add_column(column)
    for row in overall.to_dict("records"):
        table.add_row(
            str(row["engine"]),
            str(row["seekers"]),
            str(row["matched"]),
            f"{row['match_rate']:.1%}",
            str(row["blocking_pairs"]),
            f"{row['total_welfare']:.2f}",
        )
    console.print(table)


def _research(
    engine: str, seeker_ranks: Path, offer_ranks: Path, capacities: Path, out: Path
) -> None:
    import numpy as np
    import pandas as pd

    from dongxi.market import (
        Matching,
        deferred_acceptance,
        instance_from_rank_lists,
        summarise,
        unmatched_reasons,
        welfare_optimal,
    )
    from dongxi.tables import read_table, write_table

    frames = [read_table(p, as_text=True) for p in (seeker_ranks, offer_ranks, capacities)]
    inst = instance_from_rank_lists(
        *frames, files=(seeker_ranks.name, offer_ranks.name, capacities.name)
    )
    entry = deferred_acceptance(inst) if engine == "stable" else welfare_optimal(inst)
    matching = Matching("stable" if engine == "stable" else "optimal", inst, entry)
    pairs = matching.pairs()
    listed = (
        frames[0]
        .rename(columns=lambda c: str(c).strip().lower())["seeker_id"]
        .astype("string")
        .str.strip()
        .value_counts()
        .reindex(pd.Index(inst.seeker_ids), fill_value=0)
        .to_numpy()
    )
    reasons = unmatched_reasons(inst, entry, engine=engine, listed=np.asarray(listed))
    result = pd.DataFrame(
        {"seeker_id": pairs["seeker_id"], "offer_id": pairs["offer_id"].fillna("")}
    )
    write_table(result, out)
    overall = summarise(matching)["overall"]
    _show_overall(overall)
    unmatched = reasons[reasons != ""]
    if len(unmatched):
        counts = unmatched.value_counts()
        for reason, n in counts.items():
            console.print(f"{n} seeker(s) {reason}")
    console.print(f"wrote {len(result)} rows to {out}")


def _write_report(result: Any, engine: str, folder: Path) -> None:
    from dongxi.tables import write_table

    folder.mkdir(parents=True, exist_ok=True)
    for name, table in result.tables.items():
        write_table(table, folder / f"{name}.csv")
    write_table(result.proposals(engine), folder / "proposals.csv")
    console.print(f"report tables written to {folder}")


def match_command(
    engine: Annotated[
        str, typer.Option(help="stable (deferred acceptance) or optimal.")
    ] = "stable",
    seeker_ranks: Annotated[
        Path | None, typer.Option(help="CSV seeker_id,offer_id,rank (1 = best).")
    ] = None,
    offer_ranks: Annotated[Path | None, typer.Option(help="CSV offer_id,seeker_id,rank.")] = None,
    capacities: Annotated[Path | None, typer.Option(help="CSV offer_id,capacity.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output CSV seeker_id,offer_id.")] = None,
    needs: Annotated[Path | None, typer.Option(help="Seekers (needs) table file.")] = None,
    offers: Annotated[Path | None, typer.Option(help="Offers (job posts) table file.")] = None,
    report: Annotated[Path | None, typer.Option(help="Folder for the report tables.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the tie-break permutation.")] = 2017,
    url: UrlOption = None,
    after: Annotated[
        str | None, typer.Option(help="Run id of the previous round (registry mode).")
    ] = None,
    actor: Annotated[str, typer.Option(help="Who runs the match (kept with the run).")] = "cli",
) -> None:
    """Match seekers' needs with offers (stable or welfare-optimal) and report."""
    from dongxi.errors import InputError

    engine = _engine_name(engine)
    research = [seeker_ranks, offer_ranks, capacities]
    if any(p is not None for p in research):
        if any(p is None for p in research) or out is None:
            raise InputError(
                "rank-list mode needs all of --seeker-ranks, --offer-ranks, --capacities, --out.",
                fix="Give the three input files and the output file.",
            )
        assert seeker_ranks and offer_ranks and capacities
        _research(engine, seeker_ranks, offer_ranks, capacities, out)
        return
    if (needs is None) != (offers is None):
        raise InputError(
            "table mode needs both --needs and --offers.", fix="Give both table files."
        )
    from dongxi.market import run_market

    engines: tuple[Any, ...] = ("stable", "optimal")
    if needs is not None and offers is not None:
        from dongxi.tables import read_table

        seekers_frame = read_table(needs, as_text=True)
        offers_frame = read_table(offers, as_text=True)
        result = run_market(seekers_frame, offers_frame, seed=seed, engines=engines)
        _show_overall(result.tables["overall"])
        if report is not None:
            _write_report(result, engine, report)
        if out is not None:
            from dongxi.tables import write_table

            pairs = result.matchings[engine].pairs()
            write_table(pairs[["seeker_id", "offer_id"]].fillna({"offer_id": ""}), out)
        return
    _registry_round(engine, url=url, seed=seed, after=after, actor=actor, report=report)


def _registry_round(
    engine: str, *, url: str | None, seed: int, after: str | None, actor: str, report: Path | None
) -> None:
    import pandas as pd

    from dongxi.errors import InputError
    from dongxi.market import Matching, rematch, run_market, summarise
    from dongxi.store.db import make_engine
    from dongxi.store.market_models import (
        current_needs,
        current_offers,
        proposal_history,
        record_run,
    )

    db = make_engine(url)
    try:
        needs = current_needs(db)
        offers = current_offers(db)
        if needs.empty or offers.empty:
            raise InputError(
                "the registry holds no current needs or no current job offers.",
                fix="Import needs and offers first (or use --needs/--offers files).",
            )
        result = run_market(needs, offers, seed=seed, engines=(engine,))  # type: ignore[arg-type]
        matching = result.matchings[engine]
        if after is not None:
            history = proposal_history(db, [after])
            if history.empty:
                raise InputError(
                    "the previous run has no proposals.", value=after, fix="Check the run id."
                )
            matching, _ = rematch(result.instance, history, engine=engine)  # type: ignore[arg-type]
            result.matchings[engine] = matching
            result.tables["overall"] = summarise(matching)["overall"]
        pairs = matching.pairs().dropna(subset=["offer_id"])
        if after is not None:
            states = history[["seeker_id", "offer_id", "state"]]
            pairs = pairs.merge(states, how="left", on=["seeker_id", "offer_id"])
            kept = pairs["state"].isin(["accepted", "confirmed", "hired"])
            pairs["state"] = pairs["state"].where(kept, "proposed")
        overall = {str(k): v for k, v in result.tables["overall"].iloc[0].items()}
        overall["offers"] = len(offers)
        tables = {k: v.to_dict("records") for k, v in result.tables.items()}
        run_id = record_run(
            db,
            engine_name=engine,
            kind="job",
            seed=seed,
            actor=actor,
            proposals=pairs,
            overall=overall,
            report=tables,
            parent_run_id=after,
        )
        _show_overall(result.tables["overall"])
        console.print(f"run [bold]{run_id}[/]: {len(pairs)} proposals stored")
        if report is not None:
            report.mkdir(parents=True, exist_ok=True)
            (report / "report.json").write_text(
                json.dumps(tables, ensure_ascii=False, default=str, indent=1), encoding="utf-8"
            )
            pd.DataFrame(pairs).to_csv(report / "proposals.csv", index=False)
        assert isinstance(matching, Matching)
    finally:
        db.dispose()


@proposal_app.command("respond")
def respond_command(
    proposal_id: Annotated[int, typer.Argument(help="The proposal.")],
    state: Annotated[
        str,
        typer.Argument(help="New state: accepted, declined_by_seeker, confirmed, ..."),
    ],
    actor: Annotated[str, typer.Option(help="Who answers (kept with the change).")],
    role: Annotated[str, typer.Option(help="seeker, partner, cadre or system.")],
    note: Annotated[str | None, typer.Option(help="A short note.")] = None,
    url: UrlOption = None,
) -> None:
    """Move a proposal to a new state (checked against the state machine)."""
    from dongxi.store.db import make_engine
    from dongxi.store.market_models import record_transition

    db = make_engine(url)
    try:
        record_transition(db, proposal_id, to_state=state, actor=actor, role=role, note=note)
    finally:
        db.dispose()
    console.print(f"proposal {proposal_id} → {state}")


@proposal_app.command("outcome")
def outcome_command(
    proposal_id: Annotated[int, typer.Argument(help="The confirmed proposal.")],
    hired: Annotated[bool, typer.Option("--hired/--not-hired", help="Was the person hired?")],
    actor: Annotated[str, typer.Option(help="Who records it.")],
    wage: Annotated[float | None, typer.Option(help="Monthly wage (yuan).")] = None,
    retained_3m: Annotated[bool | None, typer.Option("--retained-3m/--left-before-3m")] = None,
    retained_6m: Annotated[bool | None, typer.Option("--retained-6m/--left-before-6m")] = None,
    url: UrlOption = None,
) -> None:
    """Record what a confirmed placement became (hired, wage, retention at 3 and 6 months)."""
    from dongxi.store.db import make_engine
    from dongxi.store.market_models import record_outcome

    db = make_engine(url)
    try:
        record_outcome(
            db,
            proposal_id,
            hired=hired,
            actor=actor,
            monthly_wage=wage,
            retained_3m=retained_3m,
            retained_6m=retained_6m,
        )
    finally:
        db.dispose()
    console.print(f"outcome of proposal {proposal_id} recorded")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the dongxi app."""
    app.command("match")(match_command)
    app.add_typer(proposal_app)
