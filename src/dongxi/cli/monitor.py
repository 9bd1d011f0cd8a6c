"""CLI commands ``dongxi monitor sweep`` and ``dongxi monitor audit`` (防止返贫动态监测).

Both read the registry (``--url``) or a snapshot folder (``--snapshot``) and write an XLSX (the
decisions, the focus groups, what was read) or a CSV with Chinese headers. The command line acts
as the local operator (role ``admin``): its files list the name of each household's head when
read from the registry (snapshots hold no names); the web service's roles without ``pii:reveal``
never see names.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dongxi.cli._present import console, operator

if TYPE_CHECKING:
    from dongxi.services.monitoring import MonitorRun

__all__ = ["register"]

monitor_app = typer.Typer(
    name="monitor",
    help="防止返贫动态监测: the yearly sweep and the audit (rules as data, reasons per decision).",
    no_args_is_help=True,
)

Year = Annotated[int, typer.Option("--year", help="Year of the sweep and of the monitoring line.")]
Out = Annotated[
    Path, typer.Option("--out", help="Output file: .xlsx (several sheets) or .csv (decisions).")
]
Url = Annotated[
    str | None,
    typer.Option("--url", help="Registry URL (default: DONGXI_DATABASE_URL or ./dongxi.db)."),
]
Snapshot = Annotated[
    Path | None,
    typer.Option("--snapshot", help="Read a snapshot folder (from 'dongxi snapshot') instead."),
]
Policy = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Override file (CSV/XLSX: name, scope, value, year, source) with the province's or "
        "county's own monitoring line (name monitoring_line); wins over the built-in figures.",
    ),
]
Rules = Annotated[
    Path | None,
    typer.Option(
        "--rules", help="The office's own rules file (TOML; copy dongxi/monitor/data/rules.toml)."
    ),
]
Region = Annotated[
    str | None,
    typer.Option("--region", help="Only households of this division (code, e.g. 450123)."),
]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Date of the check (YYYY-MM-DD): income over the 12 months before its month. "
        "Default: 1 January after --year (or today, if sooner).",
    ),
]


def _report(run: MonitorRun, what: str, labels: dict[str, str]) -> None:
    out = console()
    out.print(f"[bold]{what}[/] {run.year}: {run.rows} rows → {run.path}", soft_wrap=True)
    out.print(
        f"income {run.window}, monitoring line {run.line:,.0f} yuan ({run.line_status}); "
        f"rules {run.rules}; read from {run.source}",
        soft_wrap=True,
    )
    for code, n in sorted(run.counts.items()):
        out.print(f"  {labels.get(code, code)}: {n}")
    if run.head_names:
        out.print("heads' names are listed (local operator); keep the file safe.")


@monitor_app.command("sweep")
def sweep_command(
    year: Year,
    out: Out,
    url: Url = None,
    snapshot: Snapshot = None,
    policy: Policy = None,
    rules: Rules = None,
    region: Region = None,
    as_of: AsOf = None,
    open_cases: Annotated[
        bool,
        typer.Option(
            "--open-cases",
            help="Also open an identification case (channel cadre_sweep, state 'warning', the "
            "rule's category) for each household the rules include that is not in monitoring "
            "and has no open case; the registry only. Off by default: the sweep only lists.",
        ),
    ] = False,
) -> None:
    """Who the rules put in monitoring, with the rule, category, reasons and kind of help.

    Households in an open identification case count as in monitoring. With --open-cases the
    sweep opens their identification cases (a second run opens nothing twice)."""
    from dongxi.services.monitoring import OUTCOME_LABELS, sweep_monitoring

    run = sweep_monitoring(
        principal=operator(),
        year=year,
        out=out,
        url=url,
        snapshot=snapshot,
        policy=policy,
        rules=rules,
        region=region,
        as_of=as_of,
        open_cases=open_cases,
    )
    _report(run, "监测排查 sweep", OUTCOME_LABELS)
    if open_cases:
        console().print(
            f"识别案件 identification cases opened (cadre_sweep): {len(run.opened)}", soft_wrap=True
        )


@monitor_app.command("audit")
def audit_command(
    year: Year,
    out: Out,
    url: Url = None,
    snapshot: Snapshot = None,
    policy: Policy = None,
    rules: Rules = None,
    region: Region = None,
    as_of: AsOf = None,
) -> None:
    """应纳未纳 and 体外循环: households missed, measures outside the system, exits too early."""
    from dongxi.services.monitoring import FINDING_LABELS, audit_monitoring

    run = audit_monitoring(
        principal=operator(),
        year=year,
        out=out,
        url=url,
        snapshot=snapshot,
        policy=policy,
        rules=rules,
        region=region,
        as_of=as_of,
    )
    _report(run, "监测核查 audit", FINDING_LABELS)


def register(app: typer.Typer) -> None:
    """Add the ``monitor`` command group to the dongxi app."""
    app.add_typer(monitor_app)
