"""The sweep: which households the rules put in monitoring, each decision with its reasons.

Tables in, a table out. Every rule is evaluated for every household at once (NumPy arrays over
households; the only loops are over the handful of rules); rows are written only for a rule that
fired or could not be decided, each with the facts it used, in Chinese and English.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dongxi import vocab
from dongxi.errors import InputError
from dongxi.monitor._panel import Panel, Window, build_panel, month_index, month_text, span_text
from dongxi.monitor._rules import FocusGroup, Rule, Rules, load_rules

__all__ = [
    "SWEEP_COLUMNS",
    "Evaluation",
    "HouseholdFacts",
    "check_window",
    "evaluate",
    "focus_households",
    "household_facts",
    "sweep",
]

#: The columns of a sweep's result, in order.
SWEEP_COLUMNS = (
    "household_code",
    "village_code",
    "rule",
    "outcome",
    "category",
    "reason_zh",
    "reason_en",
    "facts",
    "help_kind",
    "in_monitoring",
)


def check_window(as_of: dt.date, window: int) -> tuple[int, int]:
    """The months (numbers, inclusive) of the ``window`` calendar months before ``as_of``'s
    month: a check on 2025-03-10 reads 2024-03..2025-02."""
    end = month_index(as_of) - 1
    return end - window + 1, end


def _bool(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A yes/no column as floats: 1, 0, NaN for empty."""
    if column not in frame:
        return np.full(len(frame), np.nan)
    s = frame[column]
    out = np.full(len(s), np.nan)
    known = s.notna().to_numpy()
    out[known] = s[known].astype(bool).to_numpy(dtype=float)
    return out


@dataclass(frozen=True)
class HouseholdFacts:
    """What the rules need to know of each household, aligned with ``codes``."""

    codes: pd.Index
    village: np.ndarray
    status: np.ndarray
    group: np.ndarray  # the status the categories read (a monitored household: escaped / never)
    year_exited: np.ndarray  # float, NaN: none
    in_monitoring: np.ndarray
    category_now: np.ndarray  # the registry's monitoring category (None: none)
    members: np.ndarray
    labour: np.ndarray  # 1.0 some member has labour capacity, 0.0 none, NaN no members known
    insured_all: np.ndarray  # 1.0 / 0.0 / NaN
    dropout: np.ndarray  # 1.0 some member dropped out of school / 0.0 / NaN

    @property
    def help_kind(self) -> np.ndarray:
        out = np.full(len(self.codes), None, dtype=object)
        out[self.labour == 1.0] = "development"
        out[self.labour == 0.0] = "safety_net"
        return out


def household_facts(
    households: pd.DataFrame,
    people: pd.DataFrame,
    rules: Rules,
    open_cases: Iterable[str] | None = None,
) -> HouseholdFacts:
    """Group, monitoring, labour capacity and the members' insurance and schooling per household."""
    for column in ("household_code", "village_code", "status"):
        if column not in households:
            raise InputError(
                f"households 缺少列 / households lacks the column {column}.",
                column=column,
                rule="required",
                fix="Give the registry's households table.",
            )
    codes = pd.Index(households["household_code"].astype(str))
    if codes.has_duplicates:
        raise InputError(
            "households 户编号重复 / A household code appears twice.",
            column="household_code",
            rule="unique",
            fix="Give each household once.",
        )
    status = households["status"].astype(object).to_numpy()
    year_exited = (
        pd.to_numeric(households["year_exited"], errors="coerce").to_numpy(dtype=float)
        if "year_exited" in households
        else np.full(len(codes), np.nan)
    )
    group = status.copy()
    monitored = status == "monitored"
    group[monitored] = np.where(np.isnan(year_exited[monitored]), "never", "escaped")
    category_now = (
        households["monitoring_category"]
        .astype(object)
        .where(households["monitoring_category"].notna(), None)
        .to_numpy()
        if "monitoring_category" in households
        else np.full(len(codes), None, dtype=object)
    )
    in_monitoring = pd.notna(category_now) | monitored
    if open_cases is not None:
        in_monitoring |= codes.isin(list(open_cases))

    n = len(codes)
    pos = (
        codes.get_indexer(pd.Index(people["household_code"].astype(str)))
        if len(people)
        else np.array([], dtype=np.int64)
    )
    ok = pos >= 0
    members = np.bincount(pos[ok], minlength=n).astype(float)

    def any_member(mask: np.ndarray) -> np.ndarray:
        hits = np.bincount(pos[ok], weights=mask[ok].astype(float), minlength=n)
        out = (hits > 0).astype(float)
        out[members == 0] = np.nan
        return out

    def values(column: str) -> np.ndarray:
        if column not in people:
            return np.full(len(people), None, dtype=object)
        return people[column].astype(object).to_numpy()

    labour = any_member(np.isin(values("labour_capacity"), rules.labour_capacity))
    insured = (
        people["medical_insurance"] if "medical_insurance" in people else pd.Series(dtype=bool)
    )
    uninsured = (
        (~insured.fillna(False).astype(bool)).to_numpy()
        if len(insured)
        else np.zeros(len(people), bool)
    )
    insured_all = 1.0 - any_member(uninsured)
    dropout = any_member(np.isin(values("school_status"), rules.exit.dropout_status))
    return HouseholdFacts(
        codes=codes,
        village=households["village_code"].astype(str).to_numpy(dtype=object),
        status=status,
        group=group,
        year_exited=year_exited,
        in_monitoring=in_monitoring,
        category_now=category_now,
        members=members,
        labour=labour,
        insured_all=insured_all,
        dropout=dropout,
    )


def yuan(values: np.ndarray) -> list[str]:
    """Amounts as a cadre reads them: 5,400."""
    return [f"{v:,.0f}" for v in values]


def _missing_text(
    panel: Panel, first: int, last: int, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The missing months of each household ``rows`` as text, written once per pattern of
    missing months (a few hundred patterns for a province)."""
    grid = panel.present_grid(first, last, rows)
    if grid.shape[1] > 62:
        raise InputError(
            "The income window is too long (more than 62 months).",
            column="window_months",
            fix="Use a window of at most 62 months.",
        )
    bits = grid.astype(np.int64) @ (np.int64(1) << np.arange(grid.shape[1], dtype=np.int64))
    patterns, inverse = np.unique(bits, return_inverse=True)
    labels = [month_text(m) for m in range(first, last + 1)]
    zh_p, en_p = [], []
    for pattern in patterns:
        months = [labels[j] for j in range(len(labels)) if not (int(pattern) >> j) & 1]
        if len(months) <= 6:
            zh_p.append("、".join(months))
            en_p.append(", ".join(months))
        else:
            zh_p.append(f"{months[0]} 至 {months[-1]} 间 {len(months)} 个月")
            en_p.append(f"{len(months)} months between {months[0]} and {months[-1]}")
    zh = np.array(zh_p, dtype=object)[inverse.ravel()]
    en = np.array(en_p, dtype=object)[inverse.ravel()]
    return zh, en


@dataclass
class _Decision:
    """One rule's decision for every household: fired / undecided and the row texts."""

    fired: np.ndarray
    undecided: np.ndarray
    zh: np.ndarray  # object arrays, filled where fired | undecided
    en: np.ndarray
    facts: dict[str, Any]  # fact → an array over all households, or one value for all


def _texts(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(n, "", dtype=object), np.full(n, "", dtype=object)


def _undecided_months(
    d: _Decision, panel: Panel, first: int, last: int, what_zh: str, what_en: str
) -> None:
    rows = np.flatnonzero(d.undecided)
    zh, en = _missing_text(panel, first, last, rows)
    d.zh[rows] = "无法判断：缺少 " + zh + f" 月{what_zh}"
    d.en[rows] = f"cannot decide: {what_en} of " + en + " missing"


def _income(rule: Rule, cur: Window, panel: Panel, line: float) -> _Decision:
    n = len(cur.months)
    pp = cur.per_person
    undecided = ~cur.complete
    fired = cur.complete & (pp < line)
    zh, en = _texts(n)
    d = _Decision(
        fired,
        undecided,
        zh,
        en,
        dict(
            {
                "window": span_text(cur.first, cur.last),
                "months": cur.months,
                "net_income": cur.net_income,
                "mean_size": cur.mean_size,
                "income_per_person": pp,
                "line": line,
            }
        ),
    )
    rows = np.flatnonzero(fired)
    span = span_text(cur.first, cur.last)
    for i, p in zip(rows, yuan(pp[rows]), strict=True):
        zh[i] = f"人均纯收入 {p} 元 < 监测线 {line:,.0f} 元（{span}）"
        en[i] = f"income per person {p} < line {line:,.0f} over {span}"
    _undecided_months(d, panel, cur.first, cur.last, "收入", "monthly income")
    return d


def _housing(rule: Rule, households: pd.DataFrame) -> _Decision:
    grade = (
        households["housing_grade"].astype(object)
        if "housing_grade" in households
        else pd.Series([None] * len(households))
    )
    known = grade.notna().to_numpy()
    g = grade.to_numpy()
    fired = known & np.isin(g, rule.unsafe_grades)
    zh, en = _texts(len(g))
    zh[fired] = [f"住房安全等级 {x} 级（不安全）" for x in g[fired]]
    en[fired] = [f"housing grade {x} (unsafe)" for x in g[fired]]
    zh[~known] = "无法判断：缺少住房安全等级"
    en[~known] = "cannot decide: housing grade missing"
    return _Decision(fired, ~known, zh, en, {"housing_grade": g})


def _water(rule: Rule, households: pd.DataFrame) -> _Decision:
    flags = {f: _bool(households, f) for f in rule.flags}
    grid = np.column_stack(list(flags.values())) if flags else np.ones((len(households), 0))
    failing = (grid == 0.0).any(axis=1)
    undecided = ~failing & np.isnan(grid).any(axis=1)
    zh, en = _texts(len(households))
    names_zh = {
        "water_quantity_ok": "水量",
        "water_quality_ok": "水质",
        "water_convenience_ok": "取水方便程度",
        "water_guarantee_ok": "供水保证率",
    }
    for i in np.flatnonzero(failing | undecided):
        bad = [f for f, v in zip(rule.flags, grid[i], strict=True) if v == 0.0]
        gaps = [f for f, v in zip(rule.flags, grid[i], strict=True) if np.isnan(v)]
        if bad:
            zh[i] = "饮水不达标：" + "、".join(names_zh.get(f, f) for f in bad)
            en[i] = "drinking water failing: " + ", ".join(bad)
        else:
            zh[i] = "无法判断：缺少" + "、".join(names_zh.get(f, f) for f in gaps)
            en[i] = "cannot decide: missing " + ", ".join(gaps)
    return _Decision(failing, undecided, zh, en, dict(flags))


def _spending(rule: Rule, cur: Window, panel: Panel) -> _Decision:
    assert rule.column is not None
    spent = cur.spending[rule.column]
    income = cur.net_income
    fired = cur.complete & (spent >= rule.min_amount) & (spent > rule.share_of_income * income)
    undecided = ~cur.complete
    zh, en = _texts(len(spent))
    span = span_text(cur.first, cur.last)
    what = {
        "medical_spending": ("医疗自付支出", "out-of-pocket medical costs"),
        "schooling_spending": ("教育支出", "schooling costs"),
        "disaster_loss": ("灾害损失", "losses from disaster"),
    }[rule.column]
    rows = np.flatnonzero(fired)
    for i, s, y in zip(rows, yuan(spent[rows]), yuan(income[rows]), strict=True):
        zh[i] = f"{what[0]} {s} 元 > 家庭纯收入 {y} 元的 {rule.share_of_income:.0%}（{span}）"
        en[i] = f"{what[1]} {s} > {rule.share_of_income:.0%} of net income {y} over {span}"
    d = _Decision(
        fired,
        undecided,
        zh,
        en,
        dict(
            {
                "window": span,
                "months": cur.months,
                rule.column: spent,
                "net_income": income,
                "share_of_income": rule.share_of_income,
                "min_amount": rule.min_amount,
            }
        ),
    )
    _undecided_months(d, panel, cur.first, cur.last, "收支", "monthly amounts")
    return d


def _income_drop(rule: Rule, cur: Window, prev: Window, panel: Panel, line: float) -> _Decision:
    now, before = cur.per_person, prev.per_person
    decided = cur.complete & prev.complete
    with np.errstate(invalid="ignore"):
        fired = decided & (now < (1 - rule.drop) * before) & (now < rule.below_line_multiple * line)
    zh, en = _texts(len(now))
    rows = np.flatnonzero(fired)
    s_now, s_before = span_text(cur.first, cur.last), span_text(prev.first, prev.last)
    for i, a, b in zip(rows, yuan(now[rows]), yuan(before[rows]), strict=True):
        zh[i] = f"人均纯收入由 {b} 元（{s_before}）降至 {a} 元（{s_now}），降幅超过 {rule.drop:.0%}"
        en[i] = (
            f"income per person fell from {b} ({s_before}) to {a} ({s_now}), "
            f"more than {rule.drop:.0%}"
        )
    d = _Decision(
        fired,
        ~decided,
        zh,
        en,
        dict(
            {
                "window": s_now,
                "previous_window": s_before,
                "income_per_person": now,
                "previous_income_per_person": before,
                "drop": rule.drop,
                "line": line,
            }
        ),
    )
    rows = np.flatnonzero(~decided)
    zh_m, en_m = _missing_text(panel, prev.first, cur.last, rows)
    d.zh[rows] = "无法判断：缺少 " + zh_m + " 月收入"
    d.en[rows] = "cannot decide: monthly income of " + en_m + " missing"
    return d


def _decide(
    rule: Rule, households: pd.DataFrame, cur: Window, prev: Window, panel: Panel, line: float
) -> _Decision:
    if rule.kind == "income":
        return _income(rule, cur, panel, line)
    if rule.kind == "housing":
        return _housing(rule, households)
    if rule.kind == "water":
        return _water(rule, households)
    if rule.kind == "spending":
        return _spending(rule, cur, panel)
    return _income_drop(rule, cur, prev, panel, line)


def _facts_json(facts: pd.DataFrame) -> list[str]:
    if facts.empty or len(facts.columns) == 0:
        return ["{}"] * len(facts)
    text = facts.to_json(orient="records", lines=True, force_ascii=False, double_precision=2)
    return text.rstrip("\n").split("\n")


def _status_suffix(f: HouseholdFacts, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ "；2019 年已脱贫" (or the status) for each row, written once per status and year."""
    status = pd.Series(f.status[rows], dtype=object).fillna("")
    year = pd.Series(f.year_exited[rows])
    key = status + "|" + year.fillna(-1).astype(int).astype(str)
    texts: dict[str, tuple[str, str]] = {}
    for k in pd.unique(key):
        st, y = k.rsplit("|", 1)
        if y != "-1":
            texts[k] = (f"；{y} 年已脱贫", f"; exited poverty in {y}")
        else:
            label = vocab.HOUSEHOLD_STATUSES.get(st)
            texts[k] = (f"；{label.zh}", f"; {label.en}") if label else ("", "")
    zh = key.map({k: v[0] for k, v in texts.items()}).to_numpy(dtype=object)
    en = key.map({k: v[1] for k, v in texts.items()}).to_numpy(dtype=object)
    return zh, en


@dataclass(frozen=True)
class Evaluation:
    """Every rule's decision for every household, with the panel and windows they read."""

    facts: HouseholdFacts
    panel: Panel
    current: Window
    previous: Window
    decisions: dict[str, _Decision]
    line: float


def evaluate(
    households: pd.DataFrame,
    people: pd.DataFrame,
    income_months: pd.DataFrame,
    *,
    line: float,
    as_of: dt.date,
    rules: Rules,
    open_cases: Iterable[str] | None = None,
) -> Evaluation:
    """Evaluate every rule for every household (vectorised; see :func:`sweep`)."""
    if not np.isfinite(line) or line <= 0:
        raise InputError(
            "监测线必须为正数 / The monitoring line must be a positive amount.",
            column="line",
            value=line,
            rule="monitoring_line",
            fix="Give the year's monitoring line in yuan per person (e.g. 6000), or --policy FILE.",
        )
    facts = household_facts(households, people, rules, open_cases)
    w = rules.window_months
    first, last = check_window(as_of, w)
    panel = build_panel(income_months, facts.codes, first - w, 2 * w)
    cur = panel.window(first, last)
    prev = panel.window(first - w, first - 1)
    decisions = {r.code: _decide(r, households, cur, prev, panel, line) for r in rules.rules}
    return Evaluation(facts, panel, cur, prev, decisions, line)


def sweep(
    households: pd.DataFrame,
    people: pd.DataFrame,
    income_months: pd.DataFrame,
    *,
    line: float,
    as_of: dt.date,
    rules: Rules | None = None,
    open_cases: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row per household and rule that fired or could not be decided (:data:`SWEEP_COLUMNS`).

    ``line`` is the monitoring line of the year (yuan per person per year); ``as_of`` the date of
    the check: income is read over the ``window_months`` calendar months before its month.
    ``outcome`` is ``include`` (the rule puts the household in ``category``), ``exclude`` (the rule
    fired but the household falls in no category: a registered poor household not yet exited) or
    ``undecided`` (facts missing: the reason says which). ``in_monitoring`` says whether the
    household is monitored already (its monitoring category, status, or an open case).
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
    facts = ev.facts
    frames = []
    help_kind = facts.help_kind
    code_array = facts.codes.to_numpy(dtype=object)
    for rule in rules.rules:
        d = ev.decisions[rule.code]
        rows = np.flatnonzero(d.fired | d.undecided)
        if len(rows) == 0:
            continue
        group = facts.group[rows]
        per_group = {g: rules.category_for(str(g), rule.code) for g in pd.unique(group)}
        category = pd.Series(group, dtype=object).map(per_group).to_numpy(dtype=object)
        outcome = np.where(
            d.undecided[rows], "undecided", np.where(pd.notna(category), "include", "exclude")
        )
        zh = d.zh[rows].astype(object)
        en = d.en[rows].astype(object)
        s_zh, s_en = _status_suffix(facts, rows)
        zh = zh + s_zh
        en = en + s_en
        excluded = outcome == "exclude"
        zh[excluded] = zh[excluded] + "；未脱贫的建档立卡贫困户按贫困户政策帮扶，不另列监测类别"
        en[excluded] = (
            en[excluded] + "; a registered poor household not yet exited is helped as poor, "
            "in no monitoring category"
        )
        fact_rows = pd.DataFrame(
            {
                **{k: (v[rows] if isinstance(v, np.ndarray) else v) for k, v in d.facts.items()},
                "status": facts.status[rows],
                "year_exited": facts.year_exited[rows],
                "has_labour": facts.labour[rows],
            }
        )
        frames.append(
            pd.DataFrame(
                {
                    "household_code": pd.Series(code_array[rows], dtype=object),
                    "village_code": pd.Series(facts.village[rows], dtype=object),
                    "rule": rule.code,
                    "outcome": pd.Series(outcome, dtype=object),
                    "category": pd.Series(category, dtype=object),
                    "reason_zh": pd.Series(zh, dtype=object),
                    "reason_en": pd.Series(en, dtype=object),
                    "facts": pd.Series(_facts_json(fact_rows), dtype=object),
                    "help_kind": pd.Series(help_kind[rows], dtype=object),
                    "in_monitoring": facts.in_monitoring[rows],
                }
            )
        )
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SWEEP_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    order = {r.code: i for i, r in enumerate(rules.rules)}
    out = out.assign(_r=out["rule"].map(order)).sort_values(["household_code", "_r"], kind="stable")
    return out.drop(columns="_r").reset_index(drop=True)[list(SWEEP_COLUMNS)]


def _in_group(table: pd.DataFrame, name: str, column: str, values: Any, group: str) -> np.ndarray:
    """Whether each row's ``column`` is one of a focus group's ``values`` (the column must be
    there)."""
    if column not in table:
        raise InputError(
            f"{name} 缺少列 / {name} lacks {column} (focus group {group}).",
            column=column,
            rule="focus group",
            fix="Give the column or change the rules file.",
        )
    result: np.ndarray = table[column].astype(object).isin(values).to_numpy()
    return result


def focus_households(
    households: pd.DataFrame, people: pd.DataFrame, rules: Rules | None = None
) -> pd.DataFrame:
    """Households in a focus group (重点人群) for the yearly sweep: household_code, village_code,
    focus (codes, ';'), focus_zh, focus_en. One row per household in at least one group."""
    rules = rules or load_rules()
    facts = household_facts(households, people, rules)
    n = len(facts.codes)
    pos = (
        facts.codes.get_indexer(pd.Index(people["household_code"].astype(str)))
        if len(people)
        else np.array([], dtype=np.int64)
    )
    ok = pos >= 0
    hits: list[tuple[FocusGroup, np.ndarray]] = []
    for g in rules.focus_groups:
        mask = np.zeros(n, dtype=bool)
        for column, values in g.household.items():
            mask |= _in_group(households, "households", column, values, g.code)
        for column, values in g.member.items():
            m = _in_group(people, "people", column, values, g.code)
            mask |= np.bincount(pos[ok], weights=m[ok].astype(float), minlength=n) > 0
        if g.no_labour:
            mask |= facts.labour == 0.0
        hits.append((g, mask))
    any_group = np.zeros(n, dtype=bool)
    for _, m in hits:
        any_group |= m
    rows = np.flatnonzero(any_group)

    def joined(attr: str, sep: str) -> list[str]:
        return [sep.join(getattr(g, attr) for g, m in hits if m[i]) for i in rows]

    return pd.DataFrame(
        {
            "household_code": facts.codes[rows],
            "village_code": facts.village[rows],
            "focus": joined("code", ";"),
            "focus_zh": joined("zh", "、"),
            "focus_en": joined("en", "; "),
        }
    )
