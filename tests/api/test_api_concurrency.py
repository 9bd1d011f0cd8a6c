"""More concurrent requests than pooled connections: every one is answered, none waits forever.

A dependency that reads the database must not run on the event loop: there it blocks the loop
while it waits for a pooled connection, and the requests holding the connections need the loop
to finish and give them back (the service hung under 100 users before ``get_principal`` became a
plain function run in the thread pool).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx2
from api_fixtures import ADMIN, PASSWORD
from sqlalchemy.pool import QueuePool

from dongxi.api.app import create_app
from dongxi.services import accounts
from dongxi.store.db import make_engine, session_scope, upgrade


def test_requests_beyond_the_pool_are_all_answered(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/registry.db"
    upgrade(url)
    # two connections, and a request waits at most 5 s for one
    engine = make_engine(url, poolclass=QueuePool, pool_size=2, max_overflow=0, pool_timeout=5)
    with session_scope(engine) as session:
        accounts.add_user(session, ADMIN, username="busy", password=PASSWORD, role="analyst")
        token = accounts.create_token(session, ADMIN, username="busy")

    async def burst() -> list[int]:
        transport = httpx2.ASGITransport(app=create_app(engine))
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as client:
            responses = await asyncio.gather(*(client.get("/api/v1/auth/me") for _ in range(24)))
        return [r.status_code for r in responses]

    try:
        assert asyncio.run(asyncio.wait_for(burst(), timeout=60)) == [200] * 24
    finally:
        engine.dispose()
