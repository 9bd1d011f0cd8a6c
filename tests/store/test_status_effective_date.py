"""Status history dated by the import's stated date (a 状态变更日期 column or
``--effective-date``), so that a snapshot ``--as-of`` a past day has the statuses of that day.
Through the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi.cli import main
from dongxi.settings import get_settings
from dongxi.synth import generate


@pytest.fixture
def configured(registry: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = registry.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DONGXI_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _households() -> pd.DataFrame:
    frame = generate(households=4, seed=3, years=(2019,)).rounds[2019].households.head(4)
    frame = frame.assign(
        status="registered_poor",
        year_registered=2016,
        year_exited=pd.NA,
        helper_id=pd.NA,
        monitoring_category=pd.NA,
    )
    return frame.reset_index(drop=True)


def _history(engine: Engine) -> list[tuple[str, str, dt.date]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT household_code, status, effective_date FROM household_status "
                "ORDER BY household_code, effective_date, id"
            )
        ).all()
    return [(c, s, d if isinstance(d, dt.date) else dt.date.fromisoformat(d)) for c, s, d in rows]


def _statuses(folder: Path) -> dict[str, str]:
    frame = pd.read_parquet(folder / "households.parquet")
    return dict(zip(frame["household_code"], frame["status"], strict=True))


def test_effective_date_and_status_date_column_date_the_history(
    configured: str, registry: Engine, tmp_path: Path
) -> None:
    first = _households()
    codes = list(first["household_code"])
    path = tmp_path / "户-2019.csv"
    first.to_csv(path, index=False)
    assert main(["import", str(path), "--effective-date", "2019-06-30"]) == 0
    assert _history(registry) == [(c, "registered_poor", dt.date(2019, 6, 30)) for c in codes]

    # the next year's file: two households escaped, each on the day in its 状态变更日期 cell;
    # a third row without a date takes --effective-date
    second = first.copy()
    second.loc[[0, 1, 2], "status"] = "escaped"
    second.loc[[0, 1, 2], "year_exited"] = 2020
    second["状态变更日期"] = ["2020-11-30", "2020-10-15", "", ""]
    path2 = tmp_path / "户-2020.csv"
    second.to_csv(path2, index=False)
    assert main(["import", str(path2), "--effective-date", "2020-12-31"]) == 0
    history = _history(registry)
    assert (codes[0], "escaped", dt.date(2020, 11, 30)) in history
    assert (codes[1], "escaped", dt.date(2020, 10, 15)) in history
    assert (codes[2], "escaped", dt.date(2020, 12, 31)) in history
    assert len(history) == 7  # the unchanged fourth household gets no entry

    # snapshots of the past have the statuses of their day
    before = tmp_path / "as-of-2019"
    assert (
        main(["snapshot", "--out", str(before), "--url", configured, "--as-of", "2019-12-31"]) == 0
    )
    assert set(_statuses(before).values()) == {"registered_poor"}
    mid = tmp_path / "as-of-2020-11"
    assert main(["snapshot", "--out", str(mid), "--url", configured, "--as-of", "2020-11-01"]) == 0
    assert _statuses(mid) == {
        codes[0]: "registered_poor",
        codes[1]: "escaped",
        codes[2]: "registered_poor",
        codes[3]: "registered_poor",
    }
    after = tmp_path / "as-of-2020"
    assert (
        main(["snapshot", "--out", str(after), "--url", configured, "--as-of", "2020-12-31"]) == 0
    )
    assert [_statuses(after)[c] for c in codes] == ["escaped"] * 3 + ["registered_poor"]


def test_without_a_date_the_history_is_dated_today(
    configured: str, registry: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "户.csv"
    _households().head(1).to_csv(path, index=False)
    assert main(["import", str(path)]) == 0
    assert [d for _c, _s, d in _history(registry)] == [dt.date.today()]


@pytest.mark.parametrize(
    ("given", "message"),
    [("2019/06/30", "is not a date"), ("2999-01-01", "in the future")],
)
def test_bad_effective_date_is_refused_before_anything_is_read(
    configured: str,
    registry: Engine,
    tmp_path: Path,
    given: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "户.csv"
    _households().to_csv(path, index=False)
    assert main(["import", str(path), "--effective-date", given]) == 2
    assert message in capsys.readouterr().err
    assert _history(registry) == []


def test_a_status_date_that_is_not_a_date_is_a_rejected_cell(
    configured: str, registry: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = _households().head(2).assign(状态变更日期=["2020-02-30", "2020-03-01"])
    path = tmp_path / "户.csv"
    frame.to_csv(path, index=False)
    assert main(["import", str(path)]) == 1
    out = capsys.readouterr().out
    assert "type_date" in out
    assert "2020-02-30" in out
    assert _history(registry) == []
