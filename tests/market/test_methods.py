"""The stable and optimal methods against independent oracles."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matching.games import HospitalResident
from scipy.optimize import linear_sum_assignment

from dongxi.market import (
    Matching,
    blocking_mask,
    compare_methods,
    deferred_acceptance,
    instance_from_rank_lists,
    welfare_optimal,
)
from dongxi.market._instance import Instance


def _oracle_stable(inst: Instance) -> dict[str, str | None]:
    ptr, seekers = inst.offer_lists()
    resident_prefs = {}
    for s in range(inst.n_seekers):
        lst = inst.seeker_offer[inst.seeker_ptr[s] : inst.seeker_ptr[s + 1]]
        if len(lst):
            resident_prefs[str(inst.seeker_ids[s])] = [str(inst.offer_ids[o]) for o in lst]
    hospital_prefs = {}
    capacities = {}
    for o in range(inst.n_offers):
        lst = seekers[ptr[o] : ptr[o + 1]]
        if len(lst):
            hospital_prefs[str(inst.offer_ids[o])] = [str(inst.seeker_ids[s]) for s in lst]
            capacities[str(inst.offer_ids[o])] = int(inst.capacity[o])
    game = HospitalResident.create_from_dictionaries(resident_prefs, hospital_prefs, capacities)
    result = game.solve(optimal="resident")
    out: dict[str, str | None] = {str(s): None for s in inst.seeker_ids}
    for hospital, residents in result.items():
        for resident in residents:
            out[resident.name] = hospital.name
    return out


def _ours(inst: Instance, match: np.ndarray) -> dict[str, str | None]:
    m = Matching("stable", inst, match)
    offers = m.offer_index()
    return {
        str(inst.seeker_ids[s]): (str(inst.offer_ids[offers[s]]) if offers[s] >= 0 else None)
        for s in range(inst.n_seekers)
    }


@pytest.mark.parametrize("seed", range(12))
def test_stable_equals_matching_package(seed: int, rank_lists: Any) -> None:
    rng = np.random.default_rng(seed)
    tables = rank_lists(
        seed,
        int(rng.integers(5, 40)),
        int(rng.integers(2, 12)),
        density=float(rng.uniform(0.1, 0.7)),
    )
    inst = instance_from_rank_lists(*tables)
    match = deferred_acceptance(inst)
    assert _ours(inst, match) == _oracle_stable(inst)
    assert not blocking_mask(inst, match).any()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n_s=st.integers(0, 30),
    n_o=st.integers(1, 10),
    density=st.floats(0.0, 1.0),
    max_cap=st.integers(0, 4),
)
def test_no_blocking_pairs_ever(
    rank_lists: Any, seed: int, n_s: int, n_o: int, density: float, max_cap: int
) -> None:
    s, o, c = rank_lists(seed, n_s, n_o, density=density, max_cap=max(max_cap, 1))
    if max_cap == 0:
        c["capacity"] = np.random.default_rng(seed).integers(0, 2, len(c))
    inst = instance_from_rank_lists(s, o, c)
    match = deferred_acceptance(inst)
    m = Matching("stable", inst, match)
    assert m.blocking_pairs() == 0
    assert (m.offer_fill() <= inst.capacity).all()
    # every match is an acceptable pair of that seeker
    assert all(
        inst.seeker_ptr[i] <= e < inst.seeker_ptr[i + 1] for i, e in enumerate(match) if e >= 0
    )


def test_blocking_pairs_detected_on_a_bad_matching(rank_lists: Any) -> None:
    s, o, c = rank_lists(3, 20, 5, density=0.6)
    inst = instance_from_rank_lists(s, o, c)
    nobody = np.full(inst.n_seekers, -1, dtype=np.int64)
    # nobody matched: every acceptable pair at an offer with capacity blocks
    assert blocking_mask(inst, nobody).sum() == inst.n_pairs
    assert Matching("optimal", inst, nobody).blocking_pairs() == inst.n_pairs


def _lsa_welfare(inst: Instance) -> float:
    slots = np.repeat(np.arange(inst.n_offers), inst.capacity)
    n_s = inst.n_seekers
    weight = np.zeros((n_s, len(slots) + n_s))  # extra columns = stay unmatched (welfare 0)
    seeker = inst.entry_seeker()
    for e in range(inst.n_pairs):
        cols = np.flatnonzero(slots == inst.seeker_offer[e])
        weight[seeker[e], cols] = inst.welfare[e]
    forbidden = np.ones_like(weight, dtype=bool)
    for e in range(inst.n_pairs):
        forbidden[seeker[e], np.flatnonzero(slots == inst.seeker_offer[e])] = False
    forbidden[:, len(slots) :] = False
    cost = np.where(forbidden, 1e9, -weight)
    rows, cols = linear_sum_assignment(cost)
    return float(weight[rows, cols].sum())


@pytest.mark.parametrize("seed", range(10))
def test_optimal_welfare_equals_linear_sum_assignment(seed: int, rank_lists: Any) -> None:
    rng = np.random.default_rng(100 + seed)
    tables = rank_lists(100 + seed, int(rng.integers(3, 25)), int(rng.integers(2, 8)))
    inst = instance_from_rank_lists(*tables)
    # integer welfare so OR-Tools' integer costs are exact with scale=1
    integer = Instance(
        seeker_ids=inst.seeker_ids,
        offer_ids=inst.offer_ids,
        capacity=inst.capacity,
        seeker_ptr=inst.seeker_ptr,
        seeker_offer=inst.seeker_offer,
        offer_rank=inst.offer_rank,
        welfare=rng.integers(1, 50, inst.n_pairs).astype(np.float64),
    )
    match = welfare_optimal(integer, scale=1)
    m = Matching("optimal", integer, match)
    assert (m.offer_fill() <= integer.capacity).all()
    assert m.total_welfare() == pytest.approx(_lsa_welfare(integer))
    # default (automatic) scale on real-valued rank welfare: within rounding of the optimum
    auto = Matching("optimal", inst, welfare_optimal(inst))
    assert auto.total_welfare() == pytest.approx(_lsa_welfare(inst), abs=1e-4)


def test_compare_methods_table(rank_lists: Any) -> None:
    inst = instance_from_rank_lists(*rank_lists(7, 40, 6, density=0.5))
    st_ = Matching("stable", inst, deferred_acceptance(inst))
    op = Matching("optimal", inst, welfare_optimal(inst))
    assert op.blocking_pairs() == int(blocking_mask(inst, op.match_entry).sum())
    table = compare_methods(st_, op).set_index("metric")
    assert table.loc["blocking_pairs", "stable"] == 0
    assert table.loc["total_welfare", "optimal"] >= table.loc["total_welfare", "stable"] - 1e-6
