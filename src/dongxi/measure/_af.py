"""Alkire–Foster measures, standard errors and intervals from the weighted count table.

Every AF measure, for any cutoff and weights, is a ratio of weighted totals of functions of the
deprivation profile, so the count table ``(design cell, group, profile) → Σw, Σw², n`` holds all the
information. Point estimates are products of a sparse (group × profile) matrix with a small
(profile × estimator) matrix; standard errors come from the PSU totals of the linearised scores
``z_i = w_i (y_i − R x_i) / X`` of each ratio ``R = Y / X`` (domain estimation: units outside the
domain score zero, so every domain uses the full design), combined within strata under the
with-replacement approximation exactly as :func:`dongxi.measure._variance.design_covariance` does.
When the design has no PSU column every unit is its own PSU, and the sums of squared scores come
from ``Σw²`` per cell, which gives the same numbers without unit-level data.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from dongxi.errors import InputError
from dongxi.measure._income import OUTPUT_COLUMNS as INCOME_COLUMNS
from dongxi.measure._label import label as _label
from dongxi.measure._spec import Cutoff
from dongxi.measure._variance import VarianceDesign, logit_interval, wald_interval

__all__ = ["OUTPUT_COLUMNS", "Cells", "estimate", "make_design"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: The long table: the spec and cutoff, then the columns income poverty writes too.
OUTPUT_COLUMNS = ["spec", "k", *INCOME_COLUMNS]

#: Estimates whose interval is built on the logit scale (proportions), as mpitbR does.
_LOGIT = frozenset({"M0", "H", "A", "hd", "hdk", "popsh"})


@dataclass(frozen=True)
class Cells:
    """The weighted count table: one row per (design cell, subgroup values, profile)."""

    keys: pd.DataFrame
    profiles: npt.NDArray[np.int8]
    w: FloatArray
    w2: FloatArray
    n: FloatArray
    design: VarianceDesign


def _group_codes(keys: pd.DataFrame, cols: Sequence[str]) -> tuple[IntArray, list[str]]:
    if not cols:
        return np.zeros(len(keys), dtype=np.int64), [""]
    frame = keys[list(cols)]
    index = pd.MultiIndex.from_frame(frame)
    codes, uniques = index.factorize(sort=True)
    labels = [",".join(_label(v) for v in tup) for tup in uniques]
    return np.asarray(codes, dtype=np.int64), labels


@dataclass(frozen=True)
class _Estimators:
    y: FloatArray  # profiles × m
    x: FloatArray  # profiles × m
    measure: list[str]
    k: list[float]
    indicator: list[str]


def _estimators(
    profiles: npt.NDArray[np.int8],
    names: Sequence[str],
    weights: Sequence[Fraction],
    cutoffs: Sequence[Cutoff],
) -> _Estimators:
    """The (y, x) of every ratio estimator, per profile; exact cutoffs on integer scores."""
    denom = math.lcm(*(w.denominator for w in weights))
    ints = np.array([int(w * denom) for w in weights], dtype=object)
    numer = profiles.astype(object) @ ints if profiles.shape[0] else np.zeros(0, dtype=object)
    score = np.array([float(Fraction(int(v), denom)) for v in numer], dtype=np.float64)
    g = profiles.astype(np.float64)
    q = profiles.shape[0]
    ones = np.ones(q)
    ys: list[FloatArray] = []
    xs: list[FloatArray] = []
    measure: list[str] = []
    kk: list[float] = []
    ind: list[str] = []
    for c in cutoffs:
        poor = np.array(
            [int(v) * c.value.denominator >= c.value.numerator * denom for v in numer], dtype=bool
        ).astype(np.float64)
        cens = score * poor
        for name, y, x in (("H", poor, ones), ("M0", cens, ones), ("A", cens, poor)):
            ys.append(y)
            xs.append(x)
            measure.append(name)
            kk.append(c.percent)
            ind.append("")
        for j, nm in enumerate(names):
            ys.append(g[:, j] * poor)
            xs.append(ones)
            measure.append("hdk")
            kk.append(c.percent)
            ind.append(nm)
    for j, nm in enumerate(names):
        ys.append(g[:, j])
        xs.append(ones)
        measure.append("hd")
        kk.append(float("nan"))
        ind.append(nm)
    return _Estimators(
        y=np.column_stack(ys) if ys else np.zeros((q, 0)),
        x=np.column_stack(xs) if xs else np.zeros((q, 0)),
        measure=measure,
        k=kk,
        indicator=ind,
    )


def _stratum_sums(values: FloatArray, design: VarianceDesign) -> FloatArray:
    """Sum variance rows (PSUs) within strata; in unit mode rows already are strata."""
    if design.units_are_psus:
        return values
    return np.asarray(design.stratum_matrix @ values, dtype=np.float64)


def _combine(
    s1a: FloatArray,
    s1b: FloatArray,
    c12: FloatArray,
    design: VarianceDesign,
) -> FloatArray:
    """Σ_h n_h/(n_h−1) (C_h − S_ah S_bh / n_h), with the lonely-PSU policy (kernel semantics)."""
    n_h = design.n_h[:, None]
    lonely = (design.n_h == 1)[:, None]
    f = np.where(lonely, 0.0, n_h / np.maximum(n_h - 1.0, 1.0))
    out: FloatArray = (f * (c12 - s1a * s1b / n_h)).sum(axis=0)
    if design.lonely_psu == "adjust" and lonely.any():
        ua = s1a.sum(axis=0) / design.n_total
        ub = s1b.sum(axis=0) / design.n_total
        lon = lonely[:, 0]
        out = out + (
            c12[lon].sum(axis=0)
            - s1a[lon].sum(axis=0) * ub
            - s1b[lon].sum(axis=0) * ua
            + lon.sum() * ua * ub
        )
    return out


@dataclass
class _GroupScores:
    s1: FloatArray  # strata × m
    s2: FloatArray  # strata × m  (Σ of squared PSU totals, or Σ z² in unit mode)
    u: FloatArray | None  # PSU totals (rows × m), PSU mode only


def _group_scores(
    cells: Cells,
    idx: IntArray,
    prof: IntArray,
    n_prof: int,
    d: FloatArray,
    x_tot: FloatArray,
    keep_u: bool,
) -> _GroupScores:
    design = cells.design
    rows = design.psu[idx]
    a = sparse.csr_matrix((cells.w[idx], (rows, prof[idx])), shape=(design.n_psu, n_prof))
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_x = np.where(x_tot != 0, 1.0 / np.where(x_tot != 0, x_tot, 1.0), 0.0)
    u = np.asarray(a @ d) * inv_x
    if not design.units_are_psus:
        s1 = _stratum_sums(u, design)
        s2 = _stratum_sums(u * u, design)
        return _GroupScores(s1=s1, s2=s2, u=u if keep_u else None)
    b = sparse.csr_matrix((cells.w2[idx], (rows, prof[idx])), shape=(design.n_psu, n_prof))
    s2 = np.asarray(b @ (d * d)) * inv_x * inv_x
    return _GroupScores(s1=u, s2=s2, u=None)


def _unique_profiles(
    profiles: npt.NDArray[np.int8],
) -> tuple[npt.NDArray[np.int8], IntArray]:
    """Distinct deprivation profiles and the profile index of each cell."""
    n_ind = profiles.shape[1]
    if n_ind <= 62:
        bits = np.left_shift(np.int64(1), np.arange(n_ind, dtype=np.int64))
        code = profiles.astype(np.int64) @ bits
        ucode, inv = np.unique(code, return_inverse=True)
        uprof = ((ucode[:, None] >> np.arange(n_ind, dtype=np.int64)) & 1).astype(np.int8)
        return uprof, np.asarray(inv, dtype=np.int64).reshape(-1)
    uprof, inv = np.unique(profiles, axis=0, return_inverse=True)
    return np.asarray(uprof, dtype=np.int8), np.asarray(inv, dtype=np.int64).reshape(-1)


def estimate(
    cells: Cells,
    *,
    spec_name: str,
    names: Sequence[str],
    weights: Sequence[Fraction],
    cutoffs: Sequence[Cutoff],
    by_sets: Sequence[tuple[str, ...]],
    rounds: str | None = None,
    years: dict[Any, float] | None = None,
    se: bool = True,
    level: float = 0.95,
    change_interval: str = "normal",
) -> pd.DataFrame:
    """Every AF measure for every cutoff and every subgroup of ``by_sets``, as a tidy table.

    ``change_interval``: ``"normal"`` (what mpitbR reports for changes over time: ``confint`` of
    a ``svycontrast``, standard normal quantile) or ``"t"`` (t with the design's degrees of
    freedom, as the levels' intervals).
    """
    uprof, prof = _unique_profiles(cells.profiles)
    n_prof = uprof.shape[0]
    est = _estimators(uprof, names, weights, cutoffs)
    m = len(est.measure)
    wj = {nm: float(w) for nm, w in zip(names, weights, strict=True)}
    df = cells.design.df
    out: list[pd.DataFrame] = []
    change_inputs: dict[tuple[str, ...], Any] = {}
    for cols in by_sets:
        codes, labels = _group_codes(cells.keys, cols)
        n_groups = len(labels)
        t = sparse.csr_matrix((cells.w, (codes, prof)), shape=(n_groups, n_prof))
        y_tot = np.asarray(t @ est.y)
        x_tot = np.asarray(t @ est.x)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(x_tot != 0, y_tot / np.where(x_tot != 0, x_tot, 1.0), np.nan)
        n_units = np.bincount(codes, weights=cells.n, minlength=n_groups).astype(np.float64)
        var = np.full((n_groups, m), np.nan)
        keep = rounds is not None and rounds in cols
        scores: list[_GroupScores | None] = [None] * n_groups
        if se:
            order = np.argsort(codes, kind="stable")
            bounds = np.searchsorted(codes[order], np.arange(n_groups + 1))
            for gi in range(n_groups):
                idx = order[bounds[gi] : bounds[gi + 1]]
                d = est.y - np.nan_to_num(r[gi])[None, :] * est.x
                gs = _group_scores(cells, idx, prof, n_prof, d, x_tot[gi], keep)
                var[gi] = _combine(gs.s1, gs.s1, gs.s2, cells.design)
                var[gi][~np.isfinite(r[gi])] = np.nan
                if keep:
                    scores[gi] = gs
        sd = np.sqrt(np.maximum(var, 0.0))
        by_label = ",".join(cols)
        frame = _rows(spec_name, by_label, labels, est, r, sd, n_units, df, level)
        out.append(frame)
        out.append(_contributions(spec_name, by_label, labels, est, r, n_units, wj))
        if keep and rounds is not None:
            change_inputs[tuple(cols)] = (codes, labels, r, scores, n_units)
        if cols:
            out.append(_popshare(cells, cols, codes, labels, rounds, se, df, level, spec_name))
    if rounds is not None and change_inputs:
        for cols, (_codes, labels, r, scores, n_units) in change_inputs.items():
            out.append(
                _changes(
                    cells,
                    spec_name,
                    cols,
                    labels,
                    r,
                    scores,
                    n_units,
                    est,
                    rounds,
                    years,
                    se,
                    level,
                    change_interval,
                )
            )
    result = pd.concat([f for f in out if len(f)], ignore_index=True)
    return result[OUTPUT_COLUMNS]


def _rows(
    spec_name: str,
    by_label: str,
    labels: list[str],
    est: _Estimators,
    r: FloatArray,
    sd: FloatArray,
    n_units: FloatArray,
    df: float,
    level: float,
) -> pd.DataFrame:
    g, m = r.shape
    estimate_v = r.reshape(-1)
    se_v = sd.reshape(-1)
    low, high = logit_interval(np.nan_to_num(estimate_v), np.nan_to_num(se_v), df, level)
    bad = ~np.isfinite(estimate_v) | ~np.isfinite(se_v)
    low = np.where(bad, np.nan, low)
    high = np.where(bad, np.nan, high)
    return pd.DataFrame(
        {
            "spec": spec_name,
            "k": np.tile(np.asarray(est.k, dtype=np.float64), g),
            "by": by_label,
            "group": np.repeat(np.asarray(labels, dtype=object), m),
            "measure": np.tile(np.asarray(est.measure, dtype=object), g),
            "indicator": np.tile(np.asarray(est.indicator, dtype=object), g),
            "estimate": estimate_v,
            "se": se_v,
            "ci_low": low,
            "ci_high": high,
            "n": np.repeat(n_units, m).astype(np.int64),
        }
    )


def _contributions(
    spec_name: str,
    by_label: str,
    labels: list[str],
    est: _Estimators,
    r: FloatArray,
    n_units: FloatArray,
    wj: dict[str, float],
) -> pd.DataFrame:
    """actb = w_j · hdk_j and pctb = actb / M0 (no standard errors, as mpitbR)."""
    m0_col = {k: i for i, (mm, k) in enumerate(zip(est.measure, est.k, strict=True)) if mm == "M0"}
    cols = [i for i, mm in enumerate(est.measure) if mm == "hdk"]
    if not cols:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)
    wvec = np.array([wj[est.indicator[c]] for c in cols])
    actb = r[:, cols] * wvec[None, :]
    m0 = r[:, [m0_col[est.k[c]] for c in cols]]
    with np.errstate(divide="ignore", invalid="ignore"):
        pctb = np.where(np.isfinite(m0) & (m0 != 0), actb / np.where(m0 != 0, m0, 1.0), np.nan)
    g, m = actb.shape
    parts = []
    for name, values in (("actb", actb), ("pctb", pctb)):
        parts.append(
            pd.DataFrame(
                {
                    "spec": spec_name,
                    "k": np.tile(np.asarray([est.k[c] for c in cols]), g),
                    "by": by_label,
                    "group": np.repeat(np.asarray(labels, dtype=object), m),
                    "measure": name,
                    "indicator": np.tile(
                        np.asarray([est.indicator[c] for c in cols], dtype=object), g
                    ),
                    "estimate": values.reshape(-1),
                    "se": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "n": np.repeat(n_units, m).astype(np.int64),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _popshare(
    cells: Cells,
    cols: tuple[str, ...],
    codes: IntArray,
    labels: list[str],
    rounds: str | None,
    se: bool,
    df: float,
    level: float,
    spec_name: str,
) -> pd.DataFrame:
    """Population share of each group within its parent (its round when ``by`` has rounds)."""
    parent_cols: tuple[str, ...] = (rounds,) if (rounds in cols and cols != (rounds,)) else ()
    pcodes, _ = _group_codes(cells.keys, parent_cols)
    n_groups = len(labels)
    wg = np.bincount(codes, weights=cells.w, minlength=n_groups).astype(np.float64)
    wp_all = np.bincount(pcodes, weights=cells.w).astype(np.float64)
    parent_of = np.zeros(n_groups, dtype=np.int64)
    parent_of[codes] = pcodes
    wp = wp_all[parent_of]
    share = wg / wp
    n_units = np.bincount(codes, weights=cells.n, minlength=n_groups).astype(np.float64)
    sd = np.full(n_groups, np.nan)
    if se:
        design = cells.design
        n_parents = int(pcodes.max()) + 1 if pcodes.size else 1

        def by_row(weights: FloatArray, cols_codes: IntArray, width: int) -> FloatArray:
            mat = sparse.csr_matrix(
                (weights, (design.psu, cols_codes)), shape=(design.n_psu, width)
            )
            return np.asarray(mat.toarray(), dtype=np.float64)

        mg = by_row(cells.w, codes, n_groups)
        mp = by_row(cells.w, pcodes, n_parents)[:, parent_of]
        # linearised scores of the ratio W_g / W_parent, summed per variance row
        u = (mg - share[None, :] * mp) / wp[None, :]
        if not design.units_are_psus:
            s1 = _stratum_sums(u, design)
            s2 = _stratum_sums(u * u, design)
        else:
            m2g = by_row(cells.w2, codes, n_groups)
            m2p = by_row(cells.w2, pcodes, n_parents)[:, parent_of]
            s1 = u
            s2 = (m2g * (1.0 - 2.0 * share[None, :]) + m2p * share[None, :] ** 2) / wp[None, :] ** 2
        sd = np.sqrt(np.maximum(_combine(s1, s1, s2, design), 0.0))
    low, high = logit_interval(share, np.nan_to_num(sd), df, level)
    return pd.DataFrame(
        {
            "spec": spec_name,
            "k": np.nan,
            "by": ",".join(cols),
            "group": labels,
            "measure": "popsh",
            "indicator": "",
            "estimate": share,
            "se": sd,
            "ci_low": np.where(np.isfinite(sd), low, np.nan),
            "ci_high": np.where(np.isfinite(sd), high, np.nan),
            "n": n_units.astype(np.int64),
        }
    )


def _changes(
    cells: Cells,
    spec_name: str,
    cols: tuple[str, ...],
    labels: list[str],
    r: FloatArray,
    scores: list[_GroupScores | None],
    n_units: FloatArray,
    est: _Estimators,
    rounds: str,
    years: dict[Any, float] | None,
    se: bool,
    level: float,
    change_interval: str = "normal",
) -> pd.DataFrame:
    """Change of M0, H and A between consecutive rounds, per group (delta-method SEs).

    Absolute changes are in the unit of the measure (shares); relative changes
    (``*_rel_change``, ``*_rel_change_ann``) in percent, as mpitbR reports them. Intervals are
    symmetric Wald intervals, normal (mpitbR) or t with the design's degrees of freedom.
    """
    interval_df = math.inf if change_interval == "normal" else cells.design.df
    pos = cols.index(rounds)
    split = [lab.split(",") for lab in labels]
    round_values = sorted({parts[pos] for parts in split}, key=_sort_key)
    year_of = {_label(k): v for k, v in (years or {}).items()}
    index = {tuple(parts): i for i, parts in enumerate(split)}
    sel = [i for i, mm in enumerate(est.measure) if mm in ("M0", "H", "A")]
    design = cells.design
    records: list[dict[str, Any]] = []
    for ra, rb in itertools.pairwise(round_values):
        others = sorted(
            {tuple(p[:pos] + p[pos + 1 :]) for p in split if p[pos] == ra}, key=lambda t: t
        )
        for rest in others:
            ka = (*rest[:pos], ra, *rest[pos:])
            kb = (*rest[:pos], rb, *rest[pos:])
            if ka not in index or kb not in index:
                continue
            ia, ib = index[ka], index[kb]
            a, b = r[ia, sel], r[ib, sel]
            va = vb = cab = np.full(len(sel), np.nan)
            if se and scores[ia] is not None and scores[ib] is not None:
                sa, sb = scores[ia], scores[ib]
                assert sa is not None and sb is not None
                va = _combine(sa.s1[:, sel], sa.s1[:, sel], sa.s2[:, sel], design)
                vb = _combine(sb.s1[:, sel], sb.s1[:, sel], sb.s2[:, sel], design)
                if not design.units_are_psus and sa.u is not None and sb.u is not None:
                    c12 = _stratum_sums(sa.u[:, sel] * sb.u[:, sel], design)
                else:  # every unit its own PSU: two rounds share no unit
                    c12 = np.zeros_like(sa.s1[:, sel])
                cab = _combine(sa.s1[:, sel], sb.s1[:, sel], c12, design)
            span = None
            if ra in year_of and rb in year_of:
                span = year_of[rb] - year_of[ra]
            group = ",".join([*rest[:pos], f"{ra}->{rb}", *rest[pos:]])
            n = int(n_units[ia] + n_units[ib])
            with np.errstate(divide="ignore", invalid="ignore"):
                forms: list[tuple[str, FloatArray, FloatArray, FloatArray]] = [
                    ("abs_change", b - a, -np.ones_like(a), np.ones_like(a)),
                    ("rel_change", b / a - 1.0, -b / a**2, 1.0 / a),
                ]
                if span is not None and span > 0:
                    ratio = b / a
                    f = ratio ** (1.0 / span)
                    forms.append(
                        (
                            "abs_change_ann",
                            (b - a) / span,
                            -np.ones_like(a) / span,
                            np.ones_like(a) / span,
                        )
                    )
                    forms.append(
                        ("rel_change_ann", f - 1.0, f / span * (-1.0 / a), f / span * (1.0 / b))
                    )
                for suffix, value, ga, gb in forms:
                    var = ga**2 * va + gb**2 * vb + 2 * ga * gb * cab
                    sdv = np.sqrt(np.maximum(var, 0.0))
                    if suffix.startswith("rel_"):  # percent
                        value, sdv = value * 100.0, sdv * 100.0
                    low, high = wald_interval(value, sdv, interval_df, level)
                    for j, col in enumerate(sel):
                        records.append(
                            {
                                "spec": spec_name,
                                "k": est.k[col],
                                "by": ",".join(cols),
                                "group": group,
                                "measure": f"{est.measure[col]}_{suffix}",
                                "indicator": "",
                                "estimate": value[j],
                                "se": sdv[j],
                                "ci_low": low[j],
                                "ci_high": high[j],
                                "n": n,
                            }
                        )
    return pd.DataFrame.from_records(records, columns=OUTPUT_COLUMNS)


def _sort_key(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def make_design(
    strata: npt.ArrayLike | None,
    psu: npt.ArrayLike | None,
    n: FloatArray,
    *,
    lonely_psu: Literal["fail", "certainty", "adjust"],
) -> VarianceDesign:
    """Variance rows of the cells from their stratum and PSU values (None = absent)."""
    size = n.shape[0]
    s_codes = (
        pd.factorize(pd.Series(strata), sort=True)[0].astype(np.int64)
        if strata is not None
        else np.zeros(size, dtype=np.int64)
    )
    if psu is not None:
        p_codes = pd.factorize(pd.Series(psu), sort=True)[0].astype(np.int64)
        n_psu = int(p_codes.max()) + 1 if size else 0
        row_stratum = np.zeros(n_psu, dtype=np.int64)
        row_stratum[p_codes] = s_codes
        n_strata = int(s_codes.max()) + 1 if size else 0
        n_h = np.bincount(row_stratum, minlength=n_strata).astype(np.float64)
        design = VarianceDesign(p_codes, row_stratum, n_h, lonely_psu, False)
    else:
        n_strata = int(s_codes.max()) + 1 if size else 0
        n_h = np.bincount(s_codes, weights=n, minlength=n_strata).astype(np.float64)
        strata_rows = np.arange(n_strata, dtype=np.int64)
        design = VarianceDesign(s_codes, strata_rows, n_h, lonely_psu, True)
    if lonely_psu == "fail" and (design.n_h == 1).any():
        raise InputError(
            "A stratum has only one PSU (after removing rows with missing values), so its "
            "variance cannot be estimated.",
            column="stratum",
            rule="lonely_psu",
            fix="Merge the stratum with a similar one, or set lonely_psu = 'certainty' or "
            "'adjust' in the spec's [design].",
        )
    return design
