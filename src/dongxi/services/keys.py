"""Use case: rotate the encryption key of stored ID numbers.

Permission ``keys:rotate``. Every stored ID number is re-encrypted with the configured key
(``DONGXI_ENCRYPTION_KEY``) in one transaction; the store writes one change-log entry (action
``rekey``) under the principal's actor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dongxi.services._registry import registry

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from dongxi.services.principal import Principal
    from dongxi.store._rekey import RekeyResult

__all__ = ["rotate_key"]


def rotate_key(
    *,
    principal: Principal,
    old_key: str,
    url: str | None = None,
    engine: Engine | None = None,
) -> RekeyResult:
    """Re-encrypt every ID number from ``old_key`` to the configured key."""
    principal.require("keys:rotate")
    from dongxi.store._rekey import rotate_encryption_key

    with registry(url, engine=engine, at_head=False) as opened:
        return rotate_encryption_key(opened, old_key=old_key, actor=principal.actor)
