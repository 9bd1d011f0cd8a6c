"""Hostile and damaged input files: refused before they are read, with a message naming the place.

The malicious XLSX files are built here with ``zipfile`` (a few kB each). Before the limits, the
first of them made the XLSX reader ask for 512 GiB and abort the process (exit 134), so every
test below that passes proves the reader was never reached with it.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dongxi._xlsx_guard import Limits, _at_least, check_xlsx, column_letters, column_number
from dongxi.errors import InputError
from dongxi.settings import get_settings
from dongxi.tables import detect_encoding, read_sheets, read_table

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def xlsx(
    path: Path,
    sheets: list[tuple[str, str]] | None = None,
    *,
    states: dict[str, str] | None = None,
    compress: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """A minimal workbook: ``sheets`` are (name, inner XML of <worksheet>)."""
    sheets = sheets or [("Sheet1", "<sheetData/>")]
    states = states or {}
    entries = "".join(
        f'<sheet name="{name}" sheetId="{i + 1}" r:id="rId{i + 1}"'
        + (f' state="{states[name]}"' if name in states else "")
        + "/>"
        for i, (name, _) in enumerate(sheets)
    )
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Target="worksheets/sheet{i + 1}.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
        for i in range(len(sheets))
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(len(sheets))
    )
    with zipfile.ZipFile(path, "w", compress) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxml'
            'formats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}</Types>",
        )
        zf.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        zf.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook {_NS} {_R}><sheets>{entries}</sheets></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships">{rels}</Relationships>',
        )
        for i, (_, inner) in enumerate(sheets):
            zf.writestr(
                f"xl/worksheets/sheet{i + 1}.xml",
                f'<?xml version="1.0"?><worksheet {_NS}>{inner}</worksheet>',
            )
    return path


@pytest.fixture
def limits_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set DONGXI_MAX_* for one test (the settings are read afresh)."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _set(env: pytest.MonkeyPatch, **values: int) -> None:
    for name, value in values.items():
        env.setenv(f"DONGXI_{name.upper()}", str(value))
    get_settings.cache_clear()


CELL = '<c r="{ref}" t="inlineStr"><is><t>x</t></is></c>'


# --- the used range --------------------------------------------------------------------------


def test_declared_dimension_at_xfd1048576_is_refused_before_reading(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "bomb.xlsx",
        [
            (
                "S",
                '<dimension ref="A1:XFD1048576"/><sheetData><row r="1">'
                + CELL.format(ref="A1")
                + "</row></sheetData>",
            )
        ],
    )
    assert path.stat().st_size < 2_000
    with pytest.raises(InputError, match="declares 16,384 columns") as info:
        read_table(path, as_text=True)
    assert info.value.rule == "input_limit"
    assert "DONGXI_MAX_INPUT_COLUMNS" in str(info.value)


def test_a_cell_at_xfd1048576_without_dimension_is_refused(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "bomb.xlsx",
        [
            (
                "S",
                '<sheetData><row r="1">'
                + CELL.format(ref="A1")
                + '</row><row r="1048576">'
                + CELL.format(ref="XFD1048576")
                + "</row></sheetData>",
            )
        ],
    )
    with pytest.raises(InputError, match="uses 16,384 columns; at most 1,000"):
        read_sheets(path)


def test_a_cell_far_below_its_row_is_found(tmp_path: Path, limits_env: pytest.MonkeyPatch) -> None:
    """A cell reference need not agree with its row: the scan reads cell references too."""
    _set(limits_env, max_input_rows=1_000)
    path = xlsx(
        tmp_path / "liar.xlsx",
        [
            (
                "S",
                '<dimension ref="A1:B2"/><sheetData><row r="1">'
                + CELL.format(ref="A1")
                + CELL.format(ref="B900000")
                + "</row></sheetData>",
            )
        ],
    )
    with pytest.raises(InputError, match="900,000 rows") as info:
        read_table(path, as_text=True)
    assert info.value.value == "row 900000"


def test_the_cell_limit_bounds_the_dense_range(tmp_path: Path) -> None:
    """1,048,576 rows x 60 columns is under the row and column limits but over the cells."""
    path = xlsx(
        tmp_path / "wide.xlsx",
        [
            (
                "S",
                '<sheetData><row r="1">'
                + CELL.format(ref="A1")
                + '</row><row r="1048576">'
                + CELL.format(ref="BH1048576")
                + "</row></sheetData>",
            )
        ],
    )
    with pytest.raises(InputError, match="DONGXI_MAX_INPUT_CELLS"):
        read_table(path, as_text=True)


def test_cells_without_references_are_counted(
    tmp_path: Path, limits_env: pytest.MonkeyPatch
) -> None:
    _set(limits_env, max_input_columns=50)
    row = "<row>" + '<c t="inlineStr"><is><t>x</t></is></c>' * 60 + "</row>"
    path = xlsx(tmp_path / "norefs.xlsx", [("S", f"<sheetData>{row}</sheetData>")])
    with pytest.raises(InputError, match="uses 51 columns; at most 50"):
        read_table(path, as_text=True)
    _set(limits_env, max_input_columns=60)
    scan = check_xlsx(path)[0]
    assert (scan.rows, scan.columns) == (1, 60)


def test_a_legit_sheet_reports_its_range(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [str(i) for i in range(30)], "b": ["x"] * 30, "c": ["y"] * 30})
    path = tmp_path / "ok.xlsx"
    frame.to_excel(path, index=False)
    (scan,) = check_xlsx(path)
    assert (scan.name, scan.rows, scan.columns, scan.hidden) == ("Sheet1", 31, 3, False)


# --- the zip container ----------------------------------------------------------------------


def test_zip_of_whitespace_is_refused_by_its_ratio(tmp_path: Path) -> None:
    padding = " " * (20 * 1024**2)
    path = xlsx(tmp_path / "ws.xlsx", [("S", f"<sheetData>{padding}</sheetData>")])
    assert path.stat().st_size < 100_000
    with pytest.raises(InputError, match="zip bomb") as info:
        read_table(path, as_text=True)
    assert "DONGXI_MAX_ZIP_RATIO" in str(info.value)


def _shrink_declared_size(path: Path, member: str, size: int) -> None:
    """Make the zip lie: write ``size`` as the member's uncompressed size in both headers."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    central = data.find(b"PK\x01\x02")
    name = member.encode()
    while central >= 0:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + name_len]) == name:
            struct.pack_into("<I", data, central + 24, size)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


def test_a_part_lying_about_its_size_is_measured(tmp_path: Path) -> None:
    padding = " " * (20 * 1024**2)
    path = xlsx(tmp_path / "liar.xlsx", [("S", f"<sheetData>{padding}</sheetData>")])
    _shrink_declared_size(path, "xl/worksheets/sheet1.xml", 1_000)
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size == 1_000
    with pytest.raises(InputError, match="unpacks to more than"):
        read_table(path, as_text=True)


def test_total_unpacked_size_is_bounded(tmp_path: Path, limits_env: pytest.MonkeyPatch) -> None:
    _set(limits_env, max_input_bytes=50_000)
    path = xlsx(tmp_path / "big.xlsx", [("S", "<sheetData>" + " " * 60_000 + "</sheetData>")])
    with pytest.raises(InputError, match="DONGXI_MAX_INPUT_BYTES"):
        read_table(path, as_text=True)
    csv = tmp_path / "big.csv"
    csv.write_bytes(b"a,b\n" + b"1,2\n" * 20_000)
    with pytest.raises(InputError, match="80,004 bytes; at most 50,000"):
        read_table(csv, as_text=True)


def test_encrypted_and_unknown_compression_are_refused(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "lzma.xlsx", compress=zipfile.ZIP_LZMA)
    with pytest.raises(InputError, match="compression method"):
        read_table(path, as_text=True)
    not_zip = tmp_path / "text.xlsx"
    not_zip.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not an XLSX workbook"):
        read_table(not_zip, as_text=True)


def test_formula_without_saved_value_is_named(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "收入"
    sheet.append(["户编号", "人均纯收入"])
    sheet.append(["H1", 5000])
    sheet.append(["H2", "=B2*2"])  # openpyxl saves no value for it
    path = tmp_path / "f.xlsx"
    book.save(path)
    with pytest.raises(InputError, match="cell B3: a formula without a saved value") as info:
        read_table(path, as_text=True)
    assert (info.value.row, info.value.column) == (3, "B")
    assert "save it" in str(info.value.fix)


def test_letters_and_thresholds() -> None:
    assert [column_number(c) for c in ("A", "Z", "AA", "XFD")] == [1, 26, 27, 16384]
    assert [column_letters(n) for n in (1, 26, 27, 16384)] == ["A", "Z", "AA", "XFD"]
    import re

    for n in (1, 9, 10, 99, 1000, 1048577, 50_000_001):
        pattern = re.compile(f"^{_at_least(n, '0123456789')}$")
        for k in (n - 1, n, n + 1, n * 10, max(1, n // 10)):
            assert bool(pattern.match(str(k))) == (k >= n), (n, k)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for n in (1, 26, 27, 702, 703, 1001, 16384):
        pattern = re.compile(f"^{_at_least(n, alphabet)}$")
        for k in (max(1, n - 1), n, n + 1, 16384):
            assert bool(pattern.match(column_letters(k))) == (k >= n), (n, k)


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_row_cut_short_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text(
        "户编号,年度,工资性收入,财产性收入\nH1,2019,100,5\n\nH2,2019\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="Line 4 has 2 fields but the header has 4") as info:
        read_table(path, as_text=True)
    assert (info.value.row, info.value.rule) == (4, "field_count")


def test_csv_row_too_long_and_quoted_rows(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("a,b\n1,2\n3,4,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="Line 3 has 3 fields but the header has 2"):
        read_table(path, as_text=True)
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('a,b,c\n"x, y",2,3\n"multi\nline",5\n', encoding="utf-8")
    with pytest.raises(InputError, match="Line 3 has 2 fields but the header has 3"):
        read_table(quoted, as_text=True)
    good = tmp_path / "good.csv"
    good.write_text('a,b,c\n"x, y",2,3\n\n"multi\nline",5,\r\n', encoding="utf-8")
    got = read_table(good, as_text=True)
    assert got.to_dict("list") == {"a": ["x, y", "multi\nline"], "b": ["2", "5"], "c": ["3", None]}


def test_csv_title_line_above_the_headers_is_named(tmp_path: Path) -> None:
    path = tmp_path / "title.csv"
    path.write_text("隆安县2019年收入表\n户编号,年度\nH1,2019\n", encoding="utf-8")
    with pytest.raises(InputError, match="Row 1 holds only a title") as info:
        read_table(path, as_text=True)
    assert (info.value.rule, info.value.row) == ("title_row", 1)


def test_gb18030_csv_field_counts(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("户编号,姓名,备注\nH1,张三,好\nH2,李四\n".encode("gb18030"))
    with pytest.raises(InputError, match="Line 3 has 2 fields"):
        read_table(path, as_text=True)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_two_columns_with_the_same_header_are_refused(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"dup{suffix}"
    rows = [["户编号", "年度", "户编号"], ["H1", "2019", "H2"]]
    if suffix == ".csv":
        path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    else:
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        for r in rows:
            sheet.append(r)
        book.save(path)
    with pytest.raises(InputError, match="columns A and C have the same header '户编号'") as info:
        read_table(path, as_text=True)
    assert info.value.rule == "duplicate_header"


def test_mixed_encodings_name_the_line(tmp_path: Path) -> None:
    utf8 = "户编号,村名\nH1,那坡村\nH2,百合村\n".encode()
    gbk = "H3,龙江村\n".encode("gb18030")
    with pytest.raises(InputError, match="UTF-8 up to line 4") as info:
        detect_encoding(utf8 + gbk)
    assert info.value.row == 4
    with pytest.raises(InputError, match="marked as UTF-8 but line 4 is not UTF-8"):
        detect_encoding(b"\xef\xbb\xbf" + utf8 + gbk)
    # a file in GB18030 only is still read as GB18030
    assert detect_encoding("户编号,村名\nH1,那坡村\n".encode("gb18030")) == "gb18030"


def test_several_sheets_are_all_read_with_their_state(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "户"
    first.append(["户编号"])
    first.append(["H1"])
    hidden = book.create_sheet("隐藏")
    hidden.append(["a"])
    hidden.sheet_state = "hidden"
    book.create_sheet("空")
    path = tmp_path / "book.xlsx"
    book.save(path)
    sheets = read_sheets(path)
    assert [(s.name, s.hidden, s.empty) for s in sheets] == [
        ("户", False, False),
        ("隐藏", True, True),
        ("空", False, True),
    ]
    assert sheets[0].frame.to_dict("list") == {"户编号": ["H1"]}


def test_big_numbers_in_number_cells_read_as_excel_shows_them(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["身份证号", "n"])
    sheet.append([450102199001011234, 12])
    path = tmp_path / "ids.xlsx"
    book.save(path)
    got = read_table(path, as_text=True)
    assert got.to_dict("list") == {"身份证号": ["4.50102199001011E+17"], "n": ["12"]}


def test_limits_come_from_settings(limits_env: pytest.MonkeyPatch) -> None:
    _set(limits_env, max_input_rows=7, max_input_columns=8, max_input_cells=9, max_zip_ratio=10)
    assert Limits.from_settings() == Limits(
        max_bytes=2 * 1024**3, max_rows=7, max_columns=8, max_cells=9, max_ratio=10
    )


def test_parquet_declaring_too_many_rows_is_refused_from_its_footer(
    tmp_path: Path, limits_env: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "many.parquet"
    pd.DataFrame({"户编号": ["H1"] * 5_000}).to_parquet(path)
    assert path.stat().st_size < 5_000  # run-length encoded
    _set(limits_env, max_input_rows=1_000)
    with pytest.raises(InputError, match="declares 5,000 rows") as info:
        read_table(path, as_text=True)
    assert info.value.rule == "input_limit"


def test_cli_refuses_the_bomb_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the limits this command aborted the process (exit 134, a Rust backtrace)."""
    from dongxi.cli import main

    path = xlsx(
        tmp_path / "bomb.xlsx",
        [("S", '<dimension ref="A1:XFD1048576"/><sheetData/>')],
    )
    assert main(["import", str(path)]) == 2
    assert "Sheet 'S' declares 16,384 columns" in capsys.readouterr().err


def test_read_table_refuses_a_workbook_of_several_tables(tmp_path: Path) -> None:
    """read_table gives one table: never a second sheet dropped or a hidden one read silently."""
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.append(["户编号"])
    first.append(["H1"])
    second = book.create_sheet("收入")
    second.append(["户编号", "年度"])
    second.append(["H1", "2019"])
    styled = book.create_sheet("样式")
    styled["C9"].number_format = "0.00"  # a formatted but empty cell: not data
    path = tmp_path / "two.xlsx"
    book.save(path)
    with pytest.raises(InputError, match="2 sheets holding data \\('Sheet', '收入'\\)"):
        read_table(path, as_text=True)
    assert read_table(path, as_text=True, sheet="收入").to_dict("list") == {
        "户编号": ["H1"],
        "年度": ["2019"],
    }
    book.remove(second)
    first.sheet_state = "hidden"
    book.active = 1
    book.save(path)
    with pytest.raises(InputError, match="hidden sheet\\(s\\) holding data: 'Sheet'"):
        read_table(path, as_text=True)
    first.sheet_state = "visible"
    book.save(path)
    assert read_table(path, as_text=True).to_dict("list") == {"户编号": ["H1"]}
