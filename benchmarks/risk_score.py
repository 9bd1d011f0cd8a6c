"""Evaluate the learned risk score on the synthetic panel with its known process (2021–2025).

Run: ``uv run python benchmarks/risk_score.py [--households 30000] [--seed 0] [--plot docs/x.png]``.
Builds ``dongxi.synth.generate(households=N, seed=S, years=2016–2020, through=2025)``; for each
held-out year T (2023, 2024) fits the score on data up to the end of T (trained on t ≤ T-2,
calibrated on T-1), scores T and compares with the outcome of T+1, against the rules-only order
(below the line or with a trigger this year, by shortfall). Two training windows: every year of
the panel (2017–), and the monitoring years only (2021–). Prints Markdown tables (figures, the
calibration table, the fairness table of the last year) and saves the calibration plot. Reports
CPU and wall seconds of each fit+evaluation and the load average.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dongxi.monitor.score import Evaluation, Panel, evaluate, fit
from dongxi.policy import get_parameter
from dongxi.synth import generate


def _lines(data: object) -> dict[int, float]:
    relapse = data.relapse  # type: ignore[attr-defined]
    lines = {int(y): float(v) for y, v in zip(relapse["year"], relapse["line"], strict=True)}
    for year in range(2016, 2021):
        lines[year] = float(get_parameter("poverty_line", year=year).value)
    return lines


def _md(frame: pd.DataFrame) -> str:
    """A Markdown table (floats with three decimals)."""

    def cell(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _fmt(v: float) -> str:
    return "" if v != v else f"{v:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=Path, default=Path("docs/monitor-score-calibration.png"))
    parser.add_argument("--fairness", type=Path, default=None, help="CSV of the fairness table")
    args = parser.parse_args()
    t0 = time.time()
    data = generate(
        households=args.households, seed=args.seed, years=range(2016, 2021), through=2025
    )
    panel = Panel(
        households=data.households,
        people=data.people.drop(columns=["id_number", "name"]),
        income=data.income,
        household_status=data.household_status,
        measures=data.measures,
        income_months=data.income_months,
    )
    lines = _lines(data)
    print(f"synthetic panel: {args.households} households, {time.time() - t0:.1f} s wall")
    rows = []
    evaluations = {}
    for window, first in (("2017–", None), ("2021–", 2021)):
        for year in (2023, 2024):
            c0, w0 = time.process_time(), time.time()
            model = fit(panel, lines, year=year, seed=args.seed, first_year=first)
            ev = evaluate(panel, lines, year=year, seed=args.seed, model=model)
            cpu, wall = time.process_time() - c0, time.time() - w0
            evaluations[(window, year)] = ev
            f = ev.figures
            rows.append(
                {
                    "training": f"{window}{year - 2}",
                    "year T": year,
                    "households": ev.households,
                    "outcome rate": f"{f['outcome_rate']:.3f}",
                    "AUC score": _fmt(f["auc"]),
                    "AUC rules": _fmt(f["auc_baseline"]),
                    "recall@10% score": _fmt(f["recall_at_budget"]),
                    "recall@10% rules": _fmt(f["recall_at_budget_baseline"]),
                    "above line: n / positives": f"{int(f['above_households'])} / "
                    f"{int(f['above_positives'])}",
                    "above: AUC score": _fmt(f["above_auc"]),
                    "above: AUC rules": _fmt(f["above_auc_baseline"]),
                    "above: recall@10% score": _fmt(f["above_recall_at_budget"]),
                    "above: recall@10% rules": _fmt(f["above_recall_at_budget_baseline"]),
                    "Brier": _fmt(f["brier"]),
                    "Brier uncalibrated": _fmt(f["brier_uncalibrated"]),
                    "mean prob.": _fmt(f["mean_probability"]),
                    "CPU s": f"{cpu:.1f}",
                    "wall s": f"{wall:.1f}",
                }
            )
    print(_md(pd.DataFrame(rows)))
    print(f"load average: {os.getloadavg()}")
    main_ev = evaluations[("2021–", 2024)]
    print("\ncalibration (2021– training, T = 2024):")
    print(_md(main_ev.calibration))
    fair = main_ev.fairness
    print("\nfairness (2021– training, T = 2024):")
    print(_md(fair))
    if args.fairness is not None:
        fair.to_csv(args.fairness, index=False)
    print("\ntop features used:", ", ".join(main_ev.model.used))
    _plot(evaluations, args.plot)
    print(f"wrote {args.plot}")


def _plot(evaluations: dict[tuple[str, int], Evaluation], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.8))
    for ax, year in zip(axes, (2023, 2024), strict=True):
        ax.plot([1e-3, 1], [1e-3, 1], color="grey", linestyle=":", label="perfect calibration")
        for (window, y), ev in evaluations.items():
            if y != year:
                continue
            calib = ev.calibration
            observed = np.clip(calib["observed"].to_numpy(), 1e-3, None)  # 0 drawn at 0.001
            ax.plot(calib["predicted"], observed, marker="o", label=f"trained {window}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(1e-3, 1)
        ax.set_ylim(1e-3, 1)
        ax.set_title(f"features {year} → outcome {year + 1}")
        ax.set_xlabel("predicted probability (calibrated on the year before)")
        ax.set_ylabel("observed share (below the line or newly monitored)")
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle("Risk score calibration, synthetic panel: 10 bins of equal size, log scales")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
