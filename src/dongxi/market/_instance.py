"""The matching instance: both sides' rank lists as compressed sparse rows (CSR).

An :class:`Instance` holds only *acceptable* pairs (both sides agree the pair is possible). The
seekers' lists are stored best first as one flat array of offer indices (``seeker_offer``) cut by
``seeker_ptr`` (seeker ``s`` ranks ``seeker_offer[seeker_ptr[s]:seeker_ptr[s + 1]]``). For every
entry, ``offer_rank`` holds the rank the *offer* gives that seeker (0 = the offer's favourite) and
``welfare`` the pair's welfare for the optimal method. That is all the methods need; the offers'
own lists can be rebuilt from these arrays (:meth:`Instance.offer_lists`).

Building the arrays is vectorised: a frame of candidate pairs with numeric keys is ranked on both
sides by :func:`build_instance` (numba segment sorts), never by a Python loop over people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dongxi.errors import InputError
from dongxi.market._jit import njit_lazy

__all__ = ["Instance", "build_instance", "build_presorted"]

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Instance:
    """Acceptable pairs ranked on both sides, with offer capacities.

    ``seeker_ids`` / ``offer_ids`` map indices back to the caller's identifiers.
    """

    seeker_ids: npt.NDArray[np.object_]
    offer_ids: npt.NDArray[np.object_]
    capacity: IntArray
    seeker_ptr: IntArray
    seeker_offer: Int32Array
    offer_rank: Int32Array
    welfare: FloatArray

    @property
    def n_seekers(self) -> int:
        """Number of seekers (including those with an empty list)."""
        return len(self.seeker_ids)

    @property
    def n_offers(self) -> int:
        """Number of offers."""
        return len(self.offer_ids)

    @property
    def n_pairs(self) -> int:
        """Number of acceptable pairs."""
        return len(self.seeker_offer)

    def list_length(self) -> IntArray:
        """Length of each seeker's list."""
        return np.diff(self.seeker_ptr)

    def entry_seeker(self) -> IntArray:
        """For each entry (acceptable pair), the seeker's index."""
        return np.repeat(np.arange(self.n_seekers, dtype=np.int64), self.list_length())

    def offer_lists(self) -> tuple[IntArray, Int32Array]:
        """The offers' lists as CSR ``(offer_ptr, offer_seeker)``, best first."""
        counts = np.bincount(self.seeker_offer, minlength=self.n_offers).astype(np.int64)
        ptr = np.zeros(self.n_offers + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        seekers = np.empty(self.n_pairs, dtype=np.int32)
        position = ptr[self.seeker_offer] + self.offer_rank
        seekers[position] = self.entry_seeker().astype(np.int32)
        return ptr, seekers

    def restrict(
        self, *, keep: npt.NDArray[np.bool_], capacity: IntArray | None = None
    ) -> Instance:
        """A new instance with only the entries where ``keep`` is true (ranks recomputed).

        ``capacity`` replaces the capacities when given (used by rounds to take out places already
        filled). Relative order on both sides is preserved.
        """
        if keep.shape != (self.n_pairs,):
            raise InputError("keep must have one flag per acceptable pair.", value=keep.shape)
        new_len = np.bincount(self.entry_seeker()[keep], minlength=self.n_seekers)
        ptr = np.zeros(self.n_seekers + 1, dtype=np.int64)
        np.cumsum(new_len, out=ptr[1:])
        offers = self.seeker_offer[keep]
        # Offer-side ranks: order kept entries by (offer, old rank), then renumber.
        old_rank = self.offer_rank[keep]
        order = np.lexsort((old_rank, offers))
        counts = np.bincount(offers, minlength=self.n_offers)
        starts = np.zeros(self.n_offers + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        new_rank = np.empty(len(offers), dtype=np.int32)
        new_rank[order] = (np.arange(len(offers)) - starts[offers[order]]).astype(np.int32)
        return Instance(
            seeker_ids=self.seeker_ids,
            offer_ids=self.offer_ids,
            capacity=self.capacity if capacity is None else capacity.astype(np.int64),
            seeker_ptr=ptr,
            seeker_offer=offers,
            offer_rank=new_rank,
            welfare=self.welfare[keep],
        )


@njit_lazy(cache=True)
def _segment_argsort(ptr: IntArray, key: IntArray) -> IntArray:  # pragma: no cover - compiled
    """Within each segment ``[ptr[i], ptr[i+1])``, the positions sorted by ``key`` ascending."""
    out = np.empty(len(key), dtype=np.int64)
    for i in range(len(ptr) - 1):
        a = ptr[i]
        b = ptr[i + 1]
        if b - a == 0:
            continue
        local = np.argsort(key[a:b], kind="mergesort")
        for j in range(b - a):
            out[a + j] = a + local[j]
    return out


@njit_lazy(cache=True)
def _counting_order(
    group: Int32Array, n_groups: int
) -> tuple[IntArray, IntArray]:  # pragma: no cover
    """Stable counting sort of entries by ``group``: (ptr, order)."""
    counts = np.zeros(n_groups + 1, dtype=np.int64)
    for g in group:
        counts[g + 1] += 1
    for i in range(n_groups):
        counts[i + 1] += counts[i]
    ptr = counts.copy()
    fill = counts[:-1].copy()
    order = np.empty(len(group), dtype=np.int64)
    for e in range(len(group)):
        g = group[e]
        order[fill[g]] = e
        fill[g] += 1
    return ptr, order


@njit_lazy(cache=True)
def _ranks_by_group(
    ptr: IntArray, order: IntArray, key: IntArray
) -> Int32Array:  # pragma: no cover - compiled
    """Rank (0-based) of every entry within its group by ``key`` ascending."""
    rank = np.empty(len(order), dtype=np.int32)
    for i in range(len(ptr) - 1):
        a = ptr[i]
        b = ptr[i + 1]
        if b - a == 0:
            continue
        idx = order[a:b]
        local = np.argsort(key[idx], kind="mergesort")
        for j in range(b - a):
            rank[idx[local[j]]] = j
    return rank


def build_instance(
    *,
    seeker_ids: npt.NDArray[np.object_],
    offer_ids: npt.NDArray[np.object_],
    capacity: npt.ArrayLike,
    pair_seeker: npt.ArrayLike,
    pair_offer: npt.ArrayLike,
    seeker_key: npt.ArrayLike,
    offer_key: npt.ArrayLike,
    welfare: npt.ArrayLike | None = None,
) -> Instance:
    """Rank acceptable pairs on both sides and pack them as an :class:`Instance`.

    ``pair_seeker``/``pair_offer`` are indices into ``seeker_ids``/``offer_ids``, one row per
    acceptable pair (no duplicates). ``seeker_key`` orders each seeker's list (smaller = better)
    and ``offer_key`` each offer's list; both are int64 keys that already encode the tie-break
    (see :func:`dongxi.market.rank_key`). ``welfare`` defaults to rank-based welfare
    (:func:`rank_welfare`).
    """
    ps = np.asarray(pair_seeker, dtype=np.int64)
    po = np.asarray(pair_offer, dtype=np.int32)
    sk = np.asarray(seeker_key, dtype=np.int64)
    ok = np.asarray(offer_key, dtype=np.int64)
    cap = np.asarray(capacity, dtype=np.int64)
    n_s, n_o = len(seeker_ids), len(offer_ids)
    if not (len(ps) == len(po) == len(sk) == len(ok)):
        raise InputError("pair arrays must all have the same length.")
    if len(cap) != n_o:
        raise InputError("capacity must have one value per offer.", value=len(cap))
    if len(ps) and (ps.min() < 0 or ps.max() >= n_s or po.min() < 0 or po.max() >= n_o):
        raise InputError("pair indices out of range of the seeker or offer identifiers.")
    # Group entries by seeker (stable), then sort each seeker's segment by its key.
    s_ptr, s_order = _counting_order(ps.astype(np.int32), n_s)
    sorted_key = sk[s_order]
    within = _segment_argsort(s_ptr, sorted_key)
    perm = s_order[within]
    po = po[perm]
    ok = ok[perm]
    w = None if welfare is None else np.asarray(welfare, dtype=np.float64)[perm]
    o_ptr, o_order = _counting_order(po, n_o)
    offer_rank = _ranks_by_group(o_ptr, o_order, ok)
    if w is None:
        w = rank_welfare(s_ptr, offer_rank, np.diff(o_ptr)[po])
    return Instance(
        seeker_ids=np.asarray(seeker_ids, dtype=object),
        offer_ids=np.asarray(offer_ids, dtype=object),
        capacity=cap,
        seeker_ptr=s_ptr,
        seeker_offer=po,
        offer_rank=offer_rank,
        welfare=w,
    )


def build_presorted(
    *,
    seeker_ids: npt.NDArray[np.object_],
    offer_ids: npt.NDArray[np.object_],
    capacity: IntArray,
    seeker_ptr: IntArray,
    seeker_offer: Int32Array,
    offer_key: IntArray,
    welfare: FloatArray,
) -> Instance:
    """Pack seeker lists that are already grouped by seeker and ordered best first.

    Only the offers' side is ranked here (by ``offer_key``, smaller = better); this is the path
    of the kinds' compiled kernels, which sort each seeker's short list as they write it.
    """
    n_o = len(offer_ids)
    o_ptr, o_order = _counting_order(seeker_offer, n_o)
    offer_rank = _ranks_by_group(o_ptr, o_order, offer_key)
    del o_order
    return Instance(
        seeker_ids=np.asarray(seeker_ids, dtype=object),
        offer_ids=np.asarray(offer_ids, dtype=object),
        capacity=np.asarray(capacity, dtype=np.int64),
        seeker_ptr=seeker_ptr,
        seeker_offer=seeker_offer,
        offer_rank=offer_rank,
        welfare=welfare,
    )


def rank_welfare(seeker_ptr: IntArray, offer_rank: Int32Array, offer_len: IntArray) -> FloatArray:
    """Welfare from ranks alone (used when no scores exist, e.g. research rank lists).

    For a pair where the seeker ranks the offer ``r_s`` (1 = best) in a list of ``L_s`` and the
    offer ranks the seeker ``r_o`` of ``L_o``: ``(L_s - r_s + 1) / L_s + (L_o - r_o + 1) / L_o``,
    so each side contributes 1 for its first choice and ``1/L`` for its last.
    """
    lengths = np.diff(seeker_ptr)
    entry_len = np.repeat(lengths, lengths).astype(np.float64)
    position = np.arange(len(offer_rank), dtype=np.int64)
    position -= np.repeat(seeker_ptr[:-1], lengths)
    # the same operations as (L_s - position) / max(L_s, 1) + (L_o - r_o) / max(L_o, 1), in
    # place (fewer arrays the size of the instance)
    out: FloatArray = entry_len - position
    np.maximum(entry_len, 1.0, out=entry_len)
    out /= entry_len
    offer_part = (offer_len - offer_rank).astype(np.float64)
    offer_part /= np.maximum(offer_len, 1)
    out += offer_part
    return out


def rank_key(
    score: npt.ArrayLike, tiebreak: npt.ArrayLike, *, resolution: float = 1e-6
) -> IntArray:
    """Int64 sort key: higher ``score`` first, then smaller ``tiebreak`` first.

    Scores closer than ``resolution`` count as tied and are ordered by ``tiebreak`` (a seeded
    random permutation of the other side, so ties are broken reproducibly and without favouring
    any group). Scores must be finite with ``|score| / resolution < 2**31``; ``tiebreak`` in
    ``[0, 2**31)``.
    """
    s = np.asarray(score, dtype=np.float64)
    t = np.asarray(tiebreak, dtype=np.int64)
    if not np.all(np.isfinite(s)):
        raise InputError(
            "scores must be finite numbers.", fix="Replace missing scores before ranking."
        )
    q = np.round(-s / resolution).astype(np.int64)
    if len(q) and np.abs(q).max() >= 2**31:
        raise InputError(
            "scores are too large for the ranking resolution.",
            value=float(np.abs(s).max()),
            fix="Rescale the scores or use a coarser resolution.",
        )
    if len(t) and (t.min() < 0 or t.max() >= 2**31):
        raise InputError("tie-break values must be in [0, 2**31).")
    out: IntArray = q * np.int64(2**31) + t
    return out
