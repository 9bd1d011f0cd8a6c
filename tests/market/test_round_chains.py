"""Chains of rounds: answers walk the state machine at random, rounds follow one another.

Invariants: a pair struck in any round (declined, expired, not hired) is never proposed again;
every kept placement (accepted, confirmed, hired) reappears in the next round with its state;
no offer holds more seekers than places.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dongxi.errors import InputError
from dongxi.market import (
    INITIAL_STATE,
    KEPT_STATES,
    STRUCK_STATES,
    TRANSITIONS,
    Matching,
    carried_states,
    current_states,
    instance_from_rank_lists,
    rematch,
    solve,
)


def _answer(state: str, rng: np.random.Generator) -> str | None:
    """A random move allowed from ``state`` by the state machine (or no answer)."""
    nexts = sorted(to for (frm, to) in TRANSITIONS if frm == state)
    if not nexts or rng.random() < 0.3:
        return None
    return str(rng.choice(nexts))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["stable", "optimal"]))
def test_struck_pairs_never_return_and_kept_ones_stay(
    rank_lists: Any, seed: int, method: str
) -> None:
    inst = instance_from_rank_lists(*rank_lists(seed, 40, 6, density=0.5))
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []  # every state each pair was in, oldest first
    struck: set[tuple[str, str]] = set()
    name = "stable" if method == "stable" else "optimal"
    for _ in range(4):
        if rows:
            states = current_states(pd.DataFrame(rows), order=("step",))
            matching, _ = rematch(inst, states, method=name)
        else:
            states = None
            matching = Matching(name, inst, solve(inst, name))
        pairs = matching.pairs().dropna(subset=["offer_id"]).reset_index(drop=True)
        proposed = set(zip(pairs["seeker_id"], pairs["offer_id"], strict=True))
        assert not struck & proposed
        assert (matching.offer_fill() <= inst.capacity).all()
        if states is not None:
            pairs = pairs.assign(state=carried_states(pairs, states))
        else:
            pairs = pairs.assign(state=INITIAL_STATE)
        if states is not None:
            kept = states[states["state"].isin(KEPT_STATES)]
            got = pairs.set_index(["seeker_id", "offer_id"])["state"]
            for row in kept.itertuples(index=False):
                assert got[(row.seeker_id, row.offer_id)] == row.state
        for row in pairs.itertuples(index=False):
            rows.append({"seeker_id": row.seeker_id, "offer_id": row.offer_id, "state": row.state})
            moved = _answer(str(row.state), rng)
            if moved is not None:
                rows.append({"seeker_id": row.seeker_id, "offer_id": row.offer_id, "state": moved})
                if moved in STRUCK_STATES:
                    struck.add((str(row.seeker_id), str(row.offer_id)))
        for step, row in enumerate(rows):
            row["step"] = step


def test_current_states_keeps_a_struck_pair_struck() -> None:
    history = pd.DataFrame(
        {
            "seeker_id": ["s1", "s1", "s2", "s2", "s3"],
            "offer_id": ["o1", "o1", "o1", "o2", "o2"],
            "state": ["declined_by_seeker", "proposed", "proposed", "accepted", "confirmed"],
            "updated_at": [1, 2, 3, 4, 5],
        }
    )
    got = current_states(history, order=("updated_at",)).set_index(["seeker_id", "offer_id"])
    assert got["state"].to_dict() == {
        ("s1", "o1"): "declined_by_seeker",
        ("s2", "o1"): "proposed",
        ("s2", "o2"): "accepted",
        ("s3", "o2"): "confirmed",
    }
    later = history.assign(updated_at=[5, 4, 3, 2, 1])
    got = current_states(later, order=("updated_at",)).set_index(["seeker_id", "offer_id"])
    assert got.loc[("s1", "o1"), "state"] == "declined_by_seeker"
    pairs = pd.DataFrame({"seeker_id": ["s2", "s3", "s4"], "offer_id": ["o2", "o2", "o1"]})
    assert carried_states(pairs, current_states(history)).tolist() == [
        "accepted",
        "confirmed",
        INITIAL_STATE,
    ]
    with pytest.raises(InputError, match="lacks column"):
        current_states(history, order=("round_no",))
