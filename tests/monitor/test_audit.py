"""Audits: 应纳未纳 (missed) and 体外循环 (measures for households never identified, exits without
the stability period, monitored households without a measure)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dongxi.errors import InputError
from dongxi.monitor import missed, outside_system, sweep

from .frames import AS_OF, LINE, household, measure, member, months, tables

AT_LINE = {str(p): 500.0 for p in pd.period_range("2022-01", "2025-02", freq="M")}


def test_missed_lists_households_a_rule_includes_that_are_not_monitored() -> None:
    hh, people, income = tables(
        [
            household("poor-not-watched"),
            household("poor-watched", monitoring_category="marginal"),
            household("unsafe-not-watched", housing_grade="D"),
            household("fine"),
            household("unknown", housing_grade=None),
        ],
        None,
        months("poor-not-watched", 300.0)
        + months("poor-watched", 300.0)
        + months("unsafe-not-watched")
        + months("fine")
        + months("unknown"),
    )
    out = missed(sweep(hh, people, income, line=LINE, as_of=AS_OF))
    assert list(out["household_code"]) == ["poor-not-watched", "unsafe-not-watched"]
    assert set(out["finding"]) == {"missed"}
    assert out["reason_zh"].iloc[0].startswith("符合纳入条件但未纳入监测：人均纯收入 3,600 元")
    assert json.loads(out["facts"].iloc[1]) == {"rules": "housing", "category": "marginal"}


def test_missed_of_an_empty_sweep_is_empty() -> None:
    hh, people, income = tables([household("fine")], None, months("fine"))
    assert missed(sweep(hh, people, income, line=LINE, as_of=AS_OF)).empty


def _history(*rows: tuple[str, str, str | None, str]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["household_code", "status", "monitoring_category", "effective_date"]
    )


@pytest.mark.parametrize(
    ("status", "category", "history", "found"),
    [
        ("never", None, [], True),  # never identified: the measure is outside the system
        ("escaped", None, [], False),
        ("never", "marginal", [], False),
        (
            "never",
            None,
            [("H", "monitored", "marginal", "2022-01-01"), ("H", "never", None, "2023-06-01")],
            False,
        ),
    ],
)
def test_measures_for_households_never_identified(
    status: str, category: str | None, history: list[tuple[str, str, str | None, str]], found: bool
) -> None:
    hh = pd.DataFrame([household("H", status, monitoring_category=category)])
    out = outside_system(
        hh,
        pd.DataFrame([member("H")]),
        pd.DataFrame([measure("H")]),
        status_history=_history(*history),
    )
    assert ("unidentified_measure" in set(out["finding"])) is found


@pytest.mark.parametrize(
    ("measures", "found"),
    [
        ([], True),
        ([measure("H", status="cancelled")], True),
        ([measure("H", status="planned")], False),
        ([measure("H", batch="social_security", status="completed")], False),
    ],
)
def test_monitored_households_without_a_measure(measures: list[dict], found: bool) -> None:  # type: ignore[type-arg]
    hh = pd.DataFrame([household("H", monitoring_category="sudden_hardship")])
    frame = pd.DataFrame(measures, columns=list(measure("H")))
    out = outside_system(hh, pd.DataFrame([member("H")]), frame)
    assert ("no_measure" in set(out["finding"])) is found


@pytest.mark.parametrize(
    ("net", "skip", "found", "reason"),
    [
        (AT_LINE, (), False, None),
        ({**AT_LINE, "2024-04": 400.0}, (), True, "低于监测线 6,000 元（最低 5,900 元）"),
        # the windows of the 6 month-ends start 2024-03 … 2023-10; 2023-09 is in the 7th only
        ({**AT_LINE, "2023-10": 400.0}, (), True, "最低 5,900 元"),
        ({**AT_LINE, "2023-09": 400.0}, (), False, None),
        (AT_LINE, ("2024-08",), True, "月收入不全，无法证明 6 个月稳定期"),
    ],
)
def test_exits_without_the_stability_period(
    net: dict[str, float], skip: tuple[str, ...], found: bool, reason: str | None
) -> None:
    # monitored from 2023, risk removed on 2025-03-15: the 6 month-ends before are 2024-09..2025-02
    hh = pd.DataFrame([household("H", "escaped", year_exited=2019)])
    history = _history(
        ("H", "monitored", "unstable_escaped", "2023-02-01"), ("H", "escaped", None, "2025-03-15")
    )
    out = outside_system(
        hh,
        pd.DataFrame([member("H")]),
        pd.DataFrame([measure("H")]),
        status_history=history,
        income_months=pd.DataFrame(months("H", net, first="2022-01", skip=skip)),
        lines={2025: LINE},
    )
    rows = out[out["finding"] == "unstable_exit"]
    assert (len(rows) == 1) is found
    if reason:
        assert reason in rows["reason_zh"].iloc[0]
        assert rows["reason_zh"].iloc[0].startswith("2025-03-15 标注风险消除")


def test_an_exit_in_a_year_without_a_line_is_refused() -> None:
    hh = pd.DataFrame([household("H")])
    history = _history(
        ("H", "monitored", "marginal", "2023-02-01"), ("H", "never", None, "2025-03-15")
    )
    with pytest.raises(InputError, match="No monitoring line"):
        outside_system(
            hh,
            pd.DataFrame([member("H")]),
            pd.DataFrame([measure("H")]),
            status_history=history,
            income_months=pd.DataFrame(months("H")),
            lines={2024: LINE},
        )
