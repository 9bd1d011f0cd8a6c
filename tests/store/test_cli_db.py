"""``dongxi db …`` and ``dongxi snapshot`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dongxi.cli import main


def test_upgrade_current_downgrade(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["db", "current", "--url", url]) == 0
    assert "none (empty)" in capsys.readouterr().out
    assert main(["db", "upgrade", "--url", url, "--no-reference"]) == 0
    assert "at revision" in capsys.readouterr().out
    assert main(["db", "current", "--url", url]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["db", "downgrade", "base", "--url", url]) == 2  # refused without --yes
    assert "--yes" in capsys.readouterr().err
    assert main(["db", "downgrade", "base", "--url", url, "--yes"]) == 0
    assert "base (empty)" in capsys.readouterr().out


def test_snapshot_and_verification(
    registry_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "snap"
    code = main(["snapshot", "--out", str(out), "--url", registry_url, "--label", "cli"])
    assert code == 0
    assert (out / "manifest.json").is_file()
    capsys.readouterr()
    assert main(["db", "verify-snapshot", str(out), "--url", registry_url]) == 0
    assert "intact" in capsys.readouterr().out
    assert main(["db", "verify-log", "--url", registry_url]) == 0
    assert "change log intact" in capsys.readouterr().out
    assert main(["snapshot", "--out", str(out), "--url", registry_url]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["snapshot", "--out", str(tmp_path / "x"), "--as-of", "2019-13-01"]) == 2


def test_bad_url_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "current", "--url", "mysql://somewhere/db"]) == 2
    assert "SQLite and PostgreSQL" in capsys.readouterr().err


def _entries(url: str, n: int, tag: str) -> None:
    from dongxi.store import Change, make_engine, record_changes

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            record_changes(
                conn,
                actor="cli-test",
                action="create",
                entity="households",
                changes=[Change(key=f"{tag}{i}", after={"i": i}) for i in range(n)],
            )
    finally:
        engine.dispose()


def test_anchor_and_verify_log_detect_a_cut_tail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cut the log back to an earlier sealed head, seals included (committed, triggers dropped):
    only the anchor file and the snapshot manifest, kept outside the database, show it."""
    import sqlite3

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["db", "upgrade", "--url", url, "--no-reference"]) == 0
    assert main(["db", "anchor", "--out", str(tmp_path / "empty.json"), "--url", url]) == 2
    assert "empty" in capsys.readouterr().err
    _entries(url, 2, "A")
    anchor = tmp_path / "anchor.json"
    assert main(["db", "anchor", "--out", str(anchor), "--url", url]) == 0
    assert main(["db", "anchor", "--out", str(anchor), "--url", url]) == 2  # never overwritten
    head = json.loads(anchor.read_text(encoding="utf-8"))["change_log_head"]
    assert (head["seq"], head["position"]) == (2, 2)
    snap = tmp_path / "snap"
    assert main(["snapshot", "--out", str(snap), "--url", url]) == 0
    _entries(url, 3, "B")
    capsys.readouterr()
    args = ["db", "verify-log", "--url", url, "--anchor", str(anchor)]
    assert main([*args, "--anchor", str(snap / "manifest.json")]) == 0
    assert "3 recorded heads checked" in capsys.readouterr().out  # anchor, manifest, record
    database = sqlite3.connect(tmp_path / "cli.db", isolation_level=None)
    try:
        for table in ("change_log", "change_log_seals"):
            database.execute(f"DROP TRIGGER {table}_no_delete")
        database.execute("DELETE FROM change_log WHERE seq > 1")
        database.execute("DELETE FROM change_log_seals WHERE seq > 1")
        database.execute("DELETE FROM snapshots")
        # an earlier seal of the head left, as a writer with the key would have written it
        from dongxi.store._seal import seal_key, seal_mac

        entry_hash = database.execute("SELECT entry_hash FROM change_log").fetchone()[0]
        database.execute(
            "INSERT INTO change_log_seals VALUES (1, ?, ?, 'x')",
            (entry_hash, seal_mac(seal_key(), 1, entry_hash)),
        )
    finally:
        database.close()
    assert main(["db", "verify-log", "--url", url]) == 0  # the limit: not visible from inside
    capsys.readouterr()
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "broken at entry 2 (position 2)" in out and "deleted" in out
    assert main(["db", "verify-log", "--url", url, "--anchor", str(snap / "manifest.json")]) == 1
    assert main(["db", "verify-log", "--url", url, "--anchor", str(tmp_path / "none.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_verify_snapshot_against_registry_or_files_only(
    registry_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "snap"
    assert main(["snapshot", "--out", str(out), "--url", registry_url]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    (out / "manifest.json").write_text(json.dumps(manifest | {"label": "x"}), encoding="utf-8")
    capsys.readouterr()
    assert main(["db", "verify-snapshot", str(out), "--url", registry_url]) == 2
    assert "differs from the one recorded" in capsys.readouterr().err
    assert main(["db", "verify-snapshot", str(out), "--no-registry"]) == 0
    assert "manifest only" in capsys.readouterr().out
    (out / "manifest.json").write_text(json.dumps(manifest | {"tables": {}}), encoding="utf-8")
    assert main(["db", "verify-snapshot", str(out), "--no-registry"]) == 2
    assert "lists no files" in capsys.readouterr().err
