"""Benchmark: the monitoring sweep of a province-sized registry (``dongxi.monitor``).

Generates with NumPy (seeded) a registry the size of a province's monitored population:
330,000 households (≈ 1.3 million people) with 60 months of income (2021-01..2025-12, ≈ 20
million ``income_months`` rows, 0.5 % of months missing) — or, with ``--synth``, the synthetic
panel of :mod:`dongxi.synth` through 2025 (≈ 3.1 people per household, every month present) —
then times, in the same run:

1. ``sweep`` — every rule (income, housing, water, medical, schooling, disaster, income drop) for
   every household, with the reasons and facts of each row written out (target: < 30 s);
2. the engine's income rule alone (the panel, the 12-month window, the comparison);
3. the peer: a naive pandas implementation of the same income rule (filter the window's months,
   ``groupby`` household: sum of income, mean size, count of months; below the line and all 12
   months present), on the same frames;

and checks that 2 and 3 decide the same households. Prints the figures, the ratio peer / engine
and the load average before and after (the machine is shared: the figures move with the load).

Run::

    uv run python benchmarks/bench_monitor.py                 # 330,000 households, 60 months
    uv run python benchmarks/bench_monitor.py --households 50000 --repeat 3
    uv run python benchmarks/bench_monitor.py --synth             # dongxi.synth through 2025
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

import numpy as np
import pandas as pd

from dongxi.monitor import check_window, load_rules, sweep
from dongxi.monitor._panel import build_panel

LINE = 7000.0
AS_OF = dt.date(2025, 7, 15)  # income over 2024-07..2025-06


def generate(households: int, months: int, seed: int) -> dict[str, pd.DataFrame]:
    """Households, people and income_months shaped like the registry's tables."""
    rng = np.random.default_rng(seed)
    n = households
    codes = np.char.add("H", np.char.zfill(np.arange(n).astype(str), 8))
    villages = np.char.add("4501", np.char.zfill(rng.integers(0, 3000, n).astype(str), 8))
    status = rng.choice(
        ["escaped", "never", "monitored", "registered_poor"], n, p=[0.6, 0.34, 0.05, 0.01]
    )
    exited = np.where(
        (status == "escaped") | ((status == "monitored") & (rng.random(n) < 0.7)),
        rng.integers(2016, 2021, n),
        -1,
    )
    category = np.where(
        status == "monitored",
        rng.choice(["unstable_escaped", "marginal", "sudden_hardship"], n),
        None,
    )
    hh = pd.DataFrame(
        {
            "household_code": codes,
            "village_code": villages,
            "status": status,
            "monitoring_category": category,
            "year_exited": pd.Series(exited, dtype="Int64").where(exited > 0),
            "housing_grade": rng.choice(["A", "B", "C", "D"], n, p=[0.6, 0.37, 0.02, 0.01]),
            "water_quantity_ok": rng.random(n) > 0.01,
            "water_quality_ok": rng.random(n) > 0.01,
            "water_convenience_ok": rng.random(n) > 0.005,
            "water_guarantee_ok": rng.random(n) > 0.005,
        }
    )
    size = rng.integers(1, 8, n)
    member_of = np.repeat(np.arange(n), size)
    people = pd.DataFrame(
        {
            "household_code": codes[member_of],
            "labour_capacity": rng.choice(
                ["skilled", "normal", "weak", "lost", "none"],
                len(member_of),
                p=[0.1, 0.45, 0.15, 0.1, 0.2],
            ),
            "medical_insurance": rng.random(len(member_of)) > 0.01,
            "school_status": rng.choice(
                ["not_in_school", "primary", "junior", "dropout"],
                len(member_of),
                p=[0.7, 0.15, 0.149, 0.001],
            ),
            "health": rng.choice(
                ["healthy", "chronic", "serious", "disabled"],
                len(member_of),
                p=[0.8, 0.12, 0.04, 0.04],
            ),
        }
    )
    # monthly income: a household level (per person per year) times the size, seasonal noise;
    # 8 % of households lose a third of their income from a random month on
    level = rng.lognormal(np.log(11000), 0.45, n) * size / 12
    drop_from = np.where(rng.random(n) < 0.08, rng.integers(0, months, n), months)
    hh_idx = np.repeat(np.arange(n, dtype=np.int32), months)
    m_idx = np.tile(np.arange(months, dtype=np.int16), n)
    season = 1 + 0.25 * np.sin(2 * np.pi * (m_idx % 12) / 12)
    net = level[hh_idx] * season * rng.lognormal(0, 0.2, len(hh_idx))
    net = np.where(m_idx >= drop_from[hh_idx], net * 0.65, net)
    medical = np.where(
        rng.random(len(hh_idx)) < 0.01, rng.lognormal(np.log(4000), 1.0, len(hh_idx)), 0.0
    )
    schooling = np.where(
        rng.random(len(hh_idx)) < 0.02, rng.lognormal(np.log(1500), 0.6, len(hh_idx)), 0.0
    )
    disaster = np.where(
        rng.random(len(hh_idx)) < 0.002, rng.lognormal(np.log(6000), 0.8, len(hh_idx)), 0.0
    )
    keep = rng.random(len(hh_idx)) > 0.005
    month_names = [f"{2021 + m // 12}-{m % 12 + 1:02d}" for m in range(months)]
    income = pd.DataFrame(
        {
            "household_code": pd.Categorical.from_codes(hh_idx[keep], categories=codes),
            "month": pd.Categorical.from_codes(m_idx[keep], categories=month_names),
            "net_income": net[keep],
            "medical_spending": medical[keep],
            "schooling_spending": schooling[keep],
            "disaster_loss": disaster[keep],
            "household_size": size[hh_idx[keep]],
        }
    )
    return {"households": hh, "people": people, "income_months": income}


def generate_synth(households: int, seed: int) -> dict[str, pd.DataFrame]:
    """The same tables from ``dongxi.synth`` (the panel through 2025 with its shock process),
    household codes and months as categories, as the registry and snapshot readers give them."""
    from dongxi.synth import generate as synth

    data = synth(households=households, seed=seed, years=(2020,), through=2025)
    assert data.income_months is not None
    income = data.income_months.assign(
        household_code=data.income_months["household_code"].astype("category"),
        month=data.income_months["month"].astype("category"),
    )
    return {"households": data.households, "people": data.people, "income_months": income}


def engine_income_rule(tables: dict[str, pd.DataFrame], window: int) -> set[str]:
    codes = pd.Index(tables["households"]["household_code"])
    first, last = check_window(AS_OF, window)
    panel = build_panel(tables["income_months"], codes, first, window)
    cur = panel.window(first, last)
    below = cur.complete & (cur.per_person < LINE)
    return set(codes[below])


def naive_income_rule(tables: dict[str, pd.DataFrame], window: int) -> set[str]:
    income = tables["income_months"]
    first, last = check_window(AS_OF, window)
    names = [f"{m // 12}-{m % 12 + 1:02d}" for m in range(first, last + 1)]
    rows = income[income["month"].astype(str).isin(names)]
    per = rows.groupby("household_code", observed=True).agg(
        net=("net_income", "sum"), size=("household_size", "mean"), months=("month", "count")
    )
    per["per_person"] = per["net"] / per["size"]
    return set(per.index[(per["months"] == window) & (per["per_person"] < LINE)].astype(str))


CPU: dict[str, float] = {}


def _time(name: str, fn, repeat: int):  # type: ignore[no-untyped-def]
    """Best wall time of ``repeat`` runs (the CPU time of that run kept in :data:`CPU`)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        took = time.perf_counter() - start
        if took < best:
            best, CPU[name] = took, time.process_time() - cpu
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=330_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each timing (best kept)")
    parser.add_argument(
        "--synth", action="store_true", help="generate with dongxi.synth (through 2025) instead"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    start = time.perf_counter()
    if args.synth:
        tables = generate_synth(args.households, args.seed)
    else:
        tables = generate(args.households, args.months, args.seed)
    generated = time.perf_counter() - start
    rules = load_rules()
    print(
        f"households {len(tables['households']):,}, people {len(tables['people']):,}, "
        f"income_months rows {len(tables['income_months']):,} (generated in {generated:.1f} s)"
    )
    t_sweep, rows = _time(
        "sweep",
        lambda: sweep(
            tables["households"],
            tables["people"],
            tables["income_months"],
            line=LINE,
            as_of=AS_OF,
            rules=rules,
        ),
        args.repeat,
    )
    t_engine, engine_set = _time(
        "engine", lambda: engine_income_rule(tables, rules.window_months), args.repeat
    )
    t_naive, naive_set = _time(
        "naive", lambda: naive_income_rule(tables, rules.window_months), args.repeat
    )
    load_after = os.getloadavg()
    assert engine_set == naive_set, "the engine and the naive peer decide different households"
    swept = set(
        rows.loc[(rows["rule"] == "income") & (rows["outcome"] != "undecided"), "household_code"]
    )
    assert swept == engine_set, "the sweep's income rule differs from the engine's income rule"
    print(
        f"sweep, all {len(rules.rules)} rules with reasons: {t_sweep:6.2f} s wall, "
        f"{CPU['sweep']:6.2f} s CPU  ({len(rows):,} rows; "
        f"{rows['outcome'].value_counts().to_dict()})"
    )
    print(
        f"income rule, engine (dense panel):  {t_engine:6.2f} s wall, {CPU['engine']:6.2f} s CPU  "
        f"({len(engine_set):,} households below the line)"
    )
    print(
        f"income rule, naive pandas groupby:  {t_naive:6.2f} s wall, {CPU['naive']:6.2f} s CPU  "
        "(the same households)"
    )
    print(
        f"ratio naive / engine (income rule): {t_naive / t_engine:6.2f} wall, "
        f"{CPU['naive'] / CPU['engine']:6.2f} CPU"
    )
    print(f"target: sweep < 30 s — {'met' if t_sweep < 30 else 'NOT met'}")
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} ({os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
