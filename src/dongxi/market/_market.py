"""One market run: needs and offers in, both engines, report tables and explanations out."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

import numpy as np
import pandas as pd

from dongxi.errors import InputError
from dongxi.market._instance import Instance
from dongxi.market._jobs import JobPosts, OfferArrays, SeekerArrays
from dongxi.market._optimal import welfare_optimal
from dongxi.market._reasons import REASON_BY_CODE, decode_reasons
from dongxi.market._report import Matching, compare_engines, summarise
from dongxi.market._stable import deferred_acceptance

__all__ = ["MarketResult", "run_market"]

log = logging.getLogger(__name__)
EngineName = Literal["stable", "optimal"]


@dataclass(eq=False)
class MarketResult:
    """Everything one run produced. ``tables`` holds the report as DataFrames:

    - ``overall``: one row per engine (seekers, matched, match_rate, positions, blocking_pairs,
      total_welfare, mean_rank, first_choice);
    - ``by_county`` / ``by_status``: seekers, matched, match_rate, welfare per value and engine;
    - ``comparison``: what each engine gives up against the other (when both ran);
    - ``timings``: seconds per step.
    """

    seekers: pd.DataFrame
    offers: pd.DataFrame
    instance: Instance
    matchings: dict[str, Matching]
    tables: dict[str, pd.DataFrame]
    seed: int
    kind: JobPosts
    _seeker_arrays: SeekerArrays = field(repr=False)
    _offer_arrays: OfferArrays = field(repr=False)

    def proposals(self, engine: EngineName = "stable") -> pd.DataFrame:
        """Matched pairs of one engine: seeker_id, offer_id, seeker_rank, offer_rank, welfare."""
        pairs = self._matching(engine).pairs()
        return pairs[pairs["offer_id"].notna()].reset_index(drop=True)

    def _matching(self, engine: str) -> Matching:
        if engine not in self.matchings:
            raise InputError(
                f"engine {engine!r} was not run.", fix=f"Use one of {sorted(self.matchings)}."
            )
        return self.matchings[engine]

    def explain(self, seeker_ids: Sequence[str], *, engine: EngineName = "stable") -> pd.DataFrame:
        """Why each named seeker got what they got.

        One row per offer the seeker would take (passes the seeker's own place, wage and
        dormitory rules), best first by the seeker's score, down to and including the matched
        offer (all of them when unmatched). Columns: ``seeker_id, offer_id, preference``
        (1 = the seeker's favourite), ``list_rank`` (rank among mutually acceptable offers),
        ``outcome`` (``matched``, ``not_acceptable``, ``full``, ``not_chosen``, ``no_capacity``),
        ``reason_codes``, ``reason_zh``, ``reason_en`` and the score parts (``seeker_score, wage,
        subsidy, living, travel, sector_bonus, offer_score, priority_tier, fit``).
        """
        matching = self._matching(engine)
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
                elif engine == "stable" or fill[o] >= cap[o]:
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
                        "seeker_score": rec.seeker_score,
                        "wage": rec.wage,
                        "subsidy": rec.subsidy,
                        "living": rec.living,
                        "travel": rec.travel,
                        "sector_bonus": rec.sector_bonus,
                        "offer_score": rec.offer_score,
                        "priority_tier": rec.priority_tier,
                        "fit": rec.fit,
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
    kind: JobPosts | None = None,
    engines: Sequence[EngineName] = ("stable", "optimal"),
) -> MarketResult:
    """Acceptability, preferences, the chosen engines and the report, in one call."""
    kind = kind or JobPosts()
    unknown = set(engines) - {"stable", "optimal"}
    if unknown or not engines:
        raise InputError(
            "unknown engine.", value=sorted(unknown), fix="Use 'stable' and/or 'optimal'."
        )
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    instance, s_arrays, o_arrays = kind.instance(seekers, offers, seed=seed)
    timings["acceptability_and_preferences"] = time.perf_counter() - t0
    matchings: dict[str, Matching] = {}
    for engine in engines:
        t = time.perf_counter()
        entry = deferred_acceptance(instance) if engine == "stable" else welfare_optimal(instance)
        matchings[engine] = Matching(engine, instance, entry)
        timings[engine] = time.perf_counter() - t
    t = time.perf_counter()
    groups = seekers.reset_index(drop=True)
    by = [c for c in ("county_code", "status") if c in groups.columns]
    overall: list[pd.DataFrame] = []
    grouped: dict[str, list[pd.DataFrame]] = {c: [] for c in by}
    for name_, matching in matchings.items():
        tables = summarise(matching, groups=groups, by=by)
        overall.append(tables["overall"])
        for c in by:
            grouped[c].append(tables[f"by_{c}"].assign(engine=name_))
    report = {"overall": pd.concat(overall, ignore_index=True)}
    for c in by:
        name = "by_county" if c == "county_code" else f"by_{c}"
        report[name] = pd.concat(grouped[c], ignore_index=True)
    if "stable" in matchings and "optimal" in matchings:
        report["comparison"] = compare_engines(matchings["stable"], matchings["optimal"])
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
