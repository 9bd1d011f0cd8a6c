"""Every endpoint × every role, on a registry of synthetic households in several counties.

The matrix is built from the app's route table: a route without an entry in ``EXPECTED`` fails
the test, so a new endpoint cannot be added without saying who may call it. Requests aim at a
household and a person inside the caller's county (``home``) and in another county (``away``);
every read across counties must be a 404, indistinguishable from a record that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from api_fixtures import ADMIN, import_synth
from api_matrix import EXPECTED
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from monitoring_world import monitoring_world
from sqlalchemy.engine import Engine

from dongxi.api.app import create_app
from dongxi.pii.protect import get_protector

ROLES = (
    "anonymous",
    "admin",
    "county_officer",
    "village_officer",
    "auditor",
    "analyst",
    "east_office",
    "east_partner",
)


@pytest.fixture(scope="module")
def world(api_registry: Engine) -> dict[str, Any]:
    """A registry of 700 synthetic households in two counties; home: the first one's county."""
    data = import_synth(api_registry, households=700, seed=11)
    state = data.rounds[2019]
    hh = state.households
    home_village = str(hh["village_code"].iloc[0])
    home_county = home_village[:6]
    home = hh[hh["village_code"] == home_village]
    away = hh[hh["village_code"].str[:6] != home_county]
    assert len(away), "the synthetic registry must span more than one county"
    people = state.people
    person_home = people[people["household_code"] == home["household_code"].iloc[0]].iloc[0]
    person_away = people[people["household_code"] == away["household_code"].iloc[0]].iloc[0]
    requests = _closed_requests(
        api_registry,
        home=(home_village, str(home["household_code"].iloc[0])),
        away=(str(away["village_code"].iloc[0]), str(away["household_code"].iloc[0])),
    )
    monitoring = monitoring_world(
        api_registry,
        home_code=str(home["household_code"].iloc[0]),
        away_code=str(away["household_code"].iloc[0]),
    )
    return {
        **requests,
        **monitoring,
        "home_village": home_village,
        "home_county": home_county,
        "home_code": str(home["household_code"].iloc[0]),
        "away_code": str(away["household_code"].iloc[0]),
        "away_county": str(away["village_code"].iloc[0])[:6],
        "home_id": str(person_home["id_number"]),
        "away_id": str(person_away["id_number"]),
        "home_hash": get_protector().hash(str(person_home["id_number"])),
        "away_hash": get_protector().hash(str(person_away["id_number"])),
        "home_name": str(person_home["name"]),
        "away_name": str(person_away["name"]),
        "partner": str(data.partners["partner_code"].iloc[0]),
        "households": len(hh),
        "home_county_households": int((hh["village_code"].str[:6] == home_county).sum()),
    }


def _closed_requests(
    engine: Engine, *, home: tuple[str, str], away: tuple[str, str]
) -> dict[str, int]:
    """One rejected change request in each county (proposed by a village officer there)."""
    from dongxi.services import changes
    from dongxi.services.principal import Principal
    from dongxi.store.db import session_scope
    from dongxi.store.scope import Scope

    out: dict[str, int] = {}
    with session_scope(engine) as session:
        for where, (village, code) in (("home", home), ("away", away)):
            proposer = Principal(
                name=f"matrix-{where}", role="village_officer", scope=Scope.region(village)
            )
            made = changes.edit_household(
                session, proposer, household_code=code, expected_version=1,
                changes={"road_access": False},
            )  # fmt: skip
            assert made.request_id is not None
            changes.reject(session, ADMIN, request_id=made.request_id, comment="matrix")
            out[f"{where}_request"] = made.request_id
    return out


@pytest.fixture(scope="module")
def tokens(api_registry: Engine, world: dict[str, Any]) -> dict[str, str | None]:
    from dongxi.services import accounts
    from dongxi.store.db import session_scope

    scopes: dict[str, dict[str, str]] = {
        "admin": {},
        "county_officer": {"region": world["home_county"]},
        "village_officer": {"region": world["home_village"]},
        "auditor": {},
        "analyst": {},
        "east_office": {"region": "4403"},
        "east_partner": {"partner": world["partner"]},
    }
    out: dict[str, str | None] = {"anonymous": None}
    with session_scope(api_registry) as session:
        for role, kw in scopes.items():
            name = f"{role}-{uuid.uuid4().hex[:6]}"
            accounts.add_user(session, ADMIN, username=name, password="x" * 16, role=role, **kw)
            out[role] = accounts.create_token(session, ADMIN, username=name)
    return out


@pytest.fixture(scope="module")
def app_client(api_registry: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(api_registry)) as client:
        yield client


@pytest.fixture(autouse=True)
def fresh_login_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no login attempts counted (the limiter is per process)."""
    from dongxi.api.routes import auth

    monkeypatch.setattr(auth, "_LIMITER", auth._RateLimiter())


def _send(
    client: TestClient, verb: str, url: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> Any:
    """One request as the route expects it: JSON for the API, a form for the pages; redirects
    are answers too (a page without a session redirects to /login)."""
    if url.startswith("/api") or body is None:
        return client.request(verb, url, json=body, headers=headers, follow_redirects=False)
    return client.request(verb, url, data=body, headers=headers, follow_redirects=False)


def _routes() -> list[tuple[str, str]]:
    """Every (method, path) the app serves: the OpenAPI schema's operations (all routes of the
    routers) and the app's own routes outside the schema (the docs page)."""
    from dongxi.api.app import create_app as make

    app = make(sa.create_engine("sqlite://"))
    found = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    from dongxi.web import (
        household_pages,
        import_pages,
        market_pages,
        measure_pages,
        notice_pages,
        overview_pages,
    )
    from dongxi.web.pages import router as pages

    outside = [
        *pages.routes,
        *household_pages.router.routes,
        *market_pages.router.routes,
        *overview_pages.router.routes,
        *import_pages.router.routes,
        *measure_pages.router.routes,
        *notice_pages.router.routes,
    ]
    for route in [*app.routes, *outside]:  # the pages are outside the schema
        if isinstance(route, APIRoute):
            found |= {(m, route.path) for m in route.methods - {"HEAD"}}
    return sorted(found)


def test_every_route_has_an_entry() -> None:
    missing = [r for r in _routes() if r not in EXPECTED]
    assert missing == [], f"add these routes to EXPECTED with who may call them: {missing}"
    stale = [r for r in EXPECTED if r not in _routes()]
    assert stale == []


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(
    role: str, app_client: TestClient, world: dict[str, Any], tokens: dict[str, str | None]
) -> None:
    headers = {} if tokens[role] is None else {"Authorization": f"Bearer {tokens[role]}"}
    wrong: list[str] = []
    for (_method, path), cases in EXPECTED.items():
        if path == "/api/v1/auth/logout":
            continue  # run last: it would end nothing for a token, but keep the order plain
        for build, expect in cases:
            verb, url, body = build(world)
            response = _send(app_client, verb, url, body, headers)
            if response.status_code != expect(role):
                wrong.append(f"{verb} {path}: {response.status_code}, expected {expect(role)}")
    verb, url, body = EXPECTED[("POST", "/api/v1/auth/logout")][0][0](world)
    status = _send(app_client, verb, url, body, headers).status_code
    if status != EXPECTED[("POST", "/api/v1/auth/logout")][0][1](role):
        wrong.append(f"logout: {status}")
    assert wrong == []


def test_lists_hold_only_the_scope(
    app_client: TestClient, world: dict[str, Any], tokens: dict[str, str | None]
) -> None:
    def every(token: str | None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        after = None
        while True:
            params = {"limit": 7, **({"after": after} if after else {})}
            page = app_client.get(
                "/api/v1/households", params=params, headers={"Authorization": f"Bearer {token}"}
            ).json()
            rows += page["items"]
            after = page["next_after"]
            if after is None:
                return rows

    county = every(tokens["county_officer"])
    assert len(county) == world["home_county_households"]
    assert {r["county_code"] for r in county} == {world["home_county"]}
    everything = every(tokens["admin"])
    assert len(everything) == world["households"]
    codes = [r["household_code"] for r in everything]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)  # keyset: no row twice
    village = every(tokens["village_officer"])
    assert {r["village_code"] for r in village} == {world["home_village"]}
    found = app_client.post(
        "/api/v1/households/search",
        json={"name": world["away_name"]},
        headers={"Authorization": f"Bearer {tokens['county_officer']}"},
    ).json()
    assert world["away_code"] not in {r["household_code"] for r in found}


def test_outside_scope_looks_exactly_like_missing(
    app_client: TestClient, world: dict[str, Any], tokens: dict[str, str | None]
) -> None:
    headers = {"Authorization": f"Bearer {tokens['county_officer']}"}
    away = app_client.get(f"/api/v1/households/{world['away_code']}", headers=headers)
    missing = app_client.get("/api/v1/households/NO-SUCH-CODE", headers=headers)
    assert away.status_code == missing.status_code == 404
    # the same body, but for the code the caller asked for (echoed in the detail)
    assert away.json()["detail"].replace(world["away_code"], "X") == missing.json()[
        "detail"
    ].replace("NO-SUCH-CODE", "X")
    assert {k: v for k, v in away.json().items() if k != "detail"} == {
        k: v for k, v in missing.json().items() if k != "detail"
    }


def test_reads_of_personal_records_are_audited(
    api_registry: Engine,
    app_client: TestClient,
    world: dict[str, Any],
    tokens: dict[str, str | None],
) -> None:
    headers = {"Authorization": f"Bearer {tokens['auditor']}"}
    with api_registry.connect() as conn:
        before = conn.execute(
            sa.text("SELECT count(*) FROM change_log WHERE action = 'read'")
        ).scalar_one()
    assert (
        app_client.get(f"/api/v1/households/{world['home_code']}", headers=headers).status_code
        == 200
    )
    assert (
        app_client.post(
            "/api/v1/people/search", json={"id_number": world["home_id"]}, headers=headers
        ).status_code
        == 200
    )
    with api_registry.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT actor, entity, entity_key FROM change_log WHERE action = 'read' "
                "ORDER BY seq DESC LIMIT 2"
            )
        ).all()
        after = conn.execute(
            sa.text("SELECT count(*) FROM change_log WHERE action = 'read'")
        ).scalar_one()
    assert after == before + 2
    assert {(r.entity, r.entity_key) for r in rows} == {
        ("households", world["home_code"]),
        ("people", world["home_hash"]),
    }
    assert all(r.actor.endswith("(auditor)") for r in rows)


def test_household_page_masks_ids_and_dates(
    app_client: TestClient, world: dict[str, Any], tokens: dict[str, str | None]
) -> None:
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    page = app_client.get(f"/api/v1/households/{world['home_code']}", headers=headers)
    body = page.json()
    assert body["members"], "the household has members"
    for member in body["members"]:
        assert member["id_masked"].endswith("*" * 14)
        assert "birth_date" not in member
    assert world["home_id"] not in page.text
    revealed = app_client.post(
        f"/api/v1/people/{world['home_hash']}/reveal",
        json={"reason": "home visit"},
        headers=headers,
    )
    assert revealed.json() == {"id_number": world["home_id"]}
