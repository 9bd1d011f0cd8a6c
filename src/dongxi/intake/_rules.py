"""The rules of import validation, their messages in Chinese and English, and the collector
that turns a failing mask of rows into :class:`dongxi.errors.RowError` records.

The cells a report shows go through :func:`dongxi.redaction.report_value`: an ID-like value is
masked and text with Chinese (non-ASCII) letters is cut to its first character, whatever the
column — in a file whose columns are missing, swapped or shifted, an ID number or a name can sit
under any header. Columns of personal text (name, contact) show no value at all."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from dongxi.errors import RowError
from dongxi.intake.columns import Kind
from dongxi.redaction import report_value, scrub

__all__ = ["RULES", "Collector"]

#: Every rule: (message in Chinese, message in English). ``{...}`` fields are filled per error.
RULES: dict[str, tuple[str, str]] = {
    "required": ("必填项为空。", "A required value is missing."),
    "type_int": ("应为整数。", "Must be a whole number."),
    "type_float": ("应为数字。", "Must be a number."),
    "number_finite": (
        "应为有限的数字（不能是 inf、nan 或 1e400 这样超出范围的数）。",
        "Must be a finite number: inf, nan and numbers too large to hold (such as 1e400) are "
        "refused; write the number itself.",
    ),
    "control_char": (
        "含有不可见的控制字符（如 NUL，显示为 \\u0000）；请删除后重新输入该单元格。",
        "Holds an invisible control character (such as NUL, shown as \\u0000); retype the cell "
        "without it.",
    ),
    "type_bool": ("应为是/否（或 1/0）。", "Must be yes/no (是/否, 1/0, true/false)."),
    "type_date": ("应为日期（如 2001-05-09）。", "Must be a date such as 2001-05-09."),
    "domain": ("不是允许的取值，可选：{allowed}。", "Not an allowed value; use one of: {allowed}."),
    "length": ("超过最大长度 {max} 个字符。", "Longer than the maximum of {max} characters."),
    "range": ("超出允许范围 {range}。", "Outside the allowed range {range}."),
    "code_format": ("代码应为数字。", "A region code must consist of digits."),
    "region_province": (
        "行政区划代码前两位不是有效的省级代码。",
        "The first two digits of the region code are not a province code.",
    ),
    "id_format": (
        "身份证号应为 18 位（前 17 位数字，末位数字或 X）。",
        "An ID number must have 18 characters: 17 digits and a digit or X.",
    ),
    "id_date_invalid": (
        "身份证号第 7–14 位不是有效的出生日期。",
        "Characters 7-14 of the ID number are not a real birth date.",
    ),
    "id_as_number": (
        "身份证号被存成了数字（科学计数法或末位 X 丢失，Excel 只保留 15 位有效数字）；请把该列设为"
        "“文本”格式后重新输入身份证号。",
        "The ID number was stored as a number (scientific notation, or the final X lost; Excel "
        "keeps 15 significant digits): format the column as Text and retype the ID numbers.",
    ),
    "id_region": (
        "身份证号前两位不是有效的省级行政区划代码。",
        "The first two digits of the ID number are not a province code; the number was "
        "mistyped or made up.",
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
    "birth_masked": (
        "脱敏的出生日期（如 1984-**-**）只能用于身份证号或登记库能给出出生日期的成员，"
        "且年份须一致。",
        "A masked birth date (such as 1984-**-**) is accepted only when the clear ID number or "
        "the registry gives the date, in the same year.",
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
    "month_format": (
        "月份应写成“年-月”，如 2021-03（2010–2035 年）。",
        "A month must be written year-month, such as 2021-03 (years 2010-2035).",
    ),
    "measure_target": (
        "户编号和区划代码至少填写一项。",
        "Give a household code or a region code (or both).",
    ),
    "date_order": ("结束日期早于开始日期。", "The end date is before the start date."),
    "alert_subject": (
        "户编号和身份证号至少填一项。",
        "Give the household code or the ID number (at least one).",
    ),
    "alert_future": ("预警日期晚于今天。", "The alert's date is after today."),
    "duplicate_key": ("与第 {other} 行重复。", "Duplicates row {other}."),
    "age_order": (
        "最低年龄大于最高年龄。",
        "The minimum age is above the maximum age.",
    ),
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


class Collector:
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
                args[k] = scrub(str(v[i]))
            value = None if shown is None else shown[i]
            self.errors.append(
                RowError(
                    row=int(self.rows[i]),
                    column=header,
                    value=report_value(value),
                    rule=rule,
                    message_zh=zh.format(**args) if args else zh,
                    message_en=en.format(**args) if args else en,
                    file=self.file,
                )
            )
