"""Snapshots: Parquet files with a manifest, no clear IDs or names, hashes verified."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

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
