"""Acceptance: reproduce every value of mpitbR 1.0.1's reference results on syn_cdta.

Point estimates to 1e-12 against the exact rational recomputation ``b_exact``, standard errors to
1e-9 relative, and the logit-scale t intervals (computed by mpitbR around its own ``b``, which
carries GLM errors of about 1e-9) to 1e-7 absolute.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dongxi.measure import load_spec, measure

REPO = Path(__file__).resolve().parents[2]


def _spec(design: str) -> object:
    spec = load_spec(REPO / "examples" / "syn_cdta.toml")
    if design == "srs":
        data = spec.model_dump(mode="python", exclude_none=True)
        data["design"] = {"weight": "weight"}
        spec = load_spec(data)
    return spec


def _key(frame: pd.DataFrame) -> pd.Series:
    return (
        frame["by"]
        + "|"
        + frame["group"]
        + "|"
        + frame["measure"]
        + "|"
        + frame["indicator"].fillna("")
        + "|"
        + frame["k"].map(lambda v: "" if pd.isna(v) else f"{v:g}")
    )


def _reference_keys(ref: pd.DataFrame) -> pd.DataFrame:
    ref = ref.copy()
    t = ref["t"].astype(str)
    loa = ref["loa"].astype(str)
    subg = ref["subg"].astype(str)
    pooled = t == "pooled"
    by = np.where(loa == "nat", "", loa)
    by = np.where(pooled, by, np.where(loa == "nat", "t", "t," + loa))
    group = np.where(loa == "nat", "", subg)
    group = np.where(pooled, group, np.where(loa == "nat", t, t + "," + subg))
    ref["by"] = by
    ref["group"] = group
    ref["indicator"] = ref["indicator"].fillna("")
    return ref


@pytest.fixture(scope="module")
def syn_cdta(shared_dir: Path) -> pd.DataFrame:
    return pd.read_csv(shared_dir / "data" / "mpi" / "syn_cdta.csv")


@pytest.mark.parametrize(
    ("design", "file", "by"),
    [
        ("svy", "svy_equal_k33_national.csv", []),
        ("srs", "srs_equal_k33.csv", ["area", "region"]),
    ],
)
@pytest.mark.parametrize("method", ["numpy", "ibis"])
def test_reproduces_mpitbr(
    shared_dir: Path, syn_cdta: pd.DataFrame, design: str, file: str, by: list[str], method: str
) -> None:
    ref = _reference_keys(pd.read_csv(shared_dir / "data" / "mpi" / "reference" / file))
    out = measure(syn_cdta, _spec(design), by=by, method=method)  # type: ignore[arg-type]
    mine = out.set_index(_key(out))
    ref = ref.set_index(_key(ref))
    missing = ref.index.difference(mine.index)
    assert missing.empty, f"rows not produced: {list(missing[:5])}"
    got = mine.loc[ref.index]
    np.testing.assert_allclose(got["estimate"], ref["b_exact"], rtol=0, atol=1e-12)
    has_se = ref["se"].notna()
    assert got.loc[~has_se, "se"].isna().all()
    np.testing.assert_allclose(got.loc[has_se, "se"], ref.loc[has_se, "se"], rtol=1e-9, atol=0)
    for mine_col, ref_col in (("ci_low", "ll"), ("ci_high", "ul")):
        np.testing.assert_allclose(
            got.loc[has_se, mine_col], ref.loc[has_se, ref_col], rtol=0, atol=1e-7
        )
    assert (got["n"] > 0).all()
