"""Safe imports into the registry: validate everything, then write all or nothing.

:func:`import_file` reads a CSV (UTF-8, UTF-8 with BOM or GB18030, detected), XLSX or Parquet
file, maps its headers (:mod:`dongxi.intake.headers`), detects the kind when not given, validates
every row (:mod:`dongxi.intake.validate`) and writes in **one transaction**:

* by default all-or-nothing: any rejected row means nothing is written; a failure or a killed
  process leaves the registry exactly as before (the transaction never commits);
* with ``partial=True`` the valid rows are written and the rejected ones reported;
* upsert by natural key: new records are inserted, changed ones updated (``row_version`` bumped),
  unchanged ones left alone, so re-importing the same file changes nothing;
* every created or updated record gets a change-log entry (``record_changes``);
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RootTransaction

from dongxi.errors import ConflictError, InputError, RowError
from dongxi.intake.columns import TABLE_KINDS
from dongxi.intake.headers import KINDS, Kind, detect_kind, load_mapping, to_canonical
from dongxi.intake.validate import Validated, validate_frame
from dongxi.pii.protect import IdProtector, get_protector
from dongxi.settings import get_settings
from dongxi.store._changelog import Prepared, prepare_created
from dongxi.store._import_write import Plan, apply_plan, bulk_insert, plan_upsert, registry_view
from dongxi.store._keys import verify_keys
from dongxi.store.db import SQLITE_BEGIN_IMMEDIATE, translate_errors
from dongxi.tables import read_table

__all__ = ["IMPORT_ORDER", "ImportResult", "import_file", "import_frame", "import_frames"]

log = logging.getLogger(__name__)

#: The order in which kinds are written when several are imported together.
IMPORT_ORDER: tuple[Kind, ...] = (
    "helpers",
    "partners",
    "households",
    "people",
    "income",
    "measures",
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


def _write_status_history(conn: Connection, plan: Plan) -> None:
    """One ``household_status`` entry per created household and per status change."""
    import dongxi.store.all_models  # noqa: F401
    from dongxi.store.base import Base

    table = Base.metadata.tables["household_status"]
    households = Base.metadata.tables["households"]
    today = dt.date.today()
    new = plan.new
    rows = [
        {
            "household_code": code,
            "status": status,
            "monitoring_category": category,
            "effective_date": today,
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
                "effective_date": today,
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
    from dongxi.store._changelog import Change, record_changes, record_prepared

    table_kind = TABLE_KINDS[plan.kind]
    if created is not None:
        record_prepared(conn, actor=actor, prepared=created)
    if plan.updates:
        updated = (Change(key=table_kind.key_text(a), before=b, after=a) for a, b in plan.updates)
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
        _write_status_history(conn, plan)
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
) -> dict[Kind, ImportResult]:
    """Import several kinds in one transaction (in :data:`IMPORT_ORDER`).

    Without ``partial``, any rejected row in any table means nothing at all is written.
    Columns may be canonical names or Chinese headers. Returns one result per kind.
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
                    source = f"{source_name}:{kind}" if len(frames) > 1 else source_name
                    result, _plan, _checked = _import_one(
                        conn,
                        kind=kind,
                        frame=canon,
                        headers=headers,
                        source=source,
                        actor=actor,
                        partial=partial,
                        write=not failed,
                        pending=pending,
                        regions_cache=regions_cache,
                        progress=progress,
                        protector=protector,
                    )
                    results[kind] = result
                    if result.errors and not partial:
                        failed = True
                        # keep validating the rest so the report is complete; pretend the
                        # rejected table's keys exist so later tables are judged on their own.
                        pending.setdefault(kind, set()).update(_keys_of(kind, canon))
                if failed:
                    trans.rollback()
                    for result in results.values():
                        result.created = result.updated = result.unchanged = 0
                        result.written = False
                else:
                    trans.commit()
                    for result in results.values():
                        result.written = True
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
    """Read ``path`` (CSV/XLSX/Parquet), detect its kind if not given, and import it."""
    p = Path(path)
    frame = read_table(p, as_text=True)
    user_map = load_mapping(mapping) if isinstance(mapping, str | Path) else mapping
    if kind is None:
        kind = detect_kind([str(c) for c in frame.columns], user_map)
    return import_frame(
        engine,
        kind=kind,
        frame=frame,
        actor=actor,
        partial=partial,
        source_name=p.name,
        mapping=user_map,
        progress=progress,
    )
