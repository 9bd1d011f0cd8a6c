"""Use cases: take a snapshot (verified right after writing), measure a snapshot (verified before
it is read), the change between rounds, key rotation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.engine import Engine

import dongxi.store._snapshot as store_snapshot
from dongxi.errors import InputError, PermissionDeniedError
from dongxi.measure import load_spec
from dongxi.services import Principal
from dongxi.services.keys import rotate_key
from dongxi.services.measurement import (
    measure_change,
    measure_data,
    measure_snapshot,
    read_snapshot,
)
from dongxi.services.snapshots import check_snapshot, take_snapshot
from dongxi.settings import get_settings

from .conftest import ROUNDS, panel
from .helpers import load_round, log_entries

ANALYST = Principal(name="chen", role="analyst")


@pytest.fixture
def snapshots(registry: Engine, admin: Principal, tmp_path: Path) -> dict[int, Path]:
    """One verified snapshot per round of the panel."""
    folders = {}
    for year in ROUNDS:
        load_round(registry, admin, panel(), year)
        info = take_snapshot(
            principal=ANALYST, folder=tmp_path / "snap" / str(year), engine=registry
        )
        folders[year] = info.folder
    return folders


def test_snapshot_is_verified_right_after_writing(
    registry: Engine, admin: Principal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_round(registry, admin, panel(), 2016)
    checked: list[Path] = []
    real = store_snapshot.verify_snapshot

    def spy(folder: Path | str) -> dict[str, Any]:
        checked.append(Path(folder))
        return real(folder)

    monkeypatch.setattr(store_snapshot, "verify_snapshot", spy)
    info = take_snapshot(principal=ANALYST, folder=tmp_path / "s", label="t", engine=registry)
    assert checked == [tmp_path / "s"]
    assert info.manifest["tables"]["households"]["rows"] == len(panel().rounds[2016].households)
    [entry] = log_entries(registry, "snapshot")
    assert entry["actor"] == "chen (analyst)" and entry["key"] == info.snapshot_id


def test_snapshot_needs_its_permission(registry: Engine, tmp_path: Path) -> None:
    with pytest.raises(PermissionDeniedError, match="snapshot:create"):
        take_snapshot(
            principal=Principal(name="w", role="village_officer"),
            folder=tmp_path / "s",
            engine=registry,
        )
    assert not (tmp_path / "s").exists()


def test_a_changed_snapshot_is_refused_before_it_is_measured(
    snapshots: dict[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = snapshots[2019]
    income = pd.read_parquet(folder / "income.parquet")
    income["net_income_per_capita"] = 1.0  # everybody poor, quietly
    income.to_parquet(folder / "income.parquet")
    read: list[Any] = []
    monkeypatch.setattr(pd, "read_parquet", lambda *a, **k: read.append(a))
    spec = load_spec("china_official")
    with pytest.raises(InputError, match="income: SHA-256 differs") as error:
        measure_snapshot(principal=ANALYST, snapshot=folder, spec=spec, year=2019)
    assert error.value.rule == "snapshot_hash" and read == []
    with pytest.raises(InputError, match="does not match its manifest"):
        check_snapshot(folder, against_registry=False)


def test_measure_data_and_measure_snapshot_agree(snapshots: dict[int, Path]) -> None:
    spec = load_spec("guangxi_rural")
    by_use_case = measure_snapshot(
        principal=ANALYST, snapshot=snapshots[2019], spec=spec, year=2019, province="450000"
    )
    by_cli_path = measure_data(
        principal=ANALYST,
        spec="guangxi_rural",
        data=str(snapshots[2019]),
        year=2019,
        province="450000",
    )
    pd.testing.assert_frame_equal(by_use_case.result, by_cli_path.result)
    assert by_cli_path.year == 2019
    assert {r["measure"] for r in by_cli_path.headline()} == {"M0", "H", "A"}


def test_change_between_rounds_matches_each_round_measured_alone(
    snapshots: dict[int, Path],
) -> None:
    """The pooled change (dongxi.measure's rounds) starts and ends at the per-round estimates,
    each made with its own year's poverty line and reference date."""
    for name in ("china_official", "guangxi_rural"):
        spec = load_spec(name)
        change = measure_change(
            principal=ANALYST, snapshots=snapshots, spec=spec, province="450000"
        )
        alone = {
            year: measure_snapshot(
                principal=ANALYST, snapshot=snapshots[year], spec=spec, year=year, province="450000"
            ).result
            for year in ROUNDS
        }
        assert len(change) == 3 * len(spec.k if isinstance(spec.k, list) else [spec.k])
        for rec in change.to_dict("records"):
            assert (rec["from"], rec["to"]) == ("2016", "2019")
            for year, column in ((2016, "estimate_from"), (2019, "estimate_to")):
                frame = alone[year]
                row = frame[
                    (frame["by"] == "")
                    & (frame["indicator"] == "")
                    & (frame["measure"] == rec["measure"])
                    & (frame["k"] == rec["k"])
                ]
                assert rec[column] == pytest.approx(float(row["estimate"].iloc[0]), abs=1e-12)
            assert rec["difference"] == pytest.approx(rec["estimate_to"] - rec["estimate_from"])
            assert rec["se"] > 0 and rec["ci_low"] < rec["difference"] < rec["ci_high"]
    # tables read once (the demo's way) give the same change as the folders
    read = {year: read_snapshot(folder) for year, folder in snapshots.items()}
    pd.testing.assert_frame_equal(
        measure_change(principal=ANALYST, snapshots=read, spec=spec, province="450000"), change
    )


def test_measure_needs_its_permission(snapshots: dict[int, Path]) -> None:
    partner = Principal(name="p", role="east_partner")
    with pytest.raises(PermissionDeniedError, match="measure:run"):
        measure_data(principal=partner, spec="china_official", data="example")
    with pytest.raises(PermissionDeniedError, match="measure:run"):
        measure_change(principal=partner, snapshots=snapshots, spec=load_spec("china_official"))


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_rotate_key_as_a_principal(
    registry: Engine, admin: Principal, settings_env: pytest.MonkeyPatch
) -> None:
    load_round(registry, admin, panel(), 2016)
    old_key = get_settings().encryption_key.get_secret_value()
    settings_env.setenv("DONGXI_ENCRYPTION_KEY", "k" * 40)
    get_settings.cache_clear()
    with pytest.raises(PermissionDeniedError, match="keys:rotate"):
        rotate_key(
            principal=Principal(name="c", role="county_officer"), old_key=old_key, engine=registry
        )
    result = rotate_key(principal=admin, old_key=old_key, engine=registry)
    people = len(panel().rounds[2016].people)
    assert (result.rows, result.rotated, result.already) == (people, people, 0)
    [entry] = log_entries(registry, "rekey")
    assert entry["actor"] == "tester (admin)"
