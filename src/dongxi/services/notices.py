"""Use cases: public notices (两公示一公告) and their objections.

A decision the rules require to be published (identification, exit, entering or leaving
monitoring: :data:`dongxi.vocab.NOTICE_KINDS`) is put on a notice of the household's village with
a window (``DONGXI_NOTICE_DAYS`` days by default). A case reaching its procedure's notice step
does so by itself (:func:`publish_case`); an officer may also create a notice for a list of
households (:func:`create_notice`). During the window anyone may object; an officer records the
objection (who raised it, in free text: never an ID number; when; what) and later its
resolution. A notice closes when its window has ended and no objection is open.

What a notice shows of a household is what the village board shows: the head's name and the
village (the 2018 State Council rule on publishing poverty information: no ID number, income,
cause or health). Showing it is an audited read (change log action ``read``).

Permissions: ``notice:read`` to list and read, ``notice:manage`` to create, record and resolve
objections, and close. Scope: a notice lies in its village.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dongxi.errors import ConflictError, InputError
from dongxi.services.principal import Principal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dongxi.store.case_models import Notice, NoticeObjection

__all__ = [
    "NOTICE_LIST_HEADERS",
    "NoticeDetail",
    "NoticeEntry",
    "NoticeView",
    "ObjectionView",
    "WaitingNotice",
    "check_free_text",
    "close_notice",
    "create_notice",
    "list_notices",
    "notice_detail",
    "notice_list_table",
    "object_to",
    "publish_case",
    "resolve_objection",
    "waiting_notices",
    "write_notice_list",
]

_ID_LIKE = re.compile(r"[0-9]{17}[0-9Xx]")
_MAX_TEXT = 1000


@dataclass(frozen=True)
class NoticeView:
    """A notice as listed."""

    id: int
    kind: str
    village_code: str
    title: str
    starts_on: dt.date
    ends_on: dt.date
    state: str
    closed_on: dt.date | None
    row_version: int


@dataclass(frozen=True)
class NoticeEntry:
    """A household as the notice shows it: code, head's name, village; nothing else."""

    household_code: str
    head_name: str
    village_code: str


@dataclass(frozen=True)
class ObjectionView:
    """An objection and its resolution."""

    id: int
    household_code: str | None
    raised_by: str
    raised_on: dt.date
    text: str
    state: str
    resolution: str | None
    resolved_on: dt.date | None
    resolved_by: str | None


@dataclass(frozen=True)
class NoticeDetail:
    """A notice with its households and its objection register; ``can_close`` says whether it
    may be closed today (and ``close_blocker`` why not)."""

    notice: NoticeView
    households: list[NoticeEntry]
    objections: list[ObjectionView] = field(default_factory=list)
    can_close: bool = False
    close_blocker: str | None = None


@dataclass(frozen=True)
class WaitingNotice:
    """An open notice that needs an officer soon: ``days_left`` until its window ends (0 or
    less: over, it may be closed) and how many objections are still open."""

    notice: NoticeView
    days_left: int
    open_objections: int


#: A notice is "waiting" when its window ends within this many days (or has ended).
WAITING_WITHIN_DAYS = 3


def check_free_text(text: str, *, column: str, limit: int = _MAX_TEXT) -> str:
    """Free text as given (trimmed), refused when empty, too long or holding an ID number."""
    from dongxi.pii.idnumber import is_valid_id

    value = text.strip()
    if not value:
        raise InputError(
            "The text is empty.", column=column, rule="required", fix="Write what was said."
        )
    if len(value) > limit:
        raise InputError(
            f"The text is longer than {limit} characters.", column=column, rule="length",
            fix="Shorten it.",
        )  # fmt: skip
    if any(is_valid_id(m.upper()) for m in _ID_LIKE.findall(value)):
        raise InputError(
            "The text holds an ID number.", column=column, rule="no_id_number",
            fix="Name the person in words (e.g. 'a villager of group 3'); never an ID number.",
        )  # fmt: skip
    return value


def _view(n: Notice) -> NoticeView:
    return NoticeView(
        id=n.id,
        kind=n.kind,
        village_code=n.village_code,
        title=n.title,
        starts_on=n.starts_on,
        ends_on=n.ends_on,
        state=n.state,
        closed_on=n.closed_on,
        row_version=n.row_version,
    )


def _objection(o: NoticeObjection) -> ObjectionView:
    return ObjectionView(
        id=o.id,
        household_code=o.household_code,
        raised_by=o.raised_by,
        raised_on=o.raised_on,
        text=o.text,
        state=o.state,
        resolution=o.resolution,
        resolved_on=o.resolved_on,
        resolved_by=o.resolved_by,
    )


def _title(kind: str, village_code: str, starts_on: dt.date) -> str:
    from dongxi import vocab
    from dongxi.services.regions import place_name

    return f"{place_name(village_code)}{vocab.NOTICE_KINDS.zh[kind]}公示（{starts_on.isoformat()}）"


def _window(starts_on: dt.date, days: int | None) -> dt.date:
    from dongxi.settings import get_settings

    length = get_settings().notice_days if days is None else days
    if not 1 <= length <= 60:
        raise InputError(
            "A notice's window is 1 to 60 days.", column="days", value=str(length),
            rule="range", fix="The rules ask for at least 7 days (DONGXI_NOTICE_DAYS).",
        )  # fmt: skip
    return starts_on + dt.timedelta(days=length)


def publish_case(
    session: Session,
    principal: Principal,
    *,
    case_id: int,
    household_code: str,
    village_code: str,
    kind: str,
    starts_on: dt.date,
) -> int:
    """Put a case's household on the village's open notice of ``kind`` started on ``starts_on``
    (a new notice when there is none); returns the notice's number."""
    principal.require("notice:manage")
    from dongxi.store import _notices as store

    notice = store.find_open_notice(
        session, village_code=village_code, kind=kind, starts_on=starts_on
    )
    if notice is None:
        notice = store.add_notice(
            session,
            actor=principal.actor,
            kind=kind,
            village_code=village_code,
            title=_title(kind, village_code, starts_on),
            starts_on=starts_on,
            ends_on=_window(starts_on, None),
        )
    store.add_notice_household(
        session, notice, actor=principal.actor, household_code=household_code, case_id=case_id
    )
    return notice.id


def create_notice(
    session: Session,
    principal: Principal,
    *,
    kind: str,
    household_codes: list[str],
    starts_on: dt.date | None = None,
    days: int | None = None,
    title: str | None = None,
) -> NoticeView:
    """A notice for households of one village in scope (the village of the first household;
    all must share it). ``starts_on`` may be up to 30 days back (a notice posted on the board
    before it was entered here), never in the future."""
    principal.require("notice:manage")
    from dongxi import vocab
    from dongxi.services.cases import today
    from dongxi.store import _notices as store
    from dongxi.store._repository import get_household

    if kind not in vocab.NOTICE_KINDS:
        raise InputError(
            "Unknown kind of notice.", column="kind", value=kind, rule="vocabulary",
            fix=f"Use one of: {', '.join(vocab.NOTICE_KINDS)}.",
        )  # fmt: skip
    codes = list(dict.fromkeys(c.strip() for c in household_codes if c.strip()))
    if not codes:
        raise InputError(
            "A notice needs at least one household.", column="households", rule="required",
            fix="Give the household codes, one per line or separated by commas.",
        )  # fmt: skip
    if len(codes) > 500:
        raise InputError(
            "A notice holds at most 500 households.", column="households", rule="length",
            fix="Split the list into several notices.",
        )  # fmt: skip
    now = today()
    day = starts_on or now
    if day > now or (now - day).days > 30:
        raise InputError(
            "A notice starts today or up to 30 days back.", column="starts_on",
            value=day.isoformat(), rule="date", fix="Give the day the notice was posted.",
        )  # fmt: skip
    villages = {
        code: get_household(session, household_code=code, scope=principal.scope).village_code
        for code in codes
    }
    village = villages[codes[0]]
    other = [c for c in codes if villages[c] != village]
    if other:
        raise InputError(
            "A notice is posted in one village; these households live in another.",
            column="households", value=", ".join(other[:5]), rule="one_village",
            fix="Make one notice per village.",
        )  # fmt: skip
    heading = (
        check_free_text(title, column="title", limit=200)
        if title and title.strip()
        else _title(kind, village, day)
    )
    notice = store.add_notice(
        session,
        actor=principal.actor,
        kind=kind,
        village_code=village,
        title=heading,
        starts_on=day,
        ends_on=_window(day, days),
    )
    for code in codes:
        store.add_notice_household(
            session, notice, actor=principal.actor, household_code=code, case_id=None
        )
    return _view(notice)


def list_notices(
    session: Session, principal: Principal, *, state: str | None = None
) -> list[NoticeView]:
    """The notices in scope, newest first."""
    principal.require("notice:read")
    from dongxi import vocab
    from dongxi.store import _notices as store

    if state is not None and state not in vocab.NOTICE_STATES:
        raise InputError(
            "Unknown notice state.", column="state", value=state, rule="vocabulary",
            fix=f"Use one of: {', '.join(vocab.NOTICE_STATES)}.",
        )  # fmt: skip
    return [_view(n) for n in store.list_notices(session, scope=principal.scope, state=state)]


def waiting_notices(
    session: Session, principal: Principal, *, within_days: int = WAITING_WITHIN_DAYS
) -> list[WaitingNotice]:
    """The open notices in scope that wait for an officer: those with an open objection (to
    record its resolution) and those whose objection window ends within ``within_days`` days
    or has ended (to close them). Soonest first. Reads no household."""
    principal.require("notice:read")
    from dongxi.services.cases import today
    from dongxi.store import _notices as store

    if not 0 <= within_days <= 60:
        raise InputError(
            "Days ahead must be 0 to 60.", column="within_days", value=str(within_days),
            rule="range", fix="Give a number of days from 0 to 60.",
        )  # fmt: skip
    now = today()
    counts = store.open_objection_counts(session, scope=principal.scope)
    out = []
    for n in store.list_notices(session, scope=principal.scope, state="open"):
        left = (n.ends_on - now).days
        open_objections = counts.get(n.id, 0)
        if open_objections or left <= within_days:
            out.append(WaitingNotice(_view(n), left, open_objections))
    return sorted(out, key=lambda w: (w.days_left, w.notice.id))


def _blocker(notice: Notice, objections: list[ObjectionView], now: dt.date) -> str | None:
    if notice.state != "open":
        return "closed"
    if any(o.state == "open" for o in objections):
        return "open_objection"
    if now < notice.ends_on:
        return "window"
    return None


def notice_detail(
    session: Session, principal: Principal, *, notice_id: int, via: str = "api"
) -> NoticeDetail:
    """A notice in scope with its households (head's name and village only) and objections;
    an audited read."""
    principal.require("notice:read")
    from dongxi.services.cases import today
    from dongxi.store import _notices as store
    from dongxi.store._changelog import record_change

    notice = store.get_notice(session, notice_id=notice_id, scope=principal.scope)
    rows = store.notice_households(session, notice_id=notice.id)
    heads = store.household_heads(session, [r.household_code for r in rows])
    households = [
        NoticeEntry(r.household_code, heads.get(r.household_code, "—"), notice.village_code)
        for r in rows
    ]
    objections = [_objection(o) for o in store.objections(session, notice_id=notice.id)]
    record_change(
        session.connection(),
        actor=principal.actor,
        action="read",
        entity="notices",
        key=str(notice.id),
        after={"via": f"{via}:notice:{notice.id}"},
    )
    blocker = _blocker(notice, objections, today())
    return NoticeDetail(
        notice=_view(notice),
        households=households,
        objections=objections,
        can_close=blocker is None and principal.can("notice:manage"),
        close_blocker=blocker,
    )


def object_to(
    session: Session,
    principal: Principal,
    *,
    notice_id: int,
    raised_by: str,
    text: str,
    raised_on: dt.date | None = None,
    household_code: str | None = None,
) -> ObjectionView:
    """Record an objection to an open notice (who raised it in words, never an ID number)."""
    principal.require("notice:manage")
    from dongxi.services.cases import today
    from dongxi.store import _notices as store

    notice = store.get_notice(session, notice_id=notice_id, scope=principal.scope)
    who = check_free_text(raised_by, column="raised_by", limit=100)
    what = check_free_text(text, column="text")
    day = raised_on or today()
    if day > today() or day < notice.starts_on:
        raise InputError(
            "An objection is raised between the notice's first day and today.",
            column="raised_on", value=day.isoformat(), rule="date",
            fix=f"Give a day from {notice.starts_on.isoformat()} to today.",
        )  # fmt: skip
    code = (household_code or "").strip() or None
    if code is not None:
        listed = {r.household_code for r in store.notice_households(session, notice_id=notice.id)}
        if code not in listed:
            raise InputError(
                "That household is not on this notice.", column="household_code", value=code,
                rule="on_notice", fix="Leave it empty, or pick a household of the notice.",
            )  # fmt: skip
    objection = store.add_objection(
        session, notice, actor=principal.actor, raised_by=who, raised_on=day, text=what,
        household_code=code,
    )  # fmt: skip
    return _objection(objection)


def resolve_objection(
    session: Session,
    principal: Principal,
    *,
    notice_id: int,
    objection_id: int,
    resolution: str,
    resolved_on: dt.date | None = None,
) -> ObjectionView:
    """Record how an open objection was resolved."""
    principal.require("notice:manage")
    from dongxi.services.cases import today
    from dongxi.store import _notices as store

    notice = store.get_notice(session, notice_id=notice_id, scope=principal.scope)
    objection = store.get_objection(session, notice=notice, objection_id=objection_id)
    day = resolved_on or today()
    if day > today() or day < objection.raised_on:
        raise InputError(
            "An objection is resolved between the day it was raised and today.",
            column="resolved_on", value=day.isoformat(), rule="date",
            fix=f"Give a day from {objection.raised_on.isoformat()} to today.",
        )  # fmt: skip
    done = store.resolve_objection(
        session, notice, objection, actor=principal.actor, resolved_by=principal.name,
        resolution=check_free_text(resolution, column="resolution"), resolved_on=day,
    )  # fmt: skip
    return _objection(done)


def close_notice(session: Session, principal: Principal, *, notice_id: int) -> NoticeView:
    """Close a notice whose window has ended; refused while an objection is open
    (:class:`ConflictError`)."""
    principal.require("notice:manage")
    from dongxi.services.cases import today
    from dongxi.store import _notices as store

    notice = store.get_notice(session, notice_id=notice_id, scope=principal.scope)
    now = today()
    if notice.state == "open" and now < notice.ends_on:
        raise ConflictError(
            f"Notice {notice.id} is open for objections until {notice.ends_on.isoformat()}.",
            fix="Close it when its window has ended.",
        )
    return _view(store.close_notice(session, notice, actor=principal.actor, closed_on=now))


#: Columns of the printable list of a notice (the village board's): masked, nothing else.
NOTICE_LIST_HEADERS = {"no": "序号", "household_code": "户编号", "head_name": "户主姓名",
                       "village": "所在村"}  # fmt: skip


def notice_list_table(detail: NoticeDetail) -> Any:
    """The printable list of a notice as a table (Chinese headers): number, household code, the
    head's name and the village; never an ID number, income, cause or health."""
    import pandas as pd

    from dongxi.services.regions import place_name

    return pd.DataFrame(
        [
            {
                "序号": i,
                "户编号": h.household_code,
                "户主姓名": h.head_name,
                "所在村": place_name(h.village_code),
            }
            for i, h in enumerate(detail.households, start=1)
        ],
        columns=list(NOTICE_LIST_HEADERS.values()),
    )


def write_notice_list(
    session: Session, principal: Principal, *, notice_id: int, out: Path
) -> tuple[Path, int]:
    """Write a notice's printable list (CSV or XLSX); an audited read."""
    from dongxi.tables import write_table

    detail = notice_detail(session, principal, notice_id=notice_id, via="cli")
    frame = notice_list_table(detail)
    return write_table(frame, out, option="--out"), len(frame)
