"""Typing the cells of an import table: text as users write it → numbers, dates, yes/no, codes.

:func:`typed` converts every canonical column of a kind at once and records type, domain,
required-field and length errors in a :class:`dongxi.intake._rules.Collector`. Each distinct value
of an enumeration, yes/no or code-list column is converted once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache

import numpy as np
import pandas as pd

from dongxi.intake._rules import Collector
from dongxi.intake.columns import BOOL_FALSE, BOOL_TRUE, COLUMNS, Column, Kind
from dongxi.intake.headers import normalize_text, parse_labels, present_cells
from dongxi.pii.idnumber import mask_id

__all__ = ["typed"]

_STR_MAX_DEFAULT = 400

#: Characters no cell may hold: C0 controls other than tab and line breaks, DEL, lone surrogates
#: and the non-characters U+FFFE/U+FFFF. XML 1.0 (so XLSX) cannot hold most of them: a stored NUL
#: breaks every later export.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

#: Whole numbers must fit the registry's INTEGER columns (PostgreSQL: 32 bits).
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


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


# --- parsing ----------------------------------------------------------------------------------


def _text(series: pd.Series, present: pd.Series, *, nfkc: bool = False) -> pd.Series:
    """Stripped text (NFKC-normalised when asked) of the present cells, ``None`` elsewhere."""
    cells = series.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
    keep = present.to_numpy(dtype=bool)
    given = cells[keep]
    if len(given) and pd.api.types.infer_dtype(given, skipna=False) == "string":
        # only text: each distinct cell is cleaned once (household codes and months repeat)
        codes, distinct = pd.factorize(given)
        norm = unicodedata.normalize
        cleaned = [str(v).strip() for v in distinct]
        if nfkc:
            cleaned = [t if t.isascii() else norm("NFKC", t).strip() for t in cleaned]
        text = np.empty(len(cells), dtype=object)
        text[keep] = np.asarray([*cleaned, None], dtype=object)[codes]
        return pd.Series(text, index=series.index, dtype=object)
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
    """Numbers as float64: ``NaN`` where not a number; ``inf``/``-inf``/``1e400`` stay infinite
    (the caller refuses them)."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("float64").where(present, np.nan)
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

        def digits(v: str) -> bool:
            return v.isascii() and v.isdigit()

        def clean(v: str) -> str:
            v = normalize_text(v).translate(_DATE_CLEAN).split(" ")[0].split("T")[0]
            if digits(v) and len(v) == 8:
                return f"{v[:4]}-{v[4:6]}-{v[6:]}"
            parts = v.split("-")
            if len(parts) == 3 and all(digits(p) and len(p) <= 4 for p in parts):
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


def typed(
    frame: pd.DataFrame, kind: Kind, out: Collector
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
        present = present_cells(series)
        presence[col.name] = present
        shown = _shown(series, present, col.name)
        if col.required:
            out.add(~present, "required", col.name)
        control = _control_cells(series, present)
        if control is not None:
            out.add(control, "control_char", col.name, _shown_escaped(shown))
            present = present & ~control
        if col.type in ("int", "float"):
            num = _parse_number(series, present)
            bad = present & num.isna()
            infinite = present & (np.isinf(num) | _nan_words(series, bad))
            bad &= ~infinite
            out.add(infinite, "number_finite", col.name, shown)
            num = num.where(~infinite)
            if col.type == "int":
                bad |= present & num.notna() & (num != np.floor(num))
                out.add(bad, "type_int", col.name, shown)
                huge = present & ~bad & ((num < _INT_MIN) | (num > _INT_MAX)).fillna(False)
                out.add(huge, "range", col.name, shown, range=f"[{_INT_MIN}, {_INT_MAX}]")
                typed[col.name] = num.where(~(bad | huge)).astype("Int64")
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


def _nan_words(series: pd.Series, among: pd.Series) -> pd.Series:
    """Cells of ``among`` spelling "not a number" (``nan``, ``NaN``, ``-nan``)."""
    out = np.zeros(len(series), dtype=bool)
    where = np.flatnonzero(among.to_numpy(dtype=bool))
    if len(where):
        cells = series.to_numpy(dtype=object)[where]
        out[where] = [isinstance(v, str) and v.strip().lower().lstrip("+-") == "nan" for v in cells]
    return pd.Series(out, index=series.index, dtype=bool)


def _control_cells(series: pd.Series, present: pd.Series) -> pd.Series | None:
    """Cells holding a control character (``None`` when there is none: one search over the
    column's text joined, cell by cell only when it finds one)."""
    if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
        return None
    texts = [v for v in series[present].to_numpy(dtype=object) if v.__class__ is str]
    if not texts or _CONTROL.search("".join(texts)) is None:
        return None
    found = [v.__class__ is str and _CONTROL.search(v) is not None for v in series.to_numpy(object)]
    return pd.Series(found, index=series.index, dtype=bool) & present


def _escape_controls(value: object) -> object:
    if not isinstance(value, str):
        return value
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def _shown_escaped(shown: Callable[[], pd.Series]) -> Callable[[], pd.Series]:
    """The cells as shown, with control characters written as ``\\u0000`` (so that the report
    itself can be written as XLSX)."""

    def make() -> pd.Series:
        return shown().map(_escape_controls, na_action="ignore")

    return make


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
