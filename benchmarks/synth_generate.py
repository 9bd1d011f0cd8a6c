"""Time ``dongxi.synth.generate`` and ``write_files`` at the sizes the project uses.

Run: ``uv run python benchmarks/synth_generate.py [--province]`` (the province case takes about a
minute and several GB of memory). Prints one line per case: wall time, CPU time, rows.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

from dongxi.synth import generate, write_files


def _case(label: str, **kwargs: object) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    data = generate(**kwargs)  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{label:<34} wall {wall:6.1f} s  cpu {cpu:6.1f} s"
        f"  households {len(data.households):>9,}  people {len(data.people):>9,}"
        f"  income rows {len(data.income):>9,}  peak RSS {peak:,.0f} MB"
    )
    if kwargs.get("households") == 100_000:
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            write_files(data, folder, fmt="csv", headers="zh")
            print(
                f"{'  write_files csv (zh headers)':<34} wall {time.perf_counter() - start:6.1f} s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--province", action="store_true", help="also the 33-county province")
    args = parser.parse_args()
    _case("households=10_000, 5 years", households=10_000)
    _case("households=100_000, 5 years", households=100_000)
    if args.province:
        _case("scale=province, 1 year (2020)", scale="province", years=(2020,))
        _case("scale=province, 5 years", scale="province")


if __name__ == "__main__":
    main()
