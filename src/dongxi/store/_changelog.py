"""The append-only, hash-chained change log (who, when, what).

Every entry holds the actor, the time (UTC, ISO 8601), the action, the entity and its key, and the
record before and after the change as canonical JSON (sorted keys; ID numbers masked, birth
dates cut to the year, names reduced to their first character, ciphertexts left out).
``entry_hash`` is the SHA-256 of the previous entry's hash and the entry's own fields, so changing
or removing any entry breaks every later hash; :func:`verify_chain` recomputes them.
``prev_hash`` is unique, so two writers cannot fork the chain (the second fails), and database
triggers refuse UPDATE/DELETE. There is no update or delete function here.

Every write also stores a keyed seal of the new head (``change_log_seals``,
:mod:`dongxi.store._seal`) in the same transaction; :func:`verify_chain` checks the seals, the
heads recorded with snapshots and any anchors kept outside the database, so a re-hashed or
shortened chain is reported too.

:func:`record_changes` is the bulk API for imports: it runs inside the caller's transaction and
uses PostgreSQL ``COPY`` (or one ``executemany`` on SQLite). The chain's head is read under a lock
(a PostgreSQL advisory lock; SQLite's write lock), so concurrent writers queue instead of forking.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from itertools import islice
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dongxi.errors import InputError
from dongxi.intake.columns import KEY_SEPARATOR, KINDS, TABLE_KINDS, TableKind, check_kind
from dongxi.pii.idnumber import is_valid_id, mask_id
from dongxi.store._seal import Anchor, anchor_mac, seal_key, seal_mac
from dongxi.store.db import (
    constraints_rebuilt,
    is_bulk_load,
    table_rows_estimate,
    translate_errors,
)
from dongxi.store.models import ChangeLogEntry, ChangeLogSeal, Snapshot

__all__ = [
    "GENESIS_HASH",
    "REDACTED_FIELDS",
    "Anchor",
    "ChainCheck",
    "Change",
    "Prepared",
    "anchor_of",
    "canonical_json",
    "canonical_json_columns",
    "change_histories",
    "change_history",
    "group_changes",
    "holds_chain_lock",
    "prepare_created",
    "prepare_grouped",
    "record_change",
    "record_changes",
    "record_created",
    "record_prepared",
    "redact",
    "verify_chain",
]

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
_TABLE = ChangeLogEntry.__table__
assert isinstance(_TABLE, sa.Table)
_SEP = "\x1f"
_CHUNK = 20_000
_ID_FIELDS = frozenset({"id_number", "身份证号", "id_masked"})
_BIRTH_FIELDS = frozenset({"birth_date", "出生日期"})
_NAME_FIELDS = frozenset({"name", "contact", "姓名", "联系人"})
#: Fields the log keeps only in a redacted form (a change may not show in their logged values).
REDACTED_FIELDS = _ID_FIELDS | _BIRTH_FIELDS | _NAME_FIELDS
_DROP_FIELDS = frozenset({"id_encrypted"})
_SQLITE_CACHE_KIB = -131_072  # 128 MiB (negative: KiB)
_PG_LOCK = 0x646F6E6778  # "dongx": the advisory lock id of the change log


@dataclass(frozen=True)
class Change:
    """One changed record: its key and its state before and after (``None``: absent)."""

    key: str
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ChainCheck:
    """Result of :func:`verify_chain`.

    ``broken_at`` is the ``seq`` of the first entry found changed, missing or unsealed, and
    ``position`` its place in the chain (1 = the first entry; a deleted entry's place is where it
    should be). ``seals`` counts the seals checked, ``anchors`` the heads checked from snapshots
    and anchor files.
    """

    ok: bool
    entries: int
    broken_at: int | None = None
    reason: str | None = None
    position: int | None = None
    seals: int = 0
    anchors: int = 0


def _shorten(value: Any) -> Any:
    if value is None:
        return None
    text = str(value)
    return text[:1] + "*" * max(len(text) - 1, 0)


def _birth_year(value: Any) -> Any:
    """A birth date as the change log keeps it: its year only (``1984-**-**``)."""
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return f"{text[:4]}-**-**"


# per set of keys (in the record's order): (key, stored name, treatment), sorted by stored name
_PLAIN, _ID, _NAME, _BIRTH = 0, 1, 2, 3
_Plan = tuple[tuple[Any, str, int], ...]
_PLANS: dict[tuple[Any, ...], _Plan] = {}
_PLAN_LIMIT = 4096


def _plan(keys: tuple[Any, ...]) -> _Plan:
    plan = _PLANS.get(keys)
    if plan is not None:
        return plan
    named: dict[str, tuple[Any, str, int]] = {}
    for key in keys:
        name = str(key)
        if name in _DROP_FIELDS:
            named.pop(name, None)
            continue
        kind = (
            _ID
            if name in _ID_FIELDS
            else _NAME
            if name in _NAME_FIELDS
            else _BIRTH
            if name in _BIRTH_FIELDS
            else _PLAIN
        )
        named[name] = (key, name, kind)
    plan = tuple(named[name] for name in sorted(named))
    if len(_PLANS) >= _PLAN_LIMIT:
        _PLANS.clear()
    _PLANS[keys] = plan
    return plan


def _maybe_id(value: str) -> bool:
    """True when an 18-character string is a valid ID number (cheap test first)."""
    return (
        value.isascii()
        and value[:17].isdigit()
        and value[6:8] in ("18", "19", "20")
        and is_valid_id(value)
    )


def redact(record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A copy of ``record`` safe for the change log (IDs masked, names shortened, birth dates cut
    to the year: with the masked ID, sex and household beside it, a full date would narrow the
    number to a few hundred candidates; ``docs/security.md``).

    Keys become strings and come out sorted; ``id_encrypted`` is left out. Values of other
    columns that are valid ID numbers are masked too (a safety net for unexpected names).
    """
    if record is None:
        return None
    out: dict[str, Any] = {}
    for key, name, kind in _plan(tuple(record)):
        value = record[key]
        if kind == _PLAIN:
            if isinstance(value, str) and len(value) == 18 and _maybe_id(value):
                value = mask_id(value)
        elif kind == _ID:
            if value is not None:
                value = mask_id(str(value))
        elif kind == _BIRTH:
            value = _birth_year(value)
        else:
            value = _shorten(value)
        out[name] = value
    return out


def _default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS


def canonical_json(record: Mapping[str, Any] | None) -> str | None:
    """Sorted-key, compact JSON of the redacted record (the form that is hashed and stored).

    Written by ``orjson`` (UTF-8, no escaping of non-ASCII text, dates in ISO 8601); values it
    cannot write (integers beyond 64 bits) fall back to the standard library's encoder.
    """
    clean = redact(record)
    return None if clean is None else _dumps(clean)


def _dumps(record: Mapping[str, Any]) -> str:
    """``record`` (already redacted) as the log's canonical JSON."""
    try:
        return orjson.dumps(record, default=_default, option=_ORJSON_OPTIONS).decode("utf-8")
    except orjson.JSONEncodeError:
        return _ENCODER.encode(record)


# the fallback encoder, built once (json.dumps would build a new one per call for these options)
_ENCODER = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default
)


def _entry_hash(
    prev: str,
    at: str,
    actor: str,
    action: str,
    entity: str,
    key: str,
    before: str | None,
    after: str | None,
) -> str:
    """``SHA-256(prev ␟ at ␟ actor ␟ action ␟ entity ␟ key ␟ before ␟ after)``: an entry's hash."""
    return _hash(prev, _fields_text(at, actor, action, entity), key, before, after)


def _fields_text(at: str, actor: str, action: str, entity: str) -> str:
    """The part of an entry's hashed text that every entry of one write shares."""
    return f"{_SEP}{at}{_SEP}{actor}{_SEP}{action}{_SEP}{entity}{_SEP}"


def _hash(prev: str, fields: str, key: str, before: str | None, after: str | None) -> str:
    """:func:`_entry_hash` with the shared part (:func:`_fields_text`) built once per write."""
    text = f"{prev}{fields}{key}{_SEP}{before or ''}{_SEP}{after or ''}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _last_hash(connection: Connection) -> str:
    row = connection.execute(
        sa.select(_TABLE.c.entry_hash).order_by(_TABLE.c.seq.desc()).limit(1)
    ).first()
    return str(row[0]) if row is not None else GENESIS_HASH


def _check_text(name: str, value: str, limit: int) -> None:
    if not value or len(value) > limit:
        raise InputError(
            f"The change-log field '{name}' must be 1–{limit} characters.",
            column=name,
            value=value[:40] if value else value,
            rule="change_log_field",
            fix=f"Give a non-empty '{name}' of at most {limit} characters.",
        )


def _redact_column(kind: int, values: Sequence[Any]) -> Sequence[Any]:
    """:func:`redact` applied to one column's values (``kind`` from the record plan)."""
    if kind == _ID:
        return [None if v is None else mask_id(str(v)) for v in values]
    if kind == _NAME:
        return [_shorten(v) for v in values]
    if kind == _BIRTH:
        return [_birth_year(v) for v in values]
    # the safety net of plain columns: look at each distinct value once (equal values of str
    # subclasses such as numpy.str_ count as one: the masked form is the same)
    try:
        distinct: Iterable[Any] = set(values)
    except TypeError:  # an unhashable value: look at every one
        distinct = values
    ids = {v: mask_id(v) for v in distinct if isinstance(v, str) and len(v) == 18 and _maybe_id(v)}
    if not ids:
        return values
    return [ids.get(v, v) if isinstance(v, str) else v for v in values]


def canonical_json_columns(columns: Mapping[str, Sequence[Any]]) -> list[str]:
    """:func:`canonical_json` of every row of a table given as ``{column: values}``.

    The same text as ``canonical_json(dict(zip(columns, row)))`` row by row, with the redaction
    done once per column.
    """
    plan = _plan(tuple(columns))
    names = [name for _key, name, _kind in plan]
    data = [_redact_column(kind, columns[key]) for key, _name, kind in plan]
    if not data:  # every column is left out: each record is empty
        rows = len(next(iter(columns.values()))) if columns else 0
        return ["{}"] * rows
    dumps = orjson.dumps
    out: list[str] = []
    append = out.append
    for row in zip(*data, strict=True):
        record = dict(zip(names, row, strict=True))
        try:
            append(dumps(record, default=_default, option=_ORJSON_OPTIONS).decode("utf-8"))
        except orjson.JSONEncodeError:
            append(_ENCODER.encode(record))
    return out


def _json_entries(changes: Iterable[Change]) -> Iterator[tuple[str, str | None, str | None]]:
    for change in changes:
        yield str(change.key), canonical_json(change.before), canonical_json(change.after)


def _rows(
    prev: str,
    at: str,
    actor: str,
    action: str,
    entity: str,
    entries: Iterable[tuple[str, str | None, str | None]],
) -> Iterator[tuple[str, str, str, str, str, str | None, str | None, str, str]]:
    fields = _fields_text(at, actor, action, entity)
    for key, before, after in entries:
        entry = _hash(prev, fields, key, before, after)
        yield (at, actor, action, entity, key, before, after, prev, entry)
        prev = entry


_COLUMNS = (
    "at",
    "actor",
    "action",
    "entity",
    "entity_key",
    "before",
    "after",
    "prev_hash",
    "entry_hash",
)


def record_changes(
    connection: Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    changes: Iterable[Change],
    at: dt.datetime | None = None,
) -> int:
    """Append one entry per change, chained to the last entry; returns the number written.

    Runs in the caller's transaction (nothing is committed here), so an import that fails rolls
    its log entries back with its data. On PostgreSQL a transaction-level advisory lock keeps
    concurrent writers in line.
    """
    return _append(connection, actor, action, entity, _json_entries(changes), at)


@dataclass(frozen=True)
class Prepared:
    """``create`` entries rendered ahead of writing (:func:`prepare_created`): keys and the
    canonical JSON of each record, not yet chained."""

    entity: str
    keys: Sequence[str]
    afters: Sequence[str]


def prepare_created(
    *, entity: str, keys: Sequence[str], records: Mapping[str, Sequence[Any]]
) -> Prepared:
    """Render one ``create`` entry per row of ``records`` (``{column: values}``), redacted.

    Pure (no database): an import renders its entries while the server is still taking the
    rows, then appends them with :func:`record_prepared`.
    """
    afters = canonical_json_columns(records) if keys else []
    if len(afters) != len(keys):
        raise ValueError("one key per record is needed")
    return Prepared(entity=entity, keys=[str(k) for k in keys], afters=afters)


def _grouping(kind: TableKind) -> tuple[Any, tuple[str, ...], str]:
    group = kind.log_group
    if group is None or len(kind.key) < 2:
        raise ValueError(f"{kind.name} is logged row by row")
    *first, last = kind.key
    return group, tuple(first), last


def prepare_grouped(*, kind: TableKind, records: Mapping[str, Sequence[Any]]) -> Prepared:
    """Render one ``create`` entry per group of rows (:attr:`TableKind.log_group`) of
    ``records`` (``{column: values}``, holding the key columns), redacted like
    :func:`prepare_created`.

    The entry of ``income_months`` rows of household H1 in 2025: key ``H1|2025``, ``after``
    ``{"household_code": "H1", "months": {"2025-01": {"disaster_loss": 0.0, …}, …},
    "year": "2025"}`` — every value of every row, each row under its month without its key
    columns. Groups come in the order of their first row; a group's rows in the order of the
    last key column (sorted keys, as every record of the log). Pure (no database).
    """
    group, first, last = _grouping(kind)
    plan = _plan(tuple(records))
    redacted = {name: _redact_column(treat, records[key]) for key, name, treat in plan}
    for name in (*first, last):
        if name not in redacted:
            raise ValueError(f"the records lack the key column {name!r}")
    inner = [name for name in redacted if name not in kind.key]
    lasts = [str(v) for v in records[last]]
    width = group.width
    if len(first) == 1:
        keys = [
            f"{a}{KEY_SEPARATOR}{b[:width]}" for a, b in zip(records[first[0]], lasts, strict=True)
        ]
    else:
        keys = [
            KEY_SEPARATOR.join([*map(str, vals), b[:width]])
            for *vals, b in zip(*(records[k] for k in first), lasts, strict=True)
        ]
    rows = [
        dict(zip(inner, values, strict=True))
        for values in zip(*(redacted[n] for n in inner), strict=True)
    ]
    if not inner:
        rows = [{} for _ in lasts]
    firsts = list(zip(*(redacted[k] for k in first), strict=True))
    grouped: dict[str, dict[str, Any]] = {}
    heads: dict[str, int] = {}
    for i, (key, month, row) in enumerate(zip(keys, lasts, rows, strict=True)):
        members = grouped.get(key)
        if members is None:
            members = grouped[key] = {}
            heads[key] = i
        members[month] = row
    afters = []
    for key, members in grouped.items():
        i = heads[key]
        record = dict(zip(first, firsts[i], strict=True))
        record[group.name] = lasts[i][:width]
        record[group.rows] = members
        afters.append(_dumps(record))
    return Prepared(entity=kind.name, keys=list(grouped), afters=afters)


def group_changes(kind: TableKind, changes: Iterable[Change]) -> list[Change]:
    """Changes of single rows (``before``/``after`` holding the key columns) as one change per
    group (:attr:`TableKind.log_group`): ``before`` and ``after`` hold the group's changed rows
    under their last key column, each without its key columns and redacted."""
    group, first, last = _grouping(kind)
    grouped: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {}
    for change in changes:
        record = change.after if change.after is not None else change.before
        if record is None:
            raise ValueError("a change needs a before or an after")
        key = kind.group_key_text(record)
        month = str(record[last])
        entry = grouped.get(key)
        if entry is None:
            ident = redact({k: record[k] for k in first}) or {}
            ident[group.name] = month[: group.width]
            entry = grouped[key] = (ident, {}, {})
        for side, state in ((entry[1], change.before), (entry[2], change.after)):
            if state is not None:
                side[month] = redact({k: v for k, v in state.items() if k not in kind.key})
    out = []
    for key, (ident, before, after) in grouped.items():
        out.append(
            Change(
                key=key,
                before={**ident, group.rows: before} if before else None,
                after={**ident, group.rows: after} if after else None,
            )
        )
    return out


def record_prepared(
    connection: Connection, *, actor: str, prepared: Prepared, at: dt.datetime | None = None
) -> int:
    """Append entries rendered by :func:`prepare_created`, chained to the last entry."""
    entries = (
        (key, None, after) for key, after in zip(prepared.keys, prepared.afters, strict=True)
    )
    return _append(connection, actor, "create", prepared.entity, entries, at, len(prepared.keys))


def record_created(
    connection: Connection,
    *,
    actor: str,
    entity: str,
    keys: Sequence[str],
    records: Mapping[str, Sequence[Any]],
    at: dt.datetime | None = None,
) -> int:
    """Append one ``create`` entry per row of ``records`` (``{column: values}``).

    The same entries as :func:`record_changes` with ``Change(key=keys[i], after=row i)``, built
    column by column (the bulk form for imports).
    """
    prepared = prepare_created(entity=entity, keys=keys, records=records)
    return record_prepared(connection, actor=actor, prepared=prepared, at=at)


def _append(
    connection: Connection,
    actor: str,
    action: str,
    entity: str,
    entries: Iterable[tuple[str, str | None, str | None]],
    at: dt.datetime | None,
    count: int | None = None,
) -> int:
    """Chain and write ``entries``; ``count`` (their number, when known) lets a bulk load on
    PostgreSQL check the uniqueness of ``prev_hash`` once after the load instead of row by row
    (:func:`dongxi.store.db.constraints_rebuilt`)."""
    _check_text("actor", actor, 100)
    _check_text("action", action, 20)
    _check_text("entity", entity, 40)
    stamp = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="microseconds")
    with translate_errors("Writing the change log"):
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
            connection.info[_LOCKED_BY] = connection.get_transaction()
        else:
            # take SQLite's write lock before reading the chain's head (a statement that
            # changes no row still starts the write transaction, and waits for other writers)
            connection.exec_driver_sql("UPDATE change_log SET seq = seq WHERE 0")
        prev = _last_hash(connection)
        rows = _rows(prev, stamp, actor, action, entity, entries)
        if postgres:
            bulk = count is not None and is_bulk_load(
                count, table_rows_estimate(connection, "change_log")
            )
            with constraints_rebuilt(connection, "change_log", "u") if bulk else nullcontext():
                written = _copy_postgres(connection, rows)
        else:
            written = _insert_sqlite(connection, rows)
        if written:
            _seal_head(connection, stamp)
    log.info("change log: %d %s entries for %s", written, action, entity)
    return written


#: ``connection.info`` key: the transaction that took the chain's lock (held until it ends).
_LOCKED_BY = "dongxi.change_log_locked_by"


def holds_chain_lock(connection: Connection) -> bool:
    """True when ``connection``'s current transaction holds the change log's lock (PostgreSQL):
    it has appended entries, and the lock is released only when it ends."""
    locked_by = connection.info.get(_LOCKED_BY)
    return locked_by is not None and locked_by is connection.get_transaction()


def _head(connection: Connection) -> tuple[int, str] | None:
    row = connection.execute(
        sa.select(_TABLE.c.seq, _TABLE.c.entry_hash).order_by(_TABLE.c.seq.desc()).limit(1)
    ).first()
    return None if row is None else (int(row[0]), str(row[1]))


def _seal_head(connection: Connection, stamp: str) -> None:
    """Store the keyed seal of the chain's head (inside the writer's lock and transaction)."""
    head = _head(connection)
    assert head is not None
    seq, entry_hash = head
    connection.execute(
        sa.insert(ChangeLogSeal).values(
            seq=seq,
            entry_hash=entry_hash,
            mac=seal_mac(seal_key(), seq, entry_hash),
            sealed_at=stamp,
        )
    )


def anchor_of(source: Engine | Connection, *, key: bytes | None = None) -> Anchor | None:
    """The signed head of the change log (``None`` when it is empty): an anchor to keep outside
    the database (``dongxi db anchor``; every snapshot manifest carries one)."""
    if isinstance(source, Engine):
        with source.connect() as connection:
            return anchor_of(connection, key=key)
    with translate_errors("Reading the change log's head"):
        head = _head(source)
        if head is None:
            return None
        seq, entry_hash = head
        position = int(
            source.execute(
                sa.select(sa.func.count()).select_from(_TABLE).where(_TABLE.c.seq <= seq)
            ).scalar_one()
        )
    signing = key if key is not None else seal_key()
    return Anchor(
        seq=seq,
        position=position,
        entry_hash=entry_hash,
        seal=anchor_mac(signing, seq, position, entry_hash),
    )


def _insert_sqlite(connection: Connection, rows: Iterator[tuple[Any, ...]]) -> int:
    raw = connection.connection.driver_connection
    assert raw is not None
    statement = (
        f"INSERT INTO change_log ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
    )
    written = 0
    cursor = raw.cursor()
    # a larger page cache for this write: the unique index on prev_hash takes random inserts,
    # which spill pages with SQLite's 2 MiB default (the cache grows only as pages are used)
    cache = cursor.execute("PRAGMA cache_size").fetchone()[0]
    cursor.execute(f"PRAGMA cache_size={_SQLITE_CACHE_KIB}")
    try:
        while True:
            batch = list(islice(rows, _CHUNK))
            if not batch:
                return written
            cursor.executemany(statement, batch)
            written += len(batch)
    finally:
        cursor.execute(f"PRAGMA cache_size={int(cache)}")
        cursor.close()


def _copy_text(value: str | None) -> str:
    """A value in PostgreSQL's COPY text format (``\\N`` for NULL)."""
    if value is None:
        return "\\N"
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _copy_postgres(connection: Connection, rows: Iterator[tuple[Any, ...]]) -> int:
    """COPY prebuilt text in large blocks (much faster than adapting row by row)."""
    raw = connection.connection.driver_connection
    assert raw is not None
    written = 0
    text = _copy_text
    from psycopg.copy import QueuedLibpqWriter

    statement = f"COPY change_log ({', '.join(_COLUMNS)}) FROM STDIN"
    # a worker thread sends each block while the next one is hashed
    with (
        raw.cursor() as cursor,
        cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy,
    ):
        while True:
            batch = list(islice(rows, _CHUNK))
            if not batch:
                return written
            # at, actor, action and entity are the same in every row of one call
            head = "\t".join(map(text, batch[0][:4])) + "\t"
            null = "\\N"
            lines = [
                f"{head}{key}\t{null if before is None else before}\t"
                f"{null if after is None else after}\t{prev}\t{entry}\n"
                for _, _, _, _, key, before, after, prev, entry in batch
            ]
            block = "".join(lines)
            # escape value by value only when some value of the block needs it: then the
            # block has more tabs, line ends or backslashes than its fields and NULLs make
            nulls = sum((r[5] is None) + (r[6] is None) for r in batch)
            if (
                block.count("\t") != 8 * len(batch)
                or block.count("\n") != len(batch)
                or block.count("\\") != nulls + head.count("\\") * len(batch)
                or "\r" in block
            ):
                lines = [
                    f"{head}{text(key)}\t{text(before)}\t{text(after)}\t{prev}\t{entry}\n"
                    for _, _, _, _, key, before, after, prev, entry in batch
                ]
                block = "".join(lines)
            copy.write(block.encode("utf-8"))
            written += len(batch)


def record_change(
    connection: Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    key: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry (see :func:`record_changes`)."""
    record_changes(
        connection,
        actor=actor,
        action=action,
        entity=entity,
        changes=[Change(key=key, before=before, after=after)],
    )


def change_history(connection: Connection, *, entity: str, key: str) -> list[dict[str, Any]]:
    """The entries of one record, oldest first, with ``before``/``after`` decoded.

    ``key`` is the record's key as :meth:`dongxi.intake.columns.TableKind.key_text` writes it
    (``H1|2019``). Entries logged under an older spelling of the same key (imports used to join a
    composite key with ``/``: ``H1/2019``) are found too; the log itself is never rewritten.

    A kind logged by groups (``income_months``: one entry per household and year): the key of a
    row (``H1|2025-03``) gives the entries of its group that touch the row, each narrowed to the
    row (``before``/``after`` as the row's own entry would hold them, ``entity_key`` the row's,
    ``group_key`` the stored key ``H1|2025``), and any entries logged under the row's own key
    (before the grouping); the group's key (``H1|2025``) gives its entries as stored.
    """
    return change_histories(connection, [(entity, key)])[(entity, key)]


def change_histories(
    connection: Connection, records: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """:func:`change_history` of several records (``(entity, key)`` pairs) in one query: each
    record's entries, oldest first (a household's page reads the household and every member)."""
    # (entity, stored key) -> the records it belongs to, with the group key to narrow by
    owner: dict[tuple[str, str], list[tuple[tuple[str, str], TableKind | None, str | None]]] = {}
    for entity, key in dict.fromkeys(records):
        forms: tuple[str, ...] = (key,)
        kind: TableKind | None = None
        if entity in KINDS:
            kind = TABLE_KINDS[check_kind(entity)]
            forms = kind.key_forms(key)
        # a row of a kind logged by groups: its group's entries, each narrowed to the row
        group_key = kind.group_form(key) if kind is not None else None
        for form in forms:
            owner.setdefault((entity, form), []).append(((entity, key), kind, group_key))
    out: dict[tuple[str, str], list[dict[str, Any]]] = {record: [] for record in records}
    if not owner:
        return out
    by_entity: dict[str, list[str]] = {}
    for entity, form in owner:
        by_entity.setdefault(entity, []).append(form)
    wanted = sa.or_(
        *(
            sa.and_(_TABLE.c.entity == entity, _TABLE.c.entity_key.in_(forms))
            for entity, forms in by_entity.items()
        )
    )
    with translate_errors("Reading the change log"):
        result = connection.execute(sa.select(_TABLE).where(wanted).order_by(_TABLE.c.seq))
        for found in result.mappings():
            item = dict(found)
            for side in ("before", "after"):
                item[side] = json.loads(item[side]) if item[side] else None
            for record, kind, group_key in owner[(item["entity"], item["entity_key"])]:
                if kind is not None and group_key is not None and item["entity_key"] == group_key:
                    narrowed = _narrow(kind, item, record[1])
                    if narrowed is not None:
                        out[record].append(narrowed)
                else:
                    out[record].append(item)
    return out


def _narrow(kind: TableKind, item: dict[str, Any], key: str) -> dict[str, Any] | None:
    """A group's entry (:attr:`TableKind.log_group`) as the entry of its row ``key`` (the
    row's ``before``/``after`` with the key columns, as a row's own entry would hold them), or
    ``None`` when the entry does not touch that row."""
    group, first, last = _grouping(kind)
    key = kind.key_forms(key)[0]
    member = key.rsplit(KEY_SEPARATOR, len(first))[-1]
    sides: dict[str, Any] = {}
    for side in ("before", "after"):
        record = item[side]
        rows = record.get(group.rows) if isinstance(record, dict) else None
        state = rows.get(member) if isinstance(rows, dict) else None
        sides[side] = (
            None if state is None else {**{k: record.get(k) for k in first}, last: member, **state}
        )
    if sides["before"] is None and sides["after"] is None:
        return None
    return {**item, **sides, "group_key": item["entity_key"], "entity_key": key}


_VERIFY_SQL = (
    "SELECT c.seq, c.at, c.actor, c.action, c.entity, c.entity_key, c.before, c.after, "
    "c.prev_hash, c.entry_hash, s.entry_hash, s.mac "
    "FROM change_log c LEFT JOIN change_log_seals s ON s.seq = c.seq ORDER BY c.seq"
)
_ORPHAN_SQL = (
    "SELECT s.seq FROM change_log_seals s WHERE NOT EXISTS "
    "(SELECT 1 FROM change_log c WHERE c.seq = s.seq) ORDER BY s.seq"
)


@dataclass(frozen=True)
class _Expected:
    """A head the chain must still hold: from a snapshot record or an anchor."""

    what: str
    seq: int
    entry_hash: str
    position: int | None


def verify_chain(
    source: Engine | Connection,
    *,
    anchors: Sequence[Anchor] = (),
    key: bytes | None = None,
) -> ChainCheck:
    """Check the change log; report the first entry that is changed, missing or unsealed.

    1. every hash is recomputed and every link to the previous entry checked;
    2. every seal must verify with the seal key (``key``, default: derived from
       ``DONGXI_LOOKUP_KEY``) and match the entry it seals; the last entry must be sealed; a
       seal without its entry means entries were deleted;
    3. the heads recorded with snapshots (``snapshots.log_seq``/``log_head``) and the signed
       ``anchors`` (files kept outside the database) must still be in the chain, an anchor at
       its position.
    """
    if isinstance(source, Engine):
        with source.connect() as connection:
            return verify_chain(connection, anchors=anchors, key=key)
    signing = key if key is not None else seal_key()
    for anchor in anchors:
        if not anchor.signed_by(signing):
            return ChainCheck(
                False,
                0,
                anchor.seq,
                f"the anchor of seq {anchor.seq} does not verify with the seal key: the anchor "
                "was altered, or DONGXI_LOOKUP_KEY is not the key it was made with",
                anchor.position,
            )
    with translate_errors("Verifying the change log"):
        expected = _snapshot_heads(source) + [
            _Expected(f"anchor (position {a.position})", a.seq, a.entry_hash, a.position)
            for a in anchors
        ]
        # plain SQL, streamed (a server-side cursor on PostgreSQL), rows unpacked as tuples
        # (options for this statement only: Connection.execution_options would change the
        # caller's connection)
        orphan = source.exec_driver_sql(_ORPHAN_SQL).first()
        result = source.exec_driver_sql(
            _VERIFY_SQL, execution_options={"stream_results": True, "yield_per": _CHUNK}
        )
        try:
            return _check_rows(
                result, signing, expected, None if orphan is None else int(orphan[0])
            )
        finally:
            result.close()


def _snapshot_heads(connection: Connection) -> list[_Expected]:
    table = Snapshot.__table__
    rows = connection.execute(
        sa.select(table.c.snapshot_id, table.c.log_seq, table.c.log_head)
        .where(table.c.log_seq.is_not(None))
        .order_by(table.c.log_seq)
    ).all()
    return [_Expected(f"snapshot {sid}", int(seq), str(head), None) for sid, seq, head in rows]


def _check_rows(
    rows: Iterable[tuple[Any, ...]],
    key: bytes,
    expected: Sequence[_Expected],
    orphan: int | None,
) -> ChainCheck:
    """The chain, its seals and the expected heads; ``orphan`` is the first ``seq`` of a seal
    whose entry is missing. A failure's ``position`` is the place of the entry at fault (of a
    deleted one: where it should be)."""
    prev = GENESIS_HASH
    count = 0
    seals = 0
    sealed_through = 0  # seq of the last sealed entry
    first_unsealed: tuple[int, int] | None = None  # (seq, position) after the last seal
    heads: dict[int, list[_Expected]] = {}
    for item in expected:
        heads.setdefault(item.seq, []).append(item)
    found: set[int] = set()
    before_orphan = 0  # entries before the missing one
    for row in rows:
        seq, at, actor, action, entity, key_text, before, after, prev_hash, entry_hash = row[:10]
        seal_hash, mac = row[10], row[11]
        count += 1
        if prev_hash != prev:
            return ChainCheck(
                False,
                count,
                seq,
                f"entry {seq} (position {count}): previous hash does not match: an entry before "
                "it was removed or changed",
                count,
                seals,
            )
        if entry_hash != _entry_hash(prev, at, actor, action, entity, key_text, before, after):
            return ChainCheck(
                False,
                count,
                seq,
                f"entry {seq} (position {count}): content does not match its hash: the entry was "
                "changed",
                count,
                seals,
            )
        if seal_hash is not None:
            if not hmac.compare_digest(str(mac), seal_mac(key, seq, str(seal_hash))):
                return ChainCheck(
                    False,
                    count,
                    seq,
                    f"entry {seq} (position {count}): its seal does not verify with the seal key: "
                    "the seal was forged or altered, or DONGXI_LOOKUP_KEY is not the key the log "
                    "was written with",
                    count,
                    seals,
                )
            if seal_hash != entry_hash:
                return ChainCheck(
                    False,
                    count,
                    seq,
                    f"entry {seq} (position {count}) differs from its seal: the chain was "
                    f"rewritten after entry {sealed_through} and up to this one",
                    count,
                    seals,
                )
            seals += 1
            sealed_through = seq
            first_unsealed = None
        elif first_unsealed is None:
            first_unsealed = (seq, count)
        for item in heads.get(seq, ()):
            if item.entry_hash != entry_hash or (
                item.position is not None and item.position != count
            ):
                where = "" if item.position is None else f" at position {item.position}"
                return ChainCheck(
                    False,
                    count,
                    seq,
                    f"entry {seq} (position {count}) is not the head recorded by the {item.what}"
                    f"{where}: the chain was rewritten, or entries before it were deleted",
                    count,
                    seals,
                )
            found.add(seq)
        prev = entry_hash
        if orphan is not None and seq < orphan:
            before_orphan += 1
    checked = sum(len(v) for k, v in heads.items() if k in found)
    if orphan is not None:
        return ChainCheck(
            False,
            count,
            orphan,
            f"entry {orphan} is missing but its seal remains: entries were deleted from "
            f"position {before_orphan + 1} on (the chain ends after position {count})"
            if before_orphan == count
            else f"entry {orphan} is missing but its seal remains: entries were deleted at "
            f"position {before_orphan + 1}",
            before_orphan + 1,
            seals,
            checked,
        )
    missing = [item for k, v in sorted(heads.items()) if k not in found for item in v]
    if missing:
        item = missing[0]
        return ChainCheck(
            False,
            count,
            item.seq,
            f"the head recorded by the {item.what} (entry {item.seq}) is no longer in the chain, "
            f"which ends after position {count}: entries were deleted",
            item.position if item.position is not None else count + 1,
            seals,
            checked,
        )
    if first_unsealed is not None:
        seq, position = first_unsealed
        return ChainCheck(
            False,
            count,
            seq,
            f"entries from {seq} (position {position}) on are not sealed: they were written "
            "without the seal key, or their seals were deleted",
            position,
            seals,
            checked,
        )
    return ChainCheck(True, count, seals=seals, anchors=checked)
