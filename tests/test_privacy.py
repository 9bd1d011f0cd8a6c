"""No ID number, name or contact of the data reaches a log, the terminal or an error report.

One scripted session on a synthetic registry (docs/security.md): synth, ``db upgrade``, import of
every table, import of a people file with shifted columns and of one without a header row (with
``--report``), masked and unmasked export, one ID revealed, snapshot, measure on the snapshot,
``dongxi match`` on the registry, and errors with and without ``--debug``. Every log record
(all loggers at DEBUG), everything printed, every report file — and the snapshot, the match
report and the masked export for ID numbers — is searched for every ID number, name and contact
of the synthetic tables. The unmasked export is the one place where clear numbers belong.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from dongxi.cli import main
from dongxi.settings import get_settings


@pytest.fixture
def registry_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    monkeypatch.setenv("DONGXI_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    monkeypatch.undo()
    get_settings.cache_clear()


def _wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich consoles as wide as needed, so no cell is wrapped (and a value split in two)."""
    from rich.console import Console

    import dongxi.cli as cli
    from dongxi.cli import db, imports, measure, synth

    for module in (cli, db, imports, measure, synth):
        for name in ("console", "err_console"):
            found = getattr(module, name, None)
            if isinstance(found, Console):
                monkeypatch.setattr(found, "width", 1000)


def _secrets(folder: Path) -> tuple[set[str], set[str]]:
    """ID numbers, and names and contacts, of the synthetic tables written to ``folder``."""
    people = pd.read_csv(folder / "people.csv", dtype=str, encoding="utf-8-sig")
    helpers = pd.read_csv(folder / "helpers.csv", dtype=str, encoding="utf-8-sig")
    partners = pd.read_csv(folder / "partners.csv", dtype=str, encoding="utf-8-sig")
    ids = set(people["身份证号"].dropna())
    names = set(people["姓名"].dropna()) | set(helpers["姓名"].dropna())
    names |= set(partners["联系人"].dropna())
    assert len(ids) > 50 and len(names) > 50
    return ids, names


def _shifted(people: pd.DataFrame, *, left: bool) -> pd.DataFrame:
    """Data rows out of line with the headers. ``left``: the member-number cells left out, every
    later cell moves one column to the left (the ID number under 成员序号, the name under
    身份证号, …); otherwise an empty cell is inserted before the name, which moves right (under
    与户主关系, the relation under 性别, …)."""
    cols = list(people.columns)
    values = people.to_numpy(dtype=object)
    if left:
        at = cols.index("成员序号")
        moved = [[*row[:at], *row[at + 1 :], None] for row in values]
    else:
        at = cols.index("姓名")
        moved = [[*row[:at], None, *row[at:-1]] for row in values]
    return pd.DataFrame(moved, columns=cols)


def _run(args: list[str]) -> int:
    return main(args)


def test_a_whole_session_leaks_no_personal_value(
    tmp_path: Path,
    registry_env: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    _wide_consoles(monkeypatch)
    synth_dir, reports = tmp_path / "synth", tmp_path / "reports"
    reports.mkdir()
    assert not _run(
        ["synth", "-n", "40", "--seed", "5", "--years", "2019-2020", "-o", str(synth_dir)]
    )
    assert not _run(["db", "upgrade", "--url", registry_env])
    ids, names = _secrets(synth_dir)

    for kind in ("helpers", "partners", "households", "people", "income", "measures"):
        code = _run(["import", str(synth_dir / f"{kind}.csv"), "--kind", kind, "--actor", "t"])
        assert code == 0, kind

    # a people file with shifted columns, and one without its header row
    people = pd.read_csv(synth_dir / "people.csv", dtype=str, encoding="utf-8-sig")
    shifted = tmp_path / "shifted.csv"
    _shifted(people.head(12), left=True).to_csv(shifted, index=False, encoding="utf-8-sig")
    shifted_right = tmp_path / "shifted_right.csv"
    _shifted(people.head(12), left=False).to_csv(shifted_right, index=False, encoding="utf-8-sig")
    headerless = tmp_path / "headerless.csv"
    people.head(12).to_csv(headerless, index=False, header=False, encoding="utf-8-sig")
    for bad in (shifted, shifted_right, headerless):
        for fmt in ("csv", "xlsx"):
            report = reports / f"{bad.stem}.{fmt}"
            args = ["import", str(bad), "--kind", "people", "--report", str(report)]
            if bad == headerless:
                # refused before any row is read as data: the first row is not a header row
                assert _run(args) == 2, bad.name
                assert not report.exists()
            else:
                assert _run(args) == 1, bad.name
                assert report.exists()
        # detected kind: rows rejected (1); no header row: the kind is not recognised (2)
        expected = 2 if bad == headerless else 1
        assert _run(["import", str(bad)]) == expected
        assert _run(["--debug", "import", str(bad)]) == expected  # 2: with the traceback
    assert _run(["--debug", "import", str(shifted), "--kind", "people", "--partial"]) == 1

    # exports (the unmasked one is the only file allowed to hold clear numbers)
    masked, clear = tmp_path / "people_masked.csv", tmp_path / "people_clear.csv"
    assert not _run(["export", "people", "--out", str(masked), "--actor", "t"])
    assert not _run(["export", "people", "--out", str(clear), "--unmask", "--actor", "t"])
    assert set(pd.read_csv(clear, dtype=str, encoding="utf-8-sig")["身份证号"]) == ids

    # one ID revealed through the store API (logged in the change log)
    from dongxi.store import reveal_id_number
    from dongxi.store.db import make_engine, session_scope

    engine = make_engine()
    try:
        with engine.connect() as conn:
            id_hash = conn.execute(sa.text("SELECT id_hash FROM people LIMIT 1")).scalar_one()
        with session_scope(engine) as session:
            revealed = reveal_id_number(session, actor="t", id_hash=id_hash, reason="audit")
        assert revealed in ids
        # matching on the registry: seekers drawn from its people, synthetic offers
        from dongxi.store.market_models import save_needs, save_offers
        from dongxi.synth import generate
        from dongxi.synth.market import market_2017, seekers_from_people

        data = generate(households=40, seed=5, years=(2019, 2020))  # what `dongxi synth` wrote
        assert set(data.people["id_number"]) == ids
        seekers = seekers_from_people(data.people, data.households, seed=3)
        assert len(seekers)
        _, offers = market_2017(seed=9, n_seekers=200)
        save_needs(engine, seekers, actor="t")
        save_offers(engine, offers, actor="t")
    finally:
        engine.dispose()

    snap, match_dir = tmp_path / "snap", tmp_path / "match"
    assert not _run(["snapshot", "--out", str(snap), "--url", registry_env, "--label", "p"])
    args = ["measure", "--data", str(snap), "--spec", "china_official", "--year", "2020"]
    assert not _run(args)
    assert not _run(["match", "--url", registry_env, "--report", str(match_dir)])

    # errors: a bad spec, a bad export target, a masked ID that is nobody's
    assert _run(["export", "people", "--out", str(tmp_path / "x.txt")]) == 2
    assert _run(["--debug", "export", "people", "--out", str(tmp_path / "x.txt")]) == 2
    stranger = pd.read_csv(masked, dtype=str, encoding="utf-8-sig").head(3)
    stranger["成员序号"] = "9"
    stranger["与户主关系"] = "子女"
    odd = tmp_path / "stranger.csv"
    stranger.to_csv(odd, index=False, encoding="utf-8-sig")
    assert _run(["import", str(odd), "--report", str(reports / "stranger.csv")]) == 1

    out = capsys.readouterr()
    texts: dict[str, str] = {"stdout": out.out, "stderr": out.err}
    for i, record in enumerate(caplog.records):
        texts[f"log {i} {record.name}"] = _record_text(record)
    for path in sorted(reports.iterdir()):
        texts[f"report {path.name}"] = _file_text(path)
    assert "第" in texts["report shifted.csv"] or "row" in texts["report shifted.csv"]
    _assert_clean(texts, ids, names)

    # the snapshot and the match report hold neither; the masked export holds no ID number
    files = {f"file {p}": _file_text(p) for p in [*snap.iterdir(), *match_dir.iterdir()]}
    _assert_clean(files, ids, names)
    _assert_clean({"masked export": _file_text(masked)}, ids, set())
    assert all(i in _file_text(clear) for i in ids)  # the check would see a leak


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage()]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(str(record.exc_info[1]))
    if record.exc_text:
        parts.append(record.exc_text)
    return "\n".join(parts)


def _file_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        sheets: dict[Any, pd.DataFrame] = pd.read_excel(
            path, sheet_name=None, dtype=str, engine="calamine"
        )
        return "\n".join(frame.to_csv(index=False) for frame in sheets.values())
    if path.suffix == ".parquet":
        return pd.read_parquet(path).astype(str).to_csv(index=False)
    return path.read_bytes().decode("utf-8", errors="replace")


def _assert_clean(texts: dict[str, str], ids: set[str], names: set[str]) -> None:
    leaks = [
        (where, value) for where, text in texts.items() for value in (*ids, *names) if value in text
    ]
    assert not leaks, leaks[:10]
