"""Browser tests: the pages in Debian's chromium driven by Playwright, against `dongxi serve`.

A county cadre logs in with the keyboard, reads the households of the county, opens one (masked
ID numbers), finds a household by a member's name, fails to open a household of another county
by URL (the same "not found" page as for a code that does not exist), switches to English and
logs out. Screenshots of each page at desktop and phone widths are written to
``build/e2e-screenshots/`` (test artifacts). axe-core (vendored) finds no serious or critical
accessibility violation on the pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import (
    ADMIN,
    PASSWORD,
    SIZES,
    Findings,
    log_in,
    new_page,
    new_registry,
    serve,
    synth_frames,
)

from dongxi.services import accounts
from dongxi.services.imports import import_tables
from dongxi.store.db import session_scope
from dongxi.synth import generate


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A served registry of 700 synthetic households in two counties, and a county cadre."""
    folder = tmp_path_factory.mktemp("e2e")
    url, engine = new_registry(folder)
    data = generate(households=700, seed=11, years=(2019,))
    state = data.rounds[2019]
    import_tables(
        principal=ADMIN, engine=engine, frames=synth_frames(data, 2019), source_name="synth"
    )
    hh = state.households
    county = str(hh["village_code"].iloc[0])[:6]
    home = hh[hh["village_code"].str[:6] == county]
    away = hh[hh["village_code"].str[:6] != county]
    first = str(home["household_code"].iloc[0])
    member = state.people[state.people["household_code"] == first].iloc[0]
    with session_scope(engine) as session:
        accounts.add_user(
            session,
            ADMIN,
            username="cadre",
            password=PASSWORD,
            role="county_officer",
            region=county,
        )
    engine.dispose()
    with serve(url) as base:
        yield {
            "base": base,
            "county": county,
            "home": first,
            "away": str(away["household_code"].iloc[0]),
            "name": str(member["name"]),
            "id_number": str(member["id_number"]),
            "households_in_county": len(home),
        }


@pytest.mark.parametrize("size", sorted(SIZES))
def test_cadre_journey(site: dict[str, Any], browser: Any, size: str) -> None:
    shots = Findings()
    page = new_page(browser, SIZES[size])
    base = site["base"]

    page.goto(f"{base}/households")
    assert page.url == f"{base}/login"  # not logged in: to the login form
    shots.take(page, "login", size)
    log_in(page, base, "cadre", lands="/households")

    rows = page.locator("tbody tr")
    assert rows.count() == min(50, site["households_in_county"])
    villages = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert all(v and not v.isdigit() for v in villages)  # names, never bare codes
    shots.take(page, "households", size)

    page.click(f"text={site['home']}")
    page.wait_for_url(f"{base}/households/{site['home']}")
    text = page.inner_text("main")
    assert "家庭成员" in text
    assert site["name"] in text
    assert site["id_number"] not in text  # masked
    assert site["id_number"][:4] + "*" * 14 in text
    shots.take(page, "household", size)

    page.goto(f"{base}/households")
    page.fill("input[name=name]", site["name"])
    page.click("form[action='/households/search'] button")
    assert site["name"] not in page.url  # names travel in the POST body only
    assert site["home"] in page.inner_text("tbody")

    page.goto(f"{base}/households/{site['away']}")
    assert "没有找到" in page.inner_text("main")
    missing_text = page.inner_text("main").replace(site["away"], "X")
    page.goto(f"{base}/households/NO-SUCH-CODE")
    assert page.inner_text("main").replace("NO-SUCH-CODE", "X") == missing_text
    shots.take(page, "not-found", size)

    page.goto(f"{base}/households?lang=en")
    assert "Households" in page.inner_text("h1")
    shots.shoot(page, "households-en", size)
    page.click("header button")  # log out (a form with the CSRF token)
    page.wait_for_url(f"{base}/login")
    page.goto(f"{base}/households")
    assert page.url == f"{base}/login"
    shots.assert_clean()
