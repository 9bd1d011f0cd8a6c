"""``dongxi db …`` and ``dongxi snapshot`` through the real entry point."""

from __future__ import annotations

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
