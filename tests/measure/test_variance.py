"""The design-variance kernel against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from dongxi.errors import InputError
from dongxi.measure._variance import design_covariance, logit_interval, psu_sums, wald_interval


def test_srs_mean_variance_matches_textbook() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=200)
    n = y.size
    u = (y - y.mean()) / n  # linearised scores of the mean, weight 1
    var = design_covariance(u, np.zeros(n))[0, 0]
    assert var == pytest.approx(y.var(ddof=1) / n, rel=1e-12)


def test_stratified_clusters_by_hand() -> None:
    totals = np.array([1.0, 3.0, 2.0, 10.0, 14.0])
    strata = np.array([0, 0, 0, 1, 1])
    expected = 3 / 2 * ((1 - 2) ** 2 + (3 - 2) ** 2 + 0.0) + 2 / 1 * (4.0 + 4.0)
    assert design_covariance(totals, strata)[0, 0] == pytest.approx(expected)


def test_covariance_matrix_is_symmetric_psd() -> None:
    rng = np.random.default_rng(2)
    totals = rng.normal(size=(40, 3))
    strata = np.repeat(np.arange(10), 4)
    cov = design_covariance(totals, strata)
    np.testing.assert_allclose(cov, cov.T)
    assert np.linalg.eigvalsh(cov).min() > -1e-12


def test_lonely_psu_policies() -> None:
    totals = np.array([1.0, 3.0, 5.0])
    strata = np.array([0, 0, 1])
    with pytest.raises(InputError, match="only one PSU"):
        design_covariance(totals, strata)
    certain = design_covariance(totals, strata, lonely_psu="certainty")[0, 0]
    assert certain == pytest.approx(2.0 * 2.0)
    adjusted = design_covariance(totals, strata, lonely_psu="adjust")[0, 0]
    assert adjusted == pytest.approx(4.0 + (5.0 - 3.0) ** 2)


def test_psu_sums() -> None:
    got = psu_sums(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), np.array([1, 0, 1]), 2)
    np.testing.assert_allclose(got, [[3.0, 4.0], [6.0, 8.0]])


def test_intervals() -> None:
    low, _ = wald_interval(np.array([0.5]), np.array([0.1]), df=np.inf)
    assert low[0] == pytest.approx(0.5 - 1.959963984540054 * 0.1)
    lo, hi = logit_interval(np.array([0.2, 0.0]), np.array([0.01, 0.0]), df=100)
    assert 0 < lo[0] < 0.2 < hi[0] < 1
    assert lo[1] == hi[1] == 0.0
