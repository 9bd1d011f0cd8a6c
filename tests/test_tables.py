"""Table files: encoding detection and round trips."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dongxi.errors import InputError
from dongxi.tables import detect_encoding, read_table, write_table

FRAME = pd.DataFrame(
    {"户编号": ["0450125001", "0450125002"], "姓名": ["张三", "李四"], "n": ["1", "2"]}
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_read_alike(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(FRAME.to_csv(index=False).encode(encoding))
    assert detect_encoding(path.read_bytes()) == encoding
    got = read_table(path, as_text=True)
    pd.testing.assert_frame_equal(got, FRAME.astype(object))


def test_garbage_bytes_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n\xff\xfe\xfa\x00\x81\n")
    with pytest.raises(InputError, match="neither UTF-8 nor GB18030"):
        read_table(path)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    path = write_table(FRAME, tmp_path / f"t{suffix}")
    got = read_table(path, as_text=True)
    pd.testing.assert_frame_equal(got.astype(str), FRAME.astype(str))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def test_xlsx_cells_read_as_openpyxl_reads_them(tmp_path: Path) -> None:
    """The XLSX reader (calamine) gives the same text cells as pandas' openpyxl reader (the peer),
    for text with leading zeros, integers, decimals, dates, date-times, booleans, Chinese text."""
    import datetime as dt

    frame = pd.DataFrame(
        {
            "code": ["007", "450123", None, "0"],
            "n": [1, 2, 3, -4],
            "x": [1.5, None, 3.0, 0.1],
            "d": [dt.date(2001, 5, 9), None, dt.date(1990, 1, 1), dt.date(2020, 2, 29)],
            "ts": [dt.datetime(2001, 5, 9, 10), None, dt.datetime(2020, 1, 1), None],
            "b": [True, False, None, True],
            "zh": ["是", "否", "户主", " "],
        }
    )
    path = tmp_path / "mixed.xlsx"
    frame.to_excel(path, index=False)
    ours = read_table(path, as_text=True)
    reference = pd.read_excel(path, dtype=str, engine="openpyxl")
    # a cell of spaces only comes back empty from calamine, as " " from openpyxl; validation
    # treats both as a blank cell
    reference = reference.map(lambda v: float("nan") if isinstance(v, str) and v.isspace() else v)
    expected = reference.astype(object).where(reference.notna(), None)
    assert list(ours.columns) == list(expected.columns)
    assert ours.to_dict("list") == expected.to_dict("list")
