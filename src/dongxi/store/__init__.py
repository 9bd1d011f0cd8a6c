"""The registry (system of record): models, migrations, security, audit and snapshots.

``store`` is the only layer that knows SQL. Engines and sessions come from :mod:`dongxi.store.db`;
models from :mod:`dongxi.store.models` (``dongxi.store.all_models`` imports every model module);
ID numbers are checked by :mod:`dongxi.store.idnumber` and protected by
:mod:`dongxi.store.protect`; every change is written to the hash-chained change log.
"""

from __future__ import annotations

from dongxi.store._changelog import (
    ChainCheck,
    Change,
    change_history,
    record_change,
    record_changes,
    verify_chain,
)
from dongxi.store.base import Base
from dongxi.store.db import (
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    session_scope,
    upgrade,
)
from dongxi.store.protect import IdProtector, ProtectedId, get_protector

__all__ = [
    "Base",
    "ChainCheck",
    "Change",
    "IdProtector",
    "ProtectedId",
    "change_history",
    "current_revision",
    "downgrade",
    "get_protector",
    "head_revision",
    "make_engine",
    "record_change",
    "record_changes",
    "session_scope",
    "upgrade",
    "verify_chain",
]
