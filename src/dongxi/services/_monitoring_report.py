"""The monitoring section of a report (防返贫动态监测): the sweep, the audits and the risk score
of one year, summarised for officials, and the cadres' lists written beside the report.

Called by :func:`dongxi.services.reporting.monitoring_tables` (the demo and ``dongxi report``).
The lists are written by the use cases themselves (:func:`~dongxi.services.monitoring.
sweep_monitoring`, :func:`~dongxi.services.monitoring.audit_monitoring`,
:func:`~dongxi.services.risk.score_risk`) from the same verified snapshot; the section's counts
are computed from the sweep's own decision table, so the report and the list cannot disagree.
A part the principal may not run (a permission it lacks) or that the data cannot support (too
few years for the score) is named in ``missing``; no figure is invented for it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dongxi.errors import DongxiError

if TYPE_CHECKING:
    import pandas as pd

    from dongxi.services.principal import Principal

log = logging.getLogger(__name__)

#: The cadres' lists written beside the report (names fixed: the demo's marker lists them).
SWEEP_FILE = "monitoring-sweep.xlsx"
AUDIT_FILE = "monitoring-audit.xlsx"
SCORE_FILE = "risk-score.xlsx"
LIST_FILES = (SWEEP_FILE, AUDIT_FILE, SCORE_FILE)


@dataclass
class MonitoringTables:
    """The section's tables (report sheet name → table), its headline figures, the lists
    written (label → path) and the parts left out (with why)."""

    year: int
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    facts: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def has_months(manifest: Mapping[str, Any]) -> bool:
    """Whether a snapshot's manifest lists monthly income (``income_months``) with rows; the
    months of the year themselves are checked by the sweep (missing months give 无法判断)."""
    entry = manifest.get("tables", {}).get("income_months")
    return entry is not None and int(entry.get("rows", 0)) > 0


def _people_per_household(people: pd.DataFrame) -> pd.Series:
    return people.groupby(people["household_code"].astype(str)).size()


def _category_of(included: pd.DataFrame) -> pd.Series:
    """One category per included household: that of its first rule (rules file order, as the
    sweep sorts its rows)."""
    first = included.drop_duplicates("household_code", keep="first")
    return first.set_index(first["household_code"].astype(str))["category"].astype(str)


def summarise_sweep(
    rows: pd.DataFrame, households: pd.DataFrame, people: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """Households and people the rules put in monitoring, by category and by county (with the
    counties' totals), and by rule; from the sweep's decision table (SWEEP_COLUMNS)."""
    import pandas as pd

    from dongxi.monitor import load_rules
    from dongxi.vocab import MONITORING_CATEGORIES

    size = _people_per_household(people)
    codes = households["household_code"].astype(str)
    county = pd.Series(
        households["village_code"].astype(str).str.slice(0, 6).to_numpy(), index=codes.to_numpy()
    )
    included = rows[rows["outcome"] == "include"]
    category = _category_of(included)
    persons = category.index.map(size.to_dict()).fillna(0).astype(int)
    inc = pd.DataFrame(
        {
            "household_code": category.index,
            "category": category.to_numpy(),
            "county_code": category.index.map(county.to_dict()),
            "people": persons,
            "already": category.index.isin(
                included.loc[included["in_monitoring"].astype(bool), "household_code"].astype(str)
            ),
        }
    )
    total_households = len(households)
    total_people = int(size.reindex(codes).fillna(0).sum())
    by_category = []
    for code, label in MONITORING_CATEGORIES.items():
        part = inc[inc["category"] == code]
        by_category.append(
            {
                "category": code,
                "category_zh": label.zh,
                "category_en": label.en,
                "households": len(part),
                "people": int(part["people"].sum()),
                "households_total": total_households,
                "people_total": total_people,
            }
        )
    by_category.append(
        {
            "category": "",
            "category_zh": "合计",
            "category_en": "all",
            "households": len(inc),
            "people": int(inc["people"].sum()),
            "households_total": total_households,
            "people_total": total_people,
        }
    )
    cat = pd.DataFrame(by_category)
    cat["share_households"] = cat["households"] / max(total_households, 1)
    cat["share_people"] = cat["people"] / max(total_people, 1)

    totals = pd.DataFrame(
        {"county_code": county.to_numpy(), "people": size.reindex(codes).fillna(0)}
    )
    per_county = totals.groupby("county_code").agg(
        households_total=("people", "size"), people_total=("people", "sum")
    )
    found = inc.groupby("county_code").agg(households=("people", "size"), people=("people", "sum"))
    wide = inc.pivot_table(
        index="county_code", columns="category", values="people", aggfunc="size", fill_value=0
    )
    county_table = per_county.join(found, how="left").fillna(0)
    for code in MONITORING_CATEGORIES:
        county_table[f"households_{code}"] = (
            wide[code].reindex(county_table.index).fillna(0) if code in wide else 0
        )
    county_table = county_table.astype(int).reset_index()
    county_table["share_households"] = county_table["households"] / county_table[
        "households_total"
    ].clip(lower=1)
    county_table["share_people"] = county_table["people"] / county_table["people_total"].clip(
        lower=1
    )
    county_table = county_table.sort_values(
        ["share_households", "county_code"], ascending=[False, True]
    ).reset_index(drop=True)

    rules = load_rules()
    order = [r.code for r in rules.rules]
    words = {r.code: r.zh for r in rules.rules}
    english = {r.code: r.en for r in rules.rules}
    per_rule = (
        included.drop_duplicates(["household_code", "rule"])
        .groupby("rule")
        .size()
        .reindex(order)
        .fillna(0)
        .astype(int)
    )
    undecided = rows[rows["outcome"] == "undecided"]
    undecided_by_rule = (
        undecided.drop_duplicates(["household_code", "rule"])
        .groupby("rule")
        .size()
        .reindex(order)
        .fillna(0)
        .astype(int)
    )
    rule_table = pd.DataFrame(
        {
            "rule": order,
            "rule_zh": [words[c] for c in order],
            "rule_en": [english[c] for c in order],
            "households": per_rule.to_numpy(),
            "households_undecided": undecided_by_rule.to_numpy(),
        }
    )
    status = pd.DataFrame(
        [
            {
                "group": "already",
                "group_zh": "已是监测对象",
                "group_en": "already monitored",
                "households": int(inc["already"].sum()),
            },
            {
                "group": "new",
                "group_zh": "新发现、尚未纳入",
                "group_en": "found by the sweep, not yet monitored",
                "households": int((~inc["already"]).sum()),
            },
            {
                "group": "undecided",
                "group_zh": "缺少数据、无法判断",
                "group_en": "cannot decide (facts missing)",
                "households": int(
                    undecided.loc[
                        ~undecided["household_code"].astype(str).isin(inc["household_code"]),
                        "household_code",
                    ].nunique()
                ),
            },
        ]
    )
    return {
        "by_category": cat,
        "by_county": county_table,
        "by_rule": rule_table,
        "status": status,
    }


def _audit_table(counts: Mapping[str, int]) -> pd.DataFrame:
    import pandas as pd

    from dongxi.vocab import AUDIT_FINDINGS

    return pd.DataFrame(
        [
            {
                "finding": code,
                "finding_zh": label.zh,
                "finding_en": label.en,
                "households": int(counts.get(code, 0)),
            }
            for code, label in AUDIT_FINDINGS.items()
        ]
    )


def _score_table(evaluation: Any) -> pd.DataFrame:
    import pandas as pd

    f = evaluation.figures
    items = [
        ("auc", "AUC（全部户）", "AUC, all households"),
        ("recall_at_budget", "前10%查出率（全部户）", "recall in the first 10 %, all households"),
        ("precision_at_budget", "前10%命中率（全部户）", "precision in the first 10 %"),
        ("above_auc", "AUC（收入在线上且未监测的户）", "AUC, households above the line"),
        (
            "above_recall_at_budget",
            "前10%查出率（收入在线上且未监测的户）",
            "recall in the first 10 %, above the line",
        ),
    ]
    return pd.DataFrame(
        [
            {
                "figure": key,
                "figure_zh": zh,
                "figure_en": en,
                "score": float(f[key]),
                "rules": float(f.get(f"{key}_baseline", float("nan"))),
            }
            for key, zh, en in items
            if key in f
        ]
    )


def monitoring_section(
    *,
    principal: Principal,
    snapshot: Path,
    households: pd.DataFrame,
    people: pd.DataFrame,
    year: int,
    folder: Path,
    as_of: dt.date | None = None,
    region: str | None = None,
    seed: int = 0,
    policy: Path | None = None,
) -> MonitoringTables:
    """The sweep, audits and risk score of ``year`` on ``snapshot`` (its households and people in
    the report's scope given as ``households``/``people``), their lists written into ``folder``.
    ``policy``: the office's policy file (monitoring lines of the years policy data lacks)."""
    import pandas as pd

    from dongxi.monitor.score import BUDGET, USE_NOTE_EN, USE_NOTE_ZH
    from dongxi.services._lines import status_words
    from dongxi.services.monitoring import audit_monitoring, default_as_of, sweep_monitoring
    from dongxi.services.risk import evaluate_risk, score_risk

    out = MonitoringTables(year=year)
    when = as_of or default_as_of(year)
    folder = Path(folder)
    if not principal.can("monitor:sweep"):
        out.missing.append(
            "防返贫监测排查：当前角色无排查权限 / monitoring sweep: the role may not run it"
        )
        return out
    try:
        sweep = sweep_monitoring(
            principal=principal,
            year=year,
            snapshot=snapshot,
            region=region,
            policy=policy,
            out=folder / SWEEP_FILE,
            as_of=when,
        )
    except DongxiError as exc:
        out.missing.append(f"防返贫监测排查 / monitoring sweep {year}: {exc}")
        return out
    out.files["sweep"] = sweep.path
    rows = sweep.rows_table
    assert rows is not None
    out.tables = summarise_sweep(rows, households, people)
    info: list[tuple[str, str, str]] = [
        ("year", "年度", str(year)),
        ("as_of", "排查日期", when.isoformat()),
        ("window", "收入期间", sweep.window),
        ("line", "监测线（元/人·年）", f"{sweep.line:,.0f}"),
        (
            "line_source",
            "监测线依据（来源；可信程度）",
            f"{sweep.line_source}；{status_words(sweep.line_status)[0]}",
        ),
        ("rules", "规则", sweep.rules),
        ("source", "数据来源", sweep.source),
        ("sweep_file", "排查名单", sweep.path.name),
    ]
    cat = out.tables["by_category"]
    overall = cat[cat["category"] == ""].iloc[0]
    out.facts += [
        {
            "label_zh": f"{year} 年规则认定的监测对象（户）",
            "label_en": f"households the rules put in monitoring, {year}",
            "value": int(overall["households"]),
            "unit": "户",
        },
        {
            "label_zh": f"{year} 年监测对象占比（户）",
            "label_en": f"share of households in monitoring, {year}",
            "value": float(overall["share_households"]),
            "unit": "share",
        },
    ]
    audit = None
    if principal.can("monitor:audit"):
        try:
            audit = audit_monitoring(
                principal=principal,
                year=year,
                snapshot=snapshot,
                region=region,
                policy=policy,
                out=folder / AUDIT_FILE,
                as_of=when,
            )
        except DongxiError as exc:
            out.missing.append(f"监测核查 / monitoring audit {year}: {exc}")
    else:
        out.missing.append(
            "监测核查：当前角色无核查权限 / monitoring audit: the role may not run it"
        )
    if audit is not None:
        out.files["audit"] = audit.path
        out.tables["audit"] = _audit_table(audit.counts)
        info.append(("audit_file", "核查名单（应纳未纳、体外循环）", audit.path.name))
        out.facts.append(
            {
                "label_zh": f"{year} 年应纳未纳（户）",
                "label_en": f"should be monitored but are not, {year}",
                "value": int(audit.counts.get("missed", 0)),
                "unit": "户",
            }
        )
    if principal.can("registry:read"):
        try:
            scored = score_risk(
                principal=principal,
                year=year,
                out=folder / SCORE_FILE,
                snapshot=snapshot,
                seed=seed,
                policy=policy,
            )
        except DongxiError as exc:
            out.missing.append(f"风险评分 / risk score {year}: {exc}")
        else:
            assert scored.out is not None
            out.files["score"] = scored.out
            info += [
                ("score_file", "风险评分名单", scored.out.name),
                (
                    "score_training",
                    "评分模型的训练年份 / 校准年份",
                    f"{', '.join(map(str, scored.train_years))} / {scored.calibration_year}",
                ),
            ]
        try:
            evaluation = evaluate_risk(
                principal=principal, year=year - 1, snapshot=snapshot, seed=seed, policy=policy
            )
        except DongxiError as exc:
            out.missing.append(f"风险评分检验 / evaluation of the risk score: {exc}")
        else:
            out.tables["score"] = _score_table(evaluation)
            info += [
                (
                    "evaluation",
                    "评分检验",
                    f"{evaluation.year} 年的评分对照 {evaluation.outcome_year} 年实际情况"
                    f"（训练 {', '.join(map(str, evaluation.train_years))}，"
                    f"校准 {evaluation.calibration_year}）",
                ),
                ("evaluation_households", "检验户数", f"{evaluation.households}"),
                (
                    "evaluation_positives",
                    "次年低于监测线或新纳入监测的户",
                    f"{evaluation.positives}",
                ),
                ("budget", "排查预算", f"{BUDGET:.0%}"),
            ]
    else:
        out.missing.append(
            "风险评分：当前角色不能读取分户数据 / risk score: the role may not read household rows"
        )
    info += [("note_zh", "用途说明", USE_NOTE_ZH), ("note_en", "use", USE_NOTE_EN)]
    out.tables["about"] = pd.DataFrame(info, columns=["item", "item_zh", "value"])
    return out
