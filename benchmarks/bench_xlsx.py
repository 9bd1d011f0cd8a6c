"""Benchmark: reading an office's XLSX sheet of people, dongxi's reader against pandas' openpyxl.

Writes ``--rows`` synthetic people (``dongxi.synth``, Chinese headers, the import format) to an
XLSX file once, then reads it ``--repeat`` times with ``dongxi.tables.read_table(as_text=True)``
(calamine) and with ``pandas.read_excel(dtype=str, engine="openpyxl")`` (the peer), in the same
run, and checks that both give the same cells.

Run::

    uv run python benchmarks/bench_xlsx.py --rows 50000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from dongxi.intake.headers import localize
from dongxi.synth import generate
from dongxi.tables import read_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = generate(households=max(args.rows // 3, 10), seed=0, years=(2020,))
    frame = localize(data.people, kind="people").head(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "people.xlsx"
        start = time.perf_counter()
        frame.to_excel(path, index=False)
        took = time.perf_counter() - start
        print(f"wrote {len(frame):,} rows x {frame.shape[1]} columns in {took:.1f} s")
        print(f"load {os.getloadavg()}")
        ours, peer = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            got = read_table(path, as_text=True)
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            reference = pd.read_excel(path, dtype=str, engine="openpyxl")
            peer.append(time.perf_counter() - start)
        expected = reference.astype(object).where(reference.notna(), None)
        assert got.to_dict("list") == expected.to_dict("list"), "the readers disagree"
        best_ours, best_peer = min(ours), min(peer)
        print("| reader | best of runs (s) |")
        print("| --- | ---: |")
        print(f"| dongxi read_table (calamine) | {best_ours:.2f} |")
        print(f"| pandas read_excel (openpyxl) | {best_peer:.2f} |")
        print(f"ratio openpyxl / dongxi: {best_peer / best_ours:.1f}")


if __name__ == "__main__":
    main()
