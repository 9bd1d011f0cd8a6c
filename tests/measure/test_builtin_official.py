"""The built-in specs china_official and guangxi_rural: they load, and on a tiny hand-made
person-level table their household results are what we compute by hand (see the comments)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dongxi.analytics import Backend, connect
from dongxi.measure import builtin_specs, identify, load_spec, measure
from dongxi.policy import get_parameter

YEAR = 2015  # poverty line 2,855 yuan

HOUSEHOLD_COLUMNS = (
    "net_income_per_capita",
    "housing_grade",
    "water_quantity_ok",
    "water_quality_ok",
    "water_convenience_ok",
    "water_guarantee_ok",
    "road_access",
    "electricity",
)
MEMBER_COLUMNS = (
    "age",
    "education",
    "school_status",
    "health",
    "disability_grade",
    "medical_insurance",
    "labour_capacity",
    "employment",
)

# household: (income, grade, water q/q/c/g, road, electricity), members
# member: (age, education, school_status, health, disability grade, insured, labour, employment)
OK4 = (True, True, True, True)
HOUSEHOLDS: dict[str, tuple[tuple[Any, ...], list[tuple[Any, ...]]]] = {
    # income below the line (2000 < 2855), nothing else
    "h1": (
        (2000.0, "A", *OK4, True, True),
        [
            (40, "junior", "not_in_school", "healthy", None, True, "normal", "farming"),
            (38, "primary", "not_in_school", "healthy", None, True, "normal", "local"),
            (10, "primary", "primary", "healthy", None, True, "none", "not_applicable"),
        ],
    ),
    # an uninsured, seriously ill elder; all adults low-educated; an able member unemployed
    "h2": (
        (5000.0, "B", *OK4, True, True),
        [
            (70, "none", "not_in_school", "serious", None, False, "lost", "not_applicable"),
            (45, "primary", "not_in_school", "chronic", None, True, "normal", "unemployed"),
        ],
    ),
    # a 12-year-old dropout, house C, water quality unmet, no road, a grade-2 disability
    "h3": (
        (6000.0, "C", True, False, True, True, False, True),
        [
            (35, "junior", "not_in_school", "disabled", 2, True, "weak", "not_applicable"),
            (33, "senior", "not_in_school", "healthy", None, True, "skilled", "migrant_out"),
            (12, "primary", "dropout", "healthy", None, True, "none", "not_applicable"),
            (8, "primary", "primary", "healthy", None, True, "none", "not_applicable"),
        ],
    ),
    # a 16-year-old out of school is past compulsory age; a 5-year-old is not yet of it
    "h4": (
        (3000.0, "A", *OK4, True, True),
        [
            (16, "junior", "not_in_school", "healthy", None, True, "normal", "local"),
            (5, "preschool", "preschool", "healthy", None, True, "none", "not_applicable"),
        ],
    ),
    # income exactly on the line is not below it; a lone elder: low schooling, no labour
    "h5": (
        (2855.0, "A", *OK4, True, True),
        [(80, "primary", "not_in_school", "healthy", None, True, "lost", "not_applicable")],
    ),
}


def _table() -> pd.DataFrame:
    rows = []
    for code, (house, members) in HOUSEHOLDS.items():
        for no, member in enumerate(members, start=1):
            row = {"household_code": code, "member_no": no}
            row.update(dict(zip(HOUSEHOLD_COLUMNS, house, strict=True)))
            row.update(dict(zip(MEMBER_COLUMNS, member, strict=True)))
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame["disability_grade"] = frame["disability_grade"].astype("Int64")
    frame["age"] = frame["age"].astype(float)
    return frame


def _params(spec_name: str) -> dict[str, float]:
    names = ["poverty_line", "compulsory_school_age_from", "compulsory_school_age_to"]
    return {n: get_parameter(n, year=YEAR, scope="450000").value for n in names}


def test_builtins_are_listed_and_load() -> None:
    assert {"china_official", "guangxi_rural"} <= set(builtin_specs())
    official = load_spec("china_official")
    assert official.k == ["union"]
    assert official.weights() == pytest.approx([0.2] * 5)
    assert official.income is not None and official.sources
    rural = load_spec("guangxi_rural")
    assert sum(rural.weights()) == pytest.approx(1.0)
    assert len(rural.dimensions) == 5
    assert all(ind.source for ind in rural.indicators)
    assert all(ind.source for ind in official.indicators)


def test_china_official_households_by_hand() -> None:
    out = identify(_table(), "china_official", params=_params("china_official"))
    out = out.set_index("household_code")
    expected = {
        #      income edu  med  house water
        "h1": (1, 0, 0, 0, 0),
        "h2": (0, 0, 1, 0, 0),
        "h3": (0, 1, 0, 1, 1),
        "h4": (0, 0, 0, 0, 0),
        "h5": (0, 0, 0, 0, 0),
    }
    names = [
        "income_below_line",
        "child_out_of_school",
        "member_uninsured",
        "unsafe_housing",
        "unsafe_water",
    ]
    for code, profile in expected.items():
        assert tuple(out.loc[code, names]) == profile, code
    assert list(out["score"]) == pytest.approx([0.2, 0.2, 0.6, 0.0, 0.0])
    assert [c for c in out.columns if c.startswith("poor_")] == ["poor_union"]
    assert list(out["poor_union"]) == [True, True, True, False, False]
    assert list(out["weight"]) == [3.0, 2.0, 4.0, 2.0, 1.0]  # people: household size


def test_china_official_measures_by_hand() -> None:
    out = measure(_table(), "china_official", params=_params("china_official"))
    whole = out[out["by"] == ""].set_index("measure")
    # 12 people; poor: h1 (3), h2 (2), h3 (4)
    assert whole.loc["H", "estimate"] == pytest.approx(9 / 12)
    assert whole.loc["M0", "estimate"] == pytest.approx((3 * 0.2 + 2 * 0.2 + 4 * 0.6) / 12)
    # income rows: people below 2,855: the three members of h1
    assert whole.loc["FGT0", "estimate"] == pytest.approx(3 / 12)
    assert whole.loc["FGT1", "estimate"] == pytest.approx(3 * (1 - 2000 / 2855) / 12)


def test_guangxi_rural_households_by_hand() -> None:
    out = identify(_table(), "guangxi_rural", params=_params("guangxi_rural"))
    out = out.set_index("household_code")
    names = [
        "income_below_line",
        "adult_schooling",
        "child_schooling",
        "uninsured",
        "serious_illness_disability",
        "unsafe_housing",
        "unsafe_water",
        "no_road_or_power",
        "no_able_labour",
        "unemployed_member",
    ]
    expected = {
        "h1": (1, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        "h2": (0, 1, 0, 1, 1, 0, 0, 0, 0, 1),
        "h3": (0, 0, 1, 0, 1, 1, 1, 1, 0, 0),
        "h4": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        "h5": (0, 1, 0, 0, 0, 0, 0, 0, 1, 0),
    }
    for code, profile in expected.items():
        assert tuple(out.loc[code, names]) == profile, code
    # weights: income 1/5; education, health, labour 1/10 each; living 1/15 each
    assert list(out["score"]) == pytest.approx([0.2, 0.4, 0.4, 0.0, 0.2])
    assert list(out["poor_k20"]) == [True, True, True, False, True]
    assert list(out["poor_k33.33"]) == [False, True, True, False, False]
    assert list(out["poor_k50"]) == [False] * 5


def test_guangxi_rural_measures_by_hand() -> None:
    out = measure(_table(), "guangxi_rural", params=_params("guangxi_rural"))
    whole = out[(out["by"] == "") & out["measure"].isin(["H", "M0"])]
    got = {
        (m, round(k, 2)): e
        for m, k, e in whole[["measure", "k", "estimate"]].itertuples(index=False)
    }
    assert got[("H", 33.33)] == pytest.approx(6 / 12)
    assert got[("M0", 33.33)] == pytest.approx((2 * 0.4 + 4 * 0.4) / 12)
    assert got[("H", 20.0)] == pytest.approx(10 / 12)
    assert got[("M0", 20.0)] == pytest.approx((3 * 0.2 + 2 * 0.4 + 4 * 0.4 + 0.2) / 12)
    assert got[("H", 50.0)] == 0.0


def test_builtins_run_on_the_synthetic_registry() -> None:
    from dongxi.synth import generate

    data = generate(households=300, seed=4, years=(2019,))
    income = data.income[data.income["year"] == 2019]
    frame = data.people.merge(data.households, on="household_code").merge(
        income, on="household_code", how="left"
    )
    born = pd.to_datetime(frame["birth_date"])
    frame["age"] = (2019 - born.dt.year).astype(float)
    params = {
        n: get_parameter(n, year=2019).value
        for n in ("poverty_line", "compulsory_school_age_from", "compulsory_school_age_to")
    }
    for name in ("china_official", "guangxi_rural"):
        out = measure(frame, name, params=params, by=["county_code"])
        head = out[(out["by"] == "") & (out["measure"] == "H")]
        assert ((head["estimate"] >= 0) & (head["estimate"] <= 1)).all()
        assert np.isfinite(out.loc[out["measure"] == "M0", "estimate"]).all()


@pytest.fixture(scope="module")
def pg(pg_url: str) -> Iterator[Backend]:
    backend = connect(pg_url)
    yield backend
    backend.close()


@pytest.mark.postgres
@pytest.mark.parametrize("name", ["china_official", "guangxi_rural"])
def test_builtins_identical_on_postgres(pg: Backend, name: str) -> None:
    table, params = _table(), _params(name)
    duck = identify(table, name, params=params)
    post = identify(table, name, params=params, backend=pg)
    pd.testing.assert_frame_equal(duck, post)
    duck_m = measure(table, name, params=params)
    post_m = measure(table, name, params=params, backend=pg)
    pd.testing.assert_frame_equal(duck_m, post_m, rtol=1e-12, atol=1e-15)
