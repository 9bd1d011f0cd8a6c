"""Invariants of the sweep (hypothesis): raising income never moves a household into monitoring
on the income rule; adding a month never makes a decided rule undecided; a household's rows do
not depend on the other households."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dongxi.monitor import sweep

from .frames import AS_OF, LINE, household, member

MONTHS = [str(p) for p in pd.period_range("2023-03", "2025-02", freq="M")]
CODES = ["A", "B", "C"]


@st.composite
def panels(draw: st.DrawFn) -> pd.DataFrame:
    rows = []
    for code in CODES:
        size = draw(st.integers(1, 5))
        for month in MONTHS:
            if draw(st.integers(0, 9)) == 0:  # about one month in ten is missing
                continue
            rows.append(
                {
                    "household_code": code,
                    "month": month,
                    "net_income": draw(st.floats(-500, 4000, allow_nan=False)),
                    "medical_spending": draw(st.sampled_from([0.0, 0.0, 3000.0, 9000.0])),
                    "schooling_spending": draw(st.sampled_from([0.0, 0.0, 2000.0])),
                    "disaster_loss": draw(st.sampled_from([0.0, 0.0, 5000.0])),
                    "household_size": size,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "household_code",
            "month",
            "net_income",
            "medical_spending",
            "schooling_spending",
            "disaster_loss",
            "household_size",
        ],
    )


HH = pd.DataFrame(
    [household("A", "escaped", year_exited=2019), household("B"), household("C", "monitored")]
)
PEOPLE = pd.DataFrame([member(c) for c in CODES])
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _rows(
    out: pd.DataFrame, rule: str | None = None, outcome: str | None = None
) -> set[tuple[str, str]]:
    sel = out
    if rule is not None:
        sel = sel[sel["rule"] == rule]
    if outcome is not None:
        sel = sel[sel["outcome"] == outcome]
    return set(zip(sel["household_code"], sel["rule"], strict=True))


@SETTINGS
@given(
    panels(),
    st.lists(st.floats(0, 3000, allow_nan=False), min_size=len(MONTHS), max_size=len(MONTHS)),
)
def test_raising_income_never_includes_on_the_income_rule(
    panel: pd.DataFrame, raise_by: list[float]
) -> None:
    before = sweep(HH, PEOPLE, panel, line=LINE, as_of=AS_OF)
    extra = panel["month"].map(dict(zip(MONTHS, raise_by, strict=True)))
    after = sweep(
        HH, PEOPLE, panel.assign(net_income=panel["net_income"] + extra), line=LINE, as_of=AS_OF
    )
    assert _rows(after, "income", "include") <= _rows(before, "income", "include")
    assert _rows(after, "income", "undecided") == _rows(before, "income", "undecided")
    # a spending share of a higher income is smaller: no spending rule starts to fire either
    for rule in ("medical", "schooling", "disaster"):
        assert _rows(after, rule, "include") <= _rows(before, rule, "include")


@SETTINGS
@given(
    panels(), st.integers(0, len(CODES) * len(MONTHS) - 1), st.floats(-500, 4000, allow_nan=False)
)
def test_adding_a_month_never_makes_a_decided_rule_undecided(
    panel: pd.DataFrame, pick: int, net: float
) -> None:
    code, month = CODES[pick // len(MONTHS)], MONTHS[pick % len(MONTHS)]
    have = set(zip(panel["household_code"], panel["month"], strict=True))
    if (code, month) in have:
        return
    added = pd.concat(
        [
            panel,
            pd.DataFrame(
                [
                    {
                        "household_code": code,
                        "month": month,
                        "net_income": net,
                        "medical_spending": 0.0,
                        "schooling_spending": 0.0,
                        "disaster_loss": 0.0,
                        "household_size": 2,
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    before = sweep(HH, PEOPLE, panel, line=LINE, as_of=AS_OF)
    after = sweep(HH, PEOPLE, added, line=LINE, as_of=AS_OF)
    assert _rows(after, outcome="undecided") <= _rows(before, outcome="undecided")


@SETTINGS
@given(panels())
def test_a_households_rows_do_not_depend_on_the_others(panel: pd.DataFrame) -> None:
    whole = sweep(HH, PEOPLE, panel, line=LINE, as_of=AS_OF)
    alone = sweep(
        HH.iloc[[1]],
        PEOPLE.iloc[[1]],
        panel[panel["household_code"] == "B"],
        line=LINE,
        as_of=AS_OF,
    )
    pd.testing.assert_frame_equal(
        whole[whole["household_code"] == "B"].reset_index(drop=True), alone
    )
