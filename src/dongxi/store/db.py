"""Engines, sessions and schema migrations of the registry.

``make_engine(url)`` accepts any SQLAlchemy URL; ``None`` means the configured registry
(``DONGXI_DATABASE_URL``, else a SQLite file in ``DONGXI_DATA_DIR``). Plain ``postgresql://``
URLs are rewritten to the psycopg 3 driver. SQLite connections get foreign keys ON, WAL and a busy
timeout. ``upgrade``/``downgrade``/``current_revision`` drive the Alembic migrations packaged in
``dongxi/store/migrations`` (no ``alembic.ini`` needed, so they work from an installed wheel).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from dongxi.errors import BackendError, ConfigError, DongxiError
from dongxi.settings import get_settings

__all__ = [
    "EngineOrUrl",
    "constraints_rebuilt",
    "current_revision",
    "downgrade",
    "head_revision",
    "is_bulk_load",
    "make_engine",
    "normalise_url",
    "public_url",
    "registry_exists",
    "session_scope",
    "table_rows_estimate",
    "translate_errors",
    "upgrade",
]

log = logging.getLogger(__name__)

EngineOrUrl = Engine | str | None

#: SQLite's extended code when a read transaction tries to write after another connection
#: committed (WAL): the optimistic-locking conflict of SQLite.
_SQLITE_BUSY_SNAPSHOT = 517


def normalise_url(url: str | None = None) -> URL:
    """The URL to use: the registry default when ``None``; ``postgresql://`` → psycopg 3."""
    text = url if url is not None else get_settings().registry_url
    try:
        parsed = sa.make_url(text)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(
            "The database URL cannot be parsed.",
            fix="Use e.g. 'sqlite:///path/dongxi.db' or 'postgresql+psycopg://user@host/db'.",
        ) from exc
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"The registry supports SQLite and PostgreSQL, not '{parsed.get_backend_name()}'.",
            fix="Use a 'sqlite:///…' or 'postgresql+psycopg://…' URL.",
        )
    return parsed


def public_url(url: URL | str) -> str:
    """The URL as text with the password hidden (for manifests and messages)."""
    parsed = sa.make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin: the module would
    # otherwise start them lazily before the first write, so reads of one transaction could see
    # different states and DDL would not be transactional.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


#: Execution option of a SQLite connection whose transactions begin with ``BEGIN IMMEDIATE``
#: (the write lock is taken at once, so a writer that reads first cannot be refused later).
SQLITE_BEGIN_IMMEDIATE = "dongxi_sqlite_begin_immediate"


def _sqlite_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(SQLITE_BEGIN_IMMEDIATE):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def _create_private_on_connect(engine: Engine, path: Path) -> None:
    from dongxi.outputs import create_private_file

    def before_connect(*_args: Any) -> None:
        if not path.exists():
            create_private_file(path)

    event.listen(engine, "do_connect", before_connect)


def _sqlite_file(parsed: URL) -> Path | None:
    """The file of a SQLite URL (``None`` for an in-memory database or a ``file:`` URI)."""
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database).expanduser()


def registry_exists(url: str | None = None) -> bool:
    """False when ``url`` (``None``: the configured registry) is a SQLite file that does not
    exist; True otherwise (a PostgreSQL database is created by its administrator, not by
    dongxi). Nothing is created or opened."""
    path = _sqlite_file(normalise_url(url))
    return path is None or path.exists()


def _no_registry(parsed: URL) -> BackendError:
    return BackendError(
        f"There is no registry at {public_url(parsed)} (nothing was created).",
        fix="Run 'dongxi db upgrade' first to create it (set DONGXI_DATABASE_URL for "
        "PostgreSQL, or DONGXI_DATA_DIR for the folder of the SQLite file).",
    )


def _refuse_missing_on_connect(engine: Engine, path: Path, parsed: URL) -> None:
    def before_connect(*_args: Any) -> None:
        if not path.exists():  # removed since the engine was made: do not create it
            raise _no_registry(parsed)

    event.listen(engine, "do_connect", before_connect)


def make_engine(url: str | None = None, *, must_exist: bool = False, **kwargs: Any) -> Engine:
    """An engine for the registry at ``url`` (``None``: the configured registry).

    A SQLite file is created (mode 0600) on the first connection, unless ``must_exist``: then a
    missing file is refused at once (``BackendError``: run ``dongxi db upgrade``) and never
    created later, so a command that only uses a registry leaves no empty file behind.
    Statement parameters are left out of SQLAlchemy's logs and exception messages
    (``hide_parameters``): they hold names and encrypted or masked ID numbers.
    """
    parsed = normalise_url(url)
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        event_path: Path | None = None
        file = _sqlite_file(parsed)
        if must_exist and file is not None and not file.exists():
            raise _no_registry(parsed)
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().resolve().parent
            if not folder.is_dir():
                raise ConfigError(
                    f"The folder of the SQLite registry does not exist: {folder}.",
                    fix="Create the folder or set DONGXI_DATA_DIR / DONGXI_DATABASE_URL.",
                )
            # the registry holds personal data: a new file is created readable by its owner
            # only (SQLite gives its -wal and -shm files the same mode)
            event_path = Path(database).expanduser()
        engine = sa.create_engine(parsed, **kwargs)
        if event_path is not None:
            if must_exist:
                _refuse_missing_on_connect(engine, event_path, parsed)
            else:
                _create_private_on_connect(engine, event_path)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = sa.create_engine(parsed, **kwargs)
    return engine


@contextmanager
def translate_errors(what: str) -> Iterator[None]:
    """Turn SQLAlchemy/driver errors raised inside the block into dongxi errors."""
    from sqlalchemy.orm.exc import StaleDataError

    from dongxi.errors import ConflictError, InputError

    try:
        yield
    except DongxiError:
        raise
    except StaleDataError as exc:
        raise ConflictError(
            f"{what}: the record was changed by someone else since it was read.",
            fix="Reload the record, re-apply your change and save again.",
        ) from exc
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "sqlite_errorcode", None) == _SQLITE_BUSY_SNAPSHOT:
            raise ConflictError(
                f"{what}: the registry was changed by someone else since this transaction read it.",
                fix="Reload the record, re-apply your change and save again.",
            ) from exc
        raise BackendError(
            f"{what}: database error ({_short(exc)}).",
            fix="Check that the registry is reachable, not locked by a long job, and upgraded "
            "('dongxi db upgrade').",
        ) from exc
    except sa.exc.IntegrityError as exc:
        raise InputError(
            f"{what}: the database refused the change ({_short(exc)}).",
            rule="integrity",
            fix="Check that keys are unique and that referenced records exist.",
        ) from exc
    except sa.exc.SQLAlchemyError as exc:
        raise BackendError(
            f"{what}: database error ({_short(exc)}).",
            fix="Check that the registry is reachable and upgraded ('dongxi db upgrade').",
        ) from exc


def _short(exc: sa.exc.SQLAlchemyError) -> str:
    """The driver's message without parameters (which may hold personal data)."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else type(exc).__name__
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    # Driver messages may echo key values (e.g. 'Key (id_hash)=(…)'); keep only the first line,
    # which names the constraint, not the values.
    return first[:200]


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits at the end of the block and rolls back on error.

    Database errors are translated (:func:`translate_errors`); a stale optimistic-lock version
    becomes :class:`dongxi.errors.ConflictError`.
    """
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    session = factory()
    try:
        with translate_errors("Saving to the registry"):
            yield session
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_bulk_load(new_rows: int, table_rows: int) -> bool:
    """A bulk load: at least ``DONGXI_IMPORT_BULK_MIN_ROWS`` new rows (50,000 by default), and
    no fewer than the table held."""
    return new_rows >= max(get_settings().import_bulk_min_rows, table_rows)


@contextmanager
def constraints_rebuilt(connection: Connection, table: str, kinds: str) -> Iterator[None]:
    """Drop ``table``'s constraints of ``kinds`` (PostgreSQL ``contype`` letters: ``f`` foreign
    key, ``p`` primary key, ``u`` unique) for a bulk load, and re-create them exactly as they
    were afterwards. Primary keys and unique constraints that a foreign key of another table
    refers to are kept (they cannot be dropped on their own).

    For the load only, inside the caller's transaction, as the PostgreSQL manual advises for
    populating a database: re-creating checks every row at once (one join for a foreign key,
    one sorted index build for a unique constraint) instead of row by row. A failure, or a
    killed process, rolls the constraints back with the rows. ``ALTER TABLE`` locks the table
    until the transaction ends, so readers of the table wait for the load to commit; when the
    table is in use (another transaction holds a lock on it for more than
    :data:`BULK_LOCK_WAIT_MS`), nothing is dropped and the load checks row by row. Does nothing
    on other databases.
    """
    if connection.dialect.name != "postgresql":
        yield
        return
    found = connection.execute(
        sa.text(
            "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.conrelid = to_regclass(:name) AND c.contype = ANY(:kinds) "
            "AND NOT (c.contype IN ('p', 'u') AND EXISTS (SELECT 1 FROM pg_constraint f "
            "WHERE f.contype = 'f' AND f.confrelid = c.conrelid)) "
            "ORDER BY c.contype = 'f', c.conname"
        ),
        {
            "name": connection.dialect.identifier_preparer.quote_identifier(table),
            "kinds": list(kinds),
        },
    ).all()
    # identifiers quoted by the dialect; definitions as PostgreSQL itself writes them
    quote = connection.dialect.identifier_preparer.quote_identifier
    if found and not _dropped_or_busy(connection, quote(table), [quote(n) for n, _ in found]):
        found = []  # the table is in use: load row by row instead
    yield
    for name, definition in found:
        connection.exec_driver_sql(
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
        )
    log.info("bulk load of %s: %d constraints checked in bulk", table, len(found))


#: How long a bulk load waits for its table before loading row by row instead (below
#: PostgreSQL's default ``deadlock_timeout`` of 1 s, so two loads never deadlock).
BULK_LOCK_WAIT_MS = 500


def _dropped_or_busy(connection: Connection, table: str, names: list[str]) -> bool:
    """Drop the constraints ``names`` of ``table`` (both quoted) if the table can be locked
    within :data:`BULK_LOCK_WAIT_MS`; False (and nothing dropped) when another transaction holds
    it — a reader, or a second bulk load of the same table."""
    savepoint = connection.begin_nested()
    previous = connection.exec_driver_sql("SHOW lock_timeout").scalar_one()
    try:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{BULK_LOCK_WAIT_MS}ms'")
        for name in names:
            connection.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        # back to the session's own lock timeout for the rest of the import
        connection.execute(sa.text("SELECT set_config('lock_timeout', :v, true)"), {"v": previous})
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        savepoint.rollback()  # also undoes SET LOCAL
        log.info("bulk load of %s: the table is in use; checking row by row", table)
        return False
    savepoint.commit()
    return True


def table_rows_estimate(connection: Connection, table: str) -> int:
    """Rows of ``table``: PostgreSQL's planner estimate when it has one (cheap on a large
    table), else ``count(*)``."""
    if connection.dialect.name == "postgresql":
        estimate = connection.execute(
            sa.text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:name)"),
            {"name": connection.dialect.identifier_preparer.quote_identifier(table)},
        ).scalar()
        if estimate is not None and estimate >= 0:
            return int(estimate)
    table_ref = sa.table(table)
    return int(connection.execute(sa.select(sa.func.count()).select_from(table_ref)).scalar_one())


def _as_engine(engine_or_url: EngineOrUrl) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return make_engine(engine_or_url), True


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    location = resources.files("dongxi.store") / "migrations"
    config.set_main_option("script_location", str(location))
    config.attributes["connection"] = connection
    return config


def upgrade(
    engine_or_url: EngineOrUrl = None, revision: str = "head", *, load_reference: bool = True
) -> str | None:
    """Migrate the registry to ``revision`` and load the reference data (regions, pairings).

    The reference load is idempotent: tables that already hold the packaged rows are left alone.
    Returns the revision after the upgrade.
    """
    from alembic import command

    engine, owned = _as_engine(engine_or_url)
    try:
        with translate_errors("Upgrading the registry schema"), engine.begin() as connection:
            command.upgrade(_alembic_config(connection), revision)
        if load_reference:
            from dongxi.store._reference import load_reference_data

            load_reference_data(engine)
        return current_revision(engine)
    finally:
        if owned:
            engine.dispose()


def downgrade(engine_or_url: EngineOrUrl = None, revision: str = "base") -> str | None:
    """Migrate the registry down to ``revision`` (``base`` drops every registry table)."""
    from alembic import command

    engine, owned = _as_engine(engine_or_url)
    try:
        with translate_errors("Downgrading the registry schema"), engine.begin() as connection:
            command.downgrade(_alembic_config(connection), revision)
        return current_revision(engine)
    finally:
        if owned:
            engine.dispose()


def current_revision(engine_or_url: EngineOrUrl = None) -> str | None:
    """The Alembic revision of the registry (``None`` for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    engine, owned = _as_engine(engine_or_url)
    try:
        with translate_errors("Reading the registry revision"), engine.connect() as connection:
            revision: str | None = MigrationContext.configure(connection).get_current_revision()
            return revision
    finally:
        if owned:
            engine.dispose()


def head_revision() -> str | None:
    """The newest revision shipped with this version of dongxi."""
    from alembic.script import ScriptDirectory

    config = _alembic_config_nofile()
    head: str | None = ScriptDirectory.from_config(config).get_current_head()
    return head


def _alembic_config_nofile() -> Any:
    from alembic.config import Config

    config = Config()
    location = resources.files("dongxi.store") / "migrations"
    config.set_main_option("script_location", str(location))
    return config
