"""The rules every synthetic table must keep (the validator's rules, checked independently)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from dongxi import regions

COLUMNS = {
    "households": [
        "household_code", "village_code", "county_code", "status", "monitoring_category",
        "year_registered", "year_exited", "primary_cause", "poverty_causes", "housing_grade",
        "water_quantity_ok", "water_quality_ok", "water_convenience_ok", "water_guarantee_ok",
        "road_access", "electricity", "helper_id", "latitude", "longitude",
    ],
    "household_status": [
        "household_code", "status", "monitoring_category", "effective_date", "reason",
    ],
    "people": [
        "household_code", "member_no", "id_number", "name", "relation", "sex", "birth_date",
        "ethnicity", "education", "school_status", "health", "disability_grade",
        "medical_insurance", "pension_insurance", "labour_capacity", "employment",
        "work_region_code", "sector", "monthly_wage", "months_worked", "skills",
    ],
    "income": [
        "household_code", "year", "wage_income", "operating_income", "property_income",
        "transfer_income", "production_costs", "household_size", "net_income_per_capita",
    ],
    "measures": [
        "measure_code", "household_code", "region_code", "batch", "subtype", "helper_id",
        "partner_code", "funds", "fund_source", "start_date", "end_date", "status", "outcome",
    ],
    "partners": ["partner_code", "name", "kind", "region_code", "sector", "contact"],
    "helpers": ["helper_id", "name", "unit", "side", "region_code"],
}  # fmt: skip

DOMAINS = {
    ("households", "status"): {"registered_poor", "escaped", "monitored", "never"},
    ("households", "monitoring_category"): {"unstable_escaped", "marginal", "sudden_hardship"},
    ("households", "primary_cause"): {
        "illness", "disability", "education", "disaster", "lack_land", "lack_water",
        "lack_skills", "lack_labour", "lack_funds", "poor_transport", "lack_motivation", "other",
    },
    ("households", "housing_grade"): {"A", "B", "C", "D"},
    ("people", "relation"): {
        "head", "spouse", "child", "child_in_law", "grandchild", "parent", "grandparent",
        "sibling", "other",
    },
    ("people", "sex"): {"male", "female"},
    ("people", "education"): {
        "none", "primary", "junior", "senior", "vocational", "college", "preschool",
    },
    ("people", "school_status"): {
        "not_in_school", "preschool", "primary", "junior", "senior", "vocational", "college",
        "dropout",
    },
    ("people", "health"): {"healthy", "chronic", "serious", "disabled"},
    ("people", "labour_capacity"): {"skilled", "normal", "weak", "lost", "none"},
    ("people", "employment"): {
        "migrant_out", "migrant_in", "local", "farming", "self_employed", "unemployed",
        "not_applicable",
    },
    ("people", "sector"): {"manufacturing", "construction", "services", "agriculture", "other"},
    ("measures", "batch"): {
        "production", "relocation", "ecological", "education", "social_security", "employment",
        "health", "housing", "consumption",
    },
    ("measures", "fund_source"): {
        "east_fiscal", "east_social", "west_fiscal", "west_social", "credit", "other",
    },
    ("measures", "status"): {"planned", "in_progress", "completed", "cancelled"},
    ("partners", "kind"): {"enterprise", "organisation", "government", "school", "hospital"},
    ("helpers", "side"): {"east", "west"},
}  # fmt: skip

_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_ok(number: str) -> bool:
    """GB 11643 check, written independently of the module under test."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _W, strict=True))
    return "10X98765432"[total % 11] == number[17]


def ids_ok(numbers: pd.Series) -> np.ndarray:
    """The same check for a whole column at once."""
    digits = np.array([list(n[:17]) for n in numbers.tolist()], dtype=int)
    total = digits @ np.array(_W)
    expected = np.array(list("10X98765432"))[total % 11]
    return (numbers.str.len() == 18).to_numpy() & (numbers.str[17].to_numpy() == expected)


def village_codes(vintage: int) -> set[str]:
    div = regions.divisions(vintage)  # type: ignore[arg-type]
    counties = set(regions.poverty_counties()[f"county_code_{vintage}"])
    vil = div[div["level"] == "village"]
    return set(vil.loc[vil["code"].str[:6].isin(counties), "code"])


def check_tables(
    households: pd.DataFrame, people: pd.DataFrame, income: pd.DataFrame, *, vintage: int
) -> None:
    """Every rule of the data dictionary that a validator checks row by row."""
    # households
    assert households["household_code"].is_unique
    assert households["village_code"].isin(village_codes(vintage)).all()
    assert (households["county_code"] == households["village_code"].str[:6]).all()
    status = households["status"]
    monitored = status == "monitored"
    assert (households["monitoring_category"].notna() == monitored).all()
    assert (households["year_exited"].notna() == (status == "escaped")).all()
    needs_reg = status.isin(["registered_poor", "escaped"])
    assert households.loc[needs_reg, "year_registered"].notna().all()
    both = households["year_exited"].notna()
    assert (households.loc[both, "year_exited"] >= households.loc[both, "year_registered"]).all()
    assert households["year_registered"].dropna().between(2014, 2030).all()
    assert (households["primary_cause"].notna() <= households["poverty_causes"].notna()).all()

    # people
    assert people["id_number"].is_unique
    assert ids_ok(people["id_number"]).all()
    birth = people["birth_date"].str.replace("-", "", regex=False)
    assert (people["id_number"].str[6:14] == birth).all()
    odd = people["id_number"].str[16].astype(int) % 2 == 1
    assert (odd == (people["sex"] == "male")).all()
    dates = pd.to_datetime(people["birth_date"], format="%Y-%m-%d")
    assert dates.notna().all()
    assert set(people["household_code"]) == set(households["household_code"])
    heads = people[people["relation"] == "head"].groupby("household_code").size()
    assert len(heads) == len(households) and (heads == 1).all()
    assert not people.duplicated(["household_code", "member_no"]).any()
    assert (people.loc[people["relation"] == "head", "member_no"] == 1).all()
    disabled = people["health"] == "disabled"
    assert (people["disability_grade"].notna() == disabled).all()
    assert people["disability_grade"].dropna().between(1, 4).all()
    wage = people["monthly_wage"]
    assert (wage.dropna() >= 0).all()
    assert people["months_worked"].dropna().between(0, 12).all()
    assert (people["months_worked"].notna() == wage.notna()).all()

    # income: the identity, sizes and signs
    parts = ["wage_income", "operating_income", "property_income", "transfer_income"]
    assert (income[[*parts, "production_costs"]] >= 0).all().all()
    net = income[parts].sum(axis=1) - income["production_costs"]
    per_capita = net / income["household_size"]
    assert (per_capita - income["net_income_per_capita"]).abs().max() <= 0.01
    assert (income["household_size"] >= 1).all()


def check_domains(tables: dict[str, pd.DataFrame]) -> None:
    for (table, column), allowed in DOMAINS.items():
        values = set(tables[table][column].dropna().unique())
        assert values <= allowed, (table, column, values - allowed)


def age_on(birth: pd.Series, day: date) -> np.ndarray:
    born = pd.to_datetime(birth, format="%Y-%m-%d")
    return ((pd.Timestamp(day) - born).dt.days / 365.25).to_numpy()
