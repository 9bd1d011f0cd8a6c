"""Audited reads written by group commit, so that reads do not queue on the change log's lock.

Every page or API read of a personal record is an entry of the change log (action ``read``),
written before the data leaves the server. Written inside the request's own transaction, each
such entry takes the chain's lock (:mod:`dongxi.store._changelog`) and holds it until the request
commits, so audited reads ran one at a time across all workers and, holding pooled connections
meanwhile, starved every other request under load (docs/benchmarks.md, "Service").

On PostgreSQL a read's entry is instead handed to one writer thread per engine and process. The
writer takes every entry waiting, appends them in one transaction (one lock, one seal, one
commit) and then releases the requests that wait for them: a request still sends nothing before
its read is recorded, but a hundred reads cost one turn of the lock instead of a hundred.

The entry is committed on its own, before the request's transaction ends: a read that later fails
is still recorded as a read (it may have shown data). A request whose transaction already holds
the chain's lock (it wrote to the change log) records its reads in that transaction, as before:
the writer would otherwise wait for the very lock that its caller holds. SQLite (the embedded,
single-office registry) writes one writer at a time anyway; there the entry is written in the
request's transaction.
"""

from __future__ import annotations

import logging
import queue
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Engine

from dongxi.errors import BackendError
from dongxi.settings import Settings, get_settings, use_settings
from dongxi.store._changelog import Change, holds_chain_lock, record_change, record_changes

__all__ = ["audit_read"]

log = logging.getLogger(__name__)

#: Longest wait of a request for its read to be recorded before it fails (seconds).
WAIT_SECONDS = 30.0
#: Most entries appended in one transaction.
BATCH = 500
#: Seconds without a read after which the writer thread ends (a new one starts when needed).
IDLE_SECONDS = 30.0


@dataclass
class _Entry:
    actor: str
    entity: str
    key: str
    after: Mapping[str, Any]
    settings: Settings
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class _Writer:
    """One thread appending the read entries of one registry, a batch per transaction.

    It writes through an engine of its own (one connection): the requests waiting for it hold
    connections of the service's pool, and a writer waiting for that pool could wait for ever.
    It ends after :data:`IDLE_SECONDS` without work (and a new one starts on the next read).
    """

    def __init__(self, engine: Engine) -> None:
        from dongxi.store.db import make_engine

        self._engine = make_engine(
            engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0
        )
        self.queue: queue.SimpleQueue[_Entry] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="dongxi-read-audit", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _next_batch(self) -> list[_Entry] | None:
        try:
            batch = [self.queue.get(timeout=IDLE_SECONDS)]
        except queue.Empty:
            with _LOCK:  # entries are put under this lock: none can arrive while we leave
                if self.queue.empty():
                    for engine, writer in list(_WRITERS.items()):
                        if writer is self:
                            del _WRITERS[engine]
                    return None
            batch = [self.queue.get()]
        while len(batch) < BATCH:
            try:
                batch.append(self.queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        try:
            while (batch := self._next_batch()) is not None:
                self._write(batch)
        finally:
            self._engine.dispose()

    def _write(self, batch: list[_Entry]) -> None:
        # the keys that seal the log are the callers' (the settings in force where they read)
        by_settings: dict[int, list[_Entry]] = {}
        for entry in batch:
            by_settings.setdefault(id(entry.settings), []).append(entry)
        for entries in by_settings.values():
            try:
                with use_settings(entries[0].settings), self._engine.begin() as connection:
                    _append(connection, entries)
            except BaseException as exc:  # every waiting request learns of the failure
                log.warning("read audit: %d entries were not written", len(entries))
                for entry in entries:
                    entry.error = exc
            for entry in entries:
                entry.done.set()


def _append(connection: Connection, batch: list[_Entry]) -> None:
    groups: dict[tuple[str, str], list[Change]] = {}
    for entry in batch:
        groups.setdefault((entry.actor, entry.entity), []).append(
            Change(key=entry.key, after=entry.after)
        )
    for (actor, entity), changes in groups.items():
        record_changes(connection, actor=actor, action="read", entity=entity, changes=changes)


_WRITERS: weakref.WeakKeyDictionary[Engine, _Writer] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _submit(engine: Engine, entry: _Entry) -> None:
    """Queue ``entry`` for the writer of ``engine``'s registry, and wait until it is written."""
    with _LOCK:
        writer = _WRITERS.get(engine)
        if writer is None:
            writer = _WRITERS[engine] = _Writer(engine)
            writer.start()
        writer.queue.put(entry)
    if not entry.done.wait(WAIT_SECONDS):
        raise BackendError(
            "The read could not be recorded in the audit log in time; nothing was shown.",
            fix="Try again; if it persists, check the database server.",
        )
    if entry.error is not None:
        raise entry.error


def audit_read(
    connection: Connection, *, actor: str, entity: str, key: str, after: Mapping[str, Any]
) -> None:
    """Record that ``actor`` read the record ``entity``/``key``; returns once it is recorded."""
    if connection.dialect.name != "postgresql" or holds_chain_lock(connection):
        record_change(connection, actor=actor, action="read", entity=entity, key=key, after=after)
        return
    entry = _Entry(actor=actor, entity=entity, key=key, after=after, settings=get_settings())
    _submit(connection.engine, entry)
