"""Synthetic report inputs shaped like the engines' outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dongxi.report import LONG_COLUMNS, ReportData

COUNTIES = ["450123", "450124", "450125", "451221", "451222"]
INDICATORS = ["income", "housing", "water", "education", "health"]


def _rows(spec: str, round_: str, rng: np.random.Generator) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    groups = [("", "all"), *(("county_code", c) for c in COUNTIES)]
    for by, group in groups:
        h = float(rng.uniform(0.05, 0.4))
        a = float(rng.uniform(0.35, 0.6))
        n = int(rng.integers(200, 900))
        for measure, est in (("H", h), ("A", a), ("M0", h * a)):
            se = est * 0.08
            rows.append(
                dict(
                    spec=spec,
                    k=1 / 3,
                    by=by,
                    group=group,
                    measure=measure,
                    indicator="",
                    estimate=est,
                    se=se,
                    ci_low=est - 1.96 * se,
                    ci_high=est + 1.96 * se,
                    n=n,
                    round=round_,
                )
            )
        shares = rng.dirichlet(np.ones(len(INDICATORS)))
        for indicator, share in zip(INDICATORS, shares, strict=True):
            rows.append(
                dict(
                    spec=spec,
                    k=1 / 3,
                    by=by,
                    group=group,
                    measure="pctb",
                    indicator=indicator,
                    estimate=float(share),
                    se=0.01,
                    ci_low=np.nan,
                    ci_high=np.nan,
                    n=n,
                    round=round_,
                )
            )
    return rows


@pytest.fixture(scope="session")
def report_data() -> ReportData:
    rng = np.random.default_rng(7)
    rows = []
    for spec in ("china_official", "guangxi_rural"):
        for round_ in ("2016", "2019"):
            rows += _rows(spec, round_, rng)
    measures = pd.DataFrame(rows)[[*LONG_COLUMNS, "round"]]
    income = pd.DataFrame(
        {
            "round": np.repeat(["2016", "2019"], 500),
            "net_income_per_capita": np.concatenate(
                [rng.lognormal(8.6, 0.7, 500), rng.lognormal(9.0, 0.6, 500)]
            ),
        }
    )
    lines = pd.DataFrame(
        {"round": ["2016", "2019"], "line": [2952.0, 3747.0], "source": ["example", "example"]}
    )
    fgt = pd.DataFrame(
        {
            "round": ["2016", "2016", "2019", "2019"],
            "measure": ["FGT0", "Gini", "FGT0", "Gini"],
            "estimate": [0.1234, 0.41, 0.0567, 0.39],
            "se": [0.01, 0.02, 0.008, 0.02],
        }
    )
    matching = {
        "summary": pd.DataFrame(
            {
                "label_zh": ["求职者", "匹配率"],
                "label_en": ["seekers", "matched rate"],
                "value": [23908, 0.8125],
            }
        ),
        "by_group": pd.DataFrame(
            {
                "by": "county_code",
                "group": COUNTIES,
                "seekers": [100, 200, 300, 400, 500],
                "matched": [80, 150, 290, 100, 499],
                "matched_rate": [0.8, 0.75, 290 / 300, 0.25, 0.998],
            }
        ),
        "welfare": pd.DataFrame(
            {"method": ["stable", "optimal"], "welfare": [1234.5, 1300.25], "matched": [10, 11]}
        ),
    }
    snapshots = pd.DataFrame(
        {
            "round": ["2016", "2019"],
            "snapshot_id": ["snap-2016-a1", "snap-2019-b2"],
            "sha256": ["ab" * 32, "cd" * 32],
        }
    )
    return ReportData(
        subtitle="test <script>alert(1)</script>",
        summary=pd.DataFrame(
            {"label_zh": ["户数"], "label_en": ["households"], "value": [1234], "unit": ["户"]}
        ),
        measures=measures,
        income=income,
        poverty_lines=lines,
        income_measures=fgt,
        matching=matching,
        snapshots=snapshots,
        specs=pd.DataFrame({"name": ["china_official", "guangxi_rural"]}),
        policy=pd.DataFrame(
            {"name": ["poverty_line"], "value": [3747.0], "unit": ["yuan"], "status": ["example"]}
        ),
    )
