"""Household lists for village cadres: who is poor and why, in Chinese words.

One row per household: county, township and village names, household code, the head's name
(only when the data hold names and the caller may see them), the household's status (户类型),
whether it is poor at the spec's headline cutoff, and each unmet criterion in words with the
household's own values ("住房不安全 (C级)", "人均纯收入 2,950 元，低于当年线 3,218 元"). Two
flags for follow-up: an exited household (已脱贫户) with any unmet criterion may be relapsing; a
household never registered (一般农户) that is poor may have been missed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from dongxi.report._labels import place_name, zh_first
from dongxi.vocab import HOUSEHOLD_STATUSES

__all__ = ["HOUSEHOLD_LIST_COLUMNS", "household_list", "write_household_list"]

#: The columns of a household list, in order (the head's name only when names may be shown).
HOUSEHOLD_LIST_COLUMNS = (
    "县",
    "乡镇",
    "村",
    "户编号",
    "户主姓名",
    "户类型",
    "是否识别为贫困",
    "未达标项数",
    "加权剥夺得分",
    "未达标项",
    "提示",
)

_WATER = (
    ("water_quantity_ok", "饮水水量不足"),
    ("water_quality_ok", "饮水水质不达标"),
    ("water_convenience_ok", "取水不方便"),
    ("water_guarantee_ok", "供水保证率不达标"),
)

RELAPSE = "已脱贫户有未达标项：防返贫监测，请入户核实"
MISSED = "一般农户识别为贫困：是否漏评，请入户核实"


def _false(value: Any) -> bool:
    return value is False or (isinstance(value, int | float) and not pd.isna(value) and not value)


def _yuan(value: Any) -> str:
    return f"{float(value):,.0f}"


def _income(row: Mapping[str, Any], params: Mapping[str, float]) -> str:
    income = row.get("net_income_per_capita")
    line = params.get("poverty_line")
    if income is None or pd.isna(income):
        return "人均纯收入低于贫困线"
    if line is None:
        return f"人均纯收入 {_yuan(income)} 元，低于贫困线"
    return f"人均纯收入 {_yuan(income)} 元，低于当年线 {_yuan(line)} 元"


def _housing(row: Mapping[str, Any], _params: Mapping[str, float]) -> str:
    grade = row.get("housing_grade")
    if grade is None or pd.isna(grade):
        return "住房不安全"
    return f"住房不安全 ({grade}级)"


def _water(row: Mapping[str, Any], _params: Mapping[str, float]) -> str:
    unmet = [text for column, text in _WATER if _false(row.get(column))]
    return "、".join(unmet) if unmet else "饮水安全不达标"


def _road_power(row: Mapping[str, Any], _params: Mapping[str, float]) -> str:
    unmet = []
    if _false(row.get("road_access")):
        unmet.append("未通硬化路")
    if _false(row.get("electricity")):
        unmet.append("未通生活用电")
    return "、".join(unmet) if unmet else "未通硬化路或未通生活用电"


def _uninsured(row: Mapping[str, Any], _params: Mapping[str, float]) -> str:
    n = row.get("_uninsured")
    if n:
        return f"{int(n)} 名成员未参加基本医疗保险"
    return "有成员未参加基本医疗保险"


#: Indicator name → its reason in words, from the household's values.
_REASONS: Mapping[str, Callable[[Mapping[str, Any], Mapping[str, float]], str]] = {
    "income_below_line": _income,
    "unsafe_housing": _housing,
    "unsafe_water": _water,
    "no_road_or_power": _road_power,
    "member_uninsured": _uninsured,
    "uninsured": _uninsured,
}

#: Reasons in words for indicators whose label is not enough.
_PLAIN: Mapping[str, str] = {
    "child_out_of_school": "有义务教育阶段适龄儿童失学辍学",
    "child_schooling": "有义务教育阶段适龄儿童失学辍学",
    "adult_schooling": "无成年成员完成初中教育",
    "serious_illness_disability": "有成员患大病或重度残疾（1–2级）",
    "no_able_labour": "家中无16–64岁有劳动能力的成员",
    "unemployed_member": "有劳动能力的成员失业",
}


def _reason(
    name: str, label: str | None, row: Mapping[str, Any], params: Mapping[str, float]
) -> str:
    if name in _REASONS:
        return _REASONS[name](row, params)
    if name in _PLAIN:
        return _PLAIN[name]
    if label:
        return zh_first(label)[0]
    return name


def household_list(
    units: pd.DataFrame,
    frame: pd.DataFrame,
    *,
    indicators: Mapping[str, str | None],
    household: str,
    params: Mapping[str, float],
    poor_column: str,
    names: bool,
) -> pd.DataFrame:
    """The list: ``units`` as :func:`dongxi.measure.identify` gives them (one row per
    household, 0/1 per indicator, ``poor_…`` columns), ``frame`` the data they were identified
    from (one row per person or per household), ``indicators`` name → label in the spec's
    order. ``names``: whether the head's name (``name`` of the member with ``relation`` =
    ``head``) may be shown."""
    first = frame.groupby(household, sort=False).first()
    if "medical_insurance" in frame:
        lacking = frame["medical_insurance"].map(_false)
        first["_uninsured"] = lacking.groupby(frame[household]).sum()
    head_names: Mapping[Any, Any] = {}
    if names and "name" in frame and "relation" in frame:
        heads = frame[frame["relation"].astype(str) == "head"]
        head_names = heads.groupby(household)["name"].first().to_dict()
    status_labels = {code: zh for code, (zh, _en) in HOUSEHOLD_STATUSES.items()}
    rows = []
    for unit in units.to_dict("records"):
        code = unit[household]
        row = first.loc[code].to_dict() if code in first.index else {}
        unmet = [
            _reason(name, label, row, params)
            for name, label in indicators.items()
            if unit.get(name) == 1
        ]
        status = row.get("status")
        if status is None or (isinstance(status, float) and math.isnan(status)):
            status = None
        else:
            status = str(status)
        poor = bool(unit[poor_column])
        flag = ""
        if status == "escaped" and unmet:
            flag = RELAPSE
        elif status == "never" and poor:
            flag = MISSED
        village = str(row.get("village_code", "") or "")
        county = str(row.get("county_code", "") or village[:6])
        rows.append(
            {
                "县": place_name(county) if county else "",
                "乡镇": place_name(village[:9]) if len(village) >= 9 else "",
                "村": place_name(village) if village else "",
                "户编号": str(code),
                "户主姓名": str(head_names.get(code, "")),
                "户类型": status_labels.get(status or "", status or ""),
                "是否识别为贫困": "是" if poor else "否",
                "未达标项数": len(unmet),
                "加权剥夺得分": f"{float(unit.get('score', 0.0)) * 100:.1f}%",
                "未达标项": "；".join(unmet),
                "提示": flag,
            }
        )
    out = pd.DataFrame(rows, columns=list(HOUSEHOLD_LIST_COLUMNS))
    if not head_names:  # not allowed, or the data hold no names (snapshots do not)
        out = out.drop(columns=["户主姓名"])
    return out.sort_values(["县", "乡镇", "村", "户编号"], kind="stable").reset_index(drop=True)


def write_household_list(
    frame: pd.DataFrame, path: Path, *, option: str = "--households-out", inputs: Any = ()
) -> Path:
    """Write the list: XLSX with an autofilter on the Chinese headers (one sheet "户清单"), or
    CSV (UTF-8 with BOM) / Parquet by the file's suffix."""
    from dongxi.tables import write_sheets, write_table

    if Path(path).suffix.lower() == ".xlsx":
        return write_sheets({"户清单": frame}, path, option=option, inputs=inputs, filters=True)
    return write_table(frame, path, option=option, inputs=inputs)
