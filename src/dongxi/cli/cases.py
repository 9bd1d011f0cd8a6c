"""CLI commands ``dongxi monitor cases|overdue|advance|open`` and ``dongxi notice …``.

Monitoring cases follow the procedures of ``monitor/data/procedures.toml`` (or the office's file,
``DONGXI_PROCEDURES_FILE``); notices are the public notices (公示) with their objection register.
The command line acts as the local operator (role admin, every row) unless ``--actor`` names
someone. Lists are written as CSV or XLSX with Chinese headers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dongxi.cli._present import console, operator, print_alerts

__all__ = ["register", "register_monitor"]

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Registry URL (default: DONGXI_DATABASE_URL or ./dongxi.db)."),
]
ActorOption = Annotated[
    str | None, typer.Option("--actor", help="Name written in the change log (default: OS user).")
]
OutOption = Annotated[Path, typer.Option("--out", help="Output file (.csv or .xlsx).")]

notice_app = typer.Typer(
    name="notice", help="Public notices (公示) and their objections.", no_args_is_help=True
)


def _cases_command(
    out: OutOption,
    state: Annotated[
        str | None, typer.Option("--state", help="Only cases in this state (e.g. warning).")
    ] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only open cases.")] = False,
    url: UrlOption = None,
) -> None:
    """Write the monitoring cases (state, deadlines, overdue) as CSV or XLSX."""
    from dongxi.services import cases

    path, rows = cases.export_cases(
        principal=operator(), out=out, state=state, open_only=open_only, url=url
    )
    console().print(f"{rows} cases written to {path}")


def _overdue_command(
    out: OutOption,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date of the check, YYYY-MM-DD (default: today).")
    ] = None,
    url: UrlOption = None,
) -> None:
    """Write the open cases with a step past its deadline as of a date."""
    from dongxi.services import cases

    day = cases.parse_day(as_of, option="--as-of") or cases.today()
    path, rows = cases.export_overdue(principal=operator(), out=out, as_of=day, url=url)
    console().print(f"{rows} overdue cases as of {day.isoformat()} written to {path}")


def _advance_command(
    case: Annotated[int, typer.Argument(help="Case number.")],
    to: Annotated[str, typer.Option("--to", help="The state reached (the step done).")],
    comment: Annotated[str | None, typer.Option("--comment", help="What was done.")] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="Day the step was done (default: today).")
    ] = None,
    category: Annotated[
        str | None,
        typer.Option(
            "--category",
            help="Monitoring category decided (unstable_escaped, marginal, sudden_hardship); "
            "needed to record an identification case opened without one.",
        ),
    ] = None,
    actor: ActorOption = None,
    url: UrlOption = None,
) -> None:
    """Record a step of a case (checked against its procedure). Reaching 'recorded' changes the
    household in the registry (in monitoring, out of monitoring, exited)."""
    from dongxi.services import cases

    view = cases.advance_case(
        principal=operator(actor),
        case_id=case,
        to=to,
        comment=comment,
        on_date=cases.parse_day(on, option="--on"),
        category=category,
        url=url,
    )
    due = view.step_due_on.isoformat() if view.step_due_on else "—"
    console().print(f"case {view.id}: {view.state_zh} ({view.state}); next step due {due}")


def _open_command(
    household: Annotated[str, typer.Argument(help="Household code.")],
    procedure: Annotated[
        str, typer.Option("--procedure", help="identification, risk_removal or exit.")
    ] = "identification",
    channel: Annotated[
        str,
        typer.Option(
            "--channel",
            help="self_declaration, cadre_sweep, department_alert or risk_score.",
        ),
    ] = "cadre_sweep",
    category: Annotated[
        str | None,
        typer.Option("--category", help="unstable_escaped, marginal or sudden_hardship."),
    ] = None,
    comment: Annotated[str | None, typer.Option("--comment")] = None,
    actor: ActorOption = None,
    url: UrlOption = None,
) -> None:
    """Open a case for a household (its procedure's first state)."""
    from dongxi.services import accounts, cases

    with accounts.registry_session(url) as session:
        view = cases.open_case(
            session, operator(actor), household_code=household, procedure=procedure,
            channel=channel, category=category, comment=comment,
        )  # fmt: skip
    console().print(f"case {view.id} opened: {view.state_zh}; next step due {view.step_due_on}")


def _alerts_command(
    file: Annotated[Path, typer.Argument(help="The department's alert file (.csv or .xlsx).")],
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the rejected cells here.")
    ] = None,
    actor: ActorOption = None,
    url: UrlOption = None,
) -> None:
    """Import a department's alerts: open a 'warning' case for each household not in a case."""
    from dongxi.services import cases

    outcome = cases.import_department_alerts(
        principal=operator(actor), file=file, report=report, url=url
    )
    if not print_alerts(outcome):
        raise typer.Exit(1)


def _needs_command(
    out: OutOption,
    actor: ActorOption = None,
    url: UrlOption = None,
) -> None:
    """Draft the market's needs of consented development households (case at 'consent' or
    later): one draft per working-age member with labour capacity, kept out of matching. Writes
    every current draft in the needs' import format: the cadres check it, delete what is wrong,
    and 'dongxi import' the file to make the rows stated needs. Safety-net households get none."""
    from dongxi.services.case_needs import export_draft_needs

    run = export_draft_needs(principal=operator(actor), out=out, url=url)
    console().print(
        f"{run.households} consented households: {len(run.drafted)} needs drafted now, "
        f"{len(run.safety_net)} safety-net households (no drafts); "
        f"{run.rows} drafts in {run.path}",
        soft_wrap=True,
    )
    console().print("草拟需求不参与匹配；核实后用 dongxi import 导入即为正式需求。", soft_wrap=True)


def register_monitor(monitor_app: typer.Typer) -> None:
    """Add ``cases``, ``overdue``, ``advance``, ``open``, ``alerts`` and ``needs`` to the
    ``monitor`` group."""
    monitor_app.command("needs")(_needs_command)
    monitor_app.command("alerts")(_alerts_command)
    monitor_app.command("cases")(_cases_command)
    monitor_app.command("overdue")(_overdue_command)
    monitor_app.command("advance")(_advance_command)
    monitor_app.command("open")(_open_command)


@notice_app.command("create")
def create_command(
    kind: Annotated[
        str,
        typer.Option("--kind", help="identification, exit, monitoring_entry or monitoring_exit."),
    ],
    household: Annotated[
        list[str], typer.Option("--household", help="Household code (repeatable).")
    ],
    starts: Annotated[
        str | None, typer.Option("--starts", help="First day (default: today).")
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", help="Window in days (default: DONGXI_NOTICE_DAYS).")
    ] = None,
    actor: ActorOption = None,
    url: UrlOption = None,
) -> None:
    """Create a notice for households of one village."""
    from dongxi.services import accounts, cases, notices

    with accounts.registry_session(url) as session:
        view = notices.create_notice(
            session, operator(actor), kind=kind, household_codes=household,
            starts_on=cases.parse_day(starts, option="--starts"), days=days,
        )  # fmt: skip
    console().print(f"notice {view.id}: {view.title}; objections until {view.ends_on.isoformat()}")


@notice_app.command("show")
def show_command(
    notice: Annotated[int, typer.Argument(help="Notice number.")], url: UrlOption = None
) -> None:
    """Show a notice: households (head's name and village) and objections."""
    from dongxi.cli._present import new_table
    from dongxi.services import accounts, notices, regions

    with accounts.registry_session(url) as session:
        detail = notices.notice_detail(session, operator(), notice_id=notice, via="cli")
    n = detail.notice
    out = console()
    out.print(f"notice {n.id} · {n.title} · {n.state} · {n.starts_on} .. {n.ends_on}")
    table = new_table("households")
    for header in ("户编号", "户主姓名", "所在村"):
        table.add_column(header)
    for h in detail.households:
        table.add_row(h.household_code, h.head_name, regions.place_name(h.village_code))
    out.print(table)
    for o in detail.objections:
        line = f"objection {o.id} ({o.state}) {o.raised_on} by {o.raised_by}: {o.text}"
        if o.resolution:
            line += f" → {o.resolution} ({o.resolved_on})"
        out.print(line, markup=False)


@notice_app.command("object")
def object_command(
    notice: Annotated[int, typer.Argument(help="Notice number.")],
    by: Annotated[str, typer.Option("--by", help="Who raised it, in words (no ID number).")],
    text: Annotated[str, typer.Option("--text", help="What was said.")],
    household: Annotated[
        str | None, typer.Option("--household", help="The household it concerns.")
    ] = None,
    actor: ActorOption = None,
    url: UrlOption = None,
) -> None:
    """Record an objection to an open notice."""
    from dongxi.services import accounts, notices

    with accounts.registry_session(url) as session:
        view = notices.object_to(
            session, operator(actor), notice_id=notice, raised_by=by, text=text,
            household_code=household,
        )  # fmt: skip
    console().print(f"objection {view.id} recorded on notice {notice}")


@notice_app.command("resolve")
def resolve_command(
    notice: Annotated[int, typer.Argument(help="Notice number.")],
    objection: Annotated[int, typer.Option("--objection", help="Objection number.")],
    resolution: Annotated[str, typer.Option("--resolution", help="How it was resolved.")],
    actor: ActorOption = None,
    url: UrlOption = None,
) -> None:
    """Record the resolution of an objection."""
    from dongxi.services import accounts, notices

    with accounts.registry_session(url) as session:
        notices.resolve_objection(
            session, operator(actor), notice_id=notice, objection_id=objection,
            resolution=resolution,
        )  # fmt: skip
    console().print(f"objection {objection} resolved")


@notice_app.command("close")
def close_command(
    notice: Annotated[int, typer.Argument(help="Notice number.")],
    actor: ActorOption = None,
    url: UrlOption = None,
) -> None:
    """Close a notice (refused before its window ends or while an objection is open)."""
    from dongxi.services import accounts, notices

    with accounts.registry_session(url) as session:
        view = notices.close_notice(session, operator(actor), notice_id=notice)
    console().print(f"notice {view.id} closed on {view.closed_on}")


@notice_app.command("print")
def print_command(
    notice: Annotated[int, typer.Argument(help="Notice number.")],
    out: OutOption,
    url: UrlOption = None,
) -> None:
    """Write the notice's list for the village board (head's name and village only)."""
    from dongxi.services import accounts, notices

    with accounts.registry_session(url) as session:
        path, rows = notices.write_notice_list(session, operator(), notice_id=notice, out=out)
    console().print(f"{rows} households written to {path}")


def register(app: typer.Typer) -> None:
    """Add ``notice`` to the main app."""
    app.add_typer(notice_app)
