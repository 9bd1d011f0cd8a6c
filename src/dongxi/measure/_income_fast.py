"""Compiled passes (numba) for income poverty on large tables.

The same estimators and linearised scores as the numpy code of :mod:`dongxi.measure._income`,
fused into loops over the rows so that no intermediate array of the table's length is built:

- :func:`ratio_pass` — FGT0, FGT1, FGT2 and Watts per group and their scores, in two passes;
- :func:`gini_pass` — the Gini per group and its scores, in two passes over the rows in income
  order, keeping running totals per group (no sort by group is needed).

Tests compare both paths. This module imports numba, so it is imported only for large tables.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["gini_pass", "ratio_pass"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@njit(cache=True, nogil=True)
def _ratio(y, z, w, codes, n_groups, w_tot):  # type: ignore[no-untyped-def]
    n = y.shape[0]
    sums = np.zeros((n_groups, 4))
    for i in range(n):
        if y[i] < z[i]:
            g = codes[i]
            wi = w[i]
            gap = 1.0 - y[i] / z[i]
            sums[g, 0] += wi
            sums[g, 1] += wi * gap
            sums[g, 2] += wi * gap * gap
            sums[g, 3] += wi * math.log(z[i] / y[i])
    est = np.empty((n_groups, 4))
    for g in range(n_groups):
        for j in range(4):
            est[g, j] = sums[g, j] / w_tot[g]
    scores = np.empty((4, n))
    for i in range(n):
        g = codes[i]
        scale = w[i] / w_tot[g]
        f0 = f1 = f2 = f3 = 0.0
        if y[i] < z[i]:
            gap = 1.0 - y[i] / z[i]
            f0 = 1.0
            f1 = gap
            f2 = gap * gap
            f3 = math.log(z[i] / y[i])
        scores[0, i] = scale * (f0 - est[g, 0])
        scores[1, i] = scale * (f1 - est[g, 1])
        scores[2, i] = scale * (f2 - est[g, 2])
        scores[3, i] = scale * (f3 - est[g, 3])
    return est, scores


@njit(cache=True, nogil=True)
def _gini(y, w, codes, order, n_groups, w_tot):  # type: ignore[no-untyped-def]
    n = y.shape[0]
    r = np.zeros(n_groups)
    t = np.zeros(n_groups)
    b = np.zeros(n_groups)
    for k in range(n):
        i = order[k]
        g = codes[i]
        wi = w[i]
        wy = wi * y[i]
        r[g] += wi
        t[g] += wy
        b[g] += wy * (2.0 * r[g] - wi)
    gini = np.empty(n_groups)
    for g in range(n_groups):
        gini[g] = b[g] / (w_tot[g] * t[g]) - 1.0
    r[:] = 0.0
    s = np.zeros(n_groups)
    scores = np.empty(n)
    for k in range(n):
        i = order[k]
        g = codes[i]
        wi = w[i]
        yi = y[i]
        r[g] += wi
        s[g] += wi * yi
        nk = w_tot[g]
        tk = t[g]
        zk = (2.0 * yi * r[g] + 2.0 * (tk - s[g])) / (nk * tk) - (gini[g] + 1.0) * (
            1.0 / nk + yi / tk
        )
        scores[i] = wi * zk
    return gini, scores


def ratio_pass(
    y: FloatArray, z: FloatArray, w: FloatArray, codes: IntArray, n_groups: int, w_tot: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Estimates (groups × 4: FGT0, FGT1, FGT2, Watts) and scores (4 × rows)."""
    est, scores = _ratio(y, z, w, codes, n_groups, w_tot)
    return np.asarray(est, dtype=np.float64), np.asarray(scores, dtype=np.float64)


def gini_pass(
    y: FloatArray, w: FloatArray, codes: IntArray, order: IntArray, n_groups: int, w_tot: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Gini per group and its scores; ``order`` sorts the rows by income."""
    gini, scores = _gini(y, w, codes, order, n_groups, w_tot)
    return np.asarray(gini, dtype=np.float64), np.asarray(scores, dtype=np.float64)
