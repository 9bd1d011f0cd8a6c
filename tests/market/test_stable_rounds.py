"""Deferred acceptance in NumPy rounds gives the compiled kernel's matching; the NumPy count of
blocking pairs gives the compiled count; the one-off path loads numba only when it must."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dongxi.market import (
    Matching,
    blocking_mask,
    deferred_acceptance,
    deferred_acceptance_rounds,
    instance_from_rank_lists,
    solve,
)
from dongxi.market._instance import Instance
from dongxi.market._report import count_blocking

instances = st.builds(
    lambda seed, n_s, n_o, density, max_cap, zero: (seed, n_s, n_o, density, max_cap, zero),
    seed=st.integers(0, 2**31 - 1),
    n_s=st.integers(0, 40),
    n_o=st.integers(1, 12),
    density=st.floats(0.0, 1.0),
    max_cap=st.integers(1, 5),
    zero=st.booleans(),
)


def _instance(rank_lists: Any, drawn: tuple[int, int, int, float, int, bool]) -> Instance:
    seed, n_s, n_o, density, max_cap, zero = drawn
    s, o, c = rank_lists(seed, n_s, n_o, density=density, max_cap=max_cap)
    if zero:  # some offers without a place
        c["capacity"] = c["capacity"] * np.random.default_rng(seed).integers(0, 2, len(c))
    return instance_from_rank_lists(s, o, c)


@settings(max_examples=150, deadline=None)
@given(drawn=instances)
def test_rounds_give_the_compiled_matching(rank_lists: Any, drawn: Any) -> None:
    inst = _instance(rank_lists, drawn)
    rounds = deferred_acceptance_rounds(inst)
    assert rounds is not None
    assert rounds.tolist() == deferred_acceptance(inst).tolist()
    assert not blocking_mask(inst, rounds).any()
    assert solve(inst, "stable", light=True).tolist() == rounds.tolist()


@settings(max_examples=40, deadline=None)
@given(drawn=instances, budget=st.integers(0, 20_000))
def test_a_spent_budget_falls_back_to_the_kernel(rank_lists: Any, drawn: Any, budget: int) -> None:
    inst = _instance(rank_lists, drawn)
    rounds = deferred_acceptance_rounds(inst, budget=budget)
    compiled = deferred_acceptance(inst)
    if rounds is not None:  # finished within the budget: the same matching
        assert rounds.tolist() == compiled.tolist()
    if inst.n_pairs and budget < 2048:  # not even one round
        assert rounds is None


def test_a_long_chain_of_rejections_stops_the_rounds() -> None:
    # every seeker ranks the offers in the same order and each offer prefers later seekers:
    # n seekers, one place each, so the rounds run ~n times
    n = 60
    ptr = np.arange(0, n * n + 1, n, dtype=np.int64)
    inst = Instance(
        seeker_ids=np.array([f"s{i}" for i in range(n)], dtype=object),
        offer_ids=np.array([f"o{j}" for j in range(n)], dtype=object),
        capacity=np.ones(n, dtype=np.int64),
        seeker_ptr=ptr,
        seeker_offer=np.tile(np.arange(n, dtype=np.int32), n),
        offer_rank=np.repeat(np.arange(n - 1, -1, -1, dtype=np.int32), n),
        welfare=np.zeros(n * n),
    )
    full = deferred_acceptance_rounds(inst, budget=1 << 40)
    assert full is not None
    assert full.tolist() == deferred_acceptance(inst).tolist()
    assert deferred_acceptance_rounds(inst, budget=20 * 2048) is None
    assert solve(inst, "stable", light=True).tolist() == full.tolist()


@settings(max_examples=80, deadline=None)
@given(drawn=instances, pick=st.integers(0, 2**31 - 1), block=st.sampled_from([1, 3, 1 << 22]))
def test_numpy_count_of_blocking_pairs_is_the_compiled_count(
    rank_lists: Any, drawn: Any, pick: int, block: int
) -> None:
    import dongxi.market._report as report

    inst = _instance(rank_lists, drawn)
    rng = np.random.default_rng(pick)
    # any matching, stable or not: per seeker one of its entries or none
    lengths = inst.list_length()
    choice = rng.integers(-1, np.maximum(lengths, 1))
    entry = np.where((choice >= 0) & (lengths > 0), inst.seeker_ptr[:-1] + choice, -1)
    matching = Matching("stable", inst, entry.astype(np.int64))
    with pytest.MonkeyPatch.context() as patch:  # blocks of a few entries, or all at once
        patch.setattr(report, "_BLOCK_ENTRIES", block)
        assert count_blocking(inst, matching.match_entry) == matching.blocking_pairs()
    assert matching.blocking_pairs(compiled=False) == int(blocking_mask(inst, entry).sum())


def test_importing_the_market_engine_does_not_import_numba() -> None:
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from dongxi.market import _rankfiles, _stable, _instance, _report, _solve\n"
        "print('numba' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "False"
