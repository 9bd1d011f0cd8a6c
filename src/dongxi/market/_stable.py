"""Seeker-proposing deferred acceptance with capacities (hospitals/residents).

Gale and Shapley (1962); Roth (1984) for the many-to-one case: free seekers propose down their
lists; an offer holds its ``capacity`` best proposers so far and rejects the rest. The result is
the seeker-optimal stable matching, which does not depend on the order in which free seekers
propose. Each offer keeps its held seekers in a max-heap keyed by its rank of them, so an
incoming proposal is compared with the worst held seeker in O(1) and replaces it in
O(log capacity). Compiled with numba (``cache=True``, compiled on first call) on the CSR arrays
of :class:`dongxi.market.Instance`.

:func:`deferred_acceptance_rounds` finds the same matching with NumPy alone, in rounds: every
free seeker proposes at once to the next offer on the list, and every offer that received a
proposal keeps its ``capacity`` best among those it held and the new ones (McVitie and Wilson,
1971: any order of proposals ends in the same matching). A round costs a few dozen NumPy calls
on the proposals and the seekers held by the offers proposed to, so it is quick when the rounds
are few (the 2017 instance: 129 rounds, 0.3 M proposals, ~0.08 s) and skips numba's import and
kernel set-up (~0.6 s of CPU), which a command that matches once pays at every start. When the
rounds would cost more than a budget (long chains of rejections), it stops and answers ``None``;
the caller then runs the compiled kernel.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dongxi.market._instance import Instance, Int32Array, IntArray
from dongxi.market._jit import njit_lazy

__all__ = ["deferred_acceptance", "deferred_acceptance_rounds"]


@njit_lazy(cache=True)
def _da(
    seeker_ptr: IntArray,
    seeker_offer: Int32Array,
    offer_rank: Int32Array,
    capacity: IntArray,
) -> IntArray:  # pragma: no cover - compiled
    n_s = len(seeker_ptr) - 1
    n_o = len(capacity)
    heap_ptr = np.zeros(n_o + 1, dtype=np.int64)
    for o in range(n_o):
        c = capacity[o]
        heap_ptr[o + 1] = heap_ptr[o] + (c if c > 0 else 0)
    heap_rank = np.empty(heap_ptr[n_o], dtype=np.int32)
    heap_seeker = np.empty(heap_ptr[n_o], dtype=np.int64)
    held = np.zeros(n_o, dtype=np.int64)
    nxt = seeker_ptr[:-1].copy()
    match_entry = np.full(n_s, -1, dtype=np.int64)
    stack = np.arange(n_s - 1, -1, -1).astype(np.int64)
    top = n_s
    while top > 0:
        top -= 1
        s = stack[top]
        end = seeker_ptr[s + 1]
        while nxt[s] < end:
            e = nxt[s]
            nxt[s] += 1
            o = seeker_offer[e]
            cap = capacity[o]
            if cap <= 0:
                continue
            r = offer_rank[e]
            base = heap_ptr[o]
            n = held[o]
            if n < cap:
                # push and sift up (max-heap on rank)
                i = n
                while i > 0:
                    parent = (i - 1) // 2
                    if heap_rank[base + parent] >= r:
                        break
                    heap_rank[base + i] = heap_rank[base + parent]
                    heap_seeker[base + i] = heap_seeker[base + parent]
                    i = parent
                heap_rank[base + i] = r
                heap_seeker[base + i] = s
                held[o] = n + 1
                match_entry[s] = e
                break
            if r < heap_rank[base]:
                d = heap_seeker[base]
                # replace the root and sift down
                i = 0
                while True:
                    child = 2 * i + 1
                    if child >= n:
                        break
                    if child + 1 < n and heap_rank[base + child + 1] > heap_rank[base + child]:
                        child += 1
                    if heap_rank[base + child] <= r:
                        break
                    heap_rank[base + i] = heap_rank[base + child]
                    heap_seeker[base + i] = heap_seeker[base + child]
                    i = child
                heap_rank[base + i] = r
                heap_seeker[base + i] = s
                match_entry[s] = e
                match_entry[d] = -1
                stack[top] = d
                top += 1
                break
    return match_entry


def deferred_acceptance(instance: Instance) -> npt.NDArray[np.int64]:
    """The seeker-optimal stable matching of ``instance``.

    Returns, per seeker, the index of the matched entry in ``instance.seeker_offer`` (so the
    offer is ``seeker_offer[entry]`` and the seeker's rank of it ``entry - seeker_ptr[s]``), or
    ``-1`` for an unmatched seeker.
    """
    result: npt.NDArray[np.int64] = _da(
        instance.seeker_ptr, instance.seeker_offer, instance.offer_rank, instance.capacity
    )
    return result


#: Work allowed to :func:`deferred_acceptance_rounds` by default: ``ROUND_WORK_PER_PAIR`` per
#: acceptable pair and seeker, at least ``ROUND_WORK_FLOOR``. A round's work is the number of
#: candidates it sorts (proposals and seekers held by the offers proposed to) plus
#: ``ROUND_COST`` for its NumPy calls; a unit is ~ 0.1 µs, so the default stops the rounds after
#: about 0.2 s on small instances (the 2017 instance uses 0.76 M of its 2.1 M) and, on large
#: ones, when they would cost about what numba's set-up costs. The compiled kernel then runs.
ROUND_WORK_PER_PAIR = 1
ROUND_WORK_FLOOR = 1 << 21
ROUND_COST = 2048


def deferred_acceptance_rounds(
    instance: Instance, *, budget: int | None = None
) -> npt.NDArray[np.int64] | None:
    """The matching of :func:`deferred_acceptance`, found with NumPy in rounds of proposals
    (no numba); ``None`` when the rounds would cost more than ``budget`` work units (default:
    ``ROUND_WORK_PER_PAIR × (pairs + seekers)``, at least ``ROUND_WORK_FLOOR``)."""
    ptr = instance.seeker_ptr
    seeker_offer = instance.seeker_offer
    offer_rank = instance.offer_rank
    n_s, n_o, n_p = instance.n_seekers, instance.n_offers, instance.n_pairs
    if budget is None:
        budget = max(ROUND_WORK_PER_PAIR * (n_p + n_s), ROUND_WORK_FLOOR)
    capacity = np.maximum(instance.capacity, 0)
    # each offer's held seekers in slots slot_ptr[o] .. slot_ptr[o] + held[o], best first
    slot_ptr = np.zeros(n_o + 1, dtype=np.int64)
    np.cumsum(capacity, out=slot_ptr[1:])
    slot_seeker = np.empty(int(slot_ptr[-1]), dtype=np.int64)
    slot_entry = np.empty(int(slot_ptr[-1]), dtype=np.int64)
    held = np.zeros(n_o, dtype=np.int64)
    # a proposal needs a rank below the offer's cutoff: the worst held rank of a full offer
    never = np.int64(n_p + 1)
    cutoff = np.where(capacity > 0, never, -1).astype(np.int64)
    nxt = ptr[:-1].copy()
    end = ptr[1:]
    match_entry = np.full(n_s, -1, dtype=np.int64)
    free = np.flatnonzero(nxt < end)
    work = 0
    while len(free):
        entry = nxt[free]
        nxt[free] += 1
        offer = seeker_offer[entry].astype(np.int64)
        rank = offer_rank[entry].astype(np.int64)
        kept = rank < cutoff[offer]
        rejected = free[~kept]
        free, entry, offer = free[kept], entry[kept], offer[kept]
        if len(free):
            touched = np.unique(offer)
            counts = held[touched]
            n_held = int(counts.sum())
            work += ROUND_COST + len(free) + n_held
            if work > budget:
                return None
            # the seekers the touched offers hold, then the new proposers
            starts = np.repeat(slot_ptr[touched] - (np.cumsum(counts) - counts), counts)
            slots = starts + np.arange(n_held, dtype=np.int64)
            c_seeker = np.concatenate([slot_seeker[slots], free])
            c_entry = np.concatenate([slot_entry[slots], entry])
            c_offer = np.concatenate([np.repeat(touched, counts), offer])
            c_rank = offer_rank[c_entry].astype(np.int64)
            order = np.argsort(c_offer * never + c_rank)
            c_seeker, c_entry, c_offer = c_seeker[order], c_entry[order], c_offer[order]
            # position of each candidate within its offer (touched is sorted, like c_offer)
            size = np.bincount(c_offer, minlength=n_o)[touched]
            first = np.cumsum(size) - size
            position = np.arange(len(c_offer), dtype=np.int64) - np.repeat(first, size)
            accept = position < capacity[c_offer]
            where = slot_ptr[c_offer[accept]] + position[accept]
            slot_seeker[where] = c_seeker[accept]
            slot_entry[where] = c_entry[accept]
            match_entry[c_seeker[accept]] = c_entry[accept]
            out = c_seeker[~accept]
            match_entry[out] = -1
            now = np.minimum(size, capacity[touched])
            held[touched] = now
            full = touched[now == capacity[touched]]
            cutoff[full] = offer_rank[slot_entry[slot_ptr[full] + capacity[full] - 1]]
            rejected = np.concatenate([rejected, out])
        else:
            work += ROUND_COST
            if work > budget:
                return None
        free = rejected[nxt[rejected] < end[rejected]]
    return match_entry
