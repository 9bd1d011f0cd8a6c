"""Files turned against their users: formula injection, output paths, private files.

Every table file dongxi writes goes through ``dongxi.tables.write_table`` (or ``write_sheets``),
which checks the path with ``dongxi.outputs`` and neutralises formula-like text.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dongxi.errors import InputError
from dongxi.outputs import atomic_write, create_private_file, output_file, output_folder
from dongxi.tables import (
    FORMULA_STARTS,
    escape_formula,
    read_table,
    unescape_formula,
    write_sheets,
    write_table,
)

EVIL = [
    "=1+1",
    '=HYPERLINK("http://x.invalid","点我")',
    "+SUM(A1:A2)",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "'=already quoted",
    "=",
]
PLAIN = ["张三", "ok", "a=b", "", "'quoted", "'"]
NUMBERS_AS_TEXT = ["-5", "-1.5", "+7", "-1e3", "-.5"]


def _frame() -> pd.DataFrame:
    values = EVIL + PLAIN + NUMBERS_AS_TEXT
    return pd.DataFrame(
        {
            "text": pd.Series(values, dtype=object),
            "number": [-(i + 1) * 1.5 for i in range(len(values))],
        }
    )


def _no_formulas(path: Path) -> list[tuple[object, str]]:
    book = openpyxl.load_workbook(path)
    cells = [
        (c.value, c.data_type) for ws in book.worksheets for row in ws.iter_rows() for c in row
    ]
    assert [c for c in cells if c[1] == "f"] == []
    return cells


# --- formula injection --------------------------------------------------------------------------


def test_csv_text_cells_are_neutralised_and_numbers_stay_numbers(tmp_path: Path) -> None:
    frame = _frame()
    path = write_table(frame, tmp_path / "t.csv")
    raw = pd.read_csv(path, dtype=object, keep_default_na=False, encoding="utf-8-sig")
    written = dict(zip(frame["text"], raw["text"], strict=True))
    assert written["=1+1"] == "'=1+1"
    assert written["+SUM(A1:A2)"] == "'+SUM(A1:A2)"
    assert written["-2+3"] == "'-2+3"
    assert written["@SUM(A1)"] == "'@SUM(A1)"
    assert written["\t=1"] == "'\t=1"
    assert written["\r=1"] == "'\r=1"
    assert written["'=already quoted"] == "''=already quoted"
    for value in PLAIN + NUMBERS_AS_TEXT:
        assert written[value] == value
    for cell in raw["text"]:
        assert cell[:1] not in FORMULA_STARTS or cell in NUMBERS_AS_TEXT
    # real numbers are written as numbers, minus sign and all
    assert raw["number"].tolist()[:3] == ["-1.5", "-3.0", "-4.5"]
    back = read_table(path, as_text=True)
    assert back["text"].fillna("").tolist() == frame["text"].tolist()


def test_carriage_return_cannot_start_a_csv_row(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": ["x\r=1+1", "y"], "b": ["1", "2"]})
    path = write_table(frame, tmp_path / "cr.csv")
    assert path.read_bytes().split(b"\r\n")[1] == b'"x\r=1+1",1'
    pd.testing.assert_frame_equal(read_table(path, as_text=True), frame.astype(object))


def test_csv_headers_are_neutralised_too(tmp_path: Path) -> None:
    frame = pd.DataFrame({"=cmd": ["1"], "ok": ["2"]})
    path = write_table(frame, tmp_path / "h.csv")
    assert path.read_text(encoding="utf-8-sig").splitlines()[0] == "'=cmd,ok"
    assert list(read_table(path, as_text=True).columns) == ["=cmd", "ok"]


def test_xlsx_has_no_formula_cells_and_keeps_values(tmp_path: Path) -> None:
    frame = _frame()
    path = write_table(frame, tmp_path / "t.xlsx")
    cells = _no_formulas(path)
    assert ("=1+1", "s") in cells
    assert ('=HYPERLINK("http://x.invalid","点我")', "s") in cells
    assert (-1.5, "n") in cells  # a negative number is a number, not text
    back = read_table(path, as_text=True)
    # XML turns a carriage return into a line feed (a property of XLSX, not of the neutralising)
    assert back["text"].fillna("").tolist() == [v.replace("\r", "\n") for v in frame["text"]]


def test_workbook_of_several_sheets_has_no_formulas(tmp_path: Path) -> None:
    sheets = {"a": pd.DataFrame({"=x": ["=1"]}), "b": pd.DataFrame({"v": ["@A1", "-3"]})}
    path = write_sheets(sheets, tmp_path / "w.xlsx")
    cells = _no_formulas(path)
    assert ("=x", "s") in cells and ("=1", "s") in cells and ("@A1", "s") in cells


def test_report_workbook_has_no_formulas(tmp_path: Path) -> None:
    from dongxi.report import write_workbook

    path = write_workbook({"measures": pd.DataFrame({"spec": ["=1+2"]})}, tmp_path / "r.xlsx")
    assert ("=1+2", "s") in _no_formulas(path)


@given(st.text(alphabet=st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "1", ".", "e", "x"])))
def test_escape_is_undone_exactly(text: str) -> None:
    escaped = escape_formula(text)
    assert unescape_formula(escaped) == text
    # what a spreadsheet sees never starts a formula, except a plain number
    if escaped[:1] in FORMULA_STARTS:
        assert escaped == text
        float(text)


@given(st.text())
def test_escape_round_trips_any_text(text: str) -> None:
    assert unescape_formula(escape_formula(text)) == text


@given(st.text(alphabet=st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "1", "a", " "])))
def test_escape_looks_at_the_first_character_first_and_means_the_same(text: str) -> None:
    from dongxi.outputs import _needs_quote

    assert escape_formula(text) == ("'" + text if _needs_quote(text) else text)


# --- output paths -------------------------------------------------------------------------------


def test_folder_where_a_file_is_expected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--out path is a folder, but a file is expected") as exc:
        write_table(pd.DataFrame({"a": [1]}), tmp_path, option="--out")
    assert exc.value.column == "--out" and exc.value.file == str(tmp_path)


def test_file_where_a_folder_is_expected(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match=r"goes through .*afile, which is a file, not a folder"):
        write_table(pd.DataFrame({"a": [1]}), blocker / "x.csv", option="--out")
    with pytest.raises(InputError, match="--out path is a file, but a folder is expected"):
        output_folder(blocker, option="--out")
    assert blocker.read_text(encoding="utf-8") == "mine"


def test_output_equal_to_an_input_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("a\n1\n", encoding="utf-8")
    alias = tmp_path / "sub" / ".." / "in.csv"
    (tmp_path / "sub").mkdir()
    for target in (source, alias):
        with pytest.raises(InputError, match="--report path is the input file itself"):
            write_table(pd.DataFrame({"a": [2]}), target, option="--report", inputs=[source])
    link = tmp_path / "link.csv"
    link.symlink_to(source)
    with pytest.raises(InputError, match="is the input file itself"):
        output_file(link, option="--report", inputs=[source])
    assert source.read_text(encoding="utf-8") == "a\n1\n"


def test_missing_parent_is_created_but_an_impossible_one_is_refused(tmp_path: Path) -> None:
    path = write_table(pd.DataFrame({"a": [1]}), tmp_path / "new" / "deeper" / "x.csv")
    assert path.is_file()
    with pytest.raises(InputError, match=r"goes through /dev/null, which is a file"):
        output_file("/dev/null/x.csv", option="--out")
    with pytest.raises(InputError, match=r"The folder for --out cannot be created \(No such"):
        output_file("/proc/dongxi-cannot-write/x.csv", option="--out")


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux sysfs")
def test_place_that_refuses_files_is_one_clear_error() -> None:
    # sysfs refuses new files even to root
    with pytest.raises(InputError, match=r"The --out file cannot be created") as exc:
        write_table(pd.DataFrame({"a": [1]}), "/sys/kernel/dongxi.csv", option="--out")
    assert exc.value.column == "--out" and exc.value.file == "/sys/kernel/dongxi.csv"
    assert not Path("/sys/kernel/dongxi.csv").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_folder_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(InputError, match="cannot be written to"):
        write_table(pd.DataFrame({"a": [1]}), locked / "x.csv", option="--out")
    assert list(locked.iterdir()) == []


def test_unknown_suffix_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"Cannot write files of type '\.doc'") as exc:
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "x.doc", option="--out")
    assert exc.value.column == "--out"
    assert not (tmp_path / "x.doc").exists()


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "x.csv"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as handle:
        handle.write(b"half")
        raise RuntimeError("boom")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]


# --- private files ------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_private_tables_are_owner_only(tmp_path: Path, suffix: str) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / f"x{suffix}"
        target.write_text("older, readable by all", encoding="utf-8")
        os.chmod(target, 0o644)
        write_table(pd.DataFrame({"a": ["1"]}), target, private=True)
        assert _mode(target) == 0o600
        public = write_table(pd.DataFrame({"a": ["1"]}), tmp_path / f"p{suffix}")
        assert _mode(public) == 0o644
    finally:
        os.umask(old)


def test_create_private_file_never_widens_or_replaces(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    assert create_private_file(path) is True
    assert _mode(path) == 0o600
    path.write_bytes(b"data")
    assert create_private_file(path) is False
    assert path.read_bytes() == b"data"


def test_sqlite_registry_is_created_owner_only(tmp_path: Path) -> None:
    from dongxi.store import make_engine, upgrade

    old = os.umask(0o022)
    try:
        engine = make_engine(f"sqlite:///{tmp_path / 'reg.db'}")
        upgrade(engine, load_reference=False)
        engine.dispose()
    finally:
        os.umask(old)
    assert _mode(tmp_path / "reg.db") == 0o600


def test_match_out_folder_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dongxi.cli import main

    files = {
        "s.csv": "seeker_id,offer_id,rank\na,x,1\n",
        "o.csv": "offer_id,seeker_id,rank\nx,a,1\n",
        "c.csv": "offer_id,capacity\nx,1\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    args = ["match", "--seeker-ranks", str(tmp_path / "s.csv"), "--offer-ranks"]
    args += [str(tmp_path / "o.csv"), "--capacities", str(tmp_path / "c.csv"), "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "output path is a folder, but a file is expected" in err and "Traceback" not in err
    assert list(out.iterdir()) == []
