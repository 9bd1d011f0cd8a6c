"""Reading a province's own figures (省定标准) from a CSV or XLSX file."""

from __future__ import annotations

import datetime
import math
from collections.abc import Hashable, Mapping
from pathlib import Path

from dongxi.errors import InputError, RowError, ValidationReportError
from dongxi.policy._builtin import builtin_parameters
from dongxi.policy._model import PolicyValue, normalise_scope
from dongxi.tables import read_table

__all__ = ["OVERRIDE_COLUMNS", "load_overrides"]

#: Accepted headers of an override file → the field they fill (Chinese headers as offices write).
OVERRIDE_COLUMNS: dict[str, str] = {
    "name": "name",
    "参数": "name",
    "参数名称": "name",
    "scope": "scope",
    "区划代码": "scope",
    "范围": "scope",
    "value": "value",
    "数值": "value",
    "标准": "value",
    "unit": "unit",
    "单位": "unit",
    "year": "year",
    "年度": "year",
    "effective_from": "effective_from",
    "起始日期": "effective_from",
    "effective_to": "effective_to",
    "截止日期": "effective_to",
    "source": "source",
    "来源": "source",
    "依据": "source",
    "note": "note",
    "备注": "note",
}
_REQUIRED = ("name", "scope", "value")


def _error(row: int | None, column: str, value: object, rule: str, en: str, zh: str) -> RowError:
    return RowError(
        row=row,
        column=column,
        value=None if value is None else str(value),
        rule=rule,
        message_zh=zh,
        message_en=en,
    )


def _date(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text.strip()[:10])


def load_overrides(path: str | Path) -> list[PolicyValue]:
    """Read user figures from a CSV/XLSX/Parquet file; each gets status ``user``.

    Columns (English or Chinese header): ``name`` 参数, ``scope`` 区划代码 (``national`` or a region
    code), ``value`` 数值, and either ``year`` 年度 (the figure holds for that calendar year) or
    ``effective_from`` 起始日期 (+ optional ``effective_to`` 截止日期, inclusive; empty = in force).
    Optional: ``unit`` 单位 (defaults to the built-in parameter's unit), ``source`` 来源 and
    ``note`` 备注. Every broken rule of the file is reported at once in a
    :class:`~dongxi.errors.ValidationReportError`; two figures of one name and scope whose periods
    overlap are refused.
    """
    file = str(path)
    frame = read_table(path, as_text=True)
    rename: dict[str, str] = {}
    for column in frame.columns:
        key = str(column).strip()
        field = OVERRIDE_COLUMNS.get(key) or OVERRIDE_COLUMNS.get(key.lower())
        if field is not None:
            rename[str(column)] = field
    frame = frame.rename(columns=rename)
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if "year" not in frame.columns and "effective_from" not in frame.columns:
        missing.append("year (or effective_from)")
    if missing:
        raise InputError(
            f"The override file lacks the column(s) {', '.join(missing)}.",
            file=file,
            column=missing[0],
            rule="required_column",
            fix="Give a header row with name, scope, value and year (or effective_from), "
            "e.g. 'name,scope,value,unit,year,source'.",
        )
    units = {v.name: v.unit for v in builtin_parameters()}
    errors: list[RowError] = []
    values: list[tuple[int, PolicyValue]] = []

    def cell(rec: Mapping[Hashable, object], key: str) -> str:
        raw = rec.get(key)
        return "" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw)

    for index, rec in enumerate(frame.to_dict("records")):
        row = index + 2  # the header is row 1
        before = len(errors)
        name = cell(rec, "name").strip()
        if not name:
            errors.append(
                _error(
                    row, "name", None, "required", "The parameter name is empty.", "参数名称为空。"
                )
            )
        scope_text = cell(rec, "scope").strip()
        scope = ""
        try:
            scope = normalise_scope(scope_text)
        except InputError:
            errors.append(
                _error(
                    row,
                    "scope",
                    scope_text,
                    "scope",
                    "The scope must be 'national' or a region code of 2, 4, 6, 9 or 12 digits.",
                    "范围应为 national 或 2、4、6、9、12 位行政区划代码。",
                )
            )
        value_text = cell(rec, "value").strip().replace(",", "")
        try:
            number = float(value_text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number < 0:
            errors.append(
                _error(
                    row,
                    "value",
                    value_text,
                    "number",
                    "The value must be a finite number ≥ 0.",
                    "数值应为不小于 0 的数字。",
                )
            )
        start: datetime.date | None = None
        end: datetime.date | None = None
        year_text = cell(rec, "year").strip()
        from_text = cell(rec, "effective_from").strip()
        to_text = cell(rec, "effective_to").strip()
        if year_text and (from_text or to_text):
            errors.append(
                _error(
                    row,
                    "year",
                    year_text,
                    "period",
                    "Give either year or effective_from/effective_to, not both.",
                    "年度与起止日期只能填写其一。",
                )
            )
        elif year_text:
            try:
                year = int(float(year_text))
                if not 1978 <= year <= 2100:
                    raise ValueError(year_text)
                start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
            except ValueError:
                errors.append(
                    _error(
                        row,
                        "year",
                        year_text,
                        "year",
                        "The year must be a whole number between 1978 and 2100.",
                        "年度应为 1978 至 2100 之间的整数。",
                    )
                )
        else:
            for column, text in (("effective_from", from_text), ("effective_to", to_text)):
                if column == "effective_from" and not text:
                    errors.append(
                        _error(
                            row,
                            "year",
                            None,
                            "period",
                            "Give the year or the effective_from date.",
                            "请填写年度或起始日期。",
                        )
                    )
                    continue
                if not text:
                    continue
                try:
                    parsed = _date(text)
                except ValueError:
                    errors.append(
                        _error(
                            row,
                            column,
                            text,
                            "date",
                            "Dates must be written YYYY-MM-DD.",
                            "日期格式应为 YYYY-MM-DD。",
                        )
                    )
                    continue
                if column == "effective_from":
                    start = parsed
                else:
                    end = parsed
            if start is not None and end is not None and end < start:
                errors.append(
                    _error(
                        row,
                        "effective_to",
                        to_text,
                        "period",
                        "effective_to is before effective_from.",
                        "截止日期早于起始日期。",
                    )
                )
        unit = cell(rec, "unit").strip() or units.get(name, "")
        if name and not unit:
            errors.append(
                _error(
                    row,
                    "unit",
                    None,
                    "required",
                    f"{name!r} is not a built-in parameter, so its unit must be given.",
                    "非内置参数须填写单位。",
                )
            )
        if len(errors) > before or start is None:
            continue
        source = cell(rec, "source").strip() or f"override file {Path(file).name}, row {row}"
        values.append(
            (
                row,
                PolicyValue(
                    name=name,
                    scope=scope,
                    value=number,
                    unit=unit,
                    effective_from=start,
                    effective_to=end,
                    status="user",
                    source=source,
                    note=cell(rec, "note").strip(),
                ),
            )
        )
    for i, (row_a, a) in enumerate(values):
        for row_b, b in values[i + 1 :]:
            if a.name != b.name or a.scope != b.scope:
                continue
            a_end = a.effective_to or datetime.date.max
            b_end = b.effective_to or datetime.date.max
            if a.effective_from <= b_end and b.effective_from <= a_end:
                errors.append(
                    _error(
                        row_b,
                        "effective_from",
                        b.years,
                        "overlap",
                        f"Row {row_b} gives {b.name!r} for scope {b.scope} over a period that "
                        f"overlaps row {row_a} ({a.years}).",
                        f"第 {row_b} 行与第 {row_a} 行的参数适用期间重叠。",
                    )
                )
    if errors:
        errors.sort(key=lambda e: (e.row or 0, e.column or ""))
        first = errors[0]
        raise ValidationReportError(
            f"The override file has {len(errors)} problem(s); the first, in row {first.row} "
            f"column '{first.column}': {first.message_en} Fix the cells listed and load it again.",
            errors,
            file=file,
        )
    return [v for _, v in values]
