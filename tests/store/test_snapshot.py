"""Snapshots: Parquet files with a manifest, no clear IDs or names, hashes verified."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from store_factories import household, id_number, income, person

from dongxi.errors import InputError, NotFoundError
from dongxi.store import (
    SNAPSHOT_TABLES,
    create_household,
    create_person,
    create_snapshot,
    session_scope,
    update_household,
    upsert_income,
    verify_snapshot,
)


def _fill(engine: Engine) -> str:
    number = id_number(131)
    with session_scope(engine) as session:
        create_household(
            session, actor="t", data=household("S1"), effective_date=dt.date(2015, 6, 1)
        )
        create_household(
            session, actor="t", data=household("S2", status="never", year_registered=None)
        )
        create_person(session, actor="t", id_number=number, data=person("S1"))
        create_person(
            session,
            actor="t",
            id_number=id_number(132),
            data=person("S1", 2, sex="female", birth_date=dt.date(1970, 3, 15)),
        )
        for year in (2018, 2019, 2020):
            upsert_income(session, actor="t", household_code="S1", year=year, data=income())
    with session_scope(engine) as session:
        update_household(
            session,
            actor="t",
            household_code="S1",
            changes={"status": "escaped", "year_exited": 2019},
            effective_date=dt.date(2019, 11, 30),
        )
    return number


def test_round_trip_and_verification(registry: Engine, tmp_path: Path) -> None:
    number = _fill(registry)
    folder = tmp_path / "snap"
    info = create_snapshot(registry, folder=folder, label="assessment 2019")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == info.manifest
    assert set(manifest["tables"]) == set(SNAPSHOT_TABLES)
    assert manifest["tables"]["households"]["rows"] == 2
    assert manifest["tables"]["people"]["rows"] == 2
    assert manifest["tables"]["income"]["rows"] == 3
    assert manifest["schema_revision"]
    assert manifest["change_log_head"]["seq"] > 0
    assert "password" not in manifest["registry_url"]
    people = pq.read_table(folder / "people.parquet")
    assert "name" not in people.column_names
    assert "id_number" not in people.column_names
    assert {"id_masked", "id_hash", "birth_year"} <= set(people.column_names)
    assert "birth_date" not in people.column_names  # the year only (docs/security.md)
    rows = people.to_pylist()
    assert [r["birth_year"] for r in rows] == [1970, 1970]
    assert [r["id_masked"] for r in rows] == [number[:4] + "*" * 14, "4501" + "*" * 14]
    for path in folder.iterdir():
        assert number.encode() not in path.read_bytes()
        assert "测试人".encode() not in path.read_bytes()
    households = pq.read_table(folder / "households.parquet").to_pylist()
    assert households[0]["county_code"] == "450123"
    assert households[0]["status"] == "escaped"
    assert verify_snapshot(folder)["snapshot_id"] == info.snapshot_id
    with registry.connect() as conn:
        row = conn.execute(sa.text("SELECT snapshot_id, label FROM snapshots")).one()
    assert tuple(row) == (info.snapshot_id, "assessment 2019")


def test_as_of_freezes_history(registry: Engine, tmp_path: Path) -> None:
    _fill(registry)
    info = create_snapshot(registry, folder=tmp_path / "s2018", as_of=dt.date(2018, 12, 31))
    households = {
        r["household_code"]: r
        for r in pq.read_table(info.folder / "households.parquet").to_pylist()
    }
    assert households["S1"]["status"] == "registered_poor"
    years = pq.read_table(info.folder / "income.parquet").column("year").to_pylist()
    assert years == [2018]
    assert info.manifest["as_of"] == "2018-12-31"


def test_tampering_and_missing_files_detected(registry: Engine, tmp_path: Path) -> None:
    _fill(registry)
    folder = tmp_path / "snap"
    create_snapshot(registry, folder=folder)
    path = folder / "income.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    (folder / "regions.parquet").unlink()
    with pytest.raises(InputError) as info:
        verify_snapshot(folder)
    assert "income" in str(info.value) and "regions" in str(info.value)
    with pytest.raises(NotFoundError):
        verify_snapshot(tmp_path)


def test_existing_folder_never_overwritten(registry: Engine, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(InputError, match="not empty"):
        create_snapshot(registry, folder=tmp_path / "busy")


def _manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return data


def _rewrite(folder: Path, manifest: object) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_manifest_checked_against_the_registry_record(registry: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "snap"
    info = create_snapshot(registry, folder=folder, label="first")
    assert verify_snapshot(folder, engine=registry)["snapshot_id"] == info.snapshot_id
    with registry.connect() as conn:
        row = conn.execute(
            sa.text("SELECT log_seq, log_head FROM snapshots WHERE snapshot_id = :i"),
            {"i": info.snapshot_id},
        ).one()
    head = info.manifest["change_log_head"]
    assert tuple(row) == (head["seq"], head["entry_hash"])
    assert head["position"] >= 1 and len(head["seal"]) == 64
    # the same files, a relabelled manifest: intact as files, refused against the registry
    _rewrite(folder, _manifest(folder) | {"label": "second"})
    assert verify_snapshot(folder)["label"] == "second"
    with pytest.raises(InputError, match="differs from the one recorded") as raised:
        verify_snapshot(folder, engine=registry)
    assert raised.value.rule == "snapshot_record"
    _rewrite(folder, _manifest(folder) | {"snapshot_id": "20990101T000000Z-unknown"})
    with pytest.raises(InputError, match="no record of snapshot") as raised:
        verify_snapshot(folder, engine=registry)
    assert raised.value.rule == "snapshot_record"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m | {"tables": {}}, "lists no files"),
        (lambda m: [m], "has no snapshot_id"),
        (lambda m: m | {"tables": ["households.parquet"]}, "has no 'tables' object"),
        (lambda m: m | {"tables": {"people": m["tables"]["people"]}}, "lacks the tables"),
        (
            lambda m: m | {"tables": m["tables"] | {"people": {"file": "people.parquet"}}},
            "entry 'people' needs",
        ),
        (
            lambda m: (
                m | {"tables": m["tables"] | {"income": m["tables"]["income"] | {"rows": "3"}}}
            ),
            "entry 'income' needs",
        ),
    ],
    ids=["emptied", "not-an-object", "tables-a-list", "tables-missing", "no-hash", "rows-text"],
)
def test_malformed_or_emptied_manifest_refused(
    registry: Engine, tmp_path: Path, change: Any, message: str
) -> None:
    folder = tmp_path / "snap"
    create_snapshot(registry, folder=folder)
    _rewrite(folder, change(_manifest(folder)))
    with pytest.raises(InputError, match=message) as raised:
        verify_snapshot(folder)
    assert raised.value.rule == "snapshot_manifest"


def test_manifest_that_is_not_json_refused(registry: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "snap"
    create_snapshot(registry, folder=folder)
    (folder / "manifest.json").write_bytes(b"\xff\xfe{not json")
    with pytest.raises(InputError, match="cannot be read as JSON") as raised:
        verify_snapshot(folder)
    assert raised.value.rule == "snapshot_manifest"


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "/etc/passwd", "sub/../../outside.parquet", "C:\\x.parquet", "link"],
)
def test_paths_leaving_the_folder_refused(registry: Engine, tmp_path: Path, name: str) -> None:
    folder = tmp_path / "snap"
    create_snapshot(registry, folder=folder)
    outside = tmp_path / "outside.parquet"
    outside.write_bytes((folder / "income.parquet").read_bytes())
    (folder / "link").symlink_to(outside)
    manifest = _manifest(folder)
    manifest["tables"]["income"]["file"] = name
    _rewrite(folder, manifest)
    with pytest.raises(InputError, match="outside the snapshot folder") as raised:
        verify_snapshot(folder)
    assert raised.value.rule == "snapshot_path"
    assert "income" in str(raised.value)
