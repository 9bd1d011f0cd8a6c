"""Validation of import tables before anything is written (pure: DataFrame in, errors out).

:func:`validate_frame` takes a table whose columns are already canonical (see
:func:`dongxi.intake.headers.to_canonical`) and whose cells are text as the user wrote them (or
already typed values, as ``dongxi.synth`` produces), and returns a :class:`Validated`: the typed
canonical frame and every :class:`dongxi.errors.RowError` found. Checks, in order:

1. types and value domains per column (numbers, dates, yes/no, enumerations with Chinese labels),
   required fields, text lengths (from the registry's column sizes);
2. resident ID numbers: format, GB 11643 check digit, consistency with birth date and sex digit;
   a masked number (``4501**************``, as ``dongxi export`` writes by default; the older
   ``4501**********1234`` too) is accepted for a person already in the registry at the same
   household and member number, and a masked birth date (``1984-**-**``) for a person whose
   clear ID number or registry record gives the date (of the same year);
3. regions: the village code exists and is a village, of the given county;
4. cross-field rules: status ↔ monitoring category ↔ years, disability grade iff disabled,
   head iff member 1, income identity to ±1 yuan, measure target and dates;
5. duplicates within the file (natural key; for people also the keyed ID hash and the member
   number) and against the registry (the same person in another household);
6. references: people/income/measures → households, households/measures → helpers, measures →
   partners, in the registry or earlier in the same import.

What the registry holds is passed in as a :class:`RegistryView` (sets and a small frame), so this
module never touches a database. Rows are numbered as the user sees them in the sheet (header =
row 1). Error values never contain names; ID numbers are shown masked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from dongxi.errors import RowError
from dongxi.intake._cells import typed
from dongxi.intake._rules import RULES, Collector
from dongxi.intake.columns import HOURS_PER_DAY, TABLE_KINDS, Kind
from dongxi.pii.idnumber import mask_id

__all__ = ["RULES", "RegistryView", "Validated", "validate_frame"]

_MASKED_RE = re.compile(r"^\d{4}(?:\*{14}|\*{10}\d{3}[\dX])$")
_MASKED_DATE_RE = re.compile(r"^\s*(\d{4})-\*\*-\*\*\s*$")
#: An ID number that went through a number cell: scientific notation, a decimal point, or 17
#: digits (the final X lost).
_ID_AS_NUMBER_RE = re.compile(r"^[0-9]+(?:\.[0-9]*)?E\+?[0-9]+$|^[0-9]+\.[0-9]*$|^[0-9]{17}$")


@cache
def province_prefixes() -> frozenset[str]:
    """The two-digit codes of China's provinces (from the packaged national division list)."""
    from dongxi import regions

    frame = regions.national_counties()
    return frozenset(frame["code"].astype(str).str.slice(0, 2))


def _bad_province(codes: pd.Series) -> pd.Series:
    """Present codes whose first two digits are not a province."""
    present = codes.notna()
    prefix = codes.where(present, "").astype(str).str.slice(0, 2)
    return present & ~prefix.isin(province_prefixes())


@dataclass(frozen=True)
class RegistryView:
    """What validation needs to know about the registry (and earlier parts of the same import).

    ``people`` has columns ``id_hash, household_code, member_no, id_masked`` and optionally
    ``birth_date`` (may be empty).
    ``check_regions=False`` skips region existence checks (for tests without region data).
    """

    village_codes: frozenset[str] = frozenset()
    region_codes: frozenset[str] = frozenset()
    households: frozenset[str] = frozenset()
    helpers: frozenset[str] = frozenset()
    partners: frozenset[str] = frozenset()
    people: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {
                "id_hash": pd.Series(dtype=object),
                "household_code": pd.Series(dtype=object),
                "member_no": pd.Series(dtype="int64"),
                "id_masked": pd.Series(dtype=object),
            }
        )
    )
    check_regions: bool = True


@dataclass
class Validated:
    """The typed canonical frame (plus ``_row``; for people ``id_hash`` and ``id_masked``) and
    every error found."""

    kind: Kind
    frame: pd.DataFrame
    errors: list[RowError]

    @property
    def bad_rows(self) -> set[int]:
        """Sheet row numbers with at least one error."""
        return {e.row for e in self.errors if e.row is not None}

    @property
    def valid(self) -> pd.DataFrame:
        """The rows without any error."""
        bad = self.bad_rows
        return self.frame[~self.frame["_row"].isin(bad)]


# --- rule groups ------------------------------------------------------------------------------


def _check_range(
    out: Collector,
    typed: pd.DataFrame,
    column: str,
    lo: float | None,
    hi: float | None,
    shown: pd.Series | None = None,
) -> None:
    values = typed[column].astype("Float64")
    bad = pd.Series(False, index=typed.index)
    if lo is not None:
        bad |= (values < lo).fillna(False).astype(bool)
    if hi is not None:
        bad |= (values > hi).fillna(False).astype(bool)
    text = f"[{'' if lo is None else f'{lo:g}'}, {'' if hi is None else f'{hi:g}'}]"
    out.add(
        bad, "range", column, typed[column].astype(object) if shown is None else shown, range=text
    )


def _region_checks(
    out: Collector, typed: pd.DataFrame, column: str, view: RegistryView, *, village: bool
) -> None:
    codes = typed[column]
    present = codes.notna()
    digits = codes.where(present, "0").astype(str).str.fullmatch(r"\d{6}|\d{9}|\d{12}")
    out.add(present & ~digits, "code_format", column, codes)
    if not view.check_regions:
        return
    ok = present & digits
    known = codes.isin(view.region_codes) | codes.isin(view.village_codes)
    out.add(ok & ~known, "region_unknown", column, codes)
    if village:
        is_village = codes.isin(view.village_codes)
        out.add(ok & known & ~is_village, "region_not_village", column, codes)


def _duplicate_keys(out: Collector, typed: pd.DataFrame, kind: Kind) -> None:
    """Rows repeating the natural key of ``kind`` (reported on its last column)."""
    key = list(TABLE_KINDS[kind].file_key)
    _duplicates(out, typed, key, "duplicate_key", key[-1])


def _duplicates(
    out: Collector, typed: pd.DataFrame, key: list[str], rule: str, column: str
) -> None:
    sub = typed[key]
    complete = sub.notna().all(axis=1)
    if not complete.any():
        return
    dup = sub.duplicated(keep="first") & complete
    if not dup.any():
        return
    first_row = (
        typed.loc[complete, [*key, "_row"]].groupby(key, sort=False)["_row"].transform("first")
    )
    other = pd.Series("", index=typed.index, dtype=object)
    other.loc[first_row.index] = first_row.astype(str)
    values = sub[key[-1]].astype(object)
    if column == "id_number":
        values = typed["id_masked"]
    out.add(dup, rule, column, values, other=other)


def _households(out: Collector, t: pd.DataFrame, view: RegistryView) -> None:
    _region_checks(out, t, "village_code", view, village=True)
    county = t["county_code"]
    wrong_county = county.notna() & t["village_code"].notna()
    wrong_county &= t["village_code"].astype(str).str.slice(0, 6) != county.astype(str)
    out.add(wrong_county, "region_county", "county_code", county)
    cfmt = county.where(county.notna(), "0").astype(str).str.fullmatch(r"\d{6}")
    out.add(county.notna() & ~cfmt, "code_format", "county_code", county)
    status = t["status"]
    category = t["monitoring_category"]
    bad = status.notna() & ((status == "monitored") != category.notna())
    out.add(bad, "status_category", "monitoring_category", category)
    needs_year = status.isin(["registered_poor", "escaped"]) & t["year_registered"].isna()
    out.add(needs_year, "year_registered", "year_registered")
    exited = t["year_exited"].notna()
    bad_exit = ((status == "escaped") & ~exited) | (
        status.isin(["registered_poor", "never"]) & exited
    )
    out.add(bad_exit, "year_exited", "year_exited", t["year_exited"].astype(object))
    _check_range(out, t, "year_registered", 2014, 2030)
    _check_range(out, t, "year_exited", 2014, 2030)
    order = (t["year_exited"] < t["year_registered"]).fillna(False).astype(bool)
    out.add(order, "year_order", "year_exited", t["year_exited"].astype(object))
    _check_range(out, t, "latitude", -90, 90)
    _check_range(out, t, "longitude", -180, 180)
    helper = t["helper_id"]
    out.add(helper.notna() & ~helper.isin(view.helpers), "reference_helper", "helper_id", helper)
    _duplicate_keys(out, t, "households")


def _people(
    out: Collector,
    t: pd.DataFrame,
    view: RegistryView,
    hasher: Callable[[str], str] | None,
    masked_birth: pd.Series,
) -> None:
    from dongxi.pii import idnumber

    ids = t["id_number"]  # normalised text (see _typed)
    present = ids.notna()
    values: list[str] = [v if v.__class__ is str else "" for v in ids.to_numpy(dtype=object)]
    text = pd.Series(values, index=t.index, dtype=object)
    masked = present & pd.Series(
        [len(v) == 18 and _MASKED_RE.match(v) is not None for v in values],
        index=t.index,
        dtype=bool,
    )
    clear = present & ~masked

    def shown() -> pd.Series:
        return ids.map(lambda v: mask_id(str(v)), na_action="ignore")

    as_number = clear & pd.Series(
        [_ID_AS_NUMBER_RE.match(v) is not None for v in values], index=t.index, dtype=bool
    )
    out.add(as_number, "id_as_number", "id_number", shown)
    clear &= ~as_number
    problem = pd.Series([None] * len(t), index=t.index, dtype=object)
    if clear.any():
        problem.loc[clear] = idnumber.id_problems(text[clear].tolist())
    region = clear & problem.isna() & _bad_province(text.where(clear))
    problem.loc[region] = "id_region"
    out.add(region, "id_region", "id_number", shown)
    out.add(problem == "id_format", "id_format", "id_number", shown)
    out.add(problem == "id_birth_date", "id_date_invalid", "id_number", shown)
    out.add(problem == "id_checksum", "id_checksum", "id_number", shown)
    good = clear & problem.isna()
    birth = pd.to_datetime(text.str.slice(6, 14), format="%Y%m%d", errors="coerce")
    # a masked birth date takes the date inside a clear ID number
    hidden = masked_birth.notna()
    from_id = hidden & good
    if from_id.any():
        t.loc[from_id, "birth_date"] = birth[from_id]
    birth_bad = good & t["birth_date"].notna() & (birth != t["birth_date"]).fillna(True)
    out.add(birth_bad, "id_birth_date", "birth_date", t["birth_date"].dt.strftime("%Y-%m-%d"))
    sex_digit = pd.to_numeric(text.str.slice(16, 17), errors="coerce")
    id_sex = np.where(sex_digit % 2 == 1, "male", "female")
    sex_bad = good & t["sex"].notna() & (t["sex"] != id_sex)
    out.add(sex_bad, "id_sex", "sex", t["sex"])

    # keyed hash and masked form; masked numbers resolve to a person already in the registry
    id_hash = pd.Series([None] * len(t), index=t.index, dtype=object)
    if hasher is not None and good.any():
        id_hash.loc[good] = [hasher(v) for v in text[good]]
    id_masked = pd.Series([None] * len(t), index=t.index, dtype=object)
    if good.any():
        id_masked.loc[good] = idnumber.mask_ids(text[good].tolist())
    if masked.any():
        id_masked.loc[masked] = text[masked]
    if masked.any():
        reg = view.people
        # stored masks may be of the older form: both sides are compared re-masked
        lookup = {
            (str(h), int(m), mask_id(str(k))): str(x)
            for h, m, k, x in zip(
                reg["household_code"],
                reg["member_no"],
                reg["id_masked"],
                reg["id_hash"],
                strict=True,
            )
        }
        codes: list[object] = t["household_code"].tolist()
        numbers: list[Any] = t["member_no"].astype("Float64").tolist()
        texts: list[Any] = text.tolist()
        for i in np.flatnonzero(masked.to_numpy()).tolist():
            code, no = codes[i], numbers[i]
            found = None
            if code is not None and isinstance(no, float) and no == no:
                found = lookup.get((str(code), int(no), mask_id(str(texts[i]))))
            id_hash.iat[i] = found
        out.add(masked & id_hash.isna(), "id_masked_unknown", "id_number", shown)
        id_masked = id_masked.map(mask_id, na_action="ignore")
    # a masked birth date of a person known by a masked ID number: the registry's date
    from_registry = hidden & masked & id_hash.notna()
    if from_registry.any() and "birth_date" in view.people.columns:
        reg = view.people
        dates = pd.Series(
            pd.to_datetime(reg["birth_date"], errors="coerce").to_numpy(),
            index=reg["id_hash"].astype(str).to_numpy(),
        )
        dates = dates[~dates.index.duplicated()]
        t.loc[from_registry, "birth_date"] = id_hash[from_registry].map(dates)
    year_of = t["birth_date"].dt.year
    unresolved = hidden & (t["birth_date"].isna() | (year_of != masked_birth).fillna(True))
    out.add(
        unresolved & ~(masked & id_hash.isna()),
        "birth_masked",
        "birth_date",
        masked_birth.map(lambda y: f"{int(y)}-**-**", na_action="ignore"),
    )
    t["id_hash"] = id_hash
    t["id_masked"] = id_masked
    t["id_number"] = ids.where(good, None)

    health = t["health"]
    grade = t["disability_grade"]
    bad_grade = health.notna() & ((health == "disabled") != grade.notna())
    out.add(bad_grade, "disability_grade", "disability_grade", grade.astype(object))
    _check_range(out, t, "disability_grade", 1, 4)
    _check_range(out, t, "member_no", 1, 99)
    _check_range(out, t, "monthly_wage", 0, None)
    _check_range(out, t, "months_worked", 0, 12)
    today = pd.Timestamp.today().normalize()
    b = t["birth_date"]
    bad_birth = b.notna() & ((b > today) | (b < pd.Timestamp("1900-01-01")))
    out.add(
        bad_birth,
        "range",
        "birth_date",
        b.dt.strftime("%Y-%m-%d"),
        range=f"[1900-01-01, {today.date()}]",
    )
    head = t["relation"] == "head"
    first = t["member_no"] == 1
    bad_head = t["relation"].notna() & t["member_no"].notna() & (head != first).fillna(False)
    out.add(bad_head.astype(bool), "head_member_no", "relation", t["relation"])
    work = t["work_region_code"]
    wfmt = work.where(work.notna(), "0").astype(str).str.fullmatch(r"\d{6}|\d{9}|\d{12}")
    out.add(work.notna() & ~wfmt, "code_format", "work_region_code", work)
    work_province = work.notna() & wfmt & _bad_province(work)
    out.add(work_province, "region_province", "work_region_code", work)

    hh = t["household_code"]
    out.add(hh.notna() & ~hh.isin(view.households), "reference_household", "household_code", hh)

    # duplicates in the file: the person (keyed hash) and the member number within a household
    keyed = t["id_hash"].notna()
    if keyed.any():
        dup = t.loc[keyed, ["id_hash", "household_code", "_row"]]
        first_row = dup.groupby("id_hash", sort=False)["_row"].transform("first")
        first_hh = dup.groupby("id_hash", sort=False)["household_code"].transform("first")
        later = dup["id_hash"].duplicated(keep="first")
        same = later & (first_hh == dup["household_code"])
        other = pd.Series("", index=t.index, dtype=object)
        other.loc[dup.index] = first_row.astype(str)
        mask_same = pd.Series(False, index=t.index)
        mask_same.loc[dup.index] = same
        mask_other = pd.Series(False, index=t.index)
        mask_other.loc[dup.index] = later & ~same
        out.add(mask_same, "duplicate_key", "id_number", t["id_masked"], other=other)
        other_text = other.map(lambda r: f"第 {r} 行 / row {r}")
        out.add(mask_other, "duplicate_person", "id_number", t["id_masked"], other=other_text)
    _duplicates_member(out, t)

    # against the registry: the same person in another household, or a member number taken
    reg = view.people
    if len(reg) and keyed.any():
        reg_hh = pd.Series(reg["household_code"].to_numpy(), index=reg["id_hash"].to_numpy())
        reg_hh = reg_hh[~reg_hh.index.duplicated()]
        where = t["id_hash"].map(reg_hh)
        moved = keyed & where.notna() & (where != t["household_code"])
        out.add(
            moved, "duplicate_person", "id_number", t["id_masked"], other="登记库 / the registry"
        )
        taken = {
            (str(h), int(m)): str(x)
            for h, m, x in zip(reg["household_code"], reg["member_no"], reg["id_hash"], strict=True)
        }
        in_file = set(t.loc[keyed, "id_hash"])
        clash = pd.Series(False, index=t.index)
        codes_all: list[object] = t["household_code"].tolist()
        numbers_all: list[Any] = t["member_no"].astype("Float64").tolist()
        hashes_all: list[object] = t["id_hash"].tolist()
        for i in np.flatnonzero((keyed & t["member_no"].notna()).to_numpy()).tolist():
            no = numbers_all[i]
            if not isinstance(no, float):
                continue
            holder = taken.get((str(codes_all[i]), int(no)))
            if holder is not None and holder != hashes_all[i] and holder not in in_file:
                clash.iat[i] = True
        out.add(
            clash,
            "duplicate_member_no",
            "member_no",
            t["member_no"].astype(object),
            other="登记库 / the registry",
        )


def _duplicates_member(out: Collector, t: pd.DataFrame) -> None:
    key = t[["household_code", "member_no"]]
    complete = key.notna().all(axis=1)
    dup = key.duplicated(keep="first") & complete
    if not dup.any():
        return
    first_row = (
        t.loc[complete]
        .groupby(["household_code", "member_no"], sort=False)["_row"]
        .transform("first")
    )
    other = pd.Series("", index=t.index, dtype=object)
    other.loc[first_row.index] = first_row.map(lambda r: f"第 {r} 行 / row {r}")
    out.add(dup, "duplicate_member_no", "member_no", t["member_no"].astype(object), other=other)


def _income(out: Collector, t: pd.DataFrame, view: RegistryView) -> None:
    _check_range(out, t, "year", 2010, 2035)
    parts = [
        "wage_income",
        "operating_income",
        "property_income",
        "transfer_income",
        "production_costs",
    ]
    for name in parts:
        _check_range(out, t, name, 0, None)
    _check_range(out, t, "household_size", 1, None)
    size = t["household_size"].astype("float64")
    total = (
        t["wage_income"]
        + t["operating_income"]
        + t["property_income"]
        + t["transfer_income"]
        - t["production_costs"]
    )
    expected = (total / size.where(size >= 1)).round(2)
    given = t["net_income_per_capita"]
    off = given.notna() & expected.notna() & ((given - expected).abs() > 1.0)
    out.add(
        off,
        "net_income",
        "net_income_per_capita",
        given.astype(object),
        expected=expected.map(lambda v: f"{v:.2f}"),
    )
    t["net_income_per_capita"] = given.where(given.notna(), expected)
    hh = t["household_code"]
    out.add(hh.notna() & ~hh.isin(view.households), "reference_household", "household_code", hh)
    _duplicate_keys(out, t, "income")


_MONTH_RE = re.compile(
    r"^\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*(?:月|[-/.]\s*\d{1,2}(?:[ T].*)?)?|(\d{2}))\s*$"
)


def month_text(value: object) -> str | None:
    """``'YYYY-MM'`` of a month cell (``2021-03``, ``2021/3``, ``2021年3月``, ``202103``, or a
    date such as Excel makes of ``2021-03``), ``None`` when it is not a month of 2010–2035."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp | np.datetime64) or hasattr(value, "strftime"):
        value = pd.Timestamp(value).strftime("%Y-%m")  # type: ignore[arg-type]
    m = _MONTH_RE.match(str(value))
    if m is None:
        return None
    year, month = int(m.group(1)), int(m.group(2) or m.group(3))
    if not (2010 <= year <= 2035 and 1 <= month <= 12):
        return None
    return f"{year:04d}-{month:02d}"


def _month_cells(given: pd.Series) -> pd.Series:
    """``'YYYY-MM'`` of each month cell, missing where the cell is not a month."""
    text = given.astype("string")
    plain = text.str.fullmatch(r"\d{4}-\d{2}").fillna(False).astype(bool)
    year = pd.to_numeric(text.str.slice(0, 4).where(plain), errors="coerce")
    month = pd.to_numeric(text.str.slice(5, 7).where(plain), errors="coerce")
    good = plain & year.between(2010, 2035) & month.between(1, 12)
    months = given.where(good)
    other = given.notna() & ~plain
    if other.any():  # other spellings (2021/3, 2021年3月, a date cell) one by one
        months[other] = given[other].map(month_text)
    return months


def _months_of(given: pd.Series) -> pd.Series:
    """:func:`_month_cells` (``None`` where not a month), each distinct text cell read once (a
    file repeats its months for every household)."""
    present = given.notna().to_numpy()
    if present.any() and pd.api.types.infer_dtype(given[present], skipna=False) == "string":
        codes, distinct = pd.factorize(given)
        found = _month_cells(pd.Series(distinct, dtype=object)).astype(object)
        values = np.asarray([*found.where(found.notna(), None), None], dtype=object)[codes]
        return pd.Series(values, index=given.index, dtype=object)
    months = _month_cells(given).astype(object)
    return months.where(months.notna(), None)


def _income_months(out: Collector, t: pd.DataFrame, view: RegistryView) -> None:
    given = t["month"]
    months = _months_of(given)
    out.add(given.notna() & months.isna(), "month_format", "month", given.astype(object))
    t["month"] = months.astype(object).where(months.notna(), None)
    for name in ("medical_spending", "schooling_spending", "disaster_loss"):
        _check_range(out, t, name, 0, None)
    _check_range(out, t, "household_size", 1, None)
    hh = t["household_code"]
    out.add(hh.notna() & ~hh.isin(view.households), "reference_household", "household_code", hh)
    _duplicate_keys(out, t, "income_months")


def _measures(out: Collector, t: pd.DataFrame, view: RegistryView) -> None:
    no_target = t["household_code"].isna() & t["region_code"].isna()
    out.add(no_target, "measure_target", "household_code")
    _region_checks(out, t, "region_code", view, village=False)
    _check_range(out, t, "funds", 0, None)
    order = (t["end_date"] < t["start_date"]).fillna(False).astype(bool)
    out.add(order, "date_order", "end_date", t["end_date"].dt.strftime("%Y-%m-%d"))
    hh = t["household_code"]
    out.add(hh.notna() & ~hh.isin(view.households), "reference_household", "household_code", hh)
    helper = t["helper_id"]
    out.add(helper.notna() & ~helper.isin(view.helpers), "reference_helper", "helper_id", helper)
    partner = t["partner_code"]
    out.add(
        partner.notna() & ~partner.isin(view.partners), "reference_partner", "partner_code", partner
    )
    _duplicate_keys(out, t, "measures")


def _partners(out: Collector, t: pd.DataFrame, view: RegistryView) -> None:
    _region_checks(out, t, "region_code", view, village=False)
    code = t["region_code"]
    out.add(
        code.notna() & ~code.astype(str).str.startswith("44"), "partner_side", "region_code", code
    )
    _duplicate_keys(out, t, "partners")


def _department_alerts(
    out: Collector, t: pd.DataFrame, hasher: Callable[[str], str] | None
) -> None:
    """A department's alert names a household (its code) or a person (the ID number, checked and
    kept only as its keyed hash ``id_hash``); its date is not in the future."""
    from dongxi.pii import idnumber

    ids = t["id_number"]
    out.add(ids.isna() & t["household_code"].isna(), "alert_subject", "household_code")
    values = [v if v.__class__ is str else "" for v in ids.to_numpy(dtype=object)]
    present = ids.notna()
    problem = pd.Series([None] * len(t), index=t.index, dtype=object)
    if present.any():
        problem.loc[present] = idnumber.id_problems([values[i] for i in np.flatnonzero(present)])

    def shown() -> pd.Series:
        return ids.map(lambda v: mask_id(str(v)), na_action="ignore")

    out.add(problem == "id_format", "id_format", "id_number", shown)
    out.add(problem == "id_birth_date", "id_date_invalid", "id_number", shown)
    out.add(problem == "id_checksum", "id_checksum", "id_number", shown)
    good = present & problem.isna()
    id_hash = pd.Series([None] * len(t), index=t.index, dtype=object)
    if hasher is not None and good.any():
        id_hash.loc[good] = [hasher(values[i]) for i in np.flatnonzero(good)]
    t["id_hash"] = id_hash
    t["id_number"] = None  # the clear number goes no further than this check
    today = pd.Timestamp.now().normalize()
    out.add(
        t["alert_date"].notna() & (t["alert_date"] > today + pd.Timedelta(days=1)),
        "alert_future",
        "alert_date",
        t["alert_date"].dt.strftime("%Y-%m-%d"),
    )


def _helpers(out: Collector, t: pd.DataFrame, view: RegistryView) -> None:
    _region_checks(out, t, "region_code", view, village=False)
    _duplicate_keys(out, t, "helpers")


def _needs(out: Collector, t: pd.DataFrame, view: RegistryView) -> None:
    _region_checks(out, t, "county_code", view, village=False)
    _check_range(out, t, "age", 16, 70)
    _check_range(out, t, "min_wage", 0, 100_000)
    _check_range(out, t, "hours_per_day", *HOURS_PER_DAY)
    _duplicate_keys(out, t, "needs")


def _offers(out: Collector, t: pd.DataFrame, view: RegistryView) -> None:
    _region_checks(out, t, "place_code", view, village=False)
    _check_range(out, t, "positions", 0, 1_000_000)
    _check_range(out, t, "age_min", 16, 70)
    _check_range(out, t, "age_max", 16, 70)
    for column in ("monthly_wage", "subsidy", "living_cost"):
        _check_range(out, t, column, 0, 100_000)
    _check_range(out, t, "hours_per_day", *HOURS_PER_DAY)
    lo, hi = t["age_min"].astype("Float64"), t["age_max"].astype("Float64")
    out.add((lo > hi).fillna(False).astype(bool), "age_order", "age_min", t["age_min"])
    starts, ends = t["starts_on"], t["ends_on"]
    both = starts.notna() & ends.notna()
    later = pd.Series(False, index=t.index)
    later[both] = starts[both] > ends[both]
    out.add(later, "date_order", "starts_on", starts.astype(object))
    _duplicate_keys(out, t, "offers")


def _unmask_birth_cells(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Masked birth dates (``1984-**-**``, as masked exports write them) replaced by 1 January
    of their year for typing; returns the frame and the masked cells' years (``<NA>`` elsewhere).
    The people rules then take the real date from the ID number or the registry."""
    cells = frame["birth_date"]
    none = pd.Series([None] * len(frame), index=frame.index, dtype="Int64")
    if pd.api.types.is_datetime64_any_dtype(cells.dtype):
        return frame, none
    # the usual case: no masked cell (plain Python strings: a lone surrogate, refused later as a
    # control character, cannot be encoded into an Arrow string column)
    if not any("*" in v for v in cells.to_numpy(dtype=object) if isinstance(v, str)):
        return frame, none
    years = cells.astype(object).map(
        lambda v: (
            int(m.group(1)) if isinstance(v, str) and (m := _MASKED_DATE_RE.match(v)) else None
        )
    )
    years = pd.Series(years.to_numpy(dtype=object), index=frame.index).astype("Int64")
    if not years.notna().any():
        return frame, years
    frame = frame.copy()
    hidden = years.notna()
    frame.loc[hidden, "birth_date"] = years[hidden].map(lambda y: f"{y:04d}-01-01")
    return frame, years


def validate_frame(
    frame: pd.DataFrame,
    *,
    kind: Kind,
    registry: RegistryView | None = None,
    headers: Mapping[str, str] | None = None,
    hasher: Callable[[str], str] | None = None,
    file: str | None = None,
    first_row: int = 2,
) -> Validated:
    """Check every rule on ``frame`` (canonical columns) and return typed rows and errors.

    ``headers`` maps canonical names to the headers the user wrote (for the report);
    ``hasher`` computes the keyed hash of a valid ID number (people only; the registry's
    :func:`dongxi.store` hash function); ``first_row`` is the sheet row of the first data row
    (2 when the header is row 1). A ``_row`` column in ``frame`` overrides the numbering.
    """
    view = registry or RegistryView()
    frame = frame.reset_index(drop=True)
    if "_row" in frame.columns:
        rows = frame["_row"].astype("int64").to_numpy()
    else:
        rows = np.arange(first_row, first_row + len(frame), dtype=np.int64)
    out = Collector(rows, dict(headers or {}), file, kind)
    masked_birth = pd.Series([None] * len(frame), index=frame.index, dtype="Int64")
    if kind == "people" and "birth_date" in frame.columns:
        frame, masked_birth = _unmask_birth_cells(frame)
    t, _ = typed(frame, kind, out)
    t["_row"] = rows
    if kind == "households":
        _households(out, t, view)
    elif kind == "people":
        _people(out, t, view, hasher, masked_birth)
    elif kind == "income":
        _income(out, t, view)
    elif kind == "income_months":
        _income_months(out, t, view)
    elif kind == "measures":
        _measures(out, t, view)
    elif kind == "partners":
        _partners(out, t, view)
    elif kind == "department_alerts":
        _department_alerts(out, t, hasher)
    elif kind == "needs":
        _needs(out, t, view)
    elif kind == "offers":
        _offers(out, t, view)
    else:
        _helpers(out, t, view)
    out.errors.sort(key=lambda e: e.row or 0)
    return Validated(kind=kind, frame=t, errors=out.errors)
