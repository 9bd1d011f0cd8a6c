"""Validation of import tables before anything is written (pure: DataFrame in, errors out).

:func:`validate_frame` takes a table whose columns are already canonical (see
:func:`dongxi.store.headers.to_canonical`) and whose cells are text as the user wrote them (or
already typed values, as ``dongxi.synth`` produces), and returns a :class:`Validated`: the typed
canonical frame and every :class:`dongxi.errors.RowError` found. Checks, in order:

1. types and value domains per column (numbers, dates, yes/no, enumerations with Chinese labels),
   required fields, text lengths (from the registry's column sizes);
2. resident ID numbers: format, GB 11643 check digit, consistency with birth date and sex digit;
   a masked number (``4501**********1234``, as ``dongxi export`` writes by default) is accepted
   for a person already in the registry at the same household and member number;
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
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from dongxi.errors import RowError
from dongxi.store.headers import (
    BOOL_FALSE,
    BOOL_TRUE,
    COLUMNS,
    NATURAL_KEYS,
    Column,
    Kind,
    normalize_text,
    parse_labels,
    present_cells,
)
from dongxi.store.idnumber import mask_id

__all__ = ["RULES", "RegistryView", "Validated", "natural_key", "validate_frame"]

#: Every rule: (message in Chinese, message in English). ``{...}`` fields are filled per error.
RULES: dict[str, tuple[str, str]] = {
    "required": ("必填项为空。", "A required value is missing."),
    "type_int": ("应为整数。", "Must be a whole number."),
    "type_float": ("应为数字。", "Must be a number."),
    "type_bool": ("应为是/否（或 1/0）。", "Must be yes/no (是/否, 1/0, true/false)."),
    "type_date": ("应为日期（如 2001-05-09）。", "Must be a date such as 2001-05-09."),
    "domain": ("不是允许的取值，可选：{allowed}。", "Not an allowed value; use one of: {allowed}."),
    "length": ("超过最大长度 {max} 个字符。", "Longer than the maximum of {max} characters."),
    "range": ("超出允许范围 {range}。", "Outside the allowed range {range}."),
    "code_format": ("代码应为数字。", "A region code must consist of digits."),
    "id_format": (
        "身份证号应为 18 位（前 17 位数字，末位数字或 X）。",
        "An ID number must have 18 characters: 17 digits and a digit or X.",
    ),
    "id_date_invalid": (
        "身份证号第 7–14 位不是有效的出生日期。",
        "Characters 7-14 of the ID number are not a real birth date.",
    ),
    "id_checksum": (
        "身份证号校验位错误（GB 11643）。",
        "The ID number's check digit is wrong (GB 11643); the number was mistyped.",
    ),
    "id_birth_date": (
        "身份证号中的出生日期与“出生日期”不一致。",
        "The birth date inside the ID number differs from the birth date column.",
    ),
    "id_sex": (
        "身份证号第 17 位（性别位）与“性别”不一致。",
        "The sex digit (17th) of the ID number does not match the sex column.",
    ),
    "id_masked_unknown": (
        "脱敏的身份证号只能用于登记库中已有的同户同序号成员。",
        "A masked ID number is accepted only for a person already in the registry with the "
        "same household and member number.",
    ),
    "region_unknown": ("行政区划代码不存在。", "The region code does not exist."),
    "region_not_village": (
        "该代码不是村级（12 位村/社区）代码。",
        "The code is not a village (12-digit village/community code).",
    ),
    "region_county": (
        "村代码不属于所填的县。",
        "The village is not in the county given in the county column.",
    ),
    "status_category": (
        "户类型为“监测对象”时必须填写监测类型，其他户类型不得填写。",
        "A monitoring category is required when the status is 'monitored' and not allowed "
        "otherwise.",
    ),
    "year_registered": (
        "建档立卡贫困户和已脱贫户必须填写识别年度。",
        "Registered-poor and escaped households need the year registered.",
    ),
    "year_exited": (
        "已脱贫户必须填写脱贫年度；建档立卡贫困户和一般农户不得填写。",
        "Escaped households need the year exited; registered-poor and never-poor households "
        "must not have one.",
    ),
    "year_order": (
        "脱贫年度早于识别年度。",
        "The year exited is before the year registered.",
    ),
    "disability_grade": (
        "健康状况为“残疾”时必须填写残疾等级（1–4），否则不得填写。",
        "A disability grade (1-4) is required when health is 'disabled' and not allowed otherwise.",
    ),
    "head_member_no": (
        "户主的成员序号应为 1，且序号 1 应为户主。",
        "The head of household must be member 1, and member 1 must be the head.",
    ),
    "net_income": (
        "人均纯收入与（各项收入 − 生产经营性支出）÷ 家庭人口相差超过 1 元（应为 {expected}）。",
        "Net income per capita differs by more than 1 yuan from (incomes − costs) / size "
        "(expected {expected}).",
    ),
    "measure_target": (
        "户编号和区划代码至少填写一项。",
        "Give a household code or a region code (or both).",
    ),
    "date_order": ("结束日期早于开始日期。", "The end date is before the start date."),
    "duplicate_key": ("与第 {other} 行重复。", "Duplicates row {other}."),
    "duplicate_person": (
        "同一人（身份证号）出现在两个户中（另见{other}）。",
        "The same person (ID number) appears in two households (see {other}).",
    ),
    "duplicate_member_no": (
        "同一户的成员序号重复（另见{other}）。",
        "The member number is used twice in the household (see {other}).",
    ),
    "reference_household": (
        "户编号在登记库和本次导入中都不存在。",
        "The household code exists neither in the registry nor in this import.",
    ),
    "reference_helper": (
        "帮扶责任人编号在登记库和本次导入中都不存在。",
        "The helper id exists neither in the registry nor in this import.",
    ),
    "reference_partner": (
        "东部帮扶单位编号在登记库和本次导入中都不存在。",
        "The partner code exists neither in the registry nor in this import.",
    ),
    "partner_side": (
        "东部帮扶主体的所在地应为广东（44 开头）。",
        "An eastern partner must be located in Guangdong (code starting with 44).",
    ),
}

_MASKED_RE = re.compile(r"^\d{4}\*{10}\d{3}[\dX]$")
_STR_MAX_DEFAULT = 400


@dataclass(frozen=True)
class RegistryView:
    """What validation needs to know about the registry (and earlier parts of the same import).

    ``people`` has columns ``id_hash, household_code, member_no, id_masked`` (may be empty).
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


@cache
def _max_lengths(kind: str) -> dict[str, int]:
    """Column sizes of the registry's string columns (so PostgreSQL never refuses a value)."""
    import sqlalchemy as sa

    import dongxi.store.all_models  # noqa: F401  (fills the metadata)
    from dongxi.store.base import Base

    table = Base.metadata.tables.get(kind)
    if table is None:
        return {}
    out: dict[str, int] = {}
    for col in table.columns:
        if isinstance(col.type, sa.String) and col.type.length:
            out[col.name] = int(col.type.length)
    return out


class _Collector:
    """Accumulates errors for one frame, vectorised per rule."""

    def __init__(
        self, rows: np.ndarray, headers: Mapping[str, str], file: str | None, kind: Kind
    ) -> None:
        self.rows = rows
        self.headers = headers
        self.file = file
        self.kind = kind
        self.errors: list[RowError] = []

    def add(
        self,
        mask: pd.Series | np.ndarray,
        rule: str,
        column: str | None,
        values: pd.Series | Callable[[], pd.Series] | None = None,
        **fmt: object | pd.Series,
    ) -> None:
        """Record ``rule`` for the rows in ``mask``; ``values`` (or a function giving them, called
        only when some row fails) are the cells shown in the report."""
        arr = np.asarray(mask, dtype=bool)
        if not arr.any():
            return
        zh, en = RULES[rule]
        idx = np.flatnonzero(arr)
        header = self.headers.get(column, column) if column else None
        if callable(values):
            values = values()
        shown = None if values is None else values.to_numpy(dtype=object)
        per_row = {k: v.to_numpy(dtype=object) for k, v in fmt.items() if isinstance(v, pd.Series)}
        fixed = {k: v for k, v in fmt.items() if not isinstance(v, pd.Series)}
        for i in idx:
            args = dict(fixed)
            for k, v in per_row.items():
                args[k] = v[i]
            value = None if shown is None else shown[i]
            self.errors.append(
                RowError(
                    row=int(self.rows[i]),
                    column=header,
                    value=None if value is None else str(value),
                    rule=rule,
                    message_zh=zh.format(**args) if args else zh,
                    message_en=en.format(**args) if args else en,
                    file=self.file,
                )
            )


# --- parsing ----------------------------------------------------------------------------------


def _present(series: pd.Series) -> pd.Series:
    """Non-empty cells (not NA and not blank text)."""
    return present_cells(series)


def _text(series: pd.Series, present: pd.Series, *, nfkc: bool = False) -> pd.Series:
    """Stripped text (NFKC-normalised when asked) of the present cells, ``None`` elsewhere."""
    cells = series.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
    keep = present.to_numpy(dtype=bool)
    if nfkc:
        # ASCII text is already in NFKC form
        norm = unicodedata.normalize
        out = [
            (t if t.isascii() else norm("NFKC", t).strip()) if k else None
            for t, k in zip((str(v).strip() for v in cells), keep, strict=True)
        ]
    else:
        out = [str(v).strip() if k else None for v, k in zip(cells, keep, strict=True)]
    return pd.Series(out, index=series.index, dtype=object)


def _objects(series: pd.Series, present: pd.Series) -> pd.Series:
    """``series`` as Python objects, ``None`` where not present."""
    arr = series.to_numpy(dtype=object).copy()
    arr[~present.to_numpy(dtype=bool)] = None
    return pd.Series(arr, index=series.index, dtype=object)


def _parse_number(series: pd.Series, present: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("float64")
    text = series.where(present, "").astype(str).str.strip()
    num = pd.to_numeric(text, errors="coerce")
    miss = present & num.isna()
    if miss.any():
        fixed = text[miss].str.normalize("NFKC").str.replace(",", "", regex=False).str.strip()
        num.loc[miss] = pd.to_numeric(fixed, errors="coerce")
    return num.astype("float64").where(present, np.nan)


def _parse_bool(series: pd.Series, present: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(object), pd.Series(False, index=series.index)
    table: dict[object, bool | None] = {}
    for value in series[present].unique():
        key = normalize_text(str(value)).lower()
        table[value] = True if key in BOOL_TRUE else False if key in BOOL_FALSE else None
    raw = _objects(series, present)
    values = pd.Series(
        [None if v is None else table.get(v) for v in raw.to_numpy(dtype=object)],
        index=series.index,
        dtype=object,
    )
    bad = present & values.isna()
    return values.astype(object).where(values.notna(), None), bad


_DATE_CLEAN = str.maketrans({"年": "-", "月": "-", "日": None, "/": "-", ".": "-"})


def _parse_date(series: pd.Series, present: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return pd.to_datetime(series).dt.normalize()
    text = series.where(present, "").astype(str).str.strip()
    out = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    miss = present & out.isna()
    if miss.any():

        def clean(v: str) -> str:
            v = normalize_text(v).translate(_DATE_CLEAN).split(" ")[0].split("T")[0]
            if v.isdigit() and len(v) == 8:
                return f"{v[:4]}-{v[4:6]}-{v[6:]}"
            parts = v.split("-")
            if len(parts) == 3 and all(p.isdigit() for p in parts):
                return f"{int(parts[0]):04d}-{int(parts[1]):02d}-{int(parts[2]):02d}"
            return v

        out.loc[miss] = pd.to_datetime(text[miss].map(clean), format="%Y-%m-%d", errors="coerce")
    return out


def _parse_codes(series: pd.Series, present: pd.Series, col: Column) -> tuple[pd.Series, pd.Series]:
    """A list of codes separated by ; 、 , (any width) → ``a;b`` in canonical codes."""
    lookup = {normalize_text(k).lower(): k for k in col.labels}
    lookup |= {normalize_text(v).lower(): k for k, v in col.labels.items()}
    lookup |= {normalize_text(k).lower(): v for k, v in col.aliases.items()}
    splitter = re.compile(r"[;；、,，/\s]+")

    def convert(v: object) -> tuple[str | None, bool]:
        parts = [p for p in splitter.split(normalize_text(str(v))) if p]
        codes = [lookup.get(p.lower()) for p in parts]
        if any(c is None for c in codes):
            return None, True
        uniq = list(dict.fromkeys(c for c in codes if c is not None))
        return (";".join(uniq) if uniq else None), False

    table = {v: convert(v) for v in series[present].unique()}
    found = [None if v is None else table[v] for v in _objects(series, present).to_numpy()]
    out = pd.Series([None if f is None else f[0] for f in found], index=series.index, dtype=object)
    flags = [f is not None and f[1] for f in found]
    bad = present & pd.Series(flags, index=series.index, dtype=bool)
    return out.where(out.notna(), None), bad


def _allowed(col: Column) -> str:
    return "、".join(f"{label}({code})" for code, label in col.labels.items())


def _typed(
    frame: pd.DataFrame, kind: Kind, out: _Collector
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Typed canonical columns; records type, domain, required and length errors."""
    typed = pd.DataFrame(index=frame.index)
    presence: dict[str, pd.Series] = {}
    lengths = _max_lengths(kind)
    for col in COLUMNS[kind]:
        if col.name not in frame.columns:
            series = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        else:
            series = frame[col.name]
        present = _present(series)
        presence[col.name] = present
        shown = _shown(series, present, col.name)
        if col.required:
            out.add(~present, "required", col.name)
        if col.type in ("int", "float"):
            num = _parse_number(series, present)
            bad = present & num.isna()
            if col.type == "int":
                bad |= present & num.notna() & (num != np.floor(num))
                out.add(bad, "type_int", col.name, shown)
                typed[col.name] = num.where(~bad).astype("Int64")
            else:
                out.add(bad, "type_float", col.name, shown)
                typed[col.name] = num.where(~bad)
        elif col.type == "bool":
            values, bad = _parse_bool(series, present)
            out.add(bad, "type_bool", col.name, shown)
            typed[col.name] = values
        elif col.type == "date":
            dates = _parse_date(series, present)
            bad = present & dates.isna()
            out.add(bad, "type_date", col.name, shown)
            typed[col.name] = dates
        elif col.type == "enum":
            codes, bad = parse_labels(series, col, present)
            out.add(bad, "domain", col.name, shown, allowed=_allowed(col))
            typed[col.name] = codes
        elif col.type == "codes":
            codes, bad = _parse_codes(series, present, col)
            out.add(bad, "domain", col.name, shown, allowed=_allowed(col))
            typed[col.name] = codes
        else:
            nfkc = col.name.endswith("_code") or col.name == "id_number"
            text = _text(series, present, nfkc=nfkc)
            if col.name == "id_number":  # normalised as idnumber.normalise_id does
                text = text.str.replace(" ", "", regex=False).str.upper()
            limit = lengths.get(col.name, _STR_MAX_DEFAULT)
            too_long = present & (text.str.len() > limit).fillna(False).astype(bool)
            out.add(too_long, "length", col.name, shown, max=limit)
            typed[col.name] = text.where(~too_long, None)
    return typed, presence


def _shown(series: pd.Series, present: pd.Series, name: str) -> Callable[[], pd.Series]:
    """The cells as the report shows them (ID numbers masked, names never), made on demand."""

    def make() -> pd.Series:
        if name in ("name", "contact"):
            return pd.Series([None] * len(series), index=series.index, dtype=object)
        shown = series.where(present, None).astype(object)
        if name == "id_number":
            shown = shown.map(lambda v: mask_id(str(v)), na_action="ignore")
        return shown

    return make


# --- rule groups ------------------------------------------------------------------------------


def _check_range(
    out: _Collector,
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
    out: _Collector, typed: pd.DataFrame, column: str, view: RegistryView, *, village: bool
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


def _duplicates(
    out: _Collector, typed: pd.DataFrame, key: list[str], rule: str, column: str
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


def _households(out: _Collector, t: pd.DataFrame, view: RegistryView) -> None:
    _region_checks(out, t, "village_code", view, village=True)
    county = t["county_code"]
    wrong_county = county.notna() & t["village_code"].notna()
    wrong_county &= t["village_code"].astype(str).str.slice(0, 6) != county.astype(str)
    out.add(wrong_county, "region_county", "county_code", county)
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
    _duplicates(out, t, ["household_code"], "duplicate_key", "household_code")


def _people(
    out: _Collector,
    t: pd.DataFrame,
    view: RegistryView,
    hasher: Callable[[str], str] | None,
) -> None:
    from dongxi.store import idnumber

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

    problem = pd.Series([None] * len(t), index=t.index, dtype=object)
    if clear.any():
        problem.loc[clear] = idnumber.id_problems(text[clear].tolist())
    out.add(problem == "id_format", "id_format", "id_number", shown)
    out.add(problem == "id_birth_date", "id_date_invalid", "id_number", shown)
    out.add(problem == "id_checksum", "id_checksum", "id_number", shown)
    good = clear & problem.isna()
    birth = pd.to_datetime(text.str.slice(6, 14), format="%Y%m%d", errors="coerce")
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
        lookup = {
            (str(h), int(m), str(k)): str(x)
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
                found = lookup.get((str(code), int(no), str(texts[i])))
            id_hash.iat[i] = found
        out.add(masked & id_hash.isna(), "id_masked_unknown", "id_number", shown)
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


def _duplicates_member(out: _Collector, t: pd.DataFrame) -> None:
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


def _income(out: _Collector, t: pd.DataFrame, view: RegistryView) -> None:
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
    _duplicates(out, t, ["household_code", "year"], "duplicate_key", "year")


def _measures(out: _Collector, t: pd.DataFrame, view: RegistryView) -> None:
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
    _duplicates(out, t, ["measure_code"], "duplicate_key", "measure_code")


def _partners(out: _Collector, t: pd.DataFrame, view: RegistryView) -> None:
    _region_checks(out, t, "region_code", view, village=False)
    code = t["region_code"]
    out.add(
        code.notna() & ~code.astype(str).str.startswith("44"), "partner_side", "region_code", code
    )
    _duplicates(out, t, ["partner_code"], "duplicate_key", "partner_code")


def _helpers(out: _Collector, t: pd.DataFrame, view: RegistryView) -> None:
    _region_checks(out, t, "region_code", view, village=False)
    _duplicates(out, t, ["helper_id"], "duplicate_key", "helper_id")


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
    out = _Collector(rows, dict(headers or {}), file, kind)
    typed, _ = _typed(frame, kind, out)
    typed["_row"] = rows
    if kind == "households":
        _households(out, typed, view)
    elif kind == "people":
        _people(out, typed, view, hasher)
    elif kind == "income":
        _income(out, typed, view)
    elif kind == "measures":
        _measures(out, typed, view)
    elif kind == "partners":
        _partners(out, typed, view)
    else:
        _helpers(out, typed, view)
    out.errors.sort(key=lambda e: e.row or 0)
    return Validated(kind=kind, frame=typed, errors=out.errors)


def natural_key(kind: Kind) -> tuple[str, ...]:
    """The natural key columns of ``kind`` in the validated frame (people: ``id_hash``)."""
    return ("id_hash",) if kind == "people" else NATURAL_KEYS[kind]
