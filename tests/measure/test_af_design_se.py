"""Standard errors from the count table equal the shared kernel on unit-level scores."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dongxi.errors import InputError
from dongxi.measure import load_spec, measure
from dongxi.measure._variance import design_covariance, psu_sums


def _data(seed: int, lonely: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 400
    stratum = rng.integers(0, 6, n)
    psu = stratum * 10 + rng.integers(0, 3, n)
    if lonely:
        stratum = np.where(stratum == 5, 5, stratum)
        psu = np.where(stratum == 5, 50, psu)
    frame = pd.DataFrame(
        {f"d{j}": (rng.random(n) < 0.2 + 0.1 * j).astype(int) for j in range(4)}
        | {
            "w": rng.uniform(0.5, 3.0, n),
            "stratum": stratum,
            "psu": psu,
            "t": rng.integers(1, 3, n),
            "year": 0.0,
        }
    )
    frame["year"] = np.where(frame["t"] == 1, 2015.0, 2019.0)
    return frame


def _spec(design: dict[str, Any]) -> Any:
    return load_spec(
        {
            "name": "se",
            "k": [40],
            "unit": {"analysis": "households"},
            "design": design,
            "rounds": {"column": "t", "year": "year"},
            "dimensions": [
                {
                    "name": "a",
                    "indicators": [{"name": "d0", "column": "d0"}, {"name": "d1", "column": "d1"}],
                },
                {
                    "name": "b",
                    "indicators": [{"name": "d2", "column": "d2"}, {"name": "d3", "column": "d3"}],
                },
            ],
        }
    )


def _scores(frame: pd.DataFrame, domain: np.ndarray) -> np.ndarray:
    score = (frame[["d0", "d1"]].sum(axis=1) + frame[["d2", "d3"]].sum(axis=1)) / 4.0
    poor = score >= 0.4
    c = np.where(poor, score, 0.0)
    w = frame["w"].to_numpy() * domain
    m0 = (w * c).sum() / w.sum()
    return np.asarray(w * (c - m0) / w.sum())


@pytest.mark.parametrize("lonely", ["certainty", "adjust"])
@pytest.mark.parametrize("clustered", [True, False])
def test_m0_se_and_change_se_match_kernel(lonely: str, clustered: bool) -> None:
    frame = _data(3, lonely=True)
    design = {"weight": "w", "strata": "stratum", "lonely_psu": lonely}
    if clustered:
        design["psu"] = "psu"
    res = measure(frame, _spec(design))
    if clustered:
        codes, uniq = pd.factorize(frame["psu"], sort=True)
        psu_stratum = frame.groupby("psu")["stratum"].first().loc[uniq].to_numpy()
    else:
        codes = np.arange(len(frame))
        psu_stratum = frame["stratum"].to_numpy()
    n_psu = int(codes.max()) + 1
    za = _scores(frame, (frame["t"] == 1).to_numpy().astype(float))
    zb = _scores(frame, (frame["t"] == 2).to_numpy().astype(float))
    totals = psu_sums(np.column_stack([za, zb]), codes, n_psu)
    cov = design_covariance(totals, psu_stratum, lonely_psu=lonely)  # type: ignore[arg-type]
    rows = res.set_index(["by", "group", "measure"])
    got_a = rows.loc[("t", "1", "M0"), "se"]
    assert got_a == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-10)
    change = rows.loc[("t", "1->2", "M0_abs_change")]
    assert change["se"] == pytest.approx(np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]), rel=1e-10)
    m0a, m0b = rows.loc[("t", "1", "M0"), "estimate"], rows.loc[("t", "2", "M0"), "estimate"]
    assert change["estimate"] == pytest.approx(m0b - m0a, abs=1e-14)
    ann = rows.loc[("t", "1->2", "M0_abs_change_ann")]
    assert ann["estimate"] == pytest.approx((m0b - m0a) / 4.0, abs=1e-14)
    rel = rows.loc[("t", "1->2", "M0_rel_change_ann")]
    assert rel["estimate"] == pytest.approx(100.0 * ((m0b / m0a) ** 0.25 - 1.0), rel=1e-12)
    # intervals of changes are normal (mpitbR: confint of a svycontrast), in the change's unit
    z = float(stats.norm.ppf(0.975))
    assert change["ci_low"] == pytest.approx(change["estimate"] - z * change["se"], abs=1e-12)
    assert change["ci_high"] == pytest.approx(change["estimate"] + z * change["se"], abs=1e-12)
    rel1 = rows.loc[("t", "1->2", "M0_rel_change")]
    assert rel1["estimate"] == pytest.approx(100.0 * (m0b / m0a - 1.0), rel=1e-12)
    assert rel1["ci_high"] == pytest.approx(rel1["estimate"] + z * rel1["se"], rel=1e-12)
    # the t option: the design's degrees of freedom
    t_rows = measure(frame, _spec(design), change_interval="t").set_index(
        ["by", "group", "measure"]
    )
    t_change = t_rows.loc[("t", "1->2", "M0_abs_change")]
    assert t_change["se"] == pytest.approx(change["se"], rel=1e-14)
    half = t_change["ci_high"] - t_change["estimate"]
    assert half > z * change["se"]


def test_lonely_psu_fails_by_default() -> None:
    frame = _data(4, lonely=True)
    with pytest.raises(InputError, match="only one PSU"):
        measure(frame, _spec({"weight": "w", "strata": "stratum", "psu": "psu"}))


@pytest.mark.parametrize("clustered", [True, False])
def test_population_share_se_matches_kernel(clustered: bool) -> None:
    frame = _data(5)
    frame["g"] = np.where(frame["d3"] == 1, "x", "y")
    design = {"weight": "w", "strata": "stratum"}
    if clustered:
        design["psu"] = "psu"
    res = measure(frame, _spec(design), by=["g"])
    row = res[(res["by"] == "t,g") & (res["group"] == "1,x") & (res["measure"] == "popsh")].iloc[0]
    w = frame["w"].to_numpy()
    parent = (frame["t"] == 1).to_numpy()
    member = parent & (frame["g"] == "x").to_numpy()
    share = w[member].sum() / w[parent].sum()
    assert row["estimate"] == pytest.approx(share, rel=1e-13)
    z = w * (member - share * parent) / w[parent].sum()
    if clustered:
        codes, uniq = pd.factorize(frame["psu"], sort=True)
        strata = frame.groupby("psu")["stratum"].first().loc[uniq].to_numpy()
    else:
        codes, strata = np.arange(len(frame)), frame["stratum"].to_numpy()
    cov = design_covariance(psu_sums(z, codes, int(codes.max()) + 1), strata)
    assert row["se"] == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-10)
