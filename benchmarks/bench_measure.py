"""Benchmark of dongxi.measure against the PyPI package ``mpitb`` (MPIToolbox 0.2).

Same synthetic household data for both (``measure_data.benchmark_households``: 10 indicators,
100 regions, 500 strata, 2,000 PSUs, weights). Each configuration runs in a fresh subprocess so
that its peak memory (RSS, including the data) is measured on its own.

    uv run python benchmarks/bench_measure.py --sizes 1000000 10000000

Configurations, all "national + 100 regions":
  mpitb            mpitb ``est`` at k = 33 (its default measures), survey weights
  dongxi_k33       dongxi point estimates, k = 33 (numpy fast path)
  dongxi_ibis_k33  dongxi point estimates, k = 33, count table by an Ibis/DuckDB GROUP BY
  dongxi_3k        dongxi point estimates, k = 20, 33, 50
  dongxi_3k_se     dongxi every measure with design-based SEs (strata, PSUs), k = 20, 33, 50
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONFIGS = ["mpitb", "dongxi_k33", "dongxi_ibis_k33", "dongxi_3k", "dongxi_3k_se"]
INDICATORS = [f"d{j + 1}" for j in range(10)]


def _spec(k: list[float], design: bool) -> object:
    from dongxi.measure import load_spec

    return load_spec(
        {
            "name": "bench",
            "k": k,
            "unit": {"analysis": "households"},
            "design": (
                {"weight": "weight", "strata": "stratum", "psu": "psu"}
                if design
                else {"weight": "weight"}
            ),
            "dimensions": [
                {
                    "name": "health",
                    "indicators": [{"name": c, "column": c} for c in INDICATORS[:2]],
                },
                {
                    "name": "education",
                    "indicators": [{"name": c, "column": c} for c in INDICATORS[2:4]],
                },
                {
                    "name": "living",
                    "indicators": [{"name": c, "column": c} for c in INDICATORS[4:]],
                },
            ],
        }
    )


def run_one(config: str, n: int) -> dict[str, object]:
    sys.path.insert(0, str(HERE))
    from measure_data import benchmark_households

    data = benchmark_households(n)
    from mpitb.core import MPIToolbox

    from dongxi.measure import measure

    spec = _spec([33.0] if config.endswith("k33") else [20.0, 33.0, 50.0], config.endswith("_se"))
    # Warm-up on a slice (imports, JIT compilation/cache load), timed separately.
    t0 = time.perf_counter()
    _run(config, data.head(250_000).copy(), spec, MPIToolbox, measure)
    warmup = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows, m0 = _run(config, data, spec, MPIToolbox, measure)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "config": config,
        "n": n,
        "seconds": seconds,
        "warmup_seconds": warmup,
        "peak_mb": peak_mb,
        "rows": rows,
        "M0": m0,
    }


def _run(config: str, data: Any, spec: Any, toolbox: Any, measure: Any) -> tuple[int, float]:
    if config == "mpitb":
        tb = toolbox()
        tb.set(
            name="bench",
            dimensions=[
                (INDICATORS[:2], "health"),
                (INDICATORS[2:4], "education"),
                (INDICATORS[4:], "living"),
            ],
        )
        tb.svyset(weight="weight")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = tb.est(data, "bench", klist=[33], over=["region"], svy=True)
        rows = len(out)
        m0 = next(r["b"] for r in out if r["measure"] == "M0" and r["loa"] == "nat")
    else:
        se = config.endswith("_se")
        method = "ibis" if "ibis" in config else "auto"
        res = measure(data, spec, by=["region"], se=se, method=method)
        rows = len(res)
        sel = (res["measure"] == "M0") & (res["by"] == "") & (res["k"] == 33.0)
        m0 = float(res.loc[sel, "estimate"].iloc[0])
    return rows, m0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--configs", nargs="+", default=CONFIGS, choices=CONFIGS)
    parser.add_argument("--one", nargs=2, metavar=("CONFIG", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]))))
        return
    results = []
    for n in args.sizes:
        for config in args.configs:
            proc = subprocess.run(
                [sys.executable, __file__, "--one", config, str(n)],
                capture_output=True,
                text=True,
                check=True,
            )
            rec = json.loads(proc.stdout.strip().splitlines()[-1])
            results.append(rec)
            print(
                f"{n:>11,d}  {config:<16} {rec['seconds']:8.3f} s"
                f"  (warm-up {rec['warmup_seconds']:.1f} s)  peak {rec['peak_mb']:7.0f} MB  "
                f"M0(nat,k33)={rec['M0']:.6f}",
                flush=True,
            )
        base = next((r for r in results if r["n"] == n and r["config"] == "mpitb"), None)
        mine = next((r for r in results if r["n"] == n and r["config"] == "dongxi_k33"), None)
        if base and mine:
            print(
                f"{n:>11,d}  mpitb / dongxi_k33 = {base['seconds'] / mine['seconds']:.1f}x",
                flush=True,
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
