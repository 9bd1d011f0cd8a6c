"""The pages on a phone (390 px wide): readable by a village cadre without zooming out.

Each role logs in on a phone and opens every page of its navigation (read from the page header)
and the detail pages it works on: a household (its members, income, needs), a change request, a
monitoring case, a notice and its printable list, an offer. On none is the page wider than the
phone (`phone_layout_problems`): the wide tables either become a list of cards (one per member,
each value under its column's name) or scroll sideways inside their own box with the first column
kept in view, and no cell is squeezed narrower than ``MIN_CELL``. Screenshots of every page at
phone width go to ``build/e2e-screenshots/layout-*-phone.png``; axe-core checks each page at that
width.

On a desktop and in print the household's members stay one table (a row per member under one
head), as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from e2e_helpers import (
    ADMIN,
    DESKTOP,
    MIN_CELL,
    PASSWORD,
    PHONE,
    Findings,
    log_in,
    logged_in_page,
    new_page,
    new_registry,
    phone_layout_problems,
    serve,
    synth_frames,
)
from sqlalchemy import select

from dongxi.services import accounts, cases, changes, notices
from dongxi.services.imports import import_tables
from dongxi.services.market_desk import NeedInput, record_need
from dongxi.services.principal import Principal
from dongxi.store.db import session_scope
from dongxi.store.market_models import save_offers
from dongxi.store.models import Person
from dongxi.store.scope import Scope
from dongxi.synth import generate

YEAR = 2019


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """300 synthetic households in two counties; a county officer, a partner and an analyst; one
    of each thing a page lists (a need, an offer, a change request, a case, a notice with an
    objection)."""
    folder = tmp_path_factory.mktemp("e2e-phone")
    url, engine = new_registry(folder)
    data = generate(households=300, seed=11, years=(YEAR,))
    state = data.rounds[YEAR]
    import_tables(
        principal=ADMIN, engine=engine, frames=synth_frames(data, YEAR), source_name="synth"
    )
    hh = state.households
    village = str(hh["village_code"].iloc[0])
    home = hh[hh["village_code"] == village]["household_code"].astype(str).tolist()
    partner = str(data.partners["partner_code"].iloc[0])
    save_offers(
        engine,
        pd.DataFrame([{"offer_id": "PHONE-1", "partner_code": partner, "place_code": "440100",
                       "positions": 3, "monthly_wage": 4200.0, "sector": "manufacturing"}]),
        actor="e2e",
    )  # fmt: skip
    cadre = Principal(name="cadre", role="village_officer", scope=Scope.region(village))
    with session_scope(engine) as session:
        for username, role, kw in (
            ("officer", "county_officer", {"region": village[:6]}),
            ("partner", "east_partner", {"partner": partner}),
            ("analyst", "analyst", {}),
        ):
            accounts.add_user(session, ADMIN, username=username, password=PASSWORD, role=role, **kw)
        member = session.scalars(
            select(Person.id_hash).where(Person.household_code == home[0])
        ).first()
        assert member is not None
        record_need(
            session, cadre, household_code=home[0], id_hash=member,
            need=NeedInput(kind="employment", sectors=["manufacturing", "services"],
                           places=["440100", village[:6]], min_wage=3500.0,
                           details="希望在县城附近务工，能照顾家里老人"),
        )  # fmt: skip
        request = changes.edit_household(
            session, cadre, household_code=home[0], expected_version=1,
            changes={"road_access": False},
        ).request_id  # fmt: skip
        case = cases.open_case(
            session, ADMIN, household_code=home[1], procedure="identification",
            channel="department_alert", opened_on=cases.today() - dt.timedelta(days=6),
        ).id  # fmt: skip
        notice = notices.create_notice(
            session, ADMIN, kind="monitoring_entry", household_codes=home[1:4],
            starts_on=cases.today() - dt.timedelta(days=2),
        ).id  # fmt: skip
        notices.object_to(session, ADMIN, notice_id=notice, raised_by="三组村民", text="收入不符")
    engine.dispose()
    with serve(url) as base:
        yield {
            "base": base,
            "details": {
                "officer": [f"/households/{home[0]}", f"/changes/{request}", f"/cases/{case}",
                            f"/notices/{notice}", f"/notices/{notice}/print",
                            "/market/rounds", "/market/answers"],
                "partner": ["/market/offers", "/market/offers/PHONE-1", "/market/matches"],
                "analyst": [],
            },
            "household": home[0],
        }  # fmt: skip


def _name(path: str) -> str:
    return "layout" + path.replace("/", "-").rstrip("-")


@pytest.mark.parametrize("username", ["officer", "partner", "analyst"])
def test_every_page_fits_a_phone(site: dict[str, Any], browser: Any, username: str) -> None:
    base = site["base"]
    shots = Findings()
    page = new_page(browser, PHONE)
    log_in(page, base, username)
    page.goto(f"{base}/overview")
    nav = page.locator("header.site nav a[href^='/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert "/overview" in nav
    for path in dict.fromkeys([*nav, *site["details"][username]]):
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, (username, path)
        shots.take(page, _name(path), "phone")  # axe-core, the layout, the screenshot
    shots.assert_clean()


def test_the_checks_see_a_squeezed_table(site: dict[str, Any], browser: Any) -> None:
    """The layout check itself: a ten-column table of Chinese words, squeezed into the phone's
    width, is found out (as the household's members were before they became cards)."""
    page = logged_in_page(browser, site["base"], "officer", PHONE)
    page.evaluate(
        """() => {
          const t = document.createElement('table');
          t.innerHTML = '<tr>' + '<td>与户主关系文化程度</td>'.repeat(10) + '</tr>';
          document.querySelector('main').prepend(t);
        }"""
    )
    problems = phone_layout_problems(page)
    assert problems and all("px wide" in p for p in problems), problems


def _members(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => {
          const table = document.querySelector('#members + .scroll table');
          const cell = table.querySelector('tbody td');
          const head = table.querySelector('thead th').getBoundingClientRect();
          return {display: getComputedStyle(cell).display, width: table.offsetWidth,
                  box: table.parentElement.clientWidth, head: head.right > 0 && head.height > 0};
        }"""
    )


def test_members_are_cards_on_a_phone_and_a_table_elsewhere(
    site: dict[str, Any], browser: Any
) -> None:
    page = logged_in_page(browser, site["base"], "officer", PHONE)
    page.goto(f"{site['base']}/households/{site['household']}")
    phone = _members(page)
    assert phone["display"] != "table-cell" and not phone["head"]  # a card a member
    assert phone["width"] <= phone["box"]
    labels = page.eval_on_selector_all(
        "#members + .scroll tbody tr:first-child td",
        "cells => cells.map(c => getComputedStyle(c, '::before').content)",
    )
    assert '"姓名"' in labels and '"身份证号（已遮蔽）"' in labels

    page.emulate_media(media="print")  # printed from a phone: the table, whole
    printed = _members(page)
    assert printed["display"] == "table-cell" and printed["head"]
    page.emulate_media(media="screen")

    page.set_viewport_size(DESKTOP)
    desktop = _members(page)
    assert desktop["display"] == "table-cell" and desktop["head"]
    widths = page.eval_on_selector_all(
        "#members + .scroll td", "cells => cells.map(c => c.getBoundingClientRect().width)"
    )
    assert min(widths) >= MIN_CELL
