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
    assert len(regions.pairings()) == 8


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
