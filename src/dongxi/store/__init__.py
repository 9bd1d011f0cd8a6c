"""The registry (system of record): models, migrations, security, audit and snapshots.

``store`` is the only layer that knows SQL. Engines and sessions come from :mod:`dongxi.store.db`;
models from :mod:`dongxi.store.models` (``dongxi.store.all_models`` imports every model module).
"""

from __future__ import annotations

from dongxi.store.base import Base
from dongxi.store.db import (
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    session_scope,
    upgrade,
)

__all__ = [
    "Base",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_engine",
    "session_scope",
    "upgrade",
]
