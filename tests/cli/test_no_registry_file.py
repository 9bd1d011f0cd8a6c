"""A command that uses the registry before ``dongxi db upgrade`` is refused and leaves no empty
SQLite file (nor its -wal/-shm files) behind; ``db upgrade`` still creates it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dongxi.cli import main
from dongxi.errors import BackendError
from dongxi.settings import get_settings
from dongxi.store.db import make_engine, registry_exists


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "office"
    folder.mkdir()
    monkeypatch.delenv("DONGXI_DATABASE_URL", raising=False)
    monkeypatch.setenv("DONGXI_DATA_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def _households_csv(folder: Path) -> Path:
    path = folder.parent / "户.csv"
    path.write_text("户编号,村代码,户主姓名\nH1,450123100201,测试\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["import", "{file}", "--kind", "households"],  # the file is read first: a known kind
        ["export", "households", "--out", "{out}"],
        ["snapshot", "--out", "{out_dir}"],
        ["db", "verify-log"],
        ["db", "load-regions"],
        ["user", "list"],
    ],
    ids=["import", "export", "snapshot", "verify-log", "load-regions", "user-list"],
)
def test_refused_before_upgrade_without_creating_a_file(
    data_dir: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    file = _households_csv(data_dir)
    args = [
        a.format(file=file, out=data_dir.parent / "out.csv", out_dir=data_dir.parent / "snap")
        for a in argv
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "There is no registry at sqlite:///" in err
    assert "dongxi db upgrade" in err
    assert sorted(p.name for p in data_dir.iterdir()) == []


def test_db_current_reports_none_without_creating(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "current"]) == 0
    assert "current: none (empty)" in capsys.readouterr().out
    assert list(data_dir.iterdir()) == []


def test_upgrade_creates_it_and_import_then_runs(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade", "--no-reference"]) == 0
    assert (data_dir / "dongxi.db").stat().st_size > 0
    assert registry_exists(None)
    capsys.readouterr()
    assert main(["db", "current"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_engine_refuses_a_file_removed_after_it_was_made(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    path.touch()
    engine = make_engine(f"sqlite:///{path}", must_exist=True)
    path.unlink()
    with pytest.raises(BackendError, match="There is no registry"), engine.connect():
        pass
    engine.dispose()
    assert not path.exists()
    assert registry_exists("sqlite:///:memory:")
    assert not registry_exists(f"sqlite:///{path}")
