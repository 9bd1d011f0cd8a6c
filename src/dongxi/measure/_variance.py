"""Design-based variance for linearised estimators (Taylor linearisation).

The estimators of dongxi are smooth functions of weighted totals. Their variance is estimated the
way R's ``survey`` package does with its defaults: each estimator is replaced by its linearised
(influence) scores ``u_i`` (already multiplied by the unit's weight), the scores are summed within
primary sampling units, and the PSU totals are compared within strata under the with-replacement
approximation::

    V = Σ_h  n_h / (n_h − 1) · Σ_i (U_hi − Ū_h)(U_hi − Ū_h)ᵀ

where ``U_hi`` is the vector of PSU totals of the scores of PSU ``i`` in stratum ``h`` and ``n_h``
the number of PSUs in the stratum. Domains (subgroups, rounds) are handled by the caller giving zero
scores to units outside the domain, so that every domain uses the full design. Degrees of freedom
for intervals are the number of PSUs minus the number of strata (``survey::degf``).

This module works on PSU-level totals, so callers may aggregate in a database first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse, stats

from dongxi.errors import InputError

__all__ = [
    "LonelyPSU",
    "VarianceDesign",
    "design_covariance",
    "logit_interval",
    "psu_sums",
    "wald_interval",
]

LonelyPSU = Literal["fail", "certainty", "adjust"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class VarianceDesign:
    """A sampling design resolved to codes: what the variance of an estimator needs.

    (The spec's :class:`dongxi.measure.Design` names the columns; this is what they resolve to on
    one table.) ``psu`` maps each row of the table to its variance row: its PSU, or, when the
    design has no PSU column (``units_are_psus``), the unit itself (income: one row per unit) or
    its stratum (the AF count table, which carries ``Σw²`` per cell instead of unit scores).
    ``psu_stratum`` gives the stratum of each variance row; ``n_h`` the number of PSUs (or units)
    in each stratum of the full design.
    """

    psu: IntArray
    psu_stratum: IntArray
    n_h: FloatArray
    lonely_psu: LonelyPSU
    units_are_psus: bool

    @property
    def n_psu(self) -> int:
        """Number of variance rows."""
        return int(self.psu_stratum.shape[0])

    @property
    def n_strata(self) -> int:
        return int(self.n_h.shape[0])

    @property
    def n_total(self) -> float:
        """Number of PSUs (or units) of the full design."""
        return float(self.n_h.sum())

    @property
    def df(self) -> float:
        """Degrees of freedom: PSUs − strata (``survey::degf``)."""
        return self.n_total - float(self.n_strata)

    @cached_property
    def stratum_matrix(self) -> Any:
        """Sparse (strata × variance rows) 0/1 matrix that sums variance rows within strata."""
        ones = np.ones(self.n_psu, dtype=np.float64)
        cols = np.arange(self.n_psu, dtype=np.int64)
        return sparse.csr_matrix(
            (ones, (self.psu_stratum, cols)), shape=(self.n_strata, self.n_psu)
        )

    def permuted(self, perm: IntArray) -> VarianceDesign:
        """The same design for the rows taken in the order ``perm``.

        When units are their own PSUs (one row per unit), the variance rows are relabelled.
        """
        if self.units_are_psus:
            psu = np.arange(perm.size, dtype=np.int64)
            return VarianceDesign(psu, self.psu_stratum[perm], self.n_h, self.lonely_psu, True)
        return VarianceDesign(self.psu[perm], self.psu_stratum, self.n_h, self.lonely_psu, False)


def psu_sums(scores: npt.ArrayLike, psu_codes: npt.ArrayLike, n_psu: int) -> FloatArray:
    """Sum unit-level scores (n × m, or n) within PSUs coded ``0 … n_psu − 1``."""
    u = np.asarray(scores, dtype=np.float64)
    codes = np.asarray(psu_codes, dtype=np.int64)
    if u.ndim == 1:
        return np.bincount(codes, weights=u, minlength=n_psu).astype(np.float64)
    out = np.zeros((n_psu, u.shape[1]), dtype=np.float64)
    np.add.at(out, codes, u)
    return out


def design_covariance(
    psu_totals: npt.ArrayLike,
    psu_stratum: npt.ArrayLike,
    *,
    lonely_psu: LonelyPSU = "fail",
) -> FloatArray:
    """Covariance matrix of estimators from their PSU totals of linearised scores.

    ``psu_totals`` has one row per PSU (and one column per estimator; a 1-D array is one
    estimator), ``psu_stratum`` the stratum code of each PSU. Returns an ``m × m`` matrix (or a
    1 × 1 matrix for one estimator).

    ``lonely_psu`` says what to do with a stratum holding a single PSU: ``fail`` (the default of
    R's ``survey``), ``certainty`` (the stratum adds no variance) or ``adjust`` (its PSU is centred
    at the mean of all PSUs instead of its stratum's).
    """
    totals = np.asarray(psu_totals, dtype=np.float64)
    if totals.ndim == 1:
        totals = totals[:, None]
    strata = np.asarray(psu_stratum)
    if strata.shape[0] != totals.shape[0]:
        raise InputError(
            f"Got {totals.shape[0]} PSU totals but {strata.shape[0]} stratum codes.",
            rule="design",
        )
    codes, inverse, counts = np.unique(strata, return_inverse=True, return_counts=True)
    n_h = counts[inverse].astype(np.float64)
    sums = np.zeros((codes.shape[0], totals.shape[1]), dtype=np.float64)
    np.add.at(sums, inverse, totals)
    centred = totals - sums[inverse] / n_h[:, None]
    lonely = n_h == 1
    if lonely.any():
        if lonely_psu == "fail":
            bad = codes[counts == 1][:5]
            raise InputError(
                "A stratum has only one PSU, so its variance cannot be estimated.",
                column="stratum",
                value=", ".join(str(b) for b in bad),
                rule="lonely_psu",
                fix="Merge the stratum with a similar one, or choose lonely_psu = 'certainty' "
                "or 'adjust' in the survey design.",
            )
        if lonely_psu == "certainty":
            centred[lonely] = 0.0
        else:  # adjust
            centred[lonely] = totals[lonely] - totals.mean(axis=0)
    factor = np.where(lonely, 1.0, n_h / np.maximum(n_h - 1.0, 1.0))
    weighted = centred * factor[:, None]
    return np.asarray(weighted.T @ centred, dtype=np.float64)


def wald_interval(
    estimate: npt.ArrayLike, se: npt.ArrayLike, df: float, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Symmetric Wald interval with a t distribution of ``df`` degrees of freedom."""
    est = np.asarray(estimate, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    q = (
        float(stats.t.ppf(0.5 + level / 2.0, df))
        if np.isfinite(df)
        else float(stats.norm.ppf(0.5 + level / 2.0))
    )
    return est - q * s, est + q * s


def logit_interval(
    estimate: npt.ArrayLike, se: npt.ArrayLike, df: float, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wald interval on the logit scale, back-transformed (for proportions in (0, 1)).

    The standard error on the logit scale is ``se / (p (1 − p))`` (delta method). Where the
    estimate is 0 or 1 the interval collapses to the estimate.
    """
    p = np.asarray(estimate, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    q = (
        float(stats.t.ppf(0.5 + level / 2.0, df))
        if np.isfinite(df)
        else float(stats.norm.ppf(0.5 + level / 2.0))
    )
    inside = (p > 0.0) & (p < 1.0)
    safe = np.where(inside, p, 0.5)
    centre = np.log(safe / (1.0 - safe))
    half = q * s / (safe * (1.0 - safe))
    low = np.where(inside, 1.0 / (1.0 + np.exp(-(centre - half))), p)
    high = np.where(inside, 1.0 / (1.0 + np.exp(-(centre + half))), p)
    return low, high
