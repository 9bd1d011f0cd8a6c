"""Matching benchmarks: dongxi's methods against the ``matching`` package, 2017 and national scale.

Run from the repository root::

    uv run python benchmarks/bench_match.py peer        # vs matching (HospitalResident), smaller
    uv run python benchmarks/bench_match.py 2017        # 2017 instance end to end, both methods
    uv run python benchmarks/bench_match.py national    # 3 M seekers, 100 k enterprises (long)

Every part warms the compiled kernels up first (numba caches them on disk), reports the best of
``--repeat`` runs, the machine's load average (other jobs share the 2 cores) and peak memory
(``ru_maxrss`` of this process). ``--json FILE`` also writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from dongxi.market import Instance, JobPosts, deferred_acceptance, run_market, welfare_optimal
from dongxi.synth.market import market_2017, market_national


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times), result


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB → GiB


def _matching_package(inst: Instance) -> dict[str, str | None]:
    from matching.games import HospitalResident

    ptr, seekers = inst.offer_lists()
    resident_prefs = {
        str(inst.seeker_ids[s]): [
            str(inst.offer_ids[o])
            for o in inst.seeker_offer[inst.seeker_ptr[s] : inst.seeker_ptr[s + 1]]
        ]
        for s in range(inst.n_seekers)
        if inst.seeker_ptr[s + 1] > inst.seeker_ptr[s]
    }
    hospital_prefs, capacities = {}, {}
    for o in range(inst.n_offers):
        if ptr[o + 1] > ptr[o]:
            name = str(inst.offer_ids[o])
            hospital_prefs[name] = [str(inst.seeker_ids[s]) for s in seekers[ptr[o] : ptr[o + 1]]]
            capacities[name] = int(inst.capacity[o])
    game = HospitalResident.create_from_dictionaries(resident_prefs, hospital_prefs, capacities)
    solved = game.solve(optimal="resident")
    out: dict[str, str | None] = {str(s): None for s in inst.seeker_ids}
    for hospital, residents in solved.items():
        for resident in residents:
            out[resident.name] = hospital.name
    return out


def _deep(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a thread with a large stack: ``matching`` deep-copies its player graph
    recursively, which overflows Python's default recursion limit on instances of this size."""
    import sys
    import threading

    box: dict[str, Any] = {}

    def target() -> None:
        box["value"] = fn()

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(1024 * 1024 * 1024)
    try:
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    finally:
        sys.setrecursionlimit(old)
        threading.stack_size(0)
    return box["value"]


def peer(n_seekers: int, repeat: int) -> dict[str, Any]:
    """Same instance, dongxi's compiled DA vs ``matching``'s resident-optimal solver."""
    seekers, offers = market_2017(seed=1, n_seekers=n_seekers)
    inst, _, _ = JobPosts().instance(seekers, offers, seed=1)
    deferred_acceptance(inst)  # warm-up (load the compiled kernel)
    ours_best, ours_median, entry = _best(lambda: deferred_acceptance(inst), repeat)
    t = time.perf_counter()
    theirs = _deep(lambda: _matching_package(inst))
    theirs_time = time.perf_counter() - t
    offer_of = np.where(entry >= 0, inst.seeker_offer[np.maximum(entry, 0)], -1)
    ours = {
        str(inst.seeker_ids[s]): (str(inst.offer_ids[offer_of[s]]) if offer_of[s] >= 0 else None)
        for s in range(inst.n_seekers)
    }
    return {
        "seekers": inst.n_seekers,
        "offers": inst.n_offers,
        "positions": int(inst.capacity.sum()),
        "acceptable_pairs": inst.n_pairs,
        "dongxi_da_seconds": ours_best,
        "dongxi_da_median_seconds": ours_median,
        "matching_seconds": theirs_time,
        "ratio": theirs_time / ours_best,
        "identical": ours == theirs,
    }


def market2017(repeat: int) -> dict[str, Any]:
    """The 2017 instance end to end (acceptability, preferences, stable match, report)."""
    seekers, offers = market_2017(seed=1)
    run_market(seekers, offers, seed=1, methods=("stable",))  # warm-up
    best, median, result = _best(
        lambda: run_market(seekers, offers, seed=1, methods=("stable",)), repeat
    )
    cpu = time.process_time()
    run_market(seekers, offers, seed=1, methods=("stable",))
    e2e_cpu = time.process_time() - cpu
    inst = result.instance
    da_best, _, _ = _best(lambda: deferred_acceptance(inst), repeat)
    opt_best, _, opt = _best(lambda: welfare_optimal(inst), max(1, repeat // 2))
    stable_overall = result.tables["overall"].iloc[0]
    from dongxi.market import Matching

    optimal = Matching("optimal", inst, opt)
    return {
        "seekers": inst.n_seekers,
        "offers": inst.n_offers,
        "positions": int(inst.capacity.sum()),
        "acceptable_pairs": inst.n_pairs,
        "end_to_end_seconds": best,
        "end_to_end_median_seconds": median,
        "end_to_end_cpu_seconds": e2e_cpu,
        "steps_last_run": result.tables["timings"].set_index("step")["seconds"].to_dict(),
        "da_seconds": da_best,
        "optimal_seconds": opt_best,
        "optimal_over_da": opt_best / da_best,
        "stable_matched": int(stable_overall["matched"]),
        "optimal_matched": int(optimal.matched.sum()),
        "stable_welfare": float(stable_overall["total_welfare"]),
        "optimal_welfare": optimal.total_welfare(),
        "optimal_blocking_pairs": optimal.blocking_pairs(),
    }


def national(n_seekers: int, n_enterprises: int) -> dict[str, Any]:
    """National instance once: tables → acceptability/preferences → stable match → report."""
    t = time.perf_counter()
    seekers, offers = market_national(seed=1, n_seekers=n_seekers, n_enterprises=n_enterprises)
    generate = time.perf_counter() - t
    t, cpu = time.perf_counter(), time.process_time()
    result = run_market(seekers, offers, seed=1, methods=("stable",))
    total, total_cpu = time.perf_counter() - t, time.process_time() - cpu
    overall = result.tables["overall"].iloc[0]
    return {
        "seekers": n_seekers,
        "enterprises": n_enterprises,
        "positions": int(offers["positions"].sum()),
        "acceptable_pairs": result.instance.n_pairs,
        "pairs_per_seeker": result.instance.n_pairs / n_seekers,
        "generate_seconds": generate,
        "end_to_end_seconds": total,
        "end_to_end_cpu_seconds": total_cpu,
        "steps": result.tables["timings"].set_index("step")["seconds"].to_dict(),
        "matched": int(overall["matched"]),
        "blocking_pairs": int(overall["blocking_pairs"]),
        "peak_rss_gib": _peak_gb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["peer", "2017", "national"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--peer-seekers", type=int, default=3000)
    parser.add_argument("--seekers", type=int, default=3_000_000)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.part == "peer":
        figures = peer(args.peer_seekers, args.repeat)
    elif args.part == "2017":
        figures = market2017(args.repeat)
    else:
        figures = national(args.seekers, args.enterprises)
    figures["load_average"] = os.getloadavg()
    figures["peak_rss_gib"] = _peak_gb()
    text = json.dumps(figures, indent=1, default=float)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
