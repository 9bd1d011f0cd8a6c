"""The market's daily work through the page use cases (``dongxi.services.market_desk``): a cadre
records needs, a partner posts an offer, an officer runs and publishes a round, the cadre answers
for the seekers (the household's word), the partner sees only its consenting matches, confirms
and records the hire; the next round never proposes a declined pair again. On SQLite, one
request's session per step (as the pages use them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi.errors import InputError, NotFoundError, PermissionDeniedError
from dongxi.services import Principal, Scope
from dongxi.services import market_desk as desk
from dongxi.services.household_record import household_record
from dongxi.services.imports import import_tables
from dongxi.services.matching import rematch, run_round
from dongxi.store.db import session_scope
from dongxi.store.market_models import proposal_history
from dongxi.synth import generate

ADMIN = Principal(name="officer-1", role="admin")
TODAY = dt.date(2026, 3, 1)


@pytest.fixture
def world(registry: Engine) -> Iterator[dict[str, Any]]:
    data = generate(households=700, seed=11, years=(2019,))
    state = data.rounds[2019]
    import_tables(
        principal=ADMIN,
        engine=registry,
        frames={
            "helpers": data.helpers,
            "partners": data.partners,
            "households": state.households,
            "people": state.people,
            "income": state.income,
        },
        source_name="synth",
    )
    people = state.people.merge(state.households[["household_code", "village_code"]])
    born = people["birth_date"].astype(str).str[:4].astype(int)
    able = people[
        people["labour_capacity"].isin(["normal", "skilled"]) & (TODAY.year - born).between(20, 50)
    ]
    village = str(able["village_code"].value_counts().index[0])
    seekers = able[able["village_code"] == village].head(3)
    assert len(seekers) == 3, "the synthetic village has three able people"
    away = able[able["village_code"] != village].iloc[0]
    from dongxi.pii.protect import get_protector

    hashes = [get_protector().hash(str(n)) for n in seekers["id_number"]]
    partners = [str(c) for c in data.partners["partner_code"]]
    yield {
        "village": village,
        "seekers": list(zip(seekers["household_code"].astype(str), hashes, strict=True)),
        "away": (str(away["household_code"]), get_protector().hash(str(away["id_number"]))),
        "cadre": Principal(name="cadre-1", role="village_officer", scope=Scope.region(village)),
        "partner": Principal(
            name="partner-a", role="east_partner", scope=Scope(partner_code=partners[0])
        ),
        "other": Principal(
            name="partner-b", role="east_partner", scope=Scope(partner_code=partners[1])
        ),
    }


def _need() -> desk.NeedInput:
    return desk.NeedInput(
        kind="employment", sectors=["manufacturing"], places=["440300"], min_wage=2000
    )


def _offer(positions: int = 5) -> desk.OfferInput:
    return desk.OfferInput(
        kind="job",
        place_code="440300",
        positions=positions,
        sector="manufacturing",
        monthly_wage=4200,
        dormitory=True,
        starts_on=dt.date(2026, 4, 1),
    )


def _log(registry: Engine, entity: str) -> list[Any]:
    with registry.connect() as conn:
        return list(
            conn.execute(
                sa.text("SELECT actor, action, entity_key FROM change_log WHERE entity = :e"),
                {"e": entity},
            )
        )


def test_the_round_trip_through_the_page_use_cases(registry: Engine, world: dict[str, Any]) -> None:
    cadre, partner, other = world["cadre"], world["partner"], world["other"]
    with session_scope(registry) as s:
        for code, id_hash in world["seekers"]:
            desk.record_need(s, cadre, household_code=code, id_hash=id_hash, need=_need(),
                             today=TODAY)  # fmt: skip
        offer_id = desk.save_offer(s, partner, offer=_offer())
        desk.save_offer(s, other, offer=_offer(positions=0))  # a closed post of another partner
    assert any(a.startswith("cadre-1") for a, _, _ in _log(registry, "market_needs"))

    # the partner edits its own offer (a new version), never another partner's
    with session_scope(registry) as s:
        assert desk.partner_offer(s, partner, offer_id=offer_id)["positions"] == 5
        desk.save_offer(s, partner, offer_id=offer_id, offer=_offer(positions=4))
        with pytest.raises(NotFoundError):
            desk.save_offer(s, other, offer_id=offer_id, offer=_offer(positions=9))
        mine = desk.partner_offers(s, partner)
    assert [(o["offer_id"], o["positions"]) for o in mine] == [(offer_id, 4)]

    first = run_round(ADMIN, registry)
    ours = {h for _, h in world["seekers"]}
    proposed = proposal_history(registry, [first.run_id])
    proposed = proposed[proposed["seeker_id"].isin(ours)]
    assert len(proposed) == 3 and set(proposed["offer_id"]) == {offer_id}

    # before publication a cadre sees nothing and cannot answer
    with session_scope(registry) as s:
        assert desk.seeker_answers(s, cadre) == []
        with pytest.raises(NotFoundError):
            desk.answer_for_seeker(
                s, cadre, proposal_id=int(proposed["proposal_id"].iloc[0]), accept=True, reason=None
            )
        with pytest.raises(PermissionDeniedError):
            desk.publish_round(s, cadre, run_id=first.run_id)
        desk.publish_round(s, ADMIN, run_id=first.run_id)
    with session_scope(registry) as s:
        rows = desk.seeker_answers(s, cadre)
        report = desk.round_report(s, ADMIN, run_id=first.run_id)
    assert {r["state"] for r in rows} == {"proposed"} and len(rows) == 3
    assert report.published_at is not None and report.states["proposed"] >= 3
    assert "unmatched" in report.report and "by_county" in report.report

    accept, decline, silent = (int(r["proposal_id"]) for r in rows)
    with session_scope(registry) as s, pytest.raises(InputError):  # a decline needs a reason
        desk.answer_for_seeker(s, cadre, proposal_id=decline, accept=False, reason=" ")
    with session_scope(registry) as s:
        desk.answer_for_seeker(s, cadre, proposal_id=accept, accept=True, reason="愿意去深圳")
        desk.answer_for_seeker(s, cadre, proposal_id=decline, accept=False, reason="家中老人需照顾")

    # the partner sees only the accepted one, and of the person only the disclosed fields
    with session_scope(registry) as s:
        seen = desk.partner_matches(s, partner)
        assert desk.partner_matches(s, other) == []
        with pytest.raises(NotFoundError):
            desk.partner_answer(s, other, proposal_id=accept, confirm=True, note=None)
    assert [m["proposal_id"] for m in seen] == [accept]
    assert set(seen[0]) >= {"name", "age_band", "skills", "contact"}
    assert not {"id_hash", "seeker_id", "income", "health", "primary_cause"} & set(seen[0])
    assert any(k == "partner-matches" for _, a, k in _log(registry, "match_proposals"))

    with session_scope(registry) as s:
        desk.partner_answer(s, partner, proposal_id=accept, confirm=True, note=None)
    with session_scope(registry) as s:
        desk.partner_outcome(
            s, partner, proposal_id=accept, hired=True, start_date=dt.date(2026, 4, 2),
            monthly_wage=4200,
        )  # fmt: skip
    with session_scope(registry) as s:
        desk.partner_outcome(s, partner, proposal_id=accept, hired=True, retained_3m=True)
        with pytest.raises(InputError):
            desk.partner_outcome(s, partner, proposal_id=accept, hired=False)
        hired = desk.partner_matches(s, partner)[0]
    assert hired["state"] == "hired" and hired["retained_3m"] is True

    # the household page shows the proposal, its history with the household's word
    declined_seeker = proposed.set_index("proposal_id").loc[decline, "seeker_id"]
    code = next(c for c, h in world["seekers"] if h == declined_seeker)
    with session_scope(registry) as s:
        record = household_record(s, cadre, household_code=code)
        with pytest.raises(NotFoundError):
            household_record(s, cadre, household_code=world["away"][0])
    notes = [t["note"] for p in record.proposals for t in p["transitions"] if t["note"]]
    assert record.needs and record.needs[0]["kind"] == "employment"
    assert desk.HOUSEHOLD_WORD + "家中老人需照顾" in notes

    # the next round: the accepted (hired) placement is kept, the declined pair never returns
    second = rematch(ADMIN, registry, first.run_id)
    pairs = proposal_history(registry, [second.run_id])
    declined = proposed.set_index("proposal_id").loc[decline]
    assert not (
        (pairs["seeker_id"] == declined["seeker_id"]) & (pairs["offer_id"] == declined["offer_id"])
    ).any()
    kept = proposed.set_index("proposal_id").loc[accept]
    again = pairs[pairs["seeker_id"] == kept["seeker_id"]]
    assert list(again["state"]) == ["hired"]
    silent_seeker = proposed.set_index("proposal_id").loc[silent, "seeker_id"]
    assert (pairs["seeker_id"] == silent_seeker).any()  # left without an answer: matched again
    # the first round's proposals can no longer be answered
    with session_scope(registry) as s:
        desk.publish_round(s, ADMIN, run_id=second.run_id)
    with session_scope(registry) as s, pytest.raises(InputError):
        desk.answer_for_seeker(s, cadre, proposal_id=silent, accept=True, reason=None)


def test_needs_stay_inside_the_cadre_scope(registry: Engine, world: dict[str, Any]) -> None:
    cadre = world["cadre"]
    away_code, away_hash = world["away"]
    code, id_hash = world["seekers"][0]
    with session_scope(registry) as s:
        with pytest.raises(NotFoundError):
            desk.record_need(s, cadre, household_code=away_code, id_hash=away_hash, need=_need())
        with pytest.raises(NotFoundError):  # a person of another household
            desk.record_need(s, cadre, household_code=code, id_hash=away_hash, need=_need())
        with pytest.raises(InputError):  # an ID number in free text is refused
            desk.record_need(
                s, cadre, household_code=code, id_hash=id_hash,
                need=desk.NeedInput(kind="training", details="身份证 45012319800101001X"),
            )  # fmt: skip
        with pytest.raises(PermissionDeniedError):
            desk.record_need(
                s, world["partner"], household_code=code, id_hash=id_hash, need=_need()
            )
        with pytest.raises(PermissionDeniedError):  # an officer posts no offers
            desk.save_offer(s, cadre, offer=_offer())
