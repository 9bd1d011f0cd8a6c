"""The sweep's rules, table-driven: one case per rule and per boundary (the line itself, missing
months, no labour capacity), each checking the decision, its category and its reason."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest

from dongxi.errors import InputError
from dongxi.monitor import sweep

from .frames import AS_OF, LINE, household, member, months, tables

H = "H1"
#: 1,000 a month up to 2024-02 (the default 600 after: income fell from 12,000 to 7,200).
DROP = {str(p): 1000.0 for p in pd.period_range("2023-01", "2024-02", freq="M")}
NOW = [str(p) for p in pd.period_range("2024-03", "2025-02", freq="M")]


@dataclass
class Case:
    id: str
    household: dict[str, Any]
    income: list[dict[str, Any]]
    expected: set[tuple[str, str, str | None]]  # (rule, outcome, category)
    reason: str | None = None  # a part of the Chinese reason of the first row
    people: list[dict[str, Any]] = field(default_factory=lambda: [member(H)])


CASES = [
    Case(
        "income below the line, exited 2019",
        household(H, "escaped", year_exited=2019),
        months(H, 450.0),
        {("income", "include", "unstable_escaped")},
        "人均纯收入 5,400 元 < 监测线 6,000 元（2024-03..2025-02）；2019 年已脱贫",
    ),
    Case(
        "income exactly at the line",
        household(H, "escaped", year_exited=2019),
        months(H, 500.0),
        set(),
    ),
    Case(
        "income a fen below the line",
        household(H),
        months(H, 499.99),
        {("income", "include", "marginal")},
        "< 监测线 6,000 元",
    ),
    Case("two members at the line", household(H), months(H, 1000.0, size=2), set()),
    Case(
        "two members below the line",
        household(H),
        months(H, 900.0, size=2),
        {("income", "include", "marginal")},
        "人均纯收入 5,400 元",
    ),
    Case(
        "missing income months",
        household(H, "escaped", year_exited=2019),
        months(H, 450.0, skip=("2024-07", "2024-08")),
        {
            ("income", "undecided", "unstable_escaped"),
            ("medical", "undecided", "unstable_escaped"),
            ("schooling", "undecided", "unstable_escaped"),
            ("disaster", "undecided", "unstable_escaped"),
            ("income_drop", "undecided", "unstable_escaped"),
        },
        "无法判断：缺少 2024-07、2024-08 月收入",
    ),
    Case(
        "a month missing before both windows decides nothing",
        household(H),
        months(H, 800.0, skip=("2023-01", "2023-02")),
        set(),
    ),
    Case(
        "a month missing in the previous window: only the income drop is undecided",
        household(H),
        months(H, 800.0, skip=("2023-05",)),
        {("income_drop", "undecided", "sudden_hardship")},
        "无法判断：缺少 2023-05 月收入",
    ),
    Case(
        "housing grade C",
        household(H, housing_grade="C"),
        months(H),
        {("housing", "include", "marginal")},
        "住房安全等级 C 级（不安全）",
    ),
    Case(
        "housing grade D, exited",
        household(H, "escaped", year_exited=2018, housing_grade="D"),
        months(H),
        {("housing", "include", "unstable_escaped")},
        "2018 年已脱贫",
    ),
    Case("housing grade B is safe", household(H, housing_grade="B"), months(H), set()),
    Case(
        "housing grade missing",
        household(H, housing_grade=None),
        months(H),
        {("housing", "undecided", "marginal")},
        "无法判断：缺少住房安全等级",
    ),
    Case(
        "water quality failing",
        household(H, water_quality_ok=False),
        months(H),
        {("water", "include", "marginal")},
        "饮水不达标：水质",
    ),
    Case(
        "water flag unknown",
        household(H, water_guarantee_ok=None),
        months(H),
        {("water", "undecided", "marginal")},
        "无法判断：缺少供水保证率",
    ),
    Case(
        "medical costs beyond the household (general household: sudden hardship)",
        household(H),
        months(H, 1000.0, medical_spending={"2024-06": 7000.0}),
        {("medical", "include", "sudden_hardship")},
        "医疗自付支出 7,000 元 > 家庭纯收入 12,000 元的 50%（2024-03..2025-02）",
    ),
    Case(
        "medical costs beyond an exited household: unstable exited",
        household(H, "escaped", year_exited=2020),
        months(H, 1000.0, medical_spending={"2024-06": 7000.0}),
        {("medical", "include", "unstable_escaped")},
    ),
    Case(
        "medical costs exactly at the share",
        household(H),
        months(H, 1000.0, medical_spending={"2024-06": 6000.0}),
        set(),
    ),
    Case(
        "medical costs above the share but below the minimum amount",
        household(H),
        months(H, 300.0, medical_spending={"2024-06": 4000.0}),
        {("income", "include", "marginal")},
    ),
    Case(
        "medical costs before the window do not count",
        household(H),
        months(H, 1000.0, medical_spending={"2024-02": 9000.0}),
        set(),
    ),
    Case(
        "schooling costs",
        household(H),
        months(H, 1000.0, schooling_spending={"2024-09": 3700.0}),
        {("schooling", "include", "sudden_hardship")},
        "教育支出 3,700 元",
    ),
    Case(
        "disaster loss",
        household(H),
        months(H, 1000.0, disaster_loss={"2024-08": 4000.0}),
        {("disaster", "include", "sudden_hardship")},
        "灾害损失 4,000 元",
    ),
    Case(
        "income fell sharply",
        household(H),
        months(H, DROP),
        {("income_drop", "include", "sudden_hardship")},
        "人均纯收入由 12,000 元（2023-03..2024-02）降至 7,200 元（2024-03..2025-02）",
    ),
    Case(
        "income fell but stays well above the line",
        household(H),
        months(H, {**{m: 3000.0 for m in DROP}, **{m: 1100.0 for m in NOW}}),
        set(),
    ),
    Case(
        "a registered poor household under the line: no monitoring category",
        household(H, "registered_poor"),
        months(H, 400.0),
        {("income", "exclude", None)},
        "按贫困户政策帮扶",
    ),
    Case(
        "a monitored household that exited counts as exited",
        household(H, "monitored", year_exited=2019, monitoring_category="unstable_escaped"),
        months(H, 450.0),
        {("income", "include", "unstable_escaped")},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case) -> None:
    hh, people, income = tables([case.household], case.people, case.income)
    out = sweep(hh, people, income, line=LINE, as_of=AS_OF)
    got = {
        (r.rule, r.outcome, r.category if pd.notna(r.category) else None) for r in out.itertuples()
    }
    assert got == case.expected
    if case.reason is not None:
        assert any(case.reason in text for text in out["reason_zh"]), list(out["reason_zh"])
    for rec in out.itertuples():
        facts = json.loads(rec.facts)
        assert facts["status"] == case.household["status"]
        assert rec.reason_en and rec.reason_zh


def test_the_facts_say_what_the_income_rule_used() -> None:
    hh, people, income = tables(
        [household(H, "escaped", year_exited=2019)], None, months(H, 450.0, size=3)
    )
    row = sweep(hh, people, income, line=LINE, as_of=AS_OF).iloc[0]
    facts = json.loads(row["facts"])
    assert facts["window"] == "2024-03..2025-02"
    assert facts["months"] == 12
    assert facts["net_income"] == 5400.0
    assert facts["income_per_person"] == 1800.0
    assert facts["line"] == 6000.0
    assert row["reason_en"].startswith("income per person 1,800 < line 6,000 over 2024-03..2025-02")


@pytest.mark.parametrize(
    ("labour", "kind"),
    [
        (["normal"], "development"),
        (["weak", "none"], "development"),
        (["none", "lost"], "safety_net"),
    ],
)
def test_help_by_kind_follows_labour_capacity(labour: list[str], kind: str) -> None:
    people = [member(H, member_no=i + 1, labour_capacity=code) for i, code in enumerate(labour)]
    hh, pp, income = tables([household(H)], people, months(H, 300.0))
    out = sweep(hh, pp, income, line=LINE, as_of=AS_OF)
    assert list(out["help_kind"]) == [kind]


def test_no_members_leaves_the_kind_of_help_open() -> None:
    hh, pp, income = tables([household(H)], [], months(H, 300.0))
    out = sweep(
        hh,
        pp.reindex(columns=["household_code", "labour_capacity"]),
        income,
        line=LINE,
        as_of=AS_OF,
    )
    assert out["help_kind"].isna().all()


def test_in_monitoring_from_category_or_open_case() -> None:
    hh, pp, income = tables(
        [household("A", monitoring_category="marginal"), household("B"), household("C")],
        None,
        months("A", 300.0) + months("B", 300.0) + months("C", 300.0),
    )
    out = sweep(hh, pp, income, line=LINE, as_of=AS_OF, open_cases=["C"])
    assert dict(zip(out["household_code"], out["in_monitoring"], strict=True)) == {
        "A": True,
        "B": False,
        "C": True,
    }


def test_a_household_without_income_rows_is_undecided_not_dropped() -> None:
    hh, pp, income = tables([household(H)], None, [])
    out = sweep(hh, pp, income, line=LINE, as_of=AS_OF)
    assert set(out["outcome"]) == {"undecided"}
    assert "2024-03 至 2025-02 间 12 个月" in out["reason_zh"].iloc[0]


@pytest.mark.parametrize("line", [0.0, -1.0, float("nan")])
def test_a_line_that_is_not_positive_is_refused(line: float) -> None:
    hh, pp, income = tables([household(H)], None, months(H))
    with pytest.raises(InputError, match="monitoring line"):
        sweep(hh, pp, income, line=line, as_of=AS_OF)


def test_two_rows_for_one_month_are_refused() -> None:
    rows = months(H)
    hh, pp, income = tables([household(H)], None, [*rows, rows[-1]])
    with pytest.raises(InputError, match="two rows for one month"):
        sweep(hh, pp, income, line=LINE, as_of=AS_OF)


def test_a_bad_month_is_refused() -> None:
    rows = months(H)
    rows[-1]["month"] = "2025/02"
    hh, pp, income = tables([household(H)], None, rows)
    with pytest.raises(InputError, match="YYYY-MM"):
        sweep(hh, pp, income, line=LINE, as_of=AS_OF)


def test_categorical_columns_give_the_same_sweep() -> None:
    hh, pp, income = tables(
        [household("A"), household("B", housing_grade="C"), household("C")],
        None,
        months("A", 300.0) + months("B") + months("C", skip=("2024-04",)),
    )
    plain = sweep(hh, pp, income, line=LINE, as_of=AS_OF)
    cat = income.assign(
        household_code=income["household_code"].astype("category"),
        month=income["month"].astype("category"),
    )
    pd.testing.assert_frame_equal(plain, sweep(hh, pp, cat, line=LINE, as_of=AS_OF))
