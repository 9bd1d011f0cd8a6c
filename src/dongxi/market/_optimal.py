"""Welfare-optimal assignment under acceptability and capacities (min-cost flow, OR-Tools).

The network: one unit of supply at every seeker; an arc seeker → offer (capacity 1, cost
``-round(welfare × scale)``) for every acceptable pair; an arc offer → sink (capacity = the
offer's capacity, cost 0); an arc seeker → sink (capacity 1, cost 0) meaning "unmatched"; the sink
absorbs all supply. A minimum-cost flow is then a maximum-welfare assignment (a transportation
problem, so the integral optimum is the optimum of the linear programme).

OR-Tools needs integer costs: welfare is multiplied by ``scale`` and rounded. By default the scale
maps the largest |welfare| to 10**6, so the welfare found is within ``n_matched × 0.5 / scale`` of
the true optimum (exact when welfare values are multiples of ``1/scale``, e.g. integers with
``scale=1``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from dongxi.errors import BackendError, InputError
from dongxi.market._instance import Instance

__all__ = ["COST_RESOLUTION", "welfare_optimal"]

COST_RESOLUTION = 10**6


def welfare_optimal(instance: Instance, *, scale: float | None = None) -> npt.NDArray[np.int64]:
    """The assignment of maximum total welfare; same return shape as ``deferred_acceptance``."""
    n_s, n_o, n_p = instance.n_seekers, instance.n_offers, instance.n_pairs
    if n_p == 0:
        return np.full(n_s, -1, dtype=np.int64)
    w = instance.welfare
    if scale is None:
        biggest = float(np.abs(w).max())
        scale = COST_RESOLUTION / biggest if biggest > 0 else 1.0
    if not scale > 0:
        raise InputError("The 'scale' parameter of welfare_optimal must be > 0.", value=scale)
    sink = n_s + n_o
    seekers = instance.entry_seeker()
    tails = np.concatenate(
        [seekers, n_s + np.arange(n_o, dtype=np.int64), np.arange(n_s, dtype=np.int64)]
    ).astype(np.int32)
    heads = np.concatenate(
        [
            n_s + instance.seeker_offer.astype(np.int64),
            np.full(n_o, sink, dtype=np.int64),
            np.full(n_s, sink, dtype=np.int64),
        ]
    ).astype(np.int32)
    caps = np.concatenate(
        [
            np.ones(n_p, dtype=np.int64),
            np.maximum(instance.capacity, 0),
            np.ones(n_s, dtype=np.int64),
        ]
    )
    costs = np.concatenate(
        [-np.round(w * scale).astype(np.int64), np.zeros(n_o + n_s, dtype=np.int64)]
    )
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.concatenate([np.ones(n_s, dtype=np.int64), np.zeros(n_o, dtype=np.int64), [-n_s]])
    solver.set_nodes_supplies(np.arange(n_s + n_o + 1, dtype=np.int32), supplies.astype(np.int64))
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise BackendError(
            f"OR-Tools min-cost flow did not find an optimum (status {status}).",
            fix="Check that welfare values are finite and not too large for 64-bit costs.",
        )
    flows = np.asarray(solver.flows(np.arange(n_p, dtype=np.int32)))
    chosen = np.flatnonzero(flows > 0)
    match = np.full(n_s, -1, dtype=np.int64)
    match[seekers[chosen]] = chosen
    return match
