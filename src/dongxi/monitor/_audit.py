"""Audits of the monitoring (what an inspection looks for), as pure functions.

- 应纳未纳 (:func:`missed`): households a rule puts in monitoring that are not monitored.
- 体外循环 (:func:`outside_system`): measures for households never identified; exits from
  monitoring without the stability period; monitored households without any measure.

Overdue procedure steps are audited with the cases (``dongxi.monitor.procedures``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from dongxi.errors import InputError
from dongxi.monitor._panel import build_panel, month_index, month_text, span_text
from dongxi.monitor._rules import Rules, load_rules
from dongxi.monitor._sweep import household_facts, yuan

__all__ = ["AUDIT_COLUMNS", "missed", "monitoring_exits", "outside_system"]

#: The columns of an audit's result, in order.
AUDIT_COLUMNS = ("household_code", "village_code", "finding", "reason_zh", "reason_en", "facts")


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in AUDIT_COLUMNS})


def missed(sweep_rows: pd.DataFrame) -> pd.DataFrame:
    """应纳未纳: households a rule includes (outcome ``include``) that are not in monitoring.

    One row per household; its reasons are the included rules' reasons, joined."""
    hit = sweep_rows[
        (sweep_rows["outcome"] == "include") & ~sweep_rows["in_monitoring"].astype(bool)
    ]
    if hit.empty:
        return _empty()
    grouped = hit.groupby("household_code", sort=True)
    out = grouped.agg(
        village_code=("village_code", "first"),
        reason_zh=("reason_zh", "；".join),
        reason_en=("reason_en", "; ".join),
        rules=("rule", ",".join),
        category=("category", "first"),
    ).reset_index()
    out["finding"] = "missed"
    out["reason_zh"] = "符合纳入条件但未纳入监测：" + out["reason_zh"]
    out["reason_en"] = "meets a condition but is not monitored: " + out["reason_en"]
    out["facts"] = (
        out[["rules", "category"]]
        .to_json(orient="records", lines=True, force_ascii=False)
        .rstrip("\n")
        .split("\n")
    )
    return out[list(AUDIT_COLUMNS)]


def monitoring_exits(history: pd.DataFrame) -> pd.DataFrame:
    """Each change of a household from monitored to not monitored: household_code, date."""
    h = history.copy()
    h["household_code"] = h["household_code"].astype(str)
    h["effective_date"] = pd.to_datetime(h["effective_date"])
    h = h.sort_values(["household_code", "effective_date"], kind="stable")
    monitored = h["monitoring_category"].notna() | (h["status"] == "monitored")
    before = monitored.groupby(h["household_code"]).shift(1, fill_value=False).astype(bool)
    exits = h[before & ~monitored]
    return exits[["household_code", "effective_date"]].reset_index(drop=True)


def outside_system(
    households: pd.DataFrame,
    people: pd.DataFrame,
    measures: pd.DataFrame,
    *,
    status_history: pd.DataFrame | None = None,
    income_months: pd.DataFrame | None = None,
    lines: Mapping[int, float] | None = None,
    rules: Rules | None = None,
    open_cases: Iterable[str] | None = None,
) -> pd.DataFrame:
    """体外循环 findings (:data:`AUDIT_COLUMNS`, ``finding`` a code of ``vocab.AUDIT_FINDINGS``).

    - ``unidentified_measure``: a measure for a household that was never identified (status
      'never', no monitoring category, and no entry of its status history with a status other
      than 'never' or with a monitoring category).
    - ``no_measure``: a household in monitoring with no measure in a live status.
    - ``unstable_exit``: a household whose monitoring ended (status history) without income per
      person over 12 months at or above the line of the exit's year at each of the
      ``stable_months`` month-ends before the exit — missing months count against it (no proof).
      Needs ``status_history``, ``income_months`` and ``lines`` (year → monitoring line).
    """
    rules = rules or load_rules()
    facts = household_facts(households, people, rules, open_cases)
    codes = facts.codes
    parts = []
    m = measures.copy()
    m["household_code"] = m["household_code"].astype(object)
    with_hh = m[m["household_code"].notna()]
    pos = codes.get_indexer(pd.Index(with_hh["household_code"].astype(str)))
    ever = (facts.status != "never") | pd.notna(facts.category_now) | facts.in_monitoring
    if status_history is not None and not status_history.empty:
        identified = status_history[
            (status_history["status"] != "never") | status_history["monitoring_category"].notna()
        ]["household_code"].astype(str)
        ever = ever | codes.isin(identified)
    bad = with_hh[(pos >= 0) & ~ever[np.where(pos >= 0, pos, 0)]]
    if len(bad):
        bpos = codes.get_indexer(pd.Index(bad["household_code"].astype(str)))
        parts.append(
            pd.DataFrame(
                {
                    "household_code": bad["household_code"].astype(str).to_numpy(),
                    "village_code": facts.village[bpos],
                    "finding": "unidentified_measure",
                    "reason_zh": "未经识别的一般农户登记了帮扶措施 "
                    + bad["measure_code"].astype(str)
                    + "（"
                    + bad["subtype"].astype(str)
                    + "）",
                    "reason_en": "a measure "
                    + bad["measure_code"].astype(str)
                    + " for a household never identified",
                    "facts": bad[["measure_code", "batch", "status"]]
                    .to_json(orient="records", lines=True, force_ascii=False)
                    .rstrip("\n")
                    .split("\n"),
                }
            )
        )
    live = with_hh[with_hh["status"].isin(rules.exit.live_measure_statuses)]
    has_measure = codes.isin(live["household_code"].astype(str))
    lone = np.flatnonzero(facts.in_monitoring & ~has_measure)
    if len(lone):
        cat = facts.category_now[lone]
        parts.append(
            pd.DataFrame(
                {
                    "household_code": codes[lone],
                    "village_code": facts.village[lone],
                    "finding": "no_measure",
                    "reason_zh": "监测对象没有在实施或已完成的帮扶措施",
                    "reason_en": (
                        "a monitored household has no measure planned, in progress or completed"
                    ),
                    "facts": pd.DataFrame({"monitoring_category": cat})
                    .to_json(orient="records", lines=True, force_ascii=False)
                    .rstrip("\n")
                    .split("\n"),
                }
            )
        )
    if (
        status_history is not None
        and income_months is not None
        and lines is not None
        and not status_history.empty
    ):
        found = _unstable_exits(facts, status_history, income_months, lines, rules)
        if len(found):
            parts.append(found)
    if not parts:
        return _empty()
    return (
        pd.concat(parts, ignore_index=True)
        .sort_values(["household_code", "finding"], kind="stable")
        .reset_index(drop=True)[list(AUDIT_COLUMNS)]
    )


def _unstable_exits(facts, status_history, income_months, lines, rules) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    exits = monitoring_exits(status_history)
    pos = facts.codes.get_indexer(pd.Index(exits["household_code"]))
    exits = exits[pos >= 0].reset_index(drop=True)
    pos = pos[pos >= 0]
    if exits.empty:
        return _empty()
    w, s = rules.window_months, rules.exit.stable_months
    end = np.array([month_index(d.date()) - 1 for d in exits["effective_date"]], dtype=np.int64)
    years = exits["effective_date"].dt.year.to_numpy()
    unknown_years = sorted({int(y) for y in years if int(y) not in lines})
    if unknown_years:
        raise InputError(
            "没有退出年份的监测线 / No monitoring line for the year of an exit.",
            column="lines",
            value=unknown_years,
            rule="monitoring_line",
            fix="Give the monitoring line of each year (policy data or --policy FILE).",
        )
    line = np.array([lines.get(int(y), np.nan) for y in years])
    start = int(end.min()) - (s - 1) - w + 1
    months = int(end.max()) - start + 1
    panel = build_panel(income_months, facts.codes, start, months)
    below = np.zeros(len(exits), dtype=bool)
    gap = np.zeros(len(exits), dtype=bool)
    lowest = np.full(len(exits), np.inf)
    for k in range(s):
        b = end - k - start + 1  # cumulative index after the window's last month
        a = b - w
        got = panel.cumulative["months"][pos, b] - panel.cumulative["months"][pos, a]
        net = panel.cumulative["net_income"][pos, b] - panel.cumulative["net_income"][pos, a]
        size = (
            panel.cumulative["household_size"][pos, b] - panel.cumulative["household_size"][pos, a]
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            pp = net / (size / got)
        done = got == w
        below |= done & (pp < line)
        gap |= ~done
        lowest = np.where(done, np.fmin(lowest, pp), lowest)
    flagged = below | gap
    rows = np.flatnonzero(flagged)
    zh, en = [], []
    for i, low in zip(
        rows, yuan(np.where(np.isfinite(lowest[rows]), lowest[rows], 0)), strict=True
    ):
        when = exits["effective_date"].iloc[i].date().isoformat()
        span = span_text(int(end[i]) - (s - 1) - w + 1, int(end[i]))
        if below[i]:
            zh.append(
                f"{when} 标注风险消除，但此前 {s} 个月中有月末的近 12 个月人均纯收入"
                f"低于监测线 {line[i]:,.0f} 元（最低 {low} 元）"
            )
            en.append(
                f"risk removed on {when} though income per person was below the line "
                f"{line[i]:,.0f} at a month-end of the {s} before (lowest {low})"
            )
        else:
            zh.append(f"{when} 标注风险消除，但 {span} 月收入不全，无法证明 {s} 个月稳定期")
            en.append(
                f"risk removed on {when} without complete monthly income of {span} "
                f"to show {s} stable months"
            )
    facts_json = (
        pd.DataFrame(
            {
                "exit_date": [exits["effective_date"].iloc[i].date().isoformat() for i in rows],
                "last_month": [month_text(int(end[i])) for i in rows],
                "line": line[rows],
                "stable_months": s,
            }
        )
        .to_json(orient="records", lines=True, force_ascii=False)
        .rstrip("\n")
        .split("\n")
        if len(rows)
        else []
    )
    return pd.DataFrame(
        {
            "household_code": facts.codes[pos[rows]],
            "village_code": facts.village[pos[rows]],
            "finding": "unstable_exit",
            "reason_zh": zh,
            "reason_en": en,
            "facts": facts_json,
        },
        columns=list(AUDIT_COLUMNS),
    )
