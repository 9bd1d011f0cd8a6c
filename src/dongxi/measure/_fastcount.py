"""A compiled single pass (numba) that builds the weighted count table in memory.

Used by the numpy fast path for large household-level tables: one loop over the rows packs the
0/1 indicators into a profile code, adds the cell key, and accumulates Σw, Σw² and n per cell.
Gives the same count table as the Ibis GROUP BY (tests compare them). This module imports numba,
so it is imported only when a table is large enough to need it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["count_bins", "profile_codes"]


@njit(cache=True, nogil=True)
def _bins(cols, key, shift, w, mask, use_mask, n_bins):  # type: ignore[no-untyped-def]
    n = key.shape[0]
    n_ind = len(cols)
    counts = np.zeros(n_bins, dtype=np.int64)
    sums = np.zeros(n_bins, dtype=np.float64)
    sums2 = np.zeros(n_bins, dtype=np.float64)
    for i in range(n):
        if use_mask and not mask[i]:
            continue
        c = key[i] << shift
        for j in range(n_ind):
            c |= np.int64(cols[j][i]) << j  # values are 0/1 (validated)
        counts[c] += 1
        wi = w[i]
        sums[c] += wi
        sums2[c] += wi * wi
    return counts, sums, sums2


@njit(cache=True, nogil=True)
def _codes(ind, key, radix_prof):  # type: ignore[no-untyped-def]
    n, n_ind = ind.shape
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        c = 0
        for j in range(n_ind):
            c |= (ind[i, j] != 0) << j
        out[i] = key[i] * radix_prof + c
    return out


def profile_codes(ind: npt.NDArray[np.int8], key: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``key · 2^J + profile`` for every row (``ind`` is rows × J)."""
    return np.asarray(_codes(ind, key, 1 << ind.shape[1]), dtype=np.int64)


def count_bins(
    cols: list[npt.NDArray[np.int8]],
    key: npt.NDArray[np.int64],
    w: npt.NDArray[np.float64],
    mask: npt.NDArray[np.bool_],
    n_bins: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Counts, Σw and Σw² per bin ``key · 2^J + profile`` from one int8 column per indicator."""
    use_mask = not bool(mask.all())
    views = []
    for c in cols:
        v = np.ascontiguousarray(c, dtype=np.int8).view()
        v.flags.writeable = False  # one array type for all, so numba sees a homogeneous tuple
        views.append(v)
    tup = tuple(views)
    out = _bins(tup, key, len(cols), w, mask, use_mask, n_bins)
    return out[0], out[1], out[2]
