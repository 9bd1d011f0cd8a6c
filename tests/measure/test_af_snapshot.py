"""``dongxi measure`` on a registry snapshot folder (people ← households ← income of the year)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from dongxi.cli import main
from dongxi.store import SNAPSHOT_TABLES


def _snapshot(folder: Path) -> Path:
    households = pd.DataFrame(
        {
            "household_code": ["h1", "h2", "h3", "h4"],
            "village_code": ["451022100001"] * 4,
            "county_code": ["451022", "451022", "451026", "451026"],
            "housing_grade": ["A", "C", "B", "A"],
            "water_quantity_ok": [True, True, False, True],
            "water_quality_ok": [True] * 4,
            "water_convenience_ok": [True] * 4,
            "water_guarantee_ok": [True] * 4,
            "electricity": [True] * 4,
        }
    )
    people = pd.DataFrame(
        {
            "household_code": ["h1", "h1", "h2", "h3", "h3", "h4"],
            "member_no": [1, 2, 1, 1, 2, 1],
            "birth_date": [
                "1970-01-01",
                "2010-05-01",
                "1960-01-01",
                "1980-01-01",
                "2011-01-01",
                "1990-01-01",
            ],
            "school_status": [
                "not_in_school",
                "dropout",
                "not_in_school",
                "not_in_school",
                "primary",
                "not_in_school",
            ],
            "medical_insurance": [True, True, True, False, True, True],
        }
    )
    income = pd.DataFrame(
        {
            "household_code": ["h1", "h2", "h3", "h4", "h1"],
            "year": [2020, 2020, 2020, 2020, 2019],
            "net_income_per_capita": [6000.0, 9000.0, 3000.0, 12000.0, 100.0],
            "household_size": [2, 1, 2, 1, 2],
        }
    )
    folder.mkdir()
    households.to_parquet(folder / "households.parquet")
    people.to_parquet(folder / "people.parquet")
    income.to_parquet(folder / "income.parquet")
    frames = {"households": households, "people": people, "income": income}
    # a manifest lists every table of a snapshot; the others are empty here
    for name in SNAPSHOT_TABLES:
        if name not in frames:
            frames[name] = pd.DataFrame({"unused": pd.Series([], dtype="int64")})
            frames[name].to_parquet(folder / f"{name}.parquet")
    tables = {
        name: {
            "file": f"{name}.parquet",
            "rows": len(frame),
            "sha256": hashlib.sha256((folder / f"{name}.parquet").read_bytes()).hexdigest(),
        }
        for name, frame in frames.items()
    }
    manifest = {"snapshot_id": "test", "tables": tables}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_official_criteria_on_a_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = _snapshot(tmp_path / "snap")
    hh = tmp_path / "hh.csv"
    code = main(
        [
            "measure",
            "--spec",
            "china_official",
            "--data",
            str(snap),
            "--year",
            "2020",
            "--by",
            "county_code",
            "--households-out",
            str(hh),
            "--no-se",
        ]
    )
    assert code == 0, capsys.readouterr().err
    # registry data: the cadres' list (Chinese headers; docs/measure.md "--households-out")
    listed = pd.read_csv(hh, encoding="utf-8-sig", dtype=str).set_index("户编号")
    poor = listed["是否识别为贫困"]
    # h1: child (10) dropped out; h2: unsafe house; h3: income below the line, uninsured,
    # water quantity not met; h4: nothing
    assert poor.to_dict() == {"h1": "是", "h2": "是", "h3": "是", "h4": "否"}
    assert "住房不安全" in listed.loc["h2", "未达标项"]


def test_not_a_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["measure", "--spec", "global_mpi", "--data", str(tmp_path / "empty")]) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_a_changed_snapshot_is_refused_before_it_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = _snapshot(tmp_path / "snap")
    people = pd.read_parquet(snap / "people.parquet")
    people.loc[people["household_code"] == "h1", "school_status"] = "primary"  # a quiet edit
    people.to_parquet(snap / "people.parquet")
    args = ["measure", "--spec", "china_official", "--data", str(snap), "--year", "2020"]
    assert main([*args, "--no-se"]) == 2
    err = capsys.readouterr().err
    assert "does not match its manifest" in err and "people: SHA-256 differs" in err
