"""A whole scripted session against the service, scanned for personal data.

Every log record (all loggers at DEBUG), every response header, every URL requested or
redirected to, and every error response (problem+json or error page) must hold no ID number, no
name and no contact of the synthetic people. (The bodies of successful reads of personal records
are the records themselves, shown to a user allowed to see them, and are not scanned.)
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from api_fixtures import ADMIN, PASSWORD, import_synth
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dongxi.api.app import create_app
from dongxi.pii.protect import get_protector
from dongxi.services import accounts
from dongxi.store.db import session_scope


def test_a_service_session_leaks_no_personal_value(
    api_registry: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    data = import_synth(api_registry, households=700, seed=5)
    state = data.rounds[2019]
    people = state.people
    secrets: set[str] = set(people["id_number"].astype(str)) | set(people["name"].astype(str))
    for column in ("contact", "phone"):
        if column in people.columns:
            secrets |= {str(v) for v in people[column].dropna()}
    county = str(state.households["village_code"].iloc[0])[:6]
    home = state.households[state.households["village_code"].str[:6] == county]
    away = state.households[state.households["village_code"].str[:6] != county]
    person = people[people["household_code"] == home["household_code"].iloc[0]].iloc[0]
    stranger = people[people["household_code"] == away["household_code"].iloc[0]].iloc[0]
    with session_scope(api_registry) as session:
        accounts.add_user(
            session,
            ADMIN,
            username="privacy.cadre",
            password=PASSWORD,
            role="county_officer",
            region=county,
        )

    caplog.set_level(logging.DEBUG)
    seen_urls: list[str] = []
    headers_seen: list[str] = []
    errors: list[str] = []

    def record(response: Any) -> Any:
        seen_urls.append(str(response.url))
        seen_urls.extend(str(r.url) for r in response.history)
        headers_seen.extend(f"{k}: {v}" for k, v in response.headers.items())
        if response.status_code >= 400:
            errors.append(response.text)
        return response

    with TestClient(create_app(api_registry)) as client:
        record(
            client.post(
                "/api/v1/auth/login", json={"username": "privacy.cadre", "password": "wrong" * 3}
            )
        )
        login = record(
            client.post(
                "/api/v1/auth/login", json={"username": "privacy.cadre", "password": PASSWORD}
            )
        )
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        record(client.get("/api/v1/households", params={"limit": 20}))
        record(client.post("/api/v1/households/search", json={"name": str(person["name"])}))
        record(client.post("/api/v1/households/search", json={"name": str(stranger["name"])}))
        record(client.post("/api/v1/people/search", json={"id_number": str(person["id_number"])}))
        record(client.post("/api/v1/people/search", json={"id_number": str(stranger["id_number"])}))
        record(client.post("/api/v1/people/search", json={"id_number": "450102199001011234"}))
        record(client.get(f"/api/v1/households/{home['household_code'].iloc[0]}"))
        record(client.get(f"/api/v1/households/{away['household_code'].iloc[0]}"))
        record(
            client.post(
                f"/api/v1/people/{get_protector().hash(str(person['id_number']))}/reveal",
                json={"reason": "home visit"},
                headers=csrf,
            )
        )
        record(
            client.post(
                f"/api/v1/people/{get_protector().hash(str(stranger['id_number']))}/reveal",
                json={"reason": "curious"},
                headers=csrf,
            )
        )
        # the pages: login form, list, search form, a household, an error page
        record(client.get("/households"))
        record(
            client.post("/households/search", data={"name": str(person["name"]), "csrf_token": ""})
        )
        record(client.get(f"/households/{away['household_code'].iloc[0]}"))
        record(client.post("/api/v1/auth/logout", headers=csrf))

    texts = {
        "log records": [r.getMessage() for r in caplog.records],
        "URLs": seen_urls,
        "response headers": headers_seen,
        "error responses": errors,
    }
    leaks = {
        where: sorted({s for s in secrets for text in items if s in text})
        for where, items in texts.items()
    }
    assert {k: v for k, v in leaks.items() if v} == {}
    assert len(errors) >= 5  # the wrong password, the out-of-scope reads, the unknown number
