"""Time the registry core: reference load, bulk change log, chain verification, ID protection.

Run: ``uv run python benchmarks/store_core.py [--rows 500000] [--pg postgresql://…/db]``.
SQLite runs in a temporary folder; PostgreSQL (optional) needs an empty database it may fill and
downgrade. Prints wall-clock and CPU seconds (``process_time``, this process only: less
disturbed by other jobs on a shared machine; the database server's own CPU is not in it) per step,
and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from dongxi.pii.idnumber import build_id
from dongxi.pii.protect import IdProtector
from dongxi.store import Change, make_engine, record_changes, upgrade, verify_chain
from dongxi.store.db import downgrade


def _time(label: str, func: object) -> float:
    start = time.perf_counter()
    cpu = time.process_time()
    func()  # type: ignore[operator]
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    load = os.getloadavg()[0]
    print(f"{label:<55} {seconds:8.2f} s wall {cpu:8.2f} s CPU   (load {load:.1f})")
    return seconds


def changes(rows: int) -> list[Change]:
    birth = dt.date(1975, 6, 1)
    return [
        Change(
            key=f"4501231002{i:08d}",
            after={
                "household_code": f"4501231002{i // 4:08d}",
                "member_no": i % 4 + 1,
                "id_number": build_id(region_code="450123", birth_date=birth, sequence=i % 1000),
                "name": "测试",
                "relation": "head",
                "sex": "male",
                "birth_date": birth,
                "education": "junior",
                "health": "healthy",
                "employment": "migrant_out",
                "monthly_wage": 3485.0,
            },
        )
        for i in range(rows)
    ]


def run(url: str, label: str, batch: list[Change]) -> None:
    downgrade(url, "base")
    _time(f"{label}: upgrade from empty + reference data", lambda: upgrade(url))
    _time(f"{label}: upgrade again (idempotent)", lambda: upgrade(url))
    engine = make_engine(url)

    def write() -> None:
        with engine.begin() as conn:
            record_changes(conn, actor="bench", action="create", entity="people", changes=batch)

    _time(f"{label}: record_changes, {len(batch):,} entries", write)
    _time(f"{label}: verify_chain, {len(batch):,} entries", lambda: verify_chain(engine))
    engine.dispose()
    downgrade(url, "base")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--pg", default=None, help="an empty PostgreSQL database URL")
    args = parser.parse_args()
    protector = IdProtector(encryption_key="k" * 40, lookup_key="l" * 40)
    birth = dt.date(1980, 1, 1)
    numbers = [
        build_id(region_code="450123", birth_date=birth, sequence=i % 1000)
        for i in range(args.rows)
    ]
    _time(
        f"protect (validate+encrypt+hash+mask) {len(numbers):,} IDs",
        lambda: [protector.protect(n) for n in numbers],
    )
    _time(f"hash {len(numbers):,} IDs", lambda: [protector.hash(n) for n in numbers])
    _time(f"encrypt {len(numbers):,} IDs", lambda: [protector.encrypt(n) for n in numbers])
    batch = changes(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{Path(folder) / 'bench.db'}", "SQLite", batch)
    if args.pg:
        run(args.pg, "PostgreSQL", batch)


if __name__ == "__main__":
    main()
