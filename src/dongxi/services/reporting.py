"""Use cases: the report on a registry's own data (``dongxi report``), and the identification and
income tables the demo's report is built from too (one builder for both).

Permission ``measure:run`` (the report is a measurement shown to people); the principal's region
scope bounds the report: a county officer's report covers their county whatever ``--region``
asks, and a region outside the scope is refused like a missing one. The registry is read through a
snapshot (verified before it is read): ``--snapshot DIR`` (repeat it for several rounds), or a
snapshot of the configured registry (``--url``) taken into the report's folder. Households'
heads' names never enter a report; the household lists (``measure --households-out``) are
elsewhere (:mod:`dongxi.services.households_list`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dongxi.errors import InputError, NotFoundError
from dongxi.services._monitoring_report import MonitoringTables, has_months
from dongxi.services._monitoring_report import monitoring_section as monitoring_tables

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Engine

    from dongxi.measure import MeasureSpec
    from dongxi.policy import PolicyValue
    from dongxi.services.measurement import SnapshotTables
    from dongxi.services.principal import Principal

__all__ = [
    "REPORT_SPECS",
    "Identification",
    "MonitoringTables",
    "ReportOutcome",
    "identification_tables",
    "income_tables",
    "latest_round_tables",
    "make_report",
    "monitoring_tables",
    "region_prefix",
    "scoped_tables",
]

#: The built-in specs a registry report identifies with (``global_mpi`` needs survey data).
REPORT_SPECS = ("china_official", "guangxi_rural")
#: Policy figures of Guangxi by default (provincial standards where they exist).
DEFAULT_PROVINCE = "450000"

Lang = Literal["zh-en", "zh"]


def region_prefix(code: str | None) -> str | None:
    """A region code as the prefix of the division codes it covers: ``450000`` → ``45``,
    ``451200`` → ``4512``, ``451221`` → ``451221`` (``None`` for the whole registry)."""
    if code is None or not str(code).strip():
        return None
    text = str(code).strip()
    if not text.isdigit() or len(text) not in (2, 4, 6, 9, 12):
        raise InputError(
            "A region is a division code of 2, 4, 6, 9 or 12 digits.",
            column="--region",
            value=text,
            rule="region",
            fix="Give a code such as 450000 (province), 451200 (city) or 451221 (county); "
            "'dongxi regions search NAME' finds it.",
        )
    if len(text) == 6:
        while text.endswith("00") and len(text) > 2:
            text = text[:-2]
    return text


def _effective_region(principal: Principal, region: str | None) -> str | None:
    prefix = region_prefix(region)
    scope = principal.scope
    if scope.unrestricted:
        return prefix
    own = scope.region_prefix
    if own is None:
        raise NotFoundError(
            "登记库中没有您可查看的地区。No region of the registry is in your scope."
        )
    if prefix is None or prefix.startswith(own):
        return prefix or own
    if own.startswith(prefix):  # asked for a wider region: the scope bounds it
        return own
    raise NotFoundError(
        "该地区不在您可查看的范围内。The region is not in the registry you may see.",
        fix="Give a region inside your own scope (--region).",
    )


def scoped_tables(
    tables: Mapping[str, pd.DataFrame], prefix: str | None
) -> dict[str, pd.DataFrame]:
    """The households (and their people and income) whose village code starts with ``prefix``;
    a ``township_code`` column (the village code's first 9 digits) is added to households."""
    households = tables["households"]
    village = households["village_code"].astype(str)
    households = households.assign(township_code=village.str[:9])
    if prefix is not None:
        households = households[village.str.startswith(prefix)]
    keep = set(households["household_code"].astype(str))
    out = {"households": households.reset_index(drop=True)}
    for name in ("people", "income"):
        frame = tables[name]
        out[name] = frame[frame["household_code"].astype(str).isin(keep)].reset_index(drop=True)
    return out


def group_column(prefix: str | None) -> str:
    """Counties for a province, a city or the whole registry; townships for a county or below."""
    return "township_code" if prefix is not None and len(prefix) >= 6 else "county_code"


@dataclass
class Identification:
    """What the identification step gives a report: the long tables and the labels they need."""

    measures: list[pd.DataFrame] = field(default_factory=list)
    counts: list[pd.DataFrame] = field(default_factory=list)
    change: pd.DataFrame | None = None
    specs: list[dict[str, Any]] = field(default_factory=list)
    indicator_labels: dict[str, str] = field(default_factory=dict)
    spec_labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    headline_k: dict[str, float] = field(default_factory=dict)
    cutoff_labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)


def _no_line(year: int) -> str:
    """The "Parts not available" entry of a round without an income line."""
    return (
        f"{year} 年贫困识别与收入贫困：无可用的收入线（见“分地区贫困状况”一节的说明）/ "
        f"identification and income poverty of {year}: no income line (see the words in the "
        "identification section)"
    )


def _k_value(spec: MeasureSpec) -> float:
    """The headline cutoff as the long table writes it (``k`` column, percent; the union is the
    smallest weight)."""
    return float(spec.cutoffs([spec.headline_k])[0].percent)


def cutoff_label(spec: MeasureSpec) -> tuple[str, str]:
    """The headline cutoff in words, (zh, en)."""
    cut = spec.headline_k
    if cut == "union":
        return ("任一项标准未达到即为贫困（并集）", "poor if any criterion is unmet (union)")
    if cut == "intersection":
        return (
            "全部标准均未达到才为贫困（交集）",
            "poor if every criterion is unmet (intersection)",
        )
    return (
        f"加权剥夺得分达到 {float(cut):g}% 即为贫困（临界值 k = {float(cut):g}%）",
        f"poor if the weighted deprivation score reaches k = {float(cut):g}%",
    )


def short_title(spec: MeasureSpec) -> str:
    """The Chinese title up to its first colon or bracket (for cards and legends)."""
    title = spec.title_zh or spec.name
    for mark in ("：", "（", ":"):
        title = title.split(mark)[0]
    return title


def _counts(
    units: pd.DataFrame,
    frame: pd.DataFrame,
    spec: MeasureSpec,
    *,
    by: str,
    round_: str,
) -> pd.DataFrame:
    """Households and people, poor or not at the headline cutoff, overall and by group."""
    import pandas as pd

    hh = spec.unit.household or "household_code"
    poor_col = (
        f"poor_{spec.headline_k}"
        if isinstance(spec.headline_k, str)
        else f"poor_k{spec.cutoffs([spec.headline_k])[0].percent:g}"
    )
    size = frame.groupby(hh).size().rename("people")
    group = frame.groupby(hh)[by].first().astype(str) if by in frame else None
    u = units[[hh, poor_col]].merge(size, left_on=hh, right_index=True, how="left")
    u["poor"] = u[poor_col].astype(bool)
    u["group"] = "" if group is None else u[hh].map(group).astype(str)
    rows = []
    parts: list[tuple[str, str, pd.DataFrame]] = [("", "", u)]
    if group is not None:
        parts += [(by, str(g), p) for g, p in u.groupby("group", sort=True)]
    for by_name, g, part in parts:
        rows.append(
            {
                "spec": spec.name,
                "round": round_,
                "by": by_name,
                "group": g,
                "households": len(part),
                "people": int(part["people"].sum()),
                "poor_households": int(part["poor"].sum()),
                "poor_people": int(part.loc[part["poor"], "people"].sum()),
            }
        )
    return pd.DataFrame(rows)


def identification_tables(
    *,
    principal: Principal,
    rounds: Mapping[int, SnapshotTables],
    specs: Sequence[str] = REPORT_SPECS,
    province: str | None = DEFAULT_PROVINCE,
    by: str = "county_code",
    sources: Mapping[int, str] | None = None,
    change: bool = True,
    overrides: Sequence[PolicyValue] = (),
) -> Identification:
    """Each spec on each round (a snapshot's tables, already scoped), by ``by``, with the counts
    of households and people poor at the spec's headline cutoff, and the change between rounds
    when there are two or more. A built-in spec that does not exist is listed as missing.

    The income line of each round is chosen by :func:`dongxi.services._lines.choose_line` (the
    poverty line through 2020, the relapse-monitoring line after it; ``overrides``, the office's
    own figures, win) and said in words in ``lines`` (one row per round, with its source and how
    sure it is). A round with no line is not identified by the specs that need one: ``lines``
    says so in words and ``missing`` names it; the other rounds and specs go on."""
    principal.require("measure:run")
    import pandas as pd

    from dongxi.measure import identify, load_spec
    from dongxi.services._lines import choose_line
    from dongxi.services.measurement import (
        measure_change,
        measure_snapshot,
        person_frame,
        uses_income_line,
    )
    from dongxi.services.measurement import spec_params as _params

    out = Identification()
    changes = []
    choices = {y: choose_line(y, scope=province, overrides=overrides) for y in sorted(rounds)}
    lined = {y: t for y, t in rounds.items() if choices[y].found}
    said = False
    for name in specs:
        try:
            spec = load_spec(name)
        except NotFoundError:
            out.missing.append(
                f"内置识别标准缺失 the built-in spec '{name}' does not exist: identification "
                f"with it was skipped."
            )
            continue
        for dimension in spec.dimensions:
            for indicator in dimension.indicators:
                if indicator.label:
                    out.indicator_labels.setdefault(indicator.name, indicator.label)
        out.spec_labels[spec.name] = (spec.title_zh or spec.name, spec.title or spec.name)
        out.headline_k[spec.name] = _k_value(spec)
        out.cutoff_labels[spec.name] = cutoff_label(spec)
        out.specs.append(
            {
                "name": spec.name,
                "title": spec.title,
                "k": ", ".join(f"{k}" for k in getattr(spec, "k", [])),
                "sources": "; ".join(getattr(spec, "sources", []) or []),
            }
        )
        needs_line = uses_income_line(spec)
        if needs_line and not said:  # once: every spec that needs it uses the same line
            said = True
            out.lines += [choice.row() for choice in choices.values()]
            out.missing += [_no_line(y) for y, choice in choices.items() if not choice.found]
        spec_rounds = lined if needs_line else dict(rounds)
        for year, snapshot in sorted(spec_rounds.items()):
            outcome = measure_snapshot(
                principal=principal,
                snapshot=snapshot,
                spec=spec,
                year=year,
                by=(by,),
                province=province,
                source=(sources or {}).get(year, f"snapshot {year}"),
                policy=overrides,
            )
            result = outcome.result.assign(round=str(year))
            out.measures.append(result)
            frame = person_frame(snapshot.tables, year)
            params = _params(spec, year=year, province=province, overrides=overrides)
            ref = dt.date(year, 12, 31)
            units = identify(
                frame,
                spec,
                k=[spec.headline_k],
                params=params,
                reference_date=ref,
            )
            out.counts.append(_counts(units, frame, spec, by=by, round_=str(year)))
            head = result[
                (result["by"] == "")
                & (result["measure"] == "H")
                & result["indicator"].isin(["", None])
            ]
            kv = out.headline_k[spec.name]
            head = head[(head["k"].astype(float) - kv).abs() < 1e-9]
            overall = out.counts[-1].iloc[0]
            if len(head):
                out.facts.append(
                    {
                        "label_zh": f"{year} 年贫困发生率（{short_title(spec)}）",
                        "label_en": f"headcount ratio H {year} ({spec.title or spec.name})",
                        "value": float(head["estimate"].iloc[0]),
                        "unit": "share",
                        "detail": f"{int(overall['poor_households']):,} 户 · "
                        f"{int(overall['poor_people']):,} 人",
                    }
                )
        if change and len(spec_rounds) >= 2:
            changes.append(
                measure_change(
                    principal=principal,
                    snapshots=dict(spec_rounds),
                    spec=spec,
                    province=province,
                    policy=overrides,
                )
            )
    changes = [frame for frame in changes if len(frame)]
    out.change = pd.concat(changes, ignore_index=True) if changes else None
    return out


@dataclass
class IncomeTables:
    """Income poverty of each round: the measures, the incomes (for the charts) and the lines."""

    measures: list[pd.DataFrame] = field(default_factory=list)
    income: list[pd.DataFrame] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)


def income_tables(
    *,
    principal: Principal,
    rounds: Mapping[int, SnapshotTables],
    province: str | None = DEFAULT_PROVINCE,
    by: str = "county_code",
    overrides: Sequence[PolicyValue] = (),
) -> IncomeTables:
    """FGT0/1/2, Watts and Gini of net income per person against each round's income line (the
    poverty line through 2020, the relapse-monitoring line after it, by
    :func:`dongxi.services._lines.choose_line`, the same choice as the identification's),
    people-weighted (weight = household size), strata county, PSU village. A round with no line
    is left out (the identification's ``lines`` and ``missing`` say so)."""
    principal.require("measure:run")
    import pandas as pd

    from dongxi.measure.income import income_poverty
    from dongxi.services._lines import choose_line

    out = IncomeTables()
    for year, snapshot in sorted(rounds.items()):
        tables = snapshot.tables
        choice = choose_line(year, scope=province, overrides=overrides)
        line = choice.value
        if line is None:
            continue
        income = tables["income"]
        income = income[income["year"].astype(int) == year]
        columns = ["household_code", "village_code", "county_code"]
        if by not in columns:
            columns.append(by)
        frame = income.merge(
            tables["households"][columns],
            on="household_code",
            how="inner",
            validate="one_to_one",
        )
        if frame.empty:
            continue
        frame = frame.assign(
            weight=frame["household_size"].astype(float),
            net_income_per_capita=frame["net_income_per_capita"].astype(float),
        )
        result = income_poverty(
            frame,
            income="net_income_per_capita",
            line=float(line.value),
            weight="weight",
            strata="county_code",
            psu="village_code",
            by=(by,),
            lonely_psu="adjust",
            floor=1.0,
        )
        out.measures.append(result.assign(round=str(year), line=float(line.value)))
        out.income.append(
            pd.DataFrame(
                {
                    "round": str(year),
                    "net_income_per_capita": frame["net_income_per_capita"],
                    "weight": frame["weight"],
                }
            )
        )
        out.lines.append(
            {
                "round": str(year),
                "line": float(line.value),
                "status": line.status,
                "source": line.source or line.note,
                "line_kind": line.name,
            }
        )
        overall = result[(result["by"] == "") & (result["measure"] == "FGT0")]
        if len(overall):
            monitoring = line.name == "monitoring_line"
            out.facts.append(
                {
                    "label_zh": f"{year} 年收入贫困发生率 ({'监测线' if monitoring else '线'} "
                    f"{line.value:,.0f} 元)",
                    "label_en": f"income headcount {year} ({'monitoring ' if monitoring else ''}"
                    f"line {line.value:,.0f} yuan)",
                    "value": float(overall["estimate"].iloc[0]),
                    "unit": "share",
                }
            )
    return out


@dataclass
class RoundTables:
    """The latest matching round of a registry, within a report's region, as the report shows
    it: ``tables`` for :attr:`dongxi.report.ReportData.matching` and the round in words."""

    run_id: str
    round_no: int
    tables: dict[str, pd.DataFrame]
    words: tuple[str, str]


def _in_region(frame: pd.DataFrame, prefix: str | None) -> pd.Series:
    """Seekers inside the region: by their household's village when the registry holds it,
    else by the need's county."""
    import pandas as pd

    if prefix is None:
        return pd.Series(True, index=frame.index)
    village = frame["village_code"].fillna("").astype(str)
    county = frame["county_code"].fillna("").astype(str)
    where = village.where(village != "", county)
    if len(prefix) > 6:
        return where.str.startswith(prefix)
    return where.str.startswith(prefix) | county.str.startswith(prefix)


def _rates(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    import pandas as pd

    grouped = frame.groupby(by, sort=True)
    out = pd.DataFrame(
        {
            "seekers": grouped.size(),
            "matched": grouped["placed"].sum().astype(int),
        }
    ).reset_index()
    out["matched_rate"] = out["matched"] / out["seekers"]
    return out


def latest_round_tables(
    principal: Principal,
    registry: Engine,
    *,
    region: str | None = None,
) -> RoundTables | None:
    """The registry's latest matching round (the newest run of job posts) within ``region``
    (a prefix of division codes; the principal's scope bounds it), by name: who was placed
    where (county, village, enterprise, place, wage, the proposal's state), the placement rate
    by county and household status, by enterprise, and who was not placed and why (the round's
    main reasons by county, in Chinese). ``None`` when the registry holds no round or no seeker
    of the round lies in the region.

    Needs ``market:run`` or ``market:answer_seeker`` (an officer who may read the market)."""
    if not (principal.can("market:run") or principal.can("market:answer_seeker")):
        principal.require("market:answer_seeker")
    import pandas as pd

    from dongxi.market import STRUCK_STATES
    from dongxi.services.regions import place_name
    from dongxi.store.market_models import (
        latest_run,
        proposal_history,
        round_seekers,
        run_lineage,
    )
    from dongxi.vocab import PROPOSAL_STATES

    prefix = _effective_region(principal, region)
    run = latest_run(registry)
    if run is None:
        return None
    seekers = round_seekers(registry, str(run["run_id"]))
    seekers = seekers[_in_region(seekers, prefix)].reset_index(drop=True)
    if seekers.empty:
        return None
    seekers["placed"] = seekers["offer_id"].notna()
    placed = seekers[seekers["placed"]]
    method = {"stable": ("稳定匹配", "stable"), "optimal": ("福利最优匹配", "welfare-optimal")}
    m_zh, m_en = method.get(str(run["engine"]), (str(run["engine"]), str(run["engine"])))
    day = run["created_at"]
    day_text = day.date().isoformat() if hasattr(day, "date") else str(day)[:10]
    lineage = run_lineage(registry, str(run["run_id"]))
    struck = 0
    if len(lineage) > 1:
        history = proposal_history(registry, lineage[:-1])
        history = history[history["seeker_id"].isin(set(seekers["seeker_id"]))]
        struck = int(history["state"].isin(STRUCK_STATES).sum())
    cards = [
        ("最近一轮匹配", "latest round", int(run["round_no"]), "轮"),
        ("求职人数", "job seekers", len(seekers), "人"),
        ("已安置人数（有岗位）", "placed", len(placed), "人"),
        ("安置率", "placement rate", len(placed) / len(seekers), "share"),
        ("涉及东部企业", "eastern enterprises", int(placed["partner_code"].nunique()), "家"),
        ("以前各轮被谢绝、不再提出的人岗组合", "pairs declined earlier, not proposed again",
         struck, "个"),
    ]  # fmt: skip
    summary = pd.DataFrame(cards, columns=["label_zh", "label_en", "value", "unit"], dtype=object)
    by_county = _rates(seekers, "county_code")
    by_status = _rates(seekers, "status")
    by_group = pd.concat(
        [
            by_county.rename(columns={"county_code": "group"}).assign(by="county_code"),
            by_status.rename(columns={"status": "group"}).assign(by="status"),
        ],
        ignore_index=True,
    )[["by", "group", "seekers", "matched", "matched_rate"]]
    partner = placed["partner_name"].fillna(placed["partner_code"]).fillna("")
    by_partner = (
        placed.assign(partner=partner)
        .groupby("partner", sort=True)
        .agg(offers=("offer_id", "nunique"), matched=("seeker_id", "size"))
        .reset_index()
    )
    state_zh = {code: PROPOSAL_STATES[code].zh for code in PROPOSAL_STATES}
    placements = pd.DataFrame(
        {
            "seeker_id": seekers["seeker_id"],
            "village": [
                place_name(v, levels=2) if isinstance(v, str) and v else ""
                for v in seekers["village_code"]
            ],
            "county_code": seekers["county_code"],
            "status": seekers["status"],
            "offer_id": seekers["offer_id"].fillna(""),
            "partner": seekers["partner_name"].fillna(seekers["partner_code"]).fillna(""),
            "place": [place_name(v, levels=2) if isinstance(v, str) else "" for v in
                      seekers["place_code"]],
            "monthly_wage": seekers["monthly_wage"],
            "state": [
                state_zh.get(str(v), str(v)) if isinstance(v, str) else "未匹配"
                for v in seekers["state"]
            ],
        }
    )  # fmt: skip
    why = {
        str(r["seeker_id"]): str(r["reason_zh"])
        for r in run["report"].get("unmatched_seekers") or []
    }
    placements["why_not"] = [
        "" if placed_ else why.get(str(sid), "")
        for sid, placed_ in zip(seekers["seeker_id"], seekers["placed"], strict=True)
    ]
    stored = pd.DataFrame(run["report"].get("unmatched") or [])
    if len(stored):
        counties = set(seekers["county_code"].astype(str))
        stored = stored[stored["county_code"].astype(str).isin(counties)]
        unmatched = pd.DataFrame(
            {
                "county_code": stored["county_code"].astype(str),
                "reason": stored["reason_zh"].astype(str),
                "seekers": stored["seekers"].astype(int),
            }
        ).reset_index(drop=True)
    else:
        unmatched = pd.DataFrame(columns=["county_code", "reason", "seekers"])
    tables = {
        "summary": summary,
        "by_group": by_group,
        "by_county": by_county,
        "by_status": by_status,
        "by_partner": by_partner,
        "placements": placements,
        "unmatched": unmatched,
    }
    published = run.get("published_at")
    words = (
        f"登记库中最近一轮匹配：第 {int(run['round_no'])} 轮（{m_zh}），{day_text} 运行"
        + ("，已发布" if published else "，尚未发布")
        + f"；本报告范围内求职者 {len(seekers):,} 人，其中 {len(placed):,} 人获得岗位。"
        "以前各轮被本人或企业谢绝的人岗组合不再提出。",
        f"The registry's latest matching round: round {int(run['round_no'])} ({m_en}), run on "
        f"{day_text}" + (", published" if published else ", not yet published")
        + f"; {len(seekers):,} seekers in this report's region, {len(placed):,} with a post. "
        "Pairs declined in earlier rounds are not proposed again.",
    )  # fmt: skip
    return RoundTables(
        run_id=str(run["run_id"]), round_no=int(run["round_no"]), tables=tables, words=words
    )


@dataclass(frozen=True)
class ReportOutcome:
    """A report written: its files, and what it covers."""

    html: Path
    workbook: Path
    region: str | None
    years: tuple[int, ...]
    households: int
    people: int


def _snapshot_rows(snapshot: SnapshotTables, year: int) -> list[dict[str, Any]]:
    manifest = snapshot.manifest
    return [
        {
            "round": str(year),
            "snapshot_id": manifest.get("snapshot_id", snapshot.folder.name),
            "created_at": manifest.get("created_at"),
            "table": name,
            "rows": int(entry["rows"]),
            "sha256": entry["sha256"],
        }
        for name, entry in manifest["tables"].items()
    ]


def _policy_table() -> pd.DataFrame:
    from dongxi.policy import describe_parameters

    frame = describe_parameters()
    keep = frame["name"].isin(["poverty_line", "monitoring_line"])
    return frame.loc[keep, ["name", "scope", "years", "value", "unit", "status", "source"]]


def _region_title(prefix: str | None) -> str:
    if prefix is None:
        return "全部登记户 whole registry"
    from dongxi.report import place_name

    return f"{place_name(prefix.ljust(6, '0') if len(prefix) < 6 else prefix)}"


def make_report(
    *,
    principal: Principal,
    folder: Path,
    snapshots: Sequence[Path] = (),
    url: str | None = None,
    region: str | None = None,
    year: int | None = None,
    lang: Lang = "zh-en",
    province: str | None = DEFAULT_PROVINCE,
    policy: Path | None = None,
) -> ReportOutcome:
    """Write ``folder/report.html`` and ``folder/report.xlsx`` on the registry's own data.

    ``snapshots``: snapshot folders, one round each (the round is the year of its newest income,
    or ``year``); none: a snapshot of the registry at ``url`` (default: the configured one) is
    taken into ``folder/snapshot``. ``region`` bounds the households (a province, city, county or
    township code; the principal's scope in any case); ``year`` is the round the report headlines
    (default: the latest). With two or more rounds the report shows the change between them.

    When the latest snapshot holds monthly income (``income_months``), the report has a
    monitoring section for that year (:func:`monitoring_tables`: the sweep and the audits, the
    risk score and its check, as the principal's permissions allow) and the cadres' lists are
    written into ``folder``; ``policy`` is the office's policy file (monitoring lines of the
    years policy data lacks). Each round is identified against its income line: the poverty line
    through 2020, the relapse-monitoring line after it (:func:`dongxi.policy.income_line`), said
    in words in the identification section with its source and how sure it is; a round without
    a line is said so there and named under "Parts not available", and the rest of the report
    goes on.
    """
    principal.require("measure:run")
    import pandas as pd

    from dongxi.report import ReportData, build_report
    from dongxi.services.measurement import (
        SnapshotTables,
        latest_year,
        policy_overrides,
        read_snapshot,
    )

    if lang not in ("zh-en", "zh"):
        raise InputError(
            "The report's language is zh-en (bilingual) or zh (Chinese only).",
            column="--lang",
            value=lang,
            fix="Use --lang zh-en or --lang zh.",
        )
    prefix = _effective_region(principal, region)
    overrides = policy_overrides(policy)  # a broken file is reported before any data are read
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    folders = list(snapshots)
    if not folders:
        from dongxi.services.snapshots import take_snapshot

        target = folder / "snapshot"
        info = take_snapshot(principal=principal, folder=target, url=url, label="dongxi report")
        folders = [Path(info.folder)]
    rounds: dict[int, SnapshotTables] = {}
    snapshot_rows: list[dict[str, Any]] = []
    for path in folders:
        read = read_snapshot(Path(path))
        y = latest_year(read.tables)
        if year is not None and len(folders) == 1:
            y = year
        if y is None:
            raise InputError(
                "The snapshot holds no income: a report needs each household's income.",
                file=str(path),
                rule="income",
                fix="Import the income table (dongxi import income.xlsx) and take a snapshot.",
            )
        if y in rounds:
            raise InputError(
                f"Two snapshots give the same round {y}.",
                file=str(path),
                rule="rounds",
                fix="Give one snapshot per year.",
            )
        scoped = scoped_tables(read.tables, prefix)
        rounds[y] = SnapshotTables(folder=read.folder, manifest=read.manifest, tables=scoped)
        snapshot_rows += _snapshot_rows(read, y)
    if year is not None and len(folders) > 1:
        rounds = {y: t for y, t in rounds.items() if y <= year}
        if year not in rounds:
            raise NotFoundError(
                f"没有 {year} 年的快照。No snapshot gives the year {year}.",
                fix="Give a snapshot whose income is of that year, or leave out --year.",
            )
    latest = max(rounds)
    households = rounds[latest].tables["households"]
    if households.empty:
        raise NotFoundError(
            "该地区没有登记户。No household of the registry lies in the region.",
            fix="Check the --region code ('dongxi regions search NAME'), or leave it out.",
        )
    by = group_column(prefix)
    ident = identification_tables(
        principal=principal, rounds=rounds, province=province, by=by, overrides=overrides
    )
    income = income_tables(
        principal=principal, rounds=rounds, province=province, by=by, overrides=overrides
    )
    people = rounds[latest].tables["people"]
    summary = [
        {"label_zh": "登记户数", "label_en": "households", "value": len(households), "unit": "户"},
        {"label_zh": "登记人数", "label_en": "people", "value": len(people), "unit": "人"},
        *ident.facts,
        *income.facts,
    ]
    missing = list(ident.missing)
    monitoring: dict[str, pd.DataFrame] = {}
    if has_months(rounds[latest].manifest):
        section = monitoring_tables(
            principal=principal,
            snapshot=Path(rounds[latest].folder),
            households=households,
            people=people,
            year=latest,
            folder=folder,
            region=prefix,
            policy=policy,
        )
        monitoring = section.tables
        summary += section.facts
        missing += section.missing
    years = ", ".join(str(y) for y in sorted(rounds))
    matching: dict[str, pd.DataFrame] = {}
    matching_words: tuple[str, str] | None = None
    may_read_market = principal.can("market:run") or principal.can("market:answer_seeker")
    if not snapshots and may_read_market:  # the registry itself was read: its latest round too
        from dongxi.services._registry import registry

        with registry(url, at_head=False) as engine:
            round_ = latest_round_tables(principal, engine, region=prefix)
        if round_ is not None:
            matching, matching_words = round_.tables, round_.words
    data = ReportData(
        title_zh="贫困识别与监测报告",
        title_en="Identification and monitoring report",
        subtitle=f"{_region_title(prefix)} · {years}",
        summary=pd.DataFrame(summary),
        measures=pd.concat(ident.measures, ignore_index=True) if ident.measures else None,
        counts=pd.concat(ident.counts, ignore_index=True) if ident.counts else None,
        income=pd.concat(income.income, ignore_index=True) if income.income else None,
        poverty_lines=pd.DataFrame(income.lines) if income.lines else None,
        income_lines=pd.DataFrame(ident.lines) if ident.lines else None,
        income_measures=(
            pd.concat(income.measures, ignore_index=True) if income.measures else None
        ),
        change=ident.change,
        matching=matching,
        matching_words=matching_words,
        snapshots=pd.DataFrame(snapshot_rows),
        specs=pd.DataFrame(ident.specs) if ident.specs else None,
        policy=_policy_table(),
        missing=missing,
        county_by=by,
        indicator_labels=ident.indicator_labels,
        spec_labels=ident.spec_labels,
        headline_k=ident.headline_k,
        cutoff_labels=ident.cutoff_labels,
        lang=lang,
        monitoring=monitoring,
    )
    html = build_report(data, folder=folder)
    return ReportOutcome(
        html=html,
        workbook=html.with_suffix(".xlsx"),
        region=prefix,
        years=tuple(sorted(rounds)),
        households=len(households),
        people=len(people),
    )
