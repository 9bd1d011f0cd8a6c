"""Browser test of a matching round's whole cycle, in Debian's chromium driven by Playwright,
against `dongxi serve` on a registry made by `dongxi synth` (700 households, two counties):

1. a partner posts a job offer (and sees only its own offers, not another partner's);
2. a village cadre logs in with the keyboard, finds a household by a member's name, records the
   member's need (employment: sector, place, minimum wage, dormitory) and submits an edit of the
   housing facts, which becomes a change request;
3. the township officer approves it (the edit is applied);
4. an officer with the right (the administrator: a round needs an unrestricted scope) starts a
   round, follows the job's progress, reads the report and publishes it;
5. the cadre accepts the proposal for the seeker (the household's word), with the keyboard;
6. the partner sees only its offers and its consenting matches (name, age band, skills, contact;
   no ID number), cannot open households (the same refusal for its county and another: no hint),
   confirms the match and records the hire;
7. the cadre cannot open a household of another county by URL (the "not found" page).

Screenshots of each page at desktop (1280) and phone (390) widths go to
``build/e2e-screenshots/market-*.png``; axe-core (vendored) finds no serious or critical
violation on any of them.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dongxi.services import accounts
from dongxi.services.imports import import_tables
from dongxi.services.principal import Principal
from dongxi.store.db import make_engine, session_scope, upgrade
from dongxi.synth import generate
from dongxi.web import STATIC_DIR

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "build" / "e2e-screenshots"
AXE = STATIC_DIR / "vendor" / "axe-core" / "axe.min.js"
PASSWORD = "market password 2026"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
YEAR = 2019


def _chromium() -> str:
    import os

    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is missing under CI=true (.ci/run installs it)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A served registry of 700 synthetic households in two counties, and the five users."""
    folder = tmp_path_factory.mktemp("e2e-market")
    url = f"sqlite:///{folder / 'registry.db'}"
    upgrade(url)
    engine = make_engine(url)
    admin = Principal(name="e2e-admin", role="admin")
    data = generate(households=700, seed=11, years=(YEAR,))
    state = data.rounds[YEAR]
    import_tables(
        principal=admin,
        engine=engine,
        frames={
            "helpers": data.helpers,
            "partners": data.partners,
            "households": state.households,
            "people": state.people,
            "income": state.income,
        },
        source_name="synth",
    )
    people = state.people.merge(state.households[["household_code", "village_code"]])
    born = people["birth_date"].astype(str).str[:4].astype(int)
    able = people[
        people["labour_capacity"].isin(["normal", "skilled"])
        & (2026 - born).between(20, 50)
        & people["relation"].ne("head")
    ]
    seeker = able.iloc[0]
    village = str(seeker["village_code"])
    away = state.households[state.households["village_code"].str[:6] != village[:6]]
    partners = [str(c) for c in data.partners["partner_code"]]
    import pandas as pd

    from dongxi.store.market_models import save_offers

    # another partner's offer, which our partner must never see
    save_offers(
        engine,
        pd.DataFrame(
            [{"offer_id": "OTHER-1", "partner_code": partners[1], "place_code": "440100",
              "positions": 2, "monthly_wage": 3900.0, "sector": "services"}]
        ),
        actor="e2e",
    )  # fmt: skip
    with session_scope(engine) as session:
        for username, role, kw in (
            ("cadre", "village_officer", {"region": village}),
            ("township", "township_officer", {"region": village[:9]}),
            ("officer", "admin", {}),
            ("partner", "east_partner", {"partner": partners[0]}),
        ):
            accounts.add_user(session, admin, username=username, password=PASSWORD, role=role, **kw)
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
            "base": base,
            "household": str(seeker["household_code"]),
            "name": str(seeker["name"]),
            "id_number": str(seeker["id_number"]),
            "away": str(away["household_code"].iloc[0]),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def _axe(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


class Shots:
    """Screenshots at both widths and axe-core's findings, page by page."""

    def __init__(self) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.problems: dict[str, list[str]] = {}

    def take(self, page: Any, name: str) -> None:
        self.problems[name] = _axe(page)
        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            page.screenshot(path=str(SHOTS / f"market-{name}-{size}.png"), full_page=True)
        page.set_viewport_size(DESKTOP)


def _login(browser: Any, base: str, username: str) -> Any:
    """A fresh browser context logged in as ``username`` with the keyboard alone."""
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.focus("#username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation(url=f"{base}/households"):
        page.keyboard.press("Enter")
    return page


def test_a_round_from_need_to_hire(site: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    base = site["base"]
    shots = Shots()
    with sync_playwright() as p:
        # bypass_csp: only so that the test can inject axe-core; the pages themselves run none
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])

        # 1. the partner posts a job offer; it sees its own offers only
        partner = _login(browser, base, "partner")
        partner.goto(f"{base}/market")
        assert partner.url == f"{base}/market/matches"
        partner.goto(f"{base}/market/offers")
        partner.select_option("#offer_kind", "job")
        partner.fill("#offer_place", "440300")
        partner.select_option("#offer_sector", "manufacturing")
        partner.fill("#offer_wage", "4200")
        partner.fill("#offer_positions", "3")
        partner.check("input[name=dormitory]")
        partner.fill("#offer_starts", "2026-04-01")
        partner.click("form[action='/market/offers'] button[type=submit]")
        partner.wait_for_url(f"{base}/market/offers?done=posted")
        offers = partner.inner_text("main")
        assert "深圳市" in offers and "OTHER-1" not in offers
        shots.take(partner, "offers")
        partner.click("tbody a")  # edit the offer: a new version with 4 places
        partner.fill("#offer_positions", "4")
        partner.click("main form button[type=submit]")
        partner.wait_for_url(f"{base}/market/offers?done=saved")
        assert re.search(r"\b4\b", partner.inner_text("tbody"))
        partner.goto(f"{base}/market/offers/OTHER-1")
        assert "没有找到" in partner.inner_text("main")  # another partner's offer: not found

        # 2. the cadre finds the household by name, records a need, proposes an edit
        cadre = _login(browser, base, "cadre")
        cadre.fill("input[name=name]", site["name"])
        cadre.click("form[action='/households/search'] button")
        assert site["name"] not in cadre.url
        cadre.click(f"text={site['household']}")
        cadre.wait_for_url(f"{base}/households/{site['household']}")
        text = cadre.inner_text("main")
        assert site["id_number"] not in text and "家庭成员" in text
        assert "当年标准" in text  # each income year beside its line
        member = cadre.locator("#need_member option", has_text=site["name"]).first
        cadre.select_option("#need_member", value=member.get_attribute("value"))
        cadre.select_option("#need_kind", "employment")
        cadre.check("input[name=sectors][value=manufacturing]")
        cadre.fill("#need_places", "440300")
        cadre.fill("#need_wage", "2500")
        cadre.check("input[name=needs_dormitory]")
        cadre.click("form[action$='/needs'] button[type=submit]")
        cadre.wait_for_url(re.compile(r".*\?done=need.*"))
        needs = cadre.inner_text("#needs + .scroll")
        assert site["name"] in needs and "深圳市" in needs and "制造业" in needs
        shots.take(cadre, "household")
        cadre.click("text=修改住房和饮水情况")
        cadre.select_option("#housing_grade", "C")
        cadre.fill("#edit_comment", "入户核实：房屋有裂缝")
        cadre.click("form[action$='/edit'] button[type=submit]")
        cadre.wait_for_url(re.compile(r".*\?done=request"))
        assert "已提交修改申请" in cadre.inner_text("main")
        cadre.goto(f"{base}/changes")
        assert "待审核" in cadre.inner_text("main")
        shots.take(cadre, "changes")

        # 3. the township officer approves the change request
        township = _login(browser, base, "township")
        township.goto(f"{base}/changes")
        township.click("h2:has-text('待我审核') + .scroll tbody a")
        assert "C" in township.inner_text("main table")
        shots.take(township, "change-request")
        township.click("form[action$='/approve'] button")
        township.wait_for_url(f"{base}/changes?done=approve")
        township.goto(f"{base}/households/{site['household']}")
        assert "住房不安全（C级危房）" in township.inner_text("main")

        # 4. the officer starts a round, follows the job, reads and publishes the report
        officer = _login(browser, base, "officer")
        officer.goto(f"{base}/market")
        officer.wait_for_url(f"{base}/market/rounds")
        officer.click("form[action='/market/rounds'] button")
        officer.wait_for_url(re.compile(r".*/market/jobs/[0-9a-f]{32}$"))
        job_url = officer.url
        shots.take(officer, "job")
        deadline = time.monotonic() + 120
        while not officer.locator("#report-link").count():
            assert time.monotonic() < deadline, officer.inner_text("main")
            assert "失败" not in officer.inner_text("#job-state")
            time.sleep(1)
            officer.goto(job_url)
        officer.click("#report-link")
        officer.wait_for_url(re.compile(r".*/market/rounds/[0-9a-f-]{36}$"))
        report = officer.inner_text("main")
        assert "分县情况" in report and "未匹配人员及原因" in report and "阻塞对" in report
        officer.click("form[action$='/publish'] button")
        officer.wait_for_url(re.compile(r".*\?done=published$"))
        shots.take(officer, "round")
        officer.goto(f"{base}/market/rounds")
        shots.take(officer, "rounds")

        # 5. the cadre accepts the proposal for the seeker, with the keyboard
        cadre.goto(f"{base}/market")
        cadre.wait_for_url(f"{base}/market/answers")
        row = cadre.locator("tbody tr", has_text=site["name"])
        assert row.count() == 1 and "待答复" in row.inner_text()
        shots.take(cadre, "answers")
        row.locator("input[value=accept]").focus()
        cadre.keyboard.press("Space")
        cadre.keyboard.press("Tab")  # past the other radio of the group, to the reason
        cadre.keyboard.type("愿意到深圳务工")
        with cadre.expect_navigation(url=f"{base}/market/answers?done=accept"):
            cadre.keyboard.press("Enter")
        assert "本人已接受" in cadre.locator("tbody tr", has_text=site["name"]).inner_text()

        # 6. the partner sees its consenting match, no household; confirms and records the hire
        partner.goto(f"{base}/market/matches")
        rows = partner.locator("tbody tr")
        assert rows.count() == 1
        seen = rows.first.inner_text()
        assert site["name"] in seen and site["id_number"] not in seen
        assert "本人已接受" in seen
        for code in (site["household"], site["away"]):
            partner.goto(f"{base}/households/{code}")
            assert site["name"] not in partner.inner_text("main")
            assert "无权查看" in partner.inner_text("main")  # the same refusal: no hint
        partner.goto(f"{base}/market/matches")
        partner.check("input[value=confirm]")
        partner.click("form[action$='/answer'] button")
        partner.wait_for_url(f"{base}/market/matches?done=confirm")
        partner.check("input[name=hired][value=yes]")
        partner.fill("input[name=start_date]", "2026-04-02")
        partner.fill("input[name=monthly_wage]", "4200")
        partner.click("form[action$='/outcome'] button")
        partner.wait_for_url(f"{base}/market/matches?done=outcome")
        assert "已录用" in partner.inner_text("tbody")
        shots.take(partner, "matches")

        # 7. the cadre reads the outcome on the household page; another county's: not found
        cadre.goto(f"{base}/households/{site['household']}")
        outcome = cadre.inner_text("#proposals + .scroll")
        assert "已录用" in outcome and "愿意到深圳务工" in outcome
        cadre.goto(f"{base}/households/{site['away']}")
        assert "没有找到" in cadre.inner_text("main")
        cadre.goto(f"{base}/households/{site['household']}?lang=en")
        assert "Needs and willingness" in cadre.inner_text("main")
        shots.take(cadre, "household-en")
        browser.close()
    assert {k: v for k, v in shots.problems.items() if v} == {}
