"""Use case: freeze the registry into a snapshot, and check a snapshot against its manifest.

Permission ``snapshot:create``. The snapshot is verified (every file's SHA-256 and row count
against ``manifest.json``) right after it is written, so a snapshot that was handed back is known
to be intact. The store records the snapshot in the ``snapshots`` table and the change log under
the principal's actor.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dongxi.services._registry import registry

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from dongxi.services.principal import Principal
    from dongxi.store._snapshot import SnapshotInfo

__all__ = ["check_snapshot", "take_snapshot"]


def take_snapshot(
    *,
    principal: Principal,
    folder: Path,
    as_of: dt.date | None = None,
    label: str | None = None,
    url: str | None = None,
    engine: Engine | None = None,
) -> SnapshotInfo:
    """Write the registry to ``folder`` (new or empty) and verify what was written."""
    principal.require("snapshot:create")
    from dongxi.store._snapshot import create_snapshot, verify_snapshot

    with registry(url, engine=engine, at_head=False) as opened:
        info = create_snapshot(
            opened, folder=folder, as_of=as_of, label=label, actor=principal.actor
        )
    verify_snapshot(info.folder)
    return info


def check_snapshot(
    folder: Path, *, url: str | None = None, against_registry: bool = True
) -> dict[str, Any]:
    """The manifest of ``folder`` once every file matches it (``InputError`` naming each file
    that does not) and, with ``against_registry``, the manifest matches the registry's record of
    the snapshot. Reads only what the caller already holds: no permission is needed."""
    from dongxi.store._snapshot import verify_snapshot

    if not against_registry:
        return verify_snapshot(folder, engine=None)
    with registry(url, at_head=False) as engine:
        return verify_snapshot(folder, engine=engine)
