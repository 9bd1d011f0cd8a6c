"""The market's registry tables on SQLite and PostgreSQL (migration 0002)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi.errors import InputError, NotFoundError
from dongxi.market import run_market
from dongxi.store import db
from dongxi.store.market_models import (
    MatchTransition,
    current_needs,
    current_offers,
    proposal_history,
    record_outcome,
    record_run,
    record_transition,
    save_needs,
    save_offers,
)
from dongxi.synth.market import market_2017


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    engine = db.make_engine(url)
    db.upgrade(engine, load_reference=False)
    try:
        yield engine
    finally:
        if request.param == "postgres":
            db.downgrade(engine, "base")
        engine.dispose()


def test_round_trip_with_history_and_rounds(registry: Engine) -> None:
    seekers, offers = market_2017(seed=4, n_seekers=300)
    assert save_needs(registry, seekers, actor="cadre-1") == 300
    assert save_offers(registry, offers, actor="partner-1") == len(offers)
    # a new statement replaces the current one and keeps the old as history
    changed = seekers.iloc[:5].assign(min_wage=9999.0)
    save_needs(registry, changed, actor="cadre-2")
    needs = current_needs(registry)
    assert len(needs) == 300
    assert (needs.set_index("seeker_id").loc[changed["seeker_id"], "min_wage"] == 9999.0).all()
    with registry.connect() as conn:
        versions = conn.execute(sa.text("select count(*) from market_needs")).scalar_one()
    assert versions == 305
    assert "sex" not in needs.columns and "ethnicity" not in needs.columns
    got_offers = current_offers(registry)
    assert got_offers["positions"].sum() == offers["positions"].sum()

    result = run_market(needs, got_offers, seed=4, methods=("stable",))
    proposals = result.proposals("stable")
    overall = result.tables["overall"].iloc[0].to_dict() | {"offers": len(got_offers)}
    run_id = record_run(
        registry,
        method="stable",
        kind="job",
        seed=4,
        actor="cadre-1",
        proposals=proposals,
        overall=overall,
        report={k: v.to_dict("records") for k, v in result.tables.items()},
    )
    history = proposal_history(registry, [run_id])
    assert len(history) == len(proposals) and (history["state"] == "proposed").all()
    first, second = (int(x) for x in history["proposal_id"].iloc[:2])
    record_transition(registry, first, to_state="accepted", actor="seeker-x", role="seeker")
    record_transition(registry, first, to_state="confirmed", actor="partner-1", role="partner")
    record_outcome(
        registry,
        first,
        hired=True,
        actor="cadre-1",
        start_date=dt.date(2017, 4, 1),
        monthly_wage=3800.0,
        retained_3m=True,
        retained_6m=False,
    )
    record_transition(registry, second, to_state="declined_by_seeker", actor="s", role="seeker")
    with pytest.raises(InputError, match="cannot go"):
        record_transition(registry, second, to_state="confirmed", actor="p", role="partner")
    with pytest.raises(InputError, match="confirmed placements"):
        record_outcome(registry, second, hired=False, actor="c")
    with pytest.raises(NotFoundError):
        record_transition(registry, 10**9, to_state="accepted", actor="s", role="seeker")
    with registry.connect() as conn:
        rows = conn.execute(
            sa.select(MatchTransition.from_state, MatchTransition.to_state, MatchTransition.actor)
            .where(MatchTransition.proposal_id == first)
            .order_by(MatchTransition.transition_id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (None, "proposed", "cadre-1"),
        ("proposed", "accepted", "seeker-x"),
        ("accepted", "confirmed", "partner-1"),
    ]
    # next round: re-match keeping the confirmed pair, striking the declined one
    from dongxi.market import Matching, rematch

    state = proposal_history(registry, [run_id])
    nxt, kept = rematch(result.instance, state)
    assert kept.sum() == 1
    assert isinstance(nxt, Matching)
    pairs = nxt.pairs().dropna(subset=["offer_id"])
    pairs = pairs.merge(
        state[["seeker_id", "offer_id", "state"]], how="left", on=["seeker_id", "offer_id"]
    )
    pairs["state"] = pairs["state"].where(
        pairs["state"].isin(["accepted", "confirmed"]), "proposed"
    )
    run2 = record_run(
        registry,
        method="stable",
        kind="job",
        seed=4,
        actor="cadre-1",
        proposals=pairs,
        overall=overall,
        report={},
        parent_run_id=run_id,
    )
    with registry.connect() as conn:
        round_no = conn.execute(
            sa.text("select round_no from match_runs where run_id = :r"), {"r": run2}
        ).scalar_one()
    assert round_no == 2


def test_bad_offers_refused(registry: Engine) -> None:
    offers = pd.DataFrame({"offer_id": ["x"], "place_code": ["440300"], "positions": [-1]})
    with pytest.raises(InputError):
        save_offers(registry, offers, actor="p")
    with pytest.raises(InputError, match="offer_id"):
        save_offers(registry, offers.drop(columns="offer_id"), actor="p")


def test_a_statement_replaces_only_its_own_kind(registry: Engine) -> None:
    """The current version is found per (seeker, kind): a new training need of a person closes
    their training need, never their employment need, nor another person's."""

    def need(seeker: str, kind: str, wage: float) -> dict[str, object]:
        return {"seeker_id": seeker, "county_code": "450226", "kind": kind, "min_wage": wage}

    first = [need("a", "employment", 1), need("a", "training", 2), need("b", "employment", 3)]
    save_needs(registry, pd.DataFrame(first), actor="cadre")
    save_needs(
        registry,
        pd.DataFrame([need("a", "training", 20), need("b", "employment", 30)]),
        actor="cadre",
    )
    with registry.connect() as conn:
        rows = conn.execute(
            sa.text("select seeker_id, kind, min_wage, valid_to is null from market_needs")
        ).all()
    current = {(s, k): w for s, k, w, now in rows if now}
    assert current == {("a", "employment"): 1, ("a", "training"): 20, ("b", "employment"): 30}
    assert len(rows) == 5
