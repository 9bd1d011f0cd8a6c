"""The learned risk score of 防返贫监测: who is likely to fall below the line next year.

Tables in, tables out (no registry, no web). The score ORDERS the sweeps; it never decides who is
included or excluded — the rules of the monitoring engine do (every output says so).

What is predicted. For a household in year ``t``: in ``t+1`` its net income per person over the
12 months (``income_months`` when all 12 months are there, else the yearly ``income`` row) is
below the line of ``t+1``, or it enters a monitored category in ``t+1`` (a ``household_status``
row with a ``monitoring_category`` dated in ``t+1`` while it was not monitored at the end of
``t``). The line of a year is given by the caller (``lines``: year → yuan per person per year).

No leakage. The features of year ``t`` are built from a panel cut at the end of ``t``
(:meth:`Panel.until`): income rows of years ≤ ``t``, months ≤ December of ``t``, status rows and
measures dated ≤ 31 December of ``t``, members born ≤ ``t``. A model for year ``T`` is trained
on the pairs (features ``t``, outcome ``t+1``) with ``t ≤ T-2`` and calibrated (isotonic
regression) on ``t = T-1``, so it rests on data up to the end of ``T`` only and can be evaluated
on (features ``T``, outcome ``T+1``) or used to score ``T``.

What is NOT a feature. The county, the village, the ethnicity and the sex of anyone (the fairness
table reports by county, ethnicity and sex of the head instead). The members' health, disability
and labour capacity and the house's grade and water are not used either: the registry keeps only
their current state, not their history, so they would carry the future into the training years.

Reasons. For each household, the change of the (uncalibrated) model probability when one feature
is set to its median over the households scored that year; the three features whose own value
raises the probability most are its reasons, in Chinese and English words with the value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dongxi.errors import InputError

if TYPE_CHECKING:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.isotonic import IsotonicRegression

__all__ = [
    "BUDGET",
    "FEATURES",
    "MODEL_PARAMS",
    "NEVER_FEATURES",
    "USE_NOTE_EN",
    "USE_NOTE_ZH",
    "Evaluation",
    "Panel",
    "RiskModel",
    "baseline_order",
    "evaluate",
    "features",
    "fit",
    "outcomes",
]

#: Share of households a sweep can visit first (the evaluation's "top 10 %").
BUDGET = 0.10
#: Said wherever a score is shown.
USE_NOTE_ZH = "风险评分只用于安排排查顺序，不决定纳入或排除：是否纳入监测由规则认定。"
USE_NOTE_EN = (
    "The risk score only orders the sweeps; it never includes or excludes anyone: the rules decide."
)
#: Columns of the inputs that must never become features (a test checks :data:`FEATURES`).
NEVER_FEATURES = ("county_code", "village_code", "ethnicity", "sex")

#: feature → (Chinese words, English words, how its value is shown: "ratio", "count", "share",
#: "yuan", "years"). The order is the model's column order.
FEATURES: dict[str, tuple[str, str, str]] = {
    "income_ratio": ("人均纯收入为当年监测线的倍数", "income per person / line", "ratio"),
    "income_ratio_prev": ("上一年人均纯收入为监测线的倍数", "last year's income / line", "ratio"),
    "income_ratio_change": ("人均纯收入相对监测线的变化", "change of income / line", "ratio"),
    "income_ratio_min3": ("近三年最低人均纯收入为监测线的倍数", "lowest income/line, 3 y", "ratio"),
    "wage_share": ("工资性收入占比", "share of wages in income", "share"),
    "wage_change": ("人均工资性收入变化（相对监测线）", "change of wages pp / line", "ratio"),
    "operating_share": ("经营性收入占比", "share of operating income", "share"),
    "transfer_share": ("转移性收入占比", "share of transfers in income", "share"),
    "household_size": ("家庭人口", "household members", "count"),
    "size_change": ("家庭人口变化", "change of household members", "count"),
    "months_below": ("月收入低于监测线的月数占比", "share of months below the line", "share"),
    "last_quarter_ratio": ("第四季度收入折年后为监测线的倍数", "Q4 income / line", "ratio"),
    "medical_burden": ("人均医疗自付支出（相对监测线）", "medical spending pp / line", "ratio"),
    "schooling_burden": ("人均教育支出（相对监测线）", "schooling spending pp / line", "ratio"),
    "disaster_burden": ("人均灾害损失（相对监测线）", "disaster loss per person / line", "ratio"),
    "rigid_share": ("刚性支出占家庭纯收入的比例", "rigid spending / net income", "share"),
    "ever_registered": ("曾为建档立卡贫困户", "once a registered poor household", "flag"),
    "years_since_exit": ("脱贫年数", "years since exit", "years"),
    "monitored": ("当年为监测对象", "monitored this year", "flag"),
    "times_monitored": ("曾被纳入监测的次数", "times brought into monitoring", "count"),
    "measures_3y": ("近三年帮扶措施数", "measures in the last 3 years", "count"),
    "safety_net_measures": ("兜底保障类措施数", "safety-net measures", "count"),
    "elderly": ("60岁及以上成员数", "members aged 60+", "count"),
    "children": ("16岁以下成员数", "members under 16", "count"),
    "near_school_costs": ("14–17岁成员数（将读高中或大学）", "members aged 14–17", "count"),
    "dependency": ("抚养比（老幼/劳动年龄）", "dependants per working-age member", "ratio"),
    "head_age": ("户主年龄", "age of the head", "years"),
    "head_schooling": ("户主受教育年限", "head's years of schooling", "years"),
}

#: The gradient boosting's settings (``fit(params=…)`` changes them).
#: Chosen on another synthetic sample (seed 1) and an earlier year (features 2022 → outcome
#: 2023) than the evaluation's, among three settings (benchmarks/risk_score.py documents them).
MODEL_PARAMS: dict[str, Any] = {
    "max_iter": 150,
    "learning_rate": 0.05,
    "max_leaf_nodes": 7,
    "min_samples_leaf": 100,
    "l2_regularization": 1.0,
}

# years of schooling of the education codes of adults (preschool has none)
_SCHOOLING = {"none": 0, "primary": 6, "junior": 9, "senior": 12, "vocational": 12, "college": 15}
_SAFETY_NET_BATCHES = ("social_security",)
_MONTH_SPENDING = ("medical_spending", "schooling_spending", "disaster_loss")


@dataclass(frozen=True)
class Panel:
    """The registry's tables with their registry column names (``docs/data-dictionary.md``).

    ``households``, ``people`` (without id_number/name) and ``income`` are needed;
    ``household_status``, ``measures`` and ``income_months`` are used when given. Members need
    ``birth_date`` or ``birth_year`` (snapshots carry the year only).
    """

    households: pd.DataFrame
    people: pd.DataFrame
    income: pd.DataFrame
    household_status: pd.DataFrame | None = None
    measures: pd.DataFrame | None = None
    income_months: pd.DataFrame | None = None

    def until(self, year: int) -> Panel:
        """The panel as it stood at the end of ``year``: nothing dated later is left in it."""
        end = f"{year}-12-31"
        people = self.people[_birth_year(self.people).fillna(0) <= year]
        income = self.income[self.income["year"].astype(int) <= year]
        status = self.household_status
        if status is not None:
            status = status[status["effective_date"].astype(str).str.slice(0, 10) <= end]
        measures = self.measures
        if measures is not None:
            measures = measures[measures["start_date"].astype(str).str.slice(0, 10) <= end]
        months = self.income_months
        if months is not None:
            months = months[months["month"].astype(str).str.slice(0, 7) <= f"{year}-12"]
        return replace(
            self,
            people=people,
            income=income,
            household_status=status,
            measures=measures,
            income_months=months,
        )

    def years(self) -> list[int]:
        """The years with income rows."""
        return sorted({int(y) for y in self.income["year"].unique()})


def _birth_year(people: pd.DataFrame) -> pd.Series:
    """Members' birth years: ``birth_year`` (snapshots) or the year of ``birth_date``."""
    if "birth_year" in people.columns:
        return pd.to_numeric(people["birth_year"], errors="coerce").astype(float)
    text = people["birth_date"].astype(str).str.slice(0, 4)
    return pd.to_numeric(text, errors="coerce").astype(float)


def _line(lines: Mapping[int, float], year: int) -> float:
    if year not in lines or not math.isfinite(float(lines[year])) or float(lines[year]) <= 0:
        raise InputError(
            f"No monitoring line is given for {year}.",
            value=year,
            rule="monitoring_line",
            fix="Give the line of every year of the panel (yuan per person per year), e.g. with "
            "--policy FILE holding monitoring_line for that year.",
        )
    return float(lines[year])


def _yearly(panel: Panel, year: int) -> pd.DataFrame:
    inc = panel.income
    rows = inc[inc["year"].astype(int) == year].drop_duplicates("household_code", keep="last")
    return rows.set_index("household_code")


def _month_frame(panel: Panel, year: int) -> pd.DataFrame | None:
    months = panel.income_months
    if months is None or not len(months):
        return None
    rows = months[months["month"].astype(str).str.slice(0, 4) == str(year)]
    return rows if len(rows) else None


def _income_per_person(panel: Panel, year: int) -> pd.Series:
    """Net income per person over the 12 months of ``year``: the months when all 12 are there,
    else the yearly row."""
    yearly = _yearly(panel, year)["net_income_per_capita"].astype(float)
    rows = _month_frame(panel, year)
    if rows is None:
        return yearly
    grouped = rows.groupby("household_code")
    full = grouped["month"].nunique() == 12
    monthly = grouped["net_income"].sum() / grouped["household_size"].mean()
    monthly = monthly[full[full].index]
    out = yearly.copy()
    out = out.reindex(out.index.union(monthly.index))
    out.loc[monthly.index] = monthly.astype(float)
    return out


def _status_until(panel: Panel, year: int) -> pd.DataFrame:
    status = panel.household_status
    if status is None or not len(status):
        return pd.DataFrame(columns=["household_code", "status", "monitoring_category", "date"])
    frame = status.assign(date=status["effective_date"].astype(str).str.slice(0, 10))
    frame = frame[frame["date"] <= f"{year}-12-31"]
    return frame.sort_values(["household_code", "date"], kind="stable")


def _monitored_at(panel: Panel, year: int) -> pd.Series:
    """Whether the household's last status row up to the end of ``year`` is a monitoring one."""
    frame = _status_until(panel, year)
    if not len(frame):
        return pd.Series(dtype=bool)
    last = frame.groupby("household_code").tail(1).set_index("household_code")
    category = last["monitoring_category"].astype("string").fillna("")
    return (category != "") | (last["status"].astype(str) == "monitored")


def features(panel: Panel, lines: Mapping[int, float], year: int) -> pd.DataFrame:
    """One row per household with income in ``year`` (index ``household_code``), the columns of
    :data:`FEATURES`, built from the panel cut at the end of ``year``. Missing facts are NaN
    (the model takes them as they are)."""
    panel = panel.until(year)
    line = _line(lines, year)
    now = _yearly(panel, year)
    index = now.index
    out = pd.DataFrame(index=index)
    ratio = _income_per_person(panel, year).reindex(index) / line
    prev_year = year - 1
    has_prev = prev_year in set(panel.years())
    prev = _yearly(panel, prev_year) if has_prev else now.iloc[0:0]
    ratio_prev = (
        _income_per_person(panel, prev_year).reindex(index) / _line(lines, prev_year)
        if has_prev
        else pd.Series(np.nan, index=index)
    )
    out["income_ratio"] = ratio
    out["income_ratio_prev"] = ratio_prev
    out["income_ratio_change"] = ratio - ratio_prev
    window = [ratio, ratio_prev]
    if year - 2 in set(panel.years()) and (year - 2) in lines:
        window.append(_income_per_person(panel, year - 2).reindex(index) / lines[year - 2])
    out["income_ratio_min3"] = pd.concat(window, axis=1).min(axis=1, skipna=True)
    gross = (
        now[["wage_income", "operating_income", "property_income", "transfer_income"]]
        .astype(float)
        .sum(axis=1)
    )
    safe_gross = gross.where(gross > 0)
    out["wage_share"] = now["wage_income"].astype(float) / safe_gross
    size = now["household_size"].astype(float)
    wage_pp = now["wage_income"].astype(float) / size
    if has_prev:
        prev_wage_pp = (
            prev["wage_income"].astype(float) / prev["household_size"].astype(float)
        ).reindex(index)
        out["wage_change"] = (wage_pp - prev_wage_pp) / line
        out["size_change"] = size - prev["household_size"].astype(float).reindex(index)
    else:
        out["wage_change"] = np.nan
        out["size_change"] = np.nan
    out["operating_share"] = now["operating_income"].astype(float) / safe_gross
    out["transfer_share"] = now["transfer_income"].astype(float) / safe_gross
    out["household_size"] = size
    _month_features(out, panel, year, line)
    _status_features(out, panel, year)
    _measure_features(out, panel, year)
    _people_features(out, panel, year)
    out = out[list(FEATURES)].astype(float)
    return out.sort_index()


def _month_features(out: pd.DataFrame, panel: Panel, year: int, line: float) -> None:
    rows = _month_frame(panel, year)
    for name in ("months_below", "last_quarter_ratio", "rigid_share", *_BURDENS):
        out[name] = np.nan
    if rows is None:
        return
    rows = rows.assign(
        per_person=rows["net_income"].astype(float) / rows["household_size"].astype(float),
        quarter4=rows["month"].astype(str).str.slice(5, 7).isin(["10", "11", "12"]),
    )
    grouped = rows.groupby("household_code")
    size = grouped["household_size"].mean().astype(float)
    below = (rows["per_person"] < line / 12).groupby(rows["household_code"]).mean()
    q4 = rows[rows["quarter4"]].groupby("household_code")
    q4_ratio = q4["per_person"].sum() * (12 / q4["month"].nunique()) / line
    idx = out.index
    out["months_below"] = below.reindex(idx)
    out["last_quarter_ratio"] = q4_ratio.reindex(idx)
    rigid = pd.Series(0.0, index=size.index)
    for name, column in _BURDENS.items():
        total = grouped[column].sum().astype(float)
        rigid = rigid + total
        out[name] = (total / size / line).reindex(idx)
    net = grouped["net_income"].sum().astype(float)
    out["rigid_share"] = (rigid / net.clip(lower=1.0)).reindex(idx)


_BURDENS = {
    "medical_burden": "medical_spending",
    "schooling_burden": "schooling_spending",
    "disaster_burden": "disaster_loss",
}


def _status_features(out: pd.DataFrame, panel: Panel, year: int) -> None:
    frame = _status_until(panel, year)
    idx = out.index
    if not len(frame):
        for name in ("ever_registered", "years_since_exit", "monitored", "times_monitored"):
            out[name] = np.nan
        return
    status = frame["status"].astype(str)
    category = frame["monitoring_category"].astype("string").fillna("")
    codes = frame["household_code"]
    registered = (status == "registered_poor").groupby(codes).any()
    exits = frame[status == "escaped"].groupby("household_code")["date"].max()
    exit_years = year - pd.to_numeric(exits.str.slice(0, 4), errors="coerce")
    entered = (category != "").groupby(codes).sum()
    out["ever_registered"] = registered.reindex(idx).fillna(False).astype(float)
    out["years_since_exit"] = exit_years.reindex(idx)
    out["monitored"] = _monitored_at(panel, year).reindex(idx).fillna(False).astype(float)
    out["times_monitored"] = entered.reindex(idx).fillna(0).astype(float)


def _measure_features(out: pd.DataFrame, panel: Panel, year: int) -> None:
    measures = panel.measures
    idx = out.index
    if measures is None or not len(measures):
        out["measures_3y"] = np.nan
        out["safety_net_measures"] = np.nan
        return
    start = pd.to_numeric(measures["start_date"].astype(str).str.slice(0, 4), errors="coerce")
    recent = measures[(start > year - 3) & (start <= year)]
    counts = recent.groupby("household_code").size()
    safety = measures[measures["batch"].astype(str).isin(_SAFETY_NET_BATCHES)]
    out["measures_3y"] = counts.reindex(idx).fillna(0).astype(float)
    out["safety_net_measures"] = (
        safety.groupby("household_code").size().reindex(idx).fillna(0).astype(float)
    )


def _people_features(out: pd.DataFrame, panel: Panel, year: int) -> None:
    people = panel.people
    idx = out.index
    born = _birth_year(people)
    age = year - born
    codes = people["household_code"]
    elderly = (age >= 60).groupby(codes).sum()
    children = (age < 16).groupby(codes).sum()
    working = ((age >= 16) & (age < 60)).groupby(codes).sum()
    out["elderly"] = elderly.reindex(idx).astype(float)
    out["children"] = children.reindex(idx).astype(float)
    soon = ((age >= 14) & (age <= 17)).groupby(codes).sum()
    out["near_school_costs"] = soon.reindex(idx).astype(float)
    dependants = (elderly + children).reindex(idx).astype(float)
    out["dependency"] = dependants / working.reindex(idx).astype(float).clip(lower=1.0)
    head = people[people["relation"].astype(str) == "head"].drop_duplicates("household_code")
    head_age = (year - born[head.index]).set_axis(head["household_code"].to_numpy())
    schooling = head["education"].astype(str).map(_SCHOOLING).astype(float)
    out["head_age"] = head_age.reindex(idx).astype(float)
    out["head_schooling"] = schooling.set_axis(head["household_code"].to_numpy()).reindex(idx)


def outcomes(panel: Panel, lines: Mapping[int, float], year: int) -> pd.Series:
    """The outcome of ``year`` for households with income in ``year - 1`` and ``year``: 1 when
    income per person over the 12 months is below the line of ``year`` or the household entered
    a monitored category in ``year``."""
    panel = panel.until(year)
    line = _line(lines, year)
    before = _yearly(panel, year - 1).index
    income = _income_per_person(panel, year)
    income = income[income.index.isin(before)]
    below = income < line
    was = _monitored_at(panel, year - 1).reindex(income.index).fillna(False).astype(bool)
    now = _status_until(panel, year)
    dated = now[now["date"].str.slice(0, 4) == str(year)]
    category = dated["monitoring_category"].astype("string").fillna("")
    entered_codes = set(dated.loc[category != "", "household_code"])
    entered = income.index.isin(list(entered_codes)) & ~was.to_numpy()
    return pd.Series((below.to_numpy() | entered).astype(int), index=income.index).sort_index()


def baseline_order(feats: pd.DataFrame) -> pd.Series:
    """The rules-only order of a year from its :func:`features`: a score that puts first the
    households below the line or with a trigger this year (monitored, or rigid spending —
    medical, schooling, disaster — at least half of the year's net income), by income shortfall,
    then the others by income."""
    ratio = feats["income_ratio"].fillna(np.inf)
    trigger = (feats["monitored"] == 1) | (feats["rigid_share"] >= 0.5)
    flagged = (ratio < 1) | trigger.fillna(False)
    # higher is riskier: flagged first, then lower income
    return (flagged.astype(float) * 1e6 - ratio.clip(upper=1e5)).rename("baseline")


@dataclass
class RiskModel:
    """A fitted score: gradient boosting trained on years ≤ ``year - 2``, isotonic calibration on
    ``year - 1``. Use :meth:`score` for ``year`` (or any later year, with care)."""

    year: int
    seed: int
    classifier: HistGradientBoostingClassifier
    calibrator: IsotonicRegression
    train_rows: int
    calibration_rows: int
    train_years: tuple[int, ...]
    used: tuple[str, ...]
    positives_train: float = field(default=float("nan"))

    def raw(self, feats: pd.DataFrame) -> np.ndarray:
        """Uncalibrated probabilities (they give the order)."""
        return _predict(self.classifier, feats[list(self.used)].to_numpy(dtype=float))

    def calibrated(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw model outputs."""
        calibrated = np.asarray(self.calibrator.predict(raw), dtype=float)
        return np.asarray(np.clip(calibrated, 0.0, 1.0), dtype=float)

    def score(
        self,
        panel: Panel,
        lines: Mapping[int, float],
        year: int | None = None,
        *,
        top: int = 3,
        feats: pd.DataFrame | None = None,
        reasons: bool = True,
    ) -> pd.DataFrame:
        """One row per household of ``year`` (default: the model's year), riskiest first:
        household_code, probability (calibrated), raw, rank, budget (in the first
        :data:`BUDGET` share), reasons_zh, reasons_en (not with ``reasons=False``: they cost one
        prediction per feature). ``feats``: the year's :func:`features` when already built."""
        year = self.year if year is None else year
        if feats is None:
            feats = features(panel, lines, year)
        raw = self.raw(feats)
        prob = self.calibrated(raw)
        columns: dict[str, Any] = {
            "household_code": feats.index.to_numpy(),
            "probability": prob,
            "raw": raw,
        }
        if reasons:
            columns["reasons_zh"], columns["reasons_en"] = _reasons(self, feats, raw, top=top)
        frame = pd.DataFrame(columns)
        frame = frame.sort_values(
            ["probability", "raw", "household_code"],
            ascending=[False, False, True],
            kind="stable",
        ).reset_index(drop=True)
        frame.insert(1, "rank", np.arange(1, len(frame) + 1))
        frame["budget"] = frame["rank"] <= math.ceil(BUDGET * len(frame))
        return frame


def _value_text(name: str, value: float) -> str:
    kind = FEATURES[name][2]
    if not math.isfinite(value):
        return "缺失"
    if kind == "share":
        return f"{value:.0%}"
    if kind == "flag":
        return "是" if value >= 0.5 else "否"
    if kind in ("count", "years"):
        return f"{value:g}"
    return f"{value:.2f}"


def _value_text_en(name: str, value: float) -> str:
    text = _value_text(name, value)
    return {"缺失": "missing", "是": "yes", "否": "no"}.get(text, text)


def _reasons(
    model: RiskModel, feats: pd.DataFrame, raw: np.ndarray, *, top: int
) -> tuple[list[str], list[str]]:
    """The ``top`` features that raise each household's probability most: the drop of the raw
    probability when the feature is set to its median over ``feats``."""
    if not len(feats):
        return [], []
    names = list(model.used)
    values = feats[names].to_numpy(dtype=float)
    medians = np.nanmedian(np.where(np.isfinite(values), values, np.nan), axis=0)
    effect = np.zeros_like(values)
    # a feature at the median is no reason (only rounding noise would remain): only the rows
    # away from the median are predicted again (a row's prediction depends on that row alone)
    at_median = np.isclose(values, medians[None, :], rtol=1e-9, atol=1e-12)
    for j in range(len(names)):
        if not math.isfinite(float(medians[j])):
            continue
        rows = np.flatnonzero(~at_median[:, j])
        if not len(rows):
            continue
        changed = values[rows]
        changed[:, j] = medians[j]
        effect[rows, j] = raw[rows] - _predict(model.classifier, changed)
    effect[at_median] = 0.0
    order = np.argsort(-effect, axis=1, kind="stable")[:, :top]
    zh: list[str] = []
    en: list[str] = []
    for i in range(len(feats)):
        parts_zh: list[str] = []
        parts_en: list[str] = []
        for j in order[i]:
            if effect[i, j] <= 0:
                continue
            name = names[j]
            label_zh, label_en, _ = FEATURES[name]
            size = f"{effect[i, j]:.1%}" if effect[i, j] >= 0.001 else "<0.1%"
            parts_zh.append(
                f"{label_zh} {_value_text(name, values[i, j])}"
                f"（中位数 {_value_text(name, float(medians[j]))}，使风险升高 {size}）"
            )
            parts_en.append(
                f"{label_en} {_value_text_en(name, values[i, j])} "
                f"(median {_value_text_en(name, float(medians[j]))}, +{size})"
            )
        zh.append("；".join(parts_zh) if parts_zh else "无突出风险因素")
        en.append("; ".join(parts_en) if parts_en else "no outstanding risk factor")
    return zh, en


def _one_thread() -> Any:
    """OpenMP limited to one thread: on a shared machine the busy-waiting threads of a loaded
    pool made a fit 10× slower, and one thread keeps the results reproducible."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    return threadpool_limits(limits=1, user_api="openmp")


def _predict(classifier: HistGradientBoostingClassifier, values: np.ndarray) -> np.ndarray:
    with _one_thread():
        return np.asarray(classifier.predict_proba(values)[:, 1], dtype=float)


def _pairs(
    panel: Panel, lines: Mapping[int, float], years: list[int]
) -> tuple[pd.DataFrame, np.ndarray]:
    frames: list[pd.DataFrame] = []
    labels: list[np.ndarray] = []
    for t in years:
        feats = features(panel, lines, t)
        label = outcomes(panel, lines, t + 1)
        common = feats.index.intersection(label.index)
        frames.append(feats.loc[common])
        labels.append(label.loc[common].to_numpy())
    if not frames:
        return pd.DataFrame(columns=list(FEATURES)), np.zeros(0, dtype=int)
    return pd.concat(frames), np.concatenate(labels)


def fit(
    panel: Panel,
    lines: Mapping[int, float],
    *,
    year: int,
    seed: int = 0,
    first_year: int | None = None,
    params: Mapping[str, Any] | None = None,
) -> RiskModel:
    """A model for ``year`` from the panel cut at the end of ``year``: trained on (features
    ``t``, outcome ``t+1``) for ``first_year ≤ t ≤ year-2``, calibrated on ``t = year-1``.
    Deterministic for a given ``seed``."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.isotonic import IsotonicRegression

    panel = panel.until(year)
    known = panel.years()
    if not known:  # no income up to the year at all: the same message as too few years
        start = year
    else:
        start = known[0] + 1 if first_year is None else max(first_year, known[0] + 1)
    # features of t need t-1 (changes); outcomes of t+1 need t+1 ≤ year - 1
    train_years = [t for t in range(start, year - 1) if t in known and t + 1 in known]
    if not train_years or (year - 1) not in known or year not in known:
        raise InputError(
            f"The panel has too few years to learn a score for {year}: it needs income of at "
            f"least {year - 3}–{year} (training years up to {year - 2}, calibration {year - 1}).",
            value=known,
            rule="score_years",
            fix="Give a panel with income of at least four consecutive years up to the year.",
        )
    x_train, y_train = _pairs(panel, lines, train_years)
    x_cal, y_cal = _pairs(panel, lines, [year - 1])
    if len(set(y_train.tolist())) < 2 or len(set(y_cal.tolist())) < 2:
        raise InputError(
            "The training or calibration years have no household on one side of the outcome "
            "(all below or none below the line): nothing to learn from.",
            value=year,
            rule="score_outcomes",
            fix="Give a panel with more households or more years.",
        )
    classifier = HistGradientBoostingClassifier(
        **{**MODEL_PARAMS, **(params or {})}, early_stopping=False, random_state=seed
    )
    # a feature with fewer than two values in the training years (e.g. the monthly ones before
    # income_months exist) cannot split anything: it is left out of this model
    used = tuple(name for name in FEATURES if x_train[name].dropna().nunique() >= 2)
    with _one_thread():
        classifier.fit(x_train[list(used)].to_numpy(dtype=float), y_train)
    raw_cal = _predict(classifier, x_cal[list(used)].to_numpy(dtype=float))
    calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    calibrator.fit(raw_cal, y_cal)
    return RiskModel(
        year=year,
        seed=seed,
        classifier=classifier,
        calibrator=calibrator,
        train_rows=len(y_train),
        calibration_rows=len(y_cal),
        train_years=tuple(train_years),
        used=used,
        positives_train=float(np.mean(y_train)),
    )


@dataclass(frozen=True)
class Evaluation:
    """The score of year ``year`` against the outcomes of ``year + 1``, with the rules-only
    baseline: headline figures, the calibration table and the fairness table. ``scored``: the
    households' scores (:meth:`RiskModel.score` without the reasons) with their outcome."""

    year: int
    households: int
    positives: int
    figures: dict[str, float]
    calibration: pd.DataFrame
    fairness: pd.DataFrame
    scored: pd.DataFrame
    model: RiskModel


def _recall_at(order: np.ndarray, label: np.ndarray, budget: float) -> tuple[float, np.ndarray]:
    n = len(label)
    k = math.ceil(budget * n)
    top = np.zeros(n, dtype=bool)
    top[order[:k]] = True
    positives = label.sum()
    return (float(label[top].sum() / positives) if positives else float("nan")), top


def _rank(*keys: np.ndarray) -> np.ndarray:
    """Indices riskiest first: by the first key descending, ties by the next ones."""
    return np.lexsort(tuple(-k for k in reversed(keys)))


def evaluate(
    panel: Panel,
    lines: Mapping[int, float],
    *,
    year: int,
    seed: int = 0,
    budget: float = BUDGET,
    model: RiskModel | None = None,
    groups: pd.DataFrame | None = None,
    bins: int = 10,
) -> Evaluation:
    """Fit on data up to the end of ``year`` (unless ``model`` is given), score ``year`` and
    compare with the outcomes of ``year + 1`` — the one use of data after ``year``.

    ``groups`` (index household_code; columns such as county, ethnicity_head, sex_head) gives the
    fairness table; by default county, ethnicity and sex of the head from the panel.
    """
    from sklearn.metrics import brier_score_loss, roc_auc_score

    model = model or fit(panel, lines, year=year, seed=seed)
    feats = features(panel, lines, year)
    # the check needs the order only: no reasons
    scored = model.score(panel, lines, year, feats=feats, reasons=False).set_index("household_code")
    label = outcomes(panel, lines, year + 1)
    common = scored.index.intersection(label.index).sort_values()
    scored = scored.loc[common]
    feats = feats.loc[common]
    y = label.loc[common].to_numpy()
    base = baseline_order(feats).to_numpy()
    prob = scored["probability"].to_numpy()
    raw = scored["raw"].to_numpy()
    # households a sweep has to find: not below the line and not in monitoring this year
    above = ((feats["income_ratio"] >= 1) & (feats["monitored"] != 1)).to_numpy()
    figures: dict[str, float] = {"budget": budget, "outcome_rate": float(y.mean())}
    tops: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for part, mask in (("", np.ones(len(y), dtype=bool)), ("above_", above)):
        yy, pp, rr, bb = y[mask], prob[mask], raw[mask], base[mask]
        model_order = _rank(pp, rr)
        base_order = _rank(bb)
        recall_model, top_model = _recall_at(model_order, yy, budget)
        recall_base, top_base = _recall_at(base_order, yy, budget)
        tops[part] = (top_model, top_base)
        both = len(set(yy.tolist())) == 2
        figures |= {
            f"{part}households": float(mask.sum()),
            f"{part}positives": float(yy.sum()),
            f"{part}auc": float(roc_auc_score(yy, rr)) if both else float("nan"),
            f"{part}auc_baseline": float(roc_auc_score(yy, bb)) if both else float("nan"),
            f"{part}recall_at_budget": recall_model,
            f"{part}recall_at_budget_baseline": recall_base,
            f"{part}precision_at_budget": float(yy[top_model].mean()),
            f"{part}precision_at_budget_baseline": float(yy[top_base].mean()),
        }
    figures |= {
        "brier": float(brier_score_loss(y, prob)),
        "brier_uncalibrated": float(brier_score_loss(y, raw)),
        "mean_probability": float(prob.mean()),
    }
    top_model, top_base = tops[""]
    # bins of equal numbers of households (the outcome is rare: equal-width bins above 0.1
    # would hold a handful each); the top bins are the budget
    order = _rank(prob, raw)
    which = np.empty(len(y), dtype=int)
    which[order[::-1]] = np.arange(len(y)) * bins // max(len(y), 1)
    calib = (
        pd.DataFrame({"bin": which, "predicted": prob, "observed": y})
        .groupby("bin")
        .agg(
            low=("predicted", "min"),
            high=("predicted", "max"),
            predicted=("predicted", "mean"),
            observed=("observed", "mean"),
            n=("observed", "size"),
        )
        .reset_index()
    )
    if groups is None:
        groups = group_table(panel)
    table = _fairness(groups.reindex(common), y, prob, top_model, top_base)
    out = scored.assign(outcome=y, baseline=base, in_budget=top_model, in_budget_baseline=top_base)
    return Evaluation(
        year=year,
        households=len(y),
        positives=int(y.sum()),
        figures=figures,
        calibration=calib[["low", "high", "predicted", "observed", "n"]],
        fairness=table,
        scored=out.reset_index(),
        model=model,
    )


def group_table(panel: Panel) -> pd.DataFrame:
    """County, ethnicity and sex of the head per household (for the fairness table only)."""
    hh = panel.households.set_index("household_code")
    county = hh["county_code"] if "county_code" in hh else hh["village_code"].str.slice(0, 6)
    people = panel.people
    head = people[people["relation"].astype(str) == "head"].drop_duplicates("household_code")
    head = head.set_index("household_code")
    return pd.DataFrame(
        {
            "county": county.astype(str),
            "ethnicity_head": head["ethnicity"].astype(str).reindex(hh.index),
            "sex_head": head["sex"].astype(str).reindex(hh.index),
        }
    )


def _fairness(
    groups: pd.DataFrame, y: np.ndarray, prob: np.ndarray, top: np.ndarray, top_base: np.ndarray
) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for column in groups.columns:
        values = groups[column].fillna("(unknown)").astype(str).to_numpy()
        for value in sorted(set(values)):
            mask = values == value
            pos = y[mask].sum()
            rows.append(
                {
                    "by": column,
                    "group": value,
                    "households": int(mask.sum()),
                    "outcome_rate": float(y[mask].mean()),
                    "mean_probability": float(prob[mask].mean()),
                    "share_in_budget": float(top[mask].mean()),
                    "recall": float(y[mask & top].sum() / pos) if pos else float("nan"),
                    "recall_baseline": float(y[mask & top_base].sum() / pos)
                    if pos
                    else float("nan"),
                }
            )
    return pd.DataFrame(rows)
