"""Income poverty measures against oracles we did not write, closed forms and properties."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dongxi.measure._income as income_module
from dongxi.errors import InputError
from dongxi.measure.income import INCOME_MEASURES, OUTPUT_COLUMNS, income_poverty


def _survey(n: int = 1200, seed: int = 0, strata: int = 12, per: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_psu = strata * per
    psu = rng.integers(0, n_psu, n)
    return pd.DataFrame(
        {
            "y": np.round(rng.lognormal(8.0, 0.8, n), 0),  # rounding makes ties
            "w": rng.uniform(0.5, 4.0, n),
            "psu": psu,
            "stratum": psu // per,
            "county": rng.choice(["450123", "450124", "450125"], n),
            "line": np.where(rng.random(n) < 0.5, 2855.0, 4000.0),
        }
    )


def _get(out: pd.DataFrame, measure: str, by: str = "", group: str = "") -> pd.Series:
    row = out[(out["measure"] == measure) & (out["by"] == by) & (out["group"] == group)]
    assert len(row) == 1
    return row.iloc[0]


# --- the oracle: samplics (Taylor linearisation of means with strata, PSUs and domains) ---------


def _samplics_mean(
    y: np.ndarray, frame: pd.DataFrame, domain: np.ndarray | None
) -> tuple[dict[object, float], dict[object, float]]:
    with warnings.catch_warnings():
        # samplics announces on import that it is archived (FutureWarning); its maths is unchanged
        warnings.simplefilter("ignore")
        from samplics.estimation import TaylorEstimator
        from samplics.utils.types import PopParam

        est = TaylorEstimator(PopParam.mean)
        est.estimate(
            y=y,
            samp_weight=frame["w"].to_numpy(),
            stratum=frame["stratum"].to_numpy(),
            psu=frame["psu"].to_numpy(),
            domain=domain,
        )
    points = est.point_est if isinstance(est.point_est, dict) else {None: est.point_est}
    errors = est.stderror if isinstance(est.stderror, dict) else {None: est.stderror}
    return {k: float(v) for k, v in points.items()}, {k: float(v) for k, v in errors.items()}


def test_fgt_and_watts_match_samplics_with_design_and_domains() -> None:
    frame = _survey(n=600)
    out = income_poverty(
        frame, income="y", line="line", weight="w", strata="stratum", psu="psu", by=["county"]
    )
    y, z = frame["y"].to_numpy(), frame["line"].to_numpy()
    poor = y < z
    gap = np.where(poor, 1 - y / z, 0.0)
    columns = {
        "FGT0": poor.astype(float),
        "FGT1": gap,
        "FGT2": gap**2,
        "Watts": np.where(poor, np.log(z / y), 0.0),
    }
    for measure, values in columns.items():
        point, se = _samplics_mean(values, frame, None)
        got = _get(out, measure)
        assert got["estimate"] == pytest.approx(point[None], rel=1e-12)
        assert got["se"] == pytest.approx(se[None], rel=1e-9)
        points, ses = _samplics_mean(values, frame, frame["county"].to_numpy())
        for group in ("450123", "450124", "450125"):
            got = _get(out, measure, "county", group)
            assert got["estimate"] == pytest.approx(points[group], rel=1e-12)
            assert got["se"] == pytest.approx(ses[group], rel=1e-9)


def test_simple_random_sample_closed_form() -> None:
    y = np.array([1000.0, 2000.0, 3000.0, 5000.0, 8000.0, 500.0])
    out = income_poverty(pd.DataFrame({"y": y}), income="y", line=2500.0)
    poor = (y < 2500).astype(float)
    fgt0 = _get(out, "FGT0")
    assert fgt0["estimate"] == pytest.approx(poor.mean())
    assert fgt0["se"] == pytest.approx(poor.std(ddof=1) / np.sqrt(y.size))
    assert fgt0["n"] == 6
    assert 0 < fgt0["ci_low"] < fgt0["estimate"] < fgt0["ci_high"] < 1
    watts = _get(out, "Watts")
    w = np.where(y < 2500, np.log(2500 / y), 0.0)
    from scipy import stats

    q = stats.t.ppf(0.975, y.size - 1)
    assert watts["ci_low"] == pytest.approx(w.mean() - q * w.std(ddof=1) / np.sqrt(y.size))


# --- Gini: point estimate against the direct O(n²) formula, SE against derivative and jackknife -


def _gini_direct(y: np.ndarray, w: np.ndarray) -> float:
    diff = np.abs(y[:, None] - y[None, :])
    return float((w[:, None] * w[None, :] * diff).sum() / (2 * w.sum() * (w * y).sum()))


def test_gini_point_matches_pairwise_formula_with_ties_and_groups() -> None:
    frame = _survey(n=600, seed=3)
    out = income_poverty(frame, income="y", line=3000.0, weight="w", by=["county"])
    y, w = frame["y"].to_numpy(), frame["w"].to_numpy()
    assert _get(out, "Gini")["estimate"] == pytest.approx(_gini_direct(y, w), rel=1e-12)
    for group in ("450123", "450124"):
        mask = (frame["county"] == group).to_numpy()
        got = _get(out, "Gini", "county", group)["estimate"]
        assert got == pytest.approx(_gini_direct(y[mask], w[mask]), rel=1e-12)
    tied = income_poverty(pd.DataFrame({"y": [5.0, 5.0, 5.0]}), income="y", line=1.0)
    assert _get(tied, "Gini")["estimate"] == pytest.approx(0.0, abs=1e-15)


def test_gini_scores_are_the_derivative_of_the_estimator() -> None:
    frame = _survey(n=300, seed=5)
    y, w = frame["y"].to_numpy(), frame["w"].to_numpy()
    codes = np.zeros(y.size, dtype=np.int64)
    order = np.argsort(y, kind="stable")
    _, scores = income_module._gini_scores(y, w, codes, 1, order, np.array([w.sum()]))
    h = 1e-6
    for k in (0, 17, 123, 299):
        up, down = w.copy(), w.copy()
        up[k] += h
        down[k] -= h
        numeric = (_gini_direct(y, up) - _gini_direct(y, down)) / (2 * h)
        assert scores[k] / w[k] == pytest.approx(numeric, rel=1e-5, abs=1e-9)
    assert scores.sum() == pytest.approx(0.0, abs=1e-12)  # degree-0 homogeneous in weights


def test_gini_se_close_to_stratified_jackknife() -> None:
    frame = _survey(n=3000, seed=7, strata=30, per=6)
    out = income_poverty(frame, income="y", line=3000.0, weight="w", strata="stratum", psu="psu")
    y, w = frame["y"].to_numpy(), frame["w"].to_numpy()
    psu, stratum = frame["psu"].to_numpy(), frame["stratum"].to_numpy()

    def gini(weights: np.ndarray) -> float:
        keep = weights > 0
        ys, ws = y[keep], weights[keep]
        order = np.argsort(ys)
        ys, ws = ys[order], ws[order]
        r = np.cumsum(ws)
        return float((ws * ys * (2 * r - ws)).sum() / (ws.sum() * (ws * ys).sum()) - 1)

    variance = 0.0
    for h in np.unique(stratum):
        members = np.unique(psu[stratum == h])
        n_h = members.size
        reps = []
        for p in members:
            rw = w.copy()
            rw[psu == p] = 0.0
            rw[(stratum == h) & (psu != p)] *= n_h / (n_h - 1)
            reps.append(gini(rw))
        reps_a = np.array(reps)
        variance += (n_h - 1) / n_h * ((reps_a - reps_a.mean()) ** 2).sum()
    assert _get(out, "Gini")["se"] == pytest.approx(np.sqrt(variance), rel=0.05)


# --- the sparse variance path equals the kernel path --------------------------------------------


@pytest.mark.parametrize("lonely", ["certainty", "adjust"])
@pytest.mark.parametrize("path", ["cells", "unique", "rows"])
def test_sparse_variance_equals_kernel(
    monkeypatch: pytest.MonkeyPatch, lonely: str, path: str
) -> None:
    frame = _survey(n=800, seed=11)
    frame.loc[frame["stratum"] == 3, "psu"] = 15  # stratum 3 now has one PSU
    if path == "rows":  # no PSU column: every row its own PSU; stratum 99 holds one row
        frame.loc[0, "stratum"] = 99
    design = {"strata": "stratum", "psu": None if path == "rows" else "psu"}
    kwargs = dict(income="y", line="line", weight="w", by=["county"], lonely_psu=lonely, **design)
    dense = income_poverty(frame, **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(income_module, "_DENSE_LIMIT", 0)
    if path == "unique":
        monkeypatch.setattr(income_module, "_CELL_LIMIT", 0)
    sparse = income_poverty(frame, **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(dense, sparse, rtol=1e-10, atol=1e-15)


def test_lonely_psu_fails_by_default() -> None:
    frame = _survey(n=200, seed=1)
    frame.loc[frame["stratum"] == 2, "psu"] = 10
    with pytest.raises(InputError, match="only one PSU"):
        income_poverty(frame, income="y", line=3000.0, strata="stratum", psu="psu")


# --- shape and errors -----------------------------------------------------------------------------


def test_output_shape_and_missing_group_values() -> None:
    frame = _survey(n=300, seed=2)
    frame.loc[:9, "county"] = None
    out = income_poverty(frame, income="y", line=3000.0, by=["county"])
    assert tuple(out.columns) == OUTPUT_COLUMNS
    assert len(out) == 5 * 4
    assert list(out["measure"][:5]) == list(INCOME_MEASURES)
    assert set(out["indicator"]) == {""}
    assert out.loc[out["by"] == "", "n"].iloc[0] == 300
    assert out.loc[out["by"] == "county", "n"].sum() == 5 * 290


def test_errors_name_rows_columns_and_fix() -> None:
    frame = pd.DataFrame({"y": [100.0, 0.0, -5.0, 300.0], "w": [1.0, 1.0, 1.0, 1.0]})
    with pytest.raises(InputError, match=r"rows 3, 4") as info:
        income_poverty(frame, income="y", line=200.0)
    assert info.value.row == 3
    assert "floor" in str(info.value)
    floored = income_poverty(frame, income="y", line=200.0, floor=1.0)
    assert _get(floored, "Watts")["estimate"] == pytest.approx(
        (np.log(2.0) + 2 * np.log(200.0)) / 4
    )
    with pytest.raises(InputError, match="not in the data") as missing:
        income_poverty(frame, income="income", line=200.0)
    assert missing.value.column == "income"
    bad_w = frame.assign(y=[1.0, 2.0, 3.0, 4.0], w=[1.0, 0.0, 1.0, 1.0])
    with pytest.raises(InputError, match="Weights must be positive") as weights:
        income_poverty(bad_w, income="y", line=2.5, weight="w")
    assert weights.value.row == 3
    text = frame.assign(y=["1", "x", "3", "4"])
    with pytest.raises(InputError, match="non-numeric") as numbers:
        income_poverty(text, income="y", line=2.5)
    assert numbers.value.value == "x"
    with pytest.raises(InputError, match="level"):
        income_poverty(bad_w.assign(w=1.0), income="y", line=2.5, level=95)
    with pytest.raises(InputError, match="line"):
        income_poverty(bad_w.assign(w=1.0), income="y", line=-1.0)


def test_psu_in_two_strata_is_refused() -> None:
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "s": [1, 1, 2, 2], "p": ["a", "b", "b", "c"]})
    with pytest.raises(InputError, match="two strata") as info:
        income_poverty(frame, income="y", line=2.5, strata="s", psu="p")
    assert (info.value.row, info.value.value) == (4, "b")


def test_line_by_row() -> None:
    frame = pd.DataFrame(
        {"y": [3000.0, 3000.0, 5000.0, 1000.0], "z": [2855.0, 4000.0, 4000.0, 2855.0]}
    )
    out = income_poverty(frame, income="y", line="z")
    assert _get(out, "FGT0")["estimate"] == pytest.approx(0.5)
    assert _get(out, "FGT1")["estimate"] == pytest.approx((0.25 + (1 - 1000 / 2855)) / 4)


# --- properties ---------------------------------------------------------------------------------

incomes = st.lists(
    st.floats(min_value=1.0, max_value=1e6, allow_nan=False), min_size=2, max_size=40
)


def _frame(ys: list[float], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": ys, "w": rng.uniform(0.2, 5.0, len(ys))})


def _estimates(frame: pd.DataFrame, line: float) -> dict[str, float]:
    out = income_poverty(frame, income="y", line=line, weight="w")
    return dict(zip(out["measure"], out["estimate"], strict=True))


@settings(max_examples=40, deadline=None)
@given(incomes, st.floats(min_value=1.0, max_value=1e6))
def test_fgt_ordering_and_gini_range(ys: list[float], line: float) -> None:
    e = _estimates(_frame(ys), line)
    assert e["FGT2"] <= e["FGT1"] + 1e-15
    assert e["FGT1"] <= e["FGT0"] + 1e-15
    assert 0.0 <= e["FGT0"] <= 1.0
    assert e["Watts"] >= e["FGT1"] - 1e-12  # ln(z/y) ≥ 1 − y/z
    assert -1e-12 <= e["Gini"] < 1.0


@settings(max_examples=40, deadline=None)
@given(
    incomes, st.floats(min_value=0.01, max_value=100.0), st.floats(min_value=0.01, max_value=100)
)
def test_scale_invariance(ys: list[float], c: float, a: float) -> None:
    frame = _frame(ys)
    base = income_poverty(frame, income="y", line=5000.0, weight="w")
    weights = income_poverty(frame.assign(w=frame["w"] * c), income="y", line=5000.0, weight="w")
    np.testing.assert_allclose(base["estimate"], weights["estimate"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(base["se"], weights["se"], rtol=1e-7, atol=1e-12)
    scaled = income_poverty(frame.assign(y=frame["y"] * a), income="y", line=5000.0 * a, weight="w")
    # poverty status can flip only by rounding at the line; the Gini never depends on the line
    assert _get(scaled, "Gini")["estimate"] == pytest.approx(
        _get(base, "Gini")["estimate"], rel=1e-9, abs=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(incomes, st.lists(st.floats(min_value=0.0, max_value=1e5), min_size=40, max_size=40))
def test_fgt_non_increasing_as_incomes_rise(ys: list[float], rises: list[float]) -> None:
    frame = _frame(ys)
    richer = frame.assign(y=frame["y"] + np.array(rises[: len(ys)]))
    before, after = _estimates(frame, 50_000.0), _estimates(richer, 50_000.0)
    for measure in ("FGT0", "FGT1", "FGT2", "Watts"):
        assert after[measure] <= before[measure] + 1e-12


def test_compiled_passes_equal_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _survey(n=2000, seed=13)
    frame.loc[:4, "county"] = None
    kwargs = dict(income="y", line="line", weight="w", strata="stratum", psu="psu", by=["county"])
    plain = income_poverty(frame, **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(income_module, "_COMPILED_MIN_ROWS", 0)
    compiled = income_poverty(frame, **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(plain, compiled, rtol=1e-9, atol=1e-13)


def test_groups_of_mixed_types_and_numeric_order() -> None:
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 5.0], "g": [10, 2, 2, "a", 10]})
    out = income_poverty(frame, income="y", line=3.5, by=["g"])
    assert set(out.loc[out["by"] == "g", "group"]) == {"10", "2", "a"}
    numeric = income_poverty(frame.assign(g=[10, 2, 2, 1, 10]), income="y", line=3.5, by=["g"])
    assert list(dict.fromkeys(numeric.loc[numeric["by"] == "g", "group"])) == ["1", "2", "10"]
