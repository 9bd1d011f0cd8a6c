"""The demo (``dongxi demo``): the main job, end to end, on the embedded default.

Steps, each reported to a progress callback:

1. a working folder with a SQLite registry ``dongxi.db`` (left there for ``serve``/``export``)
   — or, when ``--url``/``DONGXI_DATABASE_URL`` names PostgreSQL, that database (empty, or a
   previous demo's: :mod:`dongxi._demodb`) —, migrated to the current schema (regions and
   pairings loaded), and the demo's own key file
   ``dongxi-keys.toml`` (random keys, mode 0600; never the configured keys: point
   ``DONGXI_KEY_FILE`` at it to work on the demo registry afterwards);
2. a synthetic Guangxi dataset (:mod:`dongxi.synth`), several rounds of a household panel and
   the months 2021–2025 with their shocks (``generate(through=2025)``);
3. the rounds 2016 and 2019 imported into the registry (validated, all-or-nothing) and each
   frozen as a snapshot; then the years 2021–2025 (each year's household states and income, the
   2025 members and the monthly income ``income_months``), frozen as the 2025 snapshot; the
   households' status history is dated at the end of each round's year;
4. identification on each snapshot (verified against its manifest first) with the built-in
   specs ``china_official`` and ``guangxi_rural`` plus income poverty against the line of the
   year, and the change between rounds as :mod:`dongxi.measure` computes it (rounds pooled);
5. a matching round at the 2017 scale of the Guangdong–Guangxi labour cooperation
   (23,908 seekers, 859 enterprises, 51,629 positions);
6. the monitoring of 2025 on the 2025 snapshot (:func:`dongxi.services.reporting.
   monitoring_tables`: the sweep and the audits as of 2025-12-31, the risk score of 2025 trained
   on the past years and its check on 2024 → 2025), the cadres' lists written beside the report;
7. the report (HTML + XLSX) and every table as CSV.

A built-in spec that does not exist is skipped and named in the result's ``missing`` list and in
the report ("Parts not available"); the demo never invents numbers for it.

The steps call the same use cases as the command line (:mod:`dongxi.services`: import,
snapshot, measure) as :meth:`~dongxi.services.Principal.local_operator`.

Re-running into a folder that already holds a demo is refused unless ``force=True``, which
removes only what a demo itself wrote (the registry and its key file, snapshots, report and tables),
as listed in the folder's marker file ``.dongxi-demo.json`` (see :mod:`dongxi._demofolder`); a
registry or a file the demo did not write is never deleted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from dongxi.errors import InputError
from dongxi.intake.headers import Kind
from dongxi.report import ReportData, build_report
from dongxi.services._monitoring_report import LIST_FILES
from dongxi.settings import KEY_FILE_NAME, Settings, use_settings
from dongxi.tables import write_table

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from dongxi.pii.protect import IdProtector
    from dongxi.services import Principal
    from dongxi.services.measurement import SnapshotTables
    from dongxi.synth import SynthData

__all__ = ["DEFAULT_HOUSEHOLDS", "DEFAULT_SEED", "DemoResult", "Progress", "run_demo"]

log = logging.getLogger(__name__)

#: Default size: about a county's worth (the demo with the years 2021–2025 takes about 1.3 times
#: the CPU of the two rounds alone; docs/demo.md has the timings).
DEFAULT_HOUSEHOLDS = 30_000
DEFAULT_SEED = 2017
#: The rounds of the panel: the 2016 state (registered poor at their peak) and the 2019 state.
ROUNDS = (2016, 2019)
#: The monitoring years (months from January 2021) and the year the demo monitors.
MONITOR_YEAR = 2025
LATER_YEARS = tuple(range(2021, MONITOR_YEAR + 1))
#: The demo accounts of the service (user, role, scope, password), readable by the owner only.
ACCOUNTS_FILE = "demo-accounts.txt"
#: The monitoring lines of the synthetic panel after 2021 (policy data has the national line of
#: 2021 only; from 2022 each province sets its own): written by the demo as an office's policy
#: file and given to the monitoring use cases, as an office would with ``--policy``.
POLICY_FILE = "policy-monitoring-lines.csv"

#: What the demo writes into its folder (``force`` removes what a marker lists under these).
OUTPUTS = (
    "dongxi.db",
    "dongxi.db-wal",
    "dongxi.db-shm",
    KEY_FILE_NAME,
    ACCOUNTS_FILE,
    "snapshots",
    "tables",
    "report.html",
    "report.xlsx",
    *LIST_FILES,
    POLICY_FILE,
)

#: progress(label, done, total): called before each step and once at the end.
Progress = Callable[[str, int, int], None]


@dataclass
class DemoResult:
    """What a demo run produced."""

    folder: Path
    database: Path | None  # the SQLite registry file; None when the registry is PostgreSQL
    registry: str = ""  # the registry's URL (password hidden)
    key_file: Path | None = None  # the demo's own ID-number keys (created in its folder)
    accounts: Path | None = None  # demo accounts of the service, one per role (mode 0600)
    report: Path | None = None
    workbook: Path | None = None
    tables: dict[str, Path] = field(default_factory=dict)
    summary: pd.DataFrame | None = None
    missing: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _prepare(folder: Path, *, force: bool, registry_file: bool) -> int:
    from dongxi._demofolder import prepare_folder

    return prepare_folder(folder, OUTPUTS, force=force, registry_file=registry_file)


def _configured_url(url: str | None) -> str | None:
    """The PostgreSQL URL the demo is to build in (``url``, else ``DONGXI_DATABASE_URL``), or
    ``None`` for the SQLite registry in the demo's folder."""
    from dongxi.settings import get_settings
    from dongxi.store.db import normalise_url

    chosen = url if url is not None else get_settings().database_url
    if chosen is None:
        return None
    parsed = normalise_url(chosen)
    if parsed.get_backend_name() != "postgresql":
        origin = "--url" if url is not None else "DONGXI_DATABASE_URL"
        raise InputError(
            f"The demo builds a SQLite registry only in its own folder (dongxi.db), not at the "
            f"SQLite URL of {origin}.",
            column=origin,
            rule="demo_registry",
            fix="Leave out --url (unset DONGXI_DATABASE_URL) for the SQLite demo in --dir, or "
            "give the URL of an empty PostgreSQL database.",
        )
    return parsed.render_as_string(hide_password=False)


@dataclass
class _Run:
    folder: Path
    households: int
    seed: int
    progress: Progress | None
    result: DemoResult
    principal: Principal
    pg_url: str | None = None  # the PostgreSQL registry; None: dongxi.db in the folder
    force: bool = False
    engine: Engine | None = None
    protector: IdProtector | None = None
    settings: Settings | None = None  # the demo's own keys, in force from the registry step on
    data: SynthData | None = None
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    snapshot_tables: dict[int, SnapshotTables] = field(default_factory=dict)
    snapshot_ids: dict[int, str] = field(default_factory=dict)
    measures: list[pd.DataFrame] = field(default_factory=list)
    income: list[pd.DataFrame] = field(default_factory=list)
    income_measures: list[pd.DataFrame] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    income_lines: list[dict[str, Any]] = field(default_factory=list)
    change: pd.DataFrame | None = None
    matching: dict[str, pd.DataFrame] = field(default_factory=dict)
    specs: list[dict[str, Any]] = field(default_factory=list)
    indicator_labels: dict[str, str] = field(default_factory=dict)
    counts: list[pd.DataFrame] = field(default_factory=list)
    spec_labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    headline_k: dict[str, float] = field(default_factory=dict)
    cutoff_labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    summary: list[dict[str, Any]] = field(default_factory=list)
    monitoring: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def registry(self) -> Engine:
        """The registry engine (created by the first step)."""
        if self.engine is None:
            raise RuntimeError("the registry step has not run")
        return self.engine

    def missing(self, text: str) -> None:
        log.info("demo: %s", text)
        self.result.missing.append(text)

    def fact(self, zh: str, en: str, value: Any, unit: str = "") -> None:
        self.summary.append({"label_zh": zh, "label_en": en, "value": value, "unit": unit})


def _step_registry(run: _Run) -> None:
    from dongxi.pii.keys import create_key_file
    from dongxi.pii.protect import IdProtector
    from dongxi.store import make_engine, upgrade
    from dongxi.store._keys import record_keys

    # the demo's own keys, in its folder: never the configured keys of a real registry
    key_file = create_key_file(run.folder / KEY_FILE_NAME, purpose="dongxi demo")
    run.result.key_file = key_file
    run.settings = Settings(key_file=key_file, encryption_key=None, lookup_key=None)
    keys = run.settings.id_keys()
    run.protector = IdProtector(encryption_key=keys.encryption, lookup_key=keys.lookup)
    log.info("demo: created the demo's own key file %s", key_file)
    if run.pg_url is None:
        run.engine = make_engine(f"sqlite:///{run.result.database}")
    else:
        from dongxi._demodb import prepare_database

        run.engine = make_engine(run.pg_url)
        prepare_database(run.engine, force=run.force)
    with use_settings(run.settings):
        upgrade(run.engine)
        record_keys(run.engine, run.protector)


def _step_synth(run: _Run) -> None:
    from dongxi.synth import generate

    run.data = generate(
        households=run.households, seed=run.seed, years=ROUNDS, through=MONITOR_YEAR
    )


def _import_round(run: _Run, year: int) -> None:
    if run.data is None:
        return
    data = run.data
    state = data.rounds[year]
    frames: dict[Kind, pd.DataFrame] = {
        "households": state.households,
        "people": state.people,
        "income": state.income,
    }
    if year == ROUNDS[0]:
        frames["helpers"] = data.helpers
        frames["partners"] = data.partners
    if year == ROUNDS[-1]:
        frames["measures"] = data.measures
    _import(run, year, frames)
    if year == ROUNDS[0]:
        run.fact("导入户数", "households imported", len(state.households), "户")
        run.fact("导入人数", "people imported", len(state.people), "人")
    _snapshot(run, year)


def _import(run: _Run, year: int, frames: dict[Kind, pd.DataFrame]) -> None:
    """One year's tables in one transaction; the status history dated 31 December of ``year``."""
    import datetime as dt

    from dongxi.services.imports import import_tables

    # the demo's own keys are in force (use_settings): the importer's protector uses them
    results = import_tables(
        principal=run.principal,
        engine=run.registry,
        frames=frames,
        source_name=f"synth-{year}",
        effective_date=dt.date(year, 12, 31),
    )
    rejected = {kind: r for kind, r in results.items() if not r.ok}
    if rejected:
        first = next(iter(rejected.values())).errors[0]
        raise InputError(
            f"The registry refused the synthetic {year} round "
            f"({', '.join(f'{k}: {r.rejected_rows} rows' for k, r in rejected.items())}); "
            f"first: {first.message_en}",
            row=first.row,
            column=first.column,
            rule=first.rule,
            fix="This is a bug in dongxi.synth or the import rules; please report it.",
        )


def _step_later_years(run: _Run) -> None:
    """2021–2025: each year's household states (status, monitoring category) and yearly income;
    with the last year its members and the monthly income of every year; then a snapshot."""
    if run.data is None:
        return
    data = run.data
    months = data.income_months
    for year in LATER_YEARS:
        state = data.rounds[year]
        frames: dict[Kind, pd.DataFrame] = {
            "households": state.households,
            "income": state.income,
        }
        if year == LATER_YEARS[-1]:
            frames["people"] = state.people
            if months is not None:
                frames["income_months"] = months
        _import(run, year, frames)
    if months is not None:
        run.fact("导入月度收入", "monthly income rows imported", len(months), "行")
    _snapshot(run, MONITOR_YEAR)


def _write_policy(run: _Run) -> Path | None:
    """The synthetic panel's monitoring lines of 2022.. as a policy file for Guangxi (each
    marked as the synthetic data's assumption, not an official figure)."""
    if run.data is None or run.data.relapse is None:
        return None
    relapse = run.data.relapse
    later = relapse[relapse["year"].astype(int) > 2021]
    frame = pd.DataFrame(
        {
            "name": "monitoring_line",
            "scope": PROVINCE,
            "year": later["year"].astype(int).to_numpy(),
            "value": later["line"].astype(float).round(2).to_numpy(),
            "unit": "yuan per person per year",
            "source": "dongxi demo: the synthetic panel's assumption (6,000 yuan in 2021, +5 % a "
            "year; docs/synthetic-data.md), not an official figure",
        }
    )
    return write_table(frame, run.folder / POLICY_FILE, option="demo policy file")


def _step_monitoring(run: _Run) -> None:
    if run.data is None:
        return
    import datetime as dt

    from dongxi.services.reporting import monitoring_tables

    snap = run.snapshot_tables[MONITOR_YEAR]
    section = monitoring_tables(
        principal=run.principal,
        snapshot=run.folder / "snapshots" / str(MONITOR_YEAR),
        households=snap.tables["households"],
        people=snap.tables["people"],
        year=MONITOR_YEAR,
        folder=run.folder,
        as_of=dt.date(MONITOR_YEAR, 12, 31),
        seed=run.seed,
        policy=_write_policy(run),
    )
    for text in section.missing:
        run.missing(text)
    run.monitoring = section.tables
    run.summary += section.facts


def _snapshot(run: _Run, year: int) -> None:
    from dongxi.services.measurement import read_snapshot
    from dongxi.services.snapshots import take_snapshot

    info = take_snapshot(
        principal=run.principal,
        engine=run.registry,
        folder=run.folder / "snapshots" / str(year),
        label=f"dongxi demo {year}",
    )
    files: dict[str, Any] = info.manifest["tables"]
    for name, entry in files.items():
        run.snapshots.append(
            {
                "round": str(year),
                "snapshot_id": info.snapshot_id,
                "created_at": info.manifest.get("created_at"),
                "table": name,
                "rows": int(entry["rows"]),
                "sha256": entry["sha256"],
            }
        )
    run.snapshot_tables[year] = read_snapshot(Path(info.folder))
    run.snapshot_ids[year] = info.snapshot_id


#: The built-in specs the demo identifies with (registry data; ``global_mpi`` needs survey data).
DEMO_SPECS = ("china_official", "guangxi_rural")


#: Policy figures of the demo: Guangxi's (provincial standards where they exist).
PROVINCE = "450000"


def _step_identify(run: _Run) -> None:
    if run.data is None:
        return
    from dongxi.services.reporting import identification_tables

    ident = identification_tables(
        principal=run.principal,
        rounds={year: run.snapshot_tables[year] for year in ROUNDS},
        specs=DEMO_SPECS,
        province=PROVINCE,
        by="county_code",
        sources={year: f"snapshot {run.snapshot_ids.get(year, year)}" for year in ROUNDS},
    )
    for text in ident.missing:
        run.missing(text)
    run.specs += ident.specs
    run.indicator_labels.update(ident.indicator_labels)
    run.measures += ident.measures
    run.counts += ident.counts
    run.spec_labels.update(ident.spec_labels)
    run.headline_k.update(ident.headline_k)
    run.cutoff_labels.update(ident.cutoff_labels)
    run.summary += ident.facts
    run.change = ident.change
    run.income_lines += ident.lines


def _step_income(run: _Run) -> None:
    if run.data is None:
        return
    from dongxi.services.reporting import income_tables

    income = income_tables(
        principal=run.principal,
        rounds={year: run.snapshot_tables[year] for year in ROUNDS},
        province=PROVINCE,
        by="county_code",
    )
    run.income_measures += income.measures
    run.income += income.income
    run.lines += income.lines
    run.summary += income.facts


def _step_matching(run: _Run) -> None:
    from dongxi.services import Principal
    from dongxi.services.matching import match_tables
    from dongxi.synth.market import market_2017

    # The 2017 scale of the Guangdong–Guangxi labour cooperation: 23,908 seekers, 859
    # enterprises, 51,629 positions (synthesised at that scale, not drawn from the demo registry,
    # which is smaller); matched by the same use case as `dongxi match --needs --offers`.
    seekers, offers = market_2017(seed=run.seed)
    result = match_tables(Principal.local_operator(), seekers, offers, seed=run.seed)
    tables: dict[str, pd.DataFrame] = dict(result.tables)
    overall: dict[str, Any] = {
        str(row["method"]): row for row in tables["overall"].to_dict("records")
    }
    stable = overall["stable"]
    cards = [
        ("求职者", "job seekers", int(stable["seekers"]), "人"),
        ("东部企业", "eastern enterprises", int(result.offers["partner_code"].nunique()), "家"),
        ("岗位", "positions", int(stable["positions"]), "个"),
        ("稳定匹配 安置率", "placement rate, stable", float(stable["match_rate"]), "share"),
    ]
    if "optimal" in overall:
        optimal = overall["optimal"]
        cards += [
            (
                "福利最优匹配 安置率",
                "placement rate, welfare-optimal",
                float(optimal["match_rate"]),
                "share",
            ),
            ("稳定匹配 总福利", "total welfare, stable", float(stable["total_welfare"]), ""),
            ("最优 总福利", "total welfare, optimal", float(optimal["total_welfare"]), ""),
            ("最优方案的阻塞对", "blocking pairs, optimal", int(optimal["blocking_pairs"]), ""),
        ]
    summary = pd.DataFrame(cards, columns=["label_zh", "label_en", "value", "unit"])
    by_group = []
    for name, column in (("by_county", "county_code"), ("by_status", "status")):
        frame = tables.get(name)
        if frame is None:
            continue
        part = frame[frame["method"] == "stable"]
        by_group.append(
            pd.DataFrame(
                {
                    "by": column,
                    "group": part[column].astype(str),
                    "seekers": part["seekers"],
                    "matched": part["matched"],
                    "matched_rate": part["match_rate"],
                }
            )
        )
    run.matching = {"summary": summary}
    if by_group:
        run.matching["by_group"] = pd.concat(by_group, ignore_index=True)
    for name in ("overall", "comparison", "by_county", "by_status"):
        if name in tables:
            run.matching[name] = tables[name]
    run.fact(
        "劳务协作安置率（稳定匹配）",
        "placement rate (stable)",
        float(stable["match_rate"]),
        "share",
    )


def _step_accounts(run: _Run) -> None:
    """One service account per role with a random password, for trying ``dongxi serve`` on the
    demo registry (demo only: written to the folder's ``demo-accounts.txt``, mode 0600)."""
    import secrets

    from dongxi.outputs import atomic_write, output_file
    from dongxi.services import accounts
    from dongxi.store.db import session_scope

    if run.data is None:
        return
    households = run.data.rounds[ROUNDS[-1]].households
    village = str(households["village_code"].iloc[0])
    partner = str(run.data.partners["partner_code"].iloc[0])
    scopes: list[tuple[str, str, dict[str, str]]] = [
        ("demo-admin", "admin", {}),
        ("demo-province", "province_officer", {"region": village[:2]}),
        ("demo-county", "county_officer", {"region": village[:6]}),
        ("demo-township", "township_officer", {"region": village[:9]}),
        ("demo-village", "village_officer", {"region": village}),
        ("demo-partner", "east_partner", {"partner": partner}),
        ("demo-east-office", "east_office", {"region": "4400"}),
        ("demo-analyst", "analyst", {}),
        ("demo-auditor", "auditor", {}),
    ]
    lines = [
        "# dongxi demo accounts — DEMO ONLY: random passwords for a synthetic registry.",
        "# user\trole\tscope\tpassword",
    ]
    with session_scope(run.registry) as session:
        for name, role, scope in scopes:
            password = secrets.token_urlsafe(12)
            accounts.add_user(
                session, run.principal, username=name, password=password, role=role, **scope
            )
            where = scope.get("region") or scope.get("partner") or "everything"
            lines.append(f"{name}\t{role}\t{where}\t{password}")
    path = output_file(run.folder / ACCOUNTS_FILE, option="demo accounts")
    with atomic_write(path, private=True, option="demo accounts") as out:
        out.write(("\n".join(lines) + "\n").encode("utf-8"))
    run.result.accounts = path


def _step_report(run: _Run) -> None:
    summary = pd.DataFrame(run.summary) if run.summary else None
    data = ReportData(
        subtitle=(
            f"合成数据演示 synthetic demo · {run.households:,} 户 households · seed {run.seed}"
        ),
        summary=summary,
        measures=pd.concat(run.measures, ignore_index=True) if run.measures else None,
        income=pd.concat(run.income, ignore_index=True) if run.income else None,
        poverty_lines=pd.DataFrame(run.lines) if run.lines else None,
        income_lines=pd.DataFrame(run.income_lines) if run.income_lines else None,
        income_measures=(
            pd.concat(run.income_measures, ignore_index=True) if run.income_measures else None
        ),
        change=run.change,
        matching=run.matching,
        snapshots=pd.DataFrame(run.snapshots) if run.snapshots else None,
        specs=pd.DataFrame(run.specs) if run.specs else None,
        policy=_policy_table(),
        missing=run.result.missing,
        indicator_labels=run.indicator_labels,
        counts=pd.concat(run.counts, ignore_index=True) if run.counts else None,
        spec_labels=run.spec_labels,
        headline_k=run.headline_k,
        cutoff_labels=run.cutoff_labels,
        monitoring=run.monitoring,
    )
    run.result.report = build_report(data, folder=run.folder)
    run.result.workbook = run.result.report.with_suffix(".xlsx")
    run.result.summary = summary
    for name, frame in data.tables().items():
        run.result.tables[name] = write_table(frame, run.folder / "tables" / f"{name}.csv")


def _policy_table() -> pd.DataFrame | None:
    from dongxi.policy import describe_parameters

    frame = describe_parameters()
    keep = frame["name"].isin(["poverty_line", "monitoring_line"])
    return frame.loc[keep, ["name", "scope", "years", "value", "unit", "status", "source"]]


def _round_step(year: int) -> Callable[[_Run], None]:
    def step(run: _Run) -> None:
        _import_round(run, year)

    return step


_STEPS: tuple[tuple[str, Callable[[_Run], None]], ...] = (
    ("建立登记库 creating the registry", _step_registry),
    ("生成合成数据 synthesising data", _step_synth),
    *(
        (f"导入 {year} 年数据并建快照 importing {year}, snapshot", _round_step(year))
        for year in ROUNDS
    ),
    (
        f"导入 {LATER_YEARS[0]}–{LATER_YEARS[-1]} 年数据（含月度收入）并建快照 "
        f"importing {LATER_YEARS[0]}–{LATER_YEARS[-1]} with the months, snapshot",
        _step_later_years,
    ),
    ("多维识别 identification (china_official, guangxi_rural)", _step_identify),
    ("收入贫困 income poverty", _step_income),
    ("劳务协作匹配 matching seekers and positions", _step_matching),
    (
        f"防返贫监测 {MONITOR_YEAR} monitoring: sweep, audits, risk score",
        _step_monitoring,
    ),
    ("演示账号 demo accounts of the service", _step_accounts),
    ("生成报告 writing the report", _step_report),
)


def run_demo(
    folder: str | Path = "dongxi-demo",
    *,
    households: int = DEFAULT_HOUSEHOLDS,
    seed: int = DEFAULT_SEED,
    force: bool = False,
    progress: Progress | None = None,
    url: str | None = None,
) -> DemoResult:
    """Run the demo into ``folder``; see the module documentation for the steps.

    The registry is the PostgreSQL database of ``url`` (else of ``DONGXI_DATABASE_URL``),
    which must be empty or a previous demo's (:mod:`dongxi._demodb`); with neither, the SQLite
    file ``dongxi.db`` in ``folder``.
    """
    if households < 50:
        raise InputError(
            "The demo needs at least 50 households.",
            column="households",
            value=households,
            fix="Pass --households 50 or more (default 30,000).",
        )
    root = Path(folder).expanduser().resolve()
    pg_url = _configured_url(url)
    demo_id = _prepare(root, force=force, registry_file=pg_url is None)
    from dongxi.services import Principal
    from dongxi.store.db import public_url

    database = root / "dongxi.db" if pg_url is None else None
    shown = public_url(pg_url) if pg_url is not None else f"sqlite:///{database}"
    result = DemoResult(folder=root, database=database, registry=shown)
    run = _Run(
        pg_url=pg_url,
        force=force,
        folder=root,
        households=households,
        seed=seed,
        progress=progress,
        result=result,
        principal=Principal.local_operator(),
    )
    try:
        for i, (label, step) in enumerate(_STEPS):
            if progress is not None:
                progress(label, i, len(_STEPS))
            start = time.perf_counter()
            if run.settings is None:
                step(run)
            else:
                with use_settings(run.settings):
                    step(run)
            result.seconds[label] = time.perf_counter() - start
        if progress is not None:
            progress("完成 done", len(_STEPS), len(_STEPS))
    finally:
        if run.engine is not None:
            run.engine.dispose()
        from dongxi._demofolder import record_outputs

        record_outputs(root, OUTPUTS, demo_id)
    return result
