"""Use case: the learned risk score of 防返贫监测, written as a list a cadre reads.

Permission ``registry:read`` (a household-level list); the rows are those of the principal's
scope. The panel comes from a snapshot folder (verified against its manifest before any file is
read) or from the registry (``url``). The score orders sweeps and never decides inclusion: the
output says so in Chinese and English (:data:`dongxi.monitor.score.USE_NOTE_ZH`).

The line of each year of the panel: the national poverty line through 2020, the monitoring line
(``monitoring_line``) from 2021, from policy data and the ``policy`` override file (CSV/XLSX of
``dongxi.policy.load_overrides``), which wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dongxi.errors import InputError
from dongxi.services._registry import registry

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Engine

    from dongxi.monitor.score import Panel, RiskModel
    from dongxi.services.principal import Principal

__all__ = [
    "HEADERS",
    "RiskEvaluation",
    "RiskOutcome",
    "evaluate_risk",
    "load_panel",
    "panel_lines",
    "score_risk",
]

#: Output column → Chinese header.
HEADERS = {
    "rank": "排序",
    "village": "村",
    "village_code": "村代码",
    "household_code": "户编码",
    "probability": "风险概率",
    "budget": "优先排查（前10%）",
    "reasons_zh": "主要原因",
    "reasons_en": "reasons (English)",
    "note": "用途说明",
}
_OPTIONAL = ("household_status", "measures", "income_months")


@dataclass(frozen=True)
class RiskOutcome:
    """The scored households (riskiest first, Chinese headers), the model and the file written."""

    table: pd.DataFrame
    year: int
    train_years: tuple[int, ...]
    calibration_year: int
    households: int
    out: Path | None
    #: ``open_cases``: the identification cases opened (household → case number).
    opened: Mapping[str, int] = field(default_factory=dict)


def _read_snapshot(folder: Path) -> dict[str, pd.DataFrame]:
    import pandas as pd

    from dongxi.services.measurement import read_snapshot

    snap = read_snapshot(folder)  # verifies the manifest first
    tables = dict(snap.tables)
    for name in _OPTIONAL:
        entry = snap.manifest["tables"].get(name)
        if entry is not None:
            tables[name] = pd.read_parquet(folder / str(entry["file"]))
    return tables


def _read_registry(engine: Engine, principal: Principal) -> dict[str, pd.DataFrame]:
    import pandas as pd
    import sqlalchemy as sa

    from dongxi.store.base import Base
    from dongxi.store.exporter import _canonical

    scope = principal.scope
    tables = {
        kind: _canonical(engine, kind, unmask=False, scope=scope)
        for kind in ("households", "people", "income", "measures")
    }
    households = Base.metadata.tables["households"]
    in_scope = sa.select(households.c.household_code).where(
        scope.where_region(households.c.village_code)
    )
    for name in ("household_status", "income_months"):
        table = Base.metadata.tables.get(name)
        if table is None:
            continue
        stmt = sa.select(table).where(table.c.household_code.in_(in_scope))
        with engine.connect() as conn:
            rows = conn.execute(stmt)
            tables[name] = pd.DataFrame(rows.all(), columns=list(rows.keys()))
    return tables


def load_panel(
    principal: Principal,
    *,
    snapshot: Path | None = None,
    url: str | None = None,
    engine: Engine | None = None,
) -> Panel:
    """The panel of the snapshot or the registry, restricted to the principal's scope."""
    principal.require("registry:read")
    from dongxi.monitor.score import Panel

    if snapshot is not None:
        tables = _read_snapshot(Path(snapshot))
    else:
        with registry(url, engine=engine) as opened:
            tables = _read_registry(opened, principal)
    households = tables["households"]
    if "county_code" not in households.columns:
        households = households.assign(
            county_code=households["village_code"].astype(str).str.slice(0, 6)
        )
    keep = households["village_code"].astype(str).map(principal.scope.covers_region).astype(bool)
    households = households[keep]
    codes = set(households["household_code"].astype(str))

    def inside(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None:
            return None
        return frame[frame["household_code"].astype(str).isin(codes)]

    people = inside(tables["people"])
    assert people is not None
    people = people.drop(columns=[c for c in ("id_number", "name") if c in people.columns])
    income = inside(tables["income"])
    assert income is not None
    return Panel(
        households=households,
        people=people,
        income=income,
        household_status=inside(tables.get("household_status")),
        measures=inside(tables.get("measures")),
        income_months=inside(tables.get("income_months")),
    )


def panel_lines(
    years: list[int], *, policy: Path | None = None, scope: str = "national"
) -> dict[int, float]:
    """The line of each year by :func:`dongxi.policy.income_line` (the report's and
    ``dongxi measure``'s rule): poverty line through 2020, monitoring line from 2021 (policy
    data, the ``policy`` file winning; the figure of ``scope`` or of the regions containing it).
    ``NotFoundError`` names ``--policy`` when a year has none."""
    from dongxi.policy import income_line, load_overrides

    overrides = load_overrides(policy) if policy is not None else ()
    return {
        year: float(income_line(year, scope=scope, overrides=overrides).value) for year in years
    }


def _lines(panel: Panel, years: list[int], policy: Path | None) -> dict[int, float]:
    """The lines of the panel's years where its households lie: the county or province they all
    lie in (an office's own figure), else national — as the sweep looks its line up."""
    from dongxi.services.monitoring import line_scope

    return panel_lines(years, policy=policy, scope=line_scope(panel.households, None))


def _place_names(codes: pd.Series) -> pd.Series:
    from dongxi.services.regions import place_name

    names = {code: place_name(code) for code in codes.unique()}
    return codes.map(names)


def score_risk(
    *,
    principal: Principal,
    year: int,
    out: Path | None = None,
    snapshot: Path | None = None,
    url: str | None = None,
    policy: Path | None = None,
    seed: int = 0,
    engine: Engine | None = None,
    lines: Mapping[int, float] | None = None,
    open_cases: int | None = None,
) -> RiskOutcome:
    """Score every household in scope for ``year`` with a model learned on the years before it
    (trained ≤ ``year - 2``, calibrated on ``year - 1``) and write the list to ``out`` (.xlsx,
    .csv). ``lines`` (year → yuan) replaces the policy lookup (tests, evaluation).

    ``open_cases`` = N (registry only, ``monitor:open``): open an identification case (channel
    ``risk_score``, state 'warning', no category — the score orders, the rules decide) for each
    of the N highest-ranked households that is not in monitoring and has no open case; a second
    run opens nothing twice."""
    from dongxi.monitor.score import USE_NOTE_EN, USE_NOTE_ZH, fit

    if open_cases is not None:
        principal.require("monitor:open")
        if snapshot is not None:
            raise InputError(
                "Cases are opened in the registry, not in a snapshot.",
                column="--open-cases",
                fix="Drop --snapshot (read the registry with --url), or drop --open-cases.",
            )
        if open_cases < 1:
            raise InputError(
                "The number of households to open cases for must be at least 1.",
                column="--top", value=open_cases, rule="range",
                fix="Give --top N with N ≥ 1 (e.g. the sweep budget).",
            )  # fmt: skip

    if snapshot is not None and url is not None:
        raise InputError(
            "Give either a snapshot folder or a registry URL, not both.",
            column="--snapshot",
            fix="Drop --url or --snapshot.",
        )
    panel = load_panel(principal, snapshot=snapshot, url=url, engine=engine)
    if year not in panel.years():
        raise InputError(
            f"The panel has no income of {year}.",
            value=year,
            column="--year",
            rule="score_years",
            fix=f"Give one of the panel's years: {', '.join(map(str, panel.years()))}.",
        )
    years = [y for y in panel.years() if y <= year]
    line_of = dict(lines) if lines is not None else _lines(panel, years, policy)
    model = fit(panel, line_of, year=year, seed=seed)
    scored = model.score(panel, line_of, year)
    table = _present(scored, panel, note=f"{USE_NOTE_ZH} {USE_NOTE_EN}")
    opened: dict[str, int] = {}
    if open_cases is not None:
        opened = _open_top(principal, scored, year, open_cases, url=url, engine=engine)
    written = None
    if out is not None:
        written = _write(table, out, model, inputs=[snapshot, policy])
    return RiskOutcome(
        table=table,
        year=year,
        train_years=model.train_years,
        calibration_year=year - 1,
        households=len(table),
        out=written,
        opened=opened,
    )


def _open_top(
    principal: Principal,
    scored: pd.DataFrame,
    year: int,
    top: int,
    *,
    url: str | None,
    engine: Engine | None,
) -> dict[str, int]:
    """Identification cases (channel risk_score, no category) for the ``top`` ranked households."""
    from dongxi.services.cases import Candidate, open_identifications
    from dongxi.store.db import session_scope

    best = scored.sort_values("rank", kind="stable").head(top)
    candidates = [
        Candidate(
            household_code=str(code),
            category=None,
            source=f"{year}年风险评分：排序第{int(rank)}位，概率{float(prob):.2f}"
            "（评分只排序，是否纳入由规则和程序认定）",
        )
        for code, rank, prob in zip(
            best["household_code"].tolist(),
            best["rank"].tolist(),
            best["probability"].tolist(),
            strict=True,
        )
    ]
    with registry(url, engine=engine) as opened, session_scope(opened) as session:
        done = open_identifications(session, principal, candidates, channel="risk_score")
    return dict(done.opened)


def _present(scored: pd.DataFrame, panel: Panel, *, note: str) -> pd.DataFrame:
    villages = panel.households.set_index("household_code")["village_code"].astype(str)
    frame = scored.assign(village_code=scored["household_code"].map(villages))
    frame["village"] = _place_names(frame["village_code"])
    frame["probability"] = frame["probability"].round(4)
    frame["budget"] = frame["budget"].map({True: "是", False: "否"})
    frame["note"] = note
    return frame[list(HEADERS)].rename(columns=HEADERS)


def _write(table: pd.DataFrame, out: Path, model: RiskModel, *, inputs: list[Any]) -> Path:
    import pandas as pd

    from dongxi.monitor.score import FEATURES, USE_NOTE_EN, USE_NOTE_ZH
    from dongxi.tables import write_sheets, write_table

    if Path(out).suffix.lower() != ".xlsx":
        return write_table(table, out, option="--out", inputs=inputs)
    about = pd.DataFrame(
        {
            "项目 / item": [
                "用途 / use",
                "",
                "评分年份 / year scored",
                "训练年份 / training years (features)",
                "校准年份 / calibration year",
                "训练样本 / training rows",
                "特征 / features",
            ],
            "内容 / value": [
                USE_NOTE_ZH,
                USE_NOTE_EN,
                str(model.year),
                ", ".join(map(str, model.train_years)),
                str(model.year - 1),
                str(model.train_rows),
                "；".join(FEATURES[name][0] for name in model.used),
            ],
        }
    )
    return write_sheets({"风险评分": table, "说明": about}, out, option="--out", inputs=inputs)


@dataclass(frozen=True)
class RiskEvaluation:
    """The score of ``year`` checked against what happened in ``year + 1`` (the one use of data
    after ``year``), beside the rules-only order (:func:`dongxi.monitor.score.evaluate`).

    ``figures``: ``auc``, ``auc_baseline``, ``recall_at_budget``, ``recall_at_budget_baseline``,
    ``precision_at_budget(_baseline)``, ``households``, ``positives``, ``outcome_rate``,
    ``brier``, ``mean_probability`` and the same with ``above_`` for the households neither
    below the line nor monitored in ``year``."""

    year: int
    outcome_year: int
    train_years: tuple[int, ...]
    calibration_year: int
    households: int
    positives: int
    figures: Mapping[str, float]


def evaluate_risk(
    *,
    principal: Principal,
    year: int,
    snapshot: Path | None = None,
    url: str | None = None,
    engine: Engine | None = None,
    policy: Path | None = None,
    seed: int = 0,
    lines: Mapping[int, float] | None = None,
) -> RiskEvaluation:
    """Fit the score for ``year`` on the panel up to the end of ``year`` (trained ≤ ``year - 2``,
    calibrated on ``year - 1``, as :func:`score_risk` does), score ``year`` and compare the order
    with the households that fell below the line or entered monitoring in ``year + 1``, beside the
    rules-only order, at the sweep budget (top 10 %)."""
    from dongxi.monitor.score import evaluate

    panel = load_panel(principal, snapshot=snapshot, url=url, engine=engine)
    if year + 1 not in panel.years():
        raise InputError(
            f"The panel has no income of {year + 1}, the year the score of {year} is checked on.",
            value=year,
            column="--year",
            rule="score_years",
            fix="Evaluate a year before the panel's last one.",
        )
    years = [y for y in panel.years() if y <= year + 1]
    line_of = dict(lines) if lines is not None else _lines(panel, years, policy)
    result = evaluate(panel, line_of, year=year, seed=seed)
    return RiskEvaluation(
        year=year,
        outcome_year=year + 1,
        train_years=result.model.train_years,
        calibration_year=year - 1,
        households=result.households,
        positives=result.positives,
        figures=dict(result.figures),
    )
