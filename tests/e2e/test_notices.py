"""Browser test of the public notices (两公示一公告) and the monitoring case pages.

A county officer publishes a notice for a household from the notices page, records an
objection, fails to close the notice (a message in Chinese says why), records the objection's
resolution and closes the notice; the household's ID number, income, cause and health never show
on the notice or on its printable list. The overview lists the late monitoring case among the
items waiting, as a link; the officer follows it, opens a case's procedure page and takes the
next step. Screenshots at desktop and phone widths go to
``build/e2e-screenshots/``; axe-core finds no serious or critical violation on the new pages.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from test_pages import PASSWORD, SHOTS, SIZES, _axe, _chromium, _free_port

from dongxi.services import accounts, cases
from dongxi.services.imports import import_tables
from dongxi.services.principal import Principal
from dongxi.store.db import make_engine, session_scope, upgrade
from dongxi.synth import generate


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A served registry of 60 synthetic households, a county officer and two open cases."""
    folder = tmp_path_factory.mktemp("e2e-notices")
    url = f"sqlite:///{folder / 'registry.db'}"
    upgrade(url)
    engine = make_engine(url)
    admin = Principal(name="e2e-admin", role="admin")
    data = generate(households=60, seed=3, years=(2019,))
    state = data.rounds[2019]
    import_tables(
        principal=admin,
        engine=engine,
        frames={
            "helpers": data.helpers,
            "households": state.households,
            "people": state.people,
            "income": state.income,
        },
        source_name="synth",
    )
    hh = state.households
    county = str(hh["village_code"].iloc[0])[:6]
    home = hh[hh["village_code"].str[:6] == county]["household_code"].astype(str).tolist()
    assert len(home) >= 3
    people = state.people
    head = people[(people["household_code"] == home[0]) & (people["relation"] == "head")].iloc[0]
    with session_scope(engine) as session:
        accounts.add_user(
            session, admin, username="officer", password=PASSWORD, role="county_officer",
            region=county,
        )  # fmt: skip
        case_ids = [
            cases.open_case(
                session, admin, household_code=code, procedure="identification",
                channel=channel, opened_on=cases.today() - dt.timedelta(days=back),
            ).id
            for code, channel, back in (
                (home[1], "department_alert", 5), (home[2], "risk_score", 0),
            )
        ]  # fmt: skip
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
            "household": home[0],
            "head": str(head["name"]),
            "id_number": str(head["id_number"]),
            "late_case": case_ids[0],
            "new_case": case_ids[1],
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("size", sorted(SIZES))
def test_notice_objection_blocks_closing(site: dict[str, Any], size: str) -> None:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}
    base = site["base"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        context = browser.new_context(viewport=SIZES[size], bypass_csp=True, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#username", "officer")
        page.fill("#password", PASSWORD)
        with page.expect_navigation(url=f"{base}/households"):
            page.keyboard.press("Enter")

        # publish: a notice posted on the board 8 days ago (its 7-day window is over)
        page.goto(f"{base}/notices")
        posted = (cases.today() - dt.timedelta(days=8)).isoformat()
        page.select_option("#kind", "monitoring_entry")
        page.fill("#households", site["household"])
        page.fill("#starts_on", posted)
        problems["notices"] = _axe(page)
        page.screenshot(path=str(SHOTS / f"notices-{size}.png"), full_page=True)
        page.click("form[method=post][action='/notices'] button")
        page.wait_for_url(f"{base}/notices/*")
        notice_url = page.url.split("#")[0]
        text = page.inner_text("main")
        assert site["household"] in text and site["head"] in text
        assert site["id_number"] not in text and "*" * 8 not in text  # not even masked
        listed = page.locator("main table").first
        headers = listed.locator("th").all_inner_texts()
        assert headers == ["序号", "户编号", "户主姓名", "所在村"]  # nothing else about anyone

        # an objection, then closing is refused with the reason in Chinese
        page.fill("#raised_by", "三组村民")
        page.fill("#text", "该户家庭收入情况与实际不符")
        page.click("form[action$='/objections'] button")
        page.wait_for_url(f"{notice_url}#objections")
        assert "待处理" in page.inner_text("#objections + .scroll")
        page.click("#close-notice")
        page.wait_for_load_state()
        alert = page.inner_text("[role=alert]")
        assert "还有未处理的异议，公示不能结束" in alert
        assert "公示中" in page.inner_text("main")
        problems["notice-blocked"] = _axe(page)
        page.screenshot(path=str(SHOTS / f"notice-blocked-{size}.png"), full_page=True)

        # resolve it, then the notice closes
        page.fill("textarea[name=resolution]", "经入户核实，收入属实")
        page.click("form[action$='/resolve'] button")
        page.wait_for_url(f"{notice_url}#objections")
        assert "已处理" in page.inner_text("main")
        page.click("#close-notice")
        page.wait_for_url(notice_url)
        assert "已结束" in page.inner_text("main")
        problems["notice-closed"] = _axe(page)
        page.screenshot(path=str(SHOTS / f"notice-closed-{size}.png"), full_page=True)

        page.goto(f"{notice_url}/print")
        board = page.inner_text("main")
        assert site["head"] in board and site["id_number"] not in board
        problems["notice-print"] = _axe(page)
        page.emulate_media(media="print")
        page.screenshot(path=str(SHOTS / f"notice-print-{size}.png"), full_page=True)
        assert not page.locator("header.site").is_visible()
        page.emulate_media(media="screen")

        # the overview lists the late case among the items waiting, as a link to its page
        page.goto(f"{base}/overview")
        waiting = page.locator("section[aria-labelledby=waiting-heading]")
        assert "逾期未办的监测环节" in waiting.inner_text()
        page.screenshot(path=str(SHOTS / f"overview-waiting-{size}.png"), full_page=True)
        waiting.locator(f"a[href='/cases/{site['late_case']}']").click()
        page.wait_for_url(f"{base}/cases/{site['late_case']}")

        # the monitoring cases: the late one in red, its procedure page, a step taken
        page.goto(f"{base}/cases")
        late_row = page.locator(f"tr:has(a[href='/cases/{site['late_case']}'])")
        assert "bad" in (late_row.get_attribute("class") or "")
        assert "逾期" in late_row.inner_text()
        problems["cases"] = _axe(page)
        page.screenshot(path=str(SHOTS / f"cases-{size}.png"), full_page=True)
        page.goto(f"{base}/cases/{site['late_case']}")
        assert "已逾期" in page.inner_text("main")
        problems["case"] = _axe(page)
        page.screenshot(path=str(SHOTS / f"case-{size}.png"), full_page=True)
        if size == "desktop":  # one step per case: the phone run finds it taken
            page.goto(f"{base}/cases/{site['new_case']}")
            page.select_option("#to", "home_visit")
            page.fill("#comment", "已入户核实")
            page.click("form[action$='/advance'] button")
            page.wait_for_url(f"{base}/cases/{site['new_case']}")
            assert "已入户核实" in page.inner_text("main")
        browser.close()
    assert {k: v for k, v in problems.items() if v} == {}
