"""Benchmark: `dongxi serve --workers 2` under 100 concurrent users, against a plain-FastAPI floor.

A PostgreSQL registry of one province's scale (default 330,000 households from ``dongxi.synth``,
about 1.02 million people, one income year) is imported into a scratch database with
``dongxi.services.imports.import_tables``. Then, for a bounded time each:

1. ``dongxi serve --workers 2`` on 127.0.0.1 (an administrator's bearer token on every request);
2. the floor: a plain FastAPI app (no authentication, no audit record, no response models) whose
   routes call the same store queries (``dongxi.store._reads`` / ``_repository``) with an
   unrestricted scope, also served by uvicorn with 2 workers on 127.0.0.1.

100 users (asyncio tasks sharing one ``httpx2.AsyncClient`` of 100 connections) each loop over a
mix: 40 % household lists (a county or township prefix, sometimes a next page), 20 % name
searches (POST), 20 % ID-number searches (POST), 20 % households opened. Against the service a
third of the lists and households opened are the server-rendered pages (``/households``,
``/households/{code}``, with a browser session's cookie) instead of the JSON API. Each user
waits ``--think`` seconds on average (uniformly 0.5–1.5 ×, default 2 s) between an answer and
its next request, as a person reading a page does; ``--think 0`` is the saturation test. Every
value searched exists, so anything but a 200 is an error. Latency is measured per request from
send to full body; the report prints p50/p95/p99 per operation, requests per second, errors and
the load average.

asyncio + httpx2 rather than locust: httpx2 is already a dev dependency, one process of asyncio
tasks costs far less CPU than locust's gevent workers and web UI on a 2-core machine that also
runs the server and PostgreSQL, and the loop is bounded by construction (a deadline).

Only 127.0.0.1 is ever targeted. Run::

    uv run python benchmarks/bench_serve.py                       # build 330k households, run
    uv run python benchmarks/bench_serve.py --households 20000 --seconds 20   # quick look
    uv run python benchmarks/bench_serve.py --keep                # keep the scratch database
    uv run python benchmarks/bench_serve.py --url postgresql+psycopg://postgres@127.0.0.1:5432/DB
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"  # never anything else
HERE = Path(__file__).resolve().parent
FLOOR_URL_VAR = "DONGXI_BENCH_FLOOR_URL"


# --------------------------------------------------------------------------- the floor app
def floor_app() -> Any:
    """The plain FastAPI app: the same store queries, nothing around them (uvicorn factory)."""
    from fastapi import Body, FastAPI
    from sqlalchemy.orm import Session, sessionmaker

    from dongxi.pii.idnumber import validate_id
    from dongxi.store._reads import (
        household_income,
        household_members,
        household_status_history,
        households_by_member_name,
        page_households,
    )
    from dongxi.store._repository import get_household, get_person
    from dongxi.store.db import make_engine
    from dongxi.store.scope import Scope

    engine = make_engine(os.environ[FLOOR_URL_VAR])
    sessions = sessionmaker(bind=engine, class_=Session)
    everything = Scope.everything()
    app = FastAPI()

    def row(h: Any) -> dict[str, Any]:
        return {"household_code": h.household_code, "status": h.status}

    @app.get("/api/v1/households")
    def households(
        region: str | None = None, after: str | None = None, limit: int = 50
    ) -> dict[str, Any]:
        with sessions() as s:
            rows = page_households(
                s,
                scope=everything,
                village_prefix=region,
                status=None,
                after=after,
                limit=limit + 1,
            )
            return {"items": [row(h) for h in rows[:limit]]}

    @app.post("/api/v1/households/search")
    def search(body: dict[str, Any] = Body()) -> list[dict[str, Any]]:  # noqa: B008
        with sessions() as s:
            rows = households_by_member_name(s, scope=everything, name=body["name"], limit=50)
            return [row(h) for h in rows]

    @app.get("/api/v1/households/{code}")
    def household(code: str) -> dict[str, Any]:
        with sessions() as s:
            h = get_household(s, household_code=code, scope=everything)
            return {
                "household": row(h),
                "members": [p.member_no for p in household_members(s, household_code=code)],
                "income": [i.year for i in household_income(s, household_code=code)],
                "history": [x.status for x in household_status_history(s, household_code=code)],
            }

    @app.post("/api/v1/people/search")
    def person(body: dict[str, Any] = Body()) -> dict[str, Any]:  # noqa: B008
        with sessions() as s:
            p = get_person(
                s, scope=everything, id_number=validate_id(body["id_number"], column="id_number")
            )
            return {"household_code": p.household_code, "member_no": p.member_no}

    return app


# --------------------------------------------------------------------------- registry
@contextmanager
def scratch_postgres(prefix: str, keep: bool) -> Iterator[str]:
    """A new PostgreSQL database on ``DONGXI_BENCH_PG``'s server (dropped after unless kept)."""
    import uuid

    import sqlalchemy as sa

    server = os.environ.get("DONGXI_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server).set(database=name).render_as_string(False)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def build(url: str, households: int, seed: int) -> None:
    """Import ``households`` synthetic households (one income year) into the registry at ``url``."""
    from dongxi.services.imports import import_tables
    from dongxi.services.principal import Principal
    from dongxi.store.db import upgrade
    from dongxi.synth import generate

    upgrade(url)
    t0 = time.perf_counter()
    data = generate(households=households, seed=seed, years=(2020,))
    t1 = time.perf_counter()
    frames: Any = {k: getattr(data, k) for k in ("helpers", "households", "people", "income")}
    import_tables(
        principal=Principal(name="bench", role="admin"),
        frames=frames,
        source_name="bench_serve",
        url=url,
    )
    t2 = time.perf_counter()
    # the importer leaves planner statistics to autovacuum, which may not have run yet: without
    # them PostgreSQL scans the 330k households for every page (measured: 106 ms vs 0.08 ms)
    import sqlalchemy as sa

    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
    admin.dispose()
    print(
        f"registry: {len(data.households):,} households, {len(data.people):,} people "
        f"(generated {t1 - t0:.0f} s, imported {t2 - t1:.0f} s)",
        flush=True,
    )


def samples(url: str, n: int, seed: int) -> dict[str, list[str]]:
    """Household codes, member names, ID numbers and region prefixes that exist in the registry."""
    import sqlalchemy as sa

    from dongxi.pii.protect import get_protector
    from dongxi.store.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT p.household_code, p.name, p.id_encrypted, p.id_hash, h.village_code "
                "FROM people p JOIN households h USING (household_code) "
                "ORDER BY md5(p.household_code || p.member_no::text || :seed) LIMIT :n"
            ),
            {"n": n, "seed": str(seed)},
        ).all()
    engine.dispose()
    protector = get_protector()
    return {
        "codes": [r[0] for r in rows],
        "names": [r[1] for r in rows],
        "ids": [protector.decrypt(r[2], id_hash=r[3]) for r in rows],
        "regions": [r[4][: random.Random(i).choice((6, 9))] for i, r in enumerate(rows)],
    }


def admin_token(url: str) -> str:
    from dongxi.services import accounts
    from dongxi.services.principal import Principal
    from dongxi.store.db import make_engine, session_scope

    engine = make_engine(url)
    actor = Principal(name="bench", role="admin")
    with session_scope(engine) as session:
        accounts.add_user(
            session, actor, username="bench-admin", password="bench password 1234", role="admin"
        )
        token = accounts.create_token(session, actor, username="bench-admin")
    engine.dispose()
    return token


def page_sessions(url: str, n: int) -> list[str]:
    """``n`` browser sessions (the cookies' values) of the benchmark's administrator: one per
    user, as people each have their own (one shared session would make every page request
    touch the same row)."""
    from dongxi.services import accounts
    from dongxi.store.db import make_engine, session_scope

    engine = make_engine(url)
    out = []
    with session_scope(engine) as session:
        for _ in range(n):
            started = accounts.start_session(
                session, username="bench-admin", password="bench password 1234"
            )
            out.append(started.session_id)
    engine.dispose()
    return out


# --------------------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def server(kind: str, url: str, port: int) -> Iterator[None]:
    """``dongxi serve --workers 2`` or the floor app under uvicorn --workers 2, on 127.0.0.1."""
    env = dict(os.environ)
    if kind == "service":
        cmd = ["dongxi", "serve", "--workers", "2", "--host", HOST, "--port", str(port)]
        cmd += ["--url", url]
    else:
        env[FLOOR_URL_VAR] = url
        cmd = [sys.executable, "-m", "uvicorn", "bench_serve:floor_app", "--factory"]
        cmd += ["--app-dir", str(HERE), "--workers", "2", "--host", HOST, "--port", str(port)]
        cmd += ["--log-level", "warning"]
    log = open(f"/tmp/bench_serve_{kind}_{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        import httpx2

        deadline = time.monotonic() + 180  # start-up of 2 workers on a loaded machine
        path = "/readyz" if kind == "service" else "/docs"
        while True:
            try:
                if httpx2.get(f"http://{HOST}:{port}{path}", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{kind} did not start; see {log.name}")
            time.sleep(0.5)
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# --------------------------------------------------------------------------- load
async def load(
    port: int,
    token: str | None,
    data: dict[str, list[str]],
    users: int,
    seconds: float,
    seed: int,
    *,
    think: float = 2.0,
    cookies: list[str] | None = None,
) -> dict[str, Any]:
    """``users`` looping users for ``seconds`` (after a 5 s warm-up); latencies per operation.

    Each user waits ``think`` seconds on average (uniformly 0.5–1.5 × ``think``) between one
    answer and its next request, as a person reading a page does; ``think=0`` is the saturation
    test (every user sends its next request the moment the last one is answered). With
    ``cookies`` (one browser session of the service per user), a third of the list and household
    requests are the server-rendered pages (``/households``, ``/households/{code}``) instead of
    the JSON API.
    """
    import httpx2

    base = f"http://{HOST}:{port}"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx2.Limits(max_connections=users, max_keepalive_connections=users)
    lat: dict[str, list[float]] = {
        "list": [], "name": [], "id": [], "household": [], "list page": [], "household page": []
    }  # fmt: skip
    errors: dict[str, int] = {}
    warm_until = time.monotonic() + 5
    stop_at = warm_until + seconds

    async def user(client: Any, rng: random.Random, k: int) -> None:
        page_headers = {"Cookie": f"dongxi_session={cookies[k]}"} if cookies else {}
        if think:  # users arrive spread over one think time, not all in the same millisecond
            await asyncio.sleep(rng.uniform(0, think))
        while (now := time.monotonic()) < stop_at:
            pick = rng.random()
            i = rng.randrange(len(data["codes"]))
            page = cookies is not None and rng.random() < 1 / 3
            if pick < 0.4:
                op = "list page" if page else "list"
                params = {"region": data["regions"][i]}
                if rng.random() < 0.5:
                    params["after"] = data["codes"][i]
                if page:
                    req = client.get("/households", params=params, headers=page_headers)
                else:
                    req = client.get("/api/v1/households", params=params)
            elif pick < 0.6:
                op, req = (
                    "name",
                    client.post("/api/v1/households/search", json={"name": data["names"][i]}),
                )
            elif pick < 0.8:
                op, req = (
                    "id",
                    client.post("/api/v1/people/search", json={"id_number": data["ids"][i]}),
                )
            elif page:
                op = "household page"
                req = client.get(f"/households/{data['codes'][i]}", headers=page_headers)
            else:
                op, req = "household", client.get(f"/api/v1/households/{data['codes'][i]}")
            t0 = time.perf_counter()
            try:
                response = await req
                ok = response.status_code == 200
                key = f"{op} {response.status_code}"
            except httpx2.HTTPError as exc:
                ok, key = False, f"{op} {type(exc).__name__}"
            elapsed = time.perf_counter() - t0
            if now >= warm_until:  # the warm-up's answers are not counted
                if ok:
                    lat[op].append(elapsed)
                else:
                    errors[key] = errors.get(key, 0) + 1
            if think:  # in the warm-up too: users think from the start
                await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

    async with httpx2.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=30
    ) as client:
        await asyncio.gather(*(user(client, random.Random(seed + k), k) for k in range(users)))
    return {"latency": lat, "errors": errors, "seconds": seconds}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def report(name: str, result: dict[str, Any], load_before: tuple[float, ...]) -> None:
    lat = result["latency"]
    every = [x for v in lat.values() for x in v]
    n_err = sum(result["errors"].values())
    print(
        f"\n{name}: {len(every):,} ok requests in {result['seconds']:.0f} s "
        f"({len(every) / result['seconds']:.0f}/s), {n_err} errors {result['errors'] or ''}; "
        f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}"
    )
    print(f"  {'operation':<15} {'n':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for op, values in [*((k, v) for k, v in lat.items() if v), ("all", every)]:
        print(
            f"  {op:<15} {len(values):>7,} {pct(values, 0.5):>8.1f} {pct(values, 0.95):>8.1f} "
            f"{pct(values, 0.99):>8.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=330_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-pages",
        action="store_true",
        help="the JSON API only (no browser session, no server-rendered pages)",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=2.0,
        help="mean seconds a user waits between an answer and its next request (0: saturation)",
    )
    parser.add_argument("--url", help="an existing registry built by this script (--keep)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--only", choices=("service", "floor"), help="run one side only")
    args = parser.parse_args()
    if not 1 <= args.users <= 500 or not 1 <= args.seconds <= 600 or not 0 <= args.think <= 30:
        parser.error("--users must be 1..500, --seconds 1..600 and --think 0..30")
    print(
        f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}; {args.users} users, {args.seconds:.0f} s each, "
        f"think time {args.think:g} s",
        flush=True,
    )
    if (
        not args.url
    ):  # a new registry: new random ID-number keys unless given (inherited by servers)
        for var in ("DONGXI_ENCRYPTION_KEY", "DONGXI_LOOKUP_KEY"):
            os.environ.setdefault(var, secrets.token_urlsafe(32))
    scratch = (
        nullcontext(args.url) if args.url else scratch_postgres("dongxi_bench_serve", args.keep)
    )
    with scratch as url:
        if not args.url:
            build(url, args.households, args.seed)
            token = admin_token(url)
            if args.keep:  # synthetic data: what a rerun with --url needs
                print(
                    f"rerun with: DONGXI_BENCH_TOKEN={token} "
                    f"DONGXI_ENCRYPTION_KEY={os.environ['DONGXI_ENCRYPTION_KEY']} "
                    f"DONGXI_LOOKUP_KEY={os.environ['DONGXI_LOOKUP_KEY']} "
                    f"uv run python benchmarks/bench_serve.py --url {url}"
                )
        else:
            token = os.environ.get("DONGXI_BENCH_TOKEN") or admin_token(url)
        data = samples(url, 5000, args.seed)
        cookies = None if args.no_pages else page_sessions(url, args.users)
        sides = [args.only] if args.only else ["service", "floor"]
        for kind in sides:
            port = free_port()
            with server(kind, url, port):
                before = os.getloadavg()
                result = asyncio.run(
                    load(
                        port,
                        token if kind == "service" else None,
                        data,
                        args.users,
                        args.seconds,
                        args.seed,
                        think=args.think,
                        cookies=cookies if kind == "service" else None,
                    )
                )
            name = "dongxi serve --workers 2" if kind == "service" else "floor (plain FastAPI)"
            report(name, result, before)


if __name__ == "__main__":
    main()
