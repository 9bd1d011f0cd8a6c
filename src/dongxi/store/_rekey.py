"""Rotating the encryption key of resident ID numbers (``DONGXI_ENCRYPTION_KEY``).

:func:`rotate_encryption_key` re-encrypts every stored ID number (``people.id_encrypted``) from
an old key to the configured one, in **one transaction**: a wrong old key, a failure or a killed
process leaves every ciphertext as it was, so the registry never holds a mix that one key cannot
read. Before anything is read the registry's key check values (:mod:`dongxi.store._keys`) must
name the old key (or the new one: a repeated rotation) for encryption and the configured look-up
key; the encryption key's check value is replaced by the new key's in the same transaction.
Ciphertexts stay bound to their row (``id_hash``). Rows already readable with the new key (a
rotation that was repeated) are left alone. The
change log gets one entry (action ``rekey``, entity ``people``) with the number of rows; the ID
numbers, the keyed hashes (``id_hash``) and ``row_version`` do not change, since no fact about a
person changes.

The look-up key (``DONGXI_LOOKUP_KEY``) cannot be rotated this way: the keyed hash is the natural
key of ``people``, the key of their change-log entries and the seeker id of the market, and the
change log is append-only; see ``docs/registry.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from sqlalchemy.engine import Engine

from dongxi.errors import ConfigError, InputError
from dongxi.pii.protect import IdProtector
from dongxi.settings import Settings, get_settings
from dongxi.store._keys import KeyMismatchError, recorded_checks, set_check_value, verify_keys
from dongxi.store.db import translate_errors

__all__ = ["RekeyResult", "rotate_encryption_key"]

log = logging.getLogger(__name__)

_BATCH = 5_000


@dataclass(frozen=True)
class RekeyResult:
    """What a rotation did."""

    rows: int  # people rows in the registry
    rotated: int  # re-encrypted from the old key
    already: int  # already readable with the new key: left alone


def rotate_encryption_key(
    engine: Engine, *, old_key: str, actor: str, settings: Settings | None = None
) -> RekeyResult:
    """Re-encrypt every ``people.id_encrypted`` from ``old_key`` to the configured key.

    Raises :class:`ConfigError` when the old and new keys are the same, or when a ciphertext can
    be read with neither key (nothing is changed then).
    """
    keys = (settings or get_settings()).id_keys()
    new_key = keys.encryption
    if not old_key:
        raise InputError(
            "The old encryption key is empty.",
            fix="Put the old key in an environment variable and name it with --old-key-env.",
        )
    if old_key == new_key:
        raise ConfigError(
            "The old and the new encryption key are the same.",
            fix="Set DONGXI_ENCRYPTION_KEY to the new key; pass the old one separately.",
        )
    lookup = keys.lookup
    old = IdProtector(encryption_key=old_key, lookup_key=lookup)
    new = IdProtector(encryption_key=new_key, lookup_key=lookup)
    import dongxi.store.all_models  # noqa: F401  (fills the metadata)
    from dongxi.store._changelog import Change, record_changes
    from dongxi.store.base import Base

    people = Base.metadata.tables["people"]
    rows = rotated = already = 0
    select = (
        sa.select(people.c.id_hash, people.c.id_encrypted)
        .where(people.c.id_hash > sa.bindparam("after"))
        .order_by(people.c.id_hash)
        .limit(_BATCH)
    )
    update = (
        people.update()
        .where(people.c.id_hash == sa.bindparam("k"))
        .values(id_encrypted=sa.bindparam("v"))
    )
    with translate_errors("Rotating the ID encryption key"), engine.begin() as conn:
        verify_keys(conn, new, keys=("lookup",))
        held = recorded_checks(conn).get("encryption")
        if held is not None and held not in (
            old.check_values["encryption"],
            new.check_values["encryption"],
        ):
            raise KeyMismatchError(
                "encryption",
                "The registry's encryption key matches neither the old key (--old-key-env) nor "
                "DONGXI_ENCRYPTION_KEY (its recorded check value differs from both); nothing "
                "was changed.",
                fix="Put the key the registry was written with in the variable named by "
                "--old-key-env.",
            )
        after = ""
        while True:  # a batch at a time, in key order: memory stays small on a province
            batch = conn.execute(select, {"after": after}).all()
            if not batch:
                break
            after = str(batch[-1][0])
            rows += len(batch)
            changes: list[dict[str, object]] = []
            clear: list[str] = []
            for id_hash, blob in batch:
                blob = bytes(blob)
                try:
                    clear.append(old.decrypt_strict(blob, id_hash=id_hash))
                except InvalidTag:
                    try:
                        new.decrypt_strict(blob, id_hash=id_hash)
                    except InvalidTag:
                        raise ConfigError(
                            "A stored ID number can be read with neither the old nor the new "
                            "key; nothing was changed.",
                            fix="Check the old key (--old-key-env) and DONGXI_ENCRYPTION_KEY.",
                        ) from None
                    already += 1
                    continue
                changes.append({"k": id_hash})
            hashes = [str(change["k"]) for change in changes]
            for change, blob in zip(changes, new.encrypt_many(clear, hashes), strict=True):
                change["v"] = blob
            if changes:
                conn.execute(update, changes)
            rotated += len(changes)
        set_check_value(conn, "encryption", new.check_values["encryption"])
        record_changes(
            conn,
            actor=actor,
            action="rekey",
            entity="people",
            changes=[
                Change(
                    key="id_encrypted",
                    after={"rows": rows, "rotated": rotated, "already": already},
                )
            ],
        )
    log.info("encryption key rotated: %d rows, %d re-encrypted", rows, rotated)
    return RekeyResult(rows=rows, rotated=rotated, already=already)
