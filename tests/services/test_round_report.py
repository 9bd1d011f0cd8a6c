"""The registry's latest matching round as a report shows it (``latest_round_tables``): by
county, status and enterprise, person by person with each unplaced person's reason, bounded by
the region and the principal's scope."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dongxi.errors import NotFoundError, PermissionDeniedError
from dongxi.services import Principal
from dongxi.services.matching import answer_proposal, rematch, run_round
from dongxi.services.reporting import latest_round_tables
from dongxi.store import db
from dongxi.store.market_models import (
    current_needs,
    proposal_history,
    save_needs,
    save_offers,
)
from dongxi.store.scope import Scope
from dongxi.synth.market import market_2017

ADMIN = Principal(name="admin-1", role="admin")


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[Engine]:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    db.upgrade(engine, load_reference=False)
    seekers, offers = market_2017(seed=9, n_seekers=240)
    save_needs(engine, seekers, actor="cadre-0")
    save_offers(engine, offers, actor="partner-0")
    try:
        yield engine
    finally:
        engine.dispose()


def test_no_round_yet(registry: Engine) -> None:
    assert latest_round_tables(ADMIN, registry) is None


def test_the_latest_round_by_county_enterprise_and_person(registry: Engine) -> None:
    first = run_round(ADMIN, registry, seed=5)
    shown = latest_round_tables(ADMIN, registry)
    assert shown is not None and shown.run_id == first.run_id and shown.round_no == 1
    tables = shown.tables
    needs = current_needs(registry)
    people = tables["placements"]
    assert len(people) == len(needs)
    placed = people[people["offer_id"] != ""]
    assert len(placed) == int(first.overall["matched"].iloc[0])
    assert int(tables["by_partner"]["matched"].sum()) == len(placed)
    assert int(tables["by_county"]["matched"].sum()) == len(placed)
    assert int(tables["by_county"]["seekers"].sum()) == len(needs)
    unplaced = people[people["offer_id"] == ""]
    assert len(unplaced) > 0
    assert (unplaced["state"] == "未匹配").all()
    assert all(why and "\u4e00" <= why[0] <= "\u9fff" for why in unplaced["why_not"])
    assert (placed["why_not"] == "").all() and (placed["state"] == "待答复").all()
    # the counts by county and reason add up to the unplaced
    assert int(tables["unmatched"]["seekers"].sum()) == len(unplaced)

    # answers, then the next round: the report shows round 2 and counts the declined pair
    pid = int(proposal_history(registry, [first.run_id])["proposal_id"].iloc[0])
    answer_proposal(ADMIN, registry, pid, to_state="declined_by_seeker", side="seeker")
    second = rematch(ADMIN, registry, first.run_id, seed=5)
    shown = latest_round_tables(ADMIN, registry)
    assert shown is not None and shown.run_id == second.run_id and shown.round_no == 2
    cards = dict(
        zip(shown.tables["summary"]["label_en"], shown.tables["summary"]["value"], strict=True)
    )
    assert cards["pairs declined earlier, not proposed again"] == 1
    assert "第 2 轮" in shown.words[0]


def test_region_and_scope_bound_the_round(registry: Engine) -> None:
    run_round(ADMIN, registry, seed=5)
    county = str(current_needs(registry)["county_code"].value_counts().index[0])
    shown = latest_round_tables(ADMIN, registry, region=county)
    assert shown is not None
    assert set(shown.tables["placements"]["county_code"]) == {county}
    assert set(shown.tables["unmatched"]["county_code"]) <= {county}
    officer = Principal(name="c", role="county_officer", scope=Scope(region_prefix=county))
    own = latest_round_tables(officer, registry, region="450000")  # narrowed to the county
    assert own is not None
    assert len(own.tables["placements"]) == len(shown.tables["placements"])
    other = Principal(name="o", role="county_officer", scope=Scope(region_prefix="440300"))
    with pytest.raises(NotFoundError):
        latest_round_tables(other, registry, region=county)
    assert latest_round_tables(ADMIN, registry, region="440300") is None  # no seeker there
    with pytest.raises(PermissionDeniedError):
        latest_round_tables(Principal(name="a", role="analyst"), registry)


def test_offers_with_a_cell_empty_in_some_rows_only_are_saved(tmp_path: Path) -> None:
    # market_2017(seed=5, n_seekers=200) gives offers whose skill_required is empty in some rows
    # only: one insert statement needs the same keys in every row
    engine = db.make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    db.upgrade(engine, load_reference=False)
    try:
        seekers, offers = market_2017(seed=5, n_seekers=200)
        assert offers["skill_required"].isna().any() and offers["skill_required"].notna().any()
        assert save_offers(engine, offers, actor="p") == len(offers)
        assert save_needs(engine, seekers, actor="c") == len(seekers)
    finally:
        engine.dispose()
