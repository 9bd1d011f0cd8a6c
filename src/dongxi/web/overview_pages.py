"""Page: the overview of one's scope — households and people by status, income against the
official poverty line with rates, what changed since last year, the last matching round, one's
imports and jobs in progress, and the items waiting for one.

Every figure comes from :mod:`dongxi.services`: the counts from
:mod:`dongxi.services.aggregates` (cells of fewer than ``DONGXI_MIN_CELL`` people suppressed
there, for every role), the rest from the use cases each role may call — a section a role may
not see is left out, never filled with something else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dongxi import vocab
from dongxi.api.deps import DbSession
from dongxi.errors import InputError
from dongxi.services import aggregates, cases, changes, market_reads, notices
from dongxi.services.principal import Principal
from dongxi.web._work import Runner, job_words, percent
from dongxi.web.pages import PagePrincipal, language, render

__all__ = ["WaitingEntry", "WaitingItem", "router", "waiting_notices_and_cases"]

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class WaitingEntry:
    """One thing to act on, linked to its page: a change request, a case, a notice."""

    label: str
    url: str
    late: bool = False


@dataclass(frozen=True)
class WaitingItem:
    """Something waiting for the user: what (in words), how many, where to act (the list's
    page) and the first few of them, each linked to its own page."""

    what: str
    count: int
    url: str
    entries: tuple[WaitingEntry, ...] = ()


#: At most this many entries of one kind are listed on the overview (the count says all).
SHOWN = 10


def waiting_notices_and_cases(db: DbSession, me: Principal, lang: str) -> list[WaitingItem]:
    """The overdue steps of the monitoring cases in one's scope and the public notices
    (两公示一公告) that wait: an open objection to resolve, or a window that ends within
    :data:`dongxi.services.notices.WAITING_WITHIN_DAYS` days (or has ended: close it)."""
    en = lang == "en"
    items: list[WaitingItem] = []
    if me.can("monitor:read"):
        late = cases.overdue_cases(db, me)
        items.append(
            WaitingItem(
                "Monitoring cases with an overdue step" if en else "逾期未办的监测环节",
                len(late),
                "/cases",
                tuple(
                    WaitingEntry(
                        f"{'Case' if en else '案件'} {c.id} · {c.household_code} · "
                        f"{c.state_en if en else c.state_zh} · "
                        f"{'due' if en else '期限'} "
                        f"{min(filter(None, (c.step_due_on, c.final_due_on))).isoformat()}",
                        f"/cases/{c.id}",
                        late=True,
                    )
                    for c in late[:SHOWN]
                ),
            )
        )
    if me.can("notice:read"):
        waiting = notices.waiting_notices(db, me)
        items.append(
            WaitingItem(
                "Notices: objections to resolve, windows closing"
                if en
                else "公示：待处理的异议、即将结束或可结束的公示",
                len(waiting),
                "/notices",
                tuple(_notice_entry(w, en) for w in waiting[:SHOWN]),
            )
        )
    return items


def _what_changes(r: changes.ChangeRequestView, en: bool) -> str:
    """The household's code, or "a member" (a person's key is a keyed hash: never shown)."""
    if r.entity == "households":
        return f"{'household' if en else '农户'} {r.entity_key}"
    return "a member" if en else "家庭成员"


def _notice_entry(w: notices.WaitingNotice, en: bool) -> WaitingEntry:
    n = w.notice
    if w.open_objections:
        why = (
            f"{w.open_objections} open objection(s)" if en else f"{w.open_objections} 条异议待处理"
        )
    elif w.days_left <= 0:
        why = "window over: close it" if en else "公示期已满，可结束"
    else:
        why = f"window ends in {w.days_left} day(s)" if en else f"{w.days_left} 天后公示期满"
    return WaitingEntry(
        f"{'Notice' if en else '公示'} {n.id} · {n.title} · {why}",
        f"/notices/{n.id}",
        late=bool(w.open_objections) and w.days_left <= 0,
    )


def _group_label(group: str, lang: str) -> str:
    status, _, category = group.partition(":")
    table = vocab.HOUSEHOLD_STATUSES if status in vocab.HOUSEHOLD_STATUSES else None
    if table is None and status in vocab.INCOME_POVERTY_GROUPS:
        table = vocab.INCOME_POVERTY_GROUPS
    text = status
    if table is not None:
        text = table[status].en if lang == "en" else table[status].zh
    if category and category in vocab.MONITORING_CATEGORIES:
        label = vocab.MONITORING_CATEGORIES[category]
        text += f" · {label.en if lang == 'en' else label.zh}"
    return text


def _status_rows(table: aggregates.AggregateTable) -> list[dict[str, Any]]:
    rows = [*table.rows, *([table.totals] if table.totals is not None else [])]
    return [
        {
            "division": r.division,
            "total": r.division == aggregates.TOTAL,
            "households": r.households,
            "people": r.people,
        }
        for r in rows
    ]


def _income_rows(table: aggregates.AggregateTable) -> list[dict[str, Any]]:
    out = []
    rows = [*table.rows, *([table.totals] if table.totals is not None else [])]
    for r in rows:
        below_h = r.households.get("below_line", 0)
        below_p = r.people.get("below_line", 0)
        above_p = r.people.get("at_or_above_line", 0)
        known = None if below_p is None or above_p is None else below_p + above_p
        out.append(
            {
                "division": r.division,
                "total": r.division == aggregates.TOTAL,
                "below_h": below_h,
                "below_p": below_p,
                "none_h": r.households.get("no_income", 0),
                "all_h": r.households.get(aggregates.TOTAL),
                "all_p": r.people.get(aggregates.TOTAL),
                "rate": percent(below_p, known),
                "rate_value": None
                if below_p is None or not known
                else round(100 * below_p / known, 2),
            }
        )
    return out


def _changes(db: DbSession, me: Principal, year: int) -> tuple[list[str], list[dict[str, Any]]]:
    """People per status by county at the end of ``year - 1`` and ``year`` and the difference
    (suppressed when either side is)."""
    now = aggregates.household_aggregates(db, me, by="county", year=year)
    before = aggregates.household_aggregates(db, me, by="county", year=year - 1)
    groups = sorted(set(now.groups) | set(before.groups))
    earlier = {r.division: r for r in before.rows}
    out = []
    for r in now.rows:
        old = earlier.get(r.division)
        cells = []
        for g in [*groups, aggregates.TOTAL]:
            a = old.people.get(g, 0) if old is not None else 0
            b = r.people.get(g, 0)
            diff = None if a is None or b is None else b - a
            cells.append({"before": a, "now": b, "diff": diff})
        out.append({"division": r.division, "cells": cells})
    return groups, out


def _last_round(db: DbSession, me: Principal) -> dict[str, Any] | None:
    if not (me.can("market:answer_seeker") or me.can("market:answer_partner")):
        return None
    runs = market_reads.list_match_runs(db, me, limit=200).items
    if not runs:
        return {}
    return max(runs, key=lambda r: (str(r.get("created_at")), int(r.get("round_no") or 0)))


def _waiting(
    db: DbSession, me: Principal, lang: str, last: dict[str, Any] | None
) -> list[WaitingItem]:
    en = lang == "en"
    items: list[WaitingItem] = []
    if me.can("registry:write"):
        to_review = changes.list_requests(db, me).to_review
        items.append(
            WaitingItem(
                "Change requests to approve" if en else "待审批的修改申请",
                len(to_review),
                "/changes",
                tuple(
                    WaitingEntry(
                        f"{'Request' if en else '申请'} {r.id} · {_what_changes(r, en)} · "
                        f"{'by' if en else '提交人'} {r.proposed_by}",
                        f"/changes/{r.id}",
                    )
                    for r in to_review[:SHOWN]
                ),
            )
        )
    if last:
        state = "proposed" if me.can("market:answer_seeker") else "accepted"
        waiting = market_reads.list_proposals(
            db, me, run_id=str(last["run_id"]), state=state, limit=200
        ).items
        items.append(
            WaitingItem(
                ("Proposals to answer" if en else "待答复的岗位推荐")
                if state == "proposed"
                else ("Accepted matches to confirm" if en else "待确认的匹配"),
                len(waiting),
                "/market/answers" if state == "proposed" else "/market/matches",
            )
        )
    items.extend(waiting_notices_and_cases(db, me, lang))
    return items


@router.get("/overview")
def overview(
    request: Request,
    db: DbSession,
    me: PagePrincipal,
    runner: Runner,
    by: str = "county",
    year: int | None = None,
) -> HTMLResponse:
    """The overview of one's scope."""
    lang = language(request)
    if by not in ("county", "township"):
        raise InputError("Aggregates are by county or by township.", column="by", rule="by")
    this_year = year or dt.date.today().year
    if not 2000 <= this_year <= 2100:
        raise InputError("The year is out of range.", column="year", rule="year")
    status = aggregates.household_aggregates(db, me, by=by)
    income = aggregates.income_poverty_aggregates(db, me, by=by)
    change_groups, change_rows = _changes(db, me, this_year)
    last = _last_round(db, me)
    jobs = [
        (j, job_words(j, lang))
        for j in runner.list(db, me, limit=50)
        if j.state in ("queued", "running")
        or (j.kind == "import" and runner.upload_waiting(db, me, j.job_id))
    ]
    return render(
        request,
        "overview.html",
        me=me,
        title="Overview" if lang == "en" else "工作概览",
        by=by,
        year=this_year,
        min_cell=status.min_cell,
        status_groups=[(g, _group_label(g, lang)) for g in status.groups],
        status_rows=_status_rows(status),
        income=income,
        income_rows=_income_rows(income.table),
        change_groups=[(g, _group_label(g, lang)) for g in change_groups],
        change_rows=change_rows,
        last_round=last,
        jobs=jobs,
        waiting=_waiting(db, me, lang, last),
    )
