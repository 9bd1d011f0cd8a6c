"""Benchmark: needs drafted from a province-sized registry (``dongxi needs draft``).

Builds with NumPy (seeded) a registry of ``--people`` people (default 1,000,000, ≈ 3.1 per
household) in a fresh database — households of the four statuses (60 % escaped, 34 % never, 5 %
monitored, 1 % registered poor), ages 0–85, labour capacity and school status, a 低保 measure for
5 % of households — written straight with SQL (not through the importer: the import has its own
benchmark), then times, through the use case :func:`dongxi.services.drafted_needs.
export_registry_drafts` as the local operator:

1. ``select`` — who gets a draft, the whole registry, nothing written (one query, and the rows
   built in Python: :func:`dongxi.services.drafted_needs.draft_registry_needs`);
2. ``file`` — the same, written as one CSV in the needs' import format, nothing kept;
3. ``write`` — the drafts kept: the rows and their change-log entries, one transaction;
4. ``again`` — a second run: every person now has a need, nothing is drafted;
5. ``township file`` — one township's drafts (``--region``) written as XLSX for its cadres.

Run::

    uv run python benchmarks/bench_drafts.py                       # SQLite, 1,000,000 people
    DONGXI_BENCH_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test uv run python \\
        benchmarks/bench_drafts.py --backends sqlite postgresql
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

AS_OF = dt.date(2026, 6, 30)
_CHUNK = 50_000


def _rows(people: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 2, 3, 4, 5, 6], size=people, p=[0.1, 0.2, 0.3, 0.25, 0.1, 0.05])
    ends = np.cumsum(sizes)
    n = int(np.searchsorted(ends, people)) + 1
    sizes = sizes[:n]
    sizes[-1] -= int(ends[n - 1] - people)
    codes = np.char.add("H", np.char.zfill(np.arange(n).astype(str), 8))
    # 100 townships of 30 villages in county 450123
    villages = np.char.add(
        "450123",
        np.char.add(
            np.char.zfill(rng.integers(100, 200, n).astype(str), 3),
            np.char.zfill(rng.integers(200, 230, n).astype(str), 3),
        ),
    )
    status = rng.choice(
        ["escaped", "never", "monitored", "registered_poor"], n, p=[0.6, 0.34, 0.05, 0.01]
    )
    households = [
        {
            "household_code": str(codes[i]),
            "village_code": str(villages[i]),
            "status": str(status[i]),
            "monitoring_category": "marginal" if status[i] == "monitored" else None,
            "housing_grade": "B",
            "water_quantity_ok": True,
            "water_quality_ok": True,
            "water_convenience_ok": True,
            "water_guarantee_ok": True,
            "road_access": True,
            "electricity": True,
        }
        for i in range(n)
    ]
    household_of = np.repeat(np.arange(n), sizes)
    member = np.concatenate([np.arange(1, s + 1) for s in sizes])
    ages = rng.integers(0, 86, people)
    born = [AS_OF - dt.timedelta(days=int(a * 365.25 + d)) for a, d in
            zip(ages, rng.integers(0, 365, people), strict=True)]  # fmt: skip
    capacity = rng.choice(
        ["skilled", "normal", "weak", "lost", "none"], people, p=[0.1, 0.5, 0.15, 0.1, 0.15]
    )
    capacity = np.where(ages < 16, "none", capacity)
    school = np.where(
        ages < 16,
        "primary",
        np.where((ages < 23) & (rng.random(people) < 0.4), "senior", "not_in_school"),
    )
    people_rows = [
        {
            "id_hash": f"{i:064x}",
            "id_encrypted": b"\0" * 16,
            "id_masked": "4501**************",
            "household_code": str(codes[household_of[i]]),
            "member_no": int(member[i]),
            "name": "测试",
            "relation": "head" if member[i] == 1 else "child",
            "sex": "male",
            "birth_date": born[i],
            "education": "junior",
            "school_status": str(school[i]),
            "health": "healthy",
            "medical_insurance": True,
            "pension_insurance": True,
            "labour_capacity": str(capacity[i]),
            "employment": "local",
            "skills": "电焊" if capacity[i] == "skilled" else None,
        }
        for i in range(people)
    ]
    return households, people_rows


def build(url: str, people: int, seed: int) -> int:
    """A registry at head holding the generated people; returns the household count."""
    from dongxi.store.db import make_engine, upgrade

    upgrade(url)
    households, people_rows = _rows(people, seed)
    engine = make_engine(url)
    meta = sa.MetaData()
    tables = {t: sa.Table(t, meta, autoload_with=engine) for t in ("households", "people")}
    measures = sa.Table("measures", meta, autoload_with=engine)
    net = [h["household_code"] for h in households[::20]]
    with engine.begin() as conn:
        for name, rows in (("households", households), ("people", people_rows)):
            for start in range(0, len(rows), _CHUNK):
                conn.execute(sa.insert(tables[name]), rows[start : start + _CHUNK])
        conn.execute(
            sa.insert(measures),
            [
                {"measure_code": f"M{c}", "household_code": c, "batch": "social_security",
                 "subtype": "低保", "funds": 3600.0, "fund_source": "west_fiscal",
                 "status": "in_progress"}
                for c in net
            ],
        )  # fmt: skip
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("ANALYZE households; ANALYZE people; ANALYZE measures"))
    engine.dispose()
    return len(households)


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'drafts.db'}"
        return
    server = os.environ.get("DONGXI_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    name = f"dongxi_bench_drafts_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(backend: str, people: int, seed: int) -> None:
    from dongxi.services.drafted_needs import draft_registry_needs, export_registry_drafts
    from dongxi.services.principal import Principal

    operator = Principal.local_operator()
    with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
        t = time.perf_counter()
        households = build(url, people, seed)
        print(f"{backend}: built {households:,} households, {people:,} people "
              f"in {time.perf_counter() - t:.1f} s")  # fmt: skip
        from dongxi.store.db import make_engine, session_scope

        engine = make_engine(url)
        t = time.perf_counter()
        with session_scope(engine) as session:
            rows, _ = draft_registry_needs(session, operator, as_of=AS_OF)
        print(f"  {'select':14s} {time.perf_counter() - t:7.1f} s  drafted {len(rows):,}")
        engine.dispose()
        steps: list[tuple[str, dict[str, Any]]] = [
            ("file", {"out": Path(tmp) / "all.csv"}),
            ("write", {"write": True}),
            ("again", {"write": True}),
            ("township file", {"out": Path(tmp) / "township.xlsx", "region": "450123150"}),
        ]
        for label, options in steps:
            t = time.perf_counter()
            done = export_registry_drafts(principal=operator, url=url, as_of=AS_OF, **options)
            took = time.perf_counter() - t
            print(f"  {label:14s} {took:7.1f} s  drafted {len(done.drafted):,}, file rows "
                  f"{done.rows:,}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--backends", nargs="+", default=["sqlite"])
    args = parser.parse_args()
    os.environ.setdefault("DONGXI_ENCRYPTION_KEY", secrets.token_urlsafe(32))
    os.environ.setdefault("DONGXI_LOOKUP_KEY", secrets.token_urlsafe(32))
    print(f"load average before: {os.getloadavg()}")
    for backend in args.backends:
        run(backend, args.people, args.seed)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
