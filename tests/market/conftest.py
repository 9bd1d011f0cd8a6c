"""Fixtures of the market tests: random rank-list instances (synthetic, seeded)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def random_rank_lists(
    seed: int, n_seekers: int, n_offers: int, *, density: float = 0.4, max_cap: int = 3
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Seeker lists, offer lists (over a random superset/subset) and capacities as tables."""
    rng = np.random.default_rng(seed)
    s_rows, o_rows = [], []
    listed = rng.random((n_seekers, n_offers)) < density
    offer_lists = listed | (rng.random((n_seekers, n_offers)) < 0.1)
    offer_lists &= rng.random((n_seekers, n_offers)) < 0.95
    for s in range(n_seekers):
        offers = np.flatnonzero(listed[s])
        for r, o in enumerate(rng.permutation(offers), start=1):
            s_rows.append((f"s{s}", f"o{o}", r))
    for o in range(n_offers):
        seekers = np.flatnonzero(offer_lists[:, o])
        for r, s in enumerate(rng.permutation(seekers), start=1):
            o_rows.append((f"o{o}", f"s{s}", r))
    caps = pd.DataFrame(
        {
            "offer_id": [f"o{o}" for o in range(n_offers)],
            "capacity": rng.integers(1, max_cap + 1, n_offers),
        }
    )
    return (
        pd.DataFrame(s_rows, columns=["seeker_id", "offer_id", "rank"]),
        pd.DataFrame(o_rows, columns=["offer_id", "seeker_id", "rank"]),
        caps,
    )


@pytest.fixture(scope="session")
def rank_lists() -> object:
    """The :func:`random_rank_lists` factory."""
    return random_rank_lists
