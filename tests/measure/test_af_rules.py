"""Indicator rules, aggregation of members to households, missing values, identification."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from dongxi.errors import InputError, SpecError
from dongxi.measure import identify, load_spec, measure


def _spec(indicators: list[dict[str, Any]], **extra: Any) -> Any:
    return load_spec(
        {
            "name": "t",
            "k": extra.pop("k", [50]),
            "unit": extra.pop("unit", {"household": "hh", "analysis": "households"}),
            "dimensions": [{"name": "all", "indicators": indicators}],
            **extra,
        }
    )


PEOPLE = pd.DataFrame(
    {
        "hh": ["a", "a", "a", "b", "b", "c"],
        "age": [40, 10, 8, 70, 66, 30],
        "school": [1, 0, 1, None, None, 1],
        "years": [5, 2, 1, 9, 3, 4],
        "income": [100.0, 100.0, 100.0, 500.0, 500.0, 90.0],
    }
)


def _profile(spec: Any, data: pd.DataFrame = PEOPLE, **kw: Any) -> dict[str, list[int]]:
    out = identify(data, spec, **kw)
    return {c: out[c].tolist() for c in out.columns if c not in ("weight", "score")}


def test_any_all_over_eligible_members() -> None:
    child = {
        "all": [
            {"column": "age", "op": ">=", "value": 6},
            {"column": "age", "op": "<=", "value": 14},
        ]
    }
    spec = _spec(
        [
            {
                "name": "any_out",
                "rule": {"column": "school", "op": "==", "value": 0},
                "aggregate": {"how": "any", "members": child},
            },
            {
                "name": "all_in",
                "rule": {"column": "school", "op": "==", "value": 1},
                "aggregate": {"how": "all", "members": child, "empty": "deprived"},
            },
        ]
    )
    got = _profile(spec)
    assert got["hh"] == ["a", "b", "c"]
    assert got["any_out"] == [1, 0, 0]  # b and c have no child: empty -> not deprived
    assert got["all_in"] == [0, 1, 1]  # a has a child out of school; empty -> deprived


@pytest.mark.parametrize(
    ("how", "column", "op", "value", "expected"),
    [
        ("max", "years", "<", 6, [1, 0, 1]),
        ("min", "years", "<", 2, [1, 0, 0]),
        ("sum", "years", "<", 9, [1, 0, 1]),
    ],
)
def test_numeric_aggregates(
    how: str, column: str, op: str, value: int, expected: list[int]
) -> None:
    spec = _spec(
        [
            {
                "name": "x",
                "aggregate": {"how": how, "column": column, "deprived": {"op": op, "value": value}},
            }
        ]
    )
    assert _profile(spec)["x"] == expected


def test_count_and_share_with_params() -> None:
    spec = _spec(
        [
            {
                "name": "n_old",
                "rule": {"column": "age", "op": ">=", "value": {"param": "old_age"}},
                "aggregate": {"how": "count", "deprived": {"op": ">=", "value": 2}},
            },
            {
                "name": "share_kids",
                "rule": {"column": "age", "op": "<", "value": 15},
                "aggregate": {"how": "share", "deprived": {"op": ">", "value": 0.5}},
            },
        ]
    )
    got = _profile(spec, params={"old_age": 65})
    assert got["n_old"] == [0, 1, 0]
    assert got["share_kids"] == [1, 0, 0]
    with pytest.raises(SpecError, match="old_age"):
        identify(PEOPLE, spec)


def test_missing_policies() -> None:
    rule = {"column": "school", "op": "==", "value": 0}
    adults = {"column": "age", "op": ">=", "value": 60}
    base = {"name": "x", "rule": rule, "aggregate": {"how": "any", "members": adults}}
    # household b: eligible members whose value is missing
    assert _profile(_spec([{**base, "missing": "deprived"}]))["x"] == [0, 1, 0]
    assert _profile(_spec([{**base, "missing": "not_deprived"}]))["x"] == [0, 0, 0]
    assert _profile(_spec([base]))["hh"] == ["a", "c"]  # listwise


def test_row_level_rules_comparisons() -> None:
    data = pd.DataFrame(
        {"fuel": ["wood", "gas", None, "coal"], "m": [10, 40, 5, None], "w": [1.0, 1.0, 1.0, 1.0]}
    )
    spec = _spec(
        [
            {
                "name": "fuel",
                "rule": {"column": "fuel", "op": "in", "value": ["wood", "coal"]},
                "missing": "not_deprived",
            },
            {"name": "nofuel", "rule": {"column": "fuel", "op": "is null"}},
            {
                "name": "far",
                "rule": {
                    "any": [
                        {"column": "m", "op": ">=", "value": 30},
                        {"column": "fuel", "op": "not in", "value": ["gas"]},
                    ]
                },
                "missing": "deprived",
            },
        ],
        unit={"analysis": "households"},
    )
    got = _profile(spec, data)
    assert got["row"] == [2, 3, 4, 5]
    assert got["fuel"] == [1, 0, 0, 1]
    assert got["nofuel"] == [0, 0, 1, 0]
    assert got["far"] == [1, 1, 1, 1]


def test_age_from_birth_date() -> None:
    data = pd.DataFrame(
        {"hh": ["a", "a", "b"], "birth_date": ["2010-07-01", "1980-01-01", "1990-12-31"]}
    )
    spec = _spec(
        [
            {
                "name": "child",
                "rule": {"column": "age", "op": "<", "value": 10},
                "aggregate": {"how": "any"},
            }
        ]
    )
    got = _profile(spec, data, reference_date=dt.date(2020, 6, 30))
    assert got["child"] == [1, 0]  # 9 years old on 2020-06-30
    got = _profile(spec, data, reference_date=dt.date(2020, 7, 1))
    assert got["child"] == [0, 0]
    with pytest.raises(InputError, match="age"):
        identify(data, spec)


def test_scores_on_the_cutoff_count_as_poor() -> None:
    # three indicators of weight 1/3: a score of 1/3 in floating point is 0.333…, and
    # 0.1 + 0.2 style sums must not push it below the cutoff
    inds = [{"name": f"d{j}", "column": f"d{j}"} for j in range(3)]
    data = pd.DataFrame({"d0": [1, 0, 0], "d1": [0, 1, 0], "d2": [0, 0, 0]})
    spec = _spec(inds, k=["union", 33.33, "intersection"], unit={"analysis": "households"})
    out = identify(data, spec)
    assert out["poor_union"].tolist() == [True, True, False]
    assert out["poor_k33.33"].tolist() == [True, True, False]
    assert out["poor_intersection"].tolist() == [False, False, False]
    weights = [
        {"name": f"d{j}", "column": f"d{j}", "weight": w}
        for j, w in enumerate(["0.1", "0.2", "0.7"])
    ]
    spec = _spec(weights, k=[30], unit={"analysis": "households"})
    both = pd.DataFrame({"d0": [1], "d1": [1], "d2": [0]})
    assert identify(both, spec)["poor_k30"].tolist() == [True]  # 0.1 + 0.2 >= 0.3 exactly


def test_people_are_counted_by_household_size() -> None:
    data = pd.DataFrame({"hh": ["a", "a", "a", "b"], "d": [1, 1, 1, 0]})
    spec = _spec([{"name": "d", "column": "d"}], unit={"household": "hh", "analysis": "people"})
    res = measure(data, spec, se=False)
    h = res[(res["measure"] == "H") & (res["by"] == "")]["estimate"].iloc[0]
    assert h == pytest.approx(0.75)
    spec_h = _spec(
        [{"name": "d", "column": "d"}], unit={"household": "hh", "analysis": "households"}
    )
    res = measure(data, spec_h, se=False)
    assert res[(res["measure"] == "H") & (res["by"] == "")]["estimate"].iloc[0] == pytest.approx(
        0.5
    )


def test_aggregate_without_household_is_refused() -> None:
    spec = _spec(
        [
            {
                "name": "x",
                "rule": {"column": "age", "op": "<", "value": 5},
                "aggregate": {"how": "any"},
            }
        ],
        unit={"analysis": "households"},
    )
    with pytest.raises(SpecError, match="household"):
        identify(PEOPLE, spec)


def test_subgroup_column_must_be_household_level() -> None:
    data = PEOPLE.assign(sex=["m", "f", "m", "f", "f", "m"])
    spec = _spec([{"name": "d", "rule": {"column": "age", "op": "<", "value": 9}}])
    with pytest.raises(InputError, match="different values within one household") as info:
        measure(data, spec, by=["sex"], se=False)
    assert info.value.row == 3 and info.value.column == "sex"
    ok = measure(data.assign(county=["a", "a", "a", "b", "b", "b"]), spec, by=["county"], se=False)
    assert set(ok.loc[ok["by"] == "county", "group"]) == {"a", "b"}
