"""Use cases: monitoring cases and their procedures (识别纳入、风险消除、脱贫退出).

A case follows one procedure of :mod:`dongxi.monitor.procedures` (the package's file, or the
office's own from ``DONGXI_PROCEDURES_FILE``). Permissions: ``monitor:read`` to list and read
cases, ``monitor:open`` to open one, ``monitor:advance`` to take a step — and the step itself
must list the principal's role in the procedure's file. Scope: a case lies in its household's
village; outside the principal's scope it does not exist (``NotFoundError``).

Recording changes the registry: a case reaching the state ``recorded`` (:data:`RECORDED`) changes
its household in the same transaction as the step, through the store's repository functions
(change-log entry, status-history entry dated by the decision, ``row_version`` checked):
identification sets ``status = monitored`` and the case's ``monitoring_category``; risk removal
(风险消除) clears the category and gives back the status the household had before monitoring;
exit (脱贫) sets ``status = escaped`` and ``year_exited``. A household that moved to another
village, changed status meanwhile (already monitored, no longer monitored, already exited) or
changed since the caller read it (``household_version``) is a :class:`ConflictError` and nothing
is recorded.

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
    "RECORDED",
    "AlertImport",
    "Candidate",
    "CaseDetail",
    "CaseView",
    "OpenedCases",
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
    "open_identification_households",
    "open_identifications",
    "overdue_cases",
    "overdue_table",
    "parse_day",
    "procedures",
    "today",
]

_MAX_COMMENT = 500
#: The state whose reaching writes the case's outcome into the registry (every procedure).
RECORDED = "recorded"
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
    from dongxi.monitor.procedures import deadlines
    from dongxi.store import _cases as store
    from dongxi.store._repository import get_household

    _check_vocab(channel, "channel")
    if category is not None:
        _check_vocab(category, "category")
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
    category: str | None = None,
    household_version: int | None = None,
) -> CaseView:
    """Take the step to ``to`` (checked against the procedure and the principal's role).

    Reaching the procedure's notice state puts the household on a notice; leaving it needs that
    notice closed (:class:`ConflictError` otherwise). ``category`` sets (or corrects) the case's
    monitoring category; an identification case must have one when it is recorded. Reaching
    :data:`RECORDED` changes the household (see the module); ``household_version`` is the
    household's ``row_version`` the caller saw (a stale one is :class:`ConflictError`)."""
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
    if category is not None:
        _check_vocab(category, "category")
    change: _RegistryChange | None = None
    if to == RECORDED:
        change = _registry_change(
            session, principal, case, category=category or case.category,
            household_version=household_version,
        )  # fmt: skip
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
        category=category,
    )
    if change is not None:
        from dongxi.store._repository import update_household

        update_household(
            session,
            actor=principal.actor,
            household_code=case.household_code,
            changes=change.changes,
            expected_version=household_version,
            effective_date=change.effective_date,
            reason=change.reason,
        )
    return _view(case, procs, as_of=today())


@dataclass(frozen=True)
class _RegistryChange:
    """What recording a case writes into its household."""

    changes: dict[str, Any]
    effective_date: dt.date
    reason: str


def _check_vocab(value: str, column: str) -> None:
    from dongxi import vocab

    table = {"channel": vocab.DISCOVERY_CHANNELS, "category": vocab.MONITORING_CATEGORIES}[column]
    if value not in table:
        raise InputError(
            f"Unknown {column}.", column=column, value=value, rule="vocabulary",
            fix=f"Use one of: {', '.join(table)}.",
        )  # fmt: skip


def _registry_change(
    session: Session,
    principal: Principal,
    case: MonitoringCase,
    *,
    category: str | None,
    household_version: int | None,
) -> _RegistryChange:
    """The household's change when ``case`` is recorded, checked against the household now.

    Dated by the decision: the day the case entered the state it leaves (the county decision)."""
    from dongxi import vocab
    from dongxi.store import _cases as store
    from dongxi.store._repository import get_household

    household = get_household(session, household_code=case.household_code, scope=principal.scope)
    code = case.household_code
    if household_version is not None and household.row_version != household_version:
        raise ConflictError(
            f"Household {code} was changed since you read it (version {household_version}, "
            f"now {household.row_version}).",
            fix="Reload the household and the case, check the change and record again.",
        )
    if household.village_code != case.village_code:
        raise ConflictError(
            f"Household {code} moved to another village since case {case.id} was opened.",
            fix="Check the household's record; close this case and open one in its new village.",
        )
    decided = case.state_since
    reason = (
        f"{vocab.CASE_PROCEDURES.zh[case.procedure]}（案件{case.id}，{decided.isoformat()}）"
        f" / {vocab.CASE_PROCEDURES.en[case.procedure]} (case {case.id})"
    )
    status = household.status
    if case.procedure == "identification":
        if category is None:
            raise InputError(
                f"Case {case.id} has no monitoring category: recording it needs one.",
                column="category", rule="required",
                fix="Give the category decided (--category unstable_escaped, marginal or "
                "sudden_hardship).",
            )  # fmt: skip
        if status == "monitored":
            raise ConflictError(
                f"Household {code} is already in monitoring ({household.monitoring_category}).",
                fix="Check the household's record: it entered monitoring by another decision.",
            )
        changes: dict[str, Any] = {"status": "monitored", "monitoring_category": category}
    elif case.procedure == "risk_removal":
        if status != "monitored":
            raise ConflictError(
                f"Household {code} is not in monitoring (status {status}): no risk to remove.",
                fix="Check the household's record: its monitoring ended by another decision.",
            )
        before = store.status_before_monitoring(session, household_code=code)
        if before is None:
            before = "escaped" if household.year_registered is not None else "never"
        changes = {"status": before, "monitoring_category": None}
    else:  # exit (脱贫)
        if status in ("monitored", "escaped"):
            raise ConflictError(
                f"Household {code} cannot exit poverty from status {status}.",
                fix="A monitored household leaves monitoring by risk removal (风险消除); an "
                "exited one has exited already.",
            )
        changes = {"status": "escaped", "monitoring_category": None, "year_exited": decided.year}
    return _RegistryChange(changes=changes, effective_date=decided, reason=reason)


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
    category: str | None = None,
    url: str | None = None,
    engine: Engine | None = None,
) -> CaseView:
    """:func:`advance` in its own transaction on the registry at ``url`` (the command line)."""
    from dongxi.services._registry import registry
    from dongxi.store.db import session_scope

    with registry(url, engine=engine) as opened, session_scope(opened) as session:
        return advance(
            session, principal, case_id=case_id, to=to, comment=comment, on_date=on_date,
            category=category,
        )  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """A household a sweep or the risk score puts forward for identification."""

    household_code: str
    category: str | None
    source: str


@dataclass(frozen=True)
class OpenedCases:
    """What opening identification cases for candidates did: the cases opened (case id per
    household) and the households skipped because they are in monitoring or in an open case."""

    opened: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def open_identifications(
    session: Session, principal: Principal, candidates: list[Candidate], *, channel: str
) -> OpenedCases:
    """Open an identification case in its first state (``warning``) for each candidate that is
    neither in monitoring (status 'monitored') nor in an open case of any procedure — so a second
    run opens nothing twice. Each case is logged like any other (change log, action 'open'),
    and the run once more (action 'open_batch': candidates, opened, skipped)."""
    principal.require("monitor:open")
    from dongxi.store import _cases as store
    from dongxi.store._repository import get_household

    codes = list(dict.fromkeys(c.household_code for c in candidates))
    busy = store.households_in_open_cases(session, codes)
    out = OpenedCases()
    for cand in candidates:
        code = cand.household_code
        if code in out.opened or code in out.skipped:
            continue
        household = get_household(session, household_code=code, scope=principal.scope)
        if code in busy or household.status == "monitored":
            out.skipped.append(code)
            continue
        view = open_case(
            session, principal, household_code=code, procedure="identification",
            channel=channel, category=cand.category, source=cand.source[:500],
        )  # fmt: skip
        out.opened[code] = view.id
    store.log_batch_opening(
        session, actor=principal.actor, channel=channel, candidates=len(codes),
        opened=list(out.opened.values()), skipped=len(out.skipped),
    )  # fmt: skip
    return out


def open_identification_households(
    *, principal: Principal, url: str | None = None, engine: Engine | None = None
) -> set[str]:
    """The households in the principal's scope with an open identification case."""
    principal.require("monitor:read")
    from dongxi.services._registry import registry
    from dongxi.store import _cases as store
    from dongxi.store.db import session_scope

    with registry(url, engine=engine) as opened, session_scope(opened) as session:
        return store.open_case_households(
            session, scope=principal.scope, procedure="identification"
        )


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
