"""The registry (system of record): models, migrations, security, audit and snapshots.

``store`` is the only layer that knows SQL. Engines and sessions come from :mod:`dongxi.store.db`;
models from :mod:`dongxi.store.models` (``dongxi.store.all_models`` imports every model module);
ID numbers are checked by :mod:`dongxi.pii.idnumber` and protected by
:mod:`dongxi.pii.protect`; every change is written to the hash-chained change log.
"""

from __future__ import annotations

from dongxi.pii.protect import IdProtector, ProtectedId, get_protector
from dongxi.store._changelog import (
    ChainCheck,
    Change,
    change_history,
    record_change,
    record_changes,
    verify_chain,
)
from dongxi.store._reference import load_reference_data
from dongxi.store._repository import (
    ENTITIES,
    create_household,
    create_person,
    create_record,
    get_household,
    get_person,
    get_record,
    list_households,
    record_values,
    reveal_id_number,
    update_household,
    update_person,
    update_record,
    upsert_income,
)
from dongxi.store._snapshot import SNAPSHOT_TABLES, SnapshotInfo, create_snapshot, verify_snapshot
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
    "ENTITIES",
    "SNAPSHOT_TABLES",
    "Base",
    "ChainCheck",
    "Change",
    "IdProtector",
    "ProtectedId",
    "SnapshotInfo",
    "change_history",
    "create_household",
    "create_person",
    "create_record",
    "create_snapshot",
    "current_revision",
    "downgrade",
    "get_household",
    "get_person",
    "get_protector",
    "get_record",
    "head_revision",
    "list_households",
    "load_reference_data",
    "make_engine",
    "record_change",
    "record_changes",
    "record_values",
    "reveal_id_number",
    "session_scope",
    "update_household",
    "update_person",
    "update_record",
    "upgrade",
    "upsert_income",
    "verify_chain",
    "verify_snapshot",
]
