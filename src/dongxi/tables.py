"""Reading and writing the table files users hold: CSV, XLSX, Parquet, Stata.

CSV encodings are detected from the bytes, not guessed from the extension: a UTF-8 byte-order mark
means UTF-8 with BOM; otherwise strict UTF-8 is tried, then GB18030 (a superset of GBK and GB2312,
what Chinese Excel writes). Anything else is refused with a message saying how to re-save the file.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path
from typing import Literal

import pandas as pd
from python_calamine import CalamineError

from dongxi.errors import InputError

__all__ = ["READ_FORMATS", "WRITE_FORMATS", "detect_encoding", "read_table", "write_table"]

READ_FORMATS = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq", ".dta")
WRITE_FORMATS = (".csv", ".xlsx", ".parquet")

Encoding = Literal["utf-8-sig", "utf-8", "gb18030"]


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
            if not as_text:
                return pd.read_csv(source, sep=sep, encoding="utf-8")
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
            return frame.where(frame.notna(), None)
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


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame as CSV (UTF-8 with BOM, so Excel shows Chinese), XLSX or Parquet."""
    p = Path(path)
    suffix = p.suffix.lower()
    p.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(p, index=False, encoding="utf-8-sig")
    elif suffix == ".xlsx":
        frame.to_excel(p, index=False)
    elif suffix in (".parquet", ".pq"):
        frame.to_parquet(p, index=False)
    else:
        raise InputError(
            f"Cannot write files of type '{suffix}'.",
            file=str(p),
            fix=f"Use one of {', '.join(WRITE_FORMATS)}.",
        )
    return p
