"""Accessibility of every main page, for every main role, in Debian's chromium.

Each main role logs in — the village cadre, the county officer, the eastern partner, the analyst
and the auditor — and axe-core (vendored) runs on every page of the role's navigation (read from
the page header, so a page added to the navigation is checked without touching this test) and
on the detail pages the role works on: a household, a change request, an offer, a monitoring
case, a notice and its printable list. A serious or critical violation fails the test.

Two forms are then filled and sent with the keyboard alone (Tab, typing, arrow keys, Enter or
Space): the notice form (kind, households, date: publish) and a case's step form (next step,
comment: record), checking that focus reaches every field in order and is always visible.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from e2e_helpers import PASSWORD
from e2e_helpers import axe_violations as _axe
from e2e_helpers import chromium_path as _chromium
from e2e_helpers import free_port as _free_port

from dongxi.services import accounts, cases, changes, notices
from dongxi.services.imports import import_tables
from dongxi.services.principal import Principal
from dongxi.store.db import make_engine, session_scope, upgrade
from dongxi.store.scope import Scope
from dongxi.synth import generate

DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two villages of two counties, the five users, and one of each thing to open."""
    folder = tmp_path_factory.mktemp("e2e-a11y")
    url = f"sqlite:///{folder / 'registry.db'}"
    upgrade(url)
    engine = make_engine(url)
    admin = Principal(name="e2e-admin", role="admin")
    data = generate(households=700, seed=11, years=(2019,))
    state = data.rounds[2019]
    hh = state.households
    village = str(hh["village_code"].iloc[0])
    other = str(hh[hh["village_code"].str[:6] != village[:6]]["village_code"].iloc[0])
    hh = hh[hh["village_code"].isin([village, other])]
    keep = state.people["household_code"].isin(hh["household_code"])
    import_tables(
        principal=admin, engine=engine, source_name="synth",
        frames={
            "helpers": data.helpers, "partners": data.partners, "households": hh,
            "people": state.people[keep],
            "income": state.income[state.income["household_code"].isin(hh["household_code"])],
        },
    )  # fmt: skip
    home = hh[hh["village_code"] == village]["household_code"].astype(str).tolist()
    partner = str(data.partners["partner_code"].iloc[0])
    from dongxi.store.market_models import save_offers

    save_offers(
        engine,
        pd.DataFrame([{"offer_id": "A11Y-1", "partner_code": partner, "place_code": "440100",
                       "positions": 3, "monthly_wage": 4200.0, "sector": "manufacturing"}]),
        actor="e2e",
    )  # fmt: skip
    cadre = Principal(name="cadre", role="village_officer", scope=Scope.region(village))
    with session_scope(engine) as session:
        for username, role, kw in (
            ("cadre", "village_officer", {"region": village}),
            ("officer", "county_officer", {"region": village[:6]}),
            ("partner", "east_partner", {"partner": partner}),
            ("analyst", "analyst", {}),
            ("auditor", "auditor", {}),
        ):
            accounts.add_user(session, admin, username=username, password=PASSWORD, role=role, **kw)
        request = changes.edit_household(
            session, cadre, household_code=home[0], expected_version=1,
            changes={"road_access": False},
        ).request_id  # fmt: skip
        late = cases.open_case(
            session, admin, household_code=home[1], procedure="identification",
            channel="department_alert", opened_on=cases.today() - dt.timedelta(days=6),
        ).id  # fmt: skip
        fresh = cases.open_case(
            session, admin, household_code=home[2], procedure="identification",
            channel="risk_score",
        ).id  # fmt: skip
        notice = notices.create_notice(
            session, admin, kind="monitoring_entry", household_codes=[home[1]],
            starts_on=cases.today() - dt.timedelta(days=5),
        ).id  # fmt: skip
        notices.object_to(session, admin, notice_id=notice, raised_by="三组村民", text="收入不符")
    engine.dispose()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dongxi", "serve", "--url", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2):
                break
        except OSError:
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail("dongxi serve did not become ready within 60 s")
    try:
        yield {
            "base": base, "household": home[0], "notice_household": home[3],
            "request": request, "late": late, "fresh": fresh, "notice": notice,
        }  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url


#: The detail pages each role works on (besides every page of its navigation).
def _details(site: dict[str, Any]) -> dict[str, list[str]]:
    record = [
        f"/households/{site['household']}",
        f"/changes/{site['request']}",
        f"/cases/{site['late']}",
        f"/notices/{site['notice']}",
        f"/notices/{site['notice']}/print",
    ]
    return {
        "cadre": record,
        "officer": [*record, "/market/answers"],
        "partner": ["/market/offers/A11Y-1"],
        "analyst": [],
        "auditor": [f"/households/{site['household']}", f"/cases/{site['late']}",
                    f"/notices/{site['notice']}", f"/notices/{site['notice']}/print"],
    }  # fmt: skip


@pytest.mark.parametrize("username", ["cadre", "officer", "partner", "analyst", "auditor"])
def test_every_main_page_passes_axe(site: dict[str, Any], username: str) -> None:
    from playwright.sync_api import sync_playwright

    base = site["base"]
    problems: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        context = browser.new_context(viewport=DESKTOP, bypass_csp=True, locale="zh-CN")
        page = context.new_page()
        _login(page, base, username)
        page.goto(f"{base}/overview")
        nav = page.locator("header.site nav a[href^='/']").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        assert "/overview" in nav
        visited = []
        for path in dict.fromkeys([*nav, *_details(site)[username]]):
            response = page.goto(f"{base}{path}")
            assert response is not None and response.status == 200, (username, path)
            visited.append(page.url.removeprefix(base))
            problems[path] = _axe(page)
        if username == "officer":  # every place of the offices' daily work
            for wanted in ("/households", "/changes", "/market/rounds", "/market/answers",
                           "/imports", "/measure",
                           "/cases", "/notices"):  # fmt: skip
                assert wanted in visited
        browser.close()
    assert {k: v for k, v in problems.items() if v} == {}


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until ``selector`` has the focus (fails after ``limit`` presses), checking that
    each focused control shows a visible focus outline."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            style = page.evaluate(
                "() => { const s = getComputedStyle(document.activeElement);"
                " return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }"
            )
            assert style[0] != "none" or style[2] != "none", (selector, style)
            return
    pytest.fail(f"{selector} is not reachable with the Tab key")


def test_forms_work_with_the_keyboard_alone(site: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    base = site["base"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
        _login(page, base, "officer")

        # the notice form: kind (arrow keys in the select), households, date, Enter to publish
        page.goto(f"{base}/notices")
        _tab_to(page, "#kind")
        page.keyboard.press("ArrowDown")
        chosen = page.eval_on_selector("#kind", "s => s.value")
        assert chosen
        _tab_to(page, "#households")
        page.keyboard.type(site["notice_household"])
        _tab_to(page, "#starts_on")
        _tab_to(page, "form[method=post][action='/notices'] button")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "/notices/" in page.url
        assert site["notice_household"] in page.inner_text("main")

        # a case's step: the next step (a select), a comment, Space on the button
        page.goto(f"{base}/cases/{site['fresh']}")
        _tab_to(page, "#to")
        page.keyboard.press("ArrowDown")
        _tab_to(page, "#comment")
        page.keyboard.type("键盘记录的入户核实")
        _tab_to(page, "form[action$='/advance'] button")
        with page.expect_navigation():
            page.keyboard.press("Space")
        assert "键盘记录的入户核实" in page.inner_text("main")
        browser.close()
