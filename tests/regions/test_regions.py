"""Packaged region data agree with the shared originals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dongxi import regions


def test_counts_match_readme() -> None:
    gx = regions.divisions(2023, ("45",))
    assert gx["level"].value_counts().to_dict() == {
        "province": 1,
        "prefecture": 14,
        "county": 111,
        "township": 1284,
        "village": 16681,
    }
    gx17 = regions.divisions(2017, ("45",))
    assert len(gx17) == 17879
    assert len(regions.poverty_counties()) == 33
    assert len(regions.pairings()) == 16
    assert len(regions.pairings(2019)) == 8


def test_pairings_continue_after_2020() -> None:
    """The 2021 adjustment: every Guangxi city of the 33 counties keeps a Guangdong partner
    through 2025; Nanning and Guilin move to Shenzhen; every row has a source and a period."""
    counties = regions.poverty_counties()
    west = set(counties["west_city_code"])
    for year in range(2017, 2026):  # the 2016–2020 round began in 2017 outside Shenzhen's
        pairs = regions.pairings(year)
        assert west <= set(pairs["west_city_code"]), year
        assert pairs["west_city_code"].is_unique, year
    later = regions.pairings(2021).set_index("west_city_code")["east_city_code"]
    assert later["450100"] == "440300" and later["450300"] == "440300"
    earlier = regions.pairings(2020).set_index("west_city_code")["east_city_code"]
    assert earlier["450100"] == "440900" and earlier["450300"] == "441200"
    kept = [c for c in earlier.index if c not in ("450100", "450300")]
    assert (later[kept] == earlier[kept]).all()
    both = regions.pairings()
    assert (both["source"].str.startswith("http")).all()
    assert set(both["confidence"]) <= {"high", "medium"}
    assert set(regions.pairings(2026)["period"]) == set()


def test_identical_to_shared(shared_dir: Path) -> None:
    original = pd.read_csv(
        shared_dir / "data/regions/guangdong_divisions_2017.csv", dtype=str, keep_default_na=False
    )
    packaged = regions.divisions(2017, ("44",))
    assert packaged["code"].tolist() == original["code"].tolist()
    assert packaged["name"].tolist() == original["name"].tolist()


def test_parents_exist_and_sides() -> None:
    frame = regions.divisions(2023)
    codes = set(frame["code"])
    assert frame["parent_code"].dropna().isin(codes).all()
    assert regions.side_of("451026") == "west"
    assert regions.side_of("440300") == "east"
    assert regions.side_of("110000") is None
