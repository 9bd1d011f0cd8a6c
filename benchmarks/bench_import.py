"""Benchmark: import 100k households + their people + one year of income from CSV files.

Data come from ``dongxi.synth`` (deterministic by seed), written as the Chinese-header CSV files
offices hold (``dongxi.store.headers.localize``). Each file is imported with
``dongxi.store.importer.import_file`` (read, detect kind, validate, upsert, change log) into a fresh
registry on SQLite and on PostgreSQL, then imported a second time (nothing changes).

Run::

    uv run python benchmarks/bench_import.py --households 100000
    DONGXI_BENCH_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test uv run python \
        benchmarks/bench_import.py --households 100000 --backends sqlite postgresql
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from dongxi.store.db import make_engine, upgrade
from dongxi.store.headers import localize
from dongxi.store.importer import import_file


def make_files(households: int, folder: Path, seed: int) -> dict[str, tuple[Path, int]]:
    from dongxi.synth import generate

    data = generate(households=households, seed=seed, years=(2020,))
    files = {}
    for kind in ("helpers", "households", "people", "income"):
        frame = getattr(data, kind)
        path = folder / f"{kind}.csv"
        localize(frame, kind=kind).to_csv(path, index=False, encoding="utf-8-sig")
        files[kind] = (path, len(frame))
    return files


def run(url: str, files: dict[str, tuple[Path, int]]) -> list[tuple[str, int, float, float]]:
    engine = make_engine(url)
    upgrade(engine)
    rows = []
    for kind, (path, n) in files.items():
        t0 = time.perf_counter()
        first = import_file(engine, path, actor="bench")
        t1 = time.perf_counter()
        again = import_file(engine, path, actor="bench")
        t2 = time.perf_counter()
        assert first.ok and first.created == n, (kind, first.errors[:3])
        assert again.unchanged == n and again.created == again.updated == 0
        rows.append((kind, n, t1 - t0, t2 - t1))
    engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        files = make_files(args.households, folder, args.seed)
        print(f"synthesised and wrote CSV files in {time.perf_counter() - t0:.1f} s")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}")
        for backend in args.backends:
            if backend == "sqlite":
                url = f"sqlite:///{folder / 'bench.db'}"
                results = run(url, files)
            else:
                server = os.environ.get(
                    "DONGXI_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
                )
                name = f"dongxi_bench_{uuid.uuid4().hex[:8]}"
                admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                try:
                    url = sa.make_url(server).set(database=name).render_as_string(False)
                    results = run(url, files)
                finally:
                    with admin.connect() as conn:
                        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    admin.dispose()
            total = sum(r[2] for r in results)
            print(f"\n{backend}: import {total:.1f} s in total")
            print("| table | rows | first import (s) | re-import, unchanged (s) |")
            print("| --- | ---: | ---: | ---: |")
            for kind, n, first, again in results:
                print(f"| {kind} | {n:,} | {first:.1f} | {again:.1f} |")


if __name__ == "__main__":
    main()
