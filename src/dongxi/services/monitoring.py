"""Use cases: the yearly monitoring sweep (防返贫监测排查) and the monitoring audit, on the
registry or a snapshot, written as a table a cadre reads.

Permissions ``monitor:sweep`` (sweep) and ``monitor:audit`` (audit); reading the registry also
needs ``registry:read`` (an analyst sweeps a snapshot, which holds no names). The registry is
read inside the caller's scope (:mod:`dongxi.store._monitor_reads`); a snapshot folder is
verified against its manifest before any file is read and cut to the caller's scope too. The
engine is :mod:`dongxi.monitor` (rules as data, decisions with their reasons); this module adds the
monitoring line of the year (policy data, or the office's ``--policy`` file), names of places
instead of codes, and — only for a caller whose role may see personal data (``pii:reveal``) and
only from the registry (snapshots hold no names) — the name of each household's head. Each
file written from the registry is recorded in the change log (who, where, how many rows,
whether names were in it).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dongxi.errors import InputError
from dongxi.services._registry import registry
from dongxi.vocab import AUDIT_FINDINGS, MONITOR_OUTCOMES, Vocabulary

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Engine

    from dongxi.monitor import Rules
    from dongxi.policy import PolicyValue
    from dongxi.services.principal import Principal

__all__ = [
    "FINDING_LABELS",
    "OUTCOME_LABELS",
    "MonitorRun",
    "audit_monitoring",
    "default_as_of",
    "line_scope",
    "sweep_monitoring",
]

log = logging.getLogger(__name__)


def _labels(vocabulary: Vocabulary) -> dict[str, str]:
    return {code: f"{label.zh} ({label.en})" for code, label in vocabulary.items()}


#: Outcome of a sweep's decision → "纳入监测 (include in monitoring)".
OUTCOME_LABELS = _labels(MONITOR_OUTCOMES)
#: Audit finding → its Chinese and English label.
FINDING_LABELS = _labels(AUDIT_FINDINGS)


def _as_of(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(
            "排查日期不是日期 / The date of the check is not a date.",
            column="--as-of",
            value=value,
            fix="Write it as YYYY-MM-DD.",
        ) from None


#: Output formats of the sweep and the audit.
FORMATS = (".xlsx", ".csv")


@dataclass(frozen=True)
class MonitorRun:
    """What a sweep or audit read and wrote."""

    path: Path
    rows: int
    year: int
    as_of: dt.date
    window: str
    line: float
    line_status: str
    line_source: str
    rules: str
    source: str
    head_names: bool
    counts: Mapping[str, int] = field(default_factory=dict)
    #: ``--open-cases``: the identification cases opened (household → case number).
    opened: Mapping[str, int] = field(default_factory=dict)
    #: the engine's table behind the file (:data:`dongxi.monitor.SWEEP_COLUMNS` for a sweep,
    #: :data:`dongxi.monitor.AUDIT_COLUMNS` for an audit), for callers that summarise it
    rows_table: pd.DataFrame | None = field(default=None, repr=False, compare=False)


def default_as_of(year: int, today: dt.date | None = None) -> dt.date:
    """The date of a year's check: 1 January of the next year (income of the whole year), or
    today when that is still to come (the 12 months before this month)."""
    today = today or dt.date.today()
    return min(dt.date(year + 1, 1, 1), today)


def _check_out(out: Path, inputs: list[Path]) -> Path:
    from dongxi.outputs import output_file

    if out.suffix.lower() not in FORMATS:
        raise InputError(
            "输出文件须为 .xlsx 或 .csv / The output must be an .xlsx or .csv file.",
            file=str(out),
            column="--out",
            fix="Give a file name ending in .xlsx (several sheets) or .csv.",
        )
    return output_file(out, option="--out", inputs=inputs)


def _line(year: int, region: str | None, policy: Path | None) -> PolicyValue:
    from dongxi.policy import get_parameter, load_overrides

    overrides = load_overrides(policy) if policy is not None else []
    return get_parameter(
        "monitoring_line", year=year, scope=region or "national", overrides=overrides
    )


def line_scope(households: pd.DataFrame, region: str | None) -> str:
    """Where the monitoring line is looked up: the region asked for, else the county or the
    province all households lie in, else national (policy data: the most specific figure)."""
    if region:
        return region
    codes = households["village_code"].astype(str).str.slice(0, 6).unique()
    if len(codes) == 1:
        return str(codes[0])
    provinces = {c[:2] for c in codes}
    if len(provinces) == 1:
        return f"{provinces.pop()}0000"
    return "national"


def _tables(
    principal: Principal,
    *,
    url: str | None,
    engine: Engine | None,
    snapshot: Path | None,
    region: str | None,
) -> tuple[dict[str, pd.DataFrame], str, bool]:
    """The monitoring tables, where they came from, and whether they carry heads' names."""
    if snapshot is not None:
        from dongxi.store._monitor_reads import snapshot_tables
        from dongxi.store._snapshot import verify_snapshot

        if not (snapshot / "manifest.json").is_file():
            raise InputError(
                "The folder is not a registry snapshot (no manifest.json).",
                file=str(snapshot),
                column="--snapshot",
                rule="snapshot",
                fix="Give a folder written by 'dongxi snapshot', or read the registry with --url.",
            )
        manifest = verify_snapshot(snapshot)
        tables = snapshot_tables(snapshot, manifest, region=region, scope=principal.scope)
        return tables, f"snapshot {snapshot}", False
    from dongxi.store._monitor_reads import monitoring_tables

    principal.require("registry:read")  # household rows: analysts read snapshots instead
    names = principal.can("pii:reveal")
    with registry(url, engine=engine) as opened:
        tables = monitoring_tables(opened, scope=principal.scope, region=region, head_names=names)
    return tables, "registry", names


def _open_identifications(
    principal: Principal, *, url: str | None, engine: Engine | None, snapshot: Path | None
) -> set[str] | None:
    """The households in an open identification case (registry only: snapshots hold no cases);
    the engine counts them as in monitoring."""
    if snapshot is not None or not principal.can("monitor:read"):
        return None
    from dongxi.services.cases import open_identification_households

    return open_identification_households(principal=principal, url=url, engine=engine)


def _record(
    principal: Principal, run: MonitorRun, action: str, url: str | None, engine: Engine | None
) -> None:
    """One change-log entry for a file written from the registry."""
    from dongxi.store._changelog import record_change
    from dongxi.store.db import translate_errors

    after: dict[str, Any] = {
        "path": str(run.path),
        "rows": run.rows,
        "year": run.year,
        "head_names": run.head_names,
    }
    if run.opened:
        after["cases_opened"] = len(run.opened)
    key = f"{action} {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%S.%fZ}"
    with (
        registry(url, engine=engine) as opened,
        translate_errors("Recording the monitoring file"),
        opened.begin() as conn,
    ):
        record_change(
            conn,
            actor=principal.actor,
            action=action,
            entity="households",
            key=key,
            after=after,
        )


def _places(codes: pd.Series) -> pd.DataFrame:
    """County, township and village names of each village code (looked up once per village)."""
    import pandas as pd

    from dongxi.services.regions import place_name

    unique = pd.unique(codes.astype(str))
    names = {
        c: (place_name(c[:6], levels=1), place_name(c[:9], levels=1), place_name(c, levels=1))
        for c in unique
    }
    return pd.DataFrame(
        [names[c] for c in codes.astype(str)], columns=["县", "乡镇", "村"], index=codes.index
    )


def _yes_no(values: pd.Series) -> pd.Series:
    return values.map({True: "是", False: "否"})


def _label(values: pd.Series, vocabulary: Any) -> pd.Series:
    return values.map(lambda v: vocabulary[v].zh if v in vocabulary else ("" if v is None else v))


def _cadre_sweep(
    rows: pd.DataFrame, households: pd.DataFrame, rules: Rules, names: bool
) -> pd.DataFrame:
    """The sweep as a cadre reads it: Chinese headers and words."""
    import pandas as pd

    from dongxi import vocab

    rule_zh = {r.code: r.zh for r in rules.rules}
    table = _places(rows["village_code"])
    table["户编号"] = rows["household_code"].to_numpy()
    if names:
        heads = households.set_index(households["household_code"].astype(str))["head_name"]
        table["户主姓名"] = rows["household_code"].map(heads).fillna("").to_numpy()
    table["判定"] = _label(rows["outcome"], vocab.MONITOR_OUTCOMES).to_numpy()
    table["监测类型"] = _label(
        rows["category"].where(rows["category"].notna(), None), vocab.MONITORING_CATEGORIES
    ).to_numpy()
    table["规则"] = rows["rule"].map(rule_zh).to_numpy()
    table["理由"] = rows["reason_zh"].to_numpy()
    table["帮扶方式建议"] = (
        _label(rows["help_kind"].where(rows["help_kind"].notna(), None), vocab.HELP_KINDS)
        .replace("", "无法判断：缺少家庭成员信息")
        .to_numpy()
    )
    table["是否已纳入监测"] = _yes_no(rows["in_monitoring"].astype(bool)).to_numpy()
    table["Reason (English)"] = rows["reason_en"].to_numpy()
    table["依据数据"] = rows["facts"].to_numpy()
    return pd.DataFrame(table).reset_index(drop=True)


def _about(run: MonitorRun, rules: Rules, what: str) -> pd.DataFrame:
    import pandas as pd

    from dongxi.monitor import transition

    t = transition(run.year, rules)
    items = [
        ("内容", what),
        ("年度", str(run.year)),
        ("排查日期", run.as_of.isoformat()),
        ("收入期间", run.window),
        ("监测线（元/人·年）", f"{run.line:,.0f}"),
        ("监测线依据", f"{run.line_status}；{run.line_source}"),
        ("规则", f"{run.rules}"),
        ("数据来源", run.source),
        ("户主姓名", "已列出（角色可查看个人信息）" if run.head_names else "未列出"),
        (
            "过渡期",
            f"{t['start']}–{t['end']}，{'、'.join(rules.transition.items_zh)}"
            + ("（本年度在过渡期内）" if t["in_transition"] else "（本年度不在过渡期内）"),
        ),
    ]
    return pd.DataFrame(items, columns=["项目", "内容"])


def _write(sheets: dict[str, pd.DataFrame], path: Path, inputs: list[Path]) -> Path:
    from dongxi.tables import write_sheets, write_table

    if path.suffix.lower() == ".csv":
        return write_table(next(iter(sheets.values())), path, option="--out", inputs=inputs)
    return write_sheets(sheets, path, option="--out", inputs=inputs)


def _prepare(
    principal: Principal,
    *,
    year: int,
    out: Path,
    url: str | None,
    engine: Engine | None,
    snapshot: Path | None,
    policy: Path | None,
    rules: Path | None,
    region: str | None,
    as_of: str | dt.date | None,
) -> tuple[
    Rules, PolicyValue, dt.date, dict[str, pd.DataFrame], str, bool, list[Path], Path,
    set[str] | None,
]:  # fmt: skip
    from dongxi.monitor import load_rules

    if snapshot is not None and (url is not None or engine is not None):
        raise InputError(
            "Give either a registry (--url) or a snapshot (--snapshot), not both.",
            column="--snapshot",
            fix="Drop one of --url and --snapshot.",
        )
    if region is not None:
        from dongxi.store.scope import Scope

        Scope.region(region)  # a bad code stops here, before anything is read
    inputs = [p for p in (snapshot, policy, rules) if p is not None]
    target = _check_out(Path(out), inputs)
    loaded = load_rules(rules)
    when = _as_of(as_of) or default_as_of(year)
    tables, source, names = _tables(
        principal, url=url, engine=engine, snapshot=snapshot, region=region
    )
    line = _line(year, line_scope(tables["households"], region), policy)
    cases = _open_identifications(principal, url=url, engine=engine, snapshot=snapshot)
    return loaded, line, when, tables, source, names, inputs, target, cases


def _run(
    target: Path,
    rows: int,
    year: int,
    when: dt.date,
    rules: Rules,
    line: PolicyValue,
    source: str,
    names: bool,
    counts: dict[str, int],
    table: pd.DataFrame | None = None,
) -> MonitorRun:
    from dongxi.monitor import check_window, span_text

    first, last = check_window(when, rules.window_months)
    return MonitorRun(
        path=target,
        rows=rows,
        year=year,
        as_of=when,
        window=span_text(first, last),
        line=float(line.value),
        line_status=str(line.status),
        line_source=str(line.source),
        rules=f"{rules.name} ({rules.source})",
        source=source,
        head_names=names,
        counts=counts,
        rows_table=table,
    )


def sweep_monitoring(
    *,
    principal: Principal,
    year: int,
    out: Path,
    url: str | None = None,
    engine: Engine | None = None,
    snapshot: Path | None = None,
    policy: Path | None = None,
    rules: Path | None = None,
    region: str | None = None,
    as_of: str | dt.date | None = None,
    open_cases: bool = False,
) -> MonitorRun:
    """The sweep of ``year`` written to ``out`` (.xlsx: the decisions, the focus groups and what
    the sweep read; .csv: the decisions). One row per household and rule that fired or could not
    be decided, with the reasons; ``counts`` per outcome.

    Households in an open identification case count as in monitoring. With ``open_cases``
    (registry only, ``monitor:open``) an identification case (channel ``cadre_sweep``, state
    'warning', the category of the first rule that includes it) is opened for each household the
    rules include that is not in monitoring and has no open case; the file says which."""
    principal.require("monitor:sweep")
    from dongxi.monitor import focus_households, sweep

    if open_cases:
        principal.require("monitor:open")
        if snapshot is not None:
            raise InputError(
                "Cases are opened in the registry, not in a snapshot.",
                column="--open-cases",
                fix="Drop --snapshot (read the registry with --url), or drop --open-cases.",
            )

    loaded, line, when, tables, source, names, inputs, target, cases = _prepare(
        principal,
        year=year,
        out=out,
        url=url,
        engine=engine,
        snapshot=snapshot,
        policy=policy,
        rules=rules,
        region=region,
        as_of=as_of,
    )
    rows = sweep(
        tables["households"],
        tables["people"],
        tables["income_months"],
        line=float(line.value),
        as_of=when,
        rules=loaded,
        open_cases=cases,
    )
    focus = focus_households(tables["households"], tables["people"], loaded)
    counts = {str(k): int(v) for k, v in rows["outcome"].value_counts().items()}
    run = _run(target, len(rows), year, when, loaded, line, source, names, counts, rows)
    if open_cases:
        run = replace(run, opened=_open_from_sweep(principal, rows, loaded, year, url, engine))
    focus_table = _places(focus["village_code"])
    focus_table["户编号"] = focus["household_code"].to_numpy()
    focus_table["重点人群"] = focus["focus_zh"].to_numpy()
    swept = _cadre_sweep(rows, tables["households"], loaded, names)
    if open_cases:
        ids = rows["household_code"].astype(str).map(run.opened)
        swept["本次启动识别案件"] = ids.map(lambda i: "" if i != i else str(int(i))).to_numpy()
    sheets = {
        "监测排查": swept,
        "重点人群": focus_table.reset_index(drop=True),
        "说明": _about(run, loaded, "防止返贫动态监测排查结果"),
    }
    _write(sheets, target, inputs)
    if snapshot is None:
        _record(principal, run, "monitor_sweep", url, engine)
    return run


def _open_from_sweep(
    principal: Principal,
    rows: pd.DataFrame,
    rules: Rules,
    year: int,
    url: str | None,
    engine: Engine | None,
) -> dict[str, int]:
    """Open identification cases (channel cadre_sweep) for the households the rules include that
    are not in monitoring; one transaction."""
    from dongxi.services.cases import Candidate, open_identifications
    from dongxi.store.db import session_scope

    rule_zh = {r.code: r.zh for r in rules.rules}
    included = rows[(rows["outcome"] == "include") & ~rows["in_monitoring"].astype(bool)]
    first = included.drop_duplicates("household_code", keep="first")
    candidates = [
        Candidate(
            household_code=str(r.household_code),
            category=str(r.category),
            source=f"{year}年监测排查：{rule_zh.get(str(r.rule), str(r.rule))}",
        )
        for r in first.itertuples(index=False)
    ]
    if not candidates:
        return {}
    with registry(url, engine=engine) as opened, session_scope(opened) as session:
        done = open_identifications(session, principal, candidates, channel="cadre_sweep")
    return dict(done.opened)


def audit_monitoring(
    *,
    principal: Principal,
    year: int,
    out: Path,
    url: str | None = None,
    engine: Engine | None = None,
    snapshot: Path | None = None,
    policy: Path | None = None,
    rules: Path | None = None,
    region: str | None = None,
    as_of: str | dt.date | None = None,
) -> MonitorRun:
    """The audit of ``year``: 应纳未纳 (households the rules include that are not monitored) and
    体外循环 (measures for households never identified, exits without the stability period,
    monitored households without a measure), written to ``out``; ``counts`` per finding."""
    principal.require("monitor:audit")
    import pandas as pd

    from dongxi import vocab
    from dongxi.monitor import missed, outside_system, sweep

    loaded, line, when, tables, source, names, inputs, target, cases = _prepare(
        principal,
        year=year,
        out=out,
        url=url,
        engine=engine,
        snapshot=snapshot,
        policy=policy,
        rules=rules,
        region=region,
        as_of=as_of,
    )
    rows = sweep(
        tables["households"],
        tables["people"],
        tables["income_months"],
        line=float(line.value),
        as_of=when,
        rules=loaded,
        open_cases=cases,
    )
    history = tables["household_status"]
    lines = _exit_lines(
        history, year, float(line.value), line_scope(tables["households"], region), policy
    )
    found = pd.concat(
        [
            missed(rows),
            outside_system(
                tables["households"],
                tables["people"],
                tables["measures"],
                status_history=history,
                income_months=tables["income_months"],
                lines=lines,
                rules=loaded,
                open_cases=cases,
            ),
        ],
        ignore_index=True,
    )
    counts = {str(k): int(v) for k, v in found["finding"].value_counts().items()}
    run = _run(target, len(found), year, when, loaded, line, source, names, counts, found)
    table = _places(found["village_code"])
    table["户编号"] = found["household_code"].to_numpy()
    if names:
        heads = tables["households"].set_index(tables["households"]["household_code"].astype(str))[
            "head_name"
        ]
        table["户主姓名"] = found["household_code"].map(heads).fillna("").to_numpy()
    table["问题"] = _label(found["finding"], vocab.AUDIT_FINDINGS).to_numpy()
    table["说明"] = found["reason_zh"].to_numpy()
    table["Finding (English)"] = found["reason_en"].to_numpy()
    table["依据数据"] = found["facts"].to_numpy()
    sheets = {
        "应纳未纳与体外循环": table.reset_index(drop=True),
        "说明": _about(run, loaded, "防止返贫监测核查：应纳未纳、体外循环"),
    }
    _write(sheets, target, inputs)
    if snapshot is None:
        _record(principal, run, "monitor_audit", url, engine)
    return run


def _exit_lines(
    history: pd.DataFrame, year: int, line: float, region: str | None, policy: Path | None
) -> dict[int, float]:
    """The monitoring line of each year in which a household's monitoring ended."""
    from dongxi.monitor import monitoring_exits

    lines = {year: line}
    if history.empty:
        return lines
    years = monitoring_exits(history)["effective_date"].dt.year.unique()
    for y in sorted(int(v) for v in years):
        if y not in lines:
            lines[y] = float(_line(y, region, policy).value)
    return lines
