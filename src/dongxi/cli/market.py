"""CLI commands of the two-sided market: ``dongxi match`` and ``dongxi proposal …``.

``dongxi match`` has three sources of an instance:

- explicit rank lists (research mode): ``--seeker-ranks``, ``--offer-ranks``, ``--capacities``
  and ``--out`` (CSV ``seeker_id,offer_id``; empty ``offer_id`` for the unmatched);
- needs and offers tables: ``--needs`` and ``--offers`` (CSV/XLSX/Parquet), report to ``--report``;
- the registry (default): current needs and offers, proposals stored as a new round (one run
  per kind of offer); ``--after RUN`` starts the next round of an earlier one, keeping accepted
  placements.

Both table and registry modes match every kind of offer present (job posts, training seats,
workshop places), one placement per person per kind; ``--kind`` (repeatable) restricts them.

Each command parses its options, calls one use case of :mod:`dongxi.services.matching` as the
local operator (``--actor`` names it in the registry) and prints the result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dongxi.cli._present import console, new_table

if TYPE_CHECKING:
    from dongxi.services import Principal

__all__ = ["register"]


proposal_app = typer.Typer(
    name="proposal",
    help="Answer match proposals (accept, decline, confirm) and record outcomes.",
    no_args_is_help=True,
)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Registry URL (default: DONGXI_DATABASE_URL or ./dongxi.db)."),
]


def _principal(actor: str | None) -> Principal:
    """The local operator (all rows), named ``actor`` when given."""
    from dongxi.services import Principal

    if actor is None:
        return Principal.local_operator()
    return Principal(name=actor, role="admin")


def _show_overall(overall: Any) -> None:
    """The summary rows (a DataFrame or a list of dicts) as one table."""
    table = new_table("match report")
    rows = overall if isinstance(overall, list) else overall.to_dict("records")
    kinds = any("kind" in row for row in rows)
    columns = ("method", "seekers", "matched", "match_rate", "blocking_pairs", "total_welfare")
    for column in ("kind", *columns) if kinds else columns:
        table.add_column(column)
    for row in rows:
        table.add_row(
            *((str(row.get("kind", "")),) if kinds else ()),
            str(row["method"]),
            str(row["seekers"]),
            str(row["matched"]),
            f"{row['match_rate']:.1%}",
            str(row["blocking_pairs"]),
            f"{row['total_welfare']:.2f}",
        )
    console().print(table)


def _show_placements(placements: Any, *, shown: int = 20) -> None:
    """The round by name: who, where, which offer, and why not for the unmatched."""
    table = new_table(
        f"本轮匹配结果（前 {min(shown, len(placements))} 人，共 {len(placements)} 人）"
    )
    columns = (
        "类型",
        "人员编号",
        "村",
        "县",
        "岗位编号",
        "东部帮扶单位",
        "工作地",
        "月工资(元)",
        "未匹配原因",
    )
    for column in columns:
        table.add_column(column)
    for row in placements.head(shown).to_dict("records"):
        wage = row["月工资(元)"]
        table.add_row(
            *(
                ("" if wage is None or wage != wage else f"{wage:,.0f}")
                if c == "月工资(元)"
                else str(row[c] or "")
                for c in columns
            )
        )
    console().print(table)


def _show_rejected(exc: Any) -> None:
    """Every rejected cell of a needs or offers file: row, column, value, rule, message."""
    table = new_table(f"被拒绝的单元格 / rejected cells ({len(exc.errors)})")
    for name in ("file", "row", "column", "value", "rule", "message"):
        table.add_column(name)
    for e in exc.errors:
        table.add_row(
            e.file or "",
            str(e.row),
            e.column or "",
            e.value or "",
            e.rule,
            f"{e.message_zh}\n{e.message_en}",
        )
    console().print(table)


def _write_tables(tables: dict[str, Any], folder: Path) -> None:
    from dongxi.tables import write_table

    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        write_table(table, folder / f"{name}.csv")
    console().print(f"report tables written to {folder}")


def match_command(
    method: Annotated[
        str, typer.Option(help="stable (deferred acceptance) or optimal (maximum welfare).")
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
    actor: Annotated[
        str | None, typer.Option(help="Who runs the match (default: the system user).")
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            help="Only this kind of offer: job, training or workshop (repeatable; default: all).",
        ),
    ] = None,
) -> None:
    """Match seekers' needs with offers (stable or welfare-optimal) and report."""
    from dongxi.errors import InputError
    from dongxi.services import matching

    principal = _principal(actor)
    research = [seeker_ranks, offer_ranks, capacities]
    if any(p is not None for p in research):
        if seeker_ranks is None or offer_ranks is None or capacities is None or out is None:
            raise InputError(
                "rank-list mode needs all of --seeker-ranks, --offer-ranks, --capacities, --out.",
                fix="Give the three input files and the output file.",
            )
        ranked = matching.match_rank_files(
            principal, seeker_ranks, offer_ranks, capacities, out, method=method
        )
        _show_overall([ranked.overall])
        for (reason, n), zh in zip(ranked.reasons.items(), ranked.reasons_zh, strict=True):
            console().print(f"{n} 人{zh}\n{n} seeker(s) {reason}")
        console().print(f"wrote {ranked.rows} rows to {out}")
        return
    if (needs is None) != (offers is None):
        raise InputError(
            "table mode needs both --needs and --offers.", fix="Give both table files."
        )
    if needs is not None and offers is not None:
        from dongxi.errors import ValidationReportError

        chosen = matching.parse_method(method)
        try:
            results = matching.match_table_kinds(principal, needs, offers, seed=seed, kinds=kind)
        except ValidationReportError as exc:
            _show_rejected(exc)
            raise
        # the method chosen decides what is shown and reported (the comparison keeps both);
        # every table holds the rows of every kind matched, each with its kind
        tables = results.tables(chosen)
        _show_overall(tables["overall"])
        pairs = results.pairs(chosen)
        if report is not None:
            proposals = pairs[pairs["offer_id"].notna()].reset_index(drop=True)
            _write_tables({**tables, "proposals": proposals}, report)
        if out is not None:
            from dongxi.tables import write_table

            columns = ["kind", "seeker_id", "offer_id"]
            write_table(pairs[columns].fillna({"offer_id": ""}), out)
        return
    with matching.open_registry(url) as db:
        round_ = matching.run_round(
            principal, db, method=method, seed=seed, after=after, kinds=kind
        )
    _show_overall(round_.overall)
    for code, run_id in round_.runs.items():
        stored = int((round_.proposals["kind"] == code).sum())
        console().print(
            f"run [bold]{run_id}[/]: round {round_.round_no}, {code}, "
            f"{stored} proposals stored ({round_.kept_of(code)} kept)",
            soft_wrap=True,
        )
    if report is not None:
        report.mkdir(parents=True, exist_ok=True)
        records = {k: v.to_dict("records") for k, v in round_.tables.items()}
        (report / "report.json").write_text(
            json.dumps(records, ensure_ascii=False, default=str, indent=1), encoding="utf-8"
        )
        round_.proposals.to_csv(report / "proposals.csv", index=False)
        if round_.placements is not None:
            from dongxi.tables import write_table

            write_table(round_.placements, report / "placements.xlsx")
    if round_.placements is not None:
        _show_placements(round_.placements)


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
    from dongxi.services import matching

    with matching.open_registry(url) as db:
        matching.answer_proposal(
            _principal(actor), db, proposal_id, to_state=state, side=role, note=note
        )
    console().print(f"proposal {proposal_id} → {state}")


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
    from dongxi.services import matching

    with matching.open_registry(url) as db:
        matching.record_outcome(
            _principal(actor),
            db,
            proposal_id,
            hired=hired,
            monthly_wage=wage,
            retained_3m=retained_3m,
            retained_6m=retained_6m,
        )
    console().print(f"outcome of proposal {proposal_id} recorded")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the dongxi app."""
    app.command("match")(match_command)
    app.add_typer(proposal_app)
