"""The learned risk score (``dongxi.monitor.score``): no leakage from the future, no protected
attribute among the features, calibrated probabilities, reasons in Chinese, determinism.

Most tests use a panel built here whose process is known: each household's income per person
follows its own trend plus noise, and some households suffer a yearly illness shock (medical
spending in the months, income falling the next year) whose chance grows with the number of
elderly members — so the history in the panel does predict next year's outcome.
"""

from __future__ import annotations

import math
import re
from functools import cache

import numpy as np
import pandas as pd
import pytest

from dongxi.errors import InputError
from dongxi.monitor.score import (
    FEATURES,
    NEVER_FEATURES,
    USE_NOTE_ZH,
    Panel,
    baseline_order,
    evaluate,
    features,
    fit,
    outcomes,
)

YEARS = tuple(range(2017, 2025))
LINES = {year: 4000.0 + 300.0 * (year - 2017) for year in YEARS}
CJK = re.compile(r"[\u4e00-\u9fff]")


@cache
def made_panel(n: int = 600, seed: int = 3) -> Panel:
    """A panel of ``n`` households, 2017–2024, with income months, status and measures."""
    rng = np.random.default_rng(seed)
    codes = np.array([f"45010210100{i // 300:1d}{i:04d}" for i in range(n)])
    villages = np.array([c[:12] for c in codes])
    elderly = rng.integers(0, 3, n)
    size = rng.integers(1, 6, n) + elderly
    level = rng.lognormal(mean=0.5, sigma=0.5, size=n)  # income / line at the start
    trend = rng.normal(0.0, 0.06, n)
    frailty = 0.04 + 0.08 * elderly
    households = pd.DataFrame(
        {
            "household_code": codes,
            "village_code": villages,
            "county_code": [v[:6] for v in villages],
        }
    )
    people_rows = []
    for i, code in enumerate(codes):
        for m in range(int(size[i])):
            old = m < elderly[i]
            born = 1950 + int(rng.integers(0, 10)) if old else 1975 + int(rng.integers(0, 40))
            people_rows.append(
                {
                    "household_code": code,
                    "member_no": m + 1,
                    "relation": "head" if m == 0 else "other",
                    "sex": "male" if rng.random() < 0.8 else "female",
                    "birth_date": f"{born}-06-01",
                    "ethnicity": "壮族" if rng.random() < 0.6 else "汉族",
                    "education": "primary" if old else "junior",
                }
            )
    people = pd.DataFrame(people_rows)
    income_rows, month_rows, status_rows, measure_rows = [], [], [], []
    ratio = level.copy()
    ill = np.zeros(n, dtype=bool)
    below_before = np.zeros(n, dtype=bool)
    for year in YEARS:
        ratio = ratio * (1 + trend) + rng.normal(0, 0.08, n) - np.where(ill, 0.45 * ratio, 0.0)
        ratio = np.clip(ratio, 0.05, None)
        ill = rng.random(n) < frailty
        line = LINES[year]
        per_person = ratio * line
        for i, code in enumerate(codes):
            total = per_person[i] * size[i]
            wage, operating = round(0.6 * total, 2), round(0.3 * total, 2)
            income_rows.append(
                {
                    "household_code": code,
                    "year": year,
                    "wage_income": wage,
                    "operating_income": operating,
                    "property_income": 0.0,
                    "transfer_income": round(total - wage - operating, 2),
                    "production_costs": 0.0,
                    "household_size": int(size[i]),
                    "net_income_per_capita": per_person[i],
                }
            )
            for month in range(1, 13):
                month_rows.append(
                    {
                        "household_code": code,
                        "month": f"{year}-{month:02d}",
                        "net_income": total / 12,
                        "medical_spending": 900.0 if ill[i] and month >= 10 else 0.0,
                        "schooling_spending": 0.0,
                        "disaster_loss": 0.0,
                        "household_size": int(size[i]),
                    }
                )
            below = per_person[i] < line
            if below and not below_before[i]:
                status_rows.append(
                    {
                        "household_code": code,
                        "status": "monitored",
                        "monitoring_category": "marginal",
                        "effective_date": f"{year}-12-31",
                    }
                )
                measure_rows.append(
                    {
                        "household_code": code,
                        "start_date": f"{year}-12-31",
                        "batch": "social_security",
                    }
                )
            elif not below and below_before[i]:
                status_rows.append(
                    {
                        "household_code": code,
                        "status": "never",
                        "monitoring_category": None,
                        "effective_date": f"{year}-12-31",
                    }
                )
        below_before = per_person < line
    return Panel(
        households=households,
        people=people,
        income=pd.DataFrame(income_rows),
        household_status=pd.DataFrame(status_rows),
        measures=pd.DataFrame(measure_rows),
        income_months=pd.DataFrame(month_rows),
    )


@cache
def scored(year: int = 2023, seed: int = 0) -> pd.DataFrame:
    return fit(made_panel(), LINES, year=year, seed=seed).score(made_panel(), LINES, year)


def test_no_feature_is_a_protected_attribute_or_a_place() -> None:
    banned = ("county", "village", "ethnic", "sex", "gender", "民族", "性别", "县", "村")
    for name, (zh, en, _) in FEATURES.items():
        text = f"{name} {zh} {en}".lower()
        assert not any(word in text for word in banned), name
    for column in NEVER_FEATURES:
        assert column not in FEATURES
    assert list(features(made_panel(), LINES, 2022).columns) == list(FEATURES)


def test_scores_do_not_move_when_county_ethnicity_or_sex_change() -> None:
    panel = made_panel()
    rng = np.random.default_rng(9)
    people = panel.people.assign(
        sex=rng.permutation(panel.people["sex"].to_numpy()),
        ethnicity=rng.permutation(panel.people["ethnicity"].to_numpy()),
    )
    households = panel.households.assign(county_code="452700")
    other = Panel(**{**panel.__dict__, "people": people, "households": households})
    again = fit(other, LINES, year=2023, seed=0).score(other, LINES, 2023)
    pd.testing.assert_frame_equal(again, scored())


def test_changing_data_after_the_year_cannot_change_its_scores() -> None:
    panel = made_panel()
    year = 2023
    rng = np.random.default_rng(1)
    income = panel.income.copy()
    later = income["year"] > year
    income.loc[later, "net_income_per_capita"] = rng.uniform(0, 50_000, later.sum())
    income.loc[later, "wage_income"] = rng.uniform(0, 90_000, later.sum())
    months = panel.income_months.copy()
    assert months is not None
    later_m = months["month"] > f"{year}-12"
    months.loc[later_m, "medical_spending"] = 99_999.0
    months.loc[later_m, "net_income"] = -5_000.0
    status = pd.concat(
        [
            panel.household_status,
            pd.DataFrame(
                {
                    "household_code": panel.households["household_code"],
                    "status": "monitored",
                    "monitoring_category": "sudden_hardship",
                    "effective_date": f"{year + 1}-03-01",
                }
            ),
        ],
        ignore_index=True,
    )
    measures = pd.concat(
        [
            panel.measures,
            pd.DataFrame(
                {
                    "household_code": panel.households["household_code"],
                    "start_date": f"{year + 1}-01-05",
                    "batch": "social_security",
                }
            ),
        ],
        ignore_index=True,
    )
    babies = panel.people.drop_duplicates("household_code").assign(
        member_no=99, relation="other", birth_date=f"{year + 1}-02-02"
    )
    changed = Panel(
        households=panel.households,
        people=pd.concat([panel.people, babies], ignore_index=True),
        income=income,
        household_status=status,
        measures=measures,
        income_months=months,
    )
    pd.testing.assert_frame_equal(
        fit(changed, LINES, year=year, seed=0).score(changed, LINES, year), scored(year)
    )
    # and the check can fail: changing the year itself does change the scores
    months.loc[months["month"].str.startswith(str(year)), "net_income"] *= 0.5
    moved = Panel(**{**changed.__dict__, "income_months": months})
    assert not fit(moved, LINES, year=year, seed=0).score(moved, LINES, year).equals(scored(year))


def test_the_model_is_trained_before_the_calibration_year() -> None:
    model = fit(made_panel(), LINES, year=2023, seed=0)
    assert max(model.train_years) == 2021  # outcomes of 2022 at the latest; calibration: 2022→2023
    assert model.calibration_rows == len(features(made_panel(), LINES, 2022))


def test_same_seed_same_scores() -> None:
    first = fit(made_panel(), LINES, year=2023, seed=5).score(made_panel(), LINES, 2023)
    second = fit(made_panel(), LINES, year=2023, seed=5).score(made_panel(), LINES, 2023)
    pd.testing.assert_frame_equal(first, second)


def test_probabilities_are_calibrated_on_the_held_out_year() -> None:
    ev = evaluate(made_panel(), LINES, year=2023, seed=0)
    prob = ev.scored["probability"].to_numpy()
    assert ((prob >= 0) & (prob <= 1)).all()
    rate = ev.figures["outcome_rate"]
    assert abs(ev.figures["mean_probability"] - rate) < 0.05
    # better than knowing only the rate, and the curve rises
    assert ev.figures["brier"] < rate * (1 - rate)
    observed = ev.calibration.sort_values("low")["observed"].to_numpy()
    big = ev.calibration.sort_values("low")["n"].to_numpy() >= 30
    assert observed[big][0] < observed[big][-1]
    assert ev.calibration["n"].sum() == ev.households


def test_evaluation_figures_match_a_direct_count() -> None:
    ev = evaluate(made_panel(), LINES, year=2023, seed=0)
    table = ev.scored.sort_values(["probability", "raw"], ascending=False, kind="stable")
    k = math.ceil(0.1 * len(table))
    expected = table["outcome"].head(k).sum() / table["outcome"].sum()
    assert ev.figures["recall_at_budget"] == pytest.approx(expected)
    assert ev.scored["in_budget"].sum() == k
    truth = outcomes(made_panel(), LINES, 2024)
    assert ev.positives == int(truth.loc[ev.scored["household_code"]].sum())
    assert 0.5 < ev.figures["auc"] <= 1 and 0.5 < ev.figures["auc_baseline"] <= 1


def test_the_baseline_puts_households_below_the_line_first_by_shortfall() -> None:
    feats = features(made_panel(), LINES, 2023)
    order = baseline_order(feats).sort_values(ascending=False, kind="stable")
    ratio = feats.loc[order.index, "income_ratio"].to_numpy()
    below = int((feats["income_ratio"] < 1).sum())
    assert (ratio[:below] < 1).sum() >= below - int((feats["monitored"] == 1).sum())
    tail = ratio[-50:]
    assert (np.diff(tail) >= 0).all()  # the unflagged ones by income, lowest first


def test_the_fairness_table_has_county_ethnicity_and_sex_of_head() -> None:
    ev = evaluate(made_panel(), LINES, year=2023, seed=0)
    assert set(ev.fairness["by"]) == {"county", "ethnicity_head", "sex_head"}
    by_sex = ev.fairness[ev.fairness["by"] == "sex_head"]
    assert set(by_sex["group"]) == {"male", "female"}
    assert by_sex["households"].sum() == ev.households


def test_reasons_are_chinese_words_at_most_three() -> None:
    table = scored()
    assert table["reasons_zh"].map(lambda t: bool(CJK.search(t))).all()
    top = table.head(20)
    assert top["reasons_zh"].map(lambda t: 1 <= len(t.split("；")) <= 3).all()
    assert top["reasons_zh"].str.contains("监测线|医疗|收入").all()
    assert "规则" in USE_NOTE_ZH and "不决定" in USE_NOTE_ZH


def test_reasons_equal_predicting_every_household_for_every_feature() -> None:
    """Only the households away from a feature's median are predicted again for it; the effects
    are those of predicting every household with the feature at its median."""
    from dongxi.monitor.score import _predict, _reasons

    model = fit(made_panel(), LINES, year=2023, seed=0)
    feats = features(made_panel(), LINES, 2023)
    raw = model.raw(feats)
    values = feats[list(model.used)].to_numpy(dtype=float)
    medians = np.nanmedian(np.where(np.isfinite(values), values, np.nan), axis=0)
    at_median = np.isclose(values, medians[None, :], rtol=1e-9, atol=1e-12)
    assert at_median.any(axis=0).sum() >= 3  # the short cut is taken for some features
    effect = np.zeros_like(values)
    for j in range(values.shape[1]):
        if math.isfinite(float(medians[j])):
            changed = values.copy()
            changed[:, j] = medians[j]
            effect[:, j] = raw - _predict(model.classifier, changed)
    effect[at_median] = 0.0
    names = list(model.used)
    order = np.argsort(-effect, axis=1, kind="stable")[:, :3]
    expected = [
        [f"{FEATURES[names[j]][1]} " for j in order[i] if effect[i, j] > 0]
        for i in range(len(feats))
    ]
    _zh, en = _reasons(model, feats, raw, top=3)
    for text, labels in zip(en, expected, strict=True):
        shown = text.split("; ") if labels else []
        assert len(shown) == len(labels)
        assert all(part.startswith(label) for part, label in zip(shown, labels, strict=True))
    # the same sizes too, to the shown precision
    first = next(i for i, labels in enumerate(expected) if labels)
    j = order[first][0]
    size = f"{effect[first, j]:.1%}" if effect[first, j] >= 0.001 else "<0.1%"
    assert f"+{size})" in en[first].split("; ")[0]


def test_the_check_scores_without_reasons() -> None:
    ev = evaluate(made_panel(), LINES, year=2023, seed=0)
    assert "reasons_zh" not in ev.scored.columns


def test_the_riskiest_are_the_poorest_or_the_ill() -> None:
    table = scored().set_index("household_code")
    feats = features(made_panel(), LINES, 2023)
    top = feats.loc[table.index[:50]]
    rest = feats.loc[table.index[200:]]
    assert top["income_ratio"].median() < rest["income_ratio"].median()


def test_a_panel_too_short_is_refused() -> None:
    panel = made_panel()
    short = Panel(**{**panel.__dict__, "income": panel.income[panel.income["year"] >= 2021]})
    with pytest.raises(InputError, match="too few years"):
        fit(short, LINES, year=2022)


def test_a_missing_line_is_refused_naming_the_option() -> None:
    lines = {y: v for y, v in LINES.items() if y != 2022}
    with pytest.raises(InputError, match="2022") as err:
        fit(made_panel(), lines, year=2023)
    assert "--policy" in str(err.value.fix)


def test_scores_are_from_the_synthetic_registry_too() -> None:
    from dongxi.synth import generate

    data = generate(households=600, seed=4, years=range(2018, 2024))
    lines = {y: (4000.0 if y <= 2020 else 6000.0 * 1.05 ** (y - 2021)) for y in range(2018, 2024)}
    panel = Panel(
        households=data.households,
        people=data.people.drop(columns=["id_number", "name"]),
        income=data.income,
        household_status=data.household_status,
        measures=data.measures,
    )
    ev = evaluate(panel, lines, year=2022, seed=0)
    assert ev.households == 600
    assert ev.figures["auc"] > 0.8
    assert set(ev.fairness["by"]) == {"county", "ethnicity_head", "sex_head"}
