"""Key check values, and ID ciphertexts bound to their row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

- New table ``key_checks``: the check value of the encryption and of the look-up key
  (``dongxi.store._keys``), never the keys.
- Every ``people.id_encrypted`` in format 1 (associated data ``dongxi:people.id_number:v1``) is
  re-encrypted in format 2, whose associated data holds the row's ``id_hash``, so a ciphertext
  moved to another row no longer decrypts. This needs the keys the rows were written with: they
  are read from the settings (``Settings.id_keys``: environment or key file) at migration time.
  A registry without people needs no key. Each clear number is checked against its row's keyed
  hash, so a wrong look-up key is refused as well as a wrong encryption key; the check values of
  the keys are then recorded. One transaction: a refusal leaves every row as it was.
- The downgrade re-encrypts format 2 back to format 1 (the same keys needed) and drops the table.

The format-1 primitives are written out here, not imported: ``dongxi.pii.protect`` no longer
reads format 1.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dongxi.errors import ConfigError
from dongxi.pii.protect import IdProtector, _derive
from dongxi.settings import get_settings

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_V1 = b"\x01"
_V1_AAD = b"dongxi:people.id_number:v1"
_V1_INFO = b"dongxi id-number encryption v1"
_BATCH = 5_000

_people = sa.table(
    "people",
    sa.column("id_hash", sa.String(64)),
    sa.column("id_encrypted", sa.LargeBinary()),
)


def upgrade() -> None:
    op.create_table(
        "key_checks",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("check_value", sa.String(length=64), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint("name IN ('encryption', 'lookup')", name=op.f("ck_key_checks_name")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_key_checks")),
    )
    protector = _rewrite(to_v2=True)
    if protector is not None:
        table = sa.table("key_checks", sa.column("name"), sa.column("check_value"))
        op.get_bind().execute(
            table.insert(),
            [{"name": n, "check_value": v} for n, v in protector.check_values.items()],
        )


def downgrade() -> None:
    _rewrite(to_v2=False)
    op.drop_table("key_checks")


def _rewrite(*, to_v2: bool) -> IdProtector | None:
    """Re-encrypt every people row between format 1 and 2; returns the protector used (None when
    there was no row)."""
    conn = op.get_bind()
    total = conn.execute(sa.select(sa.func.count()).select_from(_people)).scalar_one()
    if not total:
        return None
    try:
        keys = get_settings().id_keys()
    except ConfigError as exc:
        raise ConfigError(
            f"Migration 0004 re-encrypts the registry's {total} stored ID numbers and needs the "
            f"keys they were written with, but none are configured ({exc.message})",
            fix="Set DONGXI_ENCRYPTION_KEY and DONGXI_LOOKUP_KEY (or DONGXI_KEY_FILE) to the "
            "registry's keys and run 'dongxi db upgrade' again; nothing was changed.",
        ) from None
    protector = IdProtector(encryption_key=keys.encryption, lookup_key=keys.lookup)
    v1 = AESGCM(_derive(keys.encryption, _V1_INFO))
    convert: Callable[[list[tuple[str, bytes]]], list[bytes]]
    convert = (
        (lambda batch: _v1_to_v2(batch, v1, protector))
        if to_v2
        else (lambda batch: _v2_to_v1(batch, v1, protector))
    )
    select = (
        sa.select(_people.c.id_hash, _people.c.id_encrypted)
        .where(_people.c.id_hash > sa.bindparam("after"))
        .order_by(_people.c.id_hash)
        .limit(_BATCH)
    )
    update = (
        _people.update()
        .where(_people.c.id_hash == sa.bindparam("k"))
        .values(id_encrypted=sa.bindparam("v"))
    )
    after = ""
    while True:
        batch = [(str(h), bytes(b)) for h, b in conn.execute(select, {"after": after}).all()]
        if not batch:
            break
        after = batch[-1][0]
        blobs = convert(batch)
        changed = [
            {"k": h, "v": new} for (h, old), new in zip(batch, blobs, strict=True) if new != old
        ]
        if changed:
            conn.execute(update, changed)
    return protector


def _refuse(key: str) -> ConfigError:
    from dongxi.store._keys import mismatch

    return mismatch(key, "Migration 0004: the configured")


def _v1_to_v2(batch: list[tuple[str, bytes]], v1: AESGCM, protector: IdProtector) -> list[bytes]:
    out: list[bytes] = []
    clear: list[str] = []
    hashes: list[str] = []
    at: list[int] = []
    for i, (id_hash, blob) in enumerate(batch):
        if blob[:1] != _V1:  # already format 2 (a migration repeated after a partial run)
            try:
                protector.decrypt_strict(blob, id_hash=id_hash)
            except InvalidTag:
                raise _refuse("encryption") from None
            out.append(blob)
            continue
        try:
            number = v1.decrypt(blob[1:13], blob[13:], _V1_AAD).decode("ascii")
        except InvalidTag:
            raise _refuse("encryption") from None
        if protector.hash(number) != id_hash:
            raise _refuse("lookup")
        out.append(b"")
        clear.append(number)
        hashes.append(id_hash)
        at.append(i)
    for i, blob in zip(at, protector.encrypt_many(clear, hashes), strict=True):
        out[i] = blob
    return out


def _v2_to_v1(batch: list[tuple[str, bytes]], v1: AESGCM, protector: IdProtector) -> list[bytes]:
    out: list[bytes] = []
    for id_hash, blob in batch:
        if blob[:1] == _V1:
            out.append(blob)
            continue
        try:
            number = protector.decrypt_strict(blob, id_hash=id_hash)
        except InvalidTag:
            raise _refuse("encryption") from None
        nonce = os.urandom(12)
        out.append(_V1 + nonce + v1.encrypt(nonce, number.encode("ascii"), _V1_AAD))
    return out
