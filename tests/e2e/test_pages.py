"""Browser tests: the pages in Debian's chromium driven by Playwright, against `dongxi serve`.

A county cadre logs in with the keyboard, reads the households of the county, opens one (masked
ID numbers), finds a household by a member's name, fails to open a household of another county
by URL (the same "not found" page as for a code that does not exist), switches to English and
logs out. Screenshots of each page at desktop and phone widths are written to
``build/e2e-screenshots/`` (test artifacts). axe-core (vendored) finds no serious or critical
accessibility violation on the pages.
"""

from __future__ import annotations

import os
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
PASSWORD = "cadre password 2026"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def _chromium() -> str:
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
    """A served registry of 700 synthetic households in two counties, and a county cadre."""
    folder = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{folder / 'registry.db'}"
    upgrade(url)
    engine = make_engine(url)
    admin = Principal(name="e2e-admin", role="admin")
    data = generate(households=700, seed=11, years=(2019,))
    state = data.rounds[2019]
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
    hh = state.households
    county = str(hh["village_code"].iloc[0])[:6]
    home = hh[hh["village_code"].str[:6] == county]
    away = hh[hh["village_code"].str[:6] != county]
    first = str(home["household_code"].iloc[0])
    member = state.people[state.people["household_code"] == first].iloc[0]
    with session_scope(engine) as session:
        accounts.add_user(
            session,
            admin,
            username="cadre",
            password=PASSWORD,
            role="county_officer",
            region=county,
        )
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
            "county": county,
            "home": first,
            "away": str(away["household_code"].iloc[0]),
            "name": str(member["name"]),
            "id_number": str(member["id_number"]),
            "households_in_county": len(home),
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


@pytest.mark.parametrize("size", sorted(SIZES))
def test_cadre_journey(site: dict[str, Any], size: str) -> None:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        # bypass_csp: only so that the test can inject axe-core; the pages themselves run none
        context = browser.new_context(viewport=SIZES[size], bypass_csp=True, locale="zh-CN")
        page = context.new_page()
        base = site["base"]

        page.goto(f"{base}/households")
        assert page.url == f"{base}/login"  # not logged in: to the login form
        problems["login"] = _axe(page)
        page.screenshot(path=str(SHOTS / f"login-{size}.png"), full_page=True)
        # the keyboard alone: focus the user name, type, Tab to the password, Enter to submit
        page.focus("#username")
        page.keyboard.type("cadre")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        with page.expect_navigation(url=f"{base}/households"):
            page.keyboard.press("Enter")

        rows = page.locator("tbody tr")
        assert rows.count() == min(50, site["households_in_county"])
        villages = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
        assert all(v and not v.isdigit() for v in villages)  # names, never bare codes
        problems["households"] = _axe(page)
        page.screenshot(path=str(SHOTS / f"households-{size}.png"), full_page=True)

        page.click(f"text={site['home']}")
        page.wait_for_url(f"{base}/households/{site['home']}")
        text = page.inner_text("main")
        assert "家庭成员" in text
        assert site["name"] in text
        assert site["id_number"] not in text  # masked
        assert site["id_number"][:4] + "*" * 14 in text
        problems["household"] = _axe(page)
        page.screenshot(path=str(SHOTS / f"household-{size}.png"), full_page=True)

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
        problems["error"] = _axe(page)
        page.screenshot(path=str(SHOTS / f"not-found-{size}.png"), full_page=True)

        page.goto(f"{base}/households?lang=en")
        assert "Households" in page.inner_text("h1")
        page.screenshot(path=str(SHOTS / f"households-en-{size}.png"), full_page=True)
        page.click("header button")  # log out (a form with the CSRF token)
        page.wait_for_url(f"{base}/login")
        page.goto(f"{base}/households")
        assert page.url == f"{base}/login"
        browser.close()
    assert {k: v for k, v in problems.items() if v} == {}
