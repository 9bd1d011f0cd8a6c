"""Seeker-proposing deferred acceptance with capacities (hospitals/residents).

Gale and Shapley (1962); Roth (1984) for the many-to-one case: free seekers propose down their
lists; an offer holds its ``capacity`` best proposers so far and rejects the rest. The result is
the seeker-optimal stable matching, which does not depend on the order in which free seekers
propose. Each offer keeps its held seekers in a max-heap keyed by its rank of them, so an
incoming proposal is compared with the worst held seeker in O(1) and replaces it in
O(log capacity). Compiled with numba (``cache=True``) on the CSR arrays of
:class:`dongxi.market.Instance`.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from dongxi.market._instance import Instance, Int32Array, IntArray

__all__ = ["deferred_acceptance"]


@numba.njit(cache=True)
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
