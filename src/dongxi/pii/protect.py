"""Protection of resident ID numbers: AES-256-GCM encryption and a keyed look-up hash.

- **Encryption**: the AES-256 key is derived with HKDF-SHA-256 from ``DONGXI_ENCRYPTION_KEY``;
  each value gets a fresh 96-bit nonce. Stored form: ``b"\\x02" + nonce + ciphertext_and_tag``
  (the first byte is the format version). The associated data binds the ciphertext to its use
  **and to its row**: it includes the person's keyed hash (``id_hash``), so a ciphertext copied
  or swapped into another person's row fails authentication on decryption. Format 1 (unbound,
  before migration 0004) is no longer read here; the migration re-encrypts it.
- **Look-up hash**: HMAC-SHA-256 keyed with a key derived (HKDF) from ``DONGXI_LOOKUP_KEY``, hex.
  The same number always gives the same hash, so it serves as the natural key of ``people`` and
  for de-duplication; without the key it cannot be reversed by trying all numbers.
- **Masking**: :func:`dongxi.pii.idnumber.mask_id`.

- **Key check values**: :attr:`IdProtector.check_values` gives, per key, HMAC-SHA-256 of a fixed
  label under a key derived (HKDF) with its own ``info``: it identifies the key without
  revealing it or the derived keys; the registry stores them (``key_checks``) and refuses
  processes whose keys differ (:mod:`dongxi.store._keys`).

The keys come from :meth:`dongxi.settings.Settings.id_keys` (environment or key file; there is
no default key). The clear number is never logged and never put into an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dongxi.errors import ConfigError, InputError
from dongxi.pii.idnumber import mask_id, normalise_id, validate_id
from dongxi.settings import Settings, get_settings

__all__ = ["KEY_NAMES", "IdProtector", "ProtectedId", "get_protector"]

_VERSION = b"\x02"
_AAD = b"dongxi:people.id_number:v2:"  # + the row's id_hash
_CHECK_LABEL = b"dongxi key check value"

#: The keys with a check value, and the environment variable of each.
KEY_NAMES = {"encryption": "DONGXI_ENCRYPTION_KEY", "lookup": "DONGXI_LOOKUP_KEY"}


@dataclass(frozen=True)
class ProtectedId:
    """The three stored forms of one ID number."""

    id_hash: str
    id_encrypted: bytes
    id_masked: str


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret.encode("utf-8")
    )


class IdProtector:
    """Encrypts, decrypts and hashes ID numbers with keys derived from two secrets."""

    def __init__(self, *, encryption_key: str, lookup_key: str) -> None:
        if not encryption_key or not lookup_key:
            raise ConfigError(
                "The ID encryption and look-up keys must not be empty.",
                fix="Set DONGXI_ENCRYPTION_KEY and DONGXI_LOOKUP_KEY.",
            )
        self._aes = AESGCM(_derive(encryption_key, b"dongxi id-number encryption v1"))
        self.check_values: dict[str, str] = {
            name: hmac.new(
                _derive(secret, b"dongxi key check v1 " + name.encode()),
                _CHECK_LABEL,
                hashlib.sha256,
            ).hexdigest()
            for name, secret in (("encryption", encryption_key), ("lookup", lookup_key))
        }
        # HMAC (RFC 2104) with the padded keys hashed once: each look-up hash then copies two
        # prepared SHA-256 states instead of building an HMAC object (same result, half the time)
        mac_key = _derive(lookup_key, b"dongxi id-number lookup v1").ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in mac_key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in mac_key))

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> IdProtector:
        """The protector of the configured keys (:meth:`Settings.id_keys`)."""
        keys = (settings or get_settings()).id_keys()
        return cls(encryption_key=keys.encryption, lookup_key=keys.lookup)

    def hash(self, id_number: str) -> str:
        """The keyed HMAC-SHA-256 (hex) of the normalised number."""
        return self._hash(normalise_id(id_number))

    def _hash(self, value: str) -> str:
        inner = self._inner.copy()
        inner.update(value.encode("ascii", errors="replace"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def encrypt(self, id_number: str) -> bytes:
        """AES-256-GCM ciphertext of the normalised number, bound to its keyed hash (fresh
        nonce each call)."""
        value = normalise_id(id_number)
        return self._encrypt(value, self._hash(value))

    def _encrypt(self, value: str, id_hash: str, nonce: bytes | None = None) -> bytes:
        nonce = os.urandom(12) if nonce is None else nonce
        aad = _AAD + id_hash.encode("ascii")
        return _VERSION + nonce + self._aes.encrypt(nonce, value.encode("ascii", "replace"), aad)

    def hash_many(self, id_numbers: Sequence[str]) -> list[str]:
        """:meth:`hash` of many numbers."""
        normalise, digest = normalise_id, self._hash
        return [digest(normalise(v)) for v in id_numbers]

    def encrypt_many(
        self, id_numbers: Sequence[str], id_hashes: Sequence[str] | None = None
    ) -> list[bytes]:
        """:meth:`encrypt` of many numbers (each with its own fresh nonce), bound to their keyed
        hashes: ``id_hashes`` when the caller has them already (``hash_many`` of the same
        numbers, in the same order), otherwise computed here."""
        if not id_numbers:
            return []
        values = [normalise_id(v) for v in id_numbers]
        if id_hashes is None:
            digest = self._hash
            id_hashes = [digest(v) for v in values]
        elif len(id_hashes) != len(values):
            raise ValueError("encrypt_many needs one id_hash per ID number")
        nonces = os.urandom(12 * len(values))  # one system call for all the nonces
        seal, version, prefix = self._aes.encrypt, _VERSION, _AAD
        out: list[bytes] = []
        for i, (value, id_hash) in enumerate(zip(values, id_hashes, strict=True)):
            nonce = nonces[12 * i : 12 * i + 12]
            sealed = seal(nonce, value.encode("ascii", "replace"), prefix + id_hash.encode())
            out.append(version + nonce + sealed)
        return out

    def decrypt_strict(self, blob: bytes, *, id_hash: str) -> str:
        """:meth:`decrypt`, but a wrong key, another row's ciphertext or an unknown format
        raises ``cryptography``'s ``InvalidTag`` (for callers that try several keys)."""
        if len(blob) < 1 + 12 + 16 or blob[:1] != _VERSION:
            raise InvalidTag
        aad = _AAD + id_hash.encode("ascii")
        return self._aes.decrypt(blob[1:13], blob[13:], aad).decode("ascii")

    def decrypt(self, blob: bytes, *, id_hash: str) -> str:
        """The clear number of the ciphertext stored in the row of ``id_hash``.

        Raises :class:`InputError` for an unknown or old format and :class:`ConfigError` when
        the ciphertext fails authentication: written under another key, altered, or belonging
        to another row (the message names the row's keyed hash, never the number).
        """
        if len(blob) < 1 + 12 + 16 or blob[:1] != _VERSION:
            old = blob[:1] == b"\x01"
            raise InputError(
                "A stored ID ciphertext is in the old unbound format (1)."
                if old
                else "A stored ID ciphertext has an unknown format.",
                value=id_hash[:16],
                rule="id_ciphertext",
                fix="Run 'dongxi db upgrade' (migration 0004 re-encrypts old ciphertexts)."
                if old
                else "Re-import the person's record.",
            )
        try:
            return self.decrypt_strict(blob, id_hash=id_hash)
        except InvalidTag as exc:
            raise ConfigError(
                f"The stored ID number of the person with keyed hash {id_hash[:16]}… fails "
                "authentication: it was written under another encryption key, altered, or "
                "copied from another person's row.",
                fix="Check DONGXI_ENCRYPTION_KEY is the registry's key (the key check passed "
                "if you got this far through the registry); otherwise restore the row from a "
                "snapshot and look at the change log for who changed it.",
            ) from exc

    def protect(
        self,
        id_number: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> ProtectedId:
        """Validate (GB 11643) and return the hash, ciphertext and masked form."""
        value = validate_id(id_number, file=file, row=row, column=column)
        id_hash = self._hash(value)
        return ProtectedId(
            id_hash=id_hash,
            id_encrypted=self._encrypt(value, id_hash),
            id_masked=mask_id(value),
        )


@lru_cache(maxsize=4)
def _cached(encryption_key: str, lookup_key: str) -> IdProtector:
    return IdProtector(encryption_key=encryption_key, lookup_key=lookup_key)


def get_protector(settings: Settings | None = None) -> IdProtector:
    """The protector for the configured keys (cached per pair of keys; :class:`ConfigError`
    saying how to create them when none are configured)."""
    keys = (settings or get_settings()).id_keys()
    return _cached(keys.encryption, keys.lookup)
