"""Times shown in the user's time zone (``DONGXI_TIMEZONE``, Asia/Shanghai by default); stored
times stay UTC."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dongxi.cli import main
from dongxi.localtime import local_time
from dongxi.settings import Settings, get_settings


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_default_is_shanghai(zone: pytest.MonkeyPatch) -> None:
    zone.delenv("DONGXI_TIMEZONE", raising=False)
    assert Settings().timezone == "Asia/Shanghai"
    assert local_time("2024-05-01T16:30:00+00:00") == "2024-05-02 00:30 UTC+08:00"
    assert local_time(dt.datetime(2024, 5, 1, 16, 30)) == "2024-05-02 00:30 UTC+08:00"  # naive: UTC
    assert local_time("2024-05-01T16:30:05Z", seconds=True) == "2024-05-02 00:30:05 UTC+08:00"


def test_configured_zone(zone: pytest.MonkeyPatch) -> None:
    zone.setenv("DONGXI_TIMEZONE", "America/New_York")
    assert local_time("2024-01-15T12:00:00+00:00") == "2024-01-15 07:00 UTC-05:00"
    assert local_time("2024-07-15T12:00:00+00:00") == "2024-07-15 08:00 UTC-04:00"
    zone.setenv("DONGXI_TIMEZONE", "UTC")
    get_settings.cache_clear()
    assert local_time("2024-07-15T12:00:00+08:00") == "2024-07-15 04:00 UTC+00:00"


def test_unknown_zone_is_a_clear_error(
    zone: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    zone.setenv("DONGXI_TIMEZONE", "Mars/Olympus")
    assert main(["regions", "search", "隆安"]) == 2
    err = capsys.readouterr().err
    assert "DONGXI_TIMEZONE is invalid" in err
    assert "unknown time zone 'Mars/Olympus'" in err


@given(st.datetimes(timezones=st.just(dt.UTC), min_value=dt.datetime(1970, 1, 2)))
def test_shanghai_is_utc_plus_eight(moment: dt.datetime) -> None:
    shown = local_time(moment.isoformat(), seconds=True)
    expected = (moment + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert shown == f"{expected} UTC+08:00"


def test_snapshot_prints_local_time_and_stores_utc(
    zone: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zone.setenv("DONGXI_TIMEZONE", "Asia/Shanghai")
    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert main(["db", "upgrade", "--no-reference", "--url", url]) == 0
    capsys.readouterr()
    assert main(["snapshot", "--out", str(tmp_path / "snap"), "--url", url]) == 0
    out = capsys.readouterr().out
    stored = json.loads((tmp_path / "snap" / "manifest.json").read_text())["created_at"]
    assert dt.datetime.fromisoformat(stored).utcoffset() == dt.timedelta(0)
    assert f"taken at {local_time(stored)}" in out
    assert "UTC+08:00" in out
