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
    column_label,
    format_number,
    is_overall,
    measure_label,
    region_names,
    value_labels,
)

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


def _view(frame: pd.DataFrame, caption_zh: str, caption_en: str, *, limit: int = 400) -> TableView:
    headers = [column_label(str(c)) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    rows = [[format_number(v) for v in record] for record in frame.head(limit).itertuples(False)]
    if len(frame) > limit:
        caption_en += f" (first {limit} of {len(frame):,} rows; all rows in the XLSX file)"
        caption_zh += f"(前 {limit} 行, 共 {len(frame):,} 行; 全部见 XLSX 文件)"
    return TableView(caption_zh, caption_en, headers, rows, numeric)


def _first_k(frame: pd.DataFrame) -> Any:
    return frame["k"].iloc[0]


def _k_text(k: Any) -> str:
    try:
        value = float(k)
    except (TypeError, ValueError):
        return str(k)
    if value != value:  # NaN: the spec has no cutoff (union of criteria)
        return ""
    return f"k = {value:.4g}%"


def _latest(rounds: Sequence[Any]) -> str:
    return sorted(str(r) for r in rounds)[-1]


def _estimate_ci(row: pd.Series) -> str:
    est = format_number(float(row["estimate"]))
    low, high = row.get("ci_low"), row.get("ci_high")
    if low is None or pd.isna(low) or high is None or pd.isna(high):
        return est
    return f"{est} [{format_number(float(low))}, {format_number(float(high))}]"


def _county_section(data: ReportData, names: Mapping[str, str]) -> list[dict[str, Any]]:
    measures = data.measures
    if measures is None:
        return []
    out: list[dict[str, Any]] = []
    for spec, spec_rows in measures.groupby("spec", sort=False):
        k = _first_k(spec_rows)
        rows = spec_rows[(spec_rows["k"] == k) | spec_rows["k"].isna()]
        rows = rows[rows["by"].astype(str) == data.county_by]
        rows = rows[rows["measure"].isin(["M0", "H", "A"]) & rows["indicator"].map(is_overall)]
        if rows.empty:
            continue
        latest = _latest(rows["round"].unique())
        rows = rows[rows["round"].astype(str) == latest].copy()
        rows["group"] = rows["group"].astype(str)
        svg = _charts.county_chart(rows, names=names)
        wide = rows.pivot_table(
            index="group",
            columns="measure",
            values=["estimate", "ci_low", "ci_high", "se", "n"],
            aggfunc="first",
        )
        present = [m for m in ("M0", "H", "A") if m in set(rows["measure"])]
        table_rows: list[list[str]] = []
        order = rows[rows["measure"] == present[0]].sort_values("estimate", ascending=False)
        for group in order["group"]:
            cells = [names.get(group, group), group]
            for m in present:
                row = pd.Series(
                    {c: wide.loc[group, (c, m)] for c in ("estimate", "ci_low", "ci_high")}
                )
                cells.append(_estimate_ci(row))
                cells.append(format_number(float(wide.loc[group, ("se", m)])))
            cells.append(format_number(wide.loc[group, ("n", present[0])]))
            table_rows.append(cells)
        headers: list[tuple[str, str]] = [("县", "county"), ("县代码", "code")]
        for m in present:
            zh, en = measure_label(m)
            headers += [(f"{zh} [95% 置信区间]", f"{en} [95% CI]"), ("标准误", "SE")]
        headers.append(("样本量", "n"))
        table = TableView(
            f"{spec} · {latest} · 按县",
            f"{spec} · {latest} · by county",
            headers,
            table_rows,
            [False, False, *([True] * (2 * len(present) + 1))],
        )
        out.append(
            {
                "spec": str(spec),
                "round": latest,
                "k": _k_text(k),
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
        k = _first_k(spec_rows)
        rows = spec_rows[(spec_rows["measure"] == "pctb") & (spec_rows["k"] == k)]
        rows = rows[rows["by"].map(is_overall) | (rows["by"].astype(str) == data.county_by)]
        if rows.empty:
            continue
        latest = _latest(rows["round"].unique())
        rows = rows[rows["round"].astype(str) == latest].copy()
        rows["group"] = [
            "全体 all" if is_overall(b) else str(g)
            for b, g in zip(rows["by"], rows["group"], strict=True)
        ]
        labels = data.indicator_labels
        rows["indicator"] = [labels.get(str(i), str(i)) for i in rows["indicator"]]
        svg = _charts.contribution_chart(rows, names=names)
        overall = rows[rows["group"] == "全体 all"][["indicator", "estimate", "se"]]
        overall = overall.sort_values("estimate", ascending=False)
        table = _view(overall, f"{spec} · {latest} · 全体贡献率", f"{spec} · {latest} · overall")
        out.append(
            {
                "spec": str(spec),
                "round": latest,
                "k": _k_text(k),
                "svg": Markup(svg),
                "table": table,
            }
        )
    return out


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
        section["svg"] = Markup(_charts.income_chart(data.income, lines))
    if data.income_measures is not None:
        im = data.income_measures
        if "by" in im.columns:
            im = im[im["by"].map(is_overall)]
        keep = [
            c for c in ("round", "measure", "estimate", "se", "ci_low", "ci_high", "n") if c in im
        ]
        frame = im[keep].copy()
        frame["measure"] = [" / ".join(measure_label(m)) for m in frame["measure"]]
        section["fgt"] = _view(frame, "收入贫困指标", "Income poverty measures")
    if data.poverty_lines is not None:
        section["lines"] = _view(data.poverty_lines, "各轮贫困线", "Poverty line of each round")
    return section


def _change_section(data: ReportData) -> dict[str, Any] | None:
    measures = data.measures
    if measures is None or measures["round"].nunique() < 2:
        if data.change is None:
            return None
        return {"svg": None, "table": None, "change": _view(data.change, "变化", "Change")}
    pieces = []
    for spec, spec_rows in measures.groupby("spec", sort=False):
        k = _first_k(spec_rows)
        rows = spec_rows[
            ((spec_rows["k"] == k) | spec_rows["k"].isna())
            & spec_rows["by"].map(is_overall)
            & spec_rows["indicator"].map(is_overall)
            & spec_rows["measure"].isin(["M0", "H", "A"])
        ]
        pieces.append(rows.assign(series=str(spec)))
    frame = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame()
    section: dict[str, Any] = {"svg": None, "table": None, "change": None}
    if not frame.empty:
        section["svg"] = Markup(_charts.change_chart(frame))
        table = frame[["spec", "round", "measure", "estimate", "se", "ci_low", "ci_high", "n"]]
        table = table.sort_values(["spec", "measure", "round"])
        section["table"] = _view(table, "各轮估计值", "Estimates by round")
    if data.change is not None:
        section["change"] = _view(
            data.change, "轮次间变化及其标准误", "Change between rounds, with SE"
        )
    return section


def _matching_section(data: ReportData, names: Mapping[str, str]) -> dict[str, Any] | None:
    if not data.matching:
        return None
    section: dict[str, Any] = {"cards": [], "charts": [], "tables": []}
    summary = data.matching.get("summary")
    if summary is not None and {"label_zh", "label_en", "value"} <= set(summary.columns):
        section["cards"] = _cards(summary)
    by_group = data.matching.get("by_group")
    if by_group is not None and {"by", "group", "matched_rate"} <= set(by_group.columns):
        for by, part in by_group.groupby("by", sort=False):
            known = {**names, **value_labels(str(by))}
            labels = [known.get(str(g), str(g)) for g in part["group"]]
            svg = _charts.bar_chart(
                labels,
                [float(v) for v in part["matched_rate"]],
                xlabel="匹配率 matched rate",
            )
            section["charts"].append({"by": str(by), "svg": Markup(svg)})
    for name, frame in data.matching.items():
        if name == "summary":
            continue
        section["tables"].append(_view(frame, f"匹配结果: {name}", f"Matching: {name}"))
    return section


def _cards(frame: pd.DataFrame) -> list[dict[str, str]]:
    cards = []
    for record in frame.to_dict("records"):
        unit = record.get("unit")
        value = record["value"]
        if isinstance(value, float) and value.is_integer() and abs(value) >= 10:
            value = int(value)
        cards.append(
            {
                "zh": str(record["label_zh"]),
                "en": str(record["label_en"]),
                "value": format_number(value),
                "unit": "" if unit is None or pd.isna(unit) else str(unit),
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
    return sorted(c for c in codes if c.isdigit() and len(c) in (6, 9, 12))


def render_html(data: ReportData) -> str:
    """The report as one HTML document (self-contained)."""
    names = region_names(_group_codes(data))
    env = Environment(
        loader=PackageLoader("dongxi.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("report.html.j2")
    provenance = {
        "snapshots": None
        if data.snapshots is None
        else _view(_local_times(data.snapshots), "快照", "Snapshots"),
        "specs": None if data.specs is None else _view(data.specs, "识别标准", "Specs"),
        "policy": None if data.policy is None else _view(data.policy, "政策参数", "Policy figures"),
    }
    return template.render(
        data=data,
        version=__version__,
        generated=local_time(dt.datetime.now(dt.UTC)),
        cards=[] if data.summary is None else _cards(data.summary),
        by_county=_county_section(data, names),
        contributions=_contribution_section(data, names),
        income=_income_section(data),
        change=_change_section(data),
        matching=_matching_section(data, names),
        provenance=provenance,
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
