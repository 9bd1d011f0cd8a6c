"""Reading and writing the table files users hold: CSV, XLSX, Parquet, Stata.

CSV encodings are detected from the bytes, not guessed from the extension: a UTF-8 byte-order mark
means UTF-8 with BOM; otherwise strict UTF-8 is tried, then GB18030 (a superset of GBK and GB2312,
what Chinese Excel writes). Anything else is refused with a message saying how to re-save the file.

Files are written for people who open them in a spreadsheet, so no text cell may run as a formula
(CSV or formula injection, OWASP). In CSV a text cell starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return gets a single quote in front (``=1+1`` → ``'=1+1``); a text that only
starts with quotes before such a character gets one more, so that :func:`read_table` can remove
exactly the quote it added and every value reads back as written. Numbers stay numbers (``-5`` and
``-1.5e3`` are left alone). Rows end in CRLF, so a carriage return inside a cell is quoted and
cannot start a row of its own. In XLSX such cells are written as text cells, never as formulas, and
keep their value unchanged. Every output path is checked first (:mod:`dongxi.outputs`).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import methodcaller
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np
import pandas as pd
from python_calamine import CalamineError

from dongxi._xlsx_guard import Limits, SheetScan, check_xlsx, column_letters
from dongxi.errors import InputError
from dongxi.outputs import (
    FORMULA_STARTS,
    _needs_quote,
    atomic_write,
    escape_formula,
    output_file,
    unescape_formula,
)

__all__ = [
    "FORMULA_STARTS",
    "READ_FORMATS",
    "WRITE_FORMATS",
    "Sheet",
    "detect_encoding",
    "escape_formula",
    "read_sheets",
    "read_table",
    "unescape_formula",
    "write_sheets",
    "write_table",
]

READ_FORMATS = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq", ".dta")
WRITE_FORMATS = (".csv", ".xlsx", ".parquet")

Encoding = Literal["utf-8-sig", "utf-8", "gb18030"]

_FIX_ENCODING = "Save the file as 'CSV UTF-8' from Excel, or as GB18030/GBK text."
_FIX_DAMAGED = "Check that the file is not damaged and that its extension matches its content."


def _line_of(data: bytes, offset: int) -> int:
    """1-based line number of byte ``offset``."""
    return data.count(b"\n", 0, offset) + 1


def detect_encoding(data: bytes) -> Encoding:
    """The encoding of a CSV file's bytes: ``utf-8-sig``, ``utf-8`` or ``gb18030``.

    A file that is UTF-8 up to some line and something else from there (a GBK line pasted into a
    UTF-8 file) is refused, naming the line of the first byte that is not UTF-8: read as
    GB18030 it would become garbled text without any error.
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            at = exc.start + len(codecs.BOM_UTF8)
            raise InputError(
                f"The file is marked as UTF-8 but line {_line_of(data, at)} is not UTF-8 "
                "(mixed encodings: text in another encoding, such as GBK, was pasted in).",
                row=_line_of(data, at),
                value=f"line {_line_of(data, at)}, byte offset {at}",
                rule="encoding",
                fix=f"Retype or re-save line {_line_of(data, at)}; " + _FIX_ENCODING,
            ) from None
        return "utf-8-sig"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    else:
        return "utf-8"
    line = _line_of(data, utf8_error)
    before = data[:utf8_error].decode("utf-8")
    if sum(1 for ch in before if ord(ch) > 0x7F) >= 3:
        # real UTF-8 text before the first bad byte: a GBK line pasted into a UTF-8 file
        raise InputError(
            f"The file mixes encodings: it is UTF-8 up to line {line}, which holds text in "
            "another encoding (probably GBK/GB18030).",
            row=line,
            value=f"line {line}, byte offset {utf8_error}",
            rule="encoding",
            fix=f"Retype or re-save line {line} (and any later such line); " + _FIX_ENCODING,
        )
    try:
        data.decode("gb18030")
    except UnicodeDecodeError as exc:
        gb_line = _line_of(data, exc.start)
        raise InputError(
            f"The file is neither UTF-8 nor GB18030 text: line {line} is not UTF-8 and line "
            f"{gb_line} is not GB18030.",
            row=min(line, gb_line),
            value=f"line {line}, byte offset {utf8_error}",
            rule="encoding",
            fix=_FIX_ENCODING,
        ) from None
    return "gb18030"


@dataclass
class Sheet:
    """One table of an input file: an XLSX sheet, or the whole of any other file."""

    name: str
    frame: pd.DataFrame
    hidden: bool = False

    @property
    def empty(self) -> bool:
        """No cells, or headers without any row."""
        return len(self.frame) == 0


def _check_size(p: Path, limits: Limits) -> None:
    size = p.stat().st_size
    if size > limits.max_bytes:
        raise InputError(
            f"The file has {size:,} bytes; at most {limits.max_bytes:,} are read "
            "(DONGXI_MAX_INPUT_BYTES).",
            file=str(p),
            rule="input_limit",
            fix="Split the file (for example by county), or raise DONGXI_MAX_INPUT_BYTES.",
        )


def read_table(
    path: str | Path, *, as_text: bool = False, sheet: str | int | None = None
) -> pd.DataFrame:
    """Read a table file into a DataFrame.

    ``as_text=True`` keeps every cell as a string (empty cells as ``None``), so that codes keep
    their leading zeros and validation sees exactly what the user wrote; the first row is the
    header (a blank header cell becomes ``Unnamed: <i>``; two equal headers are refused). Otherwise
    CSV columns get pandas' usual type inference. Files over the ``DONGXI_MAX_INPUT_*`` limits are
    refused before they are read (XLSX: see :mod:`dongxi._xlsx_guard`).

    A workbook read as text is one table: without ``sheet``, the one sheet holding data is read,
    and a workbook with several such sheets, or whose only one is hidden, is refused naming them
    (nothing is dropped silently; :func:`read_sheets` reads them all).
    """
    p = _existing(path)
    suffix = p.suffix.lower()
    if as_text and suffix in (".xlsx", ".xlsm"):
        if sheet is None:
            return _one_sheet(p)
        return _read_xlsx(p, only=sheet)[0].frame
    return _read(p, as_text=as_text)


def read_sheets(path: str | Path) -> list[Sheet]:
    """Every table of a file as text (see :func:`read_table`): each sheet of an XLSX workbook
    (hidden ones marked), or the one table of a CSV, Parquet or Stata file."""
    p = _existing(path)
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(p, only=None)
    return [Sheet(name=p.name, frame=_read(p, as_text=True))]


def _existing(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError("The file does not exist.", file=str(p), fix="Check the path.")
    return p


def _read(p: Path, *, as_text: bool) -> pd.DataFrame:
    suffix = p.suffix.lower()
    limits = Limits.from_settings()
    try:
        _check_size(p, limits)
        if suffix in (".csv", ".txt", ".tsv"):
            return _read_csv(p, as_text=as_text, limits=limits)
        elif suffix in (".xlsx", ".xlsm"):
            check_xlsx(p, limits)
            frame = pd.read_excel(p, sheet_name=0, engine="calamine")
        elif suffix in (".parquet", ".pq"):
            _check_parquet(p, limits)
            frame = pd.read_parquet(p)
        elif suffix == ".dta":
            frame = pd.read_stata(p, convert_categoricals=False)
        else:
            raise InputError(
                f"Files of type '{suffix}' cannot be read.",
                file=str(p),
                fix=f"Use one of {', '.join(READ_FORMATS)}.",
            )
    except InputError as exc:
        if exc.file is None:
            exc.file = str(p)
        raise
    except (ValueError, OSError, pd.errors.ParserError, CalamineError) as exc:
        raise InputError(
            f"The file could not be read as {suffix[1:].upper()}: {exc}",
            file=str(p),
            fix=_FIX_DAMAGED,
        ) from None
    _check_shape(frame, limits, str(p))
    if as_text:
        frame = _as_text(frame)
        _check_headers([str(c) for c in frame.columns], str(p), None)
    return frame


def _check_parquet(p: Path, limits: Limits) -> None:
    """Rows, columns and unpacked size from a Parquet file's footer, before reading it (a small
    file of run-length encoded values can declare billions of rows)."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(p).metadata
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if (
        meta.num_rows > limits.max_rows
        or meta.num_columns > limits.max_columns
        or unpacked > limits.max_bytes
    ):
        raise InputError(
            f"The Parquet file declares {meta.num_rows:,} rows, {meta.num_columns:,} columns and "
            f"{unpacked:,} bytes of data; at most {limits.max_rows:,} rows "
            f"(DONGXI_MAX_INPUT_ROWS), {limits.max_columns:,} columns (DONGXI_MAX_INPUT_COLUMNS) "
            f"and {limits.max_bytes:,} bytes (DONGXI_MAX_INPUT_BYTES) are read.",
            file=str(p),
            rule="input_limit",
            fix="Split the file (for example by county), or raise the limits.",
        )


def _check_shape(frame: pd.DataFrame, limits: Limits, file: str) -> None:
    if len(frame) > limits.max_rows or frame.shape[1] > limits.max_columns:
        raise InputError(
            f"The table has {len(frame):,} rows and {frame.shape[1]:,} columns; at most "
            f"{limits.max_rows:,} rows (DONGXI_MAX_INPUT_ROWS) and {limits.max_columns:,} "
            "columns (DONGXI_MAX_INPUT_COLUMNS) are read.",
            file=file,
            rule="input_limit",
            fix="Split the file (for example by county), or raise the limits.",
        )


# --- CSV ---------------------------------------------------------------------------------------


def _read_csv(p: Path, *, as_text: bool, limits: Limits) -> pd.DataFrame:
    raw = p.read_bytes()
    encoding = detect_encoding(raw)
    sep = "\t" if p.suffix.lower() == ".tsv" else ","
    body = raw[len(codecs.BOM_UTF8) :] if encoding == "utf-8-sig" else raw
    text = raw.decode(encoding) if encoding == "gb18030" else None
    # UTF-8 goes to the C parser as bytes (checked above, it decodes them itself); GB18030 is
    # decoded here first
    source: io.BytesIO | io.StringIO = io.StringIO(text) if text is not None else io.BytesIO(body)
    # a quote in the file may be one that write_table put before a formula-like text
    quoted = b"'" in raw
    newline = body.find(b"\n")
    first_line = body if newline < 0 else body[:newline]
    if first_line.count(sep.encode()) + 1 > limits.max_columns:
        raise InputError(
            f"The header has {first_line.count(sep.encode()) + 1:,} fields; at most "
            f"{limits.max_columns:,} columns are read (DONGXI_MAX_INPUT_COLUMNS).",
            file=str(p),
            row=1,
            rule="input_limit",
            fix="Check the separator (',' for .csv, tab for .tsv) and the header row.",
        )
    if not as_text:
        frame = pd.read_csv(source, sep=sep, encoding="utf-8")
        _check_shape(frame, limits, str(p))
        return _unescape_frame(frame) if quoted else frame
    encoding_ = "utf-8" if text is None else "gb18030"
    # object columns of Python strings straight from the parser (no Arrow strings to convert
    # back), blank cells missing; the header row is read as data so that equal headers are seen
    try:
        grid = pd.read_csv(
            source,
            sep=sep,
            header=None,
            dtype=object,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8",
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError:
        _check_field_counts(body, encoding_, sep, str(p))  # names the line and what is wrong
        raise
    _check_shape(grid, limits, str(p))
    if grid.shape[1] and grid.iloc[:, -1].isna().any():
        # a row cut short is filled with missing cells at its end: only then are the lines
        # counted (a row with too many fields already stopped the parser)
        _check_field_counts(body, encoding_, sep, str(p))
    frame = _with_header(grid.where(grid.notna(), None), str(p), None)
    return _unescape_frame(frame) if quoted else frame


def _check_field_counts(data: bytes, encoding: str, sep: str, file: str) -> None:
    """Refuse rows with fewer or more fields than the header (the parser would fill or shift
    them silently). Blank lines are skipped, as the parser skips them.

    Without quotes, separators are counted line by line on the bytes (in UTF-8 and GB18030 the
    bytes of ``,``, tab and line feed never occur inside a character); with quotes, the
    ``csv`` module reads the records.
    """
    if b'"' not in data:
        lines = data.split(b"\n")
        counts = np.fromiter(map(methodcaller("count", sep.encode()), lines), dtype=np.int64)
        expected = int(counts[0])
        for i in np.flatnonzero(counts != expected).tolist():
            if lines[i] in (b"", b"\r"):
                continue
            _refuse_fields(i + 1, int(counts[i]) + 1, expected + 1, file)
        return
    reader = csv.reader(io.StringIO(data.decode(encoding), newline=""), delimiter=sep)
    width: int | None = None
    start = 1
    for record in reader:
        if record:
            if width is None:
                width = len(record)
            elif len(record) != width:
                _refuse_fields(start, len(record), width, file)
        start = reader.line_num + 1


def _refuse_fields(line: int, found: int, width: int, file: str) -> None:
    if width == 1 and found > 1 and line == 2:
        raise InputError(
            "Row 1 holds only a title; the headers are in row 2.",
            file=file,
            row=1,
            rule="title_row",
            fix="Delete row 1 (the title) so that the headers are the first row, then import "
            "again.",
        )
    if found < width:
        message = (
            f"Line {line} has {found} fields but the header has {width}: the row is cut short, "
            "so the values of its last columns would be lost."
        )
        fix = (
            f"Complete line {line}: every row needs {width - 1} separators, also for empty cells "
            "(re-save the file from Excel, or restore the cut-off values)."
        )
    else:
        message = (
            f"Line {line} has {found} fields but the header has {width}: a value holds an "
            "unquoted separator, or a column has no header, so values would shift."
        )
        fix = f"Put the value of line {line} in quotes, or give every column a header."
    raise InputError(
        message, file=file, row=line, value=f"{found} fields", rule="field_count", fix=fix
    )


# --- XLSX --------------------------------------------------------------------------------------


def _one_sheet(p: Path) -> pd.DataFrame:
    """The one sheet of a workbook that holds data (see :func:`read_table`)."""
    limits = Limits.from_settings()
    _check_size(p, limits)
    scans = check_xlsx(p, limits)
    candidates = [s.name for s in scans if s.rows > 1]  # more than a header row
    if len(candidates) <= 1 and not any(s.hidden for s in scans if s.name in candidates):
        return _read_xlsx(p, only=candidates[0] if candidates else 0, scans=scans)[0].frame
    sheets = _read_xlsx(p, only=None, scans=scans)
    filled = [s for s in sheets if s.name in candidates and not s.empty]
    hidden = [s.name for s in filled if s.hidden]
    if hidden:
        raise InputError(
            f"The workbook has hidden sheet(s) holding data: {', '.join(map(repr, hidden))}.",
            file=str(p),
            value=", ".join(hidden),
            rule="hidden_sheet",
            fix="Unhide them in Excel (right-click a sheet tab → Unhide) to import them too, or "
            "delete them.",
        )
    if len(filled) > 1:
        raise InputError(
            f"The workbook has {len(filled)} sheets holding data "
            f"({', '.join(repr(s.name) for s in filled)}); only one table is read here.",
            file=str(p),
            rule="sheets",
            fix="Import it with 'dongxi import' (store.importer.import_path), which imports every "
            "sheet by its kind, or keep one sheet.",
        )
    return filled[0].frame if filled else sheets[0].frame


def _read_xlsx(
    p: Path, *, only: str | int | None, scans: list[SheetScan] | None = None
) -> list[Sheet]:
    limits = Limits.from_settings()
    file = str(p)
    try:
        if scans is None:
            _check_size(p, limits)
            scans = check_xlsx(p, limits)
        if only is None:
            wanted = scans
        elif isinstance(only, int):
            wanted = scans[only : only + 1]
        else:
            wanted = [s for s in scans if s.name == only]
        if not wanted:
            raise InputError(
                f"The workbook has no sheet {only!r}.",
                file=file,
                value=only,
                fix=f"Use one of: {', '.join(repr(s.name) for s in scans)}.",
            )
        out = []
        for scan in wanted:
            if scan.formulas_without_value:
                cells = scan.formulas_without_value
                first = _XLSX_REF.match(cells[0])
                more = f" (and {len(cells) - 1} more)" if len(cells) > 1 else ""
                raise InputError(
                    f"Sheet '{scan.name}', cell {cells[0]}{more}: a formula without a saved value "
                    "(the program that wrote the file did not compute it), so the cell would "
                    "read as empty.",
                    file=file,
                    row=int(first.group(2)) if first else None,
                    column=first.group(1) if first else None,
                    rule="formula_without_value",
                    fix="Open the file in Excel or WPS and save it (the results of the formulas "
                    "are then stored), or replace the formulas by their values.",
                )
            grid = pd.read_excel(
                p, sheet_name=scan.name, header=None, dtype=object, engine="calamine"
            )
            frame = _with_header(_as_text(grid), file, scan.name)
            out.append(Sheet(name=scan.name, frame=frame, hidden=scan.hidden))
        return out
    except InputError as exc:
        if exc.file is None:
            exc.file = file
        raise
    except (ValueError, OSError, CalamineError) as exc:
        raise InputError(
            f"The file could not be read as XLSX: {exc}", file=file, fix=_FIX_DAMAGED
        ) from None


_XLSX_REF = re.compile(r"^([A-Z]+)([0-9]+)$")


# --- headers -----------------------------------------------------------------------------------


def _with_header(grid: pd.DataFrame, file: str, sheet: str | None) -> pd.DataFrame:
    """The first row of ``grid`` (cells as text or ``None``) as the header of the rest."""
    if len(grid) == 0:
        return pd.DataFrame()
    header = grid.iloc[0].tolist()
    names = [
        f"Unnamed: {i}" if v is None or not str(v).strip() else str(v) for i, v in enumerate(header)
    ]
    _check_headers(names, file, sheet)
    frame = grid.iloc[1:].reset_index(drop=True)
    frame.columns = pd.Index(names)
    return frame


def _check_headers(names: list[str], file: str, sheet: str | None) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        key = name.strip()
        if key in seen:
            where = f"sheet '{sheet}', " if sheet else ""
            a, b = column_letters(seen[key] + 1), column_letters(i + 1)
            raise InputError(
                f"{where[:1].upper() + where[1:]}columns {a} and {b} have the same header "
                f"'{key}': only one of them could be kept.",
                file=file,
                row=1,
                column=key,
                rule="duplicate_header",
                fix=f"Rename or delete column {a} or {b}.",
            )
        seen[key] = i


#: Numbers at least this large were typed into a number cell but are codes (ID numbers): Excel
#: keeps 15 significant digits, so they are shown as Excel shows them (``4.50102199001011E+17``)
#: and validation can say that the column must be text.
_CODE_AS_NUMBER = 1e15


def _cell_text(value: object) -> str:
    if (
        isinstance(value, float | int)
        and not isinstance(value, bool)
        and abs(value) >= _CODE_AS_NUMBER
    ):
        return f"{float(value):.14E}"
    return str(value)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as ``str``, missing cells as ``None`` (object columns)."""
    out = pd.DataFrame(index=frame.index)
    for i, name in enumerate(frame.columns):
        col = frame.iloc[:, i]
        mask = col.notna()
        values = col.astype(object).where(mask, None)
        out[name] = pd.Series(
            [None if v is None else _cell_text(v) for v in values], index=frame.index, dtype=object
        )
    return out


def _map_text(frame: pd.DataFrame, convert: Any, wanted: Any) -> pd.DataFrame:
    """``frame`` with ``convert`` applied to its ``str`` cells for which ``wanted`` holds."""
    out = frame
    for position in range(frame.shape[1]):
        col = frame.iloc[:, position]
        if not (col.dtype == object or pd.api.types.is_string_dtype(col.dtype)):
            continue
        changed = {
            v: convert(v) for v in pd.unique(col.dropna()) if isinstance(v, str) and wanted(v)
        }
        if not changed:
            continue
        if out is frame:
            out = frame.copy()
        values = [changed.get(v, v) if isinstance(v, str) else v for v in col.astype(object)]
        column = pd.Series(values, index=frame.index, dtype=object)
        out.isetitem(position, column)  # type: ignore[arg-type]
    return out


def _unescape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = _map_text(frame, unescape_formula, lambda v: v[:1] == "'" and _needs_quote(v[1:]))
    headers = [unescape_formula(c) if isinstance(c, str) else c for c in out.columns]
    if headers != list(out.columns):
        out = out.set_axis(headers, axis=1)
    return out


def _escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = _map_text(frame, escape_formula, _needs_quote)
    headers = [escape_formula(c) if isinstance(c, str) else c for c in out.columns]
    if headers != list(out.columns):
        out = out.set_axis(headers, axis=1)
    return out


def _formula_cells(frame: pd.DataFrame) -> Iterable[tuple[int, int]]:
    """(row, column) of the sheet (1-based, header in row 1) of text cells starting with ``=``."""
    for j, name in enumerate(frame.columns):
        if isinstance(name, str) and name.startswith("="):
            yield 1, j + 1
        col = frame.iloc[:, j]
        if not (col.dtype == object or pd.api.types.is_string_dtype(col.dtype)):
            continue
        values = col.to_numpy(dtype=object)
        for i, v in enumerate(values):
            if isinstance(v, str) and v.startswith("="):
                yield i + 2, j + 1


def _write_xlsx(
    sheets: Mapping[str, pd.DataFrame], handle: BinaryIO, *, filters: bool = False
) -> None:
    with pd.ExcelWriter(handle, engine="openpyxl") as writer:
        for sheet, frame in sheets.items():
            frame.to_excel(writer, sheet_name=sheet, index=False)
            worksheet = writer.sheets[sheet]
            for row, column in _formula_cells(frame):
                # openpyxl reads a leading '=' as a formula; the cell stays text
                worksheet.cell(row=row, column=column).data_type = "s"
            if filters and len(frame.columns):
                worksheet.auto_filter.ref = worksheet.dimensions
                worksheet.freeze_panes = "A2"
                for i, name in enumerate(frame.columns, start=1):
                    values = [str(name), *(str(v) for v in frame[name].head(200))]
                    # CJK characters are about two columns wide
                    width = max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in v) for v in values)
                    letter = worksheet.cell(row=1, column=i).column_letter
                    worksheet.column_dimensions[letter].width = min(60, max(8, width + 2))


def write_sheets(
    sheets: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    option: str = "output",
    inputs: Iterable[str | Path | None] = (),
    filters: bool = False,
) -> Path:
    """Write several tables as the sheets of one XLSX file (text cells never become formulas).

    ``filters=True`` gives every sheet an autofilter on its header row, freezes that row and
    sizes the columns to their contents (lists people work through in Excel).
    """
    p = output_file(path, option=option, inputs=inputs)
    with atomic_write(p, option=option) as handle:
        _write_xlsx(sheets, handle, filters=filters)
    return p


def write_table(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    option: str = "output",
    inputs: Iterable[str | Path | None] = (),
    private: bool = False,
) -> Path:
    """Write a DataFrame as CSV (UTF-8 with BOM, so Excel shows Chinese), XLSX or Parquet.

    The path is checked first (:func:`dongxi.outputs.output_file`: ``option`` names it in
    messages, ``inputs`` are files it must not be); the file replaces any old one only once it is
    complete. ``private=True`` creates it readable by the owner only (mode 0600). Formula-like text
    is neutralised in CSV and written as text in XLSX (see the module documentation).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in WRITE_FORMATS and suffix != ".pq" and not p.is_dir():
        raise InputError(
            f"Cannot write files of type '{suffix}'.",
            file=str(p),
            column=None if option == "output" else option,
            fix=f"Use one of {', '.join(WRITE_FORMATS)}.",
        )
    p = output_file(p, option=option, inputs=inputs)
    with atomic_write(p, private=private, option=option) as handle:
        if suffix == ".csv":
            # CRLF rows (RFC 4180, what Excel writes): a carriage return inside a cell is then
            # quoted with it, so it cannot start a new row (and a formula) of its own
            _escape_frame(frame).to_csv(
                handle, index=False, encoding="utf-8-sig", lineterminator="\r\n"
            )
        elif suffix == ".xlsx":
            _write_xlsx({"Sheet1": frame}, handle)
        else:
            frame.to_parquet(handle, index=False)
    return p
