"""The overview's "items waiting for me": a change request to approve, an overdue case step and
a notice with an open objection, each a link to its own page — and only those of the user's
scope (another county's case and notice are not listed, not even counted)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from api_fixtures import ADMIN
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dongxi.services import cases, changes, notices
from dongxi.services.imports import import_tables
from dongxi.services.principal import Principal
from dongxi.store.db import session_scope
from dongxi.store.scope import Scope
from dongxi.synth import generate


@pytest.fixture(scope="module")
def world(api_registry: Engine) -> dict[str, Any]:
    data = generate(households=700, seed=11, years=(2019,))  # two counties
    state = data.rounds[2019]
    hh = state.households
    village = str(hh["village_code"].iloc[0])
    county = village[:6]
    other = str(hh[hh["village_code"].str[:6] != county]["village_code"].iloc[0])
    hh = hh[hh["village_code"].isin([village, other])]  # two villages are enough
    people = state.people[state.people["household_code"].isin(hh["household_code"])]
    import_tables(
        principal=ADMIN, engine=api_registry, source_name="synth",
        frames={"helpers": data.helpers, "households": hh, "people": people},
    )  # fmt: skip
    home = hh[hh["village_code"] == village]["household_code"].astype(str).tolist()
    away = hh[hh["village_code"] == other]["household_code"].astype(str).tolist()
    assert len(home) >= 3 and away
    back = cases.today() - dt.timedelta(days=6)
    cadre = Principal(name="waiting-cadre", role="village_officer", scope=Scope.region(village))
    with session_scope(api_registry) as session:
        request = changes.edit_household(
            session, cadre, household_code=home[0], expected_version=1,
            changes={"road_access": False},
        ).request_id  # fmt: skip
        late, far = (
            cases.open_case(
                session, ADMIN, household_code=code, procedure="identification",
                channel="risk_score", opened_on=back,
            ).id
            for code in (home[1], away[0])
        )  # fmt: skip
        objected, far_notice = (
            notices.create_notice(session, ADMIN, kind="exit", household_codes=[code]).id
            for code in (home[2], away[0])
        )
        for n in (objected, far_notice):
            notices.object_to(session, ADMIN, notice_id=n, raised_by="村民", text="不符")
    return {
        "county": county, "request": request, "late": late, "far": far,
        "objected": objected, "far_notice": far_notice,
    }  # fmt: skip


def _links(html: str) -> list[str]:
    part = html.split('id="waiting-heading"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'href="([^"]+)"', part)


def test_waiting_items_link_to_their_pages_in_scope(
    client: TestClient, make_user: Callable[..., tuple[str, str]], world: dict[str, Any]
) -> None:
    _, token = make_user("county_officer", region=world["county"])
    page = client.get("/overview", headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 200
    links = _links(page.text)
    for wanted in (
        f"/changes/{world['request']}", f"/cases/{world['late']}",
        f"/notices/{world['objected']}", "/changes", "/cases", "/notices",
    ):  # fmt: skip
        assert wanted in links
    assert f"/cases/{world['far']}" not in links
    assert f"/notices/{world['far_notice']}" not in links
    assert "1 条异议待处理" in page.text
    for link in links:  # every link opens for this user
        assert client.get(link, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    english = client.get("/overview?lang=en", headers={"Authorization": f"Bearer {token}"})
    assert "1 open objection(s)" in english.text


def test_an_analyst_waits_for_no_case_notice_or_request(
    client: TestClient, make_user: Callable[..., tuple[str, str]], world: dict[str, Any]
) -> None:
    _, token = make_user("analyst")
    page = client.get("/overview", headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 200
    assert not [u for u in _links(page.text) if u.startswith(("/cases", "/notices", "/changes"))]
