"""What a matching gives: pairs, blocking pairs, welfare, counts by group, methods compared."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from dongxi.errors import InputError
from dongxi.market._instance import Instance, IntArray
from dongxi.market._jit import njit_lazy

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "METHODS",
    "Matching",
    "MethodName",
    "blocking_mask",
    "compare_methods",
    "count_blocking",
    "method_name",
    "overall_row",
    "summarise",
]

#: The matching methods: ``stable`` (deferred acceptance) and ``optimal`` (maximum welfare).
MethodName = Literal["stable", "optimal"]
METHODS: tuple[MethodName, ...] = ("stable", "optimal")


def method_name(value: str) -> MethodName:
    """``value`` as a method name; :class:`InputError` unless it is one of :data:`METHODS`."""
    for method in METHODS:
        if value == method:
            return method
    raise InputError(
        "unknown matching method.",
        column="method",
        value=value,
        fix=f"Use one of: {', '.join(METHODS)}.",
    )


def blocking_mask(instance: Instance, match_entry: IntArray) -> npt.NDArray[np.bool_]:
    """For every acceptable pair, whether it blocks ``match_entry``.

    A pair (s, o) blocks when s is unmatched or prefers o to its match, and o has a free place
    or prefers s to the worst seeker it holds.
    """
    n_s = instance.n_seekers
    if match_entry.shape != (n_s,):
        raise InputError("match_entry must have one value per seeker.", value=match_entry.shape)
    ptr = instance.seeker_ptr
    seeker = instance.entry_seeker()
    position = np.arange(instance.n_pairs, dtype=np.int64) - ptr[seeker]
    big = np.iinfo(np.int64).max
    matched_pos = np.where(match_entry >= 0, match_entry - ptr[:-1], big)
    seeker_wants = position < matched_pos[seeker]
    matched = match_entry[match_entry >= 0]
    held = np.bincount(instance.seeker_offer[matched], minlength=instance.n_offers)
    worst = np.full(instance.n_offers, -1, dtype=np.int64)
    np.maximum.at(
        worst, instance.seeker_offer[matched], instance.offer_rank[matched].astype(np.int64)
    )
    o = instance.seeker_offer
    offer_wants = (instance.capacity[o] > 0) & (
        (held[o] < instance.capacity[o]) | (instance.offer_rank < worst[o])
    )
    out: npt.NDArray[np.bool_] = seeker_wants & offer_wants
    return out


@njit_lazy(cache=True)
def _count_blocking(
    seeker_ptr: IntArray,
    seeker_offer: npt.NDArray[np.int32],
    offer_rank: npt.NDArray[np.int32],
    capacity: IntArray,
    match_entry: IntArray,
) -> int:  # pragma: no cover - compiled
    """Number of blocking pairs, without temporaries the size of the instance."""
    n_o = len(capacity)
    held = np.zeros(n_o, dtype=np.int64)
    worst = np.full(n_o, -1, dtype=np.int64)
    for s in range(len(seeker_ptr) - 1):
        e = match_entry[s]
        if e >= 0:
            o = seeker_offer[e]
            held[o] += 1
            if offer_rank[e] > worst[o]:
                worst[o] = offer_rank[e]
    count = 0
    for s in range(len(seeker_ptr) - 1):
        stop = match_entry[s] if match_entry[s] >= 0 else seeker_ptr[s + 1]
        for e in range(seeker_ptr[s], stop):
            o = seeker_offer[e]
            if capacity[o] > 0 and (held[o] < capacity[o] or offer_rank[e] < worst[o]):
                count += 1
    return count


#: Entries examined at once by :func:`count_blocking` (bounds its temporary arrays).
_BLOCK_ENTRIES = 1 << 22


def count_blocking(instance: Instance, match_entry: IntArray) -> int:
    """Number of pairs that block ``match_entry`` (as :func:`blocking_mask`), counted with NumPy
    over blocks of about ``_BLOCK_ENTRIES`` entries, without arrays the size of the instance."""
    ptr = instance.seeker_ptr
    seeker_offer, offer_rank, capacity = (
        instance.seeker_offer,
        instance.offer_rank,
        instance.capacity,
    )
    matched = match_entry[match_entry >= 0]
    held = np.bincount(seeker_offer[matched], minlength=instance.n_offers)
    worst = np.full(instance.n_offers, -1, dtype=np.int64)
    np.maximum.at(worst, seeker_offer[matched], offer_rank[matched].astype(np.int64))
    # a seeker wants the entries before its match (all of them when unmatched)
    wanted = np.where(match_entry >= 0, match_entry, ptr[1:]) - ptr[:-1]
    count, first, n_s = 0, 0, instance.n_seekers
    while first < n_s:
        last = int(np.searchsorted(ptr, ptr[first] + _BLOCK_ENTRIES, side="right")) - 1
        last = min(max(last, first + 1), n_s)
        a, b = int(ptr[first]), int(ptr[last])
        lengths = np.diff(ptr[first : last + 1])
        position = np.arange(b - a, dtype=np.int64) - np.repeat(ptr[first:last] - a, lengths)
        want = position < np.repeat(wanted[first:last], lengths)
        o = seeker_offer[a:b][want]
        cap = capacity[o]
        blocks = (cap > 0) & ((held[o] < cap) | (offer_rank[a:b][want] < worst[o]))
        count += int(np.count_nonzero(blocks))
        first = last
    return count


@dataclass(frozen=True, eq=False)
class Matching:
    """The result of one method on one instance."""

    method: MethodName
    instance: Instance
    match_entry: IntArray

    @property
    def matched(self) -> npt.NDArray[np.bool_]:
        """Per seeker: matched or not."""
        out: npt.NDArray[np.bool_] = self.match_entry >= 0
        return out

    def offer_index(self) -> IntArray:
        """Per seeker: matched offer index or -1."""
        out = np.full(self.instance.n_seekers, -1, dtype=np.int64)
        m = self.matched
        out[m] = self.instance.seeker_offer[self.match_entry[m]]
        return out

    def seeker_rank(self) -> IntArray:
        """Per seeker: 1-based rank of the matched offer in the own list (0: unmatched)."""
        out = np.zeros(self.instance.n_seekers, dtype=np.int64)
        m = self.matched
        out[m] = self.match_entry[m] - self.instance.seeker_ptr[:-1][m] + 1
        return out

    def welfare(self) -> npt.NDArray[np.float64]:
        """Per seeker: welfare of the matched pair (0 when unmatched)."""
        out = np.zeros(self.instance.n_seekers, dtype=np.float64)
        m = self.matched
        out[m] = self.instance.welfare[self.match_entry[m]]
        return out

    def total_welfare(self) -> float:
        """Sum of pair welfare over matched seekers."""
        return float(self.welfare().sum())

    def blocking_pairs(self, *, compiled: bool = True) -> int:
        """Number of acceptable pairs that block this matching (0 for a stable one).

        ``compiled=False`` counts with NumPy, a block of seekers at a time (no numba import:
        for a process that matches once); both count the same."""
        inst = self.instance
        if self.match_entry.shape != (inst.n_seekers,):
            raise InputError("match_entry must have one value per seeker.")
        if not compiled:
            return count_blocking(inst, self.match_entry)
        return int(
            _count_blocking(
                inst.seeker_ptr, inst.seeker_offer, inst.offer_rank, inst.capacity, self.match_entry
            )
        )

    def offer_fill(self) -> IntArray:
        """Per offer: number of seekers placed."""
        out: IntArray = np.bincount(
            self.offer_index()[self.matched], minlength=self.instance.n_offers
        ).astype(np.int64)
        return out

    def pairs(self) -> pd.DataFrame:
        """One row per seeker: ``seeker_id, offer_id`` (missing when unmatched), ranks, welfare."""
        import pandas as pd

        inst = self.instance
        offer = self.offer_index()
        m = self.matched
        offer_id = pd.array([None] * inst.n_seekers, dtype="string")
        offer_id[m] = inst.offer_ids[offer[m]].astype(str)
        offer_rank = np.zeros(inst.n_seekers, dtype=np.int64)
        offer_rank[m] = inst.offer_rank[self.match_entry[m]].astype(np.int64) + 1
        return pd.DataFrame(
            {
                "seeker_id": pd.array(inst.seeker_ids.astype(str), dtype="string"),
                "offer_id": offer_id,
                "seeker_rank": pd.array(np.where(m, self.seeker_rank(), 0), dtype="Int64"),
                "offer_rank": pd.array(offer_rank, dtype="Int64"),
                "list_length": inst.list_length(),
                "welfare": self.welfare(),
            }
        ).assign(
            seeker_rank=lambda f: f["seeker_rank"].mask(~m),
            offer_rank=lambda f: f["offer_rank"].mask(~m),
        )


def overall_row(matching: Matching, *, light: bool = False) -> dict[str, object]:
    """The one-row summary of a matching as a dict (the ``overall`` table of :func:`summarise`);
    ``light`` counts the blocking pairs with NumPy (no numba import)."""
    m = matching.matched
    ranks = matching.seeker_rank()
    return {
        "method": matching.method,
        "seekers": matching.instance.n_seekers,
        "matched": int(m.sum()),
        "match_rate": float(m.mean()) if len(m) else 0.0,
        "positions": int(np.maximum(matching.instance.capacity, 0).sum()),
        "filled": int(m.sum()),
        "acceptable_pairs": matching.instance.n_pairs,
        "blocking_pairs": matching.blocking_pairs(compiled=not light),
        "total_welfare": matching.total_welfare(),
        "mean_rank": float(ranks[m].mean()) if m.any() else float("nan"),
        "first_choice": int((ranks == 1).sum()),
    }


def summarise(
    matching: Matching,
    *,
    groups: pd.DataFrame | None = None,
    by: Sequence[str] = (),
) -> dict[str, pd.DataFrame]:
    """Report tables of one matching.

    ``overall``: one row (method, seekers, matched, match_rate, positions, filled, blocking_pairs,
    total_welfare, mean_rank). With ``groups`` (one row per seeker, same order as the instance)
    and ``by`` (its columns, e.g. ``county_code``, ``status``): ``by_<column>`` tables with
    seekers, matched and match_rate per value.
    """
    import pandas as pd

    m = matching.matched
    overall = pd.DataFrame([overall_row(matching)])
    out = {"overall": overall}
    if by:
        if groups is None or len(groups) != matching.instance.n_seekers:
            raise InputError(
                "groups must have one row per seeker of the instance.",
                fix="Pass the seekers frame in instance order.",
            )
        frame = groups.reset_index(drop=True).assign(_matched=m, _welfare=matching.welfare())
        for column in by:
            table = (
                frame.groupby(column, dropna=False, observed=True)
                .agg(
                    seekers=("_matched", "size"),
                    matched=("_matched", "sum"),
                    welfare=("_welfare", "sum"),
                )
                .reset_index()
            )
            table["match_rate"] = table["matched"] / table["seekers"]
            out[f"by_{column}"] = table
    return out


def compare_methods(stable: Matching, optimal: Matching) -> pd.DataFrame:
    """What each method gives up against the other, as one table (metric, stable, optimal, note)."""
    import pandas as pd

    if stable.instance is not optimal.instance:
        raise InputError("compare_methods needs two matchings of the same instance.")
    rs, ro = stable.seeker_rank(), optimal.seeker_rank()
    ms, mo = stable.matched, optimal.matched
    both = ms & mo
    better_stable = int((both & (rs < ro)).sum() + (ms & ~mo).sum())
    better_optimal = int((both & (ro < rs)).sum() + (mo & ~ms).sum())
    rows = [
        ("matched", int(ms.sum()), int(mo.sum()), "seekers placed"),
        (
            "total_welfare",
            stable.total_welfare(),
            optimal.total_welfare(),
            "stable gives up welfare",
        ),
        (
            "blocking_pairs",
            stable.blocking_pairs(),
            optimal.blocking_pairs(),
            "optimal gives up stability",
        ),
        (
            "seekers_better_off",
            better_stable,
            better_optimal,
            "seekers who get a better-ranked offer (or any offer) under this method",
        ),
        (
            "mean_seeker_rank",
            float(rs[ms].mean()) if ms.any() else float("nan"),
            float(ro[mo].mean()) if mo.any() else float("nan"),
            "1 = first choice",
        ),
    ]
    return pd.DataFrame(rows, columns=["metric", "stable", "optimal", "note"])
