"""Keyed seals of the change log's head, and anchors kept outside the database.

The hash chain alone proves only that the entries are consistent with each other: whoever can
write the table can edit an entry and re-hash every later one, or delete the tail. Two defences:

- **Seals** (in the database): every write transaction of the change log stores
  ``HMAC-SHA-256(K, "seal" ␟ seq ␟ entry_hash)`` of the head it wrote in ``change_log_seals``.
  ``K`` is derived by HKDF-SHA-256 from ``DONGXI_LOOKUP_KEY`` with its own info string
  (``b"dongxi audit seal v1"``), so it is not the look-up hash key. A chain re-hashed without the
  key no longer matches its seals, and new seals cannot be made.
- **Anchors** (outside the database): :func:`anchor_of` signs the head, its position (number of
  entries) and ``seq`` (``"anchor" ␟ seq ␟ position ␟ entry_hash``); ``dongxi db anchor --out``
  writes it to a file, and every snapshot manifest carries one. A chain that no longer holds an
  anchored head at its position was cut (tail deleted) or rewritten.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from dongxi.errors import InputError
from dongxi.pii.protect import _derive
from dongxi.settings import Settings, get_settings

__all__ = ["SEAL_INFO", "Anchor", "anchor_mac", "load_anchor", "seal_key", "seal_mac"]

#: HKDF info string of the seal key (distinct from the look-up hash key's).
SEAL_INFO = b"dongxi audit seal v1"
_SEP = "\x1f"


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return _derive(secret, SEAL_INFO)


def seal_key(settings: Settings | None = None) -> bytes:
    """The seal key derived from the configured look-up key (environment or key file)."""
    current = settings or get_settings()
    return _key(current.id_keys().lookup)


def seal_mac(key: bytes, seq: int, entry_hash: str) -> str:
    """The seal of the entry ``seq`` whose hash is ``entry_hash`` (hex)."""
    text = _SEP.join(("seal", str(int(seq)), entry_hash))
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def anchor_mac(key: bytes, seq: int, position: int, entry_hash: str) -> str:
    """The signature of an anchor: the head ``seq``, its ``position`` and ``entry_hash``."""
    text = _SEP.join(("anchor", str(int(seq)), str(int(position)), entry_hash))
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Anchor:
    """A signed head of the change log: its ``seq``, ``position`` (1 = first entry) and hash."""

    seq: int
    position: int
    entry_hash: str
    seal: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (the ``change_log_head`` of anchor files and snapshot manifests)."""
        return {
            "seq": self.seq,
            "position": self.position,
            "entry_hash": self.entry_hash,
            "seal": self.seal,
        }

    def signed_by(self, key: bytes) -> bool:
        """True when ``seal`` is this anchor's signature under ``key``."""
        expected = anchor_mac(key, self.seq, self.position, self.entry_hash)
        return hmac.compare_digest(expected, self.seal)


def _bad_anchor(path: Path, what: str) -> InputError:
    return InputError(
        f"The anchor file {what}.",
        file=str(path),
        rule="anchor_file",
        fix="Give a file written by 'dongxi db anchor --out' or a snapshot's manifest.json.",
    )


def load_anchor(path: Path | str) -> Anchor:
    """Read the signed head of an anchor file or a snapshot manifest (``change_log_head``)."""
    target = Path(path)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise _bad_anchor(target, "does not exist") from exc
    except (OSError, ValueError) as exc:
        raise _bad_anchor(target, "cannot be read as JSON") from exc
    head = data.get("change_log_head") if isinstance(data, dict) else None
    if not isinstance(head, dict):
        raise _bad_anchor(target, "holds no change_log_head")
    seq, position = head.get("seq"), head.get("position")
    entry_hash, seal = head.get("entry_hash"), head.get("seal")
    if (
        not (
            isinstance(seq, int)
            and isinstance(position, int)
            and isinstance(entry_hash, str)
            and isinstance(seal, str)
        )
        or isinstance(seq, bool)
        or isinstance(position, bool)
    ):
        raise _bad_anchor(
            target, "has no signed head (seq, position, entry_hash and seal are needed)"
        )
    return Anchor(seq=seq, position=position, entry_hash=entry_hash, seal=seal)
