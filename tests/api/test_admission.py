"""Requests beyond what the pool can serve wait at the door in arrival order, not in the pool.

Under saturation SQLAlchemy's pool served its waiters in no order, and a few requests waited
its full 30 s timeout; ``AdmissionLimit`` lets in at most as many requests as there are
connections for them, the others waiting first come, first served.
"""

from __future__ import annotations

import asyncio

import httpx2
import pytest
from sqlalchemy.pool import NullPool, QueuePool
from starlette.types import Receive, Scope, Send

from dongxi.api.app import AdmissionLimit, request_capacity
from dongxi.store.db import make_engine


def _counting_app(inside: list[int], peak: list[int], order: list[int]):  # type: ignore[no-untyped-def]
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        inside[0] += 1
        peak[0] = max(peak[0], inside[0])
        order.append(int(scope["path"].rsplit("/", 1)[-1]))
        await asyncio.sleep(0.01)
        inside[0] -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


@pytest.mark.parametrize("limit", [1, 3])
def test_at_most_limit_requests_are_inside_and_they_enter_in_order(limit: int) -> None:
    inside, peak, order = [0], [0], []
    app = AdmissionLimit(_counting_app(inside, peak, order), limit=limit)

    async def main() -> list[int]:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://t") as client:
            tasks = []
            for i in range(20):
                tasks.append(asyncio.create_task(client.get(f"/api/v1/x/{i}")))
                await asyncio.sleep(0)  # arrive one after another
            return [r.status_code for r in await asyncio.gather(*tasks)]

    assert asyncio.run(main()) == [200] * 20
    assert peak[0] == limit
    assert order == sorted(order)  # first come, first served


def test_static_files_and_liveness_pass_freely() -> None:
    inside, peak, order = [0], [0], []
    app = AdmissionLimit(_counting_app(inside, peak, order), limit=1)

    async def main() -> None:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://t") as client:
            await asyncio.gather(*(client.get(f"/static/{i}") for i in range(5)))

    asyncio.run(main())
    assert peak[0] == 5


def test_capacity_is_the_pool_less_the_jobs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = make_engine(url, poolclass=QueuePool, pool_size=4, max_overflow=6)
    assert request_capacity(engine, 2) == 8
    assert (
        request_capacity(make_engine(url, poolclass=QueuePool, pool_size=1, max_overflow=0), 2) == 1
    )
    assert request_capacity(make_engine(url, poolclass=NullPool), 2) == 64
