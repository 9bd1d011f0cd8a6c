"""Workbooks with several sheets, and hostile cells, imported into the registry (SQLite and
PostgreSQL): every sheet by its kind in one transaction, or a refusal naming the sheets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from test_import import counts, households, income, people

from dongxi.cli import main
from dongxi.errors import InputError
from dongxi.settings import get_settings
from dongxi.store.importer import import_file, import_path, plan_file


def workbook(
    path: Path, sheets: dict[str, pd.DataFrame | None], hidden: frozenset[str] = frozenset()
) -> Path:
    """A workbook with one sheet per entry (``None``: an empty sheet), as Excel users make them."""
    book = openpyxl.Workbook()
    default = book.active
    assert default is not None
    book.remove(default)
    for name, frame in sheets.items():
        sheet = book.create_sheet(name)
        if frame is not None:
            sheet.append(list(frame.columns))
            for row in frame.itertuples(index=False):
                sheet.append([None if v is None or v != v else v for v in row])
        if name in hidden:
            sheet.sheet_state = "hidden"
    book.save(path)
    return path


@pytest.fixture
def cli_env(registry: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = registry.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DONGXI_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_every_sheet_is_imported_by_its_kind_in_one_transaction(
    registry: Engine, tmp_path: Path
) -> None:
    hh = households(3)
    # people before households in the workbook: written in dependency order all the same
    path = workbook(
        tmp_path / "book.xlsx",
        {"成员": people(hh, per_household=2), "说明": None, "户": hh, "收入": income(hh)},
    )
    before = counts(registry)
    done = import_path(registry, path, actor="test")
    assert done.ok and done.written
    assert {k: (r.created, r.source) for k, r in done.results.items()} == {
        "households": (3, "book.xlsx:户"),
        "people": (6, "book.xlsx:成员"),
        "income": (3, "book.xlsx:收入"),
    }
    assert done.ignored == ["'说明' (empty: no cells)"]
    after = counts(registry)
    assert (after["households"] - before["households"], after["people"] - before["people"]) == (
        3,
        6,
    )


def test_a_bad_sheet_means_nothing_of_the_workbook_is_written(
    registry: Engine, tmp_path: Path
) -> None:
    hh = households(3)
    pp = people(hh, per_household=2)
    pp.loc[1, "性别"] = "未知"
    path = workbook(tmp_path / "book.xlsx", {"户": hh, "成员": pp})
    before = counts(registry)
    done = import_path(registry, path, actor="test")
    assert not done.written
    assert [(e.file, e.row, e.rule) for e in done.results["people"].errors] == [
        ("book.xlsx:成员", 3, "domain")
    ]
    assert counts(registry) == before


def test_sheets_that_cannot_be_imported_together_are_named(
    registry: Engine, tmp_path: Path
) -> None:
    hh = households(2)
    before = counts(registry)
    hidden = workbook(
        tmp_path / "h.xlsx", {"户": hh, "旧数据": households(2, prefix="X")}, {"旧数据"}
    )
    with pytest.raises(InputError, match="hidden sheet\\(s\\) holding data: '旧数据'") as info:
        import_path(registry, hidden, actor="test")
    assert info.value.rule == "hidden_sheet"
    twice = workbook(tmp_path / "t.xlsx", {"一村": hh, "二村": households(2, prefix="Y")})
    with pytest.raises(InputError, match="Sheets '一村' and '二村' both hold households"):
        import_path(registry, twice, actor="test")
    unknown = workbook(tmp_path / "u.xlsx", {"户": hh, "杂项": pd.DataFrame({"备注": ["x"]})})
    with pytest.raises(InputError, match="Sheet '杂项': The kind of table could not be recognised"):
        import_path(registry, unknown, actor="test")
    several = workbook(tmp_path / "s.xlsx", {"户": hh, "收入": income(hh)})
    with pytest.raises(InputError, match=r"2 sheets holding data .* --kind applies to one table"):
        plan_file(several, kind="households")
    with pytest.raises(InputError, match="holds 2 tables"):
        import_file(registry, several, actor="test")
    hidden_empty = workbook(tmp_path / "he.xlsx", {"户": hh, "备用": None}, frozenset({"备用"}))
    assert plan_file(hidden_empty).ignored == ["'备用' (hidden, empty: no cells)"]
    assert counts(registry) == before


def test_title_row_in_a_sheet_is_explained(registry: Engine, tmp_path: Path) -> None:
    hh = households(2)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["隆安县建档立卡户花名册"])
    sheet.append(list(hh.columns))
    for row in hh.itertuples(index=False):
        sheet.append(list(row))
    path = tmp_path / "title.xlsx"
    book.save(path)
    with pytest.raises(InputError, match="Row 1 holds only a title; the headers are in row 2"):
        import_path(registry, path, actor="test")


def test_control_characters_and_infinite_incomes_are_not_stored(
    registry: Engine, tmp_path: Path
) -> None:
    hh = households(2)
    assert import_file(registry, _csv(hh, tmp_path / "hh.csv"), actor="test").written
    pp = people(hh, per_household=1)
    pp.loc[0, "务工行业"] = "制造\x00业"
    inc = income(hh)
    inc.loc[1, "工资性收入"] = "1e400"
    before = counts(registry)
    got = import_file(registry, _csv(pp, tmp_path / "pp.csv"), actor="test")
    assert not got.written
    assert [(e.row, e.column, e.value, e.rule) for e in got.errors] == [
        # 制造\\u0000业 (9 characters), cut to its first character as Chinese text in messages is
        (2, "务工行业", "制" + "*" * 8, "control_char")
    ]
    got = import_file(registry, _csv(inc, tmp_path / "inc.csv"), actor="test")
    assert [(e.row, e.column, e.rule) for e in got.errors] == [(3, "工资性收入", "number_finite")]
    assert counts(registry) == before


def _csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, encoding="utf-8")
    return path


def test_cli_imports_every_sheet_and_names_the_skipped_ones(
    registry: Engine, cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hh = households(2)
    path = workbook(tmp_path / "book.xlsx", {"户": hh, "空表": None, "收入": income(hh)})
    assert main(["import", str(path), "--actor", "cli"]) == 0
    out = capsys.readouterr().out
    assert "skipped empty sheet '空表' (empty: no cells)" in out
    assert "households (book.xlsx:户): 2 rows — 2 created" in out
    assert "income (book.xlsx:收入): 2 rows — 2 created" in out
    short = tmp_path / "short.csv"
    short.write_text("户编号,年度,工资性收入\nH0000,2019,1\nH0001,2019\n", encoding="utf-8")
    assert main(["import", str(short)]) == 2
    assert "Line 3 has 2 fields but the header has 3" in capsys.readouterr().err


def test_synth_years_are_bounded_before_they_are_expanded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["synth", "-n", "10", "--years", "2019-999999999", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "within 2014–2030" in err
    assert main(["synth", "-n", "10", "--years", "2020-2019", "--out", str(tmp_path)]) == 2
