"""Fixtures of the monitoring tests: a small snapshot folder in Guangxi (隆安县)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from .frames import household, measure, member, months
from .snapshot_folder import write_snapshot

# two villages of 隆安县 (Guangxi); the first household is under the line and not monitored
V1, V2 = "450123100201", "450123101201"


def policy_file(tmp_path: Path, line: float = 6000.0) -> Path:
    path = tmp_path / "policy.csv"
    path.write_text(
        "name,scope,value,unit,year,source\n"
        f"monitoring_line,450000,{line},yuan,2024,test figure\n"
        f"monitoring_line,450000,{line},yuan,2025,test figure\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    households = pd.DataFrame(
        [
            household("A", "escaped", year_exited=2019, village_code=V1),
            household("B", village_code=V2, housing_grade="D"),
            household("C", "monitored", monitoring_category="marginal", village_code=V1),
            household("D", village_code=V2),
        ]
    )
    people = pd.DataFrame(
        [member("A"), member("B"), member("C", labour_capacity="none"), member("D")]
    )
    income = pd.DataFrame(
        months("A", 450.0) + months("B") + months("C") + months("D", skip=("2024-05",))
    )
    history = pd.DataFrame(
        {
            "household_code": ["C"],
            "status": ["monitored"],
            "monitoring_category": ["marginal"],
            "effective_date": [dt.date(2023, 5, 1)],
        }
    )
    return write_snapshot(
        tmp_path / "snap",
        {
            "households": households,
            "people": people,
            "income_months": income,
            "measures": pd.DataFrame([measure("B")]),
            "household_status": history,
        },
    )
