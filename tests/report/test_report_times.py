"""The report shows times in the user's time zone (``DONGXI_TIMEZONE``)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from dongxi.report import ReportData, render_html
from dongxi.settings import get_settings


@pytest.mark.parametrize(
    ("zone", "shown", "offset"),
    [("Asia/Shanghai", "2019-12-31 20:00", "UTC+08:00"), ("UTC", "2019-12-31 12:00", "UTC+00:00")],
)
def test_generated_and_snapshot_times_in_the_users_zone(
    monkeypatch: pytest.MonkeyPatch, zone: str, shown: str, offset: str
) -> None:
    monkeypatch.setenv("DONGXI_TIMEZONE", zone)
    get_settings.cache_clear()
    try:
        snapshots = pd.DataFrame(
            {
                "round": ["2019"],
                "snapshot_id": ["s1"],
                "created_at": ["2019-12-31T12:00:00+00:00"],
            }
        )
        html = render_html(ReportData(snapshots=snapshots))
    finally:
        get_settings.cache_clear()
    assert f"{shown} {offset}" in html
    assert "2019-12-31T12:00:00+00:00" not in html
    generated = html.split("generated</span> ")[1].split(" · ")[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d " + re.escape(offset), generated)
