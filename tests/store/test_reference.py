"""Reference data loaded by ``upgrade``: regions of both vintages, pairings, policy."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi import regions
from dongxi.store._reference import pairing_rows


def _scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def test_regions_loaded_both_vintages(registry: Engine) -> None:
    for vintage in (2017, 2023):
        expected = len(regions.divisions(vintage))
        got = _scalar(registry, f"SELECT count(*) FROM regions WHERE vintage = {vintage}")
        assert got == expected
    villages = _scalar(
        registry,
        "SELECT count(*) FROM regions WHERE vintage = 2023 AND level = 'village' "
        "AND code LIKE '45%'",
    )
    assert villages == 16681
    assert (
        _scalar(registry, "SELECT count(*) FROM regions WHERE side = 'east' AND code LIKE '45%'")
        == 0
    )
    assert _scalar(registry, "SELECT count(*) FROM region_changes") == len(regions.county_changes())


def test_pairings_loaded(registry: Engine) -> None:
    assert _scalar(registry, "SELECT count(*) FROM pairings WHERE level = 'city'") == 16
    assert _scalar(registry, "SELECT count(*) FROM pairings WHERE level = 'county'") == 66
    after = "SELECT count(*) FROM pairings WHERE level = 'county' AND period_start = 2021"
    assert _scalar(registry, after) == 33  # the 2021 adjustment continues every county
    assert _scalar(registry, "SELECT count(*) FROM pairings") == len(pairing_rows())
    # every county pairing points at a Guangxi county of the 2023 vintage
    missing = _scalar(
        registry,
        "SELECT count(*) FROM pairings p WHERE p.level = 'county' AND NOT EXISTS ("
        "SELECT 1 FROM regions r WHERE r.code = p.west_code AND r.vintage = 2023 "
        "AND r.level = 'county')",
    )
    assert missing == 0
    assert _scalar(registry, "SELECT count(*) FROM pairings WHERE source IS NULL") == 0


def test_policy_parameters_loaded(registry: Engine) -> None:
    from dongxi.policy import all_parameters

    assert _scalar(registry, "SELECT count(*) FROM policy_parameters") == len(all_parameters())
