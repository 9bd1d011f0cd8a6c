"""Assemble a report: one self-contained HTML file (inline SVG and CSS) and an XLSX beside it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from dongxi import __version__
from dongxi.errors import InputError
from dongxi.localtime import local_time
from dongxi.report import _charts
from dongxi.report._data import ReportData
from dongxi.report._labels import (
    GLOSSARY,
    bi,
    column_label,
    format_number,
    is_overall,
    language,
    measure_label,
    percent,
    place_name,
    region_names,
    value_labels,
    zh_first,
)
from dongxi.vocab import POLICY_STATUSES

__all__ = ["TableView", "build_report", "write_workbook"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableView:
    """A table ready for the template: bilingual headers and formatted cells."""

    caption_zh: str
    caption_en: str
    headers: list[tuple[str, str]]
    rows: list[list[str]]
    numeric: list[bool]


def _local_times(frame: pd.DataFrame) -> pd.DataFrame:
    """``created_at`` (UTC, as stored) shown in the user's time zone (``DONGXI_TIMEZONE``)."""
    if "created_at" not in frame.columns:
        return frame
    shown = pd.Series(
        [None if pd.isna(v) else local_time(str(v)) for v in frame["created_at"]],
        index=frame.index,
        dtype=object,
    )
    return frame.assign(created_at=shown)


def _view(
    frame: pd.DataFrame,
    caption_zh: str,
    caption_en: str,
    *,
    limit: int = 400,
    percent_columns: Sequence[str] = (),
) -> TableView:
    headers = [column_label(str(c)) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    share = [str(c) in percent_columns for c in frame.columns]
    rows = [
        [percent(v) if share[i] else format_number(v) for i, v in enumerate(record)]
        for record in frame.head(limit).itertuples(False)
    ]
    if len(frame) > limit:
        caption_en += f" (first {limit} of {len(frame):,} rows; all rows in the XLSX file)"
        caption_zh += f"(前 {limit} 行, 共 {len(frame):,} 行; 全部见 XLSX 文件)"
    return TableView(caption_zh, caption_en, headers, rows, numeric)


def _spec_label(data: ReportData, spec: str) -> tuple[str, str]:
    return data.spec_labels.get(spec, (spec, spec))


def _headline_rows(data: ReportData, spec: str, rows: pd.DataFrame) -> pd.DataFrame:
    """The rows at the spec's headline cutoff (the first k when not given)."""
    k = data.headline_k.get(spec)
    if k is None:
        k = rows["k"].iloc[0]
    if pd.isna(k):
        return rows[rows["k"].isna()]
    return rows[(rows["k"].astype(float) - float(k)).abs() < 1e-9]


def _cutoff_text(data: ReportData, spec: str, k: Any) -> tuple[str, str]:
    if spec in data.cutoff_labels:
        return data.cutoff_labels[spec]
    text = _k_text(k)
    return (f"贫困临界值 {text}", f"cutoff {text}") if text else ("", "")


def _k_text(k: Any) -> str:
    try:
        value = float(k)
    except (TypeError, ValueError):
        return str(k)
    if value != value:  # NaN
        return ""
    return f"k = {value:.4g}%"


def _latest(rounds: Any) -> str:
    return sorted(str(r) for r in rounds)[-1]


def _with_ci(est: Any, low: Any, high: Any, *, share: bool = True) -> str:
    fmt = percent if share else (lambda v: format_number(None if v is None else float(v)))
    text = fmt(est)
    if low is None or pd.isna(low) or high is None or pd.isna(high):
        return text
    return f"{text} [{fmt(low)}, {fmt(high)}]"


def _count(value: Any) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{int(value):,}"


def _group_label(data: ReportData) -> tuple[str, str]:
    return ("乡镇", "township") if data.county_by == "township_code" else ("县（市、区）", "county")


def _counts_of(data: ReportData, spec: str, round_: str) -> dict[str, Any]:
    if data.counts is None:
        return {}
    c = data.counts
    c = c[(c["spec"] == spec) & (c["round"].astype(str) == round_)]
    return {
        ("" if is_overall(b) else str(g)): rec
        for b, g, rec in zip(c["by"], c["group"], c.to_dict("records"), strict=True)
    }


def _county_section(data: ReportData, names: Mapping[str, str]) -> list[dict[str, Any]]:
    measures = data.measures
    if measures is None:
        return []
    out: list[dict[str, Any]] = []
    for spec, spec_rows in measures.groupby("spec", sort=False):
        spec = str(spec)
        rows = _headline_rows(data, spec, spec_rows)
        k = rows["k"].iloc[0] if len(rows) else None
        rows = rows[rows["measure"].isin(["M0", "H", "A"]) & rows["indicator"].map(is_overall)]
        rows = rows[(rows["by"].astype(str) == data.county_by) | rows["by"].map(is_overall)]
        if rows.empty:
            continue
        latest = _latest(rows["round"].unique())
        rows = rows[rows["round"].astype(str) == latest].copy()
        rows["group"] = [
            "" if is_overall(b) else str(g) for b, g in zip(rows["by"], rows["group"], strict=True)
        ]
        counts = _counts_of(data, spec, latest)
        groups = rows[rows["group"] != ""]
        svg = _charts.county_chart(groups, names=names) if len(groups) else ""
        wide = rows.pivot_table(
            index="group",
            columns="measure",
            values=["estimate", "ci_low", "ci_high", "se", "n"],
            aggfunc="first",
        )
        present = [m for m in ("H", "A", "M0") if m in set(rows["measure"])]
        first = present[0]
        order = rows[(rows["measure"] == first) & (rows["group"] != "")].sort_values(
            "estimate", ascending=False
        )
        table_rows: list[list[str]] = []
        for group in ["", *order["group"]]:
            if group not in wide.index:
                continue
            cells = [bi("合计", "all") if group == "" else names.get(group, group)]
            for m in present:
                # a measure undefined in every group (A where no one is poor) is left out of
                # the pivot: its cells are shown as missing
                est, low, high = (
                    wide.loc[group, (c, m)] if (c, m) in wide.columns else None
                    for c in ("estimate", "ci_low", "ci_high")
                )
                cells.append(_with_ci(est, low, high, share=m != "M0"))
                if m == "H":
                    se = wide.loc[group, ("se", m)] if ("se", m) in wide.columns else None
                    cells.append(percent(se, 2))
                    c = counts.get(group, {})
                    cells += [
                        _count(c.get("poor_households")),
                        _count(c.get("households")),
                        _count(c.get("poor_people")),
                        _count(c.get("people")),
                    ]
            table_rows.append(cells)
        where_zh, where_en = _group_label(data)
        headers: list[tuple[str, str]] = [(where_zh, where_en)]
        for m in present:
            zh, en = measure_label(m)
            headers.append((f"{zh} [95% 置信区间]", f"{en} [95% CI]"))
            if m == "H":
                headers += [
                    ("H 的标准误", "SE of H"),
                    ("贫困户（户）", "poor households"),
                    ("总户数（户）", "households"),
                    ("贫困人口（人）", "poor people"),
                    ("总人口（人）", "people"),
                ]
        title_zh, title_en = _spec_label(data, spec)
        cut_zh, cut_en = _cutoff_text(data, spec, k)
        table = TableView(
            f"{title_zh} · {latest} 年 · 按{where_zh}",
            f"{title_en} · {latest} · by {where_en}",
            headers,
            table_rows,
            [False, *([True] * (len(headers) - 1))],
        )
        out.append(
            {
                "spec": title_zh,
                "spec_en": title_en,
                "round": latest,
                "k": cut_zh,
                "k_en": cut_en,
                "svg": Markup(svg),
                "table": table,
            }
        )
    return out


def _contribution_section(data: ReportData, names: Mapping[str, str]) -> list[dict[str, Any]]:
    measures = data.measures
    if measures is None:
        return []
    out: list[dict[str, Any]] = []
    for spec, spec_rows in measures.groupby("spec", sort=False):
        spec = str(spec)
        rows = _headline_rows(data, spec, spec_rows[spec_rows["measure"] == "pctb"])
        rows = rows[rows["by"].map(is_overall) | (rows["by"].astype(str) == data.county_by)]
        if rows.empty:
            continue
        k = rows["k"].iloc[0]
        latest = _latest(rows["round"].unique())
        rows = rows[rows["round"].astype(str) == latest].copy()
        overall_label = bi("全体", "all")
        rows["group"] = [
            overall_label if is_overall(b) else str(g)
            for b, g in zip(rows["by"], rows["group"], strict=True)
        ]
        labels = data.indicator_labels
        rows["indicator"] = [bi(*zh_first(labels.get(str(i), str(i)))) for i in rows["indicator"]]
        # no one poor (in a group, or at all): no contribution to show there
        rows = rows[rows["estimate"].notna()]
        svg = (
            _charts.contribution_chart(rows, names={**names, overall_label: overall_label})
            if len(rows)
            else ""
        )
        overall = rows[rows["group"] == overall_label][["indicator", "estimate"]]
        overall = overall.sort_values("estimate", ascending=False)
        table = TableView(
            f"{_spec_label(data, spec)[0]} · {latest} 年 · 全体各指标贡献率",
            f"{_spec_label(data, spec)[1]} · {latest} · contribution of each indicator",
            [("指标", "indicator"), ("贡献率", "contribution")],
            [
                [str(i), percent(e)]
                for i, e in zip(overall["indicator"], overall["estimate"], strict=True)
            ]
            or [[bi("无贫困户，贡献率无从计算", "no one is poor: no contributions"), "–"]],
            [False, True],
        )
        cut_zh, cut_en = _cutoff_text(data, spec, k)
        out.append(
            {
                "spec": _spec_label(data, spec)[0],
                "spec_en": _spec_label(data, spec)[1],
                "round": latest,
                "k": cut_zh,
                "k_en": cut_en,
                "svg": Markup(svg),
                "table": table,
            }
        )
    return out


_SHARE_MEASURES = {"FGT0", "H", "M0", "A"}


def _income_lines(data: ReportData) -> list[dict[str, str]]:
    """The income line of each round in words (zh, en), as the identification used it."""
    if data.income_lines is None:
        return []
    return [
        {"round": str(r["round"]), "zh": str(r["words_zh"]), "en": str(r["words_en"])}
        for r in data.income_lines.to_dict("records")
    ]


#: The kinds of income line (``line_kind``), as a table's cell says them.
_LINE_KINDS = {
    "poverty_line": ("贫困线", "poverty line"),
    "monitoring_line": ("防返贫监测线", "monitoring line"),
}


def _income_section(data: ReportData) -> dict[str, Any] | None:
    if data.income is None and data.income_measures is None:
        return None
    lines: dict[str, float] = {}
    if data.poverty_lines is not None:
        lines = {
            str(r): float(v)
            for r, v in zip(data.poverty_lines["round"], data.poverty_lines["line"], strict=True)
        }
    section: dict[str, Any] = {"svg": None, "fgt": None, "lines": None}
    if data.income is not None and len(data.income):
        kinds: dict[str, tuple[str, str]] = {}
        if data.poverty_lines is not None and "line_kind" in data.poverty_lines.columns:
            kinds = {
                str(r): _LINE_KINDS[str(k)]
                for r, k in zip(
                    data.poverty_lines["round"], data.poverty_lines["line_kind"], strict=True
                )
                if str(k) in _LINE_KINDS
            }
        section["svg"] = Markup(_charts.income_chart(data.income, lines, kinds))
    if data.income_measures is not None:
        im = data.income_measures
        if "by" in im.columns:
            im = im[im["by"].map(is_overall)]
        rows = []
        for rec in im.to_dict("records"):
            m = str(rec["measure"])
            share = m in ("FGT0", "FGT1", "FGT2")
            rows.append(
                [
                    f"{rec['round']}",
                    bi(*measure_label(m)),
                    _with_ci(rec["estimate"], rec.get("ci_low"), rec.get("ci_high"), share=share),
                    percent(rec.get("se"), 2) if share else format_number(rec.get("se")),
                ]
            )
        section["fgt"] = TableView(
            "收入贫困指标（按人口加权）",
            "Income poverty measures (people-weighted)",
            [
                ("年度", "year"),
                ("指标", "measure"),
                ("估计值 [95% 置信区间]", "estimate [95% CI]"),
                ("标准误", "SE"),
            ],
            rows,
            [False, False, True, True],
        )
    if data.poverty_lines is not None:
        pl = data.poverty_lines
        kind_of = [str(k) for k in pl["line_kind"]] if "line_kind" in pl.columns else []
        if any(k == "monitoring_line" for k in kind_of):
            caption = ("各年收入线（2020 年后为防返贫监测线）", "Income line of each year "
                       "(the relapse-monitoring line after 2020)")  # fmt: skip
            headers = [("年度", "year"), ("线别", "line"),
                       ("收入线（元/人·年）", "line (yuan per person a year)")]  # fmt: skip
        else:
            caption = ("各年贫困线", "Poverty line of each year")
            headers = [("年度", "year"), ("贫困线（元/人·年）", "line (yuan per person a year)")]
        rows = []
        for i, r in enumerate(pl.to_dict("records")):
            row = [str(r.get("round")), format_number(float(r["line"]))]
            if len(headers) == 3:
                row.insert(1, bi(*_LINE_KINDS.get(kind_of[i], (kind_of[i], kind_of[i]))))
            rows.append([*row, _status_label(r.get("status")), str(r.get("source") or "")])
        section["lines"] = TableView(
            caption[0],
            caption[1],
            [*headers, ("核实状态", "status"), ("来源", "source")],
            rows,
            [False] * (len(headers) - 1) + [True, False, False],
        )
    return section


#: How far a figure is confirmed (policy data's ``status``; ``user``: the office's own file).
_STATUS = {
    **{code: (POLICY_STATUSES[code].zh, POLICY_STATUSES[code].en) for code in POLICY_STATUSES},
    "user": ("本单位文件提供", "office's own file"),
}


def _status_label(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return bi(*_STATUS.get(str(value), (str(value), "")))


def _change_section(data: ReportData) -> dict[str, Any] | None:
    measures = data.measures
    if measures is None or measures["round"].nunique() < 2:
        if data.change is None:
            return None
        return {"svg": None, "table": None, "change": _change_view(data)}
    pieces = []
    for spec, spec_rows in measures.groupby("spec", sort=False):
        rows = _headline_rows(data, str(spec), spec_rows)
        rows = rows[
            rows["by"].map(is_overall)
            & rows["indicator"].map(is_overall)
            & rows["measure"].isin(["M0", "H", "A"])
        ]
        short = _spec_label(data, str(spec))[0].split("：")[0].split("（")[0]
        pieces.append(rows.assign(series=short))
    frame = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame()
    section: dict[str, Any] = {"svg": None, "table": None, "change": None}
    if not frame.empty:
        section["svg"] = Markup(_charts.change_chart(frame))
        frame = frame.sort_values(["spec", "measure", "round"])
        section["table"] = TableView(
            "各年估计值（全体）",
            "Estimates by year (all)",
            [
                ("识别标准", "spec"),
                ("指标", "measure"),
                ("年度", "year"),
                ("估计值 [95% 置信区间]", "estimate [95% CI]"),
                ("标准误", "SE"),
            ],
            [
                [
                    _spec_label(data, str(r["spec"]))[0],
                    bi(*measure_label(str(r["measure"]))),
                    str(r["round"]),
                    _with_ci(r["estimate"], r["ci_low"], r["ci_high"], share=r["measure"] != "M0"),
                    percent(r["se"], 2) if r["measure"] != "M0" else format_number(float(r["se"])),
                ]
                for r in frame.to_dict("records")
            ],
            [False, False, False, True, True],
        )
    if data.change is not None:
        section["change"] = _change_view(data)
    return section


def _points(value: Any) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{float(value) * 100:+.1f}"


def _change_view(data: ReportData) -> TableView:
    change = data.change
    assert change is not None
    if "k" in change.columns and data.headline_k:
        keep = [
            str(s) not in data.headline_k or abs(float(k) - data.headline_k[str(s)]) < 1e-9
            for s, k in zip(change["spec"], change["k"], strict=True)
        ]
        change = change[keep]
    rows = []
    for r in change.to_dict("records"):
        spec = str(r.get("spec", ""))
        m = str(r.get("measure", ""))
        share = m != "M0"
        diff = (
            f"{_points(r['difference'])} [{_points(r.get('ci_low'))}, {_points(r.get('ci_high'))}]"
            if share
            else _with_ci(r["difference"], r.get("ci_low"), r.get("ci_high"), share=False)
        )
        rel = "–"
        if "rel_change" in r and not pd.isna(r["rel_change"]):
            rel = f"{r['rel_change']:+.1f}%"
            if not pd.isna(r.get("rel_ci_low")):
                rel += f" [{r['rel_ci_low']:+.1f}%, {r['rel_ci_high']:+.1f}%]"
        rows.append(
            [
                _spec_label(data, spec)[0],
                bi(*measure_label(m)),
                f"{r['from']} → {r['to']}",
                percent(r["estimate_from"]) if share else format_number(float(r["estimate_from"])),
                percent(r["estimate_to"]) if share else format_number(float(r["estimate_to"])),
                diff,
                rel,
            ]
        )
    return TableView(
        "年度间变化（绝对变化：H、A 为百分点，M0 为指数差；相对变化为百分比；均附 95% 置信区间）",
        "Change between years (absolute: percentage points for H and A, index points for M0; "
        "relative: percent; with 95% CIs)",
        [
            ("识别标准", "spec"),
            ("指标", "measure"),
            ("年度", "years"),
            ("起始值", "from"),
            ("终止值", "to"),
            ("绝对变化 [95% 置信区间]", "absolute change [95% CI]"),
            ("相对变化 [95% 置信区间]", "relative change [95% CI]"),
        ],
        rows,
        [False, False, False, True, True, True, True],
    )


#: Captions of the matching round's tables: (zh, en).
_MATCH_TABLES: Mapping[str, tuple[str, str]] = {
    "overall": ("匹配总体结果（两种算法）", "Overall results of both methods"),
    "comparison": ("两种算法的比较", "The two methods compared"),
    "by_county": ("分县匹配结果（稳定匹配）", "By county (stable matching)"),
    "by_status": ("按户类型匹配结果（稳定匹配）", "By household status (stable matching)"),
    "by_partner": ("按企业匹配结果", "By enterprise"),
    "unmatched": ("未匹配人员及原因", "Who was not placed, and why"),
    "placements": ("安置名单（按人）", "Placements, person by person"),
}

#: Columns of the matching round's tables: (zh, en).
_MATCH_COLUMNS: Mapping[str, tuple[str, str]] = {
    "method": ("匹配算法", "method"),
    "seekers": ("求职人数", "job seekers"),
    "matched": ("已安置人数", "placed"),
    "match_rate": ("安置率", "placement rate"),
    "matched_rate": ("安置率", "placement rate"),
    "positions": ("岗位数", "positions"),
    "filled": ("已招满岗位", "positions filled"),
    "acceptable_pairs": ("双方均可接受的人岗组合数", "pairs acceptable to both sides"),
    "blocking_pairs": ("阻塞对（双方都愿改换的人岗组合）", "blocking pairs"),
    "total_welfare": ("总福利（偏好得分合计）", "total welfare"),
    "welfare": ("福利（偏好得分合计）", "welfare"),
    "mean_rank": ("平均志愿序号", "mean rank of the job obtained"),
    "first_choice": ("获第一志愿人数", "placed in their first choice"),
    "metric": ("比较项", "metric"),
    "stable": ("稳定匹配", "stable"),
    "optimal": ("福利最优匹配", "welfare-optimal"),
    "note": ("说明", "note"),
    "county_code": ("县（市、区）", "county"),
    "status": ("户类型", "household status"),
    "partner_code": ("企业", "enterprise"),
    "reason": ("原因", "reason"),
    "offers": ("岗位个数", "posts"),
    "partner": ("东部企业（帮扶单位）", "eastern enterprise"),
    "seeker_id": ("人员编号", "person"),
    "village": ("乡镇、村", "township, village"),
    "offer_id": ("岗位编号", "post"),
    "place": ("工作地", "place of work"),
    "monthly_wage": ("月工资（元）", "monthly wage (yuan)"),
    "state": ("状态", "state"),
    "why_not": ("未匹配原因", "why not placed"),
}

_MATCH_VALUES: Mapping[str, tuple[str, str]] = {
    "stable": ("稳定匹配（延迟接受算法）", "stable (deferred acceptance)"),
    "optimal": ("福利最优匹配", "welfare-optimal"),
    "matched": ("已安置人数", "placed"),
    "total_welfare": ("总福利", "total welfare"),
    "seekers placed": ("安置人数", "seekers placed"),
    "stable gives up welfare": ("稳定匹配以部分总福利换取无人愿意改换", "stable gives up welfare"),
}

_MATCH_SHARES = {"match_rate", "matched_rate"}


def _match_view(name: str, frame: pd.DataFrame, names: Mapping[str, str]) -> TableView:
    cols = list(frame.columns)
    headers = [_MATCH_COLUMNS.get(c, column_label(c)) for c in cols]
    status = value_labels("status")
    rows = []
    for rec in frame.to_dict("records"):
        cells = []
        for c in cols:
            v = rec[c]
            if c in _MATCH_SHARES:
                cells.append(percent(v))
            elif c == "county_code" or c == "partner_code":
                cells.append(names.get(str(v), str(v)))
            elif c == "status":
                cells.append(
                    bi(*status.get(str(v), str(v)).split(" ", 1)) if str(v) in status else str(v)
                )
            elif isinstance(v, str) and v in _MATCH_VALUES:
                cells.append(bi(*_MATCH_VALUES[v]))
            else:
                cells.append(format_number(v))
        rows.append(cells)
    zh, en = _MATCH_TABLES.get(name, ("匹配结果", "Matching results"))
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in cols]
    return TableView(zh, en, headers, rows, numeric)


def _matching_section(data: ReportData, names: Mapping[str, str]) -> dict[str, Any] | None:
    if not data.matching:
        return None
    section: dict[str, Any] = {"cards": [], "charts": [], "tables": [], "words": None}
    if data.matching_words is not None:
        section["words"] = {"zh": data.matching_words[0], "en": data.matching_words[1]}
    summary = data.matching.get("summary")
    if summary is not None and {"label_zh", "label_en", "value"} <= set(summary.columns):
        section["cards"] = _cards(summary)
    by_group = data.matching.get("by_group")
    if by_group is not None and {"by", "group", "matched_rate"} <= set(by_group.columns):
        for by, part in by_group.groupby("by", sort=False):
            known = {**names}
            for code, label in value_labels(str(by)).items():
                zh, _, en = label.partition(" ")
                known[code] = bi(zh, en)
            labels = [known.get(str(g), str(g)) for g in part["group"]]
            svg = _charts.bar_chart(
                labels,
                [float(v) for v in part["matched_rate"]],
                xlabel=bi("安置率", "placement rate"),
            )
            where = {"county_code": ("县", "county"), "status": ("户类型", "household status")}
            zh, en = where.get(str(by), ("组别", "group"))
            section["charts"].append({"by_zh": zh, "by_en": en, "svg": Markup(svg)})
    for name, frame in data.matching.items():
        if name in ("summary", "by_group"):
            continue
        section["tables"].append(_match_view(name, frame, names))
    return section


def _share_count(share: Any, count: Any, total: Any, unit: str) -> str:
    """A rate with its counts: 4.2%（1,262 / 30,000 户）."""
    return f"{percent(share)}（{_count(count)} / {_count(total)} {unit}）"


def _monitoring_section(data: ReportData, names: Mapping[str, str]) -> dict[str, Any] | None:
    """The year's monitoring for officials: who the rules put in monitoring (by category, county
    and reason), the audits, and the risk score's check against the rules-only order."""
    m = data.monitoring
    if not m or "by_category" not in m:
        return None
    about = m.get("about")
    info: dict[str, str] = {}
    if about is not None:
        info = {str(k): str(v) for k, v in zip(about["item"], about["value"], strict=True)}
    cat = m["by_category"]
    total = cat[cat["category"].astype(str) == ""].iloc[0]
    parts = cat[cat["category"].astype(str) != ""]
    words = "，".join(
        f"{r['category_zh']} {int(r['households']):,} 户、{int(r['people']):,} 人"
        for r in parts.to_dict("records")
    )
    lead_zh = (
        f"按防返贫监测规则，{info.get('year', '')} 年（排查日期 {info.get('as_of', '')}，"
        f"收入期间 {info.get('window', '')}，监测线 {info.get('line', '')} 元/人·年）"
        "应纳入监测的有 "
        f"{int(total['households']):,} 户、{int(total['people']):,} 人，占全部 "
        f"{int(total['households_total']):,} 户的 {percent(total['share_households'])}、全部 "
        f"{int(total['people_total']):,} 人的 {percent(total['share_people'])}。其中{words}。"
    )
    lead_en = (
        f"By the monitoring rules, {int(total['households']):,} households "
        f"({int(total['people']):,} people) are to be monitored in {info.get('year', '')}: "
        f"{percent(total['share_households'])} of {int(total['households_total']):,} households, "
        f"{percent(total['share_people'])} of {int(total['people_total']):,} people."
    )
    rows = []
    for r in cat.to_dict("records"):
        label = (
            bi("合计", "all")
            if str(r["category"]) == ""
            else bi(r["category_zh"], r["category_en"])
        )
        rows.append(
            [
                label,
                _count(r["households"]),
                percent(r["share_households"]),
                _count(r["people"]),
                percent(r["share_people"]),
            ]
        )
    tables = [
        TableView(
            "规则认定的监测对象，按监测类型",
            "Households the rules put in monitoring, by category",
            [
                ("监测类型", "category"),
                ("户数", "households"),
                ("占全部户", "share of households"),
                ("人数", "people"),
                ("占全部人口", "share of people"),
            ],
            rows,
            [False, True, True, True, True],
        )
    ]
    from dongxi.vocab import MONITORING_CATEGORIES

    county = m.get("by_county")
    if county is not None and len(county):
        headers: list[tuple[str, str]] = [
            ("县（市、区）", "county"),
            ("监测户占比（监测户/总户数）", "share of households (monitored / all)"),
            ("监测人口占比（监测人口/总人口）", "share of people (monitored / all)"),
        ]
        headers += [(f"{label.zh}（户）", label.en) for label in MONITORING_CATEGORIES.values()]
        crow = []
        for r in county.to_dict("records"):
            code = str(r["county_code"])
            crow.append(
                [
                    names.get(code, place_name(code)),
                    _share_count(
                        r["share_households"], r["households"], r["households_total"], "户"
                    ),
                    _share_count(r["share_people"], r["people"], r["people_total"], "人"),
                    *[_count(r.get(f"households_{c}", 0)) for c in MONITORING_CATEGORIES],
                ]
            )
        tables.append(
            TableView(
                "规则认定的监测对象，按县（占比从高到低；小的县户数少，比例波动大，请同时看户数）",
                "By county, highest share first (small counties: read the counts with the share)",
                headers,
                crow,
                [False, *([True] * (len(headers) - 1))],
            )
        )
    rule = m.get("by_rule")
    if rule is not None:
        tables.append(
            TableView(
                "主要理由：各条规则认定的户数（一户可符合多条）",
                "Main reasons: households each rule puts in monitoring (one may meet several)",
                [
                    ("理由", "reason"),
                    ("认定户数", "households"),
                    ("缺数据无法判断", "cannot decide"),
                ],
                [
                    [
                        bi(r["rule_zh"], r["rule_en"]),
                        _count(r["households"]),
                        _count(r["households_undecided"]),
                    ]
                    for r in rule.to_dict("records")
                ],
                [False, True, True],
            )
        )
    status = m.get("status")
    if status is not None:
        tables.append(
            TableView(
                "排查结果与现有监测对象的对照",
                "The sweep against the households already monitored",
                [("情况", "situation"), ("户数", "households")],
                [
                    [bi(r["group_zh"], r["group_en"]), _count(r["households"])]
                    for r in status.to_dict("records")
                ],
                [False, True],
            )
        )
    audit = m.get("audit")
    if audit is not None:
        tables.append(
            TableView(
                "监测核查：应纳未纳与体外循环",
                "Audit: households missed, and help outside the system",
                [("问题", "finding"), ("户数", "households")],
                [
                    [bi(r["finding_zh"], r["finding_en"]), _count(r["households"])]
                    for r in audit.to_dict("records")
                ],
                [False, True],
            )
        )
    score = m.get("score")
    score_view = None
    if score is not None and len(score):
        score_view = TableView(
            "风险评分的检验：与仅按规则排序比较",
            "The risk score checked against the rules-only order",
            [
                ("指标", "figure"),
                ("按风险评分排序", "score order"),
                ("仅按规则排序", "rules-only order"),
            ],
            [
                [
                    bi(r["figure_zh"], r["figure_en"]),
                    f"{float(r['score']):.3f}"
                    if "auc" in str(r["figure"])
                    else percent(r["score"]),
                    f"{float(r['rules']):.3f}"
                    if "auc" in str(r["figure"])
                    else percent(r["rules"]),
                ]
                for r in score.to_dict("records")
            ],
            [False, True, True],
        )
    files = [
        (info[key], zh, en)
        for key, zh, en in (
            ("sweep_file", "排查名单（每户每条规则一行，含理由与依据数据）", "sweep list"),
            ("audit_file", "核查名单（应纳未纳、体外循环）", "audit list"),
            ("score_file", "风险评分名单（按风险从高到低）", "risk-score list"),
        )
        if key in info
    ]
    return {
        "lead_zh": lead_zh,
        "lead_en": lead_en,
        "tables": tables,
        "score": score_view,
        "evaluation": info.get("evaluation", ""),
        "training": info.get("score_training", ""),
        "note_zh": info.get("note_zh", ""),
        "note_en": info.get("note_en", ""),
        "files": files,
        "rules": info.get("rules", ""),
        "line_source": info.get("line_source", ""),
    }


def _cards(frame: pd.DataFrame) -> list[dict[str, str]]:
    cards = []
    for record in frame.to_dict("records"):
        unit = record.get("unit")
        unit = "" if unit is None or (isinstance(unit, float) and pd.isna(unit)) else str(unit)
        value = record["value"]
        if unit == "share":
            shown, unit = percent(value), ""
        else:
            if isinstance(value, float) and value.is_integer() and abs(value) >= 10:
                value = int(value)
            shown = format_number(value)
        detail = record.get("detail")
        cards.append(
            {
                "zh": str(record["label_zh"]),
                "en": str(record["label_en"]),
                "value": shown,
                "unit": unit,
                "detail": ""
                if detail is None or (isinstance(detail, float) and pd.isna(detail))
                else str(detail),
            }
        )
    return cards


def _group_codes(data: ReportData) -> list[str]:
    codes: set[str] = set()
    if data.measures is not None:
        codes |= set(data.measures["group"].dropna().astype(str))
    by_group = data.matching.get("by_group")
    if by_group is not None and "group" in by_group:
        codes |= set(by_group["group"].dropna().astype(str))
    for frame in [*data.matching.values(), *data.monitoring.values()]:
        if "county_code" in frame:
            codes |= set(frame["county_code"].dropna().astype(str))
    return sorted(c for c in codes if c.isdigit() and len(c) in (6, 9, 12))


_TABLE_NAMES = {
    "households": ("户信息", "households"),
    "people": ("家庭成员", "people"),
    "income": ("收入", "income"),
    "helpers": ("帮扶责任人", "helpers"),
    "partners": ("东部协作单位", "partners"),
    "measures": ("帮扶措施", "assistance measures"),
}


def _provenance(data: ReportData) -> dict[str, Any]:
    out: dict[str, Any] = {"snapshots": None, "hashes": None, "specs": None, "policy": None}
    snaps = data.snapshots
    if snaps is not None:
        snaps = _local_times(snaps)
        rows, hashes = [], []
        for (round_, sid), part in snaps.groupby(["round", "snapshot_id"], sort=True):
            counts = {}
            if "table" in part and "rows" in part:
                counts = dict(zip(part["table"].astype(str), part["rows"], strict=True))
            created = part["created_at"].iloc[0] if "created_at" in part else ""
            rows.append(
                [
                    str(round_),
                    str(sid),
                    "" if created is None or pd.isna(created) else str(created),
                    _count(counts.get("households")),
                    _count(counts.get("people")),
                ]
            )
            if "sha256" in part:
                for rec in part.to_dict("records"):
                    table_name = str(rec.get("table", ""))
                    hashes.append(
                        [
                            str(round_),
                            str(sid),
                            bi(*_TABLE_NAMES.get(table_name, (table_name, ""))),
                            _count(rec.get("rows")),
                            str(rec["sha256"]),
                        ]
                    )
        out["snapshots"] = TableView(
            "所用数据快照",
            "Snapshots used",
            [
                ("年度", "year"),
                ("快照编号", "snapshot id"),
                ("创建时间", "created at"),
                ("户数", "households"),
                ("人数", "people"),
            ],
            rows,
            [False, False, False, True, True],
        )
        if hashes:
            out["hashes"] = TableView(
                "附录：快照各表的 SHA-256 校验值（用于核对数据未被改动）",
                "Appendix: SHA-256 of each snapshot table (to check the data were not changed)",
                [
                    ("年度", "year"),
                    ("快照编号", "snapshot id"),
                    ("表", "table"),
                    ("行数", "rows"),
                    ("SHA-256", "SHA-256"),
                ],
                hashes,
                [False, False, False, True, False],
            )
    if data.specs is not None:
        rows = []
        for rec in data.specs.to_dict("records"):
            name = str(rec.get("name", ""))
            zh, en = _spec_label(data, name)
            cut = data.cutoff_labels.get(name, ("", ""))
            rows.append([bi(zh, en, " / "), bi(*cut), str(rec.get("sources", ""))])
        out["specs"] = TableView(
            "识别标准及依据",
            "Identification standards and their sources",
            [("识别标准", "standard"), ("贫困的判定", "who is poor"), ("依据", "sources")],
            rows,
            [False, False, False],
        )
    if data.policy is not None:
        pol = data.policy.copy()
        names = {
            "poverty_line": bi("贫困线", "poverty line"),
            "monitoring_line": bi("防止返贫监测线", "monitoring line"),
        }
        if "name" in pol:
            pol["name"] = [names.get(str(v), str(v)) for v in pol["name"]]
        if "status" in pol:
            pol["status"] = [_status_label(v) for v in pol["status"]]
        if "unit" in pol:
            pol["unit"] = [
                bi("元/人·年", "yuan per person a year") if "yuan" in str(u) else str(u)
                for u in pol["unit"]
            ]
        if "scope" in pol:
            pol["scope"] = [
                bi("全国", "national") if str(v) == "national" else place_name(str(v))
                for v in pol["scope"]
            ]
        out["policy"] = _view(pol, "政策参数", "Policy figures")
    return out


def render_html(data: ReportData) -> str:
    """The report as one HTML document (self-contained)."""
    with language(data.lang):
        return _render(data)


def _render(data: ReportData) -> str:
    names = region_names(_group_codes(data))
    env = Environment(
        loader=PackageLoader("dongxi.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["bi"] = bi
    env.globals["glossary"] = {k: v for k, v in GLOSSARY.items()}
    env.globals["english"] = data.lang != "zh"
    template = env.get_template("report.html.j2")
    return template.render(
        data=data,
        version=__version__,
        generated=local_time(dt.datetime.now(dt.UTC)),
        cards=[] if data.summary is None else _cards(data.summary),
        by_county=_county_section(data, names),
        income_lines=_income_lines(data),
        group_label=_group_label(data),
        contributions=_contribution_section(data, names),
        income=_income_section(data),
        change=_change_section(data),
        matching=_matching_section(data, names),
        monitoring=_monitoring_section(data, names),
        provenance=_provenance(data),
        missing=list(data.missing),
    )


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join(ch if ch not in "[]:*?/\\" else "_" for ch in name)[:31]
    candidate, i = base, 1
    while candidate in used:
        suffix = f"_{i}"
        candidate, i = base[: 31 - len(suffix)] + suffix, i + 1
    used.add(candidate)
    return candidate


def write_workbook(tables: Mapping[str, pd.DataFrame], path: Path) -> Path:
    """Write tables as the sheets of one XLSX file (names cut to Excel's 31 characters).

    Text cells are written as text, never as formulas (:func:`dongxi.tables.write_sheets`).
    """
    from dongxi.tables import write_sheets

    used: set[str] = set()
    sheets = {_sheet_name(name, used): frame for name, frame in tables.items()}
    return write_sheets(sheets, path, option="report workbook")


def build_report(data: ReportData, *, folder: str | Path, name: str = "report") -> Path:
    """Write ``folder/<name>.html`` (self-contained) and ``folder/<name>.xlsx``.

    Returns the path of the HTML file.
    """
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
        html_path = out / f"{name}.html"
        html_path.write_text(render_html(data), encoding="utf-8")
    except OSError as exc:
        raise InputError(
            "Cannot write the report.",
            file=str(out),
            fix="Choose a folder you can write to.",
        ) from exc
    write_workbook(data.tables(), out / f"{name}.xlsx")
    log.info("report written to %s", html_path)
    return html_path
