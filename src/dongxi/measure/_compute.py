"""The public entry points: :func:`measure` (tidy table of estimates) and :func:`identify`.

Tables in, tables out. The relational work (rules, aggregation of members to households, missing
values, the weighted count table) runs as Ibis expressions on the engine given (DuckDB in memory
by default, or PostgreSQL). For household-level data whose indicators are plain 0/1 columns an
in-memory fast path builds the same count table with numpy (``method="numpy"``, chosen
automatically for DuckDB in memory); tests prove both give identical numbers.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from dongxi.analytics import Backend, connect
from dongxi.errors import InputError
from dongxi.measure._af import OUTPUT_COLUMNS, Cells, estimate, make_design
from dongxi.measure._indicators import UNIT_KEY, WEIGHT_KEY, referenced_columns, unit_table
from dongxi.measure._spec import MeasureSpec, load_spec
from dongxi.measure._validate import add_age, check_household_level, validate

__all__ = ["OUTPUT_COLUMNS", "count_table", "identify", "measure"]

log = logging.getLogger(__name__)

Method = Literal["auto", "ibis", "numpy"]
#: How the intervals of changes between rounds are computed: normal (mpitbR) or t (design df).
ChangeInterval = Literal["normal", "t"]


def _as_spec(spec: MeasureSpec | str | Path) -> MeasureSpec:
    return spec if isinstance(spec, MeasureSpec) else load_spec(spec)


def _by_sets(spec: MeasureSpec, by: Sequence[str]) -> list[tuple[str, ...]]:
    base: list[tuple[str, ...]] = [()]
    for item in by:
        cols = tuple(c.strip() for c in item.split(",") if c.strip())
        if cols and cols not in base:
            base.append(cols)
    if spec.rounds is None:
        return base
    rc = spec.rounds.column
    out: list[tuple[str, ...]] = []
    for cols in base:
        variants = [cols] if rc in cols else [cols, (rc, *cols)]
        out += [v for v in variants if v not in out]
    return out


def _prepare(
    data: pd.DataFrame,
    spec: MeasureSpec,
    by_sets: Sequence[tuple[str, ...]],
    reference_date: dt.date | None,
    source: str | None,
    extra: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[str]]:
    by_cols = list(dict.fromkeys(c for cols in by_sets for c in cols))
    ref = reference_date or spec.reference_date
    frame = add_age(data, spec, ref, source=source)
    needed = referenced_columns(spec, by_cols)
    validate(frame, spec, needed, source=source)
    check_household_level(frame, spec, by_cols, source=source)
    keep = list(dict.fromkeys([*needed, *extra]))
    return frame[keep], by_cols


def _fast_path_possible(spec: MeasureSpec) -> bool:
    return spec.unit.household is None and all(ind.column for ind in spec.indicators)


def small_codes(column: pd.Series) -> tuple[np.ndarray, int, np.ndarray]:
    """Integer codes ``0 … size−1`` of a column and the value of each code.

    Compact integer columns are coded by offset (no hashing); others are factorized.
    """
    arr = column.to_numpy()
    if arr.dtype.kind in "iu" and arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo < 1 << 22:
            return arr.astype(np.int64) - lo, hi - lo + 1, np.arange(lo, hi + 1, dtype=np.int64)
    kc, uniq = pd.factorize(column, use_na_sentinel=False)
    values = np.asarray(uniq, dtype=object) if len(uniq) else np.array([None], dtype=object)
    return np.asarray(kc, dtype=np.int64), max(len(uniq), 1), values


#: Tables at least this long use the compiled single pass (numba) instead of numpy passes.
COMPILED_MIN_ROWS = 200_000
#: Largest key space counted in direct bins; larger ones are hashed.
DIRECT_BINS_MAX = 1 << 24


def _hash_cells(
    combined: np.ndarray, w: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells by hashing when the key space is too large for direct bins."""
    pos = np.flatnonzero(mask)
    inv, uniq_cells = pd.factorize(combined[pos])
    n_cells = len(uniq_cells)
    wm = w[pos]
    sums = np.bincount(inv, weights=wm, minlength=n_cells)
    sums2 = np.bincount(inv, weights=wm * wm, minlength=n_cells)
    ns = np.bincount(inv, minlength=n_cells).astype(np.float64)
    first = np.full(n_cells, -1, dtype=np.int64)
    first[inv[::-1]] = np.arange(inv.shape[0] - 1, -1, -1)
    return sums, sums2, ns, pos[first]


def _numpy_cells(frame: pd.DataFrame, spec: MeasureSpec, keys: list[str]) -> pd.DataFrame:
    """The count table with numpy (indicators are 0/1 columns, one row per unit)."""
    names = spec.indicator_names
    cols = {ind.name: ind.column for ind in spec.indicators}
    mask = np.ones(len(frame), dtype=bool)
    mats: list[np.ndarray] = []
    for ind in spec.indicators:
        policy = ind.missing or spec.missing
        raw = frame[cols[ind.name]]
        arr = raw.to_numpy()
        if arr.dtype.kind in "iub":  # no missing values possible
            mats.append(arr)
            continue
        isna = raw.isna().to_numpy()
        vals = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        if policy == "listwise":
            mask &= ~isna
        vals = np.where(isna, 1.0 if policy == "deprived" else 0.0, vals)
        mats.append(vals.astype(np.int8))
    d = spec.design
    w = (
        frame[d.weight].to_numpy(dtype=np.float64)
        if d.weight
        else np.ones(len(frame), dtype=np.float64)
    )
    if spec.unit.analysis == "people" and spec.unit.size:
        w = w * frame[spec.unit.size].to_numpy(dtype=np.float64)
    key = np.zeros(len(frame), dtype=np.int64)
    kradix = 1
    decodable = True
    parts: list[tuple[str, int, int, np.ndarray]] = []  # column, radix, size, values
    for col in keys:
        kc, size, values = small_codes(frame[col])
        if kradix * size * (1 << len(mats)) >= 2**62:  # re-compress before overflow
            key, uk = pd.factorize(key)
            key = np.asarray(key, dtype=np.int64)
            kradix = len(uk)
            decodable = False
        parts.append((col, kradix, size, values))
        key = key + kc * kradix
        kradix *= size
    renumbered: np.ndarray | None = None
    radix = kradix << len(mats)
    if radix > DIRECT_BINS_MAX and kradix > 1:  # sparse key space: renumber the keys present
        key, uk = pd.factorize(key)
        key = np.asarray(key, dtype=np.int64)
        renumbered = np.asarray(uk, dtype=np.int64)
        kradix = len(uk)
        radix = kradix << len(mats)
    if len(frame) >= COMPILED_MIN_ROWS:
        from dongxi.measure._fastcount import count_bins, profile_codes

        if radix <= DIRECT_BINS_MAX and decodable:
            counts, sums_all, sums2_all = count_bins(mats, key, w, mask, radix)
            cell_ids = np.flatnonzero(counts)
            kcode = cell_ids >> len(mats)
            if renumbered is not None:
                kcode = renumbered[kcode]
            out = pd.DataFrame({col: values[(kcode // r) % size] for col, r, size, values in parts})
            for j, nm in enumerate(names):
                out[nm] = ((cell_ids >> j) & 1).astype(np.int8)
            out[WEIGHT_KEY] = sums_all[cell_ids]
            out["__w2"] = sums2_all[cell_ids]
            out["__n"] = counts[cell_ids].astype(np.float64)
            return out
        ind_mat = np.stack([np.asarray(v, dtype=np.int8) for v in mats], axis=1)
        combined = profile_codes(ind_mat, key)
        sums, sums2, ns, rows = _hash_cells(combined, w, mask)
    else:
        code = np.zeros(len(frame), dtype=np.int64)
        for j, v in enumerate(mats):
            code |= np.asarray(v, dtype=np.int64) << j
        combined = key * (1 << len(mats)) + code
        if radix <= DIRECT_BINS_MAX:
            cm = combined[mask] if not mask.all() else combined
            wm = w[mask] if not mask.all() else w
            counts = np.bincount(cm, minlength=radix)
            cell_ids = np.flatnonzero(counts)
            sums = np.bincount(cm, weights=wm, minlength=radix)[cell_ids].astype(np.float64)
            sums2 = np.bincount(cm, weights=wm * wm, minlength=radix)[cell_ids].astype(np.float64)
            ns = counts[cell_ids].astype(np.float64)
            first_pos = np.full(radix, -1, dtype=np.int64)
            first_pos[cm[::-1]] = np.arange(cm.shape[0] - 1, -1, -1)
            rows = np.flatnonzero(mask)[first_pos[cell_ids]]
        else:
            sums, sums2, ns, rows = _hash_cells(combined, w, mask)
    out = pd.DataFrame({c: frame[c].to_numpy()[rows] for c in keys})
    for j, nm in enumerate(names):
        out[nm] = mats[j][rows]
    out[WEIGHT_KEY] = sums
    out["__w2"] = sums2
    out["__n"] = ns
    return out


def _ibis_cells(
    frame: pd.DataFrame,
    spec: MeasureSpec,
    keys: list[str],
    by_cols: list[str],
    params: Mapping[str, Any],
    backend: Backend,
) -> tuple[pd.DataFrame, dict[Any, float] | None]:
    table = backend.table(frame, name="dongxi_measure_input")
    units = unit_table(table, spec, by=by_cols, params=params)
    names = spec.indicator_names
    w = units[WEIGHT_KEY]
    expr = units.group_by([*keys, *names]).aggregate(
        **{WEIGHT_KEY: w.sum(), "__w2": (w * w).sum(), "__n": units.count()}
    )
    cells = backend.execute(expr)
    years = None
    if spec.rounds is not None and spec.rounds.year:
        rc, yc = spec.rounds.column, spec.rounds.year
        ytab = backend.execute(units.group_by(rc).aggregate(lo=units[yc].min(), hi=units[yc].max()))
        years = _years(ytab, rc)
    return cells, years


def _years(ytab: pd.DataFrame, rc: str) -> dict[Any, float]:
    years: dict[Any, float] = {}
    for rid, lo, hi in ytab[[rc, "lo", "hi"]].itertuples(index=False):
        if lo != hi:
            raise InputError(
                "The year column differs within one survey round.",
                column=rc,
                value=rid,
                rule="rounds.year",
                fix="Give every row of a round the same year (e.g. the mid-year of fieldwork).",
            )
        years[rid] = float(lo)
    return years


def count_table(
    data: pd.DataFrame,
    spec: MeasureSpec | str | Path,
    *,
    by: Sequence[str] = (),
    params: Mapping[str, Any] | None = None,
    backend: Backend | str | None = None,
    method: Method = "auto",
    reference_date: dt.date | None = None,
    source: str | None = None,
) -> tuple[pd.DataFrame, dict[Any, float] | None]:
    """The weighted count table over (stratum, psu, subgroups, profile) and the rounds' years."""
    sp = _as_spec(spec)
    by_sets = _by_sets(sp, by)
    frame, by_cols = _prepare(data, sp, by_sets, reference_date, source)
    d = sp.design
    keys = [c for c in (d.strata, d.psu) if c]
    if sp.rounds is not None and sp.rounds.column not in keys:
        keys.append(sp.rounds.column)
    keys += [c for c in by_cols if c not in keys]
    in_memory = (
        backend.capabilities.in_memory
        if isinstance(backend, Backend)
        else (backend or "duckdb://").lower().startswith("duckdb")
    )
    use_numpy = method == "numpy" or (method == "auto" and in_memory and _fast_path_possible(sp))
    if use_numpy:
        if not _fast_path_possible(sp):
            raise InputError(
                "The numpy fast path needs household-level data with 0/1 indicator columns.",
                rule="method",
                fix="Use method='ibis' (the default picks it automatically).",
            )
        cells = _numpy_cells(frame, sp, keys)
        years = None
        if sp.rounds is not None and sp.rounds.year:
            rc, yc = sp.rounds.column, sp.rounds.year
            ytab = frame.groupby(rc, dropna=False)[yc].agg(["min", "max"]).reset_index()
            years = _years(ytab.rename(columns={"min": "lo", "max": "hi"}), rc)
        return cells, years
    conn = _backend(backend)
    try:
        return _ibis_cells(frame, sp, keys, by_cols, params or {}, conn)
    finally:
        if not isinstance(backend, Backend):
            conn.close()


def _backend(backend: Backend | str | None) -> Backend:
    if isinstance(backend, Backend):
        return backend
    return connect(backend or "duckdb://")


def measure(
    data: pd.DataFrame,
    spec: MeasureSpec | str | Path,
    *,
    k: Sequence[float | str] | None = None,
    by: Sequence[str] = (),
    params: Mapping[str, Any] | None = None,
    backend: Backend | str | None = None,
    method: Method = "auto",
    se: bool = True,
    level: float = 0.95,
    reference_date: dt.date | None = None,
    source: str | None = None,
    change_interval: ChangeInterval = "normal",
) -> pd.DataFrame:
    """Alkire–Foster measures with design-based standard errors, as one tidy long table.

    ``data`` holds one row per household or per person (``spec.unit.household`` names the
    household id). ``k`` overrides the spec's cutoffs (percent, or ``"union"``/``"intersection"``);
    ``by`` lists subgroup columns (``"county"``, or ``"county,sex_of_head"`` for a cross
    classification); when the spec has rounds every result is given per round and pooled, and
    changes between consecutive rounds are added. ``params`` fills ``{param = …}`` values.
    ``source`` (a file name) is cited in error messages. Columns: :data:`OUTPUT_COLUMNS`.
    Changes between rounds: absolute changes in the measure's unit, relative changes in percent;
    ``change_interval`` ``"normal"`` (mpitbR's intervals of changes, the default) or ``"t"``
    (the design's degrees of freedom).
    """
    sp = _as_spec(spec)
    if change_interval not in ("normal", "t"):
        raise InputError(
            "The interval of changes must be 'normal' or 't'.",
            value=change_interval,
            rule="change_interval",
            fix="Use 'normal' (mpitbR) or 't'.",
        )
    cutoffs = sp.cutoffs(k)
    if not 0.0 < level < 1.0:
        raise InputError(
            "The confidence level must lie in (0, 1).", value=level, rule="level", fix="Use 0.95."
        )
    cells_frame, years = count_table(
        data,
        sp,
        by=by,
        params=params,
        backend=backend,
        method=method,
        reference_date=reference_date,
        source=source,
    )
    if cells_frame.empty:
        raise InputError(
            "No unit is left to measure (every row has a missing indicator or was filtered).",
            file=source,
            rule="listwise",
            fix="Check the indicator columns, or choose missing = 'not_deprived' in the spec.",
        )
    cells = _cells(cells_frame, sp)
    result = estimate(
        cells,
        spec_name=sp.name,
        names=sp.indicator_names,
        weights=sp.exact_weights(),
        cutoffs=cutoffs,
        by_sets=_by_sets(sp, by),
        rounds=sp.rounds.column if sp.rounds else None,
        years=years,
        se=se,
        level=level,
        change_interval=change_interval,
    )
    if sp.income is None:
        return result
    income = _income_rows(data, sp, by=by, params=params or {}, level=level, source=source)
    return pd.concat([result, income], ignore_index=True)[OUTPUT_COLUMNS]


def _income_rows(
    data: pd.DataFrame,
    spec: MeasureSpec,
    *,
    by: Sequence[str],
    params: Mapping[str, Any],
    level: float,
    source: str | None,
) -> pd.DataFrame:
    """FGT0/1/2, Watts and Gini (helper module ``income``) for the same subgroups."""
    from dongxi.measure._indicators import resolve
    from dongxi.measure._label import label_values
    from dongxi.measure.income import income_poverty

    inc = spec.income
    assert inc is not None
    d, u = spec.design, spec.unit
    by_sets = [cols for cols in _by_sets(spec, by) if cols]
    frame = data
    missing = [c for c in (inc.column,) if c not in frame.columns]
    if missing:
        raise InputError(
            f"The data has no income column '{missing[0]}' that the spec's [income] names.",
            file=source,
            column=missing[0],
            rule="column",
            fix="Rename the column in the data or in the spec's [income] section.",
        )
    if u.household is not None:
        size = frame.groupby(u.household)[u.household].transform("size").astype(float)
        if u.size:
            size = pd.to_numeric(frame[u.size], errors="coerce")
    else:
        size = (
            pd.to_numeric(frame[u.size], errors="coerce")
            if u.size
            else pd.Series(1.0, index=frame.index)
        )
    value = pd.to_numeric(frame[inc.column], errors="coerce")
    if not inc.per_capita:
        value = value / size
    work = pd.DataFrame({"__income": value})
    w = (
        pd.to_numeric(frame[d.weight], errors="coerce")
        if d.weight
        else pd.Series(1.0, index=frame.index)
    )
    if u.household is None and u.analysis == "people":
        w = w * size
    work["__weight"] = w
    for name in (d.strata, d.psu):
        if name:
            work[name] = frame[name].to_numpy()
    by_names: dict[str, str] = {}
    for i, cols in enumerate(by_sets):
        key = f"__by{i}"
        work[key] = label_values(frame, cols)
        by_names[key] = ",".join(cols)
    if u.household is not None and u.analysis == "households":
        work = work.loc[~frame[u.household].duplicated().to_numpy()]
    work = work[work["__income"].notna()]
    out = income_poverty(
        work,
        income="__income",
        line=float(resolve(inc.line, params)),
        weight="__weight",
        strata=d.strata,
        psu=d.psu,
        by=list(by_names),
        lonely_psu=d.lonely_psu,
        level=level,
    )
    out = out.assign(spec=spec.name, k=np.nan)
    out["by"] = out["by"].map(lambda b: by_names.get(b, b))
    out["indicator"] = ""
    return out[OUTPUT_COLUMNS]


def _cells(frame: pd.DataFrame, spec: MeasureSpec) -> Cells:
    d = spec.design
    n = frame["__n"].to_numpy(dtype=np.float64)
    design = make_design(
        frame[d.strata].to_numpy() if d.strata else None,
        frame[d.psu].to_numpy() if d.psu else None,
        n,
        lonely_psu=d.lonely_psu,
    )
    skip = {*spec.indicator_names, WEIGHT_KEY, "__w2", "__n", UNIT_KEY}
    key_cols = [c for c in frame.columns if c not in skip]
    return Cells(
        keys=frame[key_cols].reset_index(drop=True),
        profiles=frame[spec.indicator_names].to_numpy(dtype=np.int8),
        w=frame[WEIGHT_KEY].to_numpy(dtype=np.float64),
        w2=frame["__w2"].to_numpy(dtype=np.float64),
        n=n,
        design=design,
    )


def identify(
    data: pd.DataFrame,
    spec: MeasureSpec | str | Path,
    *,
    k: Sequence[float | str] | None = None,
    params: Mapping[str, Any] | None = None,
    backend: Backend | str | None = None,
    reference_date: dt.date | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """Household-level identification: deprivation profile, score and poor-or-not per cutoff.

    One row per unit of identification: the household id column (or ``row``, the 1-based data
    row, spreadsheet style, when the spec has no household id), each indicator (0/1), ``weight``
    (the effective weight), ``score`` and ``poor_k<k>`` (``poor_union``, ``poor_intersection``)
    for each cutoff. Scores are compared with cutoffs in exact rational arithmetic.
    """
    sp = _as_spec(spec)
    cutoffs = sp.cutoffs(k)
    frame, _ = _prepare(data, sp, [()], reference_date, source)
    hh = sp.unit.household
    extra: list[str] = []
    if hh is None:
        frame = frame.assign(row=np.arange(2, len(frame) + 2, dtype=np.int64))
        extra = ["row"]
    conn = _backend(backend)
    try:
        table = conn.table(frame, name="dongxi_identify_input")
        units = unit_table(table, sp, by=[], params=params or {}, extra=extra)
        out = conn.execute(units)
        if hh is not None:
            out = out.rename(columns={UNIT_KEY: hh})
    finally:
        if not isinstance(backend, Backend):
            conn.close()
    id_col = hh if hh is not None else "row"
    out = out.sort_values(id_col, kind="stable").reset_index(drop=True)
    weights = sp.exact_weights()
    denom = math.lcm(*(w.denominator for w in weights))
    ints = [int(w * denom) for w in weights]
    profile = out[sp.indicator_names].to_numpy(dtype=np.int64)
    if denom * len(ints) < 2**62:
        numer = profile @ np.asarray(ints, dtype=np.int64)
    else:  # very fine weights: exact Python integers
        numer = profile.astype(object) @ np.asarray(ints, dtype=object)
    result = out[[id_col, *sp.indicator_names]].copy()
    result["weight"] = out[WEIGHT_KEY].to_numpy(dtype=np.float64)
    result["score"] = np.array([float(Fraction(int(v), denom)) for v in numer])
    names = [str(x) for x in (k if k is not None else sp.k)]
    for raw, c in zip(names, cutoffs, strict=True):
        label = f"poor_{raw}" if raw in ("union", "intersection") else f"poor_k{c.percent:g}"
        result[label] = np.array(
            [int(v) * c.value.denominator >= c.value.numerator * denom for v in numer], dtype=bool
        )
    return result
