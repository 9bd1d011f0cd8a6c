"""Files turned against their users, through the real ``dongxi`` entry point.

Exports and import reports never carry a live formula, an exported file re-imports with its
original values, every command's output path is checked (one clear message naming the option,
nothing written), and unmasked exports are readable by their owner only. SQLite and PostgreSQL.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from test_import import counts, households, people

from dongxi.cli import main
from dongxi.intake.headers import localize
from dongxi.settings import get_settings
from dongxi.store.importer import import_frames
from dongxi.store.scope import Scope

EVIL_NAMES = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "'=kept"]


@pytest.fixture
def cli_env(registry: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = registry.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DONGXI_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _partners(registry: Engine) -> pd.DataFrame:
    from dongxi.synth import generate

    partners = generate(households=60, seed=3, years=(2019,)).partners.head(len(EVIL_NAMES))
    partners = partners.assign(name=EVIL_NAMES, sector=["-制造业", "=A1", "ok", "@x", "+1", "-7"])
    result = import_frames(registry, {"partners": partners}, actor="test")["partners"]
    assert result.ok and result.created == len(EVIL_NAMES), result.errors[:3]
    return partners


def _cells(path: Path) -> list[tuple[object, str]]:
    book = openpyxl.load_workbook(path)
    return [(c.value, c.data_type) for ws in book.worksheets for r in ws.iter_rows() for c in r]


def _stored(registry: Engine) -> list[tuple[str, str, str | None]]:
    with registry.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT partner_code, name, sector FROM partners ORDER BY partner_code")
        )
        return [tuple(r) for r in rows]


def test_exports_hold_no_formula_and_round_trip(
    registry: Engine, cli_env: str, tmp_path: Path
) -> None:
    partners = _partners(registry)
    before = _stored(registry)
    csv_path, xlsx_path = tmp_path / "p.csv", tmp_path / "p.xlsx"
    assert main(["export", "partners", "--out", str(csv_path)]) == 0
    assert main(["export", "partners", "--out", str(xlsx_path)]) == 0

    raw = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    names = dict(zip(raw["单位编号"], raw["单位名称"], strict=True))
    codes = list(partners["partner_code"])
    assert [names[c] for c in codes] == [
        "'=1+1",
        "'+SUM(A1)",
        "'-2+3",
        "'@cmd",
        "'=x",  # the import strips the tab, the export quotes what is left
        "''=kept",
    ]
    starts = [c for c in raw.to_numpy().ravel() if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert starts == ["+1", "-7"]  # numbers stay numbers

    cells = _cells(xlsx_path)
    assert [c for c in cells if c[1] == "f"] == []
    assert ("=1+1", "s") in cells and ("=A1", "s") in cells

    for path in (csv_path, xlsx_path):
        assert main(["import", str(path)]) == 0
        assert _stored(registry) == before  # nothing changed: the quotes were taken off again


def test_import_report_holds_no_formula(registry: Engine, cli_env: str, tmp_path: Path) -> None:
    bad = households(2, prefix="F")
    bad.loc[1, "户类型"] = '=HYPERLINK("http://x.invalid")'
    source = tmp_path / "bad.csv"
    bad.to_csv(source, index=False, encoding="utf-8")
    for name in ("r.csv", "r.xlsx"):
        assert main(["import", str(source), "--report", str(tmp_path / name)]) == 1
    report = pd.read_csv(tmp_path / "r.csv", dtype=str, encoding="utf-8-sig")
    assert report["value"].tolist() == ['\'=HYPERLINK("http://x.invalid")']
    cells = _cells(tmp_path / "r.xlsx")
    assert [c for c in cells if c[1] == "f"] == []
    assert ('=HYPERLINK("http://x.invalid")', "s") in cells


def test_report_equal_to_the_input_is_refused_before_importing(
    registry: Engine, cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = households(3, prefix="R")
    bad.loc[1, "户类型"] = "富裕户"
    source = tmp_path / "in.csv"
    bad.to_csv(source, index=False, encoding="utf-8")
    content = source.read_bytes()
    before = counts(registry)
    for same in (source, tmp_path / "." / "in.csv"):
        code = main(["import", str(source), "--partial", "--report", str(same)])
        assert code == 2
        err = capsys.readouterr().err
        assert "--report path is the input file itself" in err and "in.csv" in err
    assert source.read_bytes() == content
    assert counts(registry) == before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["export", "households", "--out", "{dir}"], "--out path is a folder, but a file is"),
        (["export", "households", "--out", "{file}/x.csv"], "which is a file, not a folder"),
        (["import", "{source}", "--report", "{dir}"], "--report path is a folder, but a file"),
        (["import", "{source}", "--report", "{file}/r.csv"], "which is a file, not a folder"),
        (["snapshot", "--out", "{file}"], "--out path is a file, but a folder is expected"),
        (["synth", "-n", "50", "--years", "2019", "--out", "{file}"], "--out path is a file"),
        (
            ["measure", "--spec", "global_mpi", "--data", "example", "--out", "{dir}"],
            "--out path is a folder, but a file is expected",
        ),
        (
            ["measure", "--spec", "global_mpi", "--data", "example", "--households-out", "{dir}"],
            "--households-out path is a folder",
        ),
    ],
    ids=[
        "export-dir",
        "export-through-file",
        "report-dir",
        "report-through-file",
        "snapshot-file",
        "synth-file",
        "measure-out-dir",
        "measure-households-dir",
    ],
)
def test_bad_output_paths_are_one_clear_error(
    registry: Engine,
    cli_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    folder = tmp_path / "existing"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep", encoding="utf-8")
    blocker = tmp_path / "afile"
    blocker.write_text("mine", encoding="utf-8")
    source = tmp_path / "hh.csv"
    households(2, prefix="P").to_csv(source, index=False, encoding="utf-8")
    before = counts(registry)
    argv = [a.format(dir=folder, file=blocker, source=source) for a in args]
    if args[0] == "snapshot":
        argv += ["--url", cli_env]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err
    assert blocker.read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]
    after = counts(registry)
    if args[0] == "export":
        # every export is audited, a refused one too: one entry saying it failed, nothing else
        assert after == {**before, "change_log": before["change_log"] + 1}
        with registry.connect() as conn:
            action, entry = conn.execute(
                sa.text("SELECT action, after FROM change_log ORDER BY seq DESC LIMIT 1")
            ).one()
        assert action == "export"
        assert '"failed"' in entry
    else:
        assert after == before


def test_snapshot_into_the_registry_file_is_refused(
    registry: Engine, cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if registry.dialect.name != "sqlite":
        pytest.skip("only a SQLite registry is a file")
    database = registry.url.database
    assert database is not None
    size = Path(database).stat().st_size
    assert main(["snapshot", "--out", database, "--url", cli_env]) == 2
    assert "--out path is a file, but a folder is expected" in capsys.readouterr().err
    assert Path(database).stat().st_size == size


def test_export_into_the_registry_file_is_refused(registry: Engine, tmp_path: Path) -> None:
    from dongxi.errors import InputError
    from dongxi.store.exporter import export_file

    if registry.dialect.name != "sqlite":
        pytest.skip("only a SQLite registry is a file")
    database = Path(str(registry.url.database))
    alias = database.with_suffix(".csv")
    alias.symlink_to(database)
    size = database.stat().st_size
    with pytest.raises(InputError, match="--out path is the input file itself"):
        export_file(registry, kind="households", out=alias, actor="test", scope=Scope.everything())
    assert database.stat().st_size == size
    alias.unlink()


def test_unmasked_export_is_owner_only_and_masked_is_not(
    registry: Engine, cli_env: str, tmp_path: Path
) -> None:
    import os

    hh = households(2, prefix="U")
    result = import_frames(registry, {"households": hh, "people": people(hh)}, actor="t")
    assert all(r.ok for r in result.values())
    old = os.umask(0o022)
    try:
        clear, masked = tmp_path / "clear.csv", tmp_path / "masked.csv"
        clear.write_text("an older file, readable by all", encoding="utf-8")
        assert main(["export", "people", "--out", str(clear), "--unmask"]) == 0
        assert main(["export", "people", "--out", str(masked)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(clear.stat().st_mode) == 0o600
    assert stat.S_IMODE(masked.stat().st_mode) == 0o644
    assert len(pd.read_csv(clear, encoding="utf-8-sig")) == 6


def test_localized_file_with_quote_reimports_as_written(registry: Engine, tmp_path: Path) -> None:
    """A user's CSV with a leading quote before a formula character reads as what dongxi wrote."""
    from dongxi.store.importer import import_file
    from dongxi.tables import write_table

    partners = _partners(registry)
    path = write_table(localize(partners, kind="partners"), tmp_path / "p.csv")
    again = import_file(registry, path, actor="test")
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(partners))
