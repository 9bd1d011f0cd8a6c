"""The two-sided market (精准帮扶): needs meet offers, stable and welfare-optimal matching.

Pure functions (tables in, tables out). An :class:`Instance` holds the mutually acceptable
pairs, ranked on both sides, as CSR arrays. Two matching **methods** (:data:`MethodName`):
``stable`` — :func:`deferred_acceptance`, the seeker-optimal stable matching — and ``optimal`` —
:func:`welfare_optimal`, the assignment of maximum total welfare (OR-Tools min-cost flow). Kinds
of offers (job posts, training seats, workshop places) decide acceptability and scores; the
methods do not care which kind they match.
"""

from dongxi.market._instance import Instance, build_instance, rank_key, rank_welfare
from dongxi.market._jobs import EDUCATION_LEVEL, LABOUR_LEVEL, PRIORITY_TIER, JobPosts
from dongxi.market._market import MarketResult, run_market
from dongxi.market._optimal import welfare_optimal
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
from dongxi.market._stable import deferred_acceptance

__all__ = [
    "ACTORS",
    "EDUCATION_LEVEL",
    "FINAL_STATES",
    "INITIAL_STATE",
    "KEPT_STATES",
    "LABOUR_LEVEL",
    "METHODS",
    "PRIORITY_TIER",
    "REASONS",
    "STATES",
    "STRUCK_STATES",
    "TRANSITIONS",
    "Instance",
    "JobPosts",
    "MarketResult",
    "Matching",
    "MethodName",
    "RankListMatch",
    "Reason",
    "blocking_mask",
    "build_instance",
    "carried_states",
    "check_transition",
    "compare_methods",
    "current_states",
    "decode_reasons",
    "deferred_acceptance",
    "instance_from_rank_lists",
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
