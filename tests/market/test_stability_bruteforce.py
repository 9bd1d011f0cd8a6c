"""Stability checked by brute force, independently of the market's own blocking-pair helper.

Random instances with tied scores on both sides and capacities are built with
:func:`dongxi.market.build_instance` (ties broken by a seeded permutation through
:func:`dongxi.market.rank_key`). For the matching from :func:`deferred_acceptance` every
acceptable pair is tried in plain Python against the raw scores and the tie-break: a pair blocks
when the seeker strictly prefers the offer to what it holds and the offer has a free place or
strictly prefers the seeker to one it holds. Ties in the raw scores are resolved only by the
tie-break, so the check is the same preference the stable method is meant to respect, written anew.
The matching must also be seeker-optimal: no stable matching found by brute force over all
assignments of small instances gives any seeker a better offer.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dongxi.market import build_instance, deferred_acceptance, rank_key

N_RANDOM = 300


def _random_market(seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    n_s = int(rng.integers(1, 13))
    n_o = int(rng.integers(1, 7))
    capacity = rng.integers(0, 4, n_o)
    acceptable = rng.random((n_s, n_o)) < rng.uniform(0.2, 1.0)
    # few distinct score values: many ties on both sides
    seeker_score = rng.integers(0, 3, (n_s, n_o)).astype(float)
    offer_score = rng.integers(0, 3, (n_s, n_o)).astype(float)
    seeker_tb = rng.permutation(n_o)  # seekers break ties between offers by this order
    offer_tb = rng.permutation(n_s)  # offers break ties between seekers by this order
    return {
        "n_s": n_s,
        "n_o": n_o,
        "capacity": capacity,
        "acceptable": acceptable,
        "seeker_score": seeker_score,
        "offer_score": offer_score,
        "seeker_tb": seeker_tb,
        "offer_tb": offer_tb,
    }


def _solve(m: dict[str, object]) -> dict[int, int]:
    """Seeker index → offer index of the stable method's matching."""
    acceptable = np.asarray(m["acceptable"])
    s_idx, o_idx = np.nonzero(acceptable)
    inst = build_instance(
        seeker_ids=np.array([f"s{i}" for i in range(int(m["n_s"]))], dtype=object),
        offer_ids=np.array([f"o{j}" for j in range(int(m["n_o"]))], dtype=object),
        capacity=m["capacity"],
        pair_seeker=s_idx,
        pair_offer=o_idx,
        seeker_key=rank_key(
            np.asarray(m["seeker_score"])[s_idx, o_idx], np.asarray(m["seeker_tb"])[o_idx]
        ),
        offer_key=rank_key(
            np.asarray(m["offer_score"])[s_idx, o_idx], np.asarray(m["offer_tb"])[s_idx]
        ),
    )
    entry = deferred_acceptance(inst)
    return {s: int(inst.seeker_offer[e]) for s, e in enumerate(entry) if e >= 0}


def _seeker_prefers(m: dict[str, object], s: int, a: int, b: int | None) -> bool:
    """Whether seeker ``s`` strictly prefers offer ``a`` to ``b`` (None: unmatched)."""
    if b is None:
        return True
    score = np.asarray(m["seeker_score"])
    tb = np.asarray(m["seeker_tb"])
    return (-score[s, a], tb[a]) < (-score[s, b], tb[b])


def _offer_prefers(m: dict[str, object], o: int, a: int, b: int) -> bool:
    """Whether offer ``o`` strictly prefers seeker ``a`` to seeker ``b``."""
    score = np.asarray(m["offer_score"])
    tb = np.asarray(m["offer_tb"])
    return (-score[a, o], tb[a]) < (-score[b, o], tb[b])


def _blocking_pairs(m: dict[str, object], match: dict[int, int]) -> list[tuple[int, int]]:
    acceptable = np.asarray(m["acceptable"])
    capacity = np.asarray(m["capacity"])
    holders: dict[int, list[int]] = {}
    for s, o in match.items():
        holders.setdefault(o, []).append(s)
    found = []
    for s in range(int(m["n_s"])):
        for o in range(int(m["n_o"])):
            if not acceptable[s, o] or match.get(s) == o:
                continue
            if not _seeker_prefers(m, s, o, match.get(s)):
                continue
            held = holders.get(o, [])
            if len(held) < capacity[o] or any(_offer_prefers(m, o, s, t) for t in held):
                found.append((s, o))
    return found


def _feasible(m: dict[str, object], match: dict[int, int]) -> bool:
    acceptable = np.asarray(m["acceptable"])
    capacity = np.asarray(m["capacity"])
    fill = np.bincount(list(match.values()), minlength=int(m["n_o"])) if match else 0
    return bool(np.all(fill <= capacity)) and all(acceptable[s, o] for s, o in match.items())


@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_stable_method_has_no_blocking_pair(seed: int) -> None:
    m = _random_market(seed)
    match = _solve(m)
    assert _feasible(m, match)
    assert _blocking_pairs(m, match) == []


def _all_stable_matchings(m: dict[str, object]) -> list[dict[int, int]]:
    acceptable = np.asarray(m["acceptable"])
    options = [
        [None, *[o for o in range(int(m["n_o"])) if acceptable[s, o]]] for s in range(int(m["n_s"]))
    ]
    stable = []
    for choice in itertools.product(*options):
        match = {s: o for s, o in enumerate(choice) if o is not None}
        if _feasible(m, match) and not _blocking_pairs(m, match):
            stable.append(match)
    return stable


@pytest.mark.parametrize("seed", range(60))
def test_stable_method_is_seeker_optimal_among_all_stable(seed: int) -> None:
    m = _random_market(10_000 + seed)
    m["n_s"] = min(int(m["n_s"]), 6)  # keep the brute force over all assignments small
    m["acceptable"] = np.asarray(m["acceptable"])[: int(m["n_s"])]
    m["seeker_score"] = np.asarray(m["seeker_score"])[: int(m["n_s"])]
    m["offer_score"] = np.asarray(m["offer_score"])[: int(m["n_s"])]
    m["offer_tb"] = np.argsort(np.argsort(np.asarray(m["offer_tb"])[: int(m["n_s"])]))
    match = _solve(m)
    stable = _all_stable_matchings(m)
    assert match in stable
    better = [
        (s, other[s])
        for other in stable
        for s in other
        if _seeker_prefers(m, s, other[s], match.get(s))
    ]
    assert better == []


def test_brute_force_check_finds_a_planted_blocking_pair() -> None:
    # one seeker, one offer with a free place, acceptable to both, left unmatched: blocks
    m = {
        "n_s": 1,
        "n_o": 1,
        "capacity": np.array([1]),
        "acceptable": np.array([[True]]),
        "seeker_score": np.array([[1.0]]),
        "offer_score": np.array([[1.0]]),
        "seeker_tb": np.array([0]),
        "offer_tb": np.array([0]),
    }
    assert _blocking_pairs(m, {}) == [(0, 0)]
    assert _blocking_pairs(m, {0: 0}) == []
