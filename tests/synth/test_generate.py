"""dongxi.synth.generate: shapes, determinism, invariants, statistics near their targets."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synth_invariants import COLUMNS, age_on, check_domains, check_tables, id_ok

from dongxi.errors import InputError
from dongxi.synth import TABLES, SynthData, check_digit, generate
from dongxi.synth._stats import AGE_STRUCTURE, INCOME_LEVEL_FACTOR, poverty_line, rural_income


def test_columns_are_those_of_the_data_dictionary(medium: SynthData) -> None:
    for name in TABLES:
        assert list(getattr(medium, name).columns) == COLUMNS[name], name
    for r in medium.rounds.values():
        assert list(r.households.columns) == COLUMNS["households"]
        assert list(r.people.columns) == COLUMNS["people"]
        assert list(r.income.columns) == COLUMNS["income"]


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = generate(households=400, seed=3)
    b = generate(households=400, seed=3)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    for year in a.rounds:
        pd.testing.assert_frame_equal(a.rounds[year].people, b.rounds[year].people)
    c = generate(households=400, seed=4)
    assert not a.people["id_number"].equals(c.people["id_number"])


def test_invariants_hold_in_every_round(medium: SynthData) -> None:
    tables = medium.tables()
    check_domains(tables)
    for r in medium.rounds.values():
        check_tables(r.households, r.people, r.income, vintage=medium.vintage)
        sizes = r.people.groupby("household_code").size()
        assert (r.income.set_index("household_code")["household_size"] == sizes).all()
        check_domains({**tables, "households": r.households, "people": r.people})
    assert medium.income.groupby("household_code").size().eq(len(medium.years)).all()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    households=st.integers(1, 200),
    first=st.integers(2014, 2021),
    span=st.integers(0, 3),
    vintage=st.sampled_from([2017, 2023]),
)
def test_invariants_for_any_seed_and_size(
    seed: int, households: int, first: int, span: int, vintage: int
) -> None:
    years = tuple(range(first, first + span + 1))
    data = generate(households=households, seed=seed, years=years, vintage=vintage)
    assert len(data.households) == households
    assert set(data.rounds) == set(years)
    check_domains(data.tables())
    for r in data.rounds.values():
        check_tables(r.households, r.people, r.income, vintage=vintage)
    assert data.measures["measure_code"].is_unique
    if len(data.measures):
        known = set(data.households["household_code"])
        assert data.measures["household_code"].dropna().isin(known).all()
        assert data.measures["helper_id"].dropna().isin(set(data.helpers["helper_id"])).all()
        assert data.measures["partner_code"].dropna().isin(set(data.partners["partner_code"])).all()
        assert (data.measures["end_date"] >= data.measures["start_date"]).all()
    assert data.households["helper_id"].dropna().isin(set(data.helpers["helper_id"])).all()


def test_check_digit_matches_the_standard() -> None:
    # the worked example of GB 11643-1999 (Beijing, 1949-12-31)
    assert check_digit("11010519491231002") == "X"
    assert id_ok("11010519491231002X")
    with pytest.raises(ValueError, match="17 digits"):
        check_digit("123")


def test_household_size_and_age_structure_near_targets(medium: SynthData) -> None:
    r = medium.rounds[2020]
    size = r.income["household_size"]
    poor = r.households["year_registered"].notna().to_numpy()
    assert 2.87 <= size.mean() <= 3.4
    assert size[poor].mean() > size[~poor].mean() + 0.4
    age = age_on(r.people["birth_date"], date(2020, 12, 31))
    shares = {
        "0-14": (age < 15).mean(),
        "15-59": ((age >= 15) & (age < 60)).mean(),
        "60+": (age >= 60).mean(),
    }
    for band, target in AGE_STRUCTURE.items():
        assert abs(shares[band] - target) < 0.03, (band, shares[band], target)


def test_income_level_and_growth_follow_the_provincial_series(medium: SynthData) -> None:
    income = medium.income
    for year, rows in income.groupby("year"):
        net = (rows["net_income_per_capita"] * rows["household_size"]).sum()
        per_person = net / rows["household_size"].sum()
        target = INCOME_LEVEL_FACTOR * rural_income(int(year))
        assert abs(per_person / target - 1) < 0.15, (year, per_person, target)


def test_registered_poor_are_below_the_line_and_exit_above_it(medium: SynthData) -> None:
    counts = []
    for year, r in medium.rounds.items():
        net = r.income["net_income_per_capita"].to_numpy()
        status = r.households["status"].to_numpy()
        line = poverty_line(year)
        poor = status == "registered_poor"
        counts.append(poor.sum())
        if poor.any():
            assert np.median(net[poor]) < line
        escaped = status == "escaped"
        assert (net[escaped] >= line).all()
    assert counts == sorted(counts, reverse=True)  # poverty falls year by year
    assert counts[-1] == 0  # and is gone by 2020


def test_correlations_that_make_the_measures_meaningful(medium: SynthData) -> None:
    r = medium.rounds[2018]
    people = r.people.merge(r.income[["household_code", "net_income_per_capita"]])
    adults = people[people["relation"] == "head"]
    educated = adults["education"].isin(["senior", "vocational", "college"])
    assert (
        adults.loc[educated, "net_income_per_capita"].median()
        > adults.loc[~educated, "net_income_per_capita"].median()
    )
    is_migrant = people["employment"].isin(["migrant_out", "migrant_in"])
    migrant = is_migrant.groupby(people["household_code"]).any()
    inc = r.income.set_index("household_code")["net_income_per_capita"]
    assert inc[migrant[migrant].index].median() > inc[migrant[~migrant].index].median()
    # deprivations cluster: registered households live in worse houses
    h = medium.rounds[2016].households
    unsafe = h["housing_grade"].isin(["C", "D"])
    poor = h["status"] == "registered_poor"
    never = h["status"] == "never"
    assert unsafe[poor].mean() > 2 * unsafe[never].mean()
    registered = h["year_registered"].notna()
    # poor households hold more children, elderly and sick
    p = medium.rounds[2016].people
    p = p.assign(registered=p["household_code"].isin(set(h.loc[registered, "household_code"])))
    ill = p["health"] != "healthy"
    assert ill[p["registered"]].mean() > ill[~p["registered"]].mean()


def test_rounds_change_over_time(medium: SynthData) -> None:
    first, last = medium.rounds[2016], medium.rounds[2020]
    both = first.people.merge(last.people, on="id_number", suffixes=("_a", "_b"))
    assert len(both) == len(first.people)  # nobody leaves; newborns join
    assert len(last.people) > len(first.people)
    gap = age_on(both["birth_date_a"], date(2020, 12, 31)) - age_on(
        both["birth_date_a"], date(2016, 12, 31)
    )
    assert np.allclose(gap, 4.0, atol=0.01)
    entered = (both["school_status_a"] != "primary") & (both["school_status_b"] == "primary")
    assert entered.sum() > 0
    moved = (both["employment_a"] != both["employment_b"]).mean()
    assert 0.02 < moved < 0.6
    assert (first.households["status"] == "registered_poor").sum() > 0
    unsafe_first = first.households["housing_grade"].isin(["C", "D"]).mean()
    unsafe_last = last.households["housing_grade"].isin(["C", "D"]).mean()
    assert unsafe_last < unsafe_first
    # the history records every change: its last row per household is the current state
    history = medium.household_status.groupby("household_code").tail(1).set_index("household_code")
    current = medium.households.set_index("household_code")
    assert (history.loc[current.index, "status"] == current["status"]).all()
    relapsed = medium.household_status["reason"] == "relapsed"
    assert relapsed.sum() > 0


def test_monitoring_after_2020(beyond_2020: SynthData) -> None:
    r = beyond_2020.rounds[2022]
    status = r.households["status"]
    assert (status == "registered_poor").sum() == 0
    monitored = r.households[status == "monitored"]
    assert len(monitored) > 0
    assert set(monitored["monitoring_category"]) >= {"unstable_escaped", "marginal"}
    check_tables(r.households, r.people, r.income, vintage=2017)


def test_scales_use_real_areas() -> None:
    village = generate(scale="village", seed=1, years=(2020,))
    assert village.households["village_code"].nunique() == 1
    assert len(village.households) == 330
    sized = generate(households=990, scale="village", seed=1, years=(2020,))
    assert len(sized.households) == 990


@pytest.mark.slow
def test_county_and_city_scales() -> None:
    county = generate(scale="county", seed=2, years=(2020,))
    assert county.households["county_code"].nunique() == 1
    assert len(county.households) > 20_000
    city = generate(scale="city", seed=2, years=(2020,), households=5_000)
    codes = city.households["county_code"].str[:4].unique()
    assert len(codes) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"households": 0}, "positive"),
        ({"scale": "planet"}, "Unknown scale"),
        ({"years": (2010,)}, "2014"),
        ({"years": ()}, "2014"),
        ({"vintage": 2020, "households": 5}, "vintage"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        generate(**kwargs)  # type: ignore[arg-type]


def test_public_api_is_pinned() -> None:
    import dongxi.synth as synth

    assert set(synth.__all__) == {
        "SCALES",
        "SHOCK_KINDS",
        "TABLES",
        "Rounds",
        "Scale",
        "SynthData",
        "check_digit",
        "generate",
        "write_files",
    }
    assert len(generate(households=np.int64(5), seed=1, years=(2020,)).households) == 5
    with pytest.raises(InputError):
        generate(households=True)
