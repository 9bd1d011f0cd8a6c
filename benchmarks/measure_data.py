"""Synthetic data for the measure engine: the bundled example and the benchmark tables.

Run ``uv run python benchmarks/measure_data.py`` to rebuild the bundled example
``src/dongxi/measure/data/example.parquet`` (deterministic, seed 2026). Nothing here is copied from
another data set: all values are drawn from simple models written below.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

EXAMPLE = (
    Path(__file__).resolve().parents[1] / "src" / "dongxi" / "measure" / "data" / "example.parquet"
)

#: Four counties of Guangxi (GB/T 2260 codes, 2023) used as regions of the example.
COUNTIES = ["451022", "451026", "451027", "451031"]


def example_people(seed: int = 2026, households: int = 560) -> pd.DataFrame:
    """Person-level example for the global_mpi spec: ~2,000 rows, 4 counties, 2 areas, 32 PSUs."""
    rng = np.random.default_rng(seed)
    county = rng.integers(0, len(COUNTIES), households)
    area = np.where(rng.random(households) < 0.7, "rural", "urban")
    stratum = county * 2 + (area == "urban")
    psu = stratum * 10 + rng.integers(0, 4, households)
    hh_poor = rng.beta(2, 5, households) + 0.25 * (area == "rural")  # latent hardship
    size = 1 + rng.poisson(2.6, households)
    rows: list[dict[str, object]] = []
    for h in range(households):
        p = float(min(hh_poor[h], 0.95))
        hh = {
            "hh_id": f"H{h + 1:05d}",
            "county": COUNTIES[county[h]],
            "area": area[h],
            "stratum": int(stratum[h]),
            "psu": int(psu[h]),
            "weight": round(float(rng.uniform(80, 160)), 2),
            "child_deaths_5y": int(rng.random() < 0.15 * p),
            "cooking_fuel": rng.choice(
                ["wood", "coal", "lpg", "electric"], p=[p * 0.6, p * 0.2, 1 - p * 0.8 - 0.1, 0.1]
            ),
            "improved_sanitation": int(rng.random() > 0.6 * p),
            "shared_toilet": int(rng.random() < 0.2 * p),
            "improved_water": int(rng.random() > 0.4 * p),
            "water_minutes": int(rng.exponential(25 * p)),
            "electricity": int(rng.random() > 0.15 * p),
            "floor_natural": int(rng.random() < 0.5 * p),
            "roof_natural": int(rng.random() < 0.3 * p),
            "walls_natural": int(rng.random() < 0.3 * p),
            "small_assets": int(rng.binomial(8, max(0.05, 0.6 - p))),
            "car": int(rng.random() < 0.3 * (1 - p)),
            "income_pc": round(float(rng.lognormal(np.log(9000 * (1.2 - p)), 0.6)), 1),
        }
        for m in range(int(size[h])):
            age = int(rng.integers(30, 75)) if m == 0 else int(rng.integers(0, 85))
            school = max(0, min(age - 6, int(rng.normal(9 * (1.1 - p), 3))))
            under = rng.random() < 0.35 * p
            rows.append(
                {
                    **hh,
                    "member_no": m + 1,
                    "age": age,
                    "sex": rng.choice(["male", "female"]),
                    "years_schooling": school,
                    "attends_school": int(rng.random() > 0.25 * p) if 6 <= age <= 18 else 0,
                    "undernourished": (None if rng.random() < 0.01 else int(under))
                    if age < 70
                    else None,
                }
            )
    frame = pd.DataFrame(rows)
    frame["undernourished"] = frame["undernourished"].astype("Int64")
    return frame


def benchmark_households(n: int, *, regions: int = 100, seed: int = 1) -> pd.DataFrame:
    """Household-level 0/1 deprivations (10 indicators), region, stratum, PSU and weight."""
    rng = np.random.default_rng(seed)
    region = rng.integers(1, regions + 1, n, dtype=np.int16)
    latent = rng.random(n, dtype=np.float32) * np.float32(0.6) + (region % 7).astype(
        np.float32
    ) / np.float32(20)
    out = {"region": region}
    for j in range(10):
        out[f"d{j + 1}"] = (
            rng.random(n, dtype=np.float32) < latent * np.float32(0.5 + 0.05 * j)
        ).astype(np.int8)
    n_strata = 500
    stratum = (region.astype(np.int32) - 1) * (n_strata // regions) + rng.integers(
        0, n_strata // regions, n
    )
    out["stratum"] = stratum.astype(np.int32)
    out["psu"] = (stratum * 4 + rng.integers(0, 4, n)).astype(np.int32)
    out["weight"] = rng.uniform(50, 150, n).astype(np.float64)
    return pd.DataFrame(out)


if __name__ == "__main__":
    people = example_people()
    EXAMPLE.parent.mkdir(parents=True, exist_ok=True)
    people.to_parquet(EXAMPLE, index=False)
    print(f"wrote {EXAMPLE} ({len(people)} rows, {people['hh_id'].nunique()} households)")
