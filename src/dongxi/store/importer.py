"""Safe imports into the registry: validate everything, then write all or nothing.

:func:`import_file` reads a CSV (UTF-8, UTF-8 with BOM or GB18030, detected), XLSX or Parquet
file, maps its headers (:mod:`dongxi.intake.headers`), detects the kind when not given, validates
every row (:mod:`dongxi.intake.validate`) and writes in **one transaction**:

* by default all-or-nothing: any rejected row means nothing is written; a failure or a killed
  process leaves the registry exactly as before (the transaction never commits);
* with ``partial=True`` the valid rows are written and the rejected ones reported;
* upsert by natural key: new records are inserted, changed ones updated (``row_version`` bumped),
  unchanged ones left alone, so re-importing the same file changes nothing;
* every created or updated record gets a change-log entry (``record_changes``); the monthly
  income ``income_months`` one entry per household and year, holding its months
  (:class:`~dongxi.intake.columns.LogGroup`);
* imports queue: the transaction takes its lock before it reads anything (SQLite: ``BEGIN
  IMMEDIATE``, the database's write lock; PostgreSQL: a transaction-level advisory lock per kind
  imported), so a second import of the same data waits for the first to commit, then finds its
  rows unchanged. After ``DONGXI_IMPORT_LOCK_WAIT`` seconds of waiting it gives up with
  :class:`~dongxi.errors.ConflictError` ("another import is running");
* ID numbers are stored encrypted with a keyed hash (:mod:`dongxi.pii.protect`); households
  get a ``household_status`` history entry when created or when their status changes.

:func:`import_frame` and :func:`import_frames` do the same for DataFrames (the demo and
``dongxi.synth`` use them); :func:`import_frames` imports several kinds in one transaction in
dependency order (helpers, partners, households, people, income, measures).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RootTransaction

from dongxi.errors import ConflictError, InputError, RowError
from dongxi.intake.columns import MARKET_KINDS, TABLE_KINDS
from dongxi.intake.headers import (
    KINDS,
    Kind,
    check_header_row,
    detect_kind,
    load_mapping,
    to_canonical,
)
from dongxi.intake.validate import Validated, validate_frame
from dongxi.pii.protect import IdProtector, get_protector
from dongxi.settings import get_settings
from dongxi.store._changelog import Prepared, prepare_created, prepare_grouped
from dongxi.store._import_write import Plan, apply_plan, bulk_insert, plan_upsert, registry_view
from dongxi.store._keys import verify_keys
from dongxi.store.db import SQLITE_BEGIN_IMMEDIATE, translate_errors
from dongxi.tables import Sheet, read_sheets

__all__ = [
    "IMPORT_ORDER",
    "FileImport",
    "FilePlan",
    "ImportResult",
    "import_file",
    "import_frame",
    "import_frames",
    "import_path",
    "plan_file",
]

log = logging.getLogger(__name__)

#: The order in which kinds are written when several are imported together.
IMPORT_ORDER: tuple[Kind, ...] = (
    "helpers",
    "partners",
    "households",
    "people",
    "income",
    "income_months",
    "measures",
    "needs",
    "offers",
)

Progress = Callable[[str, int, int], None]


@dataclass
class ImportResult:
    """What one import did (or would have done)."""

    kind: Kind
    source: str
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False

    @property
    def rejected_rows(self) -> int:
        """Number of rows with at least one error."""
        return len({e.row for e in self.errors})

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return not self.errors


#: The kinds whose keys later tables of the same import refer to.
_REFERENCED: frozenset[Kind] = frozenset(r for t in TABLE_KINDS.values() for r in t.refers_to)


def _keys_of(kind: Kind, frame: pd.DataFrame) -> set[str]:
    if kind not in _REFERENCED:
        return set()
    (name,) = TABLE_KINDS[kind].key
    if name not in frame.columns:
        return set()
    return {str(v) for v in frame[name].dropna()}


def _status_dates(valid: pd.DataFrame) -> dict[str, dt.date]:
    """household code → the date in its 状态变更日期 cell, for the rows that have one."""
    if "status_date" not in valid.columns:
        return {}
    given = valid[valid["status_date"].notna()]
    return {
        str(code): pd.Timestamp(day).date()
        for code, day in zip(given["household_code"], given["status_date"], strict=True)
    }


def _write_status_history(
    conn: Connection,
    plan: Plan,
    *,
    effective_date: dt.date | None = None,
    dates: Mapping[str, dt.date] | None = None,
) -> None:
    """One ``household_status`` entry per created household and per status change.

    Dated by the row's 状态变更日期 (``dates``), else ``effective_date``, else today.
    """
    import dongxi.store.all_models  # noqa: F401
    from dongxi.store.base import Base

    table = Base.metadata.tables["household_status"]
    households = Base.metadata.tables["households"]
    default = effective_date or dt.date.today()
    dated = dates or {}
    new = plan.new
    rows = [
        {
            "household_code": code,
            "status": status,
            "monitoring_category": category,
            "effective_date": dated.get(code, default),
            "reason": "import",
        }
        for code, status, category in zip(
            new.get("household_code", ()),
            new.get("status", ()),
            new.get("monitoring_category", ()),
            strict=True,
        )
    ]
    changed = [
        after["household_code"]
        for after, _before in plan.updates
        if "status" in after or "monitoring_category" in after
    ]
    for i in range(0, len(changed), 5000):
        chunk = changed[i : i + 5000]
        current = conn.execute(
            sa.select(
                households.c.household_code, households.c.status, households.c.monitoring_category
            ).where(households.c.household_code.in_(chunk))
        ).all()
        rows += [
            {
                "household_code": code,
                "status": status,
                "monitoring_category": category,
                "effective_date": dated.get(code, default),
                "reason": "import",
            }
            for code, status, category in current
        ]
    if rows:
        bulk_insert(conn, table, rows, None, bulk=plan.bulk)


def _record(conn: Connection, plan: Plan, *, actor: str, created: Prepared | None) -> None:
    """Change-log entries for every created and updated record (none for unchanged ones).

    ``created`` holds the entries of the new rows, rendered while they were written.
    """
    from dongxi.store._changelog import Change, group_changes, record_changes, record_prepared

    table_kind = TABLE_KINDS[plan.kind]
    if created is not None:
        record_prepared(conn, actor=actor, prepared=created)
    if plan.updates:
        updated: Iterable[Change] = (
            Change(key=table_kind.key_text(a), before=b, after=a) for a, b in plan.updates
        )
        if table_kind.log_group is not None:  # one entry per group of rows (income_months)
            updated = group_changes(table_kind, updated)
        record_changes(conn, actor=actor, action="update", entity=table_kind.name, changes=updated)


def _import_one(
    conn: Connection,
    *,
    kind: Kind,
    frame: pd.DataFrame,
    headers: Mapping[str, str],
    source: str,
    actor: str,
    partial: bool,
    write: bool,
    pending: dict[str, set[str]],
    regions_cache: dict[str, frozenset[str]],
    progress: Progress | None,
    protector: IdProtector | None,
    effective_date: dt.date | None = None,
) -> tuple[ImportResult, Plan | None, Validated]:
    hasher = protector.hash if kind == "people" and protector is not None else None
    view = registry_view(
        conn,
        kind=kind,
        frame=frame,
        pending=pending,
        regions_cache=regions_cache,
        hasher=hasher,
    )
    checked = validate_frame(
        frame,
        kind=kind,
        registry=view,
        headers=headers,
        hasher=hasher,
        file=source,
    )
    result = ImportResult(kind=kind, source=source, rows=len(frame), errors=checked.errors)
    if not write or (checked.errors and not partial):
        return result, None, checked
    valid = checked.valid
    if kind in MARKET_KINDS:
        # needs and offers are kept with their versions: each row becomes the current one
        from dongxi.store.market_models import import_market_rows

        result.created = import_market_rows(conn, kind, valid, actor=actor)
        if progress is not None:
            progress(kind, result.created, result.created)
        return result, None, checked
    plan = plan_upsert(conn, kind=kind, frame=valid)
    clear: dict[str, str] | None = None
    if kind == "people":
        good = valid[valid["id_number"].notna()]
        clear = dict(zip(good["id_hash"], good["id_number"], strict=True))
    total = plan.created + len(plan.updates)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(kind, done, total)

    rendered: list[Prepared] = []

    def render() -> None:
        # the new rows' change-log entries, rendered while the server takes the rows
        if plan.created:
            table_kind = TABLE_KINDS[kind]
            if table_kind.log_group is not None:  # one entry per group of rows (income_months)
                rendered.append(prepare_grouped(kind=table_kind, records=plan.new))
                return
            keys = table_kind.key_texts(plan.new)
            rendered.append(prepare_created(entity=table_kind.name, keys=keys, records=plan.new))

    apply_plan(
        conn,
        plan,
        encrypt=protector.encrypt_many if protector is not None else None,
        clear_ids=clear,
        progress=step,
        meanwhile=render,
    )
    if kind == "households":
        _write_status_history(conn, plan, effective_date=effective_date, dates=_status_dates(valid))
    _record(conn, plan, actor=actor, created=rendered[0] if rendered else None)
    result.created = plan.created
    result.updated = len(plan.updates)
    result.unchanged = plan.unchanged
    pending.setdefault(kind, set()).update(_keys_of(kind, valid))
    return result, plan, checked


#: SQLite page cache for an import (KiB, as a negative ``cache_size``): the indexes of a
#: 400k-row table then stay in memory while it is written. Durability settings are unchanged.
_SQLITE_IMPORT_CACHE_KIB = 262_144


def _widen_sqlite_cache(conn: Connection) -> int | None:
    """Enlarge SQLite's page cache for this connection; return the previous setting."""
    if conn.dialect.name != "sqlite":
        return None
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{_SQLITE_IMPORT_CACHE_KIB}")
    conn.commit()
    return int(before)


#: First key of the PostgreSQL advisory locks of imports ("dxim"); the second is the kind's
#: place in :data:`IMPORT_ORDER`.
_PG_IMPORT_LOCK = 0x6478696D
_SQLITE_BUSY = 5


def _busy(kinds: list[Kind], waited: float) -> ConflictError:
    return ConflictError(
        f"Another import is running ({', '.join(kinds)}): this one waited {waited:g} s for it "
        "to finish and gave up. Nothing was written.",
        fix="Run the import again when the other one has finished, or wait longer "
        "(DONGXI_IMPORT_LOCK_WAIT, in seconds).",
    )


def _begin_locked(conn: Connection, kinds: list[Kind]) -> RootTransaction:
    """Begin the import's transaction holding its lock (imports queue; see the module doc)."""
    wait = get_settings().import_lock_wait
    log.info("import of %s: waiting for other imports to finish", ", ".join(kinds))
    trans = _begin_waiting(conn, kinds, wait)
    log.info("import of %s: lock taken", ", ".join(kinds))
    return trans


def _begin_waiting(conn: Connection, kinds: list[Kind], wait: float) -> RootTransaction:
    if conn.dialect.name == "sqlite":
        previous = conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
        conn.exec_driver_sql(f"PRAGMA busy_timeout={int(wait * 1000)}")
        conn.commit()
        conn.execution_options(**{SQLITE_BEGIN_IMMEDIATE: True})
        try:
            return conn.begin()
        except sa.exc.OperationalError as exc:
            if getattr(exc.orig, "sqlite_errorcode", None) == _SQLITE_BUSY:
                raise _busy(kinds, wait) from exc
            raise
        finally:
            conn.execution_options(**{SQLITE_BEGIN_IMMEDIATE: False})
            conn.exec_driver_sql(f"PRAGMA busy_timeout={int(previous)}")
    trans = conn.begin()
    try:
        previous = conn.exec_driver_sql("SHOW lock_timeout").scalar_one()
        conn.execute(
            sa.text("SELECT set_config('lock_timeout', :v, true)"), {"v": f"{int(wait * 1000)}ms"}
        )
        for kind in kinds:  # always in IMPORT_ORDER: two imports never wait for each other
            conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(:a, :b)"),
                {"a": _PG_IMPORT_LOCK, "b": IMPORT_ORDER.index(kind)},
            )
        conn.execute(sa.text("SELECT set_config('lock_timeout', :v, true)"), {"v": previous})
    except sa.exc.OperationalError as exc:
        trans.rollback()
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
            raise _busy(kinds, wait) from exc
        raise
    return trans


#: New rows after which an import refreshes the planner's statistics of the tables it wrote.
ANALYZE_AFTER_ROWS = 10_000


def _refresh_statistics(conn: Connection, results: Mapping[Kind, ImportResult]) -> None:
    """``ANALYZE`` the tables of a committed import that created many rows.

    Without statistics the planner of a freshly loaded table guesses, and PostgreSQL scans every
    household for one page of a list until autovacuum analyzes the table (minutes later).
    Outside the import's transaction: statistics are no part of the data, and a failure here
    leaves the import committed.
    """
    tables: list[str] = [
        TABLE_KINDS[kind].name
        for kind, result in results.items()
        if result.created >= ANALYZE_AFTER_ROWS
    ]
    if not tables:
        return
    tables.append("change_log")
    try:
        with conn.begin():
            for table in tables:
                conn.exec_driver_sql(f'ANALYZE "{table}"')
    except sa.exc.SQLAlchemyError:  # statistics only: the import itself is committed
        log.warning("import: ANALYZE of %s failed; the planner keeps its old statistics", tables)


def import_frames(
    engine: Engine,
    frames: Mapping[Kind, pd.DataFrame],
    *,
    actor: str,
    partial: bool = False,
    source_name: str = "frame",
    mapping: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    protector: IdProtector | None = None,
    sources: Mapping[Kind, str] | None = None,
    effective_date: dt.date | None = None,
    check: bool = False,
) -> dict[Kind, ImportResult]:
    """Import several kinds in one transaction (in :data:`IMPORT_ORDER`).

    With ``check`` every table is validated against the registry exactly as for an import
    (inside the same locked transaction) and nothing is written: the results say what would
    be rejected, with ``written`` false and no counts of created or updated rows.

    Without ``partial``, any rejected row in any table means nothing at all is written.
    Columns may be canonical names or Chinese headers. ``sources`` names where each kind's table
    came from (for the report; default ``source_name`` or ``source_name:kind``). Returns one
    result per kind.
    ``effective_date`` dates the households' status history entries whose row has no
    状态变更日期 (default: today).
    People need the ID-number keys: ``protector``, or the configured keys; they are checked
    against the registry's key check values before anything is written
    (:func:`dongxi.store._keys.verify_keys`).
    """
    for kind in frames:
        if kind not in KINDS:
            raise InputError(
                f"Unknown kind of import '{kind}'.", value=kind, fix=f"Use one of {KINDS}."
            )
    results: dict[Kind, ImportResult] = {}
    pending: dict[str, set[str]] = {}
    regions_cache: dict[str, frozenset[str]] = {}
    if "people" in frames and protector is None:
        protector = get_protector()  # no keys: refused here, saying how to create them
    with translate_errors("Importing into the registry"):
        conn = engine.connect()
        cache_size = _widen_sqlite_cache(conn)
        try:
            trans = _begin_locked(conn, [k for k in IMPORT_ORDER if k in frames])
            try:
                if "people" in frames and protector is not None:
                    verify_keys(conn, protector)  # before any row is written
                failed = False
                for kind in IMPORT_ORDER:
                    if kind not in frames:
                        continue
                    canon, headers = to_canonical(frames[kind], kind, mapping)
                    source = (sources or {}).get(kind) or (
                        f"{source_name}:{kind}" if len(frames) > 1 else source_name
                    )
                    result, _plan, _checked = _import_one(
                        conn,
                        kind=kind,
                        frame=canon,
                        headers=headers,
                        source=source,
                        actor=actor,
                        partial=partial,
                        write=not (failed or check),
                        pending=pending,
                        regions_cache=regions_cache,
                        progress=progress,
                        protector=protector,
                        effective_date=effective_date,
                    )
                    results[kind] = result
                    if check:  # later tables are judged as if this one had been written
                        pending.setdefault(kind, set()).update(_keys_of(kind, canon))
                    if result.errors and not partial:
                        failed = True
                        # keep validating the rest so the report is complete; pretend the
                        # rejected table's keys exist so later tables are judged on their own.
                        pending.setdefault(kind, set()).update(_keys_of(kind, canon))
                if failed or check:
                    trans.rollback()
                    for result in results.values():
                        result.created = result.updated = result.unchanged = 0
                        result.written = False
                else:
                    trans.commit()
                    for result in results.values():
                        result.written = True
                    _refresh_statistics(conn, results)
            except BaseException:
                if trans.is_active:
                    trans.rollback()
                raise
        finally:
            if cache_size is not None and not conn.invalidated:
                conn.exec_driver_sql(f"PRAGMA cache_size={int(cache_size)}")
            conn.close()
    for result in results.values():
        log.info(
            "import %s from %s: %d rows, %d created, %d updated, %d unchanged, %d rejected",
            result.kind,
            result.source,
            result.rows,
            result.created,
            result.updated,
            result.unchanged,
            result.rejected_rows,
        )
    return results


def import_frame(
    engine: Engine,
    *,
    kind: Kind,
    frame: pd.DataFrame,
    actor: str,
    partial: bool = False,
    source_name: str = "frame",
    mapping: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one table (canonical or Chinese headers) of ``kind``; see :func:`import_frames`."""
    results = import_frames(
        engine,
        {kind: frame},
        actor=actor,
        partial=partial,
        source_name=source_name,
        mapping=mapping,
        progress=progress,
    )
    return results[kind]


@dataclass
class FilePlan:
    """The tables of one input file, each with its kind, ready for :func:`import_frames`."""

    source: str
    frames: dict[Kind, pd.DataFrame]
    sources: dict[Kind, str]
    ignored: list[str]
    mapping: dict[str, str] | None


@dataclass
class FileImport:
    """What importing one file (all its sheets, one transaction) did."""

    source: str
    results: dict[Kind, ImportResult]
    ignored: list[str]

    @property
    def ok(self) -> bool:
        """True when no row of any sheet was rejected."""
        return all(r.ok for r in self.results.values())

    @property
    def written(self) -> bool:
        """True when the import committed."""
        return all(r.written for r in self.results.values())


def _in_sheet(exc: InputError, sheet: Sheet, *, several: bool, file: str) -> InputError:
    if several:
        exc.message = f"Sheet '{sheet.name}': {exc.message}"
    exc.file = file
    return exc


def plan_file(
    path: str | Path,
    *,
    kind: Kind | None = None,
    mapping: Mapping[str, str] | str | Path | None = None,
) -> FilePlan:
    """Read ``path`` and tell each table's kind (from its headers unless ``kind`` is given).

    A workbook's sheets are each imported by their kind; empty sheets (no cells, or headers
    only) are ignored and named in :attr:`FilePlan.ignored`. Refused, naming the sheets: a hidden
    sheet holding data, two sheets of the same kind, ``kind`` given for a workbook with several
    sheets holding data, a sheet whose kind cannot be recognised, a title row above the headers.
    """
    p = Path(path)
    user_map = load_mapping(mapping) if isinstance(mapping, str | Path) else mapping
    user_map = dict(user_map) if user_map is not None else None
    sheets = read_sheets(p)
    workbook = p.suffix.lower() in (".xlsx", ".xlsm")
    filled = [s for s in sheets if not s.empty]

    def describe(s: Sheet) -> str:
        what = "hidden, " if s.hidden else ""
        rows = "no cells" if s.frame.shape[1] == 0 else "headers only"
        return f"'{s.name}' ({what}empty: {rows})"

    ignored = [describe(s) for s in sheets if s.empty] if workbook else []
    if not filled:
        raise InputError(
            "The file holds no rows to import"
            + (f": every sheet is empty ({', '.join(ignored)})." if workbook else "."),
            file=str(p),
            rule="empty",
            fix="Check that this is the right file, with the headers in row 1 and data below.",
        )
    hidden = [s.name for s in filled if s.hidden]
    if hidden:
        raise InputError(
            f"The workbook has hidden sheet(s) holding data: {', '.join(map(repr, hidden))}. "
            "They would be imported without anyone having seen them.",
            file=str(p),
            value=", ".join(hidden),
            rule="hidden_sheet",
            fix="Unhide them in Excel (right-click a sheet tab → Unhide) to import them too, or "
            "delete them.",
        )
    several = len(filled) > 1
    if kind is not None and several:
        raise InputError(
            f"The workbook has {len(filled)} sheets holding data "
            f"({', '.join(repr(s.name) for s in filled)}); --kind applies to one table.",
            file=str(p),
            rule="kind",
            fix="Leave out --kind (each sheet's kind is recognised from its headers), or keep "
            "one sheet.",
        )
    frames: dict[Kind, pd.DataFrame] = {}
    sources: dict[Kind, str] = {}
    where: dict[Kind, str] = {}
    for sheet in filled:
        try:
            check_header_row(sheet.frame, user_map)
            found = kind or detect_kind(
                [str(c) for c in sheet.frame.columns],
                user_map,
                next_row=sheet.frame.iloc[0].tolist(),
            )
        except InputError as exc:
            raise _in_sheet(exc, sheet, several=several, file=str(p)) from None
        if found in frames:
            raise InputError(
                f"Sheets '{where[found]}' and '{sheet.name}' both hold {found}.",
                file=str(p),
                rule="kind",
                fix="Put the rows in one sheet, or import the sheets as separate files.",
            )
        frames[found] = sheet.frame
        where[found] = sheet.name
        sources[found] = f"{p.name}:{sheet.name}" if several else p.name
    return FilePlan(
        source=p.name, frames=frames, sources=sources, ignored=ignored, mapping=user_map
    )


def import_path(
    engine: Engine,
    path: str | Path,
    *,
    kind: Kind | None = None,
    mapping: Mapping[str, str] | str | Path | None = None,
    partial: bool = False,
    actor: str,
    progress: Progress | None = None,
    effective_date: dt.date | None = None,
) -> FileImport:
    """Import every table of ``path`` (each sheet of a workbook by its kind) in one transaction;
    see :func:`plan_file` and :func:`import_frames`."""
    plan = plan_file(path, kind=kind, mapping=mapping)
    results = import_frames(
        engine,
        plan.frames,
        actor=actor,
        partial=partial,
        source_name=plan.source,
        mapping=plan.mapping,
        progress=progress,
        sources=plan.sources,
        effective_date=effective_date,
    )
    return FileImport(source=plan.source, results=results, ignored=plan.ignored)


def import_file(
    engine: Engine,
    path: str | Path,
    *,
    kind: Kind | None = None,
    mapping: Mapping[str, str] | str | Path | None = None,
    partial: bool = False,
    actor: str,
    progress: Progress | None = None,
) -> ImportResult:
    """Read ``path`` (CSV/XLSX/Parquet), detect its kind if not given, and import it.

    For a file of one table; a workbook with several sheets holding data is refused before
    anything is written (use :func:`import_path`).
    """
    plan = plan_file(path, kind=kind, mapping=mapping)
    if len(plan.frames) > 1:
        raise InputError(
            f"The workbook holds {len(plan.frames)} tables ({', '.join(plan.sources.values())}).",
            file=str(path),
            rule="kind",
            fix="Use import_path (or 'dongxi import') to import every sheet in one transaction.",
        )
    (only,) = plan.frames
    return import_frame(
        engine,
        kind=only,
        frame=plan.frames[only],
        actor=actor,
        partial=partial,
        source_name=plan.sources[only],
        mapping=plan.mapping,
        progress=progress,
    )
