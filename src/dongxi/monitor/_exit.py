"""Exit: risk removal for monitored households (风险消除), household exit from poverty (脱贫),
village and county exit (贫困村、贫困县退出), and the transition period (过渡期) as data.

Vectorised like the sweep: every condition is an array over households; texts are written only
for the households in the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from dongxi import vocab
from dongxi.errors import InputError
from dongxi.monitor._panel import span_text
from dongxi.monitor._rules import Rules, load_rules
from dongxi.monitor._sweep import Evaluation, HouseholdFacts, evaluate, yuan

__all__ = [
    "EXIT_COLUMNS",
    "area_exit",
    "household_exit",
    "live_safety_net",
    "risk_removal",
    "stable_income",
    "transition",
]

#: The columns of :func:`risk_removal` and :func:`household_exit`, in order.
EXIT_COLUMNS = (
    "household_code",
    "village_code",
    "category",
    "outcome",
    "reason_zh",
    "reason_en",
    "facts",
    "help_kind",
)


class _Conditions:
    """Failed / undecided conditions per household, with their texts, joined at the end."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.fail = np.zeros(n, dtype=bool)
        self.open = np.zeros(n, dtype=bool)
        self.parts: list[tuple[np.ndarray, np.ndarray, object, object]] = []

    def add(self, mask: np.ndarray, zh: object, en: object, *, undecided: bool = False) -> None:
        """``zh``/``en``: a text, or an array of texts aligned with the households."""
        if undecided:
            self.open |= mask
        else:
            self.fail |= mask
        self.parts.append((mask, np.full(self.n, undecided), zh, en))

    def add_members(self, f: HouseholdFacts) -> None:
        """The conditions on the members: every one insured, no child out of school (undecided
        when no member is recorded)."""
        self.add(
            f.insured_all == 0.0,
            "有成员未参加基本医疗保险",
            "a member has no basic medical insurance",
        )
        self.add(f.dropout == 1.0, "有义务教育阶段辍学", "a child dropped out of school")
        self.add(
            f.members == 0,
            "无法判断：缺少家庭成员信息",
            "cannot decide: no members recorded",
            undecided=True,
        )

    def texts(self, rows: np.ndarray) -> tuple[list[str], list[str]]:
        zh: list[list[str]] = [[] for _ in rows]
        en: list[list[str]] = [[] for _ in rows]
        for mask, undecided, t_zh, t_en in self.parts:
            hit = np.flatnonzero(mask[rows])
            for j in hit:
                i = rows[j]
                if undecided[i] and self.fail[i]:
                    continue  # a failed condition decides; the unknown ones need not be listed
                a = t_zh[i] if isinstance(t_zh, np.ndarray) else t_zh
                b = t_en[i] if isinstance(t_en, np.ndarray) else t_en
                if str(a) not in zh[j]:
                    zh[j].append(str(a))
                if str(b) not in en[j]:
                    en[j].append(str(b))
        return ["；".join(x) for x in zh], ["; ".join(x) for x in en]

    def outcome(self) -> np.ndarray:
        return np.where(self.fail, "stay", np.where(self.open, "undecided", "exit"))


def stable_income(ev: Evaluation, months: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each household: whether the 12-month income per person was ≥ the line at each of the
    last ``months`` month-ends (stable), whether one was below (failed), and the lowest figure."""
    w = ev.current.length
    below = np.zeros(len(ev.facts.codes), dtype=bool)
    unknown = np.zeros(len(ev.facts.codes), dtype=bool)
    lowest = np.full(len(ev.facts.codes), np.inf)
    for k in range(months):
        win = ev.panel.window(ev.current.first - k, ev.current.last - k)
        pp = win.per_person
        done = win.complete
        below |= done & (pp < ev.line)
        unknown |= ~done
        lowest = np.where(done, np.fmin(lowest, pp), lowest)
    stable = ~below & ~unknown
    assert w > 0
    return stable, below, lowest


def live_safety_net(
    codes: pd.Index,
    measures: pd.DataFrame | None,
    rules: Rules,
    *,
    batches: Iterable[str] | None = None,
) -> np.ndarray:
    """Whether each household has a measure of a safety-net kind in a live status."""
    out = np.zeros(len(codes), dtype=bool)
    if measures is None or measures.empty:
        return out
    kinds = tuple(batches) if batches is not None else rules.safety_net_batches
    live = measures["status"].isin(rules.exit.live_measure_statuses) & measures["batch"].isin(kinds)
    pos = codes.get_indexer(pd.Index(measures.loc[live, "household_code"].dropna().astype(str)))
    out[pos[pos >= 0]] = True
    return out


def risk_removal(
    households: pd.DataFrame,
    people: pd.DataFrame,
    income_months: pd.DataFrame,
    measures: pd.DataFrame | None = None,
    *,
    line: float,
    as_of: dt.date,
    rules: Rules | None = None,
    open_cases: Iterable[str] | None = None,
) -> pd.DataFrame:
    """For each household in monitoring: may its risk be marked removed (风险消除)?

    ``exit`` only when income per person over the 12 months was at or above the line at each of
    the last ``stable_months`` month-ends, no spending rule (rigid costs) fires, the house is safe,
    every member insured and no child out of school (三保障), drinking water secure, income did
    not fall sharply (no new risk), and — for a household without labour capacity — a
    safety-net measure (低保, 特困) is in place: such a household is never marked risk-free on
    income alone. ``stay`` names every condition that fails; ``undecided`` the missing facts.
    Columns: :data:`EXIT_COLUMNS`.
    """
    rules = rules or load_rules()
    ev = evaluate(
        households,
        people,
        income_months,
        line=line,
        as_of=as_of,
        rules=rules,
        open_cases=open_cases,
    )
    f = ev.facts
    n = len(f.codes)
    months = rules.exit.stable_months
    stable, below, lowest = stable_income(ev, months)
    c = _Conditions(n)
    low_txt = np.full(n, "", dtype=object)
    rows_below = np.flatnonzero(below)
    for i, v in zip(rows_below, yuan(lowest[rows_below]), strict=True):
        low_txt[i] = v
    c.add(
        below,
        np.array(
            [
                f"收入未稳定：近 {months} 个月中有月末的近 12 个月人均纯收入"
                f"低于监测线 {line:,.0f} 元（最低 {v} 元）"
                for v in low_txt
            ],
            dtype=object,
        ),
        np.array(
            [
                f"income not stable: below the line {line:,.0f} "
                f"at a month-end of the last {months} (lowest {v})"
                for v in low_txt
            ],
            dtype=object,
        ),
    )
    span = span_text(ev.current.first - (months - 1), ev.current.last)
    c.add(
        ~stable & ~below,
        f"无法判断收入稳定：{span} 月收入不全",
        f"cannot decide stability: monthly income of {span} incomplete",
        undecided=True,
    )
    for rule in rules.rules:
        d = ev.decisions[rule.code]
        if rule.kind == "income":
            continue  # read through the stability test above
        label = {
            "spending": ("刚性支出未解决", "rigid costs not resolved"),
            "housing": ("住房安全未保障", "housing not secure"),
            "water": ("饮水安全未保障", "drinking water not secure"),
            "income_drop": ("出现新的风险", "a new risk"),
        }[rule.kind]
        c.add(
            d.fired,
            np.array([f"{label[0]}：{t}" for t in d.zh], dtype=object),
            np.array([f"{label[1]}: {t}" for t in d.en], dtype=object),
        )
        c.add(d.undecided, d.zh, d.en, undecided=True)
    c.add_members(f)
    safety = live_safety_net(f.codes, measures, rules)
    if rules.exit.no_labour_needs_safety_net:
        c.add(
            (f.labour == 0.0) & ~safety,
            "无劳动能力户不能仅凭收入标注风险消除，需落实低保、特困供养等兜底保障",
            "a household without labour capacity is never risk-free on income alone: "
            "safety net (低保, 特困) needed",
        )
    rows = np.flatnonzero(f.in_monitoring)
    outcome = c.outcome()[rows]
    zh, en = c.texts(rows)
    for j, i in enumerate(rows):
        if outcome[j] == "exit":
            extra_zh = "；已落实兜底保障" if f.labour[i] == 0.0 else ""
            extra_en = "; safety net in place" if f.labour[i] == 0.0 else ""
            zh[j] = (
                f"收入连续 {months} 个月末稳定在监测线 {line:,.0f} 元以上"
                f"（最低 {lowest[i]:,.0f} 元）；"
                f"无刚性支出负担，三保障和饮水安全有保障，无新增风险{extra_zh}"
            )
            en[j] = (
                f"income at or above the line {line:,.0f} at each of the last {months} month-ends "
                f"(lowest {lowest[i]:,.0f}); no rigid costs, 三保障 and water secure, "
                f"no new risk{extra_en}"
            )
    facts = pd.DataFrame(
        {
            "stable_months": months,
            "lowest_income_per_person": np.where(np.isfinite(lowest), lowest, np.nan)[rows],
            "line": line,
            "has_labour": f.labour[rows],
            "safety_net": safety[rows],
        }
    )
    return _decisions(f, rows, outcome, zh, en, facts)


def _decisions(
    f: HouseholdFacts,
    rows: np.ndarray,
    outcome: np.ndarray,
    zh: list[str],
    en: list[str],
    facts: pd.DataFrame,
) -> pd.DataFrame:
    """The households ``rows`` of the facts ``f`` with their decision: :data:`EXIT_COLUMNS`."""
    return pd.DataFrame(
        {
            "household_code": f.codes[rows],
            "village_code": f.village[rows],
            "category": f.category_now[rows],
            "outcome": outcome,
            "reason_zh": zh,
            "reason_en": en,
            "facts": _json(facts),
            "help_kind": f.help_kind[rows],
        },
        columns=list(EXIT_COLUMNS),
    )


def _json(frame: pd.DataFrame) -> list[str]:
    if frame.empty:
        return []
    return (
        frame.to_json(orient="records", lines=True, force_ascii=False, double_precision=2)
        .rstrip("\n")
        .split("\n")
    )


def household_exit(
    households: pd.DataFrame,
    people: pd.DataFrame,
    income_months: pd.DataFrame,
    *,
    line: float,
    as_of: dt.date,
    agreed: Iterable[str] = (),
    rules: Rules | None = None,
) -> pd.DataFrame:
    """For each registered poor household: may it exit poverty (脱贫)?

    ``exit`` when income per person over the 12 months before the check is at or above ``line``
    (the poverty line of the year), 两不愁三保障 and water are secure (house safe, every member
    insured, no child out of school, water flags all true) and the household agrees (its code in
    ``agreed``): an exit is never decided over the household's head. Columns: :data:`EXIT_COLUMNS`.
    """
    rules = rules or load_rules()
    ev = evaluate(households, people, income_months, line=line, as_of=as_of, rules=rules)
    f = ev.facts
    n = len(f.codes)
    cur = ev.current
    pp = cur.per_person
    c = _Conditions(n)
    span = span_text(cur.first, cur.last)
    below = cur.complete & (pp < line)
    txt = np.full(n, "", dtype=object)
    for i, v in zip(np.flatnonzero(below), yuan(pp[below]), strict=True):
        txt[i] = v
    c.add(
        below,
        np.array([f"人均纯收入 {v} 元 < 标准 {line:,.0f} 元（{span}）" for v in txt], dtype=object),
        np.array(
            [f"income per person {v} < line {line:,.0f} over {span}" for v in txt], dtype=object
        ),
    )
    c.add(
        ~cur.complete,
        f"无法判断：{span} 月收入不全",
        f"cannot decide: monthly income of {span} incomplete",
        undecided=True,
    )
    grade = households["housing_grade"].astype(object).to_numpy()
    c.add(pd.notna(grade) & ~np.isin(grade, rules.exit.safe_grades), "住房不安全", "house unsafe")
    c.add(
        pd.isna(grade),
        "无法判断：缺少住房安全等级",
        "cannot decide: housing grade missing",
        undecided=True,
    )
    for rule in rules.rules:
        if rule.kind == "water":
            d = ev.decisions[rule.code]
            c.add(d.fired, d.zh, d.en)
            c.add(d.undecided, d.zh, d.en, undecided=True)
    c.add_members(f)
    c.add(~f.codes.isin(list(agreed)), "本户未确认同意退出", "the household has not agreed")
    rows = np.flatnonzero(f.status == "registered_poor")
    outcome = c.outcome()[rows]
    zh, en = c.texts(rows)
    for j, i in enumerate(rows):
        if outcome[j] == "exit":
            zh[j] = (
                f"人均纯收入 {pp[i]:,.0f} 元 ≥ 标准 {line:,.0f} 元（{span}）；"
                "两不愁三保障和饮水安全达标；本户同意退出"
            )
            en[j] = (
                f"income per person {pp[i]:,.0f} ≥ line {line:,.0f} over {span}; "
                "两不愁三保障 and water secure; the household agrees"
            )
    facts = pd.DataFrame({"window": span, "income_per_person": pp[rows], "line": line})
    return _decisions(f, rows, outcome, zh, en, facts)


def area_exit(
    households: pd.DataFrame,
    people: pd.DataFrame,
    *,
    level: str = "county",
    rules: Rules | None = None,
) -> pd.DataFrame:
    """Village or county exit (贫困村、贫困县退出): poverty incidence (people of registered poor
    households / all people) below the rules' share — 2 %, 3 % in the west.

    Columns: region_code, people, poor_people, incidence, threshold, west, outcome ('exit' /
    'stay'), reason_zh, reason_en. Areas without people are not listed.
    """
    rules = rules or load_rules()
    if level not in ("village", "county"):
        raise InputError(
            "level 只能是 village 或 county / level must be village or county.",
            column="level",
            value=level,
            fix="Use 'village' or 'county'.",
        )
    village = households.set_index(households["household_code"].astype(str))["village_code"].astype(
        str
    )
    poor = households.set_index(households["household_code"].astype(str))["status"].eq(
        "registered_poor"
    )
    codes = people["household_code"].astype(str)
    region = codes.map(village)
    if level == "county":
        region = region.str.slice(0, 6)
    frame = pd.DataFrame(
        {"region_code": region, "poor": codes.map(poor).fillna(False).astype(bool)}
    ).dropna(subset=["region_code"])
    out = (
        frame.groupby("region_code", sort=True)["poor"]
        .agg(people="size", poor_people="sum")
        .reset_index()
    )
    out["incidence"] = out["poor_people"] / out["people"]
    out["west"] = out["region_code"].str.slice(0, 2).isin(rules.poverty_exit.west_provinces)
    out["threshold"] = np.where(
        out["west"], rules.poverty_exit.incidence_below_west, rules.poverty_exit.incidence_below
    )
    out["outcome"] = np.where(out["incidence"] < out["threshold"], "exit", "stay")
    sign = np.where(out["outcome"] == "exit", "<", "≥")
    where_zh = np.where(out["west"], "（西部）", "")
    out["reason_zh"] = [
        f"贫困发生率 {i:.2%} {s} {t:.0%}{w}（{p}/{a} 人）"
        for i, s, t, w, p, a in zip(
            out["incidence"],
            sign,
            out["threshold"],
            where_zh,
            out["poor_people"],
            out["people"],
            strict=True,
        )
    ]
    out["reason_en"] = [
        f"poverty incidence {i:.2%} {s} {t:.0%}{' (west)' if w else ''} ({p}/{a} people)"
        for i, s, t, w, p, a in zip(
            out["incidence"],
            sign,
            out["threshold"],
            out["west"],
            out["poor_people"],
            out["people"],
            strict=True,
        )
    ]
    return out[
        [
            "region_code",
            "people",
            "poor_people",
            "incidence",
            "threshold",
            "west",
            "outcome",
            "reason_zh",
            "reason_en",
        ]
    ]


def transition(year: int, rules: Rules | None = None) -> dict[str, object]:
    """The transition period (过渡期) as data: whether ``year`` lies in it, and its 四个不摘."""
    rules = rules or load_rules()
    t = rules.transition
    return {
        "year": year,
        "in_transition": t.covers(year),
        "start": t.start,
        "end": t.end,
        "items_zh": list(t.items_zh),
        "items_en": list(t.items_en),
        "source": t.source,
        "category_labels": dict(vocab.MONITORING_CATEGORIES.zh),
    }
