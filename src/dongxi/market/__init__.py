"""The two-sided market (精准帮扶): needs meet offers, stable and welfare-optimal matching.

Pure functions (tables in, tables out). An :class:`Instance` holds the mutually acceptable
pairs, ranked on both sides, as CSR arrays. Two matching **methods** (:data:`MethodName`):
``stable`` — :func:`deferred_acceptance`, the seeker-optimal stable matching (compiled; or
:func:`deferred_acceptance_rounds`, NumPy only, for a process that matches once) — and
``optimal`` — :func:`welfare_optimal`, the assignment of maximum total welfare (OR-Tools
min-cost flow). Kinds of offers (job posts, training seats, workshop places) decide
acceptability and scores; the methods do not care which kind they match.

The names are loaded on first use (PEP 562), so that one light module (the rank-list files of
:mod:`dongxi.market._rankfiles`) can be used without pandas, SciPy, OR-Tools and numba (whose
kernels are compiled on first call, :mod:`dongxi.market._jit`).
"""

from typing import TYPE_CHECKING

from dongxi._lazy import lazy_names

if TYPE_CHECKING:
    from dongxi.market._instance import Instance, build_instance, rank_key, rank_welfare
    from dongxi.market._jobs import EDUCATION_LEVEL, LABOUR_LEVEL, PRIORITY_TIER, JobPosts
    from dongxi.market._kinds import TrainingSeats, WorkshopPlaces
    from dongxi.market._market import KIND_CLASSES, Kind, MarketResult, kind_named, run_market
    from dongxi.market._optimal import welfare_optimal
    from dongxi.market._rankfiles import RANK_LIST_REASONS_ZH, RankFileMatch, match_rank_files
    from dongxi.market._ranklists import (
        RankListMatch,
        instance_from_rank_lists,
        match_rank_lists,
        unmatched_reasons,
    )
    from dongxi.market._reasons import REASONS, Reason, decode_reasons
    from dongxi.market._report import (
        METHODS,
        Matching,
        MethodName,
        blocking_mask,
        compare_methods,
        method_name,
        summarise,
    )
    from dongxi.market._rounds import (
        ACTORS,
        FINAL_STATES,
        INITIAL_STATE,
        KEPT_STATES,
        STATES,
        STRUCK_STATES,
        TRANSITIONS,
        carried_states,
        check_transition,
        current_states,
        rematch,
    )
    from dongxi.market._solve import solve
    from dongxi.market._stable import deferred_acceptance, deferred_acceptance_rounds

__all__ = [
    "ACTORS",
    "EDUCATION_LEVEL",
    "FINAL_STATES",
    "INITIAL_STATE",
    "KEPT_STATES",
    "KIND_CLASSES",
    "LABOUR_LEVEL",
    "METHODS",
    "PRIORITY_TIER",
    "RANK_LIST_REASONS_ZH",
    "REASONS",
    "STATES",
    "STRUCK_STATES",
    "TRANSITIONS",
    "Instance",
    "JobPosts",
    "Kind",
    "MarketResult",
    "Matching",
    "MethodName",
    "RankFileMatch",
    "RankListMatch",
    "Reason",
    "TrainingSeats",
    "WorkshopPlaces",
    "blocking_mask",
    "build_instance",
    "carried_states",
    "check_transition",
    "compare_methods",
    "current_states",
    "decode_reasons",
    "deferred_acceptance",
    "deferred_acceptance_rounds",
    "instance_from_rank_lists",
    "kind_named",
    "match_rank_files",
    "match_rank_lists",
    "method_name",
    "rank_key",
    "rank_welfare",
    "rematch",
    "run_market",
    "solve",
    "summarise",
    "unmatched_reasons",
    "welfare_optimal",
]

_WHERE = {
    "RANK_LIST_REASONS_ZH": "dongxi.market._rankfiles",
    "ACTORS": "dongxi.market._rounds",
    "EDUCATION_LEVEL": "dongxi.market._jobs",
    "FINAL_STATES": "dongxi.market._rounds",
    "INITIAL_STATE": "dongxi.market._rounds",
    "Instance": "dongxi.market._instance",
    "JobPosts": "dongxi.market._jobs",
    "KEPT_STATES": "dongxi.market._rounds",
    "KIND_CLASSES": "dongxi.market._market",
    "Kind": "dongxi.market._market",
    "TrainingSeats": "dongxi.market._kinds",
    "WorkshopPlaces": "dongxi.market._kinds",
    "kind_named": "dongxi.market._market",
    "LABOUR_LEVEL": "dongxi.market._jobs",
    "METHODS": "dongxi.market._report",
    "MarketResult": "dongxi.market._market",
    "Matching": "dongxi.market._report",
    "MethodName": "dongxi.market._report",
    "PRIORITY_TIER": "dongxi.market._jobs",
    "REASONS": "dongxi.market._reasons",
    "RankFileMatch": "dongxi.market._rankfiles",
    "RankListMatch": "dongxi.market._ranklists",
    "Reason": "dongxi.market._reasons",
    "STATES": "dongxi.market._rounds",
    "STRUCK_STATES": "dongxi.market._rounds",
    "TRANSITIONS": "dongxi.market._rounds",
    "blocking_mask": "dongxi.market._report",
    "build_instance": "dongxi.market._instance",
    "carried_states": "dongxi.market._rounds",
    "check_transition": "dongxi.market._rounds",
    "compare_methods": "dongxi.market._report",
    "current_states": "dongxi.market._rounds",
    "decode_reasons": "dongxi.market._reasons",
    "deferred_acceptance": "dongxi.market._stable",
    "deferred_acceptance_rounds": "dongxi.market._stable",
    "instance_from_rank_lists": "dongxi.market._ranklists",
    "match_rank_files": "dongxi.market._rankfiles",
    "match_rank_lists": "dongxi.market._ranklists",
    "method_name": "dongxi.market._report",
    "rank_key": "dongxi.market._instance",
    "rank_welfare": "dongxi.market._instance",
    "rematch": "dongxi.market._rounds",
    "run_market": "dongxi.market._market",
    "solve": "dongxi.market._solve",
    "summarise": "dongxi.market._report",
    "unmatched_reasons": "dongxi.market._ranklists",
    "welfare_optimal": "dongxi.market._optimal",
}


__getattr__, __dir__ = lazy_names(globals(), _WHERE)
