"""Protection of resident ID numbers: AES-256-GCM encryption and a keyed look-up hash.

- **Encryption**: the AES-256 key is derived with HKDF-SHA-256 from ``DONGXI_ENCRYPTION_KEY``;
  each value gets a fresh 96-bit nonce. Stored form: ``b"\\x01" + nonce + ciphertext_and_tag``
  (the first byte is the format version). The associated data binds the ciphertext to its use.
- **Look-up hash**: HMAC-SHA-256 keyed with a key derived (HKDF) from ``DONGXI_LOOKUP_KEY``, hex.
  The same number always gives the same hash, so it serves as the natural key of ``people`` and
  for de-duplication; without the key it cannot be reversed by trying all numbers.
- **Masking**: :func:`dongxi.pii.idnumber.mask_id`.

Placeholder keys are refused outside development/test (``Settings.check_secrets``). The clear
number is never logged and never put into an error message.
"""

from __future__ import annotations

import hashlib
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

__all__ = ["IdProtector", "ProtectedId", "get_protector"]

_VERSION = b"\x01"
_AAD = b"dongxi:people.id_number:v1"


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
        # HMAC (RFC 2104) with the padded keys hashed once: each look-up hash then copies two
        # prepared SHA-256 states instead of building an HMAC object (same result, half the time)
        mac_key = _derive(lookup_key, b"dongxi id-number lookup v1").ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in mac_key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in mac_key))

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> IdProtector:
        """The protector of the configured keys (placeholders refused outside development)."""
        current = settings or get_settings()
        current.check_secrets()
        return cls(
            encryption_key=current.encryption_key.get_secret_value(),
            lookup_key=current.lookup_key.get_secret_value(),
        )

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
        """AES-256-GCM ciphertext of the normalised number (fresh nonce each call)."""
        return self._encrypt(normalise_id(id_number))

    def _encrypt(self, value: str, nonce: bytes | None = None) -> bytes:
        nonce = os.urandom(12) if nonce is None else nonce
        return _VERSION + nonce + self._aes.encrypt(nonce, value.encode("ascii", "replace"), _AAD)

    def hash_many(self, id_numbers: Sequence[str]) -> list[str]:
        """:meth:`hash` of many numbers."""
        normalise, digest = normalise_id, self._hash
        return [digest(normalise(v)) for v in id_numbers]

    def encrypt_many(self, id_numbers: Sequence[str]) -> list[bytes]:
        """:meth:`encrypt` of many numbers (each with its own fresh nonce)."""
        if not id_numbers:
            return []
        nonces = os.urandom(12 * len(id_numbers))  # one system call for all the nonces
        seal = self._encrypt
        return [
            seal(normalise_id(value), nonces[12 * i : 12 * i + 12])
            for i, value in enumerate(id_numbers)
        ]

    def decrypt_strict(self, blob: bytes) -> str:
        """:meth:`decrypt`, but a wrong key raises ``cryptography``'s ``InvalidTag`` (for callers
        that try several keys)."""
        if len(blob) < 1 + 12 + 16 or blob[:1] != _VERSION:
            raise InvalidTag
        return self._aes.decrypt(blob[1:13], blob[13:], _AAD).decode("ascii")

    def decrypt(self, blob: bytes) -> str:
        """The clear number of a stored ciphertext."""
        if len(blob) < 1 + 12 + 16 or blob[:1] != _VERSION:
            raise InputError(
                "A stored ID ciphertext has an unknown format.",
                rule="id_ciphertext",
                fix="Re-import the person's record.",
            )
        try:
            return self.decrypt_strict(blob)
        except InvalidTag as exc:
            raise ConfigError(
                "A stored ID number cannot be decrypted with the configured key.",
                fix="Set DONGXI_ENCRYPTION_KEY to the key the registry was written with.",
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
        return ProtectedId(
            id_hash=self._hash(value),
            id_encrypted=self._encrypt(value),
            id_masked=mask_id(value),
        )


@lru_cache(maxsize=4)
def _cached(encryption_key: str, lookup_key: str) -> IdProtector:
    return IdProtector(encryption_key=encryption_key, lookup_key=lookup_key)


def get_protector(settings: Settings | None = None) -> IdProtector:
    """The protector for the configured keys (cached; placeholders refused outside development)."""
    current = settings or get_settings()
    current.check_secrets()
    return _cached(current.encryption_key.get_secret_value(), current.lookup_key.get_secret_value())
