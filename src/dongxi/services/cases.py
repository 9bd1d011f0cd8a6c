"""Use cases: monitoring cases and their procedures (识别纳入、风险消除、脱贫退出).

A case follows one procedure of :mod:`dongxi.monitor.procedures` (the package's file, or the
office's own from ``DONGXI_PROCEDURES_FILE``). Permissions: ``monitor:read`` to list and read
cases, ``monitor:open`` to open one, ``monitor:advance`` to take a step — and the step itself
must list the principal's role in the procedure's file. Scope: a case lies in its household's
village; outside the principal's scope it does not exist (``NotFoundError``).

The notice step: a case reaching the state its procedure ``publishes`` puts the household on the
village's open notice of that kind started that day (or a new one, window
``DONGXI_NOTICE_DAYS``); the case cannot leave that state before the notice is closed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dongxi.errors import ConflictError, InputError
from dongxi.services.principal import Principal

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from dongxi.monitor.procedures import Procedures
    from dongxi.store.case_models import MonitoringCase

__all__ = [
    "CASE_HEADERS",
    "OVERDUE_HEADERS",
    "AlertImport",
    "CaseDetail",
    "CaseView",
    "Step",
    "TransitionView",
    "advance",
    "advance_case",
    "case_detail",
    "cases_table",
    "export_cases",
    "export_overdue",
    "import_department_alerts",
    "list_cases",
    "open_case",
    "overdue_cases",
    "overdue_table",
    "parse_day",
    "procedures",
    "today",
]

_MAX_COMMENT = 500
#: Canonical column → Chinese header of the case list an office downloads.
CASE_HEADERS = {
    "case_id": "案件编号",
    "household_code": "户编号",
    "village": "所在村",
    "procedure": "程序",
    "state": "当前环节",
    "category": "监测类型",
    "channel": "发现渠道",
    "opened_on": "启动日期",
    "state_since": "进入本环节日期",
    "step_due_on": "本环节期限",
    "final_due_on": "办结期限",
    "closed_on": "办结日期",
    "overdue": "是否逾期",
}
#: Canonical column → Chinese header of the overdue list.
OVERDUE_HEADERS = {
    "case_id": "案件编号",
    "household_code": "户编号",
    "village": "所在村",
    "procedure": "程序",
    "state": "当前环节",
    "state_since": "进入本环节日期",
    "step_due_on": "本环节期限",
    "final_due_on": "办结期限",
    "step_days_late": "本环节逾期天数",
    "total_days_late": "整体逾期天数",
    "next_steps": "下一步可办环节",
}


@dataclass(frozen=True)
class Step:
    """A state a case may go to, with its labels."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class TransitionView:
    """One step of a case's history."""

    on_date: dt.date
    at: dt.datetime
    actor: str
    role: str
    from_state: str | None
    to_state: str
    comment: str | None


@dataclass(frozen=True)
class CaseView:
    """A case as shown to a user (``overdue`` as of today)."""

    id: int
    household_code: str
    village_code: str
    procedure: str
    state: str
    state_zh: str
    state_en: str
    category: str | None
    channel: str
    opened_on: dt.date
    state_since: dt.date
    step_due_on: dt.date | None
    final_due_on: dt.date
    closed_on: dt.date | None
    notice_id: int | None
    source: str | None
    row_version: int
    overdue: bool


@dataclass(frozen=True)
class CaseDetail:
    """A case with its history, the procedure's states in order, and the steps the principal
    may take now."""

    case: CaseView
    history: list[TransitionView]
    states: list[Step]
    allowed: list[Step] = field(default_factory=list)
    waiting_for_notice: bool = False


def today() -> dt.date:
    """Today in the configured time zone (``DONGXI_TIMEZONE``)."""
    from dongxi.localtime import user_zone

    return dt.datetime.now(user_zone()).date()


def parse_day(text: str | None, *, option: str) -> dt.date | None:
    """An ISO date (``YYYY-MM-DD``) given as text, or ``None``."""
    if text is None or not str(text).strip():
        return None
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise InputError(
            "Not a date.", column=option, value=text, rule="date",
            fix="Write it as YYYY-MM-DD, e.g. 2026-03-01.",
        ) from None  # fmt: skip


def procedures() -> Procedures:
    """The procedures in force: the office's file (``DONGXI_PROCEDURES_FILE``) or the package's."""
    from dongxi.monitor.procedures import load_procedures
    from dongxi.settings import get_settings

    return load_procedures(get_settings().procedures_file)


def _comment(comment: str | None) -> str | None:
    from dongxi.services.notices import check_free_text

    text = (comment or "").strip()
    if not text:
        return None
    return check_free_text(text, column="comment", limit=_MAX_COMMENT)


def _view(case: MonitoringCase, procs: Procedures, *, as_of: dt.date) -> CaseView:
    proc = procs[case.procedure]
    state = proc.states.get(case.state)
    late = case.closed_on is None and (
        as_of > case.final_due_on or (case.step_due_on is not None and as_of > case.step_due_on)
    )
    return CaseView(
        id=case.id,
        household_code=case.household_code,
        village_code=case.village_code,
        procedure=case.procedure,
        state=case.state,
        state_zh=state.zh if state else case.state,
        state_en=state.en if state else case.state,
        category=case.category,
        channel=case.channel,
        opened_on=case.opened_on,
        state_since=case.state_since,
        step_due_on=case.step_due_on,
        final_due_on=case.final_due_on,
        closed_on=case.closed_on,
        notice_id=case.notice_id,
        source=case.source,
        row_version=case.row_version,
        overdue=late,
    )


def _check_day(day: dt.date, *, not_before: dt.date | None, column: str) -> None:
    if day > today():
        raise InputError(
            "The date is in the future: a step is recorded when it has been done.",
            column=column, value=day.isoformat(), rule="date", fix="Give today or an earlier day.",
        )  # fmt: skip
    if not_before is not None and day < not_before:
        raise InputError(
            "The date is before the case's previous step.",
            column=column, value=day.isoformat(), rule="date",
            fix=f"Give {not_before.isoformat()} or a later day.",
        )  # fmt: skip


def open_case(
    session: Session,
    principal: Principal,
    *,
    household_code: str,
    procedure: str,
    channel: str,
    category: str | None = None,
    opened_on: dt.date | None = None,
    source: str | None = None,
    comment: str | None = None,
) -> CaseView:
    """Open a case for a household in scope, in its procedure's first state.

    Refused (:class:`ConflictError`) when the household already has an open case."""
    principal.require("monitor:open")
    from dongxi import vocab
    from dongxi.monitor.procedures import deadlines
    from dongxi.store import _cases as store
    from dongxi.store._repository import get_household

    for value, table, column in (
        (channel, vocab.DISCOVERY_CHANNELS, "channel"),
        (category, vocab.MONITORING_CATEGORIES, "category"),
    ):
        if value is not None and value not in table:
            raise InputError(
                f"Unknown {column}.", column=column, value=value, rule="vocabulary",
                fix=f"Use one of: {', '.join(table)}.",
            )  # fmt: skip
    procs = procedures()
    proc = procs[procedure]
    household = get_household(session, household_code=household_code, scope=principal.scope)
    if store.households_in_open_cases(session, [household_code]):
        raise ConflictError(
            f"Household {household_code} already has an open monitoring case.",
            fix="Take the next step of that case (dongxi monitor cases lists it).",
        )
    day = opened_on or today()
    _check_day(day, not_before=None, column="opened_on")
    due = deadlines(proc, opened_on=day, state=proc.initial, state_since=day)
    case = store.add_case(
        session,
        actor=principal.actor,
        role=principal.role,
        household_code=household_code,
        village_code=household.village_code,
        procedure=proc.code,
        state=proc.initial,
        channel=channel,
        opened_on=day,
        step_due_on=due.step_due_on,
        final_due_on=due.final_due_on,
        category=category,
        source=source,
        comment=_comment(comment),
    )
    return _view(case, procs, as_of=today())


def list_cases(
    session: Session,
    principal: Principal,
    *,
    state: str | None = None,
    procedure: str | None = None,
    open_only: bool = False,
) -> list[CaseView]:
    """The cases in the principal's scope (oldest first)."""
    principal.require("monitor:read")
    from dongxi.store import _cases as store

    procs = procedures()
    now = today()
    rows = store.list_cases(
        session, scope=principal.scope, state=state, procedure=procedure, open_only=open_only
    )
    return [_view(c, procs, as_of=now) for c in rows]


def overdue_cases(session: Session, principal: Principal) -> list[CaseView]:
    """The open cases in scope whose current step (or whole procedure) is past its deadline
    today, the one late the longest first."""
    late = [c for c in list_cases(session, principal, open_only=True) if c.overdue]
    return sorted(late, key=lambda c: (min(filter(None, (c.step_due_on, c.final_due_on))), c.id))


def _notice_closed(session: Session, case: MonitoringCase) -> bool:
    from dongxi.store._notices import get_notice
    from dongxi.store.scope import Scope

    if case.notice_id is None:
        return False
    notice = get_notice(session, notice_id=case.notice_id, scope=Scope.everything())
    return notice.state == "closed"


def case_detail(session: Session, principal: Principal, *, case_id: int) -> CaseDetail:
    """One case in scope with its history and the steps the principal may take now."""
    principal.require("monitor:read")
    from dongxi.monitor.procedures import allowed_transitions
    from dongxi.store import _cases as store

    procs = procedures()
    case = store.get_case(session, case_id=case_id, scope=principal.scope)
    proc = procs[case.procedure]
    history = [
        TransitionView(
            on_date=t.on_date,
            at=t.at,
            actor=t.actor,
            role=t.role,
            from_state=t.from_state,
            to_state=t.to_state,
            comment=t.comment,
        )
        for t in store.case_history(session, case_id=case.id)
    ]
    states = [Step(s.code, s.zh, s.en) for s in proc.states.values()]
    waiting = case.state == proc.publishes and not _notice_closed(session, case)
    allowed: list[Step] = []
    if principal.can("monitor:advance") and case.closed_on is None and not waiting:
        allowed = [
            Step(code, proc.states[code].zh, proc.states[code].en)
            for code in allowed_transitions(procs, case.procedure, case.state, principal.role)
        ]
    return CaseDetail(
        case=_view(case, procs, as_of=today()),
        history=history,
        states=states,
        allowed=allowed,
        waiting_for_notice=waiting,
    )


def advance(
    session: Session,
    principal: Principal,
    *,
    case_id: int,
    to: str,
    comment: str | None = None,
    on_date: dt.date | None = None,
    expected_version: int | None = None,
) -> CaseView:
    """Take the step to ``to`` (checked against the procedure and the principal's role).

    Reaching the procedure's notice state puts the household on a notice; leaving it needs that
    notice closed (:class:`ConflictError` otherwise)."""
    principal.require("monitor:advance")
    from dongxi.monitor.procedures import check_transition, deadlines
    from dongxi.services.notices import publish_case
    from dongxi.store import _cases as store

    procs = procedures()
    case = store.get_case(session, case_id=case_id, scope=principal.scope)
    proc = procs[case.procedure]
    check_transition(procs, case.procedure, case.state, to, principal.role)
    if case.state == proc.publishes and not _notice_closed(session, case):
        raise ConflictError(
            f"Case {case.id} waits for its public notice to close (notice {case.notice_id}).",
            fix="Close the notice when its window has ended and every objection is resolved.",
        )
    day = on_date or today()
    _check_day(day, not_before=case.state_since, column="on_date")
    due = deadlines(proc, opened_on=case.opened_on, state=to, state_since=day)
    notice_id = None
    if to == proc.publishes:
        assert proc.notice_kind is not None
        notice_id = publish_case(
            session, principal, case_id=case.id, household_code=case.household_code,
            village_code=case.village_code, kind=proc.notice_kind, starts_on=day,
        )  # fmt: skip
    store.move_case(
        session,
        case,
        actor=principal.actor,
        role=principal.role,
        to=to,
        on_date=day,
        step_due_on=due.step_due_on,
        final=proc.is_final(to),
        expected_version=expected_version,
        comment=_comment(comment),
        notice_id=notice_id,
    )
    return _view(case, procs, as_of=today())


def _village_names(codes: list[str]) -> list[str]:
    from dongxi.services.regions import place_name

    return [place_name(c) for c in codes]


def cases_table(
    session: Session, principal: Principal, *, state: str | None = None, open_only: bool = False
) -> pd.DataFrame:
    """The case list with Chinese words (procedure, state, category, channel) and headers."""
    import pandas as pd

    from dongxi import vocab

    rows = list_cases(session, principal, state=state, open_only=open_only)
    frame = pd.DataFrame(
        [
            {
                "case_id": c.id,
                "household_code": c.household_code,
                "village": c.village_code,
                "procedure": vocab.CASE_PROCEDURES.zh.get(c.procedure, c.procedure),
                "state": c.state_zh,
                "category": vocab.MONITORING_CATEGORIES.zh.get(c.category, "")
                if c.category
                else "",
                "channel": vocab.DISCOVERY_CHANNELS.zh.get(c.channel, c.channel),
                "opened_on": c.opened_on.isoformat(),
                "state_since": c.state_since.isoformat(),
                "step_due_on": c.step_due_on.isoformat() if c.step_due_on else "",
                "final_due_on": c.final_due_on.isoformat(),
                "closed_on": c.closed_on.isoformat() if c.closed_on else "",
                "overdue": "是" if c.overdue else "否",
            }
            for c in rows
        ],
        columns=list(CASE_HEADERS),
    )
    frame["village"] = _village_names([str(v) for v in frame["village"]])
    return frame.rename(columns=CASE_HEADERS)


def overdue_table(session: Session, principal: Principal, *, as_of: dt.date) -> pd.DataFrame:
    """The open cases in scope with a step past its deadline as of ``as_of`` (Chinese headers)."""
    import pandas as pd

    from dongxi import vocab
    from dongxi.monitor.procedures import overdue

    principal.require("monitor:read")
    from dongxi.store import _cases as store

    procs = procedures()
    rows = store.list_cases(session, scope=principal.scope, open_only=True)
    villages = {c.id: c.village_code for c in rows}
    cases = pd.DataFrame(
        [
            {
                "case_id": c.id,
                "household_code": c.household_code,
                "procedure": c.procedure,
                "state": c.state,
                "opened_on": c.opened_on,
                "state_since": c.state_since,
            }
            for c in rows
        ],
        columns=["case_id", "household_code", "procedure", "state", "opened_on", "state_since"],
    )
    late = overdue(cases, as_of=as_of, procedures=procs)
    out = pd.DataFrame(
        {
            "case_id": late["case_id"],
            "household_code": late["household_code"],
            "village": _village_names([villages[int(i)] for i in late["case_id"]]),
            "procedure": [vocab.CASE_PROCEDURES.zh.get(p, p) for p in late["procedure"]],
            "state": [
                procs[p].states[s].zh for p, s in zip(late["procedure"], late["state"], strict=True)
            ],
            "state_since": [d.isoformat() for d in late["state_since"]],
            "step_due_on": [d.isoformat() for d in late["step_due_on"]],
            "final_due_on": [d.isoformat() for d in late["final_due_on"]],
            "step_days_late": late["step_days_late"],
            "total_days_late": late["total_days_late"],
            "next_steps": [
                "、".join(procs[p].states[s].zh for s in str(n).split(", ") if s)
                for p, n in zip(late["procedure"], late["next_steps"], strict=True)
            ],
        },
        columns=list(OVERDUE_HEADERS),
    )
    return out.rename(columns=OVERDUE_HEADERS)


def _write(frame: pd.DataFrame, out: Path) -> Path:
    from dongxi.tables import write_table

    return write_table(frame, out, option="--out")


def export_cases(
    *,
    principal: Principal,
    out: Path,
    state: str | None = None,
    open_only: bool = False,
    url: str | None = None,
    engine: Engine | None = None,
) -> tuple[Path, int]:
    """Write the case list (CSV or XLSX, Chinese headers); returns the file and its rows."""
    from dongxi.services._registry import registry
    from dongxi.store.db import session_scope

    with registry(url, engine=engine) as opened, session_scope(opened) as session:
        frame = cases_table(session, principal, state=state, open_only=open_only)
    return _write(frame, out), len(frame)


def export_overdue(
    *,
    principal: Principal,
    out: Path,
    as_of: dt.date,
    url: str | None = None,
    engine: Engine | None = None,
) -> tuple[Path, int]:
    """Write the overdue steps as of ``as_of`` (CSV or XLSX, Chinese headers)."""
    from dongxi.services._registry import registry
    from dongxi.store.db import session_scope

    with registry(url, engine=engine) as opened, session_scope(opened) as session:
        frame = overdue_table(session, principal, as_of=as_of)
    return _write(frame, out), len(frame)


def advance_case(
    *,
    principal: Principal,
    case_id: int,
    to: str,
    comment: str | None = None,
    on_date: dt.date | None = None,
    url: str | None = None,
    engine: Engine | None = None,
) -> CaseView:
    """:func:`advance` in its own transaction on the registry at ``url`` (the command line)."""
    from dongxi.services._registry import registry
    from dongxi.store.db import session_scope

    with registry(url, engine=engine) as opened, session_scope(opened) as session:
        return advance(session, principal, case_id=case_id, to=to, comment=comment, on_date=on_date)


@dataclass(frozen=True)
class AlertImport:
    """What an import of department alerts did: the rows read, the rejected cells (nothing is
    opened when there are any), the cases opened, and the alerts left: households already in an
    open case, and alerts naming no household of the registry in the principal's scope (by row)."""

    rows: int
    errors: list[Any]
    opened: list[int] = field(default_factory=list)
    already_open: list[str] = field(default_factory=list)
    unmatched_rows: list[int] = field(default_factory=list)
    report: Path | None = None


def _iso_day(value: Any) -> str:
    """A date cell as ISO text."""
    return str(value)[:10]


def _alert_source(row: dict[str, Any]) -> str:
    from dongxi import vocab

    parts = [
        vocab.DEPARTMENTS.zh.get(str(row["department"]), str(row["department"])),
        _iso_day(row["alert_date"]),
        str(row["alert_kind"]),
    ]
    amount = row["amount"]
    if amount is not None and amount == amount:  # NaN is not equal to itself
        parts.append(f"{float(amount):,.0f}元")
    return " ".join(parts)[:500]


def import_department_alerts(
    *,
    principal: Principal,
    file: Path,
    report: Path | None = None,
    url: str | None = None,
    engine: Engine | None = None,
) -> AlertImport:
    """Read a department's alert file (CSV/XLSX, Chinese headers: 部门, 户编号 or 身份证号,
    预警日期, 预警类型, 金额(元), 详情), check every cell like any import, and open a case in
    state 'warning' (channel department_alert) for each household named that has no open case.

    All or nothing: with rejected cells nothing is opened (the report, if given, lists them).
    ID numbers are matched by their keyed hash, never decrypted, and never stored here.
    """
    principal.require("monitor:open")
    from dongxi.errors import NotFoundError
    from dongxi.intake.headers import check_header_row, to_canonical
    from dongxi.intake.validate import validate_frame
    from dongxi.outputs import output_file
    from dongxi.pii.protect import get_protector
    from dongxi.services._registry import registry
    from dongxi.services.imports import write_report
    from dongxi.store import _cases as store
    from dongxi.store.db import session_scope
    from dongxi.tables import read_sheets

    if report is not None:
        output_file(report, option="--report", inputs=[file])
    sheets = [s for s in read_sheets(Path(file)) if not s.empty]
    if len(sheets) != 1:
        raise InputError(
            "An alert file holds one table (one sheet with data).", file=Path(file).name,
            rule="sheets", fix="Keep the alerts on one sheet.",
        )  # fmt: skip
    check_header_row(sheets[0].frame)
    frame, headers = to_canonical(sheets[0].frame, "department_alerts")
    for name in ("household_code", "id_number", "amount", "details"):
        if name not in frame.columns:
            frame[name] = None
    checked = validate_frame(
        frame, kind="department_alerts", headers=headers, hasher=get_protector().hash,
        file=Path(file).name,
    )  # fmt: skip
    if checked.errors:
        written = write_report(checked.errors, report, inputs=[file]) if report else None
        return AlertImport(rows=len(frame), errors=list(checked.errors), report=written)
    rows: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in checked.frame.to_dict("records")
    ]
    opened: list[int] = []
    already: list[str] = []
    unmatched: list[int] = []
    with registry(url, engine=engine) as opened_engine, session_scope(opened_engine) as session:
        by_hash = store.households_by_id_hash(
            session, [str(r["id_hash"]) for r in rows if r["id_hash"] is not None]
        )
        seen: set[str] = set()
        for row in rows:
            code = row["household_code"] if isinstance(row["household_code"], str) else None
            if code is None and row["id_hash"] is not None:
                code = by_hash.get(str(row["id_hash"]))
            if code is None:
                unmatched.append(int(row["_row"]))
                continue
            if code in seen:
                continue
            seen.add(code)
            if store.households_in_open_cases(session, [code]):
                already.append(code)
                continue
            try:
                view = open_case(
                    session, principal, household_code=code, procedure="identification",
                    channel="department_alert", source=_alert_source(row),
                )  # fmt: skip
            except NotFoundError:  # not in the registry, or outside the principal's scope
                seen.discard(code)
                unmatched.append(int(row["_row"]))
                continue
            opened.append(view.id)
    return AlertImport(
        rows=len(rows), errors=[], opened=opened, already_open=already, unmatched_rows=unmatched
    )
