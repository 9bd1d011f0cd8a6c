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
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import (
    ADMIN,
    PASSWORD,
    Findings,
    logged_in_page,
    new_registry,
    poll,
    serve,
    synth_frames,
)

from dongxi.services import accounts
from dongxi.services.imports import import_tables
from dongxi.store.db import session_scope
from dongxi.synth import generate

YEAR = 2019


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A served registry of 700 synthetic households in two counties, and the five users."""
    folder = tmp_path_factory.mktemp("e2e-market")
    url, engine = new_registry(folder)
    data = generate(households=700, seed=11, years=(YEAR,))
    state = data.rounds[YEAR]
    import_tables(
        principal=ADMIN, engine=engine, frames=synth_frames(data, YEAR), source_name="synth"
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
            accounts.add_user(session, ADMIN, username=username, password=PASSWORD, role=role, **kw)
    engine.dispose()
    with serve(url) as base:
        yield {
            "base": base,
            "household": str(seeker["household_code"]),
            "name": str(seeker["name"]),
            "id_number": str(seeker["id_number"]),
            "away": str(away["household_code"].iloc[0]),
        }


def test_a_round_from_need_to_hire(site: dict[str, Any], browser: Any) -> None:
    base = site["base"]
    shots = Findings("market-")

    # 1. the partner posts a job offer; it sees its own offers only
    partner = logged_in_page(browser, base, "partner")
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
    shots.take_both(partner, "offers")
    partner.click("tbody a")  # edit the offer: a new version with 4 places
    partner.fill("#offer_positions", "4")
    partner.click("main form button[type=submit]")
    partner.wait_for_url(f"{base}/market/offers?done=saved")
    assert re.search(r"\b4\b", partner.inner_text("tbody"))
    partner.goto(f"{base}/market/offers/OTHER-1")
    assert "没有找到" in partner.inner_text("main")  # another partner's offer: not found

    # 2. the cadre finds the household by name, records a need, proposes an edit
    cadre = logged_in_page(browser, base, "cadre")
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
    shots.take_both(cadre, "household")
    cadre.click("text=修改住房和饮水情况")
    cadre.select_option("#housing_grade", "C")
    cadre.fill("#edit_comment", "入户核实：房屋有裂缝")
    cadre.click("form[action$='/edit'] button[type=submit]")
    cadre.wait_for_url(re.compile(r".*\?done=request"))
    assert "已提交修改申请" in cadre.inner_text("main")
    cadre.goto(f"{base}/changes")
    assert "待审核" in cadre.inner_text("main")
    shots.take_both(cadre, "changes")

    # 3. the township officer approves the change request
    township = logged_in_page(browser, base, "township")
    township.goto(f"{base}/changes")
    township.click("h2:has-text('待我审核') + .scroll tbody a")
    assert "C" in township.inner_text("main table")
    shots.take_both(township, "change-request")
    township.click("form[action$='/approve'] button")
    township.wait_for_url(f"{base}/changes?done=approve")
    township.goto(f"{base}/households/{site['household']}")
    assert "住房不安全（C级危房）" in township.inner_text("main")

    # 4. the officer starts a round, follows the job, reads and publishes the report
    officer = logged_in_page(browser, base, "officer")
    officer.goto(f"{base}/market")
    officer.wait_for_url(f"{base}/market/rounds")
    officer.click("form[action='/market/rounds'] button")
    officer.wait_for_url(re.compile(r".*/market/jobs/[0-9a-f]{32}$"))
    shots.take_both(officer, "job")

    def reported() -> bool:
        assert "失败" not in officer.inner_text("#job-state"), officer.inner_text("main")
        return bool(officer.locator("#report-link").count())

    poll(officer, reported, timeout=120, what="the round's report link")
    officer.click("#report-link")
    officer.wait_for_url(re.compile(r".*/market/rounds/[0-9a-f-]{36}$"))
    report = officer.inner_text("main")
    assert "分县情况" in report and "未匹配人员及原因" in report and "阻塞对" in report
    officer.click("form[action$='/publish'] button")
    officer.wait_for_url(re.compile(r".*\?done=published$"))
    shots.take_both(officer, "round")
    officer.goto(f"{base}/market/rounds")
    shots.take_both(officer, "rounds")

    # 5. the cadre accepts the proposal for the seeker, with the keyboard
    cadre.goto(f"{base}/market")
    cadre.wait_for_url(f"{base}/market/answers")
    row = cadre.locator("tbody tr", has_text=site["name"])
    assert row.count() == 1 and "待答复" in row.inner_text()
    shots.take_both(cadre, "answers")
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
    shots.take_both(partner, "matches")

    # 7. the cadre reads the outcome on the household page; another county's: not found
    cadre.goto(f"{base}/households/{site['household']}")
    outcome = cadre.inner_text("#proposals + .scroll")
    assert "已录用" in outcome and "愿意到深圳务工" in outcome
    cadre.goto(f"{base}/households/{site['away']}")
    assert "没有找到" in cadre.inner_text("main")
    cadre.goto(f"{base}/households/{site['household']}?lang=en")
    assert "Needs and willingness" in cadre.inner_text("main")
    shots.take_both(cadre, "household-en")
    shots.assert_clean()
