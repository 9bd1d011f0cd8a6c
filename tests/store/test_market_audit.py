"""Market writes go into the hash-chained change log; match_transitions is append-only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi.errors import InputError
from dongxi.store import change_history, db, verify_chain
from dongxi.store.market_models import (
    record_outcome,
    record_run,
    record_transition,
    save_needs,
    save_offers,
)


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


def _entries(engine: Engine) -> list[tuple[str, str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT entity, action, entity_key, actor FROM change_log ORDER BY seq")
        ).all()
    return [tuple(r) for r in rows]


def _run(engine: Engine) -> tuple[str, list[int]]:
    proposals = pd.DataFrame(
        {
            "seeker_id": ["s1", "s2"],
            "offer_id": ["o1", "o2"],
            "seeker_rank": [1, 2],
            "offer_rank": [1, 1],
            "welfare": [2.5, 1.0],
        }
    )
    overall = {
        "seekers": 2,
        "offers": 2,
        "acceptable_pairs": 3,
        "matched": 2,
        "blocking_pairs": 0,
        "total_welfare": 3.5,
    }
    run_id = record_run(
        engine,
        method="stable",
        kind="job",
        seed=1,
        actor="cadre-1",
        proposals=proposals,
        overall=overall,
        report={"overall": [overall]},
    )
    with engine.connect() as conn:
        ids = conn.execute(
            sa.text("SELECT proposal_id FROM match_proposals WHERE run_id = :r ORDER BY seeker_id"),
            {"r": run_id},
        ).scalars()
        return run_id, [int(i) for i in ids]


def test_market_writes_are_logged_and_chained(registry: Engine) -> None:
    needs = pd.DataFrame({"seeker_id": ["s1", "s2"], "county_code": ["450123", "450123"]})
    save_needs(registry, needs, actor="cadre-1")
    save_needs(registry, needs.iloc[:1].assign(min_wage=3000.0), actor="cadre-2")
    offers = pd.DataFrame({"offer_id": ["o1"], "place_code": ["440300"], "positions": [3]})
    save_offers(registry, offers, actor="partner-1")
    run_id, (first, second) = _run(registry)
    record_transition(registry, first, to_state="accepted", actor="seeker-1", role="seeker")
    record_transition(registry, first, to_state="confirmed", actor="partner-1", role="partner")
    record_outcome(registry, first, hired=True, actor="cadre-1", monthly_wage=3800.0)
    record_outcome(registry, first, hired=True, actor="cadre-3", retained_3m=True)
    entries = _entries(registry)
    assert entries[:4] == [
        ("market_needs", "create", "s1/employment", "cadre-1"),
        ("market_needs", "create", "s2/employment", "cadre-1"),
        ("market_needs", "update", "s1/employment", "cadre-2"),
        ("market_offers", "create", "o1", "partner-1"),
    ]
    assert entries[4] == ("match_runs", "create", run_id, "cadre-1")
    assert entries[5:7] == [
        ("match_proposals", "create", str(first), "cadre-1"),
        ("match_proposals", "create", str(second), "cadre-1"),
    ]
    assert [e[:2] for e in entries[7:9]] == [("match_transitions", "create")] * 2
    assert entries[9:] == [
        ("match_transitions", "create", entries[9][2], "seeker-1"),
        ("match_proposals", "update", str(first), "seeker-1"),
        ("match_transitions", "create", entries[11][2], "partner-1"),
        ("match_proposals", "update", str(first), "partner-1"),
        ("match_outcomes", "create", str(first), "cadre-1"),
        ("match_outcomes", "update", str(first), "cadre-3"),
    ]
    with registry.connect() as conn:
        need = change_history(conn, entity="market_needs", key="s1/employment")
        proposal = change_history(conn, entity="match_proposals", key=str(first))
        outcome = change_history(conn, entity="match_outcomes", key=str(first))
        run = change_history(conn, entity="match_runs", key=run_id)
    assert need[1]["before"]["min_wage"] is None and need[1]["after"]["min_wage"] == 3000.0
    assert [(p["before"] or {}).get("state") for p in proposal] == [None, "proposed", "accepted"]
    assert [p["after"]["state"] for p in proposal] == ["proposed", "accepted", "confirmed"]
    assert outcome[1]["before"]["monthly_wage"] == 3800.0
    assert outcome[1]["after"]["retained_3m"] is True
    assert len(run[0]["after"]["report_sha256"]) == 64 and "report_json" not in run[0]["after"]
    check = verify_chain(registry)
    assert check.ok, check
    assert check.entries == len(entries)
    # one seal per write: 3 saves, the run (run, proposals, transitions), 2 transitions
    # (transition + proposal), 2 outcomes
    assert check.seals == 3 + 3 + 2 * 2 + 2


def test_refused_transition_leaves_no_entry(registry: Engine) -> None:
    _run_id, (first, _second) = _run(registry)
    before = _entries(registry)
    with pytest.raises(InputError):
        record_transition(registry, first, to_state="confirmed", actor="p", role="partner")
    with pytest.raises(InputError):
        record_outcome(registry, first, hired=True, actor="c", start_date=dt.date(2017, 1, 1))
    assert _entries(registry) == before


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE match_transitions SET actor = 'mallory'",
        "DELETE FROM match_transitions",
        "UPDATE change_log_seals SET mac = 'x'",
        "DELETE FROM change_log_seals",
    ],
)
def test_transitions_and_seals_are_append_only(registry: Engine, statement: str) -> None:
    _run(registry)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), registry.begin() as conn:
        conn.execute(sa.text(statement))
    with registry.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM match_transitions")).scalar_one() == 2
    assert verify_chain(registry).ok


@pytest.mark.postgres
def test_truncate_refused_on_postgres(pg_url: str) -> None:
    engine = db.make_engine(pg_url)
    db.upgrade(engine, load_reference=False)
    try:
        for table in ("match_transitions", "change_log_seals"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(sa.text(f"TRUNCATE {table} CASCADE"))
    finally:
        db.downgrade(engine, "base")
        engine.dispose()
