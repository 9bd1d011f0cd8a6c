"""Backends and small synthetic records for the registry tests (overridable by keyword)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dongxi.pii.idnumber import build_id

#: The registry backends every test runs on.
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

VILLAGE = "450123100200"  # a village code of 隆安县 (the code need not exist for the store)


def household(code: str = "H0001", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "household_code": code,
        "village_code": VILLAGE,
        "status": "registered_poor",
        "monitoring_category": None,
        "year_registered": 2015,
        "year_exited": None,
        "primary_cause": "illness",
        "poverty_causes": "illness;lack_skills",
        "housing_grade": "B",
        "water_quantity_ok": True,
        "water_quality_ok": True,
        "water_convenience_ok": False,
        "water_guarantee_ok": True,
        "road_access": True,
        "electricity": True,
    }
    data.update(overrides)
    return data


def person(household_code: str = "H0001", member_no: int = 1, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "household_code": household_code,
        "member_no": member_no,
        "name": "测试人",
        "relation": "head" if member_no == 1 else "child",
        "sex": "male",
        "birth_date": dt.date(1970, 3, 15),
        "ethnicity": "壮族",
        "education": "junior",
        "school_status": "not_in_school",
        "health": "healthy",
        "medical_insurance": True,
        "pension_insurance": True,
        "labour_capacity": "normal",
        "employment": "migrant_out",
        "work_region_code": "440300",
        "sector": "manufacturing",
        "monthly_wage": 3485.0,
        "months_worked": 10,
    }
    data.update(overrides)
    return data


def id_number(sequence: int = 123, birth: dt.date = dt.date(1970, 3, 15)) -> str:
    return build_id(region_code="450123", birth_date=birth, sequence=sequence)


def income(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "wage_income": 20000.0,
        "operating_income": 6000.0,
        "property_income": 200.0,
        "transfer_income": 3000.0,
        "production_costs": 2200.0,
        "household_size": 4,
    }
    data.update(overrides)
    return data
