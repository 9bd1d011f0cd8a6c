"""The report of ``dongxi report`` in Debian's chromium (Playwright): screenshots on screen and in
print media (``build/e2e-screenshots/report-*.png``, test artifacts), a PDF, and in print no
table in a scroll box (every row printed) and no serious accessibility violation (axe-core)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dongxi.services import Principal
from dongxi.services.imports import import_tables
from dongxi.services.reporting import make_report
from dongxi.services.snapshots import take_snapshot
from dongxi.store.db import make_engine, upgrade
from dongxi.synth import generate
from dongxi.web import STATIC_DIR

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "build" / "e2e-screenshots"
AXE = STATIC_DIR / "vendor" / "axe-core" / "axe.min.js"


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is missing under CI=true (.ci/run installs it)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return path


ROUNDS = (2016, 2019)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report-e2e")
    url = f"sqlite:///{root / 'registry.db'}"
    upgrade(url)
    engine = make_engine(url)
    data = generate(households=150, seed=5, years=ROUNDS)
    admin = Principal.local_operator()
    folders = []
    try:
        for year in ROUNDS:
            state = data.rounds[year]
            frames = {
                "households": state.households,
                "people": state.people,
                "income": state.income,
            }
            if year == ROUNDS[0]:
                frames = {"partners": data.partners, "helpers": data.helpers, **frames}
            results = import_tables(
                principal=admin, engine=engine, frames=frames, source_name=f"synth-{year}"
            )
            assert all(r.ok for r in results.values())
            info = take_snapshot(principal=admin, folder=root / "snap" / str(year), engine=engine)
            folders.append(Path(info.folder))
    finally:
        engine.dispose()
    county = str(data.rounds[2019].households["county_code"].iloc[0])
    outcome = make_report(principal=admin, folder=root / "out", snapshots=folders, region=county)
    return outcome.html


def test_report_on_screen_and_in_print(report: Path) -> None:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, bypass_csp=True, locale="zh-CN"
        )
        page = context.new_page()
        page.goto(report.as_uri())
        assert "贫困识别与监测报告" in page.title()
        page.screenshot(path=str(SHOTS / "report-desktop.png"), full_page=True)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document)")
        serious = [
            f"{v['id']}: {v['help']}"
            for v in result["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        assert serious == []
        page.emulate_media(media="print")
        overflow = page.evaluate(
            "() => [...document.querySelectorAll('.scroll')].map("
            "e => getComputedStyle(e).overflowX + '/' + getComputedStyle(e).maxHeight)"
        )
        assert overflow and set(overflow) == {"visible/none"}
        assert page.evaluate("() => getComputedStyle(document.querySelector('nav')).display") == (
            "none"
        )
        page.screenshot(path=str(SHOTS / "report-print.png"), full_page=True)
        pdf = page.pdf(path=str(SHOTS / "report.pdf"), format="A4", print_background=True)
        assert pdf[:4] == b"%PDF"
        browser.close()
