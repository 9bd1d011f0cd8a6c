"""``dongxi demo --force`` deletes only what a previous demo wrote (its marker file lists it)."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest

from dongxi._demofolder import MARKER, prepare_folder, record_outputs, registry_identity
from dongxi.cli import main
from dongxi.demo import OUTPUTS
from dongxi.errors import InputError


def _fake_demo(folder: Path) -> int:
    """What a demo run leaves: a stamped registry, snapshots, tables, report, and the marker."""
    demo_id = prepare_folder(folder, OUTPUTS, force=False)
    (folder / "snapshots" / "2016").mkdir(parents=True)
    (folder / "snapshots" / "2016" / "manifest.json").write_text("{}", encoding="utf-8")
    (folder / "tables").mkdir()
    (folder / "tables" / "summary.csv").write_text("a\n", encoding="utf-8")
    (folder / "report.html").write_text("<html></html>", encoding="utf-8")
    record_outputs(folder, OUTPUTS, demo_id)
    return demo_id


def _tree(folder: Path) -> dict[str, bytes | None]:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def test_prepare_stamps_a_private_registry_and_writes_the_marker(tmp_path: Path) -> None:
    demo_id = prepare_folder(tmp_path / "d", OUTPUTS, force=False)
    registry = tmp_path / "d" / "dongxi.db"
    assert registry_identity(registry) == demo_id != 0
    assert stat.S_IMODE(registry.stat().st_mode) == 0o600
    marker = json.loads((tmp_path / "d" / MARKER).read_text(encoding="utf-8"))
    assert marker["demo_id"] == demo_id and marker["files"] == ["dongxi.db"]


def test_marker_lists_every_file_and_folder_written(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    demo_id = _fake_demo(folder)
    marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    assert marker["demo_id"] == demo_id
    assert marker["files"] == [
        "dongxi.db",
        "report.html",
        "snapshots/2016/manifest.json",
        "tables/summary.csv",
    ]
    assert marker["folders"] == ["snapshots", "snapshots/2016", "tables"]


def test_force_removes_exactly_what_the_demo_wrote(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    old_id = _fake_demo(folder)
    (folder / "notes.txt").write_text("mine", encoding="utf-8")  # another name: left alone
    new_id = prepare_folder(folder, OUTPUTS, force=True)
    assert new_id != old_id
    assert sorted(p.name for p in folder.iterdir()) == [MARKER, "dongxi.db", "notes.txt"]
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert registry_identity(folder / "dongxi.db") == new_id


def test_force_refuses_a_registry_the_demo_did_not_create(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    _fake_demo(folder)
    real = folder / "dongxi.db"
    real.unlink()
    connection = sqlite3.connect(real)  # the user's own registry, moved into the folder
    connection.execute("CREATE TABLE households (code TEXT)")
    connection.close()
    before = _tree(folder)
    with pytest.raises(InputError, match=r"registry dongxi\.db that no dongxi demo created") as exc:
        prepare_folder(folder, OUTPUTS, force=True)
    assert "nothing was deleted" in str(exc.value) and exc.value.column == "--dir"
    assert _tree(folder) == before


def test_force_refuses_a_folder_without_marker(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "report.html").write_text("my own report", encoding="utf-8")
    (folder / "tables").mkdir()
    (folder / "tables" / "budget.csv").write_text("1\n", encoding="utf-8")
    before = _tree(folder)
    with pytest.raises(InputError, match="files the demo did not write") as exc:
        prepare_folder(folder, OUTPUTS, force=True)
    assert "report.html" in str(exc.value) and "tables/budget.csv" in str(exc.value)
    assert _tree(folder) == before
    with pytest.raises(InputError, match="files the demo did not write"):
        prepare_folder(folder, OUTPUTS, force=False)
    assert _tree(folder) == before


def test_force_refuses_a_users_file_among_the_demos(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    _fake_demo(folder)
    (folder / "tables" / "mine.csv").write_text("keep me", encoding="utf-8")
    (folder / "snapshots" / "2020").mkdir()  # an empty folder of the user's is not the demo's
    before = _tree(folder)
    with pytest.raises(InputError, match=r"did not write \(snapshots/2020, tables/mine.csv\)"):
        prepare_folder(folder, OUTPUTS, force=True)
    assert _tree(folder) == before


def test_forged_marker_cannot_reach_outside_the_demos_names(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    demo_id = _fake_demo(folder)
    outside = tmp_path / "precious.txt"
    outside.write_text("keep", encoding="utf-8")
    marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    marker["files"] += ["../precious.txt", "notes.txt"]
    (folder / MARKER).write_text(json.dumps(marker), encoding="utf-8")
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    assert prepare_folder(folder, OUTPUTS, force=True) != demo_id
    assert outside.read_text(encoding="utf-8") == "keep"
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_cli_force_refuses_and_deletes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    registry = folder / "dongxi.db"
    connection = sqlite3.connect(registry)
    connection.execute("CREATE TABLE households (code TEXT)")
    connection.execute("INSERT INTO households VALUES ('H1')")
    connection.commit()
    connection.close()
    (folder / "snapshots").mkdir()
    (folder / "snapshots" / "2019.parquet").write_bytes(b"PAR1")
    before = _tree(folder)
    code = main(["demo", "--dir", str(folder), "--households", "300", "--force"])
    assert code == 2
    err = capsys.readouterr().err
    assert "registry dongxi.db that no dongxi demo created" in err
    assert "nothing was deleted" in err
    assert _tree(folder) == before
