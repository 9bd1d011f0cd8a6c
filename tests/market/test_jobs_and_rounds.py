"""The job-post kind, the market run, explanations, synthetic data and rounds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from dongxi.errors import InputError
from dongxi.market import (
    EDUCATION_LEVEL,
    LABOUR_LEVEL,
    TRANSITIONS,
    JobPosts,
    Matching,
    blocking_mask,
    check_transition,
    deferred_acceptance,
    instance_from_rank_lists,
    rematch,
    run_market,
)
from dongxi.synth.market import (
    ENTERPRISES_2017,
    POSITIONS_2017,
    SEEKERS_2017,
    market_2017,
    market_national,
    positions_per_enterprise,
)


@pytest.fixture(scope="module")
def small_market() -> tuple[pd.DataFrame, pd.DataFrame]:
    return market_2017(seed=5, n_seekers=1500)


def test_synth_2017_scale_and_skew() -> None:
    seekers, offers = market_2017(seed=1)
    assert len(seekers) == SEEKERS_2017
    assert len(offers) == ENTERPRISES_2017
    assert offers["positions"].sum() == POSITIONS_2017
    assert offers["positions"].min() >= 1
    # skewed: the largest tenth of enterprises holds far more than a tenth of the positions
    top = offers["positions"].nlargest(ENTERPRISES_2017 // 10).sum()
    assert top / POSITIONS_2017 > 0.3
    assert seekers["county_code"].str.startswith("45").all()
    again_s, again_o = market_2017(seed=1)
    pd.testing.assert_frame_equal(seekers, again_s)
    pd.testing.assert_frame_equal(offers, again_o)


def test_positions_sum_exactly() -> None:
    rng = np.random.default_rng(0)
    sizes = positions_per_enterprise(rng, 37, 1000)
    assert sizes.sum() == 1000 and sizes.min() >= 1


def test_national_generator_small() -> None:
    seekers, offers = market_national(seed=2, n_seekers=2000, n_enterprises=300)
    inst, _, _ = JobPosts().instance(seekers, offers, seed=2)
    assert inst.n_seekers == 2000 and inst.n_offers == 300
    assert (offers["positions"] >= 1).all()


def test_matched_pairs_obey_hard_rules(small_market: Any) -> None:
    seekers, offers = small_market
    result = run_market(seekers, offers, seed=5)
    for method in ("stable", "optimal"):
        pairs = result.proposals(method)
        joined = pairs.merge(seekers, on="seeker_id").merge(offers, on="offer_id")
        assert len(joined) == len(pairs) > 0
        assert (joined["monthly_wage"] + joined["subsidy"] >= joined["min_wage"]).all()
        assert (~joined["needs_dormitory"] | joined["dormitory"]).all()
        assert joined["age"].between(joined["age_min"], joined["age_max"]).all()
        assert (
            joined["education"].map(EDUCATION_LEVEL) >= joined["min_education"].map(EDUCATION_LEVEL)
        ).all()
        labour = joined["labour_capacity"].map(LABOUR_LEVEL)
        assert (labour >= np.where(joined["physical"], 2, 1)).all()
        has_skill = [
            (req is None or pd.isna(req)) or req in str(sk).split(";")
            for req, sk in zip(joined["skill_required"], joined["skills"], strict=True)
        ]
        assert all(has_skill)
        in_places = [
            pc in pl.split(";")
            for pc, pl in zip(joined["place_code"], joined["places"], strict=True)
        ]
        assert all(in_places)
        fill = pairs.groupby("offer_id").size()
        assert (fill <= offers.set_index("offer_id").loc[fill.index, "positions"]).all()
    overall = result.tables["overall"].set_index("method")
    assert overall.loc["stable", "blocking_pairs"] == 0
    assert overall.loc["optimal", "total_welfare"] >= overall.loc["stable", "total_welfare"] - 1e-6
    assert set(result.tables) >= {"overall", "by_county", "by_status", "comparison", "timings"}


def test_sex_and_ethnicity_change_nothing(small_market: Any) -> None:
    seekers, offers = small_market
    base, _, _ = JobPosts().instance(seekers, offers, seed=9)
    rng = np.random.default_rng(1)
    flipped = seekers.assign(
        sex=rng.permutation(seekers["sex"].to_numpy()),
        ethnicity=np.where(seekers["ethnicity"] == "汉族", "壮族", "汉族"),
    )
    other, _, _ = JobPosts().instance(flipped, offers, seed=9)
    for name in ("seeker_ptr", "seeker_offer", "offer_rank", "welfare", "capacity"):
        np.testing.assert_array_equal(getattr(base, name), getattr(other, name))
    np.testing.assert_array_equal(deferred_acceptance(base), deferred_acceptance(other))


def test_explanations(small_market: Any) -> None:
    seekers, offers = small_market
    result = run_market(seekers, offers, seed=5, methods=("stable",))
    stable = result.matchings["stable"]
    ids = result.instance.seeker_ids
    ranks = stable.seeker_rank()
    chosen = [str(ids[int(np.argmax(ranks > 2))]), str(ids[int(np.argmin(stable.matched))])]
    table = result.explain(chosen)
    first = table[table["seeker_id"] == chosen[0]]
    assert first["outcome"].iloc[-1] == "matched"
    assert int(first["list_rank"].iloc[-1]) == int(ranks[int(np.argmax(ranks > 2))])
    better = first.iloc[:-1]
    assert set(better["outcome"]) <= {"full", "not_acceptable"}
    assert (better.loc[better["outcome"] == "full", "reason_en"].str.contains("full")).all()
    na = better[better["outcome"] == "not_acceptable"]
    assert na["reason_en"].str.startswith("not acceptable because").all()
    assert na["reason_zh"].str.len().gt(0).all()
    parts = first.iloc[-1]
    expected = (
        parts["wage"] + parts["subsidy"] - parts["living"] - parts["travel"] + parts["sector_bonus"]
    )
    assert parts["seeker_score"] == pytest.approx(expected)
    assert (first["seeker_score"].diff().dropna() <= 1e-9).all()  # best first
    if not stable.matched.all():
        second = table[table["seeker_id"] == chosen[1]]
        assert "matched" not in set(second["outcome"])
    with pytest.raises(InputError, match="unknown seeker"):
        result.explain(["nobody"])


def test_bad_job_tables_are_clear(small_market: Any) -> None:
    seekers, offers = small_market
    with pytest.raises(InputError, match="min_wage"):
        JobPosts().instance(seekers.drop(columns="min_wage"), offers, seed=1)
    bad = offers.copy()
    bad.loc[3, "positions"] = -2
    with pytest.raises(InputError) as err:
        JobPosts().instance(seekers, bad, seed=1)
    assert err.value.row == 5 and err.value.column == "positions"
    bad = seekers.copy()
    bad.loc[0, "education"] = "phd"
    with pytest.raises(InputError, match="unknown value"):
        JobPosts().instance(bad, offers, seed=1)


def test_state_machine() -> None:
    check_transition("proposed", "accepted", "seeker")
    check_transition("accepted", "confirmed", "partner")
    with pytest.raises(InputError, match="cannot go"):
        check_transition("proposed", "hired", "partner")
    with pytest.raises(InputError, match="may not"):
        check_transition("accepted", "confirmed", "seeker")
    with pytest.raises(InputError, match="final"):
        check_transition("hired", "accepted", "seeker")
    assert all(frm != to for frm, to in TRANSITIONS)


def test_rematch_keeps_accepted_and_strikes_declined(rank_lists: Any) -> None:
    inst = instance_from_rank_lists(*rank_lists(11, 60, 8, density=0.5))
    first = Matching("stable", inst, deferred_acceptance(inst))
    pairs = first.pairs().dropna(subset=["offer_id"]).reset_index(drop=True)
    rng = np.random.default_rng(0)
    states = rng.choice(
        ["accepted", "declined_by_seeker", "declined_by_partner", "proposed"], len(pairs)
    )
    history = pairs[["seeker_id", "offer_id"]].assign(state=states)
    second, kept = rematch(inst, history)
    got = second.pairs().set_index("seeker_id")["offer_id"]
    for row in history.itertuples():
        if row.state == "accepted":
            assert got[row.seeker_id] == row.offer_id
        elif row.state.startswith("declined"):
            assert pd.isna(got[row.seeker_id]) or got[row.seeker_id] != row.offer_id
    assert kept.sum() == (states == "accepted").sum()
    assert (second.offer_fill() <= inst.capacity).all()
    # stable on what was left: no blocking pair among the non-kept seekers and non-struck pairs
    struck = history[history["state"].str.startswith("declined")]
    code = set(zip(struck["seeker_id"], struck["offer_id"], strict=True))
    seeker = inst.entry_seeker()
    entry_ok = np.array(
        [
            (str(inst.seeker_ids[s]), str(inst.offer_ids[o])) not in code and not kept[s]
            for s, o in zip(seeker, inst.seeker_offer, strict=True)
        ]
    )
    kept_entries = second.match_entry[kept]
    taken = np.bincount(inst.seeker_offer[kept_entries], minlength=inst.n_offers)
    rest = inst.restrict(keep=entry_ok, capacity=inst.capacity - taken)
    old_to_new = np.full(inst.n_pairs, -1)
    old_to_new[np.flatnonzero(entry_ok)] = np.arange(int(entry_ok.sum()))
    sub_match = np.where(kept | (second.match_entry < 0), -1, old_to_new[second.match_entry])
    assert (sub_match[~kept & (second.match_entry >= 0)] >= 0).all()
    assert not blocking_mask(rest, sub_match).any()
    with pytest.raises(InputError, match="unknown state"):
        rematch(inst, history.assign(state="maybe"))


def test_demo_market_from_a_registry_population() -> None:
    from dongxi.synth.market import run_demo_market, seekers_from_people

    rng = np.random.default_rng(3)
    counties = ["450123", "450124", "450125"]
    households = pd.DataFrame(
        {
            "household_code": [f"H{i}" for i in range(300)],
            "village_code": [f"{counties[i % 3]}100{i % 7:03d}" for i in range(300)],
            "status": rng.choice(["registered_poor", "escaped", "monitored", "never"], 300),
        }
    )
    people = pd.DataFrame(
        {
            "household_code": [f"H{i // 2}" for i in range(600)],
            "birth_date": [f"{1960 + i % 40}-05-01" for i in range(600)],
            "sex": rng.choice(["male", "female"], 600),
            "ethnicity": rng.choice(["壮族", "汉族"], 600),
            "education": rng.choice(["primary", "junior", "college"], 600),
            "labour_capacity": rng.choice(["normal", "skilled", "lost"], 600),
            "employment": rng.choice(["unemployed", "farming", "migrant_out"], 600),
            "skills": rng.choice(["welding", "", "sewing;cooking"], 600),
        }
    )
    seekers = seekers_from_people(people, households, seed=3)
    assert 0 < len(seekers) < 600
    assert seekers["county_code"].isin(counties).all()
    result = run_demo_market(
        seed=3, households_frame=households, people_frame=people, methods=("stable",)
    )
    assert result.instance.n_seekers == len(seekers)
    assert result.instance.n_offers == ENTERPRISES_2017
    assert result.tables["overall"]["blocking_pairs"].iloc[0] == 0
    assert set(result.tables["by_status"]["status"]) <= {
        "registered_poor",
        "escaped",
        "monitored",
        "never",
    }
