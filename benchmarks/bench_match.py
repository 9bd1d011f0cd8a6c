"""Matching benchmarks: dongxi's methods against the ``matching`` package, 2017 and national scale.

Run from the repository root::

    uv run python benchmarks/bench_match.py peer        # vs matching (HospitalResident), smaller
    uv run python benchmarks/bench_match.py 2017        # 2017 instance end to end, both methods
    uv run python benchmarks/bench_match.py national    # 3 M seekers, 100 k enterprises (long)
    uv run python benchmarks/bench_match.py cli         # `dongxi match` on 2017 rank-list files

``cli`` writes the 2017 instance as rank-list files (CSV and Parquet) and times the whole command
line — start-up, reading, matching, writing ``--out`` — as fresh processes, hyperfine-style
(``--warmup`` runs first, then ``--runs``, round by round with the baseline's runs interleaved;
wall time, user and system CPU time and peak memory of each process, from ``wait4``), against the
previous approach measured in the same run: ``--baseline-src DIR`` runs the ``src`` folder of
another commit (for example ``git archive 7c0dfca src | tar -x -C /tmp/base``, then
``--baseline-src /tmp/base/src``) on the same files, otherwise the careful reader of this
checkout (pandas, what every file went through before). Byte-code is compiled first and the
runs go without ``PYTHONDONTWRITEBYTECODE``; the outputs are compared (``identical_output``).

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
import sys
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


def _rank_files(folder: str) -> dict[str, Any]:
    """The 2017 instance as rank-list files: each list written together, best first."""
    import pandas as pd

    seekers, offers = market_2017(seed=1)
    inst, _, _ = JobPosts().instance(seekers, offers, seed=1)
    seeker = np.repeat(np.arange(inst.n_seekers), np.diff(inst.seeker_ptr))
    s_rank = np.arange(inst.n_pairs) - inst.seeker_ptr[seeker] + 1
    ptr, listed = inst.offer_lists()
    offer = np.repeat(np.arange(inst.n_offers), np.diff(ptr))
    o_rank = np.arange(len(listed)) - ptr[offer] + 1
    frames = {
        "s": pd.DataFrame(
            {
                "seeker_id": inst.seeker_ids[seeker],
                "offer_id": inst.offer_ids[inst.seeker_offer],
                "rank": s_rank,
            }
        ),
        "o": pd.DataFrame(
            {
                "offer_id": inst.offer_ids[offer],
                "seeker_id": inst.seeker_ids[listed],
                "rank": o_rank,
            }
        ),
        "c": pd.DataFrame({"offer_id": inst.offer_ids, "capacity": inst.capacity}),
    }
    paths: dict[str, Any] = {}
    for suffix in ("csv", "parquet"):
        for name, frame in frames.items():
            path = os.path.join(folder, f"{name}.{suffix}")
            if suffix == "csv":
                frame.to_csv(path, index=False)
            else:
                frame.astype({c: str for c in ("seeker_id", "offer_id") if c in frame}).to_parquet(
                    path, index=False
                )
            paths[f"{name}.{suffix}"] = path
    paths["pairs"] = 2 * inst.n_pairs
    paths["csv_mb"] = sum(os.path.getsize(paths[f"{n}.csv"]) for n in "soc") / 1e6
    return paths


_CAREFUL = (
    "import sys\n"
    "from pathlib import Path\n"
    "from dongxi.services import Principal\n"
    "from dongxi.services.matching import match_rank_lists\n"
    "from dongxi.tables import write_table\n"
    "s, o, c, out = map(Path, sys.argv[1:5])\n"
    "r = match_rank_lists(Principal.local_operator(), s, o, c, method='stable')\n"
    "write_table(r.pairs, out)\n"
)


#: Runs a command (argv[1:]) as its child and prints wall, user, system seconds and peak KiB:
#: a small launcher, because the peak memory (``ru_maxrss``) of a child forked from this
#: benchmark would count this process's memory (the 2017 instance is built here first).
_LAUNCH = """
import os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t
print(wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def _run(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """One fresh process: wall time, user and system CPU time and peak memory."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _LAUNCH, *command],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall, user, system, peak, status = done.stdout.split()
    if int(status):
        raise RuntimeError(f"{command} failed: {done.stderr[-2000:]}")
    return {
        "wall": float(wall),
        "user": float(user),
        "system": float(system),
        "peak_mib": int(peak) / 1024,
    }


def _summary(samples: list[dict[str, float]], load: list[float]) -> dict[str, Any]:
    walls = [s["wall"] for s in samples]
    cpu = [s["user"] + s["system"] for s in samples]
    return {
        # CPU seconds (user + system) of the process: less sensitive to other jobs than wall time
        "median_cpu_seconds": statistics.median(cpu),
        "min_cpu_seconds": min(cpu),
        "median_user_seconds": statistics.median(s["user"] for s in samples),
        "median_system_seconds": statistics.median(s["system"] for s in samples),
        "median_seconds": statistics.median(walls),
        "mean_seconds": statistics.mean(walls),
        "sd_seconds": statistics.stdev(walls) if len(walls) > 1 else 0.0,
        "min_seconds": min(walls),
        "max_seconds": max(walls),
        "median_peak_mib": statistics.median(s["peak_mib"] for s in samples),
        "runs": len(samples),
        "load_average_1min_at_runs": load,
    }


def _timed_rounds(
    commands: dict[str, tuple[list[str], dict[str, str], int]], warmup: int
) -> dict[str, dict[str, Any]]:
    """Every command (name → command, environment, runs) ``warmup`` times untimed, then timed
    round by round, interleaved (a change of load touches all alike)."""
    for command, env, _ in commands.values():
        for _ in range(warmup):
            _run(command, env)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
    load: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(max(runs for _, _, runs in commands.values())):
        for name, (command, env, runs) in commands.items():
            if round_ < runs:
                load[name].append(os.getloadavg()[0])
                samples[name].append(_run(command, env))
    return {name: _summary(samples[name], load[name]) for name in commands}


def _compiled(src: str) -> None:
    """Byte-code for every module under ``src`` (this environment may set
    ``PYTHONDONTWRITEBYTECODE``, under which each run would compile ~1,300 modules again; the
    timed runs go without it)."""
    import compileall

    compileall.compile_dir(src, quiet=1)


def cli(
    folder: str, warmup: int, runs: int, baseline_runs: int, baseline_src: str | None
) -> dict[str, Any]:
    """``dongxi match`` with rank-list files as fresh processes, against the previous approach."""
    import dongxi

    os.makedirs(folder, exist_ok=True)
    files = _rank_files(folder)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the timed runs use (and keep) byte-code
    here = os.path.dirname(os.path.dirname(dongxi.__file__))
    _compiled(here)  # the libraries' byte-code is written by the warm-up runs
    figures: dict[str, Any] = {
        "ranked_pairs": files["pairs"],
        "csv_megabytes": files["csv_mb"],
        "src": here,
    }

    def match(suffix: str, out: str) -> list[str]:
        return [
            sys.executable, "-m", "dongxi", "match",
            "--seeker-ranks", files[f"s.{suffix}"],
            "--offer-ranks", files[f"o.{suffix}"],
            "--capacities", files[f"c.{suffix}"],
            "--out", os.path.join(folder, out),
        ]  # fmt: skip

    commands = {
        "dongxi_match_csv": (match("csv", "out.csv"), env, runs),
        "dongxi_match_parquet": (match("parquet", "out-parquet.csv"), env, runs),
    }
    if baseline_src:
        _compiled(baseline_src)
        base_env = {**env, "PYTHONPATH": baseline_src}
        commands["baseline_csv"] = (match("csv", "out-baseline.csv"), base_env, baseline_runs)
        commands["baseline_parquet"] = (
            match("parquet", "out-baseline-parquet.csv"),
            base_env,
            baseline_runs,
        )
        label = f"previous dongxi match ({baseline_src})"
    else:
        careful = [sys.executable, "-c", _CAREFUL, files["s.csv"], files["o.csv"], files["c.csv"]]
        commands["baseline_csv"] = (
            [*careful, os.path.join(folder, "out-baseline.csv")],
            env,
            baseline_runs,
        )
        label = "careful reader (pandas) of this checkout"
    figures.update(_timed_rounds(commands, warmup))
    figures["baseline_is"] = label

    def text(name: str) -> str:
        with open(os.path.join(folder, name), encoding="utf-8-sig") as handle:
            return handle.read().replace("\r\n", "\n")

    ours = text("out.csv")
    figures["identical_output"] = ours == text("out-baseline.csv")
    figures["identical_output_parquet"] = ours == text("out-parquet.csv")
    if baseline_src:
        figures["identical_output_parquet"] &= ours == text("out-baseline-parquet.csv")
    for suffix in ("csv", "parquet"):
        base = figures.get(f"baseline_{suffix}")
        if base is None:
            continue
        new = figures[f"dongxi_match_{suffix}"]
        figures[f"ratio_baseline_over_{suffix}"] = base["median_seconds"] / new["median_seconds"]
        figures[f"cpu_ratio_baseline_over_{suffix}"] = (
            base["median_cpu_seconds"] / new["median_cpu_seconds"]
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["peer", "2017", "national", "cli"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--peer-seekers", type=int, default=3000)
    parser.add_argument("--seekers", type=int, default=3_000_000)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--json", default=None)
    parser.add_argument("--folder", default="/tmp/dongxi-bench-match")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--baseline-src", default=None)
    args = parser.parse_args()
    if args.part == "peer":
        figures = peer(args.peer_seekers, args.repeat)
    elif args.part == "2017":
        figures = market2017(args.repeat)
    elif args.part == "cli":
        figures = cli(args.folder, args.warmup, args.runs, args.baseline_runs, args.baseline_src)
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
