"""Time ``dongxi.synth.generate`` and ``write_files`` at the sizes the project uses.

Run: ``uv run python benchmarks/synth_generate.py [--province] [--months]`` (the province case
takes about a minute and several GB of memory). Prints one line per case: wall time, CPU time,
rows. ``--months``: 330,000 households (about a million people) with the monthly panel
2021–2025 (``through=2025``, ~20 million ``income_months`` rows), against its peer, the same
households with the one year 2020 only, and the ratio of the two.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

from dongxi.synth import generate, write_files


def _case(label: str, **kwargs: object) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    data = generate(**kwargs)  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    months = "" if data.income_months is None else f"  month rows {len(data.income_months):>10,}"
    print(
        f"{label:<34} wall {wall:6.1f} s  cpu {cpu:6.1f} s"
        f"  households {len(data.households):>9,}  people {len(data.people):>9,}"
        f"  income rows {len(data.income):>9,}{months}  peak RSS {peak:,.0f} MB"
    )
    if kwargs.get("households") == 100_000:
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            write_files(data, folder, fmt="csv", headers="zh")
            print(
                f"{'  write_files csv (zh headers)':<34} wall {time.perf_counter() - start:6.1f} s"
            )
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--province", action="store_true", help="also the 33-county province")
    parser.add_argument(
        "--months", action="store_true", help="only the monthly panel 2021-2025 and its peer"
    )
    args = parser.parse_args()
    if args.months:
        peer = _case("households=330_000, 2020 only", households=330_000, years=(2020,))
        months = _case(
            "households=330_000, 2020 + months to 2025",
            households=330_000,
            years=(2020,),
            through=2025,
        )
        print(
            f"{'  ratio months / peer':<34} wall {months[0] / peer[0]:6.2f}x"
            f"  cpu {months[1] / peer[1]:6.2f}x"
        )
        return
    _case("households=10_000, 5 years", households=10_000)
    _case("households=100_000, 5 years", households=100_000)
    if args.province:
        _case("scale=province, 1 year (2020)", scale="province", years=(2020,))
        _case("scale=province, 5 years", scale="province")


if __name__ == "__main__":
    main()
