"""Column headers and value labels of the registry's import files (the data dictionary as code).

Offices write their spreadsheets with Chinese headers (户编号, 身份证号, 姓名, 与户主关系 …) and
Chinese value labels (户主, 男, 是/否 …). This module maps both onto the canonical English columns
and codes of ``docs/data-dictionary.md``, and back for export:

* :data:`COLUMNS` — the data dictionary (defined in :mod:`dongxi.intake.columns`, re-exported).
* :func:`header_map` / :func:`to_canonical` — rename a user's columns to canonical names (Chinese
  headers, their variants, canonical names, or a user mapping from :func:`load_mapping`).
* :func:`detect_kind` — which kind a file holds, from its headers.
* :func:`localize` — canonical frame → Chinese headers and labels (what ``dongxi export`` writes
  and ``dongxi import`` reads; ``dongxi.synth`` uses it to write import files).
* :func:`parse_labels` — Chinese or English labels of one enumeration column → codes.

Pure: no database, no files except the user mapping.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dongxi.errors import InputError
from dongxi.intake.columns import (
    BOOL_FALSE,
    BOOL_TRUE,
    COLUMNS,
    KINDS,
    TABLE_KINDS,
    Column,
    ColumnType,
    Kind,
    canonical_columns,
    column_spec,
    zh_headers,
)
from dongxi.intake.columns import check_kind as _check_kind

__all__ = [
    "BOOL_FALSE",
    "BOOL_TRUE",
    "COLUMNS",
    "KINDS",
    "TABLE_KINDS",
    "Column",
    "ColumnType",
    "Kind",
    "canonical_columns",
    "check_header_row",
    "column_spec",
    "detect_kind",
    "header_map",
    "load_mapping",
    "localize",
    "normalize_text",
    "parse_labels",
    "present_cells",
    "title_row_error",
    "to_canonical",
    "zh_headers",
]


def normalize_text(value: str) -> str:
    """NFKC (full-width → half-width), stripped; what labels and headers are compared on."""
    return unicodedata.normalize("NFKC", value).strip()


def present_cells(series: pd.Series) -> pd.Series:
    """Cells that are neither missing nor blank text (spaces only)."""
    mask = series.notna()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        # each distinct value is looked at once (most columns hold a few distinct values)
        blanks = [
            v for v in pd.unique(series[mask]) if v.__class__ is str and (not v or v.isspace())
        ]
        if blanks:
            mask &= ~series.isin(blanks)
    return mask


def _header_key(value: str) -> str:
    text = normalize_text(str(value)).lower()
    for ch in (" ", "\u3000", "*", "\n", "\t"):
        text = text.replace(ch, "")
    return text


def _known_headers(kind: Kind) -> dict[str, str]:
    out: dict[str, str] = {}
    for col in COLUMNS[kind]:
        for spelling in (col.name, col.zh, *col.header_aliases):
            out[_header_key(spelling)] = col.name
    return out


def load_mapping(path: str | Path) -> dict[str, str]:
    """A user's header mapping: ``source_header → column``.

    CSV (two columns ``source_header,column``, header row required, any encoding
    :func:`dongxi.tables.read_table` reads) or TOML (a flat table ``"源表头" = "column"``, or
    the same under a ``[columns]`` table).
    """
    p = Path(path)
    if p.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(
                f"The mapping file could not be read: {exc}",
                file=str(p),
                fix='Write it as TOML: one line per header, "源表头" = "column".',
            ) from None
        table = data.get("columns", data)
        if not isinstance(table, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in table.items()
        ):
            raise InputError(
                "The mapping file must map header names (strings) to column names (strings).",
                file=str(p),
                fix='Write it as TOML: one line per header, "源表头" = "column".',
            )
        return {str(k): str(v) for k, v in table.items()}
    from dongxi.tables import read_table

    frame = read_table(p, as_text=True)
    cols = [_header_key(str(c)) for c in frame.columns]
    if cols[:2] != ["source_header", "column"]:
        raise InputError(
            "The mapping file must have the two columns 'source_header,column'.",
            file=str(p),
            value=",".join(str(c) for c in frame.columns),
            fix="Make the first row 'source_header,column' and list one header per row.",
        )
    out: dict[str, str] = {}
    for i, (src, dst) in enumerate(zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=True)):
        if src is None or dst is None:
            raise InputError(
                "Each row of the mapping file needs a source header and a column.",
                file=str(p),
                row=i + 2,
                fix="Fill both cells or delete the row.",
            )
        out[str(src)] = str(dst)
    return out


def header_map(
    headers: Iterable[str], kind: Kind, mapping: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The user's header → canonical column, for the headers that are recognised.

    A user ``mapping`` takes precedence; its targets must be canonical columns of ``kind``.
    Raises :class:`InputError` when two headers map onto one column or a mapping target is unknown.
    """
    kind = _check_kind(kind)
    known = _known_headers(kind)
    names = set(canonical_columns(kind))
    user = {_header_key(k): v for k, v in (mapping or {}).items()}
    for src, dst in (mapping or {}).items():
        if dst not in names:
            raise InputError(
                f"The mapping sends header '{src}' to '{dst}', which is not a column of {kind}.",
                column=src,
                value=dst,
                rule="mapping",
                fix=f"Use one of: {', '.join(sorted(names))}.",
            )
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for header in headers:
        key = _header_key(str(header))
        target = user.get(key) or known.get(key)
        if target is None:
            continue
        if target in seen:
            raise InputError(
                f"Two columns, '{seen[target]}' and '{header}', both mean '{target}'.",
                column=str(header),
                rule="duplicate_header",
                fix="Delete or rename one of them (or give a --mapping).",
            )
        seen[target] = str(header)
        out[str(header)] = target
    return out


def _blank_header(value: object) -> bool:
    text = "" if value is None else str(value)
    return not text.strip() or text.startswith("Unnamed: ")


def title_row_error(
    headers: Sequence[object],
    next_row: Sequence[object] | None,
    mapping: Mapping[str, str] | None = None,
) -> InputError | None:
    """The error to raise when row 1 is a title (one filled cell) above the real headers.

    ``next_row`` is the first data row (row 2 of the sheet); it must hold at least two headers of
    some kind for row 1 to count as a title.
    """
    filled = [h for h in headers if not _blank_header(h)]
    if len(filled) != 1 or next_row is None:
        return None
    below = [str(v) for v in next_row if v is not None and str(v).strip()]
    if not any(len(_safe_header_map(below, kind, mapping)) >= 2 for kind in KINDS):
        return None
    return InputError(
        "Row 1 holds only a title; the headers are in row 2.",
        row=1,
        value=str(filled[0])[:80],
        rule="title_row",
        fix="Delete row 1 (the title) so that the headers are the first row, then import again.",
    )


def _safe_header_map(
    headers: Sequence[str], kind: Kind, mapping: Mapping[str, str] | None
) -> dict[str, str]:
    try:
        return header_map(headers, kind, _mapping_for(kind, mapping))
    except InputError:
        return {}


def check_header_row(frame: pd.DataFrame, mapping: Mapping[str, str] | None = None) -> None:
    """Raise when the header row of ``frame`` is a title above the real headers."""
    next_row = frame.iloc[0].tolist() if len(frame) else None
    error = title_row_error([str(c) for c in frame.columns], next_row, mapping)
    if error is not None:
        raise error


def detect_kind(
    headers: Sequence[str],
    mapping: Mapping[str, str] | None = None,
    *,
    next_row: Sequence[object] | None = None,
    kinds: Sequence[Kind] = KINDS,
) -> Kind:
    """The kind (of ``kinds``: by default the importable ones) whose required columns are all
    present in ``headers``.

    When several kinds fit, the one explaining the most headers wins; a tie is an error telling the
    user to pass ``--kind``. When none fits, the error says why: a title row above the headers
    (``next_row`` is row 2), two columns meaning the same thing, or the required columns missing
    from the kind the headers come closest to.
    """
    fits: list[tuple[int, Kind]] = []
    near: list[tuple[int, int, Kind, list[str]]] = []
    doubled: InputError | None = None
    for kind in kinds:
        try:
            found = header_map(headers, kind, _mapping_for(kind, mapping))
        except InputError as exc:
            if exc.rule == "duplicate_header" and doubled is None:
                doubled = exc
            continue
        required = [c.name for c in COLUMNS[kind] if c.required]
        missing = [name for name in required if name not in set(found.values())]
        if not missing:
            fits.append((len(found), kind))
        else:
            near.append((len(required) - len(missing), len(found), kind, missing))
    if not fits:
        title = title_row_error(list(headers), next_row, mapping)
        if title is not None:
            raise title
        if _looks_like_data(headers):
            # a file without a header row: its "headers" are the first person's cells
            raise InputError(
                "The first row holds data (numbers, codes or dates), not headers: the file seems "
                "to have no header row.",
                rule="kind",
                fix="Add the header row (see docs/data-dictionary.md) or give --mapping.",
            )
        if doubled is not None:
            raise InputError(
                f"The kind of table could not be recognised: {doubled.message}",
                column=doubled.column,
                rule="duplicate_header",
                fix=doubled.fix,
            )
        near.sort(key=lambda t: (-t[0], -t[1]))
        if near and near[0][0] > 0:
            _score, _n, kind, missing = near[0]
            names = ", ".join(f"{column_spec(kind, m).zh} ({m})" for m in missing)
            raise InputError(
                f"The kind of table could not be recognised: the headers look like {kind} but "
                f"the required column(s) {names} are missing.",
                value=", ".join(str(h) for h in headers[:12]),
                rule="kind",
                fix=f"Add the column(s) {names} (docs/data-dictionary.md lists the headers of "
                f"{kind}), give a --mapping for headers written differently, or pass --kind.",
            )
        raise InputError(
            "The kind of table could not be recognised from its headers.",
            value=", ".join(str(h) for h in headers[:12]),
            rule="kind",
            fix="Pass --kind (households, people, income, measures, partners, helpers) and "
            "check the required headers listed in docs/data-dictionary.md.",
        )
    fits.sort(key=lambda t: -t[0])
    if len(fits) > 1 and fits[0][0] == fits[1][0]:
        raise InputError(
            f"The headers fit both '{fits[0][1]}' and '{fits[1][1]}'.",
            rule="kind",
            fix=f"Pass --kind {fits[0][1]} or --kind {fits[1][1]}.",
        )
    return fits[0][1]


_DATA_CELL = re.compile(r"[\d\s.,:/\-*XxTZ+]+")


def _looks_like_data(headers: Sequence[str]) -> bool:
    """True when some "header" is a number, code, date or ID number (a row of data)."""
    return any(
        _DATA_CELL.fullmatch(str(h).strip()) and any(c.isdigit() for c in str(h)) for h in headers
    )


def _mapping_for(kind: Kind, mapping: Mapping[str, str] | None) -> dict[str, str] | None:
    if not mapping:
        return None
    names = set(canonical_columns(kind))
    return {k: v for k, v in mapping.items() if v in names}


def to_canonical(
    frame: pd.DataFrame, kind: Kind, mapping: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename ``frame``'s columns to canonical names; unknown columns are dropped.

    Returns the renamed frame (canonical columns only, in the file's order) and
    ``canonical → user header`` so errors can cite the header the user wrote.
    """
    mapped = header_map([str(c) for c in frame.columns], kind, mapping)
    keep = [c for c in frame.columns if str(c) in mapped]
    out = frame[keep].copy()
    out.columns = pd.Index([mapped[str(c)] for c in keep])
    return out, {v: k for k, v in mapped.items()}


def _label_lookup(col: Column) -> dict[str, str]:
    table: dict[str, str] = {}
    for code, label in col.labels.items():
        table[normalize_text(code).lower()] = code
        table[normalize_text(label).lower()] = code
    for alias, code in col.aliases.items():
        table[normalize_text(alias).lower()] = code
    return table


def parse_labels(
    values: pd.Series, col: Column, present: pd.Series | None = None
) -> tuple[pd.Series, pd.Series]:
    """Codes for a column of labels (Chinese label, alias or English code; any width or case).

    Returns ``(codes, bad)``: ``codes`` holds the code (``None`` where the cell is empty or
    unknown; unknown values are kept as written for open enumerations), ``bad`` is ``True`` where
    a non-empty cell is not a known label.
    """
    table = _label_lookup(col)
    if present is None:
        present = present_cells(values)
    converted: dict[object, object] = {}
    for value in values[present].unique():
        text = normalize_text(str(value))
        code = table.get(text.lower())
        if code is None and col.open_domain:
            code = text
        converted[value] = code
    arr = values.to_numpy(dtype=object).copy()
    arr[~present.to_numpy(dtype=bool)] = None
    raw = pd.Series(arr, index=values.index, dtype=object)
    codes = pd.Series(
        [None if v is None else converted.get(v) for v in raw.to_numpy(dtype=object)],
        index=raw.index,
        dtype=object,
    )
    unknown = present & codes.isna()
    codes = codes.astype(object).where(codes.notna(), None)
    return codes, unknown


def _fmt_number(value: object, *, integer: bool) -> object:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if integer:
        return str(int(float(str(value))))
    number = float(str(value))
    if number.is_integer():
        return str(int(number))
    return repr(number)


def localize(frame: pd.DataFrame, *, kind: Kind) -> pd.DataFrame:
    """Canonical frame (English codes) → the Chinese import format.

    Columns of ``kind`` present in ``frame`` are written in the data dictionary's order with their
    Chinese headers; enumeration codes become Chinese labels, booleans 是/否, dates ``YYYY-MM-DD``,
    numbers without a trailing ``.0``. Every cell is a string or ``None``: this is exactly what
    ``dongxi import`` reads back.
    """
    kind = _check_kind(kind)
    out = pd.DataFrame(index=frame.index)
    for col in COLUMNS[kind]:
        if col.name not in frame.columns:
            continue
        values = frame[col.name].astype(object)
        values = values.where(values.notna(), None)
        conv = _localize_column(values, col)
        out[col.zh] = conv.astype(object)
    return out


def _localize_column(values: pd.Series, col: Column) -> pd.Series:
    """One column in the import format: convert each distinct value once, then map."""
    present = values.notna().to_numpy(dtype=bool)
    if not present.any():
        return pd.Series(None, index=values.index, dtype=object)
    convert: Callable[[Any], object]
    if col.type == "enum":

        def convert(v: Any) -> object:
            return col.labels.get(str(v), str(v))

    elif col.type == "codes":

        def convert(v: Any) -> object:
            text = str(v)
            if text == "":
                return None
            return "、".join(col.labels.get(p, p) for p in text.split(";") if p)

    elif col.type == "bool":

        def convert(v: Any) -> object:
            return "是" if _truthy(v) else "否"

    elif col.type == "date":
        dates = pd.to_datetime(values.where(pd.Series(present, index=values.index)))
        text = dates.dt.strftime("%Y-%m-%d").astype(object)
        return text.where(pd.Series(present, index=values.index), None)
    elif col.type in ("int", "float"):
        integer = col.type == "int"

        def convert(v: Any) -> object:
            return _fmt_number(v, integer=integer)

    else:

        def convert(v: Any) -> object:
            return str(v)

    arr = values.to_numpy(dtype=object)
    uniques = pd.unique(arr[present])
    table = {u: convert(u) for u in uniques}
    out = np.full(len(arr), None, dtype=object)
    out[present] = [table[v] for v in arr[present]]
    return pd.Series(out, index=values.index, dtype=object)


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        key = normalize_text(value).lower()
        if key in BOOL_TRUE:
            return True
        if key in BOOL_FALSE:
            return False
        raise InputError("Not a yes/no value.", value=value, rule="bool")
    return bool(value)
