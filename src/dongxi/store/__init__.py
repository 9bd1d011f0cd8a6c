"""The registry (system of record): models, migrations, security, audit and snapshots.

``store`` is the only layer that knows SQL. Engines and sessions come from :mod:`dongxi.store.db`;
models from :mod:`dongxi.store.models` (``dongxi.store.all_models`` imports every model module);
ID numbers are checked by :mod:`dongxi.pii.idnumber` and protected by
:mod:`dongxi.pii.protect`; every change is written to the hash-chained change log.

The names below are loaded on first use (PEP 562): importing one submodule, such as
:mod:`dongxi.store.scope`, does not pull in the engine, the models and pandas with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dongxi._lazy import lazy_names

if TYPE_CHECKING:
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
    from dongxi.store._snapshot import (
        SNAPSHOT_TABLES,
        SnapshotInfo,
        create_snapshot,
        verify_snapshot,
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

_WHERE = {
    "Base": "dongxi.store.base",
    "ChainCheck": "dongxi.store._changelog",
    "Change": "dongxi.store._changelog",
    "ENTITIES": "dongxi.store._repository",
    "IdProtector": "dongxi.pii.protect",
    "ProtectedId": "dongxi.pii.protect",
    "SNAPSHOT_TABLES": "dongxi.store._snapshot",
    "SnapshotInfo": "dongxi.store._snapshot",
    "change_history": "dongxi.store._changelog",
    "create_household": "dongxi.store._repository",
    "create_person": "dongxi.store._repository",
    "create_record": "dongxi.store._repository",
    "create_snapshot": "dongxi.store._snapshot",
    "current_revision": "dongxi.store.db",
    "downgrade": "dongxi.store.db",
    "get_household": "dongxi.store._repository",
    "get_person": "dongxi.store._repository",
    "get_protector": "dongxi.pii.protect",
    "get_record": "dongxi.store._repository",
    "head_revision": "dongxi.store.db",
    "list_households": "dongxi.store._repository",
    "load_reference_data": "dongxi.store._reference",
    "make_engine": "dongxi.store.db",
    "record_change": "dongxi.store._changelog",
    "record_changes": "dongxi.store._changelog",
    "record_values": "dongxi.store._repository",
    "reveal_id_number": "dongxi.store._repository",
    "session_scope": "dongxi.store.db",
    "update_household": "dongxi.store._repository",
    "update_person": "dongxi.store._repository",
    "update_record": "dongxi.store._repository",
    "upgrade": "dongxi.store.db",
    "upsert_income": "dongxi.store._repository",
    "verify_chain": "dongxi.store._changelog",
    "verify_snapshot": "dongxi.store._snapshot",
}


__getattr__, __dir__ = lazy_names(globals(), _WHERE)
