"""The public surface of ``dongxi.store`` is pinned, and every name resolves."""

from __future__ import annotations

import dongxi.store as store


def test_exports_pinned() -> None:
    assert sorted(store.__all__) == sorted(
        [
            "Base",
            "ChainCheck",
            "Change",
            "ENTITIES",
            "IdProtector",
            "ProtectedId",
            "SNAPSHOT_TABLES",
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
    )
    for name in store.__all__:
        assert getattr(store, name) is not None


def test_plain_postgresql_url_uses_psycopg3() -> None:
    from dongxi.store.db import normalise_url, public_url

    url = normalise_url("postgresql://u:secret@localhost/db")
    assert url.drivername == "postgresql+psycopg"
    assert "secret" not in public_url(url)
