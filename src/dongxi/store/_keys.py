"""Key check values: the registry refuses a process whose ID-number keys are not its keys.

The table ``key_checks`` (:class:`dongxi.store.key_models.KeyCheck`) holds, for the encryption
and the look-up key, the check value of :attr:`dongxi.pii.protect.IdProtector.check_values` —
never the key. :func:`verify_keys` runs at the start of every transaction that writes or reveals
ID numbers (imports of people, creating/updating/revealing a person, unmasked exports, key
rotation): it records a missing check value (the registry's first key-using write) and raises
:class:`ConfigError` naming the key that differs **before** anything is written. Without it an
import under another encryption key would store ciphertexts no key reads together, and another
look-up key would give every person a second keyed hash (a second membership, duplicate member
numbers).

:func:`ensure_keys` is the first set-up of ``dongxi db upgrade``: with no key configured and a
registry that holds no ID number, it creates the key file (:func:`dongxi.pii.keys.create_key_file`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dongxi.errors import ConfigError
from dongxi.pii.keys import create_key_file
from dongxi.pii.protect import KEY_NAMES, IdProtector
from dongxi.settings import Settings, get_settings
from dongxi.store.db import translate_errors

__all__ = [
    "KeyMismatchError",
    "ensure_keys",
    "record_keys",
    "recorded_checks",
    "set_check_value",
    "verify_keys",
]

_LABEL = {"encryption": "encryption", "lookup": "look-up"}


class KeyMismatchError(ConfigError):
    """A configured key is not the key the registry was written with (``key`` names it)."""

    def __init__(self, key: str, message: str, *, fix: str) -> None:
        self.key = key
        super().__init__(message, fix=fix)


def mismatch(key: str, what: str = "The configured") -> KeyMismatchError:
    """The error for a key (``encryption`` or ``lookup``) that differs from the registry's."""
    variable = KEY_NAMES[key]
    return KeyMismatchError(
        key,
        f"{what} {_LABEL[key]} key ({variable}) is not the key this registry was written "
        f"with (its check value differs from the one recorded in key_checks); refused "
        "before anything was written or revealed.",
        fix=f"Set {variable} (or DONGXI_KEY_FILE) to the registry's key; a registry has one "
        "pair of keys for all its processes.",
    )


def _table() -> sa.Table:
    from dongxi.store.key_models import KeyCheck

    return KeyCheck.__table__  # type: ignore[return-value]


def recorded_checks(conn: Connection) -> dict[str, str]:
    """The check values the registry holds, by key name."""
    table = _table()
    rows = conn.execute(sa.select(table.c.name, table.c.check_value)).all()
    return {str(name): str(value) for name, value in rows}


def _insert_missing(conn: Connection, values: dict[str, str]) -> None:
    table = _table()
    rows = [{"name": name, "check_value": value} for name, value in values.items()]
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(table).on_conflict_do_nothing(), rows)
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(table).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - dongxi runs on SQLite and PostgreSQL
        conn.execute(table.insert(), rows)


def verify_keys(
    conn: Connection,
    protector: IdProtector,
    *,
    keys: Iterable[str] = ("encryption", "lookup"),
    record: bool = True,
) -> None:
    """Refuse (:class:`KeyMismatchError`, naming the key) when one of ``keys`` differs from the
    registry's; with ``record``, record the check values the registry does not hold yet (in the
    caller's transaction)."""
    wanted = {name: protector.check_values[name] for name in keys}
    with translate_errors("Checking the registry's keys"):
        held = recorded_checks(conn)
        for name, value in wanted.items():
            if name in held and held[name] != value:
                raise mismatch(name)
        missing = {n: v for n, v in wanted.items() if n not in held}
        if record and missing:
            _insert_missing(conn, missing)
            held = recorded_checks(conn)  # a concurrent first writer may have won
            for name, value in missing.items():
                if held.get(name) != value:
                    raise mismatch(name)


def set_check_value(conn: Connection, name: str, value: str) -> None:
    """Replace the recorded check value of ``name`` (after a key rotation)."""
    table = _table()
    with translate_errors("Recording the new key check value"):
        done = conn.execute(
            table.update()
            .where(table.c.name == name)
            .values(check_value=value, recorded_at=sa.func.current_timestamp())
        )
        if done.rowcount == 0:
            _insert_missing(conn, {name: value})


def record_keys(engine: Engine, protector: IdProtector) -> None:
    """Record the keys' check values (refusing keys that differ from those recorded)."""
    with engine.begin() as conn:
        verify_keys(conn, protector)


def _holds_ids(engine: Engine) -> bool:
    with translate_errors("Reading the registry"), engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        for name in ("people", "key_checks"):
            if (
                name in tables
                and conn.execute(
                    sa.select(sa.literal(1)).select_from(sa.table(name)).limit(1)
                ).first()
            ):
                return True
    return False


def ensure_keys(engine: Engine, settings: Settings | None = None) -> Path | None:
    """First set-up: create the key file when no key is configured anywhere and the registry
    holds no ID number; returns its path, or ``None`` when keys were already configured.

    Raises :class:`ConfigError` when no key is configured but the registry already holds ID
    numbers or check values (new keys could not read them: the old keys must be restored).
    """
    current = settings or get_settings()
    if current.keys_configured():
        current.id_keys()  # complete and readable, or a ConfigError saying what is missing
        return None
    if _holds_ids(engine):
        raise ConfigError(
            "No ID-number keys are configured, but the registry already holds ID numbers or "
            "key check values written with keys; new keys could not read them.",
            fix=f"Restore the registry's key file to {current.key_file_path} (or point "
            "DONGXI_KEY_FILE at it), or set DONGXI_ENCRYPTION_KEY and DONGXI_LOOKUP_KEY.",
        )
    return create_key_file(current.key_file_path)
