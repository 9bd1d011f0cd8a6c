"""Time dongxi.measure.income_poverty on synthetic data: 1M and 10M rows, national + 100 regions.

Run: ``uv run python benchmarks/income_poverty.py [--rows 1000000 10000000]``. Prints wall-clock and
CPU seconds per configuration (every measure with design-based standard errors; CPU time is less
disturbed by other jobs on a shared machine) and the peak resident memory. A first small call
loads numba's compiled passes (used from 2M rows) so that their loading is not timed.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from dongxi.measure.income import income_poverty


def make(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_psu = max(rows // 1000, 200)
    psu = rng.integers(0, n_psu, rows)
    return pd.DataFrame(
        {
            "income": rng.lognormal(8.3, 0.8, rows),
            "weight": rng.uniform(50.0, 400.0, rows),
            "psu": psu,
            "stratum": psu // 10,
            "region": psu % 100,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    args = parser.parse_args()
    income_poverty(make(2_000_000), income="income", line=4000.0)  # load the compiled passes
    for rows in args.rows:
        frame = make(rows)
        for label, kwargs in (
            ("simple random sample, national", {}),
            (
                "design, national + 100 regions",
                {"weight": "weight", "strata": "stratum", "psu": "psu", "by": ["region"]},
            ),
        ):
            start, cpu = time.perf_counter(), time.process_time()
            out = income_poverty(frame, income="income", line=4000.0, **kwargs)  # type: ignore[arg-type]
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            print(
                f"{rows:>11,d} rows  {label:<34s} {seconds:6.2f} s wall  {cpu:6.2f} s CPU  "
                f"({len(out)} output rows)"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak resident memory {peak:.2f} GiB")


if __name__ == "__main__":
    main()
