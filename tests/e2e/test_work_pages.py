"""Browser tests of the offices' work pages: the overview, imports and measurement, in Debian's
chromium driven by Playwright against `dongxi serve` (set up as tests/e2e/test_pages.py).

A county officer uploads a bad households file and reads its errors on the page (row, column,
the rule in Chinese), downloads the error file, uploads a good one, confirms it with the
keyboard and sees it imported; the overview shows the county's counts, the poverty rate and the
change request waiting for the officer. An analyst takes a snapshot, measures it by county, sees
the chart (drawn by the vendored Chart.js) beside the table, and downloads the CSV. Screenshots
of each page at desktop (1280) and phone (390) widths go to ``build/e2e-screenshots/``;
axe-core (vendored) finds no serious or critical violation on any of these pages.
"""

from __future__ import annotations

import csv
import io
import os
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

from dongxi.services import accounts, changes
from dongxi.services import households as hh_use
from dongxi.services.imports import import_tables
from dongxi.services.principal import Principal
from dongxi.services.snapshots import take_snapshot
from dongxi.store.db import make_engine, session_scope, upgrade
from dongxi.store.scope import Scope
from dongxi.synth import generate
from dongxi.web import STATIC_DIR

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "build" / "e2e-screenshots"
AXE = STATIC_DIR / "vendor" / "axe-core" / "axe.min.js"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PASSWORD = "office password 2026"
pytestmark = pytest.mark.slow


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


def _axe(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A served registry of 300 synthetic households (10 of one county held back for the good
    import file), a county officer, a village officer's change request, an analyst and a
    snapshot."""
    folder = tmp_path_factory.mktemp("e2e-work")
    url = f"sqlite:///{folder / 'registry.db'}"
    upgrade(url)
    engine = make_engine(url)
    admin = Principal(name="e2e-admin", role="admin")
    data = generate(households=300, seed=23, years=(2019,))
    state = data.rounds[2019]
    households = state.households
    county = str(households["village_code"].iloc[0])[:6]
    home = households[households["village_code"].str[:6] == county]
    held = home.tail(10)
    kept = households[~households["household_code"].isin(held["household_code"])]
    people = state.people[state.people["household_code"].isin(kept["household_code"])]
    income = state.income[state.income["household_code"].isin(kept["household_code"])]
    import_tables(
        principal=admin,
        engine=engine,
        frames={
            "helpers": data.helpers,
            "partners": data.partners,
            "households": kept,
            "people": people,
            "income": income,
        },
        source_name="synth",
    )
    good = folder / "good-households.csv"
    held.to_csv(good, index=False)
    bad_frame = held.head(4).copy()
    bad_frame["household_code"] = bad_frame["household_code"] + "B"
    bad_frame.iloc[1, bad_frame.columns.get_loc("housing_grade")] = "Z"
    bad = folder / "bad-households.csv"
    bad_frame.to_csv(bad, index=False)
    target = str(kept[kept["village_code"].str[:6] == county]["household_code"].iloc[0])
    village = str(kept[kept["household_code"] == target]["village_code"].iloc[0])
    with session_scope(engine) as session:
        for name, role, region in (
            ("officer", "county_officer", county),
            ("villager", "village_officer", village),
            ("analyst", "analyst", None),
        ):
            accounts.add_user(
                session, admin, username=name, password=PASSWORD, role=role, region=region
            )
    cadre = Principal(name="villager", role="village_officer", scope=Scope.region(village))
    with session_scope(engine) as session:
        detail = hh_use.household_detail(session, cadre, household_code=target, via="api")
        changes.edit_household(
            session,
            cadre,
            household_code=target,
            expected_version=detail.household.row_version,
            changes={"road_access": not bool(detail.deprivations["road_access"])},
            comment="e2e",
        )
    take_snapshot(
        principal=Principal(name="analyst", role="analyst"),
        folder=folder / "snapshot",
        label="e2e",
        engine=engine,
    )
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "DONGXI_DATA_DIR": str(folder / "data")}
    server = subprocess.Popen(
        [sys.executable, "-m", "dongxi", "serve", "--url", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
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
        yield {"base": base, "county": county, "good": good, "bad": bad, "data": folder / "data"}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _login(page: Any, base: str, user: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.press("#password", "Enter")


def _wait_for(page: Any, text: str, timeout: float = 90) -> None:
    """Until ``text`` is in the page's main part: htmx reloads the page when the job ends; the
    plain refresh link is followed too (as a reader without JavaScript would)."""
    from playwright.sync_api import Error

    url = page.url
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if text in page.inner_text("main", timeout=5000):
                return
        except Error:  # the page was being reloaded by htmx
            pass
        time.sleep(1)
        try:
            page.goto(url, wait_until="domcontentloaded")
        except Error:
            continue
    raise AssertionError(f"{text!r} did not appear: {page.inner_text('main')[:500]}")


def _shoot(page: Any, name: str, size: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)


def test_officer_imports_and_overview(site: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    base = site["base"]
    problems: dict[str, list[str]] = {}
    pages: dict[str, str] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        context = browser.new_context(
            viewport=SIZES["desktop"], bypass_csp=True, locale="zh-CN", accept_downloads=True
        )
        page = context.new_page()
        _login(page, base, "officer")

        page.goto(f"{base}/imports")
        problems["imports"] = _axe(page)
        _shoot(page, "imports", "desktop")
        pages["imports"] = "/imports"
        page.set_input_files("#file", str(site["bad"]))
        with page.expect_navigation():
            page.click("form[action='/imports'] button[type=submit]")
        assert re.search(r"/imports/[0-9a-f]{32}$", page.url), page.content()[:600]
        _wait_for(page, "错误清单")
        table = page.inner_text("table.errors")
        assert "housing_grade" in table  # the column, as the file names it
        assert "不是允许的取值" in table  # the rule, in Chinese
        rows = page.locator("table.errors tbody tr td:nth-child(2)").all_inner_texts()
        assert "3" in rows  # the second data row is line 3 of the file
        assert "没有写入任何数据" in page.inner_text("main")
        assert page.locator("form[action$='/confirm']").count() == 0  # nothing to confirm
        problems["import-errors"] = _axe(page)
        _shoot(page, "import-errors", "desktop")
        pages["import-errors"] = page.url.removeprefix(base)
        with page.expect_download() as download:
            page.click("text=下载错误文件")
        report = Path(download.value.path()).read_text(encoding="utf-8-sig")
        records = list(csv.DictReader(io.StringIO(report)))
        assert {r["column"] for r in records} >= {"housing_grade"}
        assert all(r["message_zh"] for r in records)

        page.goto(f"{base}/imports")
        page.set_input_files("#file", str(site["good"]))
        with page.expect_navigation():
            page.click("form[action='/imports'] button[type=submit]")
        _wait_for(page, "检查通过")
        problems["import-checked"] = _axe(page)
        _shoot(page, "import-checked", "desktop")
        pages["import-checked"] = page.url.removeprefix(base)
        # the keyboard alone confirms
        page.focus("form[action$='/confirm'] button")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        _wait_for(page, "导入完成")
        assert "10" in page.inner_text("table")  # ten households created
        _shoot(page, "import-done", "desktop")
        pages["import-done"] = page.url.removeprefix(base)
        uploads = [q for q in site["data"].rglob("input.*")]
        assert uploads == []  # the uploaded files are gone once imported or rejected

        page.goto(f"{base}/overview")
        main = page.inner_text("main")
        assert "等我处理" in main
        waiting = page.inner_text("ul.waiting")
        assert re.search(r"1\s+待审批的修改申请", waiting)
        income = page.locator("#income-table tbody tr")
        assert income.count() == 1  # the officer's county only
        cells = income.first.locator("td").all_inner_texts()
        assert cells[2].endswith("%")  # the poverty rate
        assert int(cells[5]) > 0  # households of the county
        page.wait_for_selector(".chart-box.drawn canvas")  # the chart, beside the table
        problems["overview"] = _axe(page)
        _shoot(page, "overview", "desktop")
        pages["overview"] = "/overview"

        phone = browser.new_context(viewport=SIZES["phone"], bypass_csp=True, locale="zh-CN")
        small = phone.new_page()
        _login(small, base, "officer")
        for name, path in pages.items():
            small.goto(f"{base}{path}")
            _shoot(small, name, "phone")
        browser.close()
    assert {k: v for k, v in problems.items() if v} == {}


def test_analyst_measures(site: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    base = site["base"]
    problems: dict[str, list[str]] = {}
    pages: dict[str, str] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        context = browser.new_context(
            viewport=SIZES["desktop"], bypass_csp=True, locale="zh-CN", accept_downloads=True
        )
        page = context.new_page()
        _login(page, base, "analyst")
        page.goto(f"{base}/households")
        assert "无权查看" in page.inner_text("main")  # no personal rows for an analyst

        page.goto(f"{base}/measure")
        problems["measure"] = _axe(page)
        _shoot(page, "measure", "desktop")
        pages["measure"] = "/measure"
        page.select_option("#spec", "china_official")
        # the keyboard alone submits the form
        page.focus("#year")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert re.search(r"/measure/[0-9a-f]{32}$", page.url), page.inner_text("main")[:400]
        _wait_for(page, "按县", timeout=120)
        page.wait_for_selector(".chart-box.drawn canvas")
        county_rows = page.locator("table[data-chart=interval]").first.locator("tbody tr")
        assert county_rows.count() >= 1
        assert "95% 置信区间" in page.inner_text("main")
        problems["measure-result"] = _axe(page)
        _shoot(page, "measure-result", "desktop")
        pages["measure-result"] = page.url.removeprefix(base)
        with page.expect_download() as download:
            page.click("text=下载结果（CSV）")
        table = list(
            csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig")))
        )
        assert {"measure", "estimate", "se", "ci_low", "ci_high", "by", "group"} <= set(table[0])
        assert any(r["by"] == "county" for r in table)

        phone = browser.new_context(viewport=SIZES["phone"], bypass_csp=True, locale="zh-CN")
        small = phone.new_page()
        _login(small, base, "analyst")
        small.goto(f"{base}/overview")
        problems["overview-analyst"] = _axe(small)
        _shoot(small, "overview-analyst", "phone")
        for name, path in pages.items():
            small.goto(f"{base}{path}")
            if name == "measure-result":
                small.wait_for_selector(".chart-box.drawn canvas")
            _shoot(small, name, "phone")
        browser.close()
    assert {k: v for k, v in problems.items() if v} == {}
