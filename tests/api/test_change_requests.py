"""Edits through the API and change requests (maker–checker), on SQLite and PostgreSQL.

A village officer's edit becomes a request that the township officer approves (applied, audited)
or rejects; a county officer edits directly; a stale version is 409 naming the changed fields; a
request on a record that moved meanwhile ends in ``conflict``; officers of another county do not
see the request at all. The life cycle is checked transition by transition against a table
written out here (not derived from the code's own table).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from api_fixtures import ADMIN, import_synth
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dongxi.errors import ConflictError, InputError, PermissionDeniedError
from dongxi.pii.protect import get_protector
from dongxi.settings import Settings, get_settings
from dongxi.store._changes import STATES, check_transition

MakeUser = Callable[..., tuple[str, str]]


@pytest.fixture(scope="module")
def world(api_registry: Engine) -> dict[str, Any]:
    """Synthetic households in two counties (one village each); home is the first county."""
    data = import_synth(api_registry, households=700, seed=11)
    state = data.rounds[2019]
    hh = state.households
    village = str(hh["village_code"].iloc[0])
    home = hh[hh["village_code"] == village]
    away = hh[hh["village_code"].str[:6] != village[:6]]
    assert len(away) and len(home) > 20
    people = state.people
    home_people = people[people["household_code"].isin(home["household_code"])]
    return {
        "village": village,
        "township": village[:9] + "000",
        "county": village[:6],
        "away_county": str(away["village_code"].iloc[0])[:6],
        "codes": iter(home["household_code"].astype(str).tolist()),
        "people": iter(
            [(get_protector().hash(str(n)), str(n)) for n in home_people["id_number"].tolist()]
        ),
    }


@pytest.fixture(scope="module")
def people(world: dict[str, Any], api_registry: Engine) -> dict[str, str]:
    """One token per officer: village, township and county of home, county of away."""
    from dongxi.services import accounts
    from dongxi.store.db import session_scope

    roles = {
        "village": ("village_officer", world["village"]),
        "village2": ("village_officer", world["village"]),
        "township": ("township_officer", world["township"]),
        "county": ("county_officer", world["county"]),
        "away": ("county_officer", world["away_county"]),
        "auditor": ("auditor", None),
    }
    out: dict[str, str] = {}
    with session_scope(api_registry) as session:
        for who, (role, region) in roles.items():
            name = f"cr-{who}"
            accounts.add_user(
                session, ADMIN, username=name, password="x" * 16, role=role, region=region
            )
            out[who] = accounts.create_token(session, ADMIN, username=name)
    return out


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _household(client: TestClient, token: str, code: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/households/{code}", headers=_h(token))
    assert response.status_code == 200, response.text
    return dict(response.json()["household"] | response.json()["deprivations"])


def _other_grade(grade: str) -> str:
    return "D" if grade != "D" else "A"


def _log(engine: Engine, entity: str, key: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT action, actor FROM change_log WHERE entity = :e AND entity_key = :k "
                "ORDER BY seq"
            ),
            {"e": entity, "k": key},
        ).all()
    return [(r.action, r.actor) for r in rows]


def _propose(client: TestClient, token: str, code: str, version: int, **changes: Any) -> int:
    response = client.patch(
        f"/api/v1/households/{code}",
        json={"expected_version": version, "changes": changes, "comment": "visit 11-28"},
        headers=_h(token),
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["applied"] is False and body["row_version"] is None
    return int(body["change_request_id"])


def test_village_edit_is_a_request_the_township_approves(
    client: TestClient, world: dict[str, Any], people: dict[str, str], api_registry: Engine
) -> None:
    code = next(world["codes"])
    before = _household(client, people["county"], code)
    new = _other_grade(before["housing_grade"])
    rid = _propose(client, people["village"], code, before["row_version"], housing_grade=new)
    # nothing applied yet
    assert _household(client, people["county"], code)["row_version"] == before["row_version"]
    mine = client.get("/api/v1/change-requests", headers=_h(people["village"])).json()
    assert [(r["id"], r["state"], r["fields"]) for r in mine["mine"]][:1] == [
        (rid, "submitted", ["housing_grade"])
    ]
    waiting = client.get("/api/v1/change-requests", headers=_h(people["township"])).json()
    assert rid in {r["id"] for r in waiting["to_review"]}
    assert rid not in {r["id"] for r in waiting["mine"]}
    detail = client.get(f"/api/v1/change-requests/{rid}", headers=_h(people["township"])).json()
    assert detail["diff"] == {
        "housing_grade": {"current": before["housing_grade"], "proposed": new}
    }
    assert detail["current_version"] == before["row_version"] and detail["conflict_fields"] is None
    # the proposer cannot approve their own request, nor can another village officer
    for who in ("village", "village2"):
        refused = client.post(
            f"/api/v1/change-requests/{rid}/approve", json={}, headers=_h(people[who])
        )
        assert refused.status_code == 403, who
    approved = client.post(
        f"/api/v1/change-requests/{rid}/approve",
        json={"comment": "checked on site"},
        headers=_h(people["township"]),
    )
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["state"], body["reviewer"], body["review_comment"]) == (
        "applied",
        "cr-township",
        "checked on site",
    )
    assert body["closed_at"] is not None
    after = _household(client, people["county"], code)
    assert (after["housing_grade"], after["row_version"]) == (new, before["row_version"] + 1)
    assert _log(api_registry, "change_requests", str(rid)) == [
        ("submitted", "cr-village (village_officer)"),
        ("approved", "cr-township (township_officer)"),
        ("applied", "cr-township (township_officer)"),
    ]
    assert ("update", "cr-township (township_officer)") in _log(api_registry, "households", code)


def test_another_county_cannot_see_the_request(
    client: TestClient, world: dict[str, Any], people: dict[str, str]
) -> None:
    code = next(world["codes"])
    before = _household(client, people["county"], code)
    rid = _propose(client, people["village"], code, before["row_version"], road_access=False)
    away = _h(people["away"])
    assert client.get(f"/api/v1/change-requests/{rid}", headers=away).status_code == 404
    for action in ("approve", "reject", "withdraw"):
        response = client.post(
            f"/api/v1/change-requests/{rid}/{action}", json={"comment": "no"}, headers=away
        )
        assert response.status_code == 404, action
    lists = client.get("/api/v1/change-requests", headers=away).json()
    assert rid not in {r["id"] for r in lists["mine"] + lists["to_review"]}
    missing = client.get("/api/v1/change-requests/999999", headers=away)
    assert missing.status_code == 404
    # the county of the record sees it waiting
    home = client.get("/api/v1/change-requests", headers=_h(people["county"])).json()
    assert rid in {r["id"] for r in home["to_review"]}


def test_approval_of_a_record_that_moved_is_a_conflict(
    client: TestClient, world: dict[str, Any], people: dict[str, str]
) -> None:
    code = next(world["codes"])
    before = _household(client, people["county"], code)
    new = _other_grade(before["housing_grade"])
    rid = _propose(client, people["village"], code, before["row_version"], housing_grade=new)
    direct = client.patch(
        f"/api/v1/households/{code}",
        json={"expected_version": before["row_version"], "changes": {"electricity": False}},
        headers=_h(people["county"]),
    )
    assert direct.status_code == 200
    detail = client.get(f"/api/v1/change-requests/{rid}", headers=_h(people["township"])).json()
    assert detail["conflict_fields"] == ["electricity"]
    approved = client.post(
        f"/api/v1/change-requests/{rid}/approve", json={}, headers=_h(people["township"])
    )
    assert approved.status_code == 200
    assert (approved.json()["state"], approved.json()["conflict_fields"]) == (
        "conflict",
        ["electricity"],
    )
    after = _household(client, people["county"], code)
    assert after["housing_grade"] == before["housing_grade"]  # not applied
    assert after["row_version"] == before["row_version"] + 1  # only the county's edit
    again = client.post(
        f"/api/v1/change-requests/{rid}/approve", json={}, headers=_h(people["township"])
    )
    assert again.status_code == 409


def test_reject_needs_a_comment(
    client: TestClient, world: dict[str, Any], people: dict[str, str], api_registry: Engine
) -> None:
    code = next(world["codes"])
    before = _household(client, people["county"], code)
    rid = _propose(client, people["village"], code, before["row_version"], water_quality_ok=False)
    url = f"/api/v1/change-requests/{rid}/reject"
    no_comment = client.post(url, json={}, headers=_h(people["township"]))
    assert no_comment.status_code == 422 and no_comment.json()["field"] == "comment"
    rejected = client.post(
        url, json={"comment": "water tested fine"}, headers=_h(people["township"])
    )
    assert rejected.status_code == 200
    assert (rejected.json()["state"], rejected.json()["review_comment"]) == (
        "rejected",
        "water tested fine",
    )
    assert _household(client, people["county"], code)["row_version"] == before["row_version"]
    assert [a for a, _ in _log(api_registry, "change_requests", str(rid))] == [
        "submitted",
        "rejected",
    ]


def test_withdraw_only_by_the_proposer(
    client: TestClient, world: dict[str, Any], people: dict[str, str]
) -> None:
    code = next(world["codes"])
    before = _household(client, people["county"], code)
    rid = _propose(client, people["village"], code, before["row_version"], road_access=False)
    url = f"/api/v1/change-requests/{rid}/withdraw"
    assert client.post(url, json={}, headers=_h(people["township"])).status_code == 403
    assert client.post(url, json={}, headers=_h(people["village2"])).status_code == 403
    done = client.post(url, json={"comment": "wrong house"}, headers=_h(people["village"]))
    assert done.status_code == 200 and done.json()["state"] == "withdrawn"


def test_township_request_is_reviewed_by_the_county(
    client: TestClient, world: dict[str, Any], people: dict[str, str]
) -> None:
    code = next(world["codes"])
    before = _household(client, people["county"], code)
    rid = _propose(client, people["township"], code, before["row_version"], road_access=False)
    lists = client.get("/api/v1/change-requests", headers=_h(people["township"])).json()
    assert rid in {r["id"] for r in lists["mine"]}
    assert rid not in {r["id"] for r in lists["to_review"]}
    url = f"/api/v1/change-requests/{rid}/approve"
    assert client.post(url, json={}, headers=_h(people["village"])).status_code == 403
    assert client.post(url, json={}, headers=_h(people["township"])).status_code == 403
    done = client.post(url, json={}, headers=_h(people["county"]))
    assert done.status_code == 200 and done.json()["state"] == "applied"
    assert _household(client, people["county"], code)["road_access"] is False


def test_direct_edit_by_a_county_officer(
    client: TestClient, world: dict[str, Any], people: dict[str, str], api_registry: Engine
) -> None:
    code = next(world["codes"])
    before = _household(client, people["county"], code)
    new = _other_grade(before["housing_grade"])
    response = client.patch(
        f"/api/v1/households/{code}",
        json={"expected_version": before["row_version"], "changes": {"housing_grade": new}},
        headers=_h(people["county"]),
    )
    assert response.status_code == 200
    assert response.json() == {
        "applied": True,
        "row_version": before["row_version"] + 1,
        "change_request_id": None,
    }
    assert _household(client, people["county"], code)["housing_grade"] == new
    assert _log(api_registry, "households", code)[-2:] == [
        ("update", "cr-county (county_officer)"),
        ("read", "cr-county (county_officer)"),
    ]
    # an auditor may read but not edit; another county's officer does not find the household
    assert (
        client.patch(
            f"/api/v1/households/{code}",
            json={"expected_version": 1, "changes": {"road_access": True}},
            headers=_h(people["auditor"]),
        ).status_code
        == 403
    )
    assert (
        client.patch(
            f"/api/v1/households/{code}",
            json={"expected_version": 1, "changes": {"road_access": True}},
            headers=_h(people["away"]),
        ).status_code
        == 404
    )


def test_stale_version_is_409_naming_the_fields(
    client: TestClient, world: dict[str, Any], people: dict[str, str]
) -> None:
    code = next(world["codes"])
    before = _household(client, people["county"], code)
    seen = before["row_version"]
    new = _other_grade(before["housing_grade"])
    for changes in ({"housing_grade": new}, {"road_access": not before["road_access"]}):
        current = _household(client, people["county"], code)["row_version"]
        ok = client.patch(
            f"/api/v1/households/{code}",
            json={"expected_version": current, "changes": changes},
            headers=_h(people["county"]),
        )
        assert ok.status_code == 200
    for who, status_ok in (("county", 409), ("village", 409)):
        stale = client.patch(
            f"/api/v1/households/{code}",
            json={"expected_version": seen, "changes": {"electricity": False}},
            headers=_h(people[who]),
        )
        assert stale.status_code == status_ok, who
        body = stale.json()
        assert body["changed_fields"] == ["housing_grade", "road_access"]
        assert body["type"].endswith("/conflict")
        assert f"version {seen}, now {seen + 2}" in body["detail"]
    # a version one behind names only the last change
    one_behind = client.patch(
        f"/api/v1/households/{code}",
        json={"expected_version": seen + 1, "changes": {"electricity": False}},
        headers=_h(people["county"]),
    )
    assert one_behind.json()["changed_fields"] == ["road_access"]


def test_person_edit_through_a_request(
    client: TestClient, world: dict[str, Any], people: dict[str, str], api_registry: Engine
) -> None:
    id_hash, id_number = next(world["people"])
    found = client.post(
        "/api/v1/people/search", json={"id_number": id_number}, headers=_h(people["county"])
    ).json()
    with api_registry.connect() as conn:
        version = conn.execute(
            sa.text("SELECT row_version FROM people WHERE id_hash = :h"), {"h": id_hash}
        ).scalar_one()
    new = "unemployed" if found["employment"] != "unemployed" else "farming"
    url = f"/api/v1/people/{id_hash}"
    refused = [
        ({"ethnicity": id_number}, "no_id_number"),
        ({"id_hash": "0" * 64}, "read_only"),
        ({"household_code": "X"}, "read_only"),
        ({"id_masked": "x"}, "unknown_field"),
        ({"monthly_wage": "lots"}, "type"),
        ({"birth_date": "1990-13-01"}, "type"),
    ]
    for changes, rule in refused:
        response = client.patch(
            url,
            json={"expected_version": version, "changes": changes},
            headers=_h(people["village"]),
        )
        assert (response.status_code, response.json().get("rule")) == (422, rule), changes
        assert id_number not in response.text
    response = client.patch(
        url,
        json={
            "expected_version": version,
            "changes": {"employment": new, "birth_date": "1980-02-03"},
        },
        headers=_h(people["village"]),
    )
    assert response.status_code == 202
    rid = response.json()["change_request_id"]
    with api_registry.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT changes FROM change_requests WHERE id = :i"), {"i": rid}
        ).scalar_one()
    assert id_number not in str(stored)
    approved = client.post(
        f"/api/v1/change-requests/{rid}/approve", json={}, headers=_h(people["township"])
    )
    assert approved.json()["state"] == "applied"
    with api_registry.connect() as conn:
        row = conn.execute(
            sa.text("SELECT employment, birth_date, row_version FROM people WHERE id_hash = :h"),
            {"h": id_hash},
        ).one()
    assert (row.employment, str(row.birth_date)[:10], row.row_version) == (
        new,
        "1980-02-03",
        version + 1,
    )


@pytest.fixture
def village_edits_directly(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DONGXI_DIRECT_EDIT_ROLES", "village_officer,admin")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("DONGXI_DIRECT_EDIT_ROLES")
    get_settings.cache_clear()


def test_direct_edit_roles_are_a_setting(
    client: TestClient,
    world: dict[str, Any],
    people: dict[str, str],
    village_edits_directly: None,
) -> None:
    code = next(world["codes"])
    before = _household(client, people["village"], code)
    url = f"/api/v1/households/{code}"
    body = {"expected_version": before["row_version"], "changes": {"road_access": False}}
    assert client.patch(url, json=body, headers=_h(people["village"])).status_code == 200
    body = {"expected_version": before["row_version"] + 1, "changes": {"road_access": True}}
    county = client.patch(url, json=body, headers=_h(people["county"]))
    assert county.status_code == 202  # the county is not in the list any more


def test_direct_edit_roles_are_checked() -> None:
    with pytest.raises(ValueError, match="nobody"):
        Settings(direct_edit_roles="county_officer,nobody")
    assert Settings().direct_edit_role_set == {
        "county_officer",
        "city_officer",
        "province_officer",
        "admin",
    }


# --- the life cycle, transition by transition ----------------------------------------------

#: Written out by hand: (from, to) → the one party allowed.
ALLOWED = {
    ("submitted", "approved"): "reviewer",
    ("submitted", "rejected"): "reviewer",
    ("submitted", "withdrawn"): "proposer",
    ("approved", "applied"): "system",
    ("approved", "conflict"): "system",
}


@pytest.mark.parametrize(
    ("current", "new", "party"),
    list(itertools.product(STATES, STATES, ("proposer", "reviewer", "system"))),
)
def test_every_transition(current: str, new: str, party: str) -> None:
    if ALLOWED.get((current, new)) == party:
        check_transition(current, new, party)
    elif (current, new) in ALLOWED:
        with pytest.raises(PermissionDeniedError):
            check_transition(current, new, party)
    else:
        with pytest.raises(ConflictError):
            check_transition(current, new, party)


def test_unknown_states_and_parties() -> None:
    assert set(STATES) == {"submitted", "approved", "rejected", "withdrawn", "applied", "conflict"}
    for args in (("draft", "approved", "reviewer"), ("submitted", "done", "reviewer"),
                 ("submitted", "approved", "mayor")):  # fmt: skip
        with pytest.raises(InputError):
            check_transition(*args)


@pytest.mark.parametrize("end", ["applied", "rejected", "withdrawn", "conflict"])
def test_no_action_moves_a_closed_request(
    end: str, client: TestClient, world: dict[str, Any], people: dict[str, str]
) -> None:
    code = next(world["codes"])
    before = _household(client, people["county"], code)
    rid = _propose(client, people["village"], code, before["row_version"], road_access=False)
    if end == "conflict":
        client.patch(
            f"/api/v1/households/{code}",
            json={"expected_version": before["row_version"], "changes": {"electricity": False}},
            headers=_h(people["county"]),
        )
    action, who = {
        "applied": ("approve", "township"),
        "conflict": ("approve", "township"),
        "rejected": ("reject", "township"),
        "withdrawn": ("withdraw", "village"),
    }[end]
    done = client.post(
        f"/api/v1/change-requests/{rid}/{action}", json={"comment": "done"}, headers=_h(people[who])
    )
    assert done.json()["state"] == end
    for action, who in (("approve", "township"), ("reject", "township"), ("withdraw", "village")):
        again = client.post(
            f"/api/v1/change-requests/{rid}/{action}",
            json={"comment": "x"},
            headers=_h(people[who]),
        )
        assert again.status_code == 409, (end, action)
