"""The registry kind ``income_months`` (monthly income and rigid spending of a household), on
SQLite and PostgreSQL (the ``registry`` fixture): import with Chinese headers, validation,
export round trip and snapshot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from test_import import households, write_csv

from dongxi.intake.columns import TABLE_KINDS
from dongxi.intake.headers import detect_kind
from dongxi.intake.validate import month_text
from dongxi.store import create_snapshot
from dongxi.store.exporter import export_file
from dongxi.store.importer import import_file, import_frame
from dongxi.store.scope import Scope

EVERYTHING = Scope.everything()


def months_file(codes: list[str], months: list[str]) -> pd.DataFrame:
    rows = []
    for i, code in enumerate(codes):
        for j, month in enumerate(months):
            rows.append(
                {
                    "户编码": code,
                    "月份": month,
                    "家庭纯收入": f"{1500.5 + 10 * i - 3000 * (j == 2):.2f}",  # one month negative
                    "医疗自付支出": "120" if j == 1 else "0",
                    "教育支出": "800" if j == 0 else "0",
                    "灾害损失": "0",
                    "家庭人口": str(3 + (j == 2)),
                }
            )
    return pd.DataFrame(rows)


def _load(registry: Engine, tmp_path: Path) -> pd.DataFrame:
    hh = households(3)
    result = import_file(registry, write_csv(hh, tmp_path / "hh.csv"), actor="test")
    assert result.ok and result.written
    return hh


def test_the_kind_is_as_in_the_contract() -> None:
    kind = TABLE_KINDS["income_months"]
    assert kind.file_key == ("household_code", "month")
    assert kind.headers == {
        "household_code": "户编码",
        "month": "月份",
        "net_income": "家庭纯收入",
        "medical_spending": "医疗自付支出",
        "schooling_spending": "教育支出",
        "disaster_loss": "灾害损失",
        "household_size": "家庭人口",
    }
    assert detect_kind(list(months_file(["H1"], ["2021-01"]).columns)) == "income_months"


@pytest.mark.parametrize(
    ("cell", "month"),
    [
        ("2021-03", "2021-03"),
        ("2021/3", "2021-03"),
        ("2021年3月", "2021-03"),
        ("202103", "2021-03"),
        ("2021-03-01 00:00:00", "2021-03"),
        (dt.date(2024, 11, 30), "2024-11"),
        ("2021-13", None),
        ("2021-00", None),
        ("1999-05", None),
        ("March 2021", None),
        ("2021", None),
    ],
)
def test_month_spellings(cell: object, month: str | None) -> None:
    assert month_text(cell) == month


def test_import_export_round_trip(registry: Engine, tmp_path: Path) -> None:
    hh = _load(registry, tmp_path)
    frame = months_file(list(hh["户编号"]), ["2021-01", "2021-02", "2021/3"])
    result = import_file(registry, write_csv(frame, tmp_path / "m.csv"), actor="test")
    assert result.kind == "income_months"
    assert result.ok and result.created == 9, result.errors[:3]
    with registry.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT month, net_income, household_size FROM income_months "
                "WHERE household_code = 'H0001' ORDER BY month"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("2021-01", 1510.5, 3),
        ("2021-02", 1510.5, 3),
        ("2021-03", -1489.5, 4),
    ]
    for suffix in (".csv", ".xlsx"):
        out = export_file(
            registry,
            scope=EVERYTHING,
            kind="income_months",
            out=tmp_path / f"out{suffix}",
            actor="t",
        )
        assert out.rows == 9
        again = import_file(registry, out.path, kind="income_months", actor="test")
        assert again.ok, again.errors[:3]
        assert (again.created, again.updated, again.unchanged) == (0, 0, 9)
    header = (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.split(",") == list(TABLE_KINDS["income_months"].headers.values())


def test_validation_errors(registry: Engine, tmp_path: Path) -> None:
    hh = _load(registry, tmp_path)
    frame = months_file(list(hh["户编号"])[:2], ["2021-01", "2021-02"])
    frame.loc[0, "月份"] = "2021-13"  # row 2
    frame.loc[1, "医疗自付支出"] = "-5"  # row 3
    frame.loc[2, "月份"] = "2021-01"  # row 4: H0001 twice for 2021-01
    frame.loc[3, "月份"] = "2021-01"  # row 5: duplicates row 4
    frame.loc[3, "家庭人口"] = "0"
    frame.loc[1, "户编码"] = "NOPE"
    result = import_frame(registry, kind="income_months", frame=frame, actor="test")
    found = sorted((e.row, e.rule, e.column) for e in result.errors)
    assert found == [
        (2, "month_format", "月份"),
        (3, "range", "医疗自付支出"),
        (3, "reference_household", "户编码"),
        (5, "duplicate_key", "月份"),
        (5, "range", "家庭人口"),
    ]
    assert not result.written
    with registry.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM income_months")).scalar_one() == 0


def test_snapshot_holds_the_months_up_to_as_of(registry: Engine, tmp_path: Path) -> None:
    hh = _load(registry, tmp_path)
    frame = months_file(list(hh["户编号"]), ["2021-11", "2021-12", "2022-01"])
    assert import_frame(registry, kind="income_months", frame=frame, actor="test").ok
    info = create_snapshot(registry, folder=tmp_path / "all")
    assert info.manifest["tables"]["income_months"]["rows"] == 9
    table = pq.read_table(tmp_path / "all" / "income_months.parquet")
    assert table.column_names == list(TABLE_KINDS["income_months"].headers)
    create_snapshot(registry, folder=tmp_path / "y2021", as_of=dt.date(2021, 12, 31))
    months = pq.read_table(tmp_path / "y2021" / "income_months.parquet")["month"].to_pylist()
    assert sorted(set(months)) == ["2021-11", "2021-12"]


_month_cell = st.one_of(
    st.none(),
    st.sampled_from(["2021-03", "2021-13", "1999-05", "2021/3", "2021年3月", "202103", " 2021-03"]),
    st.text(st.sampled_from(list("0123456789-/年月 ")), max_size=8),
)


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(_month_cell, min_size=1, max_size=30))
def test_months_read_once_per_distinct_cell_equal_cell_by_cell(cells: list[str | None]) -> None:
    from dongxi.intake.validate import _month_cells, _months_of

    given = pd.Series(cells + cells, dtype=object)
    expected = _month_cells(given)
    assert _months_of(given).tolist() == [None if pd.isna(v) else v for v in expected]
    # mixed cells (a date beside text) take the cell-by-cell path
    mixed = pd.Series([*cells, dt.date(2024, 11, 30)], dtype=object)
    assert _months_of(mixed).tolist()[-1] == "2024-11"
