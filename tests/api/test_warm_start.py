"""A served app does at start what its first requests would otherwise each do.

Under load, the first page requests of a new worker each built the table of division names
(seconds of CPU, once per thread, since ``functools.cache`` does not stop concurrent builders):
a hundred users waited 20 s behind them. Now the names are built once per process under a lock,
and ``dongxi serve``'s app (``create_app(..., warm=True)``) builds them and compiles the
templates before it takes a connection.
"""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dongxi.api.app import create_app
from dongxi.services import regions
from dongxi.web.pages import templates


@pytest.fixture
def cold_names(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The names' table forgotten; each build counted (and slowed, so that builders overlap)."""
    builds: list[int] = []
    real = regions._with_full_names.__wrapped__

    def counted(vintage: int):  # type: ignore[no-untyped-def]
        builds.append(vintage)
        threading.Event().wait(0.05)
        return real(vintage)

    regions._build_full_names.cache_clear()
    regions._with_full_names.cache_clear()
    monkeypatch.setattr(regions, "_with_full_names", counted)
    yield builds
    regions._build_full_names.cache_clear()


def test_concurrent_first_requests_build_the_names_once(cold_names: list[int]) -> None:
    start = threading.Barrier(16)
    seen: list[str] = []

    def ask() -> None:
        start.wait()
        seen.append(regions.place_name("450123"))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == ["广西壮族自治区 南宁市 隆安县"] * 16
    assert sorted(cold_names) == [2017, 2023]  # one build of each vintage, not one per thread


@pytest.mark.parametrize("warm", [True, False])
def test_a_warm_app_loads_names_and_templates_at_start(
    api_registry: Engine, cold_names: list[int], warm: bool
) -> None:
    templates.env.cache.clear()
    with TestClient(create_app(api_registry, warm=warm)) as client:
        assert client.get("/healthz").status_code == 200
        loaded = len(cold_names) == 2
        compiled = len(templates.env.cache)
    assert loaded is warm
    html = [n for n in templates.env.list_templates() if n.endswith(".html")]
    assert (compiled >= len(html)) is warm
