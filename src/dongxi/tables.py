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
import io
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pandas as pd
from python_calamine import CalamineError

from dongxi.errors import InputError
from dongxi.outputs import atomic_write, output_file

__all__ = [
    "FORMULA_STARTS",
    "READ_FORMATS",
    "WRITE_FORMATS",
    "detect_encoding",
    "escape_formula",
    "read_table",
    "unescape_formula",
    "write_sheets",
    "write_table",
]

READ_FORMATS = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq", ".dta")
WRITE_FORMATS = (".csv", ".xlsx", ".parquet")

Encoding = Literal["utf-8-sig", "utf-8", "gb18030"]

#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _needs_quote(text: str) -> bool:
    rest = text.lstrip("'")
    return rest[:1] in FORMULA_STARTS and rest != "" and _NUMBER.fullmatch(rest) is None


def escape_formula(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet runs: ``'`` in front of a formula-like text."""
    return "'" + text if _needs_quote(text) else text


def unescape_formula(text: str) -> str:
    """The inverse of :func:`escape_formula` (other text is returned unchanged)."""
    if text[:1] == "'" and _needs_quote(text[1:]):
        return text[1:]
    return text


def detect_encoding(data: bytes) -> Encoding:
    """The encoding of a CSV file's bytes: ``utf-8-sig``, ``utf-8`` or ``gb18030``."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise InputError(
            "The file is neither UTF-8 nor GB18030 text.",
            value=f"byte offset {exc.start}",
            rule="encoding",
            fix="Save the file as 'CSV UTF-8' from Excel, or as GB18030/GBK text.",
        ) from None
    return "gb18030"


def read_table(path: str | Path, *, as_text: bool = False, sheet: str | int = 0) -> pd.DataFrame:
    """Read a table file into a DataFrame.

    ``as_text=True`` keeps every cell as a string (empty cells as ``NA``), so that codes keep their
    leading zeros and validation sees exactly what the user wrote. Otherwise CSV columns get pandas'
    usual type inference.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("The file does not exist.", file=str(p), fix="Check the path.")
    suffix = p.suffix.lower()
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            raw = p.read_bytes()
            encoding = detect_encoding(raw)
            sep = "\t" if suffix == ".tsv" else ","
            # UTF-8 goes to the C parser as bytes (it decodes them itself, strictly); GB18030 is
            # decoded here first
            source: io.BytesIO | io.StringIO = (
                io.StringIO(raw.decode(encoding))
                if encoding == "gb18030"
                else io.BytesIO(raw[len(codecs.BOM_UTF8) :] if encoding == "utf-8-sig" else raw)
            )
            # a quote in the file may be one that write_table put before a formula-like text
            quoted = b"'" in raw
            if not as_text:
                read = pd.read_csv(source, sep=sep, encoding="utf-8")
                return _unescape_frame(read) if quoted else read
            # object columns of Python strings straight from the parser (no Arrow strings to
            # convert back), blank cells missing
            frame = pd.read_csv(
                source,
                sep=sep,
                dtype=object,
                keep_default_na=False,
                na_values=[""],
                encoding="utf-8",
            )
            frame = frame.where(frame.notna(), None)
            return _unescape_frame(frame) if quoted else frame
        elif suffix in (".xlsx", ".xlsm"):
            # calamine (Rust) reads the sheet ~6x faster than openpyxl, with the same cells
            frame = pd.read_excel(
                p, sheet_name=sheet, dtype=str if as_text else None, engine="calamine"
            )
        elif suffix in (".parquet", ".pq"):
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
            fix="Check that the file is not damaged and that its extension matches its content.",
        ) from None
    if as_text:
        frame = _as_text(frame)
    return frame


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as ``str``, missing cells as ``None`` (object columns)."""
    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        col = frame[name]
        mask = col.notna()
        values = col.astype(object).where(mask, None)
        out[name] = pd.Series(
            [None if v is None else str(v) for v in values], index=frame.index, dtype=object
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


def _write_xlsx(sheets: Mapping[str, pd.DataFrame], handle: BinaryIO) -> None:
    with pd.ExcelWriter(handle, engine="openpyxl") as writer:
        for sheet, frame in sheets.items():
            frame.to_excel(writer, sheet_name=sheet, index=False)
            worksheet = writer.sheets[sheet]
            for row, column in _formula_cells(frame):
                # openpyxl reads a leading '=' as a formula; the cell stays text
                worksheet.cell(row=row, column=column).data_type = "s"


def write_sheets(
    sheets: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    option: str = "output",
    inputs: Iterable[str | Path | None] = (),
) -> Path:
    """Write several tables as the sheets of one XLSX file (text cells never become formulas)."""
    p = output_file(path, option=option, inputs=inputs)
    with atomic_write(p, option=option) as handle:
        _write_xlsx(sheets, handle)
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
