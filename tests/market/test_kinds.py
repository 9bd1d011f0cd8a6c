"""Training seats and workshop places: each rule and its reason (table-driven), the scores that
order the lists, and the invariants of any matching of these kinds (hypothesis): no blocking
pair under the stable method, capacities respected, one placement per person per kind, no
placement a hard rule forbids."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dongxi.errors import InputError
from dongxi.market import (
    KIND_CLASSES,
    REASONS,
    JobPosts,
    TrainingSeats,
    WorkshopPlaces,
    decode_reasons,
    kind_named,
    run_market,
)

TRAINING_NEED: dict[str, Any] = {
    "seeker_id": "P1",
    "county_code": "450226",
    "status": "never",
    "age": 30,
    "education": "junior",
    "labour_capacity": "normal",
    "skills": "",
    "sectors": "制造业",
    "places": "",
    "details": "",
    "needs_dormitory": False,
    "stated_on": "2024-01-01",
}
COURSE: dict[str, Any] = {
    "offer_id": "T1",
    "place_code": "450226",
    "sector": "制造业",
    "positions": 1,
    "subsidy": 300.0,
    "living_cost": 0.0,
    "age_min": 16,
    "age_max": 60,
    "min_education": "none",
    "skill_required": None,
    "dormitory": False,
    "starts_on": "2024-03-01",
    "ends_on": "2024-06-01",
}
WORK_NEED: dict[str, Any] = {
    "seeker_id": "P1",
    "county_code": "450226",
    "status": "never",
    "age": 30,
    "education": "junior",
    "labour_capacity": "normal",
    "skills": "",
    "sectors": "",
    "places": "",
    "min_wage": 0.0,
    "needs_dormitory": False,
}
WORKSHOP: dict[str, Any] = {
    "offer_id": "W1",
    "place_code": "450226101",
    "sector": "制造业",
    "monthly_wage": 1800.0,
    "subsidy": 0.0,
    "positions": 1,
    "age_min": 16,
    "age_max": 60,
    "min_education": "none",
    "skill_required": None,
    "physical": False,
}


def _codes(kind: Any, need: dict[str, Any], offer: dict[str, Any]) -> set[str]:
    rules = kind.hard_rules(pd.DataFrame([need]), pd.DataFrame([offer]))
    return {r.code for r in decode_reasons(int(rules["reasons"].iloc[0]))}


TRAINING_CASES = [
    ("passes", {}, {}, set()),
    ("other trade wanted", {"sectors": "服务业"}, {}, {"course_not_wanted"}),
    (
        "asked in words for another",
        {"sectors": "", "details": "想学电工"},
        {},
        {"course_not_wanted"},
    ),
    ("asked in words for this", {"sectors": "", "details": "想学制造业技术"}, {}, set()),
    (
        "the skill taught named",
        {"sectors": "", "details": "学焊工"},
        {"skill_required": None, "sector": "焊工"},
        set(),
    ),
    ("said nothing: any course", {"sectors": "", "details": ""}, {"sector": "服务业"}, set()),
    ("other province", {}, {"place_code": "440100"}, {"too_far"}),
    ("other province, listed", {"places": "440100"}, {"place_code": "440100"}, set()),
    ("same province, other county", {}, {"place_code": "450203"}, set()),
    (
        "away, needs a dormitory",
        {"needs_dormitory": True},
        {"place_code": "450203"},
        {"no_dormitory"},
    ),
    ("home county, needs a dormitory", {"needs_dormitory": True}, {}, set()),
    (
        "away with a dormitory",
        {"needs_dormitory": True},
        {"place_code": "450203", "dormitory": True},
        set(),
    ),
    ("hours too long", {"hours_per_day": 4.0}, {"hours_per_day": 6.0}, {"hours_too_long"}),
    ("hours not stated", {"hours_per_day": 4.0}, {}, {"hours_too_long"}),
    ("hours fit", {"hours_per_day": 4.0}, {"hours_per_day": 3.5}, set()),
    ("no limit", {}, {"hours_per_day": 8.0}, set()),
    ("too old", {"age": 65}, {}, {"age_out_of_range"}),
    (
        "education",
        {"education": "primary"},
        {"min_education": "junior"},
        {"education_below_required"},
    ),
    ("prerequisite", {}, {"skill_required": "电工"}, {"skill_missing"}),
    ("prerequisite held", {"skills": "电工;焊工"}, {"skill_required": "电工"}, set()),
    ("ended before the need", {"stated_on": "2024-07-01"}, {}, {"course_over"}),
    (
        "two at once",
        {"age": 65, "sectors": "服务业"},
        {},
        {"age_out_of_range", "course_not_wanted"},
    ),
]


@pytest.mark.parametrize(
    ("case", "need", "offer", "expected"), TRAINING_CASES, ids=[c[0] for c in TRAINING_CASES]
)
def test_training_rules(
    case: str, need: dict[str, Any], offer: dict[str, Any], expected: set[str]
) -> None:
    assert _codes(TrainingSeats(), {**TRAINING_NEED, **need}, {**COURSE, **offer}) == expected


def test_training_round_date() -> None:
    kind = TrainingSeats(as_of=dt.date(2024, 7, 1))
    assert _codes(kind, TRAINING_NEED, COURSE) == {"course_over"}
    assert _codes(TrainingSeats(as_of=dt.date(2024, 5, 1)), TRAINING_NEED, COURSE) == set()


WORKSHOP_CASES = [
    ("passes", {}, {}, set()),
    ("other county", {}, {"place_code": "450227"}, {"not_near_home"}),
    ("wants work away", {"places": "440100"}, {}, {"place_not_wanted"}),
    ("lists home too", {"places": "440100;450226"}, {}, set()),
    ("wage below minimum", {"min_wage": 2000.0}, {}, {"wage_below_minimum"}),
    ("subsidy makes it", {"min_wage": 2000.0}, {"subsidy": 200.0}, set()),
    ("weak on light work", {"labour_capacity": "weak"}, {}, set()),
    (
        "weak on heavy work",
        {"labour_capacity": "weak"},
        {"physical": True},
        {"labour_capacity_insufficient"},
    ),
    ("no labour capacity", {"labour_capacity": "none"}, {}, {"labour_capacity_insufficient"}),
    ("normal on heavy work", {}, {"physical": True}, set()),
    ("carer, long hours", {"hours_per_day": 5.0}, {"hours_per_day": 8.0}, {"hours_too_long"}),
    ("carer, short hours", {"hours_per_day": 5.0}, {"hours_per_day": 4.0}, set()),
    ("too young", {"age": 15}, {}, {"age_out_of_range"}),
    (
        "education",
        {"education": "none"},
        {"min_education": "primary"},
        {"education_below_required"},
    ),
    ("skill", {}, {"skill_required": "缝纫"}, {"skill_missing"}),
]


@pytest.mark.parametrize(
    ("case", "need", "offer", "expected"), WORKSHOP_CASES, ids=[c[0] for c in WORKSHOP_CASES]
)
def test_workshop_rules(
    case: str, need: dict[str, Any], offer: dict[str, Any], expected: set[str]
) -> None:
    assert _codes(WorkshopPlaces(), {**WORK_NEED, **need}, {**WORKSHOP, **offer}) == expected


@pytest.mark.parametrize(
    ("kind", "need", "offer", "shown", "code"),
    [
        (TrainingSeats(), {**TRAINING_NEED, "age": 65}, COURSE, True, "age_out_of_range"),
        (
            TrainingSeats(),
            {**TRAINING_NEED, "stated_on": "2024-09-01"},
            COURSE,
            True,
            "course_over",
        ),
        (
            TrainingSeats(),
            {**TRAINING_NEED, "sectors": "服务业"},
            COURSE,
            False,
            "course_not_wanted",
        ),
        (
            WorkshopPlaces(),
            {**WORK_NEED, "labour_capacity": "weak"},
            {**WORKSHOP, "physical": True},
            True,
            "labour_capacity_insufficient",
        ),
        (
            WorkshopPlaces(),
            {**WORK_NEED, "min_wage": 5000.0},
            WORKSHOP,
            False,
            "wage_below_minimum",
        ),
    ],
)
def test_explanations_in_chinese(
    kind: Any, need: dict[str, Any], offer: dict[str, Any], shown: bool, code: str
) -> None:
    """An offer's own rule is explained on the person's list (不可接受：…, in Chinese); an offer
    the person's own rules exclude is not on the list at all."""
    result = run_market(pd.DataFrame([need]), pd.DataFrame([offer]), seed=1, kind=kind)
    why = result.explain(["P1"])
    zh = {r.code: r.zh for r in REASONS}[code]
    if shown:
        assert why["reason_codes"].tolist() == [code]
        assert why["reason_zh"].tolist() == [f"不可接受：{zh}"]
        assert why["outcome"].tolist() == ["not_acceptable"]
    else:
        assert why.empty
    assert result.proposals().empty


def test_every_new_reason_has_chinese_and_english() -> None:
    codes = {"course_not_wanted", "course_over", "too_far", "not_near_home", "hours_too_long"}
    new = [r for r in REASONS if r.code in codes]
    assert len(new) == len(codes)
    bits = [r.bit for r in REASONS if r.bit]
    assert len(set(bits)) == len(bits) and all(b & (b - 1) == 0 for b in bits)
    assert all(r.zh and r.en and any("\u4e00" <= ch <= "\u9fff" for ch in r.zh) for r in new)


def test_scores_order_the_lists() -> None:
    # the same township scores higher than another township of the county
    need = pd.DataFrame([{**WORK_NEED, "home_code": "450226102003"}])
    offers = pd.DataFrame(
        [
            {**WORKSHOP, "offer_id": "W_far", "place_code": "450226101"},
            {**WORKSHOP, "offer_id": "W_near", "place_code": "450226102"},
        ]
    )
    result = run_market(need, offers, seed=3, kind=WorkshopPlaces())
    why = result.explain(["P1"], method="stable")
    assert why["offer_id"].tolist() == ["W_near"]  # matched at once: the favourite
    assert float(why["township_bonus"].iloc[0]) == 300.0
    # the workshop prefers the carer and the weak labourer (light work for them)
    people = pd.DataFrame(
        [
            {**WORK_NEED, "seeker_id": "strong"},
            {**WORK_NEED, "seeker_id": "carer", "hours_per_day": 6.0},
        ]
    )
    one = pd.DataFrame([{**WORKSHOP, "hours_per_day": 6.0}])
    assert run_market(people, one, seed=5, kind=WorkshopPlaces()).proposals()[
        "seeker_id"
    ].tolist() == ["carer"]
    # a course in the trade the person asked for comes first
    need = pd.DataFrame([{**TRAINING_NEED, "sectors": "制造业;服务业"}])
    courses = pd.DataFrame(
        [
            {**COURSE, "offer_id": "other", "sector": "服务业", "subsidy": 400.0},
            {**COURSE, "offer_id": "asked", "sector": "制造业", "subsidy": 300.0},
            {**COURSE, "offer_id": "far", "sector": "制造业", "place_code": "450203"},
        ]
    )
    why = run_market(need, courses.assign(positions=0), seed=1, kind=TrainingSeats()).explain(
        ["P1"]
    )
    assert why["offer_id"].tolist() == ["other", "asked", "far"]  # all wished; subsidy, travel
    assert why["travel"].tolist() == [0.0, 0.0, 100.0]
    assert set(why["outcome"]) == {"no_capacity"}


def test_kinds_by_name() -> None:
    assert list(KIND_CLASSES) == ["job", "training", "workshop"]
    assert kind_named("job") == JobPosts()
    assert (TrainingSeats.need_kind, WorkshopPlaces.need_kind, JobPosts.need_kind) == (
        "training",
        "employment",
        "employment",
    )
    with pytest.raises(InputError, match="not matched"):
        kind_named("project")
    with pytest.raises(InputError, match="hours a day"):
        TrainingSeats().hard_rules(
            pd.DataFrame([{**TRAINING_NEED, "hours_per_day": 30}]), pd.DataFrame([COURSE])
        )


# --- invariants (hypothesis) -----------------------------------------------------------------

COUNTIES = ("450226", "450227", "450203", "440100")
TRADES = ("制造业", "服务业", "焊工", "")
EDUCATION = ("none", "primary", "junior", "senior")
LABOUR = ("none", "weak", "normal", "skilled")
STATUSES = ("registered_poor", "escaped", "monitored", "never")


def _tables(seed: int, n_s: int, n_o: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random needs and offers of both kinds' columns (small, so that rules often bite)."""
    rng = np.random.default_rng(seed)

    def pick(values: tuple[str, ...], n: int) -> list[str]:
        return [values[i] for i in rng.integers(0, len(values), n)]

    needs = pd.DataFrame(
        {
            "seeker_id": [f"s{i}" for i in range(n_s)],
            "county_code": pick(COUNTIES[:3], n_s),
            "home_code": [
                c + f"{t:03d}001"
                for c, t in zip(pick(COUNTIES[:2], n_s), rng.integers(100, 103, n_s), strict=True)
            ],
            "status": pick(STATUSES, n_s),
            "age": rng.integers(16, 70, n_s),
            "education": pick(EDUCATION, n_s),
            "labour_capacity": pick(LABOUR, n_s),
            "skills": pick(("", "焊工", "电工", "焊工;电工"), n_s),
            "sectors": pick(TRADES, n_s),
            "places": pick(("", "440100", "450226", "450227;440100"), n_s),
            "details": pick(("", "想学焊工", "照顾老人"), n_s),
            "min_wage": rng.choice([0.0, 1500.0, 2500.0], n_s),
            "needs_dormitory": rng.random(n_s) < 0.3,
            "hours_per_day": np.where(rng.random(n_s) < 0.3, rng.choice([4.0, 6.0], n_s), np.nan),
            "stated_on": pick(("2024-01-01", "2024-08-01"), n_s),
        }
    )
    county = pick(COUNTIES, n_o)
    offers = pd.DataFrame(
        {
            "offer_id": [f"o{j}" for j in range(n_o)],
            "place_code": [
                c + t for c, t in zip(county, pick(("", "101", "102"), n_o), strict=True)
            ],
            "sector": pick(TRADES[:3], n_o),
            "monthly_wage": rng.choice([0.0, 1800.0, 2600.0], n_o),
            "subsidy": rng.choice([0.0, 200.0], n_o),
            "living_cost": rng.choice([0.0, 300.0], n_o),
            "positions": rng.integers(0, 4, n_o),
            "age_min": rng.integers(16, 30, n_o),
            "age_max": rng.integers(40, 70, n_o),
            "min_education": pick(EDUCATION, n_o),
            "skill_required": pick(("", "", "焊工", "电工"), n_o),
            "physical": rng.random(n_o) < 0.4,
            "dormitory": rng.random(n_o) < 0.4,
            "hours_per_day": np.where(
                rng.random(n_o) < 0.6, rng.choice([3.0, 5.0, 8.0], n_o), np.nan
            ),
            "ends_on": pick(("2024-06-01", "2025-06-01", ""), n_o),
        }
    )
    offers["ends_on"] = offers["ends_on"].replace("", None)
    return needs, offers


def _check(kind: Any, needs: pd.DataFrame, offers: pd.DataFrame, seed: int) -> None:
    result = run_market(needs, offers, seed=seed, kind=kind)
    rules = kind.hard_rules(needs, offers)
    allowed = set(
        zip(
            rules.loc[rules["reasons"] == 0, "seeker_id"],
            rules.loc[rules["reasons"] == 0, "offer_id"],
            strict=True,
        )
    )
    inst = result.instance
    listed = {
        (str(inst.seeker_ids[s]), str(inst.offer_ids[o]))
        for s, o in zip(inst.entry_seeker(), inst.seeker_offer, strict=True)
    }
    assert listed == allowed  # the instance is exactly the pairs both sides' rules allow
    capacity = dict(zip(offers["offer_id"], offers["positions"], strict=True))
    for method in ("stable", "optimal"):
        placed = result.proposals(method)
        assert placed["seeker_id"].is_unique  # one placement per person (of this kind)
        pairs = set(zip(placed["seeker_id"], placed["offer_id"], strict=True))
        assert pairs <= allowed  # no placement a hard rule forbids
        fill = placed["offer_id"].value_counts()
        assert all(fill[o] <= capacity[o] for o in fill.index)  # capacities respected
    assert result.matchings["stable"].blocking_pairs() == 0
    _no_blocking_pair(result)


def _no_blocking_pair(result: Any) -> None:
    """Stability checked from the scores themselves, not from the instance's arrays: no person
    and offer who both prefer each other to what they have."""
    placed = result.proposals("stable").set_index("seeker_id")["offer_id"].to_dict()
    inst = result.instance
    entry_seeker = inst.entry_seeker()
    rank_of = {}
    for e in range(inst.n_pairs):
        s, o = str(inst.seeker_ids[entry_seeker[e]]), str(inst.offer_ids[inst.seeker_offer[e]])
        rank_of[(s, o)] = (e - inst.seeker_ptr[entry_seeker[e]], int(inst.offer_rank[e]))
    held: dict[str, list[int]] = {}
    for s, o in placed.items():
        held.setdefault(o, []).append(rank_of[(s, o)][1])
    cap = dict(zip(inst.offer_ids.tolist(), inst.capacity.tolist(), strict=True))
    for (s, o), (s_rank, o_rank) in rank_of.items():
        mine = placed.get(s)
        wants = mine is None or s_rank < rank_of[(s, mine)][0]
        taken = held.get(o, [])
        room = cap[o] > 0 and (len(taken) < cap[o] or o_rank < max(taken))
        assert not (wants and room), (s, o)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n_s=st.integers(0, 14), n_o=st.integers(1, 7))
def test_training_invariants(seed: int, n_s: int, n_o: int) -> None:
    needs, offers = _tables(seed, n_s, n_o)
    _check(TrainingSeats(), needs, offers, seed)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n_s=st.integers(0, 14), n_o=st.integers(1, 7))
def test_workshop_invariants(seed: int, n_s: int, n_o: int) -> None:
    needs, offers = _tables(seed, n_s, n_o)
    _check(WorkshopPlaces(), needs, offers, seed)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n_s=st.integers(1, 14),
    n_o=st.integers(1, 7),
    name=st.sampled_from(["training", "workshop"]),
)
def test_unmet_wishes_name_the_nearest_offer(seed: int, n_s: int, n_o: int, name: str) -> None:
    """A person whose own rules exclude every offer the kind considers for them is told the rules
    of one such offer failing the fewest of them; a person with an offer their own rules allow,
    or with none to consider, is told nothing more."""
    kind = kind_named(name)
    needs, offers = _tables(seed, n_s, n_o)
    result = run_market(needs, offers, seed=seed, kind=kind, methods=("stable",))
    unmet = result.unmet_wishes(needs["seeker_id"].tolist())
    rules = kind.hard_rules(needs, offers)
    rules["own"] = rules["reasons"] & kind.SEEKER_BITS
    if name == "workshop":  # the workshops considered are those of the person's county
        rules = rules[(rules["own"] & 2048) == 0]
    for seeker in needs["seeker_id"]:
        own = [int(b) for b in rules.loc[rules["seeker_id"] == seeker, "own"]]
        fewest = min((bin(b).count("1") for b in own), default=0)
        if fewest == 0:
            assert seeker not in unmet
        else:
            got = sum(r.bit for r in unmet[seeker])
            assert got in own and bin(got).count("1") == fewest
