"""Income poverty: FGT(0, 1, 2), Watts and Gini with design-based standard errors.

Every measure is a smooth function of weighted totals over the rows of a domain (the whole sample,
or one group of a ``by`` column). Its variance comes from its linearised scores (already multiplied
by the row's weight, zero outside the domain), summed within PSUs and compared within strata by the
shared kernel :mod:`dongxi.measure._variance` — domains use the full design.

- FGT(α) and Watts are ratios ``R = Σ w f / Σ w``; the score of row *i* is ``w_i (f_i − R) / Σ w``.
- Gini: ``G = Σ_k w_k y_k (2 r_k − w_k) / (N T) − 1`` over rows sorted by income, with ``r_k`` the
  cumulative weight, ``N = Σ w`` and ``T = Σ w y``; this equals the mean-absolute-difference form
  ``Σ_i Σ_j w_i w_j |y_i − y_j| / (2 N T)`` exactly, ties included. Its score is the derivative of
  the estimator with respect to ``w_k`` (the linearisation of Deville 1999 that Langel & Tillé 2013
  show to be correct, as in R's ``convey::svygini``)::

      z_k = [2 y_k r_k + 2 (T − S_k)] / (N T) − (G + 1) (1 / N + y_k / T)

  with ``S_k`` the cumulative ``w y`` up to and including row *k*; ``u_k = w_k z_k``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from dongxi.errors import InputError
from dongxi.measure._variance import (
    LonelyPSU,
    VarianceDesign,
    design_covariance,
    logit_interval,
    wald_interval,
)

__all__ = ["INCOME_MEASURES", "OUTPUT_COLUMNS", "income_poverty"]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: The measures, in output order.
INCOME_MEASURES: Final = ("FGT0", "FGT1", "FGT2", "Watts", "Gini")
#: Measures bounded in [0, 1]: their intervals are logit-scale (as mpitbR does for M0, H, A).
_LOGIT: Final = frozenset({"FGT0", "FGT1", "FGT2", "Gini"})
OUTPUT_COLUMNS: Final = (
    "by",
    "group",
    "measure",
    "indicator",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "n",
)
#: Above this many PSU-total cells the domain variances are computed group by group in sparse form
#: (the same formula as ``design_covariance``, without the dense PSU × estimator matrix).
_DENSE_LIMIT = 2_000_000
#: Up to this many (PSU, group) cells the sparse path counts every cell instead of finding the
#: cells that occur (a sort).
_CELL_LIMIT = 20_000_000
_SHOW_ROWS = 5
#: Tables at least this long use the compiled passes of ``_income_fast`` (numba).
_COMPILED_MIN_ROWS = 2_000_000


def _rows(mask: npt.NDArray[np.bool_]) -> str:
    """Spreadsheet row numbers (header = row 1) of the first few rows where ``mask`` holds."""
    where = np.flatnonzero(mask)
    shown = ", ".join(str(int(i) + 2) for i in where[:_SHOW_ROWS])
    more = f" and {where.size - _SHOW_ROWS} more" if where.size > _SHOW_ROWS else ""
    return shown + more


def _column(data: pd.DataFrame, name: str, role: str) -> pd.Series:
    if name not in data.columns:
        available = ", ".join(map(str, list(data.columns)[:20]))
        raise InputError(
            f"The {role} column {name!r} is not in the data.",
            column=name,
            rule="missing_column",
            fix=f"Name one of the columns: {available}.",
        )
    return data[name]


def _numbers(data: pd.DataFrame, name: str, role: str) -> FloatArray:
    series = _column(data, name, role)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"The {role} column holds {int(bad.sum())} missing or non-numeric value(s), "
            f"in rows {_rows(bad)}.",
            row=first + 2,
            column=name,
            value=None if pd.isna(series.iloc[first]) else str(series.iloc[first]),
            rule="number",
            fix=f"Give a number in every row of {name!r}, or drop the rows without one first.",
        )
    return values


def _codes(data: pd.DataFrame, name: str, role: str) -> tuple[IntArray, list[str]]:
    """Integer codes (−1 where missing) and the sorted labels of a grouping column."""
    series = _column(data, name, role)
    try:
        codes, uniques = pd.factorize(series, sort=True)
    except TypeError:  # values of mixed types cannot be sorted: keep the order of appearance
        codes, uniques = pd.factorize(series, sort=False)
    return codes.astype(np.int64), [str(u) for u in uniques]


def _design(
    data: pd.DataFrame, strata: str | None, psu: str | None, lonely_psu: LonelyPSU
) -> VarianceDesign:
    n = len(data)
    if strata is None:
        stratum_codes = np.zeros(n, dtype=np.int64)
    else:
        stratum_codes, _ = _codes(data, strata, "strata")
        if (stratum_codes < 0).any():
            bad = stratum_codes < 0
            raise InputError(
                f"The stratum is missing in rows {_rows(bad)}.",
                row=int(np.flatnonzero(bad)[0]) + 2,
                column=strata,
                rule="design",
                fix="Give every row its stratum.",
            )
    if psu is None:
        psu_codes = np.arange(n, dtype=np.int64)
        psu_stratum = stratum_codes
        n_psu = n
    else:
        psu_codes, labels = _codes(data, psu, "PSU")
        if (psu_codes < 0).any():
            bad = psu_codes < 0
            raise InputError(
                f"The PSU is missing in rows {_rows(bad)}.",
                row=int(np.flatnonzero(bad)[0]) + 2,
                column=psu,
                rule="design",
                fix="Give every row its PSU.",
            )
        n_psu = len(labels)
        psu_stratum = np.zeros(n_psu, dtype=np.int64)
        psu_stratum[psu_codes] = stratum_codes
        if (psu_stratum[psu_codes] != stratum_codes).any():
            _, first_row = np.unique(psu_codes, return_index=True)
            clash = stratum_codes[first_row][psu_codes] != stratum_codes
            first = int(np.flatnonzero(clash)[0])
            raise InputError(
                "A PSU appears in two strata; PSUs must be nested in strata.",
                row=first + 2,
                column=psu,
                value=labels[int(psu_codes[first])],
                rule="psu_in_two_strata",
                fix="Give PSUs labels that are unique across strata (e.g. stratum + PSU), or "
                "correct the stratum of the rows of this PSU.",
            )
    counts = np.bincount(psu_stratum)  # factorised codes: every stratum 0 … max occurs
    if lonely_psu == "fail" and (counts == 1).any():
        # the kernel raises the design error with the lonely strata named
        design_covariance(np.zeros(n_psu), psu_stratum, lonely_psu="fail")
    n_h = counts.astype(np.float64)
    return VarianceDesign(psu_codes, psu_stratum, n_h, lonely_psu, psu is None)


def _domain_variances(
    scores: Sequence[FloatArray], codes: IntArray, n_groups: int, d: VarianceDesign
) -> FloatArray:
    """Variances (groups × estimators) from row scores, each row scoring for its own group only.

    ``codes`` gives each row's group (0 … n_groups − 1); ``scores`` holds one score vector per
    estimator. Small problems go through the shared kernel (``design_covariance`` of the PSU ×
    (group, estimator) matrix of score totals, keeping its diagonal); large ones through the same
    formula in sparse form, per (group, stratum): ``Σ_h n_h/(n_h − 1) (Σ U² − (Σ U)² / n_h)``, with
    PSUs that hold no row of the group contributing zero totals.
    """
    m = len(scores)
    if d.n_psu * n_groups * m <= _DENSE_LIMIT:
        cell = d.psu * n_groups + codes
        size = d.n_psu * n_groups
        totals = np.stack(
            [np.bincount(cell, weights=u, minlength=size).astype(np.float64) for u in scores],
            axis=1,
        )
        matrix = totals.reshape(d.n_psu, n_groups * m)  # column g·m + j
        cov = design_covariance(matrix, d.psu_stratum, lonely_psu=d.lonely_psu)
        return np.asarray(np.diag(cov), dtype=np.float64).reshape(n_groups, m)
    sums: list[FloatArray]
    if d.units_are_psus:  # the PSU totals are the row scores themselves
        cell_group, cell_stratum = codes, d.psu_stratum
        sums = list(scores)
    elif d.n_psu * n_groups <= _CELL_LIMIT:  # every (PSU, group) cell, most of them zero
        cell = d.psu * n_groups + codes
        size = d.n_psu * n_groups
        cell_group = np.tile(np.arange(n_groups, dtype=np.int64), d.n_psu)
        cell_stratum = np.repeat(d.psu_stratum, n_groups)
        sums = [np.bincount(cell, weights=u, minlength=size).astype(np.float64) for u in scores]
    else:  # only the (PSU, group) cells that occur
        keys, inverse = np.unique(codes * d.n_psu + d.psu, return_inverse=True)
        cell_group, cell_stratum = keys // d.n_psu, d.psu_stratum[keys % d.n_psu]
        sums = [np.bincount(inverse, weights=u).astype(np.float64) for u in scores]
    n_h = d.n_h
    lonely = n_h == 1
    factor = np.where(lonely, 0.0, n_h / np.maximum(n_h - 1.0, 1.0))
    index = cell_group * d.n_strata + cell_stratum
    size = n_groups * d.n_strata
    out = np.empty((n_groups, m), dtype=np.float64)
    for j, totals_j in enumerate(sums):
        s = np.bincount(index, weights=totals_j, minlength=size).reshape(n_groups, d.n_strata)
        ss = np.bincount(index, weights=totals_j**2, minlength=size).reshape(n_groups, d.n_strata)
        var = ((ss - s**2 / n_h) * factor).sum(axis=1)
        if lonely.any() and d.lonely_psu == "adjust":
            mean = s.sum(axis=1) / d.n_psu  # centre of all PSUs, per group
            s_l = s[:, lonely].sum(axis=1)
            ss_l = ss[:, lonely].sum(axis=1)
            var = var + ss_l - 2.0 * mean * s_l + float(lonely.sum()) * mean**2
        out[:, j] = var
    return out


def _ratio_scores(
    f: FloatArray, w: FloatArray, codes: IntArray, n_groups: int, w_tot: FloatArray
) -> tuple[FloatArray, FloatArray]:
    est = np.bincount(codes, weights=w * f, minlength=n_groups) / w_tot
    scores = w * (f - est[codes]) / w_tot[codes]
    return est, scores


def _gini_scores(
    y: FloatArray,
    w: FloatArray,
    codes: IntArray,
    n_groups: int,
    order_y: IntArray,
    w_tot: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    # rows sorted by group, then income (stable sort of the income order by group code)
    if n_groups == 1:
        order = order_y
    else:  # 16-bit codes sort by radix
        small = codes[order_y].astype(np.int16 if n_groups < 2**15 else np.int64)
        order = order_y[np.argsort(small, kind="stable")]
    ys, ws, cs = y[order], w[order], codes[order]
    wy = ws * ys
    cum_w = np.cumsum(ws)
    cum_wy = np.cumsum(wy)
    starts = np.searchsorted(cs, np.arange(n_groups), side="left")
    before_w = np.concatenate(([0.0], cum_w))[starts]
    before_wy = np.concatenate(([0.0], cum_wy))[starts]
    r = cum_w - before_w[cs]
    s = cum_wy - before_wy[cs]
    t_tot = np.bincount(cs, weights=wy, minlength=n_groups)
    b = np.bincount(cs, weights=wy * (2.0 * r - ws), minlength=n_groups)
    n_k, t_k = w_tot[cs], t_tot[cs]
    gini = b / (w_tot * t_tot) - 1.0
    z = (2.0 * ys * r + 2.0 * (t_k - s)) / (n_k * t_k) - (gini[cs] + 1.0) * (1.0 / n_k + ys / t_k)
    scores = np.empty_like(y)
    scores[order] = ws * z
    return gini, scores


def income_poverty(
    data: pd.DataFrame,
    *,
    income: str,
    line: float | str,
    weight: str | None = None,
    strata: str | None = None,
    psu: str | None = None,
    by: Sequence[str] = (),
    lonely_psu: LonelyPSU = "fail",
    level: float = 0.95,
    floor: float | None = None,
) -> pd.DataFrame:
    """FGT0, FGT1, FGT2, Watts and Gini of ``income`` with standard errors and intervals.

    One row of ``data`` per unit of analysis (people; or households with ``weight`` = sampling
    weight × household size). ``line`` is the poverty line: a number, or the name of a column
    holding each row's line (lines differ by year or province). Poor means ``income < line``.

    Incomes must be positive (Watts takes ``ln(line / income)``); with ``floor`` (> 0) incomes below
    it are raised to it for every measure instead. ``weight`` None: every row weighs 1; ``psu``
    None: every row is its own PSU; ``strata`` None: one stratum. Each ``by`` column gives one
    breakdown (its groups are domains of the full design; rows with no value are left out of that
    breakdown only). Returns one row per (breakdown, group, measure) with columns ``by, group,
    measure, indicator, estimate, se, ci_low, ci_high, n`` (``by`` and ``group`` empty for the whole
    sample; ``indicator`` empty; ``n`` the number of rows). Intervals use a t distribution with
    PSUs − strata degrees of freedom, on the logit scale for FGT0/1/2 and Gini (bounded in [0, 1])
    and symmetric for Watts.
    """
    if not 0.0 < level < 1.0:
        raise InputError(
            "The 'level' parameter of income_poverty must be a float in (0, 1).",
            value=level,
            rule="level",
            fix="Use for example level=0.95.",
        )
    if lonely_psu not in ("fail", "certainty", "adjust"):
        raise InputError(
            "The 'lonely_psu' parameter must be 'fail', 'certainty' or 'adjust'.",
            value=lonely_psu,
            rule="lonely_psu",
            fix="Choose one of 'fail', 'certainty', 'adjust'.",
        )
    if isinstance(by, str):
        by = (by,)
    if len(data) == 0:
        raise InputError(
            "The data have no rows.", rule="empty", fix="Pass a table with at least one row."
        )
    y = _numbers(data, income, "income")
    if isinstance(line, str):
        z = _numbers(data, line, "poverty-line")
        bad_line = z <= 0
        if bad_line.any():
            raise InputError(
                f"The poverty line must be positive; it is not in rows {_rows(bad_line)}.",
                row=int(np.flatnonzero(bad_line)[0]) + 2,
                column=line,
                value=float(z[bad_line][0]),
                rule="positive",
                fix="Give a line above 0 in every row.",
            )
    else:
        if not (isinstance(line, int | float) and math.isfinite(line) and line > 0):
            raise InputError(
                "The poverty line must be a positive number or a column name.",
                value=line,
                rule="positive",
                fix="Pass line=4000.0 or the name of a column holding each row's line.",
            )
        z = np.full(y.shape, float(line))
    if weight is None:
        w = np.ones_like(y)
    else:
        w = _numbers(data, weight, "weight")
        bad_w = w <= 0
        if bad_w.any():
            raise InputError(
                f"Weights must be positive; {int(bad_w.sum())} are not, in rows {_rows(bad_w)}.",
                row=int(np.flatnonzero(bad_w)[0]) + 2,
                column=weight,
                value=float(w[bad_w][0]),
                rule="weight_positive",
                fix="Correct the weights, or drop rows that are out of the sample.",
            )
    if floor is not None:
        if not (math.isfinite(floor) and floor > 0):
            raise InputError(
                "The 'floor' parameter must be a positive number.",
                value=floor,
                rule="floor",
                fix="Use for example floor=1.0 (one yuan).",
            )
        y = np.maximum(y, floor)
    else:
        low = y <= 0
        if low.any():
            raise InputError(
                f"{int(low.sum())} income(s) are zero or negative (rows {_rows(low)}); the "
                "Watts index takes ln(line / income), which is undefined there.",
                row=int(np.flatnonzero(low)[0]) + 2,
                column=income,
                rule="income_positive",
                fix="Correct the incomes, or pass floor=1.0 to raise incomes below 1 yuan to "
                "1 yuan for every measure (documented in docs/income-poverty.md).",
            )
    design = _design(data, strata, psu, lonely_psu)

    partitions: list[tuple[str, IntArray, list[str]]] = [
        ("", np.zeros(y.size, dtype=np.int64), [""])
    ]
    for column in by:
        codes, labels = _codes(data, column, "by")
        partitions.append((column, codes, labels))

    # From here on the rows are taken in income order: the Gini needs it, and every later pass
    # then reads memory in sequence (the estimates do not depend on the order of the rows).
    perm = np.argsort(y)  # ties need no order: the Gini and its scores are tie-invariant
    y, w, z = y[perm], w[perm], z[perm]
    design = design.permuted(perm)
    partitions = [(name, codes[perm], labels) for name, codes, labels in partitions]
    order_y = np.arange(y.size, dtype=np.int64)
    del perm

    compiled = y.size >= _COMPILED_MIN_ROWS
    values: dict[str, FloatArray] = {}
    if not compiled:
        poor = y < z
        gap = np.where(poor, 1.0 - y / z, 0.0)
        values = {
            "FGT0": poor.astype(np.float64),
            "FGT1": gap,
            "FGT2": gap * gap,
            "Watts": np.where(poor, np.log(z / y), 0.0),
        }

    n_measures = len(INCOME_MEASURES)
    columns: dict[str, list[npt.NDArray[np.generic]]] = {c: [] for c in OUTPUT_COLUMNS}
    for name, codes, labels in partitions:
        n_groups = len(labels)
        missing = codes < 0
        if missing.any():
            # rows without a group go to an extra group that is not reported
            codes = np.where(missing, n_groups, codes)
            n_all = n_groups + 1
        else:
            n_all = n_groups
        w_tot = np.bincount(codes, weights=w, minlength=n_all).astype(np.float64)
        count = np.bincount(codes, minlength=n_all)[:n_groups].astype(np.int64)
        est_m = np.empty((n_groups, n_measures))
        all_scores: list[FloatArray] = []
        if compiled:
            from dongxi.measure._income_fast import gini_pass, ratio_pass

            est4, scores4 = ratio_pass(y, z, w, codes, n_all, w_tot)
            gini, gini_scores = gini_pass(y, w, codes, order_y, n_all, w_tot)
            est_m[:, :4] = est4[:n_groups]
            est_m[:, 4] = gini[:n_groups]
            all_scores = [scores4[0], scores4[1], scores4[2], scores4[3], gini_scores]
        else:
            for j, measure in enumerate(INCOME_MEASURES):
                if measure == "Gini":
                    est, scores = _gini_scores(y, w, codes, n_all, order_y, w_tot)
                else:
                    est, scores = _ratio_scores(values[measure], w, codes, n_all, w_tot)
                est_m[:, j] = est[:n_groups]
                all_scores.append(scores)
        var_m = _domain_variances(all_scores, codes, n_all, design)[:n_groups]
        del all_scores
        se_m = np.sqrt(np.maximum(var_m, 0.0))
        low_m = np.empty((n_groups, n_measures))
        high_m = np.empty((n_groups, n_measures))
        for j, measure in enumerate(INCOME_MEASURES):
            interval = logit_interval if measure in _LOGIT else wald_interval
            low_m[:, j], high_m[:, j] = interval(est_m[:, j], se_m[:, j], design.df, level)
        size = n_groups * n_measures
        columns["by"].append(np.full(size, name, dtype=object))
        columns["group"].append(np.repeat(np.array(labels, dtype=object), n_measures))
        columns["measure"].append(np.tile(np.array(INCOME_MEASURES, dtype=object), n_groups))
        columns["indicator"].append(np.full(size, "", dtype=object))
        columns["estimate"].append(est_m.ravel())
        columns["se"].append(se_m.ravel())
        columns["ci_low"].append(low_m.ravel())
        columns["ci_high"].append(high_m.ravel())
        columns["n"].append(np.repeat(count, n_measures))
    log.debug("income poverty: %d rows, %d PSUs, %d breakdowns", y.size, design.n_psu, len(by))
    return pd.DataFrame({c: np.concatenate(parts) for c, parts in columns.items()})
