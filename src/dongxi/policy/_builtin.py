"""The built-in policy figures shipped in ``dongxi/policy/data`` (sources in its README)."""

from __future__ import annotations

import datetime
import re
from functools import cache
from importlib import resources

import pandas as pd

from dongxi.policy._model import NATIONAL, PolicyValue, normalise_scope

__all__ = ["builtin_parameters"]

_YUAN = "yuan per person per year"


def _read(name: str) -> list[dict[str, str]]:
    path = resources.files("dongxi.policy") / "data" / name
    with resources.as_file(path) as real:
        frame = pd.read_csv(real, dtype=str, keep_default_na=False)
    return [{str(k): str(v) for k, v in rec.items()} for rec in frame.to_dict("records")]


def _year_span(year: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def _scope_and_place(text: str) -> tuple[str, str]:
    """``"420300 (Shiyan city; Hubei)"`` → (``"420300"``, ``"Shiyan city; Hubei"``)."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:\((.*)\))?\s*", text)
    if match is None:
        return normalise_scope(text), ""
    return normalise_scope(match.group(1)), match.group(2) or ""


def _poverty_lines() -> list[PolicyValue]:
    out = []
    for row in _read("poverty_lines.csv"):
        start, end = _year_span(int(row["year"]))
        out.append(
            PolicyValue(
                name="poverty_line",
                scope=normalise_scope(row["scope"]),
                value=float(row["line_yuan_per_person_year"]),
                unit=_YUAN,
                effective_from=start,
                effective_to=end,
                status=row["status"],
                source=row["source"],
                note=f"{row['income_concept']}; 2,300 yuan per person per year at 2010 prices",
            )
        )
    return out


def _monitoring_lines() -> list[PolicyValue]:
    out = []
    for row in _read("monitoring_lines.csv"):
        start, end = _year_span(int(row["year"]))
        scope, place = _scope_and_place(row["scope"])
        note = row["rule"]
        if place:
            note = f"{place}: {note}"
        if scope == NATIONAL:
            note += "; from 2022 each province sets its own line (supply it as an override)"
        out.append(
            PolicyValue(
                name="monitoring_line",
                scope=scope,
                value=float(row["line_yuan_per_person_year"]),
                unit=_YUAN,
                effective_from=start,
                effective_to=end,
                status=row["status"],
                source=row["source"],
                note=note,
            )
        )
    return out


def _optional_date(text: str) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None


def _criteria() -> list[PolicyValue]:
    out = []
    for row in _read("criteria.csv"):
        out.append(
            PolicyValue(
                name=row["name"],
                scope=normalise_scope(row["scope"]),
                value=float(row["value"]),
                unit=row["unit"],
                effective_from=datetime.date.fromisoformat(row["effective_from"]),
                effective_to=_optional_date(row["effective_to"]),
                status=row["status"],
                source=row["source"],
                note=row["note"],
            )
        )
    return out


@cache
def builtin_parameters() -> tuple[PolicyValue, ...]:
    """Every built-in figure, sorted by name, scope and start date."""
    values = _poverty_lines() + _monitoring_lines() + _criteria()
    values.sort(key=lambda v: (v.name, v.scope != NATIONAL, v.scope, v.effective_from))
    return tuple(values)
