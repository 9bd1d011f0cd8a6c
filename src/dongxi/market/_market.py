"""One market run: needs and offers in, both methods, report tables and explanations out."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from dongxi.errors import InputError
from dongxi.market._instance import Instance
from dongxi.market._jobs import JobPosts
from dongxi.market._kinds import TrainingSeats, WorkshopPlaces
from dongxi.market._reasons import REASON_BY_CODE, Reason, decode_reasons
from dongxi.market._report import Matching, MethodName, compare_methods, method_name, summarise
from dongxi.market._rounds import rematch
from dongxi.market._solve import solve

__all__ = ["KIND_CLASSES", "Kind", "MarketResult", "kind_named", "run_market"]

#: A kind of offer: its rules, scores and explanations.
Kind = JobPosts | TrainingSeats | WorkshopPlaces
#: The kinds of offer the market matches, by the offer kind's code (``market_offers.kind``),
#: each with the need kind it is matched with (``need_kind``): job posts and workshop places
#: with employment needs, training seats with training needs.
KIND_CLASSES: dict[str, type[JobPosts] | type[TrainingSeats] | type[WorkshopPlaces]] = {
    "job": JobPosts,
    "training": TrainingSeats,
    "workshop": WorkshopPlaces,
}


def kind_named(name: str) -> Kind:
    """The kind of offer of that code, with its default parameters (``InputError`` otherwise)."""
    if name not in KIND_CLASSES:
        raise InputError(
            "this kind of offer is not matched.",
            column="kind",
            value=name,
            fix=f"Use one of: {', '.join(KIND_CLASSES)}.",
        )
    return KIND_CLASSES[name]()


log = logging.getLogger(__name__)


@dataclass(eq=False)
class MarketResult:
    """Everything one run produced. ``tables`` holds the report as DataFrames:

    - ``overall``: one row per method (seekers, matched, match_rate, positions, blocking_pairs,
      total_welfare, mean_rank, first_choice);
    - ``by_county`` / ``by_status``: seekers, matched, match_rate, welfare per value and method;
    - ``comparison``: what each method gives up against the other (when both ran);
    - ``timings``: seconds per step.
    """

    seekers: pd.DataFrame
    offers: pd.DataFrame
    instance: Instance
    matchings: dict[str, Matching]
    tables: dict[str, pd.DataFrame]
    seed: int
    kind: Kind
    _seeker_arrays: Any = field(repr=False)
    _offer_arrays: Any = field(repr=False)

    def proposals(self, method: MethodName = "stable") -> pd.DataFrame:
        """Matched pairs of one method: seeker_id, offer_id, seeker_rank, offer_rank, welfare."""
        pairs = self._matching(method).pairs()
        return pairs[pairs["offer_id"].notna()].reset_index(drop=True)

    def _matching(self, method: str) -> Matching:
        if method not in self.matchings:
            raise InputError(
                f"method {method!r} was not run.", fix=f"Use one of {sorted(self.matchings)}."
            )
        return self.matchings[method]

    def unmet_wishes(self, seeker_ids: Sequence[str]) -> dict[str, list[Reason]]:
        """For the named seekers whose own rules exclude every offer of the kind they could
        take (a training seat, a workshop of their county): the rules the nearest of those
        offers fails (``hours_too_long``, ``place_not_wanted``, …). Empty for job posts (whose
        candidates are every post of the country) and for seekers not in that case."""
        if not isinstance(self.kind, TrainingSeats | WorkshopPlaces):
            return {}
        index = pd.Index(self.instance.seeker_ids)
        pos = index.get_indexer(pd.Index(pd.unique(np.asarray(list(seeker_ids), dtype=object))))
        pos = pos[pos >= 0].astype(np.int64)
        misses = self.kind.nearest_misses(self._seeker_arrays, pos)
        return {str(self.instance.seeker_ids[k]): decode_reasons(b) for k, b in misses.items()}

    def explain(self, seeker_ids: Sequence[str], *, method: MethodName = "stable") -> pd.DataFrame:
        """Why each named seeker got what they got.

        One row per offer the seeker would take (passes the seeker's own rules: for job posts
        place, wage and dormitory), best first by the seeker's score, down to and including the
        matched offer (all of them when unmatched). Columns: ``seeker_id, offer_id, preference``
        (1 = the seeker's favourite), ``list_rank`` (rank among mutually acceptable offers),
        ``outcome`` (``matched``, ``not_acceptable``, ``full``, ``not_chosen``, ``no_capacity``),
        ``reason_codes``, ``reason_zh``, ``reason_en`` and the kind's score parts (job posts:
        ``seeker_score, wage, subsidy, living, travel, sector_bonus, offer_score, priority_tier,
        fit``; the other kinds: ``docs/market.md``).
        """
        matching = self._matching(method)
        index = pd.Index(self.instance.seeker_ids)
        pos = index.get_indexer(pd.Index(pd.unique(np.asarray(list(seeker_ids), dtype=object))))
        if (pos < 0).any():
            raise InputError(
                "unknown seeker.",
                column="seeker_id",
                value=f"{int((pos < 0).sum())} identifier(s)",
                fix="Name seekers of this run.",
            )
        considered = self.kind.considered(
            self._seeker_arrays,
            self._offer_arrays,
            pos.astype(np.int64),
            seed=self.seed,
            n_seekers=self.instance.n_seekers,
            n_offers=self.instance.n_offers,
        )
        considered = considered.sort_values(["seeker", "seeker_key"], kind="stable")
        parts = [
            c for c in considered.columns if c not in ("seeker_key", "seeker", "offer", "reasons")
        ]
        offer_of = matching.offer_index()
        fill = matching.offer_fill()
        cap = self.instance.capacity
        rows = []
        for s_key, group in considered.groupby("seeker", sort=False):
            s = int(cast(int, s_key))
            matched = int(offer_of[s])
            list_rank = 0
            for preference, rec in enumerate(group.itertuples(index=False), start=1):
                o = int(cast(int, rec.offer))
                reasons = decode_reasons(int(cast(int, rec.reasons)))
                if not reasons:
                    list_rank += 1
                if o == matched:
                    outcome, codes = "matched", [REASON_BY_CODE["matched"]]
                elif reasons:
                    outcome, codes = "not_acceptable", reasons
                elif cap[o] <= 0:
                    outcome, codes = "no_capacity", [REASON_BY_CODE["no_capacity"]]
                elif method == "stable" or fill[o] >= cap[o]:
                    outcome, codes = "full", [REASON_BY_CODE["full"]]
                else:
                    outcome, codes = "not_chosen", [REASON_BY_CODE["not_chosen"]]
                prefix_zh = "不可接受：" if outcome == "not_acceptable" else ""
                prefix_en = "not acceptable because " if outcome == "not_acceptable" else ""
                rows.append(
                    {
                        "seeker_id": str(self.instance.seeker_ids[s]),
                        "offer_id": str(self.instance.offer_ids[o]),
                        "preference": preference,
                        "list_rank": list_rank if not reasons else None,
                        "outcome": outcome,
                        "reason_codes": ";".join(r.code for r in codes),
                        "reason_zh": prefix_zh + "；".join(r.zh for r in codes),
                        "reason_en": prefix_en + "; ".join(r.en for r in codes),
                        **{p: getattr(rec, p) for p in parts},
                    }
                )
                if o == matched:
                    break
        out = pd.DataFrame(rows)
        if out.empty:
            return pd.DataFrame(columns=["seeker_id", "offer_id", "preference", "outcome"])
        out["list_rank"] = out["list_rank"].astype("Int64")
        return out


def run_market(
    seekers: pd.DataFrame,
    offers: pd.DataFrame,
    *,
    seed: int,
    kind: Kind | None = None,
    methods: Sequence[MethodName] = ("stable", "optimal"),
    history: pd.DataFrame | None = None,
) -> MarketResult:
    """Acceptability, preferences, the chosen methods and the report, in one call.

    ``history`` (the current state of every pair of earlier rounds, ``seeker_id, offer_id,
    state``, see :func:`dongxi.market.current_states`) makes this the next round: each method
    keeps the accepted placements and matches the others again without the struck pairs
    (:func:`dongxi.market.rematch`); the report describes the whole round, kept pairs included.
    """
    kind = kind or JobPosts()
    if not methods:
        raise InputError("no matching method chosen.", fix="Use 'stable' and/or 'optimal'.")
    methods = [method_name(m) for m in methods]
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    instance, s_arrays, o_arrays = kind.instance(seekers, offers, seed=seed)
    timings["acceptability_and_preferences"] = time.perf_counter() - t0
    matchings: dict[str, Matching] = {}
    for method in methods:
        t = time.perf_counter()
        if history is not None:
            matchings[method], _ = rematch(instance, history, method=method)
        else:
            matchings[method] = Matching(method, instance, solve(instance, method))
        timings[method] = time.perf_counter() - t
    t = time.perf_counter()
    groups = seekers.reset_index(drop=True)
    by = [c for c in ("county_code", "status") if c in groups.columns]
    overall: list[pd.DataFrame] = []
    grouped: dict[str, list[pd.DataFrame]] = {c: [] for c in by}
    for name_, matching in matchings.items():
        tables = summarise(matching, groups=groups, by=by)
        overall.append(tables["overall"])
        for c in by:
            grouped[c].append(tables[f"by_{c}"].assign(method=name_))
    report = {"overall": pd.concat(overall, ignore_index=True)}
    for c in by:
        name = "by_county" if c == "county_code" else f"by_{c}"
        report[name] = pd.concat(grouped[c], ignore_index=True)
    if "stable" in matchings and "optimal" in matchings:
        report["comparison"] = compare_methods(matchings["stable"], matchings["optimal"])
    timings["report"] = time.perf_counter() - t
    report["timings"] = pd.DataFrame({"step": list(timings), "seconds": list(timings.values())})
    log.info(
        "market run: %d seekers, %d offers, %d pairs", len(seekers), len(offers), instance.n_pairs
    )
    return MarketResult(
        seekers=seekers,
        offers=offers,
        instance=instance,
        matchings=matchings,
        tables=report,
        seed=seed,
        kind=kind,
        _seeker_arrays=s_arrays,
        _offer_arrays=o_arrays,
    )
