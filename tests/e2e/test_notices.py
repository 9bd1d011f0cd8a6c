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
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import (
    ADMIN,
    PASSWORD,
    SIZES,
    Findings,
    logged_in_page,
    new_registry,
    serve,
    synth_frames,
)

from dongxi.services import accounts, cases
from dongxi.services.imports import import_tables
from dongxi.store.db import session_scope
from dongxi.synth import generate


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A served registry of 60 synthetic households, a county officer and two open cases."""
    folder = tmp_path_factory.mktemp("e2e-notices")
    url, engine = new_registry(folder)
    data = generate(households=60, seed=3, years=(2019,))
    state = data.rounds[2019]
    frames = synth_frames(data, 2019, partners=False)
    import_tables(principal=ADMIN, engine=engine, frames=frames, source_name="synth")
    hh = state.households
    county = str(hh["village_code"].iloc[0])[:6]
    home = hh[hh["village_code"].str[:6] == county]["household_code"].astype(str).tolist()
    assert len(home) >= 3
    people = state.people
    head = people[(people["household_code"] == home[0]) & (people["relation"] == "head")].iloc[0]
    with session_scope(engine) as session:
        accounts.add_user(
            session, ADMIN, username="officer", password=PASSWORD, role="county_officer",
            region=county,
        )  # fmt: skip
        case_ids = [
            cases.open_case(
                session, ADMIN, household_code=code, procedure="identification",
                channel=channel, opened_on=cases.today() - dt.timedelta(days=back),
            ).id
            for code, channel, back in (
                (home[1], "department_alert", 5), (home[2], "risk_score", 0),
            )
        ]  # fmt: skip
    engine.dispose()
    with serve(url) as base:
        yield {
            "base": base,
            "household": home[0],
            "head": str(head["name"]),
            "id_number": str(head["id_number"]),
            "late_case": case_ids[0],
            "new_case": case_ids[1],
        }


@pytest.mark.parametrize("size", sorted(SIZES))
def test_notice_objection_blocks_closing(site: dict[str, Any], browser: Any, size: str) -> None:
    shots = Findings()
    base = site["base"]
    page = logged_in_page(browser, base, "officer", SIZES[size])

    # publish: a notice posted on the board 8 days ago (its 7-day window is over)
    page.goto(f"{base}/notices")
    posted = (cases.today() - dt.timedelta(days=8)).isoformat()
    page.select_option("#kind", "monitoring_entry")
    page.fill("#households", site["household"])
    page.fill("#starts_on", posted)
    shots.take(page, "notices", size)
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
    shots.take(page, "notice-blocked", size)

    # resolve it, then the notice closes
    page.fill("textarea[name=resolution]", "经入户核实，收入属实")
    page.click("form[action$='/resolve'] button")
    page.wait_for_url(f"{notice_url}#objections")
    assert "已处理" in page.inner_text("main")
    page.click("#close-notice")
    page.wait_for_url(notice_url)
    assert "已结束" in page.inner_text("main")
    shots.take(page, "notice-closed", size)

    page.goto(f"{notice_url}/print")
    board = page.inner_text("main")
    assert site["head"] in board and site["id_number"] not in board
    shots.check(page, "notice-print")
    page.emulate_media(media="print")
    shots.shoot(page, "notice-print", size)
    assert not page.locator("header.site").is_visible()
    page.emulate_media(media="screen")

    # the overview lists the late case among the items waiting, as a link to its page
    page.goto(f"{base}/overview")
    waiting = page.locator("section[aria-labelledby=waiting-heading]")
    assert "逾期未办的监测环节" in waiting.inner_text()
    shots.take(page, "overview-waiting", size)
    waiting.locator(f"a[href='/cases/{site['late_case']}']").click()
    page.wait_for_url(f"{base}/cases/{site['late_case']}")

    # the monitoring cases: the late one in red, its procedure page, a step taken
    page.goto(f"{base}/cases")
    late_row = page.locator(f"tr:has(a[href='/cases/{site['late_case']}'])")
    assert "bad" in (late_row.get_attribute("class") or "")
    assert "逾期" in late_row.inner_text()
    shots.take(page, "cases", size)
    page.goto(f"{base}/cases/{site['late_case']}")
    assert "已逾期" in page.inner_text("main")
    shots.take(page, "case", size)
    if size == "desktop":  # one step per case: the phone run finds it taken
        page.goto(f"{base}/cases/{site['new_case']}")
        page.select_option("#to", "home_visit")
        page.fill("#comment", "已入户核实")
        page.click("form[action$='/advance'] button")
        page.wait_for_url(f"{base}/cases/{site['new_case']}")
        assert "已入户核实" in page.inner_text("main")
    shots.assert_clean()
