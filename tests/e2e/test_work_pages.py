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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import (
    ADMIN,
    PASSWORD,
    PHONE,
    Findings,
    logged_in_page,
    new_registry,
    serve,
    wait_for_text,
)

from dongxi.services import accounts, changes
from dongxi.services import households as hh_use
from dongxi.services.imports import import_tables
from dongxi.services.principal import Principal
from dongxi.services.snapshots import take_snapshot
from dongxi.store.db import session_scope
from dongxi.store.scope import Scope
from dongxi.synth import generate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A served registry of 300 synthetic households (10 of one county held back for the good
    import file), a county officer, a village officer's change request, an analyst and a
    snapshot."""
    folder = tmp_path_factory.mktemp("e2e-work")
    url, engine = new_registry(folder)
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
        principal=ADMIN,
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
                session, ADMIN, username=name, password=PASSWORD, role=role, region=region
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
    env = {**os.environ, "DONGXI_DATA_DIR": str(folder / "data")}
    with serve(url, env) as base:
        yield {"base": base, "county": county, "good": good, "bad": bad, "data": folder / "data"}


def test_officer_imports_and_overview(site: dict[str, Any], browser: Any) -> None:
    base = site["base"]
    shots = Findings()
    pages: dict[str, str] = {}
    page = logged_in_page(browser, base, "officer", accept_downloads=True)

    page.goto(f"{base}/imports")
    shots.take(page, "imports", "desktop")
    pages["imports"] = "/imports"
    page.set_input_files("#file", str(site["bad"]))
    with page.expect_navigation():
        page.click("form[action='/imports'] button[type=submit]")
    assert re.search(r"/imports/[0-9a-f]{32}$", page.url), page.content()[:600]
    wait_for_text(page, "错误清单")
    table = page.inner_text("table.errors")
    assert "housing_grade" in table  # the column, as the file names it
    assert "不是允许的取值" in table  # the rule, in Chinese
    rows = page.locator("table.errors tbody tr td:nth-child(2)").all_inner_texts()
    assert "3" in rows  # the second data row is line 3 of the file
    assert "没有写入任何数据" in page.inner_text("main")
    assert page.locator("form[action$='/confirm']").count() == 0  # nothing to confirm
    shots.take(page, "import-errors", "desktop")
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
    wait_for_text(page, "检查通过")
    shots.take(page, "import-checked", "desktop")
    pages["import-checked"] = page.url.removeprefix(base)
    # the keyboard alone confirms
    page.focus("form[action$='/confirm'] button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    wait_for_text(page, "导入完成")
    assert "10" in page.inner_text("table")  # ten households created
    shots.shoot(page, "import-done", "desktop")
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
    shots.take(page, "overview", "desktop")
    pages["overview"] = "/overview"

    small = logged_in_page(browser, base, "officer", PHONE)
    for name, path in pages.items():
        small.goto(f"{base}{path}")
        shots.shoot(small, name, "phone")
    shots.assert_clean()


def test_analyst_measures(site: dict[str, Any], browser: Any) -> None:
    base = site["base"]
    shots = Findings()
    pages: dict[str, str] = {}
    page = logged_in_page(browser, base, "analyst", accept_downloads=True)
    page.goto(f"{base}/households")
    assert "无权查看" in page.inner_text("main")  # no personal rows for an analyst

    page.goto(f"{base}/measure")
    shots.take(page, "measure", "desktop")
    pages["measure"] = "/measure"
    page.select_option("#spec", "china_official")
    # the keyboard alone submits the form
    page.focus("#year")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/measure/[0-9a-f]{32}$", page.url), page.inner_text("main")[:400]
    wait_for_text(page, "按县", timeout=120)
    page.wait_for_selector(".chart-box.drawn canvas")
    county_rows = page.locator("table[data-chart=interval]").first.locator("tbody tr")
    assert county_rows.count() >= 1
    assert "95% 置信区间" in page.inner_text("main")
    shots.take(page, "measure-result", "desktop")
    pages["measure-result"] = page.url.removeprefix(base)
    with page.expect_download() as download:
        page.click("text=下载结果（CSV）")
    table = list(
        csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig")))
    )
    assert {"measure", "estimate", "se", "ci_low", "ci_high", "by", "group"} <= set(table[0])
    assert any(r["by"] == "county" for r in table)

    small = logged_in_page(browser, base, "analyst", PHONE)
    small.goto(f"{base}/overview")
    shots.take(small, "overview-analyst", "phone")
    for name, path in pages.items():
        small.goto(f"{base}{path}")
        if name == "measure-result":
            small.wait_for_selector(".chart-box.drawn canvas")
        shots.shoot(small, name, "phone")
    shots.assert_clean()
