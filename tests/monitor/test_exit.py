"""Risk removal (风险消除), household exit (脱贫), village and county exit, the transition
period: table-driven, with the boundaries (6 months exactly, no labour capacity, missing months,
the incidence at the threshold)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest

from dongxi.monitor import area_exit, household_exit, load_rules, risk_removal, transition

from .frames import AS_OF, LINE, household, measure, member, months, tables

H = "H1"
MONITORED = {"status": "monitored", "monitoring_category": "marginal"}
#: The windows of the last 6 month-ends start 2024-03, 2024-02, …, 2023-10; a lower month in
#: 2023-09 touches only the 7th window back, one in 2023-10 the 6th.
SEVENTH_BACK = "2023-09"
SIXTH_BACK = "2023-10"
#: 500 a month (income exactly at the line) with one month of 400.
AT_LINE = {str(p): 500.0 for p in pd.period_range("2023-01", "2025-02", freq="M")}


@dataclass
class Case:
    id: str
    household: dict[str, Any]
    income: list[dict[str, Any]]
    outcome: str
    reason: str | None = None
    people: list[dict[str, Any]] = field(default_factory=lambda: [member(H)])
    measures: list[dict[str, Any]] = field(default_factory=lambda: [measure(H)])


CASES = [
    Case(
        "stable income, nothing else",
        household(H, **MONITORED),
        months(H, 600.0),
        "exit",
        "收入连续 6 个月末稳定在监测线 6,000 元以上",
    ),
    Case(
        "income exactly at the line is stable", household(H, **MONITORED), months(H, 500.0), "exit"
    ),
    Case(
        "6 months exactly: a low month only in the 7th window back",
        household(H, **MONITORED),
        months(H, {**AT_LINE, SEVENTH_BACK: 400.0}),
        "exit",
    ),
    Case(
        "5 months only: a low month in the 6th window back",
        household(H, **MONITORED),
        months(H, {**AT_LINE, SIXTH_BACK: 400.0}),
        "stay",
        "收入未稳定",
    ),
    Case(
        "income below the line now",
        household(H, **MONITORED),
        months(H, 450.0),
        "stay",
        "近 12 个月人均纯收入低于监测线 6,000 元（最低 5,400 元）",
    ),
    Case(
        "a missing month in the stability span",
        household(H, **MONITORED),
        months(H, 600.0, skip=("2023-11",)),
        "undecided",
        "无法判断收入稳定：2023-10..2025-02 月收入不全",
    ),
    Case(
        "no labour capacity and no safety net: never on income alone",
        household(H, **MONITORED),
        months(H, 900.0),
        "stay",
        "无劳动能力户不能仅凭收入标注风险消除",
        people=[member(H, labour_capacity="none")],
    ),
    Case(
        "no labour capacity with 低保 in place",
        household(H, **MONITORED),
        months(H, 900.0),
        "exit",
        "已落实兜底保障",
        people=[member(H, labour_capacity="lost")],
        measures=[measure(H, batch="social_security")],
    ),
    Case(
        "no labour capacity, 低保 cancelled",
        household(H, **MONITORED),
        months(H, 900.0),
        "stay",
        people=[member(H, labour_capacity="none")],
        measures=[measure(H, batch="social_security", status="cancelled")],
    ),
    Case(
        "house unsafe",
        household(H, **MONITORED, housing_grade="D"),
        months(H),
        "stay",
        "住房安全未保障",
    ),
    Case(
        "water failing",
        household(H, **MONITORED, water_quantity_ok=False),
        months(H),
        "stay",
        "饮水安全未保障",
    ),
    Case(
        "rigid medical costs",
        household(H, **MONITORED),
        months(H, 1000.0, medical_spending={"2025-01": 8000.0}),
        "stay",
        "刚性支出未解决",
    ),
    Case(
        "a member uninsured",
        household(H, **MONITORED),
        months(H),
        "stay",
        "未参加基本医疗保险",
        people=[member(H, medical_insurance=False)],
    ),
    Case(
        "a child out of school",
        household(H, **MONITORED),
        months(H),
        "stay",
        "辍学",
        people=[member(H), member(H, member_no=2, relation="child", school_status="dropout")],
    ),
    Case(
        "no members recorded",
        household(H, **MONITORED),
        months(H),
        "undecided",
        "缺少家庭成员信息",
        people=[],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_risk_removal(case: Case) -> None:
    hh, people, income = tables([case.household], case.people, case.income)
    people = people.reindex(columns=list(member(H)))
    out = risk_removal(hh, people, income, pd.DataFrame(case.measures), line=LINE, as_of=AS_OF)
    assert list(out["household_code"]) == [H]
    row = out.iloc[0]
    assert row["outcome"] == case.outcome, row["reason_zh"]
    if case.reason:
        assert case.reason in row["reason_zh"]
    assert row["reason_en"]
    json.loads(row["facts"])


def test_only_monitored_households_are_tested() -> None:
    hh, people, income = tables(
        [household("A", **MONITORED), household("B"), household("C")],
        None,
        months("A") + months("B") + months("C"),
    )
    out = risk_removal(hh, people, income, line=LINE, as_of=AS_OF, open_cases=["C"])
    assert list(out["household_code"]) == ["A", "C"]


def test_stability_months_come_from_the_rules(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from importlib import resources

    text = (resources.files("dongxi.monitor") / "data" / "rules.toml").read_text(encoding="utf-8")
    path = tmp_path / "rules.toml"
    path.write_text(text.replace("stable_months = 6", "stable_months = 5"), encoding="utf-8")
    hh, people, income = tables(
        [household(H, **MONITORED)], None, months(H, {**AT_LINE, SIXTH_BACK: 400.0})
    )
    out = risk_removal(
        hh,
        people,
        income,
        pd.DataFrame([measure(H)]),
        line=LINE,
        as_of=AS_OF,
        rules=load_rules(path),
    )
    assert out["outcome"].iloc[0] == "exit"


@pytest.mark.parametrize(
    ("net", "agreed", "values", "outcome", "reason"),
    [
        (600.0, True, {}, "exit", "本户同意退出"),
        (500.0, True, {}, "exit", "≥ 标准 6,000 元"),
        (600.0, False, {}, "stay", "本户未确认同意退出"),
        (450.0, True, {}, "stay", "人均纯收入 5,400 元 < 标准 6,000 元"),
        (600.0, True, {"housing_grade": "C"}, "stay", "住房不安全"),
        (600.0, True, {"water_quality_ok": False}, "stay", "饮水不达标"),
    ],
)
def test_household_exit(
    net: float, agreed: bool, values: dict[str, Any], outcome: str, reason: str
) -> None:
    hh, people, income = tables(
        [household(H, "registered_poor", **values), household("other")],
        None,
        months(H, net) + months("other"),
    )
    out = household_exit(hh, people, income, line=LINE, as_of=AS_OF, agreed=[H] if agreed else [])
    assert list(out["household_code"]) == [H]
    assert out["outcome"].iloc[0] == outcome
    assert reason in out["reason_zh"].iloc[0]


def _area(prefix: str, poor: int, people: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    hh = [
        household(
            f"{prefix}-{i}",
            "registered_poor" if i < poor else "escaped",
            village_code=f"{prefix}100001",
        )
        for i in range(people)
    ]
    return hh, [member(h["household_code"]) for h in hh]


@pytest.mark.parametrize(
    ("county", "poor", "outcome"),
    [
        ("450123", 2, "exit"),  # west: 2 % < 3 %
        ("450123", 3, "stay"),  # west: 3 % is not below 3 %
        ("440305", 1, "exit"),  # east: 1 % < 2 %
        ("440305", 2, "stay"),  # east: 2 % is not below 2 %
    ],
)
def test_county_exit_threshold(county: str, poor: int, outcome: str) -> None:
    hh, people = _area(county, poor, 100)
    out = area_exit(pd.DataFrame(hh), pd.DataFrame(people), level="county")
    assert list(out["region_code"]) == [county]
    assert out["outcome"].iloc[0] == outcome
    assert out["incidence"].iloc[0] == pytest.approx(poor / 100)
    assert f"（{poor}/100 人）" in out["reason_zh"].iloc[0]


def test_village_exit_counts_each_village() -> None:
    a, pa = _area("450123", 1, 10)
    b = [household(f"b{i}", village_code="450123100002") for i in range(50)]
    out = area_exit(
        pd.DataFrame(a + b),
        pd.DataFrame(pa + [member(h["household_code"]) for h in b]),
        level="village",
    )
    assert list(out["region_code"]) == ["450123100001", "450123100002"]
    assert list(out["outcome"]) == ["stay", "exit"]


@pytest.mark.parametrize(
    ("year", "inside"), [(2020, False), (2021, True), (2025, True), (2026, False)]
)
def test_transition_period_is_policy_data(year: int, inside: bool) -> None:
    t = transition(year)
    assert t["in_transition"] is inside
    assert t["items_zh"] == ["摘帽不摘责任", "摘帽不摘政策", "摘帽不摘帮扶", "摘帽不摘监管"]
