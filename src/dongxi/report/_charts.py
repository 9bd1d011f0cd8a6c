"""Charts as inline SVG (matplotlib, text kept as text so the browser's CJK fonts render it)."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from dongxi.report._labels import LANG, bi, measure_label

__all__ = [
    "bar_chart",
    "change_chart",
    "contribution_chart",
    "county_chart",
    "income_chart",
]

_RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "dongxi",
    "font.family": "sans-serif",
    "font.sans-serif": [
        "Noto Sans CJK SC",
        "Source Han Sans SC",
        "Microsoft YaHei",
        "PingFang SC",
        "WenQuanYi Micro Hei",
        "DejaVu Sans",
    ],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
}
PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#ad494a",
)
_HEADER = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(_RC), warnings.catch_warnings():  # type: ignore[arg-type]
        # Without a CJK font on the machine matplotlib cannot measure Chinese glyphs; the text is
        # written as text and the reader's browser draws it, so the warning is expected.
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"findfont", category=UserWarning)
        yield


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = _HEADER.sub("", buffer.getvalue(), count=1)
    text = _METADATA.sub("", text, count=1)
    return text.strip()


def _interval(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    est = frame["estimate"].to_numpy(dtype=float)
    low = frame["ci_low"].to_numpy(dtype=float)
    high = frame["ci_high"].to_numpy(dtype=float)
    se = frame["se"].to_numpy(dtype=float)
    low = np.where(np.isnan(low), est - 1.96 * se, low)
    high = np.where(np.isnan(high), est + 1.96 * se, high)
    lower = np.clip(est - low, 0, None)
    upper = np.clip(high - est, 0, None)
    return np.nan_to_num(lower), np.nan_to_num(upper)


def county_chart(
    frame: pd.DataFrame, *, names: Mapping[str, str], measures: Sequence[str] = ("M0", "H", "A")
) -> str:
    """Dot-and-interval panels, one per measure, one row per group (sorted by the first measure).

    ``frame`` holds rows of one spec, one k and one round: ``group, measure, estimate, se,
    ci_low, ci_high``.
    """
    present = [m for m in measures if (frame["measure"] == m).any()]
    first = frame[frame["measure"] == present[0]].sort_values("estimate")
    order = list(first["group"].astype(str))
    height = 1.2 + 0.22 * len(order)
    with _style():
        fig = Figure(figsize=(9.0, height))
        axes = fig.subplots(1, len(present), sharey=True, squeeze=False)[0]
        for ax, measure in zip(axes, present, strict=True):
            part = frame[frame["measure"] == measure]
            part = part.set_index(part["group"].astype(str)).reindex(order)
            lower, upper = _interval(part)
            y = np.arange(len(order))
            ax.errorbar(
                part["estimate"].to_numpy(dtype=float),
                y,
                xerr=np.vstack([lower, upper]),
                fmt="o",
                markersize=3.5,
                color=PALETTE[0],
                ecolor="#7aa6d6",
                elinewidth=1.2,
                capsize=0,
            )
            zh, en = measure_label(measure)
            ax.set_title(bi(zh, en, "\n"), fontsize=9)
            ax.set_yticks(y)
            ax.set_yticklabels([names.get(code, code) for code in order])
            ax.grid(axis="y", visible=False)
            ax.set_xlim(left=0)
        axes[0].set_ylim(-0.7, len(order) - 0.3)
        fig.subplots_adjust(wspace=0.15)
        return _svg(fig)


def contribution_chart(frame: pd.DataFrame, *, names: Mapping[str, str]) -> str:
    """Stacked horizontal bars of the percentage contribution of each indicator by group.

    ``frame``: ``group, indicator, estimate`` (pctb as shares of 1 or percentages).
    """
    table = frame.pivot_table(
        index="group", columns="indicator", values="estimate", aggfunc="first", sort=False
    ).fillna(0.0)
    if table.to_numpy().sum(axis=1).max() > 1.5:
        table = table / 100.0
    table = table.loc[table.index.to_series().map(str).sort_values(key=_overall_first).index]
    groups = [names.get(str(g), str(g)) for g in table.index]
    height = 1.4 + 0.24 * len(groups)
    with _style():
        fig = Figure(figsize=(9.0, height))
        ax: Axes = fig.subplots()
        left = np.zeros(len(groups))
        y = np.arange(len(groups))
        for i, indicator in enumerate(table.columns):
            values = table[indicator].to_numpy(dtype=float)
            ax.barh(
                y,
                values,
                left=left,
                color=PALETTE[i % len(PALETTE)],
                label=str(indicator),
                height=0.7,
            )
            left += values
        ax.set_yticks(y)
        ax.set_yticklabels(groups)
        ax.invert_yaxis()
        ax.set_xlim(0, max(1.0, float(left.max())))
        ax.set_xlabel(bi("贡献率", "percentage contribution"))
        ax.xaxis.set_major_formatter(_percent)
        ax.grid(axis="y", visible=False)
        longest = max((len(str(c)) for c in table.columns), default=0)
        ncol = 5 if longest <= 24 else 2 if longest <= 60 else 1
        ax.legend(
            loc="upper left",
            bbox_to_anchor=(0.0, -0.25 / height - 0.08),
            ncol=min(ncol, len(table.columns)),
            frameon=False,
            fontsize=8,
        )
        return _svg(fig)


def _overall_first(index: pd.Series) -> pd.Series:
    from dongxi.report._labels import is_overall

    return index.map(lambda v: ("0" if is_overall(v) else "1") + str(v))


def _percent_fn(value: float, _pos: int) -> str:
    return f"{value * 100:.0f}%"


_percent = FuncFormatter(_percent_fn)


def income_chart(
    income: pd.DataFrame,
    lines: Mapping[str, float],
    kinds: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """Histogram and empirical distribution of income per person by round, with each line
    (``kinds``: round → (zh, en) name of its line; default 贫困线)."""
    rounds = sorted(income["round"].astype(str).unique())
    values = income["net_income_per_capita"].to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    top = float(np.quantile(finite, 0.98)) if finite.size else 1.0
    line_max = max(lines.values(), default=0.0)
    top = max(top, line_max * 1.5, 1.0)
    low = min(0.0, float(np.quantile(finite, 0.005))) if finite.size else 0.0
    bins = np.linspace(low, top, 60)
    with _style():
        fig = Figure(figsize=(9.0, 3.4))
        hist_ax, cdf_ax = fig.subplots(1, 2)
        for i, name in enumerate(rounds):
            part = income[income["round"].astype(str) == name]
            x = part["net_income_per_capita"].to_numpy(dtype=float)
            w = part["weight"].to_numpy(dtype=float) if "weight" in part else np.ones(len(x))
            keep = np.isfinite(x)
            x, w = x[keep], w[keep]
            color = PALETTE[i % len(PALETTE)]
            inside = (x >= low) & (x <= top)
            hist_ax.hist(
                x[inside],
                bins=bins,
                weights=w[inside] / w.sum() if w.sum() > 0 else None,
                histtype="step",
                linewidth=1.4,
                color=color,
                label=f"{name} 年" if LANG.get() == "zh" else f"{name}",
            )
            order = np.argsort(x)
            cdf_ax.step(
                x[order], np.cumsum(w[order]) / w.sum(), where="post", color=color, label=name
            )
            if name in lines:
                for ax in (hist_ax, cdf_ax):
                    ax.axvline(lines[name], color=color, linestyle="--", linewidth=1.0)
                cdf_ax.annotate(
                    f"{name} "
                    + bi(
                        f"{(kinds or {}).get(name, ('贫困线', 'line'))[0]} {lines[name]:,.0f} 元",
                        (kinds or {}).get(name, ("贫困线", "line"))[1],
                    ),
                    xy=(lines[name], 0.05 + 0.1 * i),
                    xytext=(4, 0),
                    textcoords="offset points",
                    fontsize=7.5,
                    color=color,
                )
        hist_ax.set_xlabel(bi("人均纯收入(元)", "net income per person (yuan)"))
        hist_ax.set_ylabel(bi("份额", "share"))
        hist_ax.set_title(bi("收入分布", "distribution"), fontsize=9)
        cdf_ax.set_xlim(low, top)
        cdf_ax.set_ylim(0, 1)
        cdf_ax.set_xlabel(bi("人均纯收入(元)", "net income per person (yuan)"))
        cdf_ax.set_ylabel(bi("累计份额", "cumulative share"))
        cdf_ax.set_title(bi("累计分布", "ECDF"), fontsize=9)
        hist_ax.legend(frameon=False, fontsize=8)
        fig.subplots_adjust(wspace=0.3)
        return _svg(fig)


def change_chart(frame: pd.DataFrame, *, measures: Sequence[str] = ("M0", "H", "A")) -> str:
    """Estimates by round with 95 % intervals, one panel per measure, one line per series.

    ``frame``: ``series, round, measure, estimate, se, ci_low, ci_high``.
    """
    present = [m for m in measures if (frame["measure"] == m).any()]
    rounds = sorted(frame["round"].astype(str).unique())
    with _style():
        fig = Figure(figsize=(9.0, 3.0))
        axes = fig.subplots(1, len(present), squeeze=False)[0]
        series_names = list(dict.fromkeys(frame["series"].astype(str)))
        for ax, measure in zip(axes, present, strict=True):
            for i, series in enumerate(series_names):
                part = frame[(frame["measure"] == measure) & (frame["series"] == series)]
                if part.empty:
                    continue
                part = part.assign(_r=part["round"].astype(str)).set_index("_r").reindex(rounds)
                lower, upper = _interval(part)
                x = np.arange(len(rounds)) + (i - (len(series_names) - 1) / 2) * 0.06
                ax.errorbar(
                    x,
                    part["estimate"].to_numpy(dtype=float),
                    yerr=np.vstack([lower, upper]),
                    marker="o",
                    markersize=4,
                    capsize=3,
                    color=PALETTE[i % len(PALETTE)],
                    label=series,
                )
            zh, en = measure_label(measure)
            ax.set_title(bi(zh, en, "\n"), fontsize=9)
            ax.set_xticks(np.arange(len(rounds)))
            ax.set_xticklabels(rounds)
            ax.set_xlim(-0.5, len(rounds) - 0.5)
            ax.set_ylim(bottom=0)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(
            handles,
            labels,
            loc="lower center",
            bbox_to_anchor=(0.5, -0.12),
            ncol=min(len(labels), 2) or 1,
            frameon=False,
            fontsize=8,
        )
        fig.subplots_adjust(wspace=0.3)
        return _svg(fig)


def bar_chart(labels: Sequence[str], values: Sequence[float], *, xlabel: str) -> str:
    """Horizontal bars with the value written at the end (shares of 1 shown as percentages)."""
    height = 1.0 + 0.24 * len(labels)
    as_share = all(0.0 <= v <= 1.0 for v in values)
    with _style():
        fig = Figure(figsize=(7.5, height))
        ax: Axes = fig.subplots()
        y = np.arange(len(labels))
        ax.barh(y, values, color=PALETTE[0], height=0.65)
        for yi, v in zip(y, values, strict=True):
            text = f"{v * 100:.1f}%" if as_share else f"{v:,.2f}"
            ax.annotate(
                text, xy=(v, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8
            )
        ax.set_yticks(y)
        ax.set_yticklabels(list(labels))
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(xlabel)
        if as_share:
            ax.set_xlim(0, 1.1)
            ax.xaxis.set_major_formatter(_percent)
        return _svg(fig)
