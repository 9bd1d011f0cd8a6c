"""Small registry-shaped tables for the monitoring tests (plain DataFrames, synthetic)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

#: The date of the check in most tests: income is read over 2024-03..2025-02.
AS_OF = dt.date(2025, 3, 10)
LINE = 6000.0
WATER = ("water_quantity_ok", "water_quality_ok", "water_convenience_ok", "water_guarantee_ok")


def household(code: str, status: str = "never", **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "household_code": code,
        "village_code": "450123100001",
        "status": status,
        "monitoring_category": None,
        "year_exited": None,
        "housing_grade": "A",
        **dict.fromkeys(WATER, True),
    }
    row.update(values)
    return row


def member(code: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "household_code": code,
        "member_no": 1,
        "relation": "head",
        "labour_capacity": "normal",
        "medical_insurance": True,
        "school_status": "not_in_school",
        "health": "healthy",
    }
    row.update(values)
    return row


def months(
    code: str,
    net: float | Mapping[str, float] = 600.0,
    *,
    first: str = "2023-01",
    last: str = "2025-02",
    size: int = 1,
    skip: Iterable[str] = (),
    **monthly: float | Mapping[str, float],
) -> list[dict[str, Any]]:
    """Monthly rows first..last; ``net`` (and medical_spending=…, …) a figure or month → figure
    (months not named take 0 for spending, 600 for net income)."""
    skipped = set(skip)

    def value(spec: float | Mapping[str, float], month: str, default: float) -> float:
        if isinstance(spec, Mapping):
            return float(spec.get(month, default))
        return float(spec)

    rows = []
    for period in pd.period_range(first, last, freq="M"):
        m = str(period)
        if m in skipped:
            continue
        row = {
            "household_code": code,
            "month": m,
            "net_income": value(net, m, 600.0),
            "medical_spending": 0.0,
            "schooling_spending": 0.0,
            "disaster_loss": 0.0,
            "household_size": size,
        }
        for name, spec in monthly.items():
            row[name] = value(spec, m, 0.0)
        rows.append(row)
    return rows


def measure(
    code: str, batch: str = "employment", status: str = "in_progress", **values: Any
) -> dict[str, Any]:
    row = {
        "measure_code": f"M-{code}-{batch}-{status}",
        "household_code": code,
        "batch": batch,
        "subtype": "务工补贴",
        "status": status,
        "funds": 1000.0,
        "fund_source": "west_fiscal",
    }
    row.update(values)
    return row


def tables(
    households: list[dict[str, Any]],
    people: list[dict[str, Any]] | None = None,
    income: list[dict[str, Any]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    people = people if people is not None else [member(h["household_code"]) for h in households]
    columns = ["household_code", "month", "net_income", "medical_spending", "schooling_spending"]
    columns += ["disaster_loss", "household_size"]
    return (
        pd.DataFrame(households),
        pd.DataFrame(people),
        pd.DataFrame(income or [], columns=columns),
    )
