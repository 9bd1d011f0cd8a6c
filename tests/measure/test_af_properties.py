"""Property tests (hypothesis) of the Alkire–Foster measures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dongxi.measure import MeasureSpec, load_spec, measure

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _spec(
    n_ind: int, weights: list[float] | None = None, k: list[float] | None = None
) -> MeasureSpec:
    inds = [{"name": f"d{j}", "column": f"d{j}"} for j in range(n_ind)]
    if weights is not None:
        total = sum(weights)
        inds = [
            {**ind, "weight": f"{int(w)}/{int(total)}"}
            for ind, w in zip(inds, weights, strict=True)
        ]
    return load_spec(
        {
            "name": "prop",
            "k": k or [20, 33.33, 50],
            "unit": {"analysis": "households"},
            "design": {"weight": "w"},
            "dimensions": [{"name": "all", "indicators": inds}],
        }
    )


@st.composite
def datasets(draw: st.DrawFn) -> tuple[pd.DataFrame, int, list[float]]:
    n_ind = draw(st.integers(2, 5))
    n = draw(st.integers(4, 40))
    rows = draw(
        st.lists(
            st.tuples(
                st.lists(st.integers(0, 1), min_size=n_ind, max_size=n_ind),
                st.integers(1, 9),
                st.sampled_from(["a", "b", "c"]),
            ),
            min_size=n,
            max_size=n,
        )
    )
    weights = draw(st.lists(st.integers(1, 5), min_size=n_ind, max_size=n_ind))
    frame = pd.DataFrame(
        {f"d{j}": [r[0][j] for r in rows] for j in range(n_ind)}
        | {"w": [float(r[1]) for r in rows], "g": [r[2] for r in rows]}
    )
    return frame, n_ind, [float(w) for w in weights]


def _get(res: pd.DataFrame, measure_name: str, k: float | None = None, by: str = "") -> pd.Series:
    sel = (res["measure"] == measure_name) & (res["by"] == by)
    if k is not None:
        sel &= res["k"] == k
    return res.loc[sel].set_index(["group", "indicator"])["estimate"]


@SETTINGS
@given(datasets())
def test_m0_is_h_times_a_and_monotone_in_k(data: tuple[pd.DataFrame, int, list[float]]) -> None:
    frame, n_ind, weights = data
    res = measure(frame, _spec(n_ind, weights), se=False)
    previous = None
    for k in (20, 33.33, 50):
        m0, h, a = (_get(res, m, k).iloc[0] for m in ("M0", "H", "A"))
        if h > 0:
            assert abs(m0 - h * a) < 1e-12
        else:
            assert m0 == 0 and np.isnan(a)
        if previous is not None:
            assert m0 <= previous[0] + 1e-15 and h <= previous[1] + 1e-15
        previous = (m0, h)


@SETTINGS
@given(datasets())
def test_subgroup_decomposition(data: tuple[pd.DataFrame, int, list[float]]) -> None:
    frame, n_ind, weights = data
    res = measure(frame, _spec(n_ind, weights), by=["g"], se=False)
    for k in (20, 33.33, 50):
        total = _get(res, "M0", k).iloc[0]
        sub = _get(res, "M0", k, "g").droplevel("indicator")
        share = _get(res, "popsh", None, "g").droplevel("indicator")
        assert abs((sub * share[sub.index]).sum() - total) < 1e-12
        pctb = _get(res, "pctb", k)
        if total > 0:
            assert abs(pctb.sum() - 1.0) < 1e-12
        actb = _get(res, "actb", k)
        assert abs(actb.sum() - total) < 1e-12


@SETTINGS
@given(datasets(), st.integers(2, 4))
def test_replication_invariance(data: tuple[pd.DataFrame, int, list[float]], copies: int) -> None:
    frame, n_ind, weights = data
    spec = _spec(n_ind, weights)
    one = measure(frame, spec, se=False)
    many = measure(pd.concat([frame] * copies, ignore_index=True), spec, se=False)
    np.testing.assert_allclose(many["estimate"], one["estimate"], rtol=1e-12, atol=1e-14)


@SETTINGS
@given(datasets(), st.floats(0.01, 1000.0))
def test_scaling_weights_changes_nothing(
    data: tuple[pd.DataFrame, int, list[float]], factor: float
) -> None:
    frame, n_ind, weights = data
    spec = _spec(n_ind, weights)
    base = measure(frame, spec)
    scaled = measure(frame.assign(w=frame["w"] * factor), spec)
    np.testing.assert_allclose(scaled["estimate"], base["estimate"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(scaled["se"], base["se"], rtol=1e-8, atol=1e-12)


@SETTINGS
@given(datasets(), st.data())
def test_a_new_deprivation_never_lowers_m0(
    data: tuple[pd.DataFrame, int, list[float]], extra: st.DataObject
) -> None:
    frame, n_ind, weights = data
    spec = _spec(n_ind, weights)
    zeros = [(i, j) for i in range(len(frame)) for j in range(n_ind) if frame.iat[i, j] == 0]
    if not zeros:
        return
    i, j = extra.draw(st.sampled_from(zeros))
    worse = frame.copy()
    worse.iat[i, j] = 1
    before = measure(frame, spec, se=False)
    after = measure(worse, spec, se=False)
    for k in (20, 33.33, 50):
        assert _get(after, "M0", k).iloc[0] >= _get(before, "M0", k).iloc[0] - 1e-15


@SETTINGS
@given(datasets())
def test_numpy_fast_path_equals_ibis(data: tuple[pd.DataFrame, int, list[float]]) -> None:
    frame, n_ind, weights = data
    spec = _spec(n_ind, weights)
    fast = measure(frame, spec, by=["g"], method="numpy")
    slow = measure(frame, spec, by=["g"], method="ibis")
    pd.testing.assert_frame_equal(fast, slow, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("min_rows", "bins"), [(0, 1 << 24), (0, 64), (10**9, 64)])
def test_count_table_paths_equal_ibis(
    monkeypatch: pytest.MonkeyPatch, min_rows: int, bins: int
) -> None:
    import dongxi.measure._compute as compute

    rng = np.random.default_rng(7)
    n = 3000
    frame = pd.DataFrame(
        {f"d{j}": (rng.random(n) < 0.3).astype(np.int8) for j in range(4)}
        | {"w": rng.uniform(1, 5, n), "g": rng.integers(0, 5, n)}
    )
    frame.loc[::97, "d1"] = np.nan  # float column with missing values (listwise)
    spec = _spec(4, [1, 1, 2, 2])
    monkeypatch.setattr(compute, "COMPILED_MIN_ROWS", min_rows)
    monkeypatch.setattr(compute, "DIRECT_BINS_MAX", bins)
    fast = measure(frame, spec, by=["g"], method="numpy")
    slow = measure(frame, spec, by=["g"], method="ibis")
    pd.testing.assert_frame_equal(fast, slow, rtol=1e-12, atol=1e-15)
