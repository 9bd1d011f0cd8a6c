"""The market's use cases end to end on SQLite and PostgreSQL: rounds, answers, re-matching."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi.errors import InputError, NotFoundError, PermissionDeniedError
from dongxi.market import ACTORS, current_states, run_market
from dongxi.services import Principal
from dongxi.services.matching import (
    SIDE_PERMISSIONS,
    answer_proposal,
    match_rank_lists,
    match_tables,
    record_outcome,
    rematch,
    run_round,
)
from dongxi.store import db
from dongxi.store.market_models import (
    MatchOutcome,
    MatchRun,
    MatchTransition,
    current_needs,
    current_offers,
    proposal_history,
    save_needs,
    save_offers,
)
from dongxi.store.scope import Scope
from dongxi.synth.market import market_2017

ADMIN = Principal(name="admin-1", role="admin")
COUNTY = Principal(name="county-1", role="county_officer")
VILLAGE = Principal(name="village-1", role="village_officer")
PARTNER = Principal(name="partner-1", role="east_partner")
ANALYST = Principal(name="analyst-1", role="analyst")
AUDITOR = Principal(name="auditor-1", role="auditor")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    engine = db.make_engine(url)
    db.upgrade(engine, load_reference=False)
    seekers, offers = market_2017(seed=9, n_seekers=240)
    save_needs(engine, seekers, actor="cadre-0")
    save_offers(engine, offers, actor="partner-0")
    try:
        yield engine
    finally:
        if request.param == "postgres":
            db.downgrade(engine, "base")
        engine.dispose()


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["seeker_id"].astype(str), frame["offer_id"].astype(str), strict=True))


def _stored(registry: Engine, run_id: str) -> pd.DataFrame:
    return proposal_history(registry, [run_id]).set_index("seeker_id")


def test_rounds_answers_and_rematch(registry: Engine) -> None:
    first = run_round(COUNTY, registry, method="stable", seed=9)
    assert first.round_no == 1 and first.method == "stable" and first.kept == 0
    assert (first.proposals["state"] == "proposed").all()
    assert len(first.proposals) == int(first.overall["matched"].iloc[0]) > 10
    assert first.overall["method"].tolist() == ["stable"]
    assert int(first.overall["blocking_pairs"].iloc[0]) == 0
    stored = _stored(registry, first.run_id)
    assert _pairs(stored.reset_index()) == _pairs(first.proposals)
    with registry.connect() as conn:
        run = conn.execute(sa.select(MatchRun).where(MatchRun.run_id == first.run_id)).one()
    assert run.engine == "stable" and run.actor == "county-1 (county_officer)"
    assert run.round_no == 1 and run.parent_run_id is None

    ids = stored["proposal_id"].astype(int)
    kept, declined, dropped = (ids.index[i] for i in range(3))
    answer_proposal(VILLAGE, registry, int(ids[kept]), to_state="accepted", side="seeker")
    answer_proposal(PARTNER, registry, int(ids[kept]), to_state="confirmed", side="partner")
    record_outcome(PARTNER, registry, int(ids[kept]), hired=True, monthly_wage=3900.0)
    answer_proposal(
        VILLAGE, registry, int(ids[declined]), to_state="declined_by_seeker", side="cadre"
    )
    answer_proposal(VILLAGE, registry, int(ids[dropped]), to_state="accepted", side="seeker")
    answer_proposal(
        PARTNER, registry, int(ids[dropped]), to_state="declined_by_partner", side="partner"
    )
    # the state machine still decides: a declined proposal cannot be accepted afterwards
    with pytest.raises(InputError, match="cannot go"):
        answer_proposal(VILLAGE, registry, int(ids[declined]), to_state="accepted", side="seeker")
    with registry.connect() as conn:
        moves = conn.execute(
            sa.select(MatchTransition.actor, MatchTransition.role, MatchTransition.to_state)
            .where(MatchTransition.proposal_id == int(ids[kept]))
            .order_by(MatchTransition.transition_id)
        ).all()
        outcome = conn.execute(sa.select(MatchOutcome)).one()
    assert [tuple(m) for m in moves] == [
        ("county-1 (county_officer)", "system", "proposed"),
        ("village-1 (village_officer)", "seeker", "accepted"),
        ("partner-1 (east_partner)", "partner", "confirmed"),
    ]
    assert outcome.hired and outcome.monthly_wage == 3900.0
    assert outcome.recorded_by == "partner-1 (east_partner)"

    second = rematch(COUNTY, registry, first.run_id, method="stable", seed=9)
    assert second.round_no == 2 and second.kept == 1
    nxt = second.proposals.set_index("seeker_id")
    assert nxt.loc[kept, "offer_id"] == stored.loc[kept, "offer_id"]
    assert nxt.loc[kept, "state"] == "confirmed"
    assert (nxt.drop(index=kept)["state"] == "proposed").all()
    struck = {
        (declined, str(stored.loc[declined, "offer_id"])),
        (dropped, str(stored.loc[dropped, "offer_id"])),
    }
    assert not struck & _pairs(second.proposals)
    assert _pairs(_stored(registry, second.run_id).reset_index()) == _pairs(second.proposals)

    # round 1 is closed: its proposals (kept or still open) are answered in round 2 now
    stale = next(s for s in stored.index if s not in {kept, declined, dropped})
    for pid, to_state, side in (
        (int(ids[kept]), "hired", "partner"),
        (int(ids[stale]), "accepted", "seeker"),
    ):
        with pytest.raises(InputError, match="followed by a later round") as info:
            answer_proposal(ADMIN, registry, pid, to_state=to_state, side=side)
        assert second.run_id in str(info.value)

    # round 2: the kept placement is hired; someone else declines; round 3 strikes both
    # declined pairs of round 1 and the new one, and keeps the hired placement.
    stored2 = _stored(registry, second.run_id)
    answer_proposal(
        PARTNER, registry, int(stored2.loc[kept, "proposal_id"]), to_state="hired", side="partner"
    )
    later = next(s for s in stored2.index if s not in {kept, declined, dropped})
    answer_proposal(
        VILLAGE,
        registry,
        int(stored2.loc[later, "proposal_id"]),
        to_state="declined_by_seeker",
        side="seeker",
    )
    struck.add((later, str(stored2.loc[later, "offer_id"])))
    third = run_round(ADMIN, registry, method="stable", seed=9, after=second.run_id)
    assert third.round_no == 3 and third.kept == 1
    assert third.proposals.set_index("seeker_id").loc[kept, "state"] == "hired"
    assert not struck & _pairs(third.proposals)

    # Without the earlier rounds (only round 2's proposals), round 1's declined pair would be
    # proposed again: the chain is what keeps it struck.
    only_second = current_states(
        proposal_history(registry, [second.run_id]), order=("updated_at", "proposal_id")
    )
    naive = run_market(
        current_needs(registry),
        current_offers(registry),
        seed=9,
        methods=("stable",),
        history=only_second,
    ).proposals("stable")
    assert (declined, str(stored.loc[declined, "offer_id"])) in _pairs(naive)


def test_optimal_round_and_unknown_run(registry: Engine) -> None:
    first = run_round(ADMIN, registry, method="optimal", seed=9)
    assert first.overall["method"].tolist() == ["optimal"]
    with registry.connect() as conn:
        assert conn.execute(sa.select(MatchRun.engine)).scalar_one() == "optimal"
    with pytest.raises(NotFoundError):
        rematch(ADMIN, registry, "no-such-run")
    with pytest.raises(InputError, match="unknown matching method"):
        run_round(ADMIN, registry, method="greedy")


def test_empty_registry_is_refused(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    db.upgrade(engine, load_reference=False)
    try:
        with pytest.raises(InputError, match="no current needs"):
            run_round(ADMIN, engine)
    finally:
        engine.dispose()


def _refusals(registry: Engine) -> list[tuple[Principal, Callable[[], Any]]]:
    seekers, offers = market_2017(seed=9, n_seekers=50)
    return [
        (PARTNER, lambda: run_round(PARTNER, registry)),
        (VILLAGE, lambda: run_round(VILLAGE, registry)),
        (ANALYST, lambda: rematch(ANALYST, registry, "any-run")),
        (AUDITOR, lambda: match_tables(AUDITOR, seekers, offers, seed=1)),
        (
            PARTNER,
            lambda: match_rank_lists(PARTNER, pd.DataFrame(), pd.DataFrame(), pd.DataFrame()),
        ),
        (
            PARTNER,
            lambda: answer_proposal(PARTNER, registry, 1, to_state="accepted", side="seeker"),
        ),
        (
            VILLAGE,
            lambda: answer_proposal(VILLAGE, registry, 1, to_state="confirmed", side="partner"),
        ),
        (AUDITOR, lambda: answer_proposal(AUDITOR, registry, 1, to_state="expired", side="system")),
        (ANALYST, lambda: record_outcome(ANALYST, registry, 1, hired=True)),
    ]


def test_permission_refusals_touch_nothing(registry: Engine) -> None:
    first = run_round(ADMIN, registry, seed=9)
    before = proposal_history(registry, [first.run_id])
    for principal, call in _refusals(registry):
        with pytest.raises(PermissionDeniedError) as info:
            call()
        assert f"'{principal.role}'" in str(info.value)
    with registry.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(MatchRun)).scalar_one() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(MatchOutcome)).scalar_one() == 0
        moves = conn.execute(sa.select(sa.func.count()).select_from(MatchTransition)).scalar_one()
    assert moves == len(before)
    after = proposal_history(registry, [first.run_id])
    assert after["state"].tolist() == before["state"].tolist()


def test_side_permissions_cover_the_state_machine() -> None:
    assert set(SIDE_PERMISSIONS) == set(ACTORS)
    assert SIDE_PERMISSIONS["partner"] == "market:answer_partner"
    assert SIDE_PERMISSIONS["seeker"] == SIDE_PERMISSIONS["cadre"] == "market:answer_seeker"
    with pytest.raises(InputError, match="unknown side"):
        answer_proposal(ADMIN, sa.create_engine("sqlite://"), 1, to_state="accepted", side="boss")


def test_match_tables_from_frames_and_files(tmp_path: Path) -> None:
    seekers, offers = market_2017(seed=8, n_seekers=300)
    direct = run_market(seekers, offers, seed=8)
    framed = match_tables(COUNTY, seekers, offers, seed=8)
    pd.testing.assert_frame_equal(framed.tables["overall"], direct.tables["overall"])
    seekers.to_csv(tmp_path / "needs.csv", index=False)
    offers.to_csv(tmp_path / "offers.csv", index=False)
    filed = match_tables(
        ADMIN, tmp_path / "needs.csv", tmp_path / "offers.csv", seed=8, methods=["stable"]
    )
    assert filed.tables["overall"]["method"].tolist() == ["stable"]
    assert _pairs(filed.proposals("stable")) == _pairs(direct.proposals("stable"))


SEEKERS = "seeker_id,offer_id,rank\na,x,1\na,y,2\nb,x,1\nc,y,1\nd,x,1\n"
OFFERS = "offer_id,seeker_id,rank\nx,b,1\nx,a,2\ny,a,1\ny,c,2\n"
CAPS = "offer_id,capacity\nx,1\ny,1\n"


def test_match_rank_lists_explains_the_unmatched(tmp_path: Path) -> None:
    paths = []
    for name, text in (("s.csv", SEEKERS), ("o.csv", OFFERS), ("c.csv", CAPS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(tmp_path / name)
    result = match_rank_lists(COUNTY, *paths, method="stable")
    assert dict(zip(result.pairs["seeker_id"], result.pairs["offer_id"], strict=True)) == {
        "a": "y",
        "b": "x",
        "c": "",
        "d": "",
    }
    assert result.reasons["a"] == "" and result.reasons["b"] == ""
    assert "ranks higher" in result.reasons["c"]
    assert "lists the seeker back" in result.reasons["d"]
    assert result.overall["method"].tolist() == ["stable"]
    optimal = match_rank_lists(COUNTY, *paths, method="optimal")
    assert (optimal.pairs["offer_id"] != "").sum() == 2
    assert optimal.overall["method"].tolist() == ["optimal"]
    assert "lists the seeker back" in optimal.reasons["d"]
    (tmp_path / "c.csv").write_text("offer_id,capacity\nx,-1\ny,1\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        match_rank_lists(COUNTY, *paths)
    assert info.value.file == "c.csv" and info.value.row == 2


def test_answers_stay_inside_the_principal_scope(registry: Engine) -> None:
    first = run_round(ADMIN, registry, seed=9)
    needs = current_needs(registry).set_index("seeker_id")
    offers = current_offers(registry).set_index("offer_id")
    stored = proposal_history(registry, [first.run_id]).set_index("proposal_id")
    pid = int(stored.index[0])
    seeker, offer = str(stored.loc[pid, "seeker_id"]), str(stored.loc[pid, "offer_id"])
    county = str(needs.loc[seeker, "county_code"])
    partner = str(offers.loc[offer, "partner_code"])
    other_county = next(c for c in needs["county_code"].astype(str) if c != county)
    other_partner = next(p for p in offers["partner_code"].astype(str) if p != partner)

    outsider = Principal(name="v-2", role="village_officer", scope=Scope.region(other_county))
    with pytest.raises(NotFoundError, match="outside your scope"):
        answer_proposal(outsider, registry, pid, to_state="accepted", side="seeker")
    insider = Principal(name="v-1", role="village_officer", scope=Scope.region(county))
    answer_proposal(insider, registry, pid, to_state="accepted", side="seeker")
    province = Principal(name="c-1", role="province_officer", scope=Scope.region(county[:2]))
    with pytest.raises(InputError, match="cannot go"):  # in scope; the state machine refuses
        answer_proposal(province, registry, pid, to_state="accepted", side="cadre")

    wrong = Principal(name="p-2", role="east_partner", scope=Scope(partner_code=other_partner))
    with pytest.raises(NotFoundError):
        answer_proposal(wrong, registry, pid, to_state="confirmed", side="partner")
    right = Principal(name="p-1", role="east_partner", scope=Scope(partner_code=partner))
    answer_proposal(right, registry, pid, to_state="confirmed", side="partner")
    with pytest.raises(NotFoundError):
        record_outcome(wrong, registry, pid, hired=True)
    with pytest.raises(NotFoundError):
        record_outcome(outsider, registry, pid, hired=True)
    record_outcome(insider, registry, pid, hired=True, monthly_wage=4100.0)
    assert (
        proposal_history(registry, [first.run_id]).set_index("proposal_id").loc[pid, "state"]
        == "confirmed"
    )

    # a round, and a system move, cover the whole registry: a restricted scope may do neither
    with pytest.raises(PermissionDeniedError, match="restricted"):
        run_round(province, registry, seed=9)
    with pytest.raises(PermissionDeniedError, match="restricted"):
        answer_proposal(province, registry, pid, to_state="expired", side="system")
    with pytest.raises(NotFoundError):
        answer_proposal(ADMIN, registry, 10**9, to_state="accepted", side="seeker")


def _mixed_registry(tmp_path: Path) -> Engine:
    """A registry with employment and training needs, job posts, courses and workshops."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'mixed.db'}")
    db.upgrade(engine, load_reference=False)
    person = {
        "county_code": "450226",
        "status": "registered_poor",
        "age": 35,
        "education": "junior",
        "labour_capacity": "weak",
        "skills": "",
        "min_wage": 0.0,
        "needs_dormitory": False,
    }
    needs = pd.DataFrame(
        [
            {**person, "seeker_id": "A", "places": "440100;450226", "sectors": ""},
            {**person, "seeker_id": "B", "places": "", "status": "never", "sectors": ""},
            {
                **person,
                "seeker_id": "C",
                "places": "440100",
                "sectors": "",
                "labour_capacity": "normal",
            },
        ]
    )
    save_needs(engine, needs, actor="cadre-0", kind="employment")
    training = pd.DataFrame(
        [
            {**person, "seeker_id": "A", "sectors": "制造业", "places": ""},
            {**person, "seeker_id": "C", "sectors": "服务业", "places": ""},
        ]
    )
    save_needs(engine, training, actor="cadre-0", kind="training")
    post = {
        "kind": "job",
        "sector": "制造业",
        "age_min": 16,
        "age_max": 60,
        "min_education": "none",
        "subsidy": 0.0,
        "physical": False,
        "dormitory": False,
    }
    save_offers(
        engine,
        pd.DataFrame(
            [
                {
                    **post,
                    "offer_id": "J1",
                    "place_code": "440100",
                    "monthly_wage": 4000.0,
                    "positions": 2,
                    "physical": False,
                },
                {
                    **post,
                    "offer_id": "W1",
                    "kind": "workshop",
                    "place_code": "450226101",
                    "monthly_wage": 1800.0,
                    "positions": 1,
                    "physical": False,
                },
                {
                    **post,
                    "offer_id": "W2",
                    "kind": "workshop",
                    "place_code": "450226102",
                    "monthly_wage": 1900.0,
                    "positions": 1,
                    "physical": True,
                },
                {
                    **post,
                    "offer_id": "T1",
                    "kind": "training",
                    "place_code": "450226",
                    "monthly_wage": 0.0,
                    "subsidy": 300.0,
                    "positions": 5,
                },
            ]
        ),
        actor="partner-0",
    )
    return engine


def test_a_round_mixes_kinds(tmp_path: Path) -> None:
    engine = _mixed_registry(tmp_path)
    try:
        first = run_round(ADMIN, engine, seed=3)
        assert set(first.runs) == {"job", "training", "workshop"}
        assert first.run_id == first.runs["job"]
        placed = {
            (k, s): o
            for k, s, o in first.proposals[["kind", "seeker_id", "offer_id"]].itertuples(
                index=False
            )
        }
        # A gets a job post AND a training seat AND a workshop place (light work: A is weak);
        # B (no places: the job posts are not wanted) loses the light workshop W1 to the
        # registered-poor A and is too weak for the physical W2; C wants work away from home
        # only (no workshop) and asked to learn another trade (no course)
        assert placed == {
            ("job", "A"): "J1",
            ("job", "C"): "J1",
            ("training", "A"): "T1",
            ("workshop", "A"): "W1",
        }
        assert set(first.tables["overall"]["kind"]) == {"job", "training", "workshop"}
        unmatched = first.tables["unmatched"]
        assert set(zip(unmatched["kind"], unmatched["reason"], strict=True)) == {
            ("job", "no_post_wanted"),
            ("training", "no_course_wanted"),
            ("workshop", "full"),
            ("workshop", "no_workshop_wanted"),
        }
        assert "本县没有符合本人意向" in "".join(unmatched["reason_zh"])
        placements = first.placements
        assert placements is not None
        assert set(placements["类型"]) == {"就业岗位", "培训名额", "帮扶车间岗位"}
        with engine.connect() as conn:
            stored = dict(conn.execute(sa.select(MatchRun.run_id, MatchRun.kind)).all())
        assert stored == {v: k for k, v in first.runs.items()}

        # the next round continues each kind's chain; a declined course is not proposed again
        history = proposal_history(engine, [first.runs["training"]]).set_index("seeker_id")
        answer_proposal(
            ADMIN, engine, int(history.loc["A", "proposal_id"]),
            to_state="declined_by_seeker", side="seeker",
        )  # fmt: skip
        second = run_round(ADMIN, engine, seed=3, after=first.runs["workshop"])
        assert second.round_no == 2 and set(second.runs) == set(first.runs)
        assert not (second.proposals["kind"] == "training").any()
        with engine.connect() as conn:
            parents = dict(
                conn.execute(
                    sa.select(MatchRun.kind, MatchRun.parent_run_id).where(
                        MatchRun.run_id.in_(list(second.runs.values()))
                    )
                ).all()
            )
        assert parents == first.runs

        # --kind: one kind only
        only = run_round(ADMIN, engine, seed=3, kinds=["workshop"])
        assert list(only.runs) == ["workshop"] and only.round_no == 1
        assert set(only.proposals["kind"]) == {"workshop"}
        with pytest.raises(InputError, match="not matched"):
            run_round(ADMIN, engine, kinds=["project"])
    finally:
        engine.dispose()


def test_hours_a_day_are_read_in_table_mode_and_kept_by_the_registry(tmp_path: Path) -> None:
    from dongxi.services.matching import match_table_kinds
    from dongxi.store.market_models import import_market_rows

    needs = pd.DataFrame(
        {
            "人员编号": ["carer", "other"],
            "县代码": ["450226", "450226"],
            "需求类型": ["就业", "就业"],
            "户类型": ["脱贫户", "脱贫户"],
            "年龄": [40, 40],
            "文化程度": ["初中", "初中"],
            "劳动技能": ["普通劳动力", "普通劳动力"],
            "每天最多可工作小时数": [4, None],
        }
    )
    offers = pd.DataFrame(
        {
            "岗位编号": ["W1", "W2"],
            "供给类型": ["帮扶车间", "帮扶车间"],
            "工作地代码": ["450226", "450226"],
            "月工资(元)": [1800, 2400],
            "名额": [1, 1],
            "每天工作小时数": [4, 8],
        }
    )
    done = match_table_kinds(ADMIN, needs, offers, seed=1, methods=["stable"])
    assert list(done.results) == ["workshop"]
    pairs = done.pairs("stable").set_index("seeker_id")["offer_id"].to_dict()
    assert pairs == {"carer": "W1", "other": "W2"}  # the carer's 4 hours: only W1 fits
    engine = db.make_engine(f"sqlite:///{tmp_path / 'hours.db'}")
    db.upgrade(engine, load_reference=False)
    frame = pd.DataFrame(
        {"seeker_id": ["a", "b"], "county_code": ["450226"] * 2, "hours_per_day": [None, 4.0]}
    ).assign(_row=[2, 3])
    try:
        with engine.begin() as conn:
            assert import_market_rows(conn, "needs", frame, actor="cadre-0") == 2
        kept = current_needs(engine).set_index("seeker_id")["hours_per_day"]
        assert pd.isna(kept["a"]) and kept["b"] == 4.0  # the registry keeps it (0015)
    finally:
        engine.dispose()
