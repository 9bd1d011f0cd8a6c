"""Checks of the input table against a spec, with errors that name the row, column and fix.

Rows are numbered as a spreadsheet user sees them: the header is row 1, the first data row is
row 2. Values are quoted only when they are codes or numbers the user typed into a design or
indicator column, never identifiers of people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dongxi.errors import InputError
from dongxi.measure._spec import MeasureSpec

__all__ = ["add_age", "check_household_level", "validate"]


def _row(frame: pd.DataFrame, pos: int) -> int:
    return pos + 2


def add_age(
    frame: pd.DataFrame, spec: MeasureSpec, ref: dt.date | None, *, source: str | None
) -> pd.DataFrame:
    """Add ``age`` in whole years at ``ref`` from the spec's birth-date column, when needed.

    Without a birth-date column, a ``birth_year`` column (registry snapshots hold the year only,
    ``docs/security.md``) gives the age reached in the reference year, ``ref.year - birth_year``:
    exact at the default reference date, 31 December.
    """
    bcol = spec.birth_date
    if "age" in frame.columns or ref is None:
        return frame
    if bcol not in frame.columns:
        if "birth_year" not in frame.columns:
            return frame
        years = pd.to_numeric(frame["birth_year"], errors="coerce").astype("Float64")
        return frame.assign(age=ref.year - years)
    born = pd.to_datetime(frame[bcol], errors="coerce")
    bad = born.isna() & frame[bcol].notna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            "A birth date is not a valid date.",
            file=source,
            row=_row(frame, pos),
            column=bcol,
            rule="date",
            fix="Write dates as YYYY-MM-DD.",
        )
    year = born.dt.year
    before = (born.dt.month > ref.month) | ((born.dt.month == ref.month) & (born.dt.day > ref.day))
    age = ref.year - year - before.astype("Int64")
    return frame.assign(age=age.astype("Float64"))


def validate(
    frame: pd.DataFrame, spec: MeasureSpec, needed: Sequence[str], *, source: str | None
) -> None:
    """Raise :class:`InputError` for the first problem found, located by row and column."""
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        hint = ""
        if "age" in missing and (spec.birth_date in frame.columns or "birth_year" in frame.columns):
            hint = " Age is derived from the birth date only when a reference date is given."
        raise InputError(
            f"The data has no column '{missing[0]}' that the spec or --by needs.{hint}",
            file=source,
            column=missing[0],
            rule="column",
            fix="Rename the column in the data or in the spec; available columns: "
            + ", ".join(map(str, list(frame.columns)[:30])),
        )
    if len(frame) == 0:
        raise InputError(
            "The data has no rows.", file=source, rule="empty", fix="Give a table with data."
        )
    for ind in spec.indicators:
        if ind.column is None:
            continue
        col = frame[ind.column]
        arr = col.to_numpy()
        if arr.dtype.kind == "b" or (
            arr.dtype.kind in "iu" and bool(((arr == 0) | (arr == 1)).all())
        ):
            continue
        num = pd.to_numeric(col, errors="coerce")
        bad = (num.isna() & col.notna()) | (num.notna() & ~num.isin([0, 1]))
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"Indicator '{ind.name}' must be 0 (not deprived) or 1 (deprived).",
                file=source,
                row=_row(frame, pos),
                column=ind.column,
                value=_plain(col.iloc[pos]),
                rule="indicator_01",
                fix="Recode the column to 0/1 (empty for missing), or define the indicator with "
                "a rule in the spec.",
            )
    d = spec.design
    if d.weight:
        w = pd.to_numeric(frame[d.weight], errors="coerce")
        bad = w.isna() | ~(w > 0) | ~np.isfinite(w.fillna(0.0))
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                "Sampling weights must be positive numbers.",
                file=source,
                row=_row(frame, pos),
                column=d.weight,
                value=_plain(frame[d.weight].iloc[pos]),
                rule="weight",
                fix="Give every row a weight > 0, or drop rows that are not in the sample.",
            )
    if spec.unit.size:
        s = pd.to_numeric(frame[spec.unit.size], errors="coerce")
        bad = s.isna() | ~(s > 0)
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                "Household size must be a positive number.",
                file=source,
                row=_row(frame, pos),
                column=spec.unit.size,
                value=_plain(frame[spec.unit.size].iloc[pos]),
                rule="size",
                fix="Give the number of members (at least 1).",
            )
    for name in (d.strata, d.psu, spec.unit.household):
        if name and frame[name].isna().any():
            pos = int(np.flatnonzero(frame[name].isna().to_numpy())[0])
            raise InputError(
                "Design and household id columns must not be empty.",
                file=source,
                row=_row(frame, pos),
                column=name,
                rule="design",
                fix=f"Fill '{name}' on every row.",
            )
    if d.psu and d.strata:
        p_codes, p_uniq = pd.factorize(frame[d.psu])
        s_codes, _ = pd.factorize(frame[d.strata])
        first = np.full(len(p_uniq), -1, dtype=np.int64)
        first[p_codes[::-1]] = s_codes[::-1]
        clash = first[p_codes] != s_codes
        if clash.any():
            psu_value = frame[d.psu].iloc[int(np.flatnonzero(clash)[0])]
            pos = int(np.flatnonzero((frame[d.psu] == psu_value).to_numpy())[0])
            raise InputError(
                "A PSU appears in two strata; PSUs must be nested in strata.",
                file=source,
                row=_row(frame, pos),
                column=d.psu,
                value=_plain(psu_value),
                rule="psu_nested",
                fix="Give PSUs ids that are unique across strata (e.g. stratum * 1000 + psu).",
            )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_household_level(
    frame: pd.DataFrame, spec: MeasureSpec, by: Sequence[str], *, source: str | None
) -> None:
    """Design, weight, round and subgroup columns must not vary within a household."""
    hh = spec.unit.household
    if hh is None:
        return
    d = spec.design
    cols = [c for c in (d.weight, d.strata, d.psu, spec.unit.size) if c]
    if spec.rounds is not None:
        cols += [c for c in (spec.rounds.column, spec.rounds.year) if c]
    cols += [c for c in by if c not in cols and c != hh]
    if not cols:
        return
    codes = pd.factorize(frame[hh])[0]
    for col in cols:
        values = pd.factorize(frame[col], use_na_sentinel=False)[0]
        first = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
        first[codes[::-1]] = values[::-1]
        varies = first[codes] != values
        if varies.any():
            pos = int(np.flatnonzero(varies)[0])
            raise InputError(
                f"Column '{col}' takes different values within one household, but households "
                "are the unit of identification.",
                file=source,
                row=_row(frame, pos),
                column=col,
                rule="household_level",
                fix="Use a household-level column here (e.g. the head's sex or the household's "
                "county), or give every member of a household the same value.",
            )
