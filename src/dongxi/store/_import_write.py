"""The SQL side of imports: reading what the registry holds, and bulk upserts in one transaction.

Everything here runs on a :class:`sqlalchemy.engine.Connection` inside the caller's transaction.
Upsert by natural key: existing rows for the keys of the file are read, compared value by value,
and only new rows are inserted (``executemany``; PostgreSQL ``COPY`` for large batches) and only
changed rows updated (``row_version`` bumped, so optimistic locking sees imports too). Unchanged
rows produce neither writes nor change-log entries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dongxi.intake.columns import TABLE_KINDS, Kind, canonical_columns
from dongxi.intake.validate import RegistryView
from dongxi.store.db import constraints_rebuilt, is_bulk_load

__all__ = [
    "Plan",
    "apply_plan",
    "bulk_insert",
    "columns_to_rows",
    "insert_columns",
    "plan_upsert",
    "registry_view",
    "rows_to_columns",
]

log = logging.getLogger(__name__)

_CHUNK = 5000
_COPY_MIN_ROWS = 2000
_COPY_CHUNK = 20_000


def _table(kind: str) -> sa.Table:
    import dongxi.store.all_models  # noqa: F401
    from dongxi.store.base import Base

    return Base.metadata.tables[kind]


def data_columns(kind: Kind) -> list[str]:
    """Columns of the registry table written from the import file (no derived/meta columns)."""
    table = _table(kind)
    cols = [c for c in canonical_columns(kind) if c in table.c and c != "id_number"]
    if kind == "people":
        cols = ["id_hash", "id_masked", *cols]
    return cols


def registry_view(
    conn: Connection,
    *,
    kind: Kind,
    frame: pd.DataFrame,
    pending: dict[str, set[str]],
    regions_cache: dict[str, frozenset[str]] | None = None,
    hasher: Callable[[str], str] | None = None,
) -> RegistryView:
    """What validation of ``kind`` needs from the registry, plus keys pending in this import.

    ``regions_cache`` (a dict owned by the caller) keeps the region codes between the tables of
    one import.
    """
    village: frozenset[str] = frozenset()
    codes: frozenset[str] = frozenset()
    if kind in ("households", "measures", "partners", "helpers", "needs", "offers"):
        cache = regions_cache if regions_cache is not None else {}
        if "village" not in cache:
            regions = _table("regions")
            rows = conn.execute(sa.select(regions.c.code, regions.c.level)).all()
            cache["village"] = frozenset(c for c, lvl in rows if lvl == "village")
            cache["all"] = frozenset(c for c, _ in rows)
        village, codes = cache["village"], cache["all"]
    known: dict[Kind, frozenset[str]] = {}
    for ref in TABLE_KINDS[kind].refers_to:
        (key,) = TABLE_KINDS[ref].key
        known[ref] = _existing_keys(conn, ref, key, frame, key) | pending.get(ref, set())
    view = RegistryView(
        village_codes=village,
        region_codes=codes,
        households=known.get("households", frozenset()),
        helpers=known.get("helpers", frozenset()),
        partners=known.get("partners", frozenset()),
    )
    if kind == "people":
        people = _table("people")
        names = ["id_hash", "household_code", "member_no", "id_masked", "birth_date"]
        cols = [people.c[n] for n in names]
        hh = _distinct(frame, "household_code")
        total = conn.execute(sa.select(sa.func.count()).select_from(people)).scalar_one()
        found: list[tuple[Any, ...]] = []
        if total == 0:
            pass
        elif len(hh) > 20_000 or total <= 4 * len(hh):
            found = _select_all(conn, people, names)
        else:
            for chunk in _chunks(sorted(hh), _CHUNK):
                found += [
                    tuple(r)
                    for r in conn.execute(
                        sa.select(*cols).where(people.c.household_code.in_(chunk))
                    )
                ]
            # the same people registered in other households (found by their keyed hash)
            hashes = sorted(_file_hashes(frame, hasher)) if hasher else []
            for chunk in _chunks(hashes, _CHUNK):
                found += [
                    tuple(r)
                    for r in conn.execute(sa.select(*cols).where(people.c.id_hash.in_(chunk)))
                    if r[1] not in hh
                ]
        data = list(zip(*found, strict=True)) if found else [()] * len(names)
        existing = pd.DataFrame(
            {n: pd.Series(list(v), dtype=object) for n, v in zip(names, data, strict=True)}
        ).astype({"member_no": "int64"})
        view = dataclasses.replace(view, people=existing)
    return view


def _file_hashes(frame: pd.DataFrame, hasher: Callable[[str], str]) -> set[str]:
    """Keyed hashes of the well-formed ID numbers of a (small) people file."""
    if "id_number" not in frame.columns:
        return set()
    ids = frame["id_number"].dropna().astype(str).str.strip().str.upper()
    ids = ids[ids.str.fullmatch(r"\d{17}[\dX]")]
    return {hasher(v) for v in ids.unique()}


def _distinct(frame: pd.DataFrame, column: str) -> set[str]:
    if column not in frame.columns:
        return set()
    return {str(v) for v in frame[column].dropna().unique()}


def _existing_keys(
    conn: Connection, table_name: str, key: str, frame: pd.DataFrame, column: str
) -> frozenset[str]:
    wanted = _distinct(frame, column)
    if not wanted:
        return frozenset()
    table = _table(table_name)
    col = table.c[key]
    found: set[str] = set()
    if len(wanted) > 20_000:
        found = {r[0] for r in conn.execute(sa.select(col)).all()}
        return frozenset(found & wanted)
    for chunk in _chunks(sorted(wanted), _CHUNK):
        found |= {r[0] for r in conn.execute(sa.select(col).where(col.in_(chunk))).all()}
    return frozenset(found)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _native(series: pd.Series) -> list[Any]:
    """Python values (int, float, bool, str, date or None) of a validated column."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        mask = series.notna().to_numpy()
        days = series.dt.date.to_numpy(dtype=object)
        return [d if m else None for d, m in zip(days, mask, strict=True)]
    if isinstance(series.dtype, pd.Int64Dtype) or pd.api.types.is_integer_dtype(series.dtype):
        mask = series.notna().to_numpy()
        vals = series.to_numpy(dtype="float64", na_value=np.nan)
        if mask.all() and (np.abs(vals) < 2**53).all():  # converted in C, exactly as int(v)
            ints: list[Any] = vals.astype(np.int64).tolist()
            return ints
        return [int(v) if m else None for v, m in zip(vals, mask, strict=True)]
    if pd.api.types.is_float_dtype(series.dtype):
        vals = series.to_numpy(dtype="float64", na_value=np.nan)
        floats: list[Any] = vals.tolist()  # Python floats, converted in C
        for i in np.flatnonzero(np.isnan(vals)).tolist():
            floats[i] = None
        return floats
    out: list[Any] = series.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload]
    return out


def _norm_db(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, bytes | memoryview):
        return bytes(value)
    if isinstance(value, str):  # SQLite keeps dates as ISO text
        return dt.date.fromisoformat(value[:10])
    return value


@dataclass
class Plan:
    """What an import will write: new rows (as columns), changed rows (with previous values)."""

    kind: Kind
    columns: list[str]
    new: dict[str, list[Any]]  # column -> values of the rows to insert, all of one length
    updates: list[tuple[dict[str, Any], dict[str, Any]]]  # (after, before) — changed fields only
    unchanged: int
    table_rows: int = 0  # rows the registry's table held before the import

    @property
    def bulk(self) -> bool:
        """A bulk load (:func:`dongxi.store.db.is_bulk_load`; see :func:`insert_columns`)."""
        return is_bulk_load(self.created, self.table_rows)

    @property
    def created(self) -> int:
        """Number of rows to insert."""
        return len(self.new[self.columns[0]]) if self.new else 0


def columns_to_rows(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """``{column: values}`` as a list of row dicts."""
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def rows_to_columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """A list of row dicts with the same keys as ``{column: values}``."""
    if not rows:
        return {}
    return {c: [r[c] for r in rows] for c in rows[0]}


def plan_upsert(conn: Connection, *, kind: Kind, frame: pd.DataFrame) -> Plan:
    """Compare validated rows with the registry by natural key.

    Column by column rather than row by row: the file's values and the registry's values of the
    rows that already exist are compared as two aligned lists per column; new rows stay columns,
    and a record (dict) is built only for the changed fields of changed rows.
    """
    table = _table(kind)
    columns = data_columns(kind)
    key = TABLE_KINDS[kind].key
    values = {c: _native(frame[c]) for c in columns}
    keys: list[tuple[Any, ...]] = list(zip(*(values[k] for k in key), strict=True))
    total, existing = _fetch_existing(conn, table, key, columns, keys)
    if not existing:
        return Plan(
            kind=kind, columns=columns, new=values, updates=[], unchanged=0, table_rows=total
        )
    found = [existing.get(k) for k in keys]
    new_pos = [i for i, old in enumerate(found) if old is None]
    old_pos = [i for i, old in enumerate(found) if old is not None]
    new = {c: [values[c][i] for i in new_pos] for c in columns} if new_pos else {}
    olds: list[tuple[Any, ...]] = [found[i] for i in old_pos]  # type: ignore[misc]
    compared = [c for c in columns if c not in key and not (kind == "people" and c == "id_masked")]
    changed_cols: dict[int, list[str]] = {}
    every = len(old_pos) == len(keys)  # every row of the file is in the registry
    for c in compared:
        j = columns.index(c)
        new_col = values[c] if every else [values[c][i] for i in old_pos]
        old_col = [old[j] for old in olds]
        if new_col == old_col:  # compared in C; the usual case of a re-imported column
            continue
        for pos, (new_value, old_value) in enumerate(zip(new_col, old_col, strict=True)):
            if new_value != old_value:
                changed_cols.setdefault(pos, []).append(c)
    updates: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for pos in sorted(changed_cols):
        i = old_pos[pos]
        cols = changed_cols[pos]
        ident = {k: values[k][i] for k in key}
        after = {**ident, **{c: values[c][i] for c in cols}}
        before = {**ident, **{c: olds[pos][columns.index(c)] for c in cols}}
        updates.append((after, before))
    unchanged = len(old_pos) - len(updates)
    return Plan(
        kind=kind,
        columns=columns,
        new=new,
        updates=updates,
        unchanged=unchanged,
        table_rows=total,
    )


def _needs_norm(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.Date | sa.DateTime | sa.LargeBinary)


def _select_all(conn: Connection, table: sa.Table, columns: list[str]) -> list[tuple[Any, ...]]:
    """Every row of ``columns`` of ``table`` as plain DBAPI tuples (no SQLAlchemy row objects
    or result processing: the caller normalises dates, booleans and bytes itself)."""
    quote = conn.dialect.identifier_preparer.quote_identifier
    sql = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table.name)}"
    raw = conn.connection.driver_connection
    if raw is None:  # pragma: no cover - a pooled connection always has its driver connection
        raise RuntimeError("no driver connection")
    cursor = raw.cursor()
    try:
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def _fetch_existing(
    conn: Connection,
    table: sa.Table,
    key: tuple[str, ...],
    columns: list[str],
    keys: list[tuple[Any, ...]],
) -> tuple[int, dict[tuple[Any, ...], tuple[Any, ...]]]:
    """The table's row count, and the registry's values (a tuple in ``columns`` order) of the
    rows whose key is in ``keys``."""
    cols = [table.c[c] for c in columns]
    out: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    total = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    if not keys or total == 0:
        return total, out
    wanted = set(keys)
    if total > 4 * len(wanted):
        stmt_rows: list[Any] = []
        first = sorted({k[0] for k in wanted})
        for chunk in _chunks(first, _CHUNK):
            stmt_rows += conn.execute(sa.select(*cols).where(table.c[key[0]].in_(chunk))).all()
    else:
        stmt_rows = _select_all(conn, table, columns)
    if not stmt_rows:
        return total, out
    data = [list(col) for col in zip(*stmt_rows, strict=True)]
    for j, column in enumerate(cols):
        if _needs_norm(column):
            data[j] = [_norm_db(v) for v in data[j]]
        elif isinstance(column.type, sa.Boolean):
            data[j] = [v if v is None else bool(v) for v in data[j]]
    at = [columns.index(k) for k in key]
    for row in zip(*data, strict=True):
        k = tuple(row[j] for j in at)
        if k in wanted:
            out[k] = row
    return total, out


def apply_plan(
    conn: Connection,
    plan: Plan,
    *,
    encrypt: Callable[[list[str], list[str]], list[bytes]] | None = None,
    clear_ids: dict[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Write the plan: bulk insert new rows, bulk update changed rows (bumping ``row_version``).

    ``encrypt`` turns a list of clear ID numbers and their keyed hashes into ciphertexts bound
    to those hashes (people only; :meth:`dongxi.pii.protect.IdProtector.encrypt_many`);
    ``meanwhile`` is work of the caller's that does not touch the database, done while the
    server takes the new rows (see :func:`insert_columns`).
    """
    table = _table(plan.kind)
    key = TABLE_KINDS[plan.kind].key
    now = dt.datetime.now(dt.UTC)
    if plan.created:
        columns = plan.new
        if plan.kind == "people":
            if encrypt is None or clear_ids is None:
                raise ValueError("people need the encryption function and the clear ID numbers")
            hashes = [str(h) for h in columns["id_hash"]]
            clear = [clear_ids[h] for h in hashes]
            columns = {**columns, "id_encrypted": encrypt(clear, hashes)}
        insert_columns(conn, table, columns, progress, meanwhile=meanwhile, bulk=plan.bulk)
    elif meanwhile is not None:
        meanwhile()
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for after, _before in plan.updates:
        fields = tuple(sorted(c for c in after if c not in key))
        groups.setdefault(fields, []).append(after)
    for fields, rows in groups.items():
        stmt = (
            table.update()
            .where(*[table.c[k] == sa.bindparam(f"k_{k}") for k in key])
            .values(
                {f: sa.bindparam(f"v_{f}") for f in fields}
                | {"row_version": table.c.row_version + 1, "updated_at": now}
            )
        )
        params = [{f"k_{k}": r[k] for k in key} | {f"v_{f}": r[f] for f in fields} for r in rows]
        for chunk in _chunks(params, _CHUNK):
            conn.execute(stmt, list(chunk))
        if progress is not None:
            progress(len(rows))


def bulk_insert(
    conn: Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    progress: Callable[[int], None] | None,
    *,
    bulk: bool = False,
) -> None:
    """Insert ``rows`` (dicts with the same keys; server-side defaults fill the rest) in bulk."""
    if rows:
        insert_columns(conn, table, rows_to_columns(rows), progress, bulk=bulk)


def insert_columns(
    conn: Connection,
    table: sa.Table,
    columns: dict[str, list[Any]],
    progress: Callable[[int], None] | None,
    *,
    meanwhile: Callable[[], None] | None = None,
    bulk: bool = False,
) -> None:
    """Insert rows given as ``{column: values}`` (server-side defaults fill the rest) in bulk.

    ``meanwhile`` (work that does not use the connection) runs on PostgreSQL after the last
    row has been handed to the server and before waiting for the server to take them all, so
    the two overlap; elsewhere it runs after the insert.

    ``bulk`` (a load at least as large as the table, see :attr:`Plan.bulk`): on PostgreSQL the
    table's foreign keys, and its primary key and unique constraints unless another table refers
    to them, are dropped for the load and re-created after it in the same transaction, so they
    are checked at once (one join, one sorted index build) instead of row by row (PostgreSQL
    manual, "Populating a Database"). Readers of the table wait until the import commits; a
    failure or a killed import rolls the constraints back with everything else.
    """
    n = len(next(iter(columns.values()))) if columns else 0
    if n == 0:
        pass
    elif conn.dialect.name == "postgresql" and n >= _COPY_MIN_ROWS:
        with constraints_rebuilt(conn, table.name, "fpu") if bulk else nullcontext():
            _copy(conn, table, columns, n, progress, meanwhile)
        return
    elif conn.dialect.name == "sqlite":
        _insert_sqlite(conn, table, columns, n, progress)
    else:
        stmt = table.insert()
        rows = columns_to_rows(columns)
        for chunk in _chunks(rows, _CHUNK):
            conn.execute(stmt, list(chunk))
            if progress is not None:
                progress(len(chunk))
    if meanwhile is not None:
        meanwhile()


def _sqlite_column(column: sa.Column[Any], values: Sequence[Any]) -> Sequence[Any]:
    """Values as SQLAlchemy would store them in SQLite (dates as ISO text; bools are ints)."""
    if isinstance(column.type, sa.Date):
        return [None if v is None else v.isoformat() for v in values]
    return values


def _insert_sqlite(
    conn: Connection,
    table: sa.Table,
    columns: dict[str, list[Any]],
    n: int,
    progress: Callable[[int], None] | None,
) -> None:
    """Plain DBAPI ``executemany`` in the connection's transaction (no per-row SQLAlchemy work)."""
    names = list(columns)
    quoted = ", ".join(f'"{c}"' for c in names)
    marks = ", ".join("?" for _ in names)
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})'
    raw = conn.connection.driver_connection
    if raw is None:  # pragma: no cover - a pooled connection always has its driver connection
        raise RuntimeError("no driver connection")
    stored = [_sqlite_column(table.c[c], columns[c]) for c in names]
    cursor = raw.cursor()
    try:
        for start in range(0, n, _CHUNK):
            stop = min(start + _CHUNK, n)
            cursor.executemany(sql, zip(*(v[start:stop] for v in stored), strict=True))
            if progress is not None:
                progress(stop - start)
    finally:
        cursor.close()


def _copy(
    conn: Connection,
    table: sa.Table,
    columns: dict[str, list[Any]],
    n: int,
    progress: Callable[[int], None] | None,
    meanwhile: Callable[[], None] | None,
) -> None:
    """PostgreSQL ``COPY … FROM STDIN`` of text blocks built column by column.

    A worker thread sends the blocks (psycopg's queued writer), so the next block is built
    while the server takes the last one. Falls back to psycopg's row writer when a value has no
    plain text form here (e.g. an infinite float), so what is stored never depends on the path
    taken.
    """
    from psycopg.copy import QueuedLibpqWriter

    names = list(columns)
    quoted = ", ".join(f'"{c}"' for c in names)
    raw = conn.connection.driver_connection
    if raw is None:  # pragma: no cover - a pooled connection always has its driver connection
        raise RuntimeError("no driver connection")
    with raw.cursor() as cursor:
        statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'
        with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
            for start in range(0, n, _COPY_CHUNK):
                stop = min(start + _COPY_CHUNK, n)
                chunk = [columns[c][start:stop] for c in names]
                maybe = [_copy_column(values) for values in chunk]
                texts = [t for t in maybe if t is not None]
                if len(texts) < len(maybe):
                    for row in zip(*chunk, strict=True):
                        copy.write_row(row)
                else:
                    block = "\n".join(map("\t".join, zip(*texts, strict=True))) + "\n"
                    copy.write(block.encode("utf-8"))
                if progress is not None:
                    progress(stop - start)
            if meanwhile is not None:
                meanwhile()


def _copy_escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _copy_column(values: list[Any]) -> list[str] | None:
    """One column in PostgreSQL's COPY text format, or None when a value needs the row writer."""
    kinds = set(map(type, values)) - {type(None)}
    null = "\\N"
    if not kinds:
        return [null] * len(values)
    if len(kinds) > 1:
        return None
    (kind,) = kinds
    if kind is str:
        present = [v for v in values if v is not None]
        # escaping is needed only when some value holds a backslash or a control character
        joined = "".join(present)
        if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
            return [null if v is None else _copy_escape(v) for v in values]
        if len(present) == len(values):
            return values
        return [null if v is None else v for v in values]
    if kind is bool:
        return [null if v is None else ("t" if v else "f") for v in values]
    if kind is int:
        return [null if v is None else str(v) for v in values]
    if kind is float:
        if not all(v is None or math.isfinite(v) for v in values):
            return None
        return [null if v is None else repr(v) for v in values]
    if kind is dt.date:
        return [null if v is None else v.isoformat() for v in values]
    if kind is bytes:
        return [null if v is None else "\\\\x" + v.hex() for v in values]
    return None
