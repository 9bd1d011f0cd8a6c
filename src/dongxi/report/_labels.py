"""Bilingual labels (zh-CN first, English second) and number formatting for reports."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from types import MappingProxyType

import pandas as pd

from dongxi.intake.columns import COLUMNS

__all__ = [
    "COLUMN_LABELS",
    "GLOSSARY",
    "LANG",
    "MEASURE_LABELS",
    "bi",
    "column_label",
    "format_number",
    "is_overall",
    "measure_label",
    "percent",
    "place_name",
    "region_names",
    "value_labels",
    "zh_first",
]

#: The report's language while it is rendered: "zh-en" (bilingual, Chinese first) or "zh".
LANG: ContextVar[str] = ContextVar("dongxi_report_lang", default="zh-en")


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Render with ``lang`` ("zh-en" or "zh") in force (charts and tables read it)."""
    token = LANG.set(lang)
    try:
        yield
    finally:
        LANG.reset(token)


def bi(zh: str, en: str, sep: str = " ") -> str:
    """Chinese first, then English (only Chinese when the report is Chinese-only)."""
    if LANG.get() == "zh" or not en:
        return zh
    return f"{zh}{sep}{en}"


_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef（）]")


def zh_first(label: str) -> tuple[str, str]:
    """Split a mixed label ("Safe housing 住房安全" or "住房安全 Safe housing") into (zh, en).

    The words with Chinese characters make the Chinese part; the rest the English part. A label
    without Chinese is returned as ``(label, "")``.
    """
    words = label.split()
    zh = [w for w in words if _CJK.search(w)]
    en = [w for w in words if not _CJK.search(w)]
    if not zh:
        return label, ""
    return " ".join(zh).strip("()（） "), " ".join(en).strip()


def percent(value: object, digits: int = 1) -> str:
    """A share of 1 as a percentage ("23.4%"); "–" when missing."""
    if value is None or value is pd.NA:
        return "–"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "–"
    return f"{number * 100:.{digits}f}%"


#: Terms explained in words where they appear: (zh, en).
GLOSSARY: Mapping[str, tuple[str, str]] = {
    "H": (
        "贫困发生率 H：被识别为贫困的人口占全部人口的比例。",
        "Headcount ratio H: the share of people identified as poor.",
    ),
    "A": (
        "平均剥夺强度 A：贫困人口平均未达到的指标权重之和"
        "（例如 40% 表示平均有 40% 的加权指标未达标）。",
        "Intensity A: the average share of weighted indicators the poor fail "
        "(40 % means they fail 40 % of the weighted indicators on average).",
    ),
    "M0": (
        "调整后多维贫困指数 M0：贫困发生率乘以平均剥夺强度（M0 = H × A），"
        "同时反映贫困的广度和深度，在 0 到 1 之间，越小越好。",
        "Adjusted headcount ratio M0 = H × A: how many are poor and in how many ways; "
        "between 0 and 1, lower is better.",
    ),
    "k": (
        "贫困临界值 k：一户的加权剥夺得分达到 k 即被识别为贫困；"
        "\u201c任一项未达标\u201d（并集）表示只要有一项标准未达到就算贫困。",
        "Cutoff k: a household whose weighted deprivation score reaches k is poor; "
        "\u201cany criterion unmet\u201d (union) means one unmet criterion is enough.",
    ),
    "pctb": (
        "贡献率：某项指标对 M0 的贡献所占百分比，各项合计 100%，说明贫困主要由哪些方面造成。",
        "Contribution: the share of M0 due to each indicator (they add up to 100 %): "
        "which deprivations make up poverty.",
    ),
    "CI": (
        "95% 置信区间：考虑到抽样或测量的随机误差，真实值有 95% 的把握落在此区间内；"
        "标准误越小，估计越精确。",
        "95 % confidence interval: the range that holds the true value with 95 % confidence; "
        "a smaller standard error means a more precise estimate.",
    ),
    "FGT": (
        "收入贫困发生率 FGT0：人均纯收入低于当年贫困线的人口比例；贫困差距指数 FGT1："
        "贫困人口收入距贫困线的平均差距（占贫困线的比例）；"
        "基尼系数：收入不平等程度，0 为完全平等。",
        "FGT0: share of people below the line; FGT1: average gap to the line as a share of "
        "the line; Gini: income inequality (0 = equal).",
    ),
}

#: Labels of the measures of the long table: (zh, en).
MEASURE_LABELS: Mapping[str, tuple[str, str]] = {
    "M0": ("调整后多维贫困指数 M0", "Adjusted headcount ratio M0"),
    "H": ("贫困发生率 H", "Headcount ratio H"),
    "A": ("平均剥夺强度 A", "Intensity A"),
    "hd": ("未审查剥夺率", "Uncensored headcount"),
    "hdk": ("审查后剥夺率", "Censored headcount"),
    "actb": ("绝对贡献", "Absolute contribution"),
    "pctb": ("贡献率", "Percentage contribution"),
    "popsh": ("人口份额", "Population share"),
    "FGT0": ("收入贫困发生率 FGT0", "Income headcount FGT0"),
    "FGT1": ("贫困差距指数 FGT1", "Poverty gap FGT1"),
    "FGT2": ("贫困强度指数 FGT2", "Squared poverty gap FGT2"),
    "Watts": ("瓦茨指数", "Watts index"),
    "watts": ("瓦茨指数", "Watts index"),
    "Gini": ("基尼系数", "Gini coefficient"),
    "gini": ("基尼系数", "Gini coefficient"),
}

#: Labels of common table columns: (zh, en).
COLUMN_LABELS: Mapping[str, tuple[str, str]] = {
    "round": ("轮次", "round"),
    "year": ("年度", "year"),
    "years": ("适用年份", "years"),
    "spec": ("识别标准", "spec"),
    "k": ("临界值 k", "cutoff k"),
    "by": ("分组变量", "by"),
    "group": ("组别", "group"),
    "measure": ("指标量", "measure"),
    "indicator": ("指标", "indicator"),
    "estimate": ("估计值", "estimate"),
    "se": ("标准误", "SE"),
    "ci_low": ("置信下限", "CI low"),
    "ci_high": ("置信上限", "CI high"),
    "n": ("样本量", "n"),
    "county": ("县", "county"),
    "county_code": ("县代码", "county code"),
    "name": ("名称", "name"),
    "value": ("数值", "value"),
    "unit": ("单位", "unit"),
    "scope": ("范围", "scope"),
    "effective_from": ("生效日期", "effective from"),
    "effective_to": ("失效日期", "effective to"),
    "status": ("状态", "status"),
    "source": ("来源", "source"),
    "snapshot_id": ("快照编号", "snapshot id"),
    "as_of": ("截至日期", "as of"),
    "created_at": ("创建时间", "created at"),
    "table": ("表", "table"),
    "rows": ("行数", "rows"),
    "sha256": ("SHA-256 校验值", "SHA-256"),
    "line": ("贫困线(元)", "poverty line (yuan)"),
    "difference": ("变化", "difference"),
    "from": ("起始轮次", "from"),
    "to": ("终止轮次", "to"),
    "estimate_from": ("起始估计值", "estimate (from)"),
    "estimate_to": ("终止估计值", "estimate (to)"),
    "method": ("匹配算法", "method"),
    "seekers": ("求职者", "seekers"),
    "matched": ("已匹配", "matched"),
    "match_rate": ("匹配率", "matched rate"),
    "welfare": ("福利", "welfare"),
    "title": ("标题", "title"),
    "sources": ("文献来源", "sources"),
    "label_zh": ("项目", "item (zh)"),
    "label_en": ("项目(英文)", "item (en)"),
}

_OVERALL = {"", "all", "overall", "total", "none", "全部", "合计"}


def is_overall(value: object) -> bool:
    """True when a ``by`` or ``group`` value means "the whole population"."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NA:
        return True
    return str(value).strip().lower() in _OVERALL


def measure_label(measure: str) -> tuple[str, str]:
    """The (zh, en) label of a measure; unknown measures are labelled by their code."""
    return MEASURE_LABELS.get(measure, (measure, measure))


def column_label(column: str) -> tuple[str, str]:
    """The (zh, en) label of a column; unknown columns are labelled by their name."""
    return COLUMN_LABELS.get(column, (column, column))


def format_number(value: object, *, percent: bool = False) -> str:
    """A number as a report shows it: shares with 4 decimals, counts with separators."""
    if value is None or value is pd.NA:
        return "–"
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if percent:
            return f"{value * 100:.1f}%"
        if value.is_integer() and abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) < 10:
            return f"{value:.4f}"
        if abs(value) < 100_000:
            return f"{value:,.2f}"
        return f"{value:,.0f}"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if isinstance(value, str):
        return value
    return format_number(int(number) if number.is_integer() else number, percent=percent)


@cache
def _county_names() -> dict[str, str]:
    from dongxi.regions import national_counties

    frame = national_counties()
    return {str(c): str(n) for c, n in zip(frame["code"], frame["name"], strict=True)}


@cache
def _division_names() -> dict[str, str]:
    from dongxi.regions import divisions

    names: dict[str, str] = {}
    for vintage in (2023, 2017):
        frame = divisions(vintage, ("45", "44"))
        for code, name in zip(frame["code"], frame["name"], strict=True):
            names.setdefault(str(code), str(name))
    return names


def place_name(code: str) -> str:
    """The name of a division code of any level (province … village); the code when unknown."""
    code = str(code)
    if len(code) == 6:
        known = _county_names().get(code)
        if known is not None:
            return known
    if code[:2] in ("44", "45"):
        return _division_names().get(code, code)
    return code


def region_names(codes: list[str]) -> dict[str, str]:
    """Names of county/prefecture codes (2017 or 2023 vintage); unknown codes map to themselves.

    The small national county list answers most codes; the full Guangxi/Guangdong division
    tables (both vintages) are read only for codes it does not know (changed since 2017).
    """
    names = _county_names()
    out = {code: names[code] for code in codes if len(code) == 6 and code in names}
    rest = [code for code in codes if code not in out and code[:2] in ("44", "45")]
    if rest:
        older = _division_names()
        out.update({code: older.get(code, code) for code in rest})
    return {code: out.get(code, code) for code in codes}


@cache
def value_labels(column: str) -> Mapping[str, str]:
    """Code → ``"中文 English"`` label of the values of an enumerated column of the data dictionary
    (:mod:`dongxi.vocab`); empty for other columns. A name several kinds use (``status``) is read
    as the first kind's (households)."""
    for columns in COLUMNS.values():
        for col in columns:
            if col.name == column and col.vocabulary is not None:
                labels = {code: f"{zh} {en}" for code, (zh, en) in col.vocabulary.items()}
                return MappingProxyType(labels)
    return MappingProxyType({})
