"""The report of ``dongxi report`` in Debian's chromium (Playwright): screenshots on screen and in
print media (``build/e2e-screenshots/report-*.png``, test artifacts), a PDF, and in print no
table in a scroll box (every row printed) and no serious accessibility violation (axe-core)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import SHOTS, Findings, new_page, new_registry

from dongxi.services import Principal
from dongxi.services.imports import import_tables
from dongxi.services.reporting import make_report
from dongxi.services.snapshots import take_snapshot
from dongxi.synth import generate

ROUNDS = (2016, 2019)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report-e2e")
    _, engine = new_registry(root)
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


def test_report_on_screen_and_in_print(report: Path, browser: Any) -> None:
    shots = Findings()
    page = new_page(browser)
    page.goto(report.as_uri())
    assert "贫困识别与监测报告" in page.title()
    shots.take(page, "report", "desktop")
    shots.assert_clean()
    page.emulate_media(media="print")
    overflow = page.evaluate(
        "() => [...document.querySelectorAll('.scroll')].map("
        "e => getComputedStyle(e).overflowX + '/' + getComputedStyle(e).maxHeight)"
    )
    assert overflow and set(overflow) == {"visible/none"}
    assert page.evaluate("() => getComputedStyle(document.querySelector('nav')).display") == (
        "none"
    )
    shots.shoot(page, "report", "print")
    pdf = page.pdf(path=str(SHOTS / "report.pdf"), format="A4", print_background=True)
    assert pdf[:4] == b"%PDF"
