"""Checks an XLSX file before a reader allocates memory for it (zip bombs, huge declared ranges).

An XLSX file is a zip of XML parts. The XLSX reader (calamine, Rust) unpacks the parts it needs and
holds each sheet's used range as a dense grid, so a 1.7 kB file that declares a cell at
``XFD1048576`` asks for ~512 GiB, and a small zip of whitespace unpacks to gigabytes. Before
reading, :func:`check_xlsx`

* reads the zip's end record itself and refuses too many parts (before ``zipfile`` builds one
  object per entry), encrypted parts and compression methods other than stored/deflate;
* checks each part's declared size and compression ratio, then **inflates every part** (1 MiB at a
  time, nothing kept) to measure its real size, so a part that lies about its size is caught too;
* reads each sheet's declared ``<dimension ref=…>`` and scans its cell and row references (a few
  regular-expression passes over each block; rows found in order cost nothing extra) to find the
  used range, against :class:`Limits` (``DONGXI_MAX_INPUT_*``, ``DONGXI_MAX_ZIP_RATIO``);
* notes formula cells without a saved value (they read as empty).

Every refusal is an :class:`dongxi.errors.InputError` naming the part or sheet, what was found and
the limit.
"""

from __future__ import annotations

import html
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dongxi.errors import InputError

__all__ = ["Limits", "SheetScan", "check_xlsx", "column_letters", "column_number"]

#: Most parts an XLSX file may have (a workbook of 200 sheets has ~420).
MAX_PARTS = 10_000
#: Parts smaller than this are not held to the compression ratio (small XML compresses well).
RATIO_FLOOR = 16 * 1024**2
_CHUNK = 1024**2
#: Most bytes of the workbook's own small parts (its list of sheets and their relations).
_SMALL_PART = 64 * 1024**2
_FIX_SIZE = "Check where the file came from; save the data as CSV UTF-8 or split it into files."


@dataclass(frozen=True)
class Limits:
    """Limits on one input file (see the ``DONGXI_MAX_INPUT_*`` settings)."""

    max_bytes: int
    max_rows: int
    max_columns: int
    max_cells: int
    max_ratio: int

    @classmethod
    def from_settings(cls) -> Limits:
        """The limits of the current settings."""
        from dongxi.settings import get_settings

        s = get_settings()
        return cls(
            max_bytes=s.max_input_bytes,
            max_rows=s.max_input_rows,
            max_columns=s.max_input_columns,
            max_cells=s.max_input_cells,
            max_ratio=s.max_zip_ratio,
        )


@dataclass
class SheetScan:
    """What the scan found in one worksheet."""

    name: str
    part: str
    hidden: bool
    rows: int = 0
    columns: int = 0
    formulas_without_value: list[str] = field(default_factory=list)


def column_number(letters: str) -> int:
    """``A`` → 1, ``Z`` → 26, ``AA`` → 27, ``XFD`` → 16384."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def column_letters(number: int) -> str:
    """1 → ``A``, 27 → ``AA`` (the inverse of :func:`column_number`)."""
    out = ""
    while number > 0:
        number, rem = divmod(number - 1, 26)
        out = chr(65 + rem) + out
    return out


# --- regular expressions for "a number at least n" -------------------------------------------


def _at_least(n: int, alphabet: str) -> str:
    """A regex matching the numerals (no leading zeros) of values ≥ ``n``.

    ``alphabet`` is ``"0123456789"`` (decimal) or ``"ABC…Z"`` (bijective base 26, column letters).
    """
    digits = str(n) if alphabet[0] == "0" else column_letters(n)
    first = "[1-9]" if alphabet[0] == "0" else "[A-Z]"
    anyc = "[0-9]" if alphabet[0] == "0" else "[A-Z]"
    length = len(digits)
    parts = [f"{first}{anyc}{{{length},}}"]  # more characters
    for i, ch in enumerate(digits):
        pos = alphabet.index(ch)
        if pos + 1 < len(alphabet):
            lo, hi = alphabet[pos + 1], alphabet[-1]
            rest = length - i - 1
            parts.append(f"{re.escape(digits[:i])}[{lo}-{hi}]{anyc}{{{rest}}}")
    parts.append(re.escape(digits))
    return "(?:" + "|".join(parts) + ")"


def _cell_beyond(row: int, col: int) -> re.Pattern[bytes]:
    """Cells ``<c r="…">`` on a row ≥ ``row`` or in a column ≥ ``col``."""
    rows = _at_least(row, "0123456789").encode()
    cols = _at_least(col, "ABCDEFGHIJKLMNOPQRSTUVWXYZ").encode()
    return re.compile(
        b'<c r="(?:([A-Za-z]{0,3})0*(' + rows + b")|(" + cols + b')([0-9]+))"', re.IGNORECASE
    )


_CELL_R = re.compile(rb'<c r="([A-Za-z]{0,3})([0-9]+)"')
_PREFIXED_CELL = re.compile(rb":c[\s>/]")
_R_ATTR = re.compile(rb"\sr\s*=\s*[\"']([A-Za-z]{0,3})([0-9]+)[\"']")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*\sref\s*=\s*[\"']([^\"']*)[\"']")
_TAGS = re.compile(rb"<(/?)(?:\w+:)?(row|c)\b([^>]*?)(/?)>")
_FORMULA_NO_VALUE = re.compile(
    rb"<(?:\w+:)?c\b([^>]*)>\s*<(?:\w+:)?f\b[^>]*(?:/>|>[^<]*</(?:\w+:)?f>)\s*"
    rb"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]+)$")


class _SheetScanner:
    """Feeds on a worksheet's XML block by block and keeps the used range."""

    def __init__(self, sheet: SheetScan, limits: Limits, file: str) -> None:
        self.sheet = sheet
        self.limits = limits
        self.file = file
        self.carry = b""
        self.first = True
        self.max_row = 0
        self.max_col = 0
        # rows and cells without an r attribute (rare): placed as readers place them
        self.implicit_row = 0
        self.implicit_col = 0

    def _refuse(self, what: str, value: object, fix: str = _FIX_SIZE) -> None:
        raise InputError(
            f"Sheet '{self.sheet.name}' {what}.",
            file=self.file,
            value=value,
            rule="input_limit",
            fix=fix,
        )

    def _check_range(self, rows: int, cols: int, *, declared: bool) -> None:
        how = "declares" if declared else "uses"
        lim = self.limits
        if rows > lim.max_rows:
            self._refuse(
                f"{how} {rows:,} rows; at most {lim.max_rows:,} are read (DONGXI_MAX_INPUT_ROWS)",
                f"row {rows}",
            )
        if cols > lim.max_columns:
            self._refuse(
                f"{how} {cols:,} columns; at most {lim.max_columns:,} are read "
                "(DONGXI_MAX_INPUT_COLUMNS)",
                f"column {column_letters(cols)}",
            )
        if rows * cols > lim.max_cells:
            self._refuse(
                f"{how} a range of {rows:,} rows x {cols:,} columns = {rows * cols:,} cells; at "
                f"most {lim.max_cells:,} are read (DONGXI_MAX_INPUT_CELLS)",
                f"A1:{column_letters(cols)}{rows}",
            )

    def feed(self, data: bytes, *, last: bool = False) -> None:
        block = self.carry + data
        if last:
            cut = len(block)
        else:
            end = block.rfind(b"</c>")
            cut = end + 4 if end >= 0 and len(block) - end < 8 * _CHUNK else block.rfind(b">") + 1
        self.carry = block[cut:]
        self._scan(block[:cut])

    def _scan(self, block: bytes) -> None:
        if not block:
            return
        if self.first:
            self.first = False
            found = _DIMENSION.search(block, 0, 64 * 1024)
            if found:
                self._declared(found.group(1).decode("ascii", "replace"))
        # Excel, WPS and the usual libraries write every cell as <c r="A1" …>: then a few
        # searches at C speed find the used range. Anything else (cells without a reference,
        # namespace prefixes, other spellings of the attribute) is read tag by tag.
        if block.count(b"<c") == block.count(b'<c r="') and _PREFIXED_CELL.search(block) is None:
            self._scan_fast(block)
        else:
            self._scan_slowly(block)
        self._check_range(self.max_row, self.max_col, declared=False)
        if b"<f" in block or b":f" in block:
            for m in _FORMULA_NO_VALUE.finditer(block):
                ref = _R_ATTR.search(b" " + m.group(1))
                where = (ref.group(1) + ref.group(2)).decode() if ref else "?"
                self.sheet.formulas_without_value.append(where.upper())

    def _scan_fast(self, block: bytes) -> None:
        # cells come row by row, so the last cell of a block is usually on its lowest row: one
        # search then proves that no cell lies below it, and one that none lies right of the
        # widest column seen so far
        pos = block.rfind(b'<c r="')
        tail = _CELL_R.match(block, pos) if pos >= 0 else None
        if tail:
            self.max_row = max(self.max_row, int(tail.group(2)))
            self.implicit_row = int(tail.group(2))  # where a later row without reference goes
        while True:
            beyond = _cell_beyond(self.max_row + 1, self.max_col + 1).search(block)
            if beyond is None:
                break
            letters = (beyond.group(1) or beyond.group(3) or b"").decode()
            row = int(beyond.group(2) or beyond.group(4))
            self.max_row = max(self.max_row, row)
            self.max_col = max(self.max_col, column_number(letters))
            self._check_range(max(self.max_row, 1), max(self.max_col, 1), declared=False)

    def _scan_slowly(self, block: bytes) -> None:
        for m in _TAGS.finditer(block):
            closing, name, attrs, _selfclose = m.groups()
            if closing:
                continue
            ref = _R_ATTR.search(b" " + attrs)
            if name == b"row":
                self.implicit_row = int(ref.group(2)) if ref else self.implicit_row + 1
                self.implicit_col = 0
                self.max_row = max(self.max_row, self.implicit_row)
            else:
                if ref:
                    self.implicit_col = column_number(ref.group(1).decode()) if ref.group(1) else 1
                    self.max_row = max(self.max_row, int(ref.group(2)))
                else:
                    self.implicit_col += 1
                self.max_col = max(self.max_col, self.implicit_col)
            if self.max_row > self.limits.max_rows or self.max_col > self.limits.max_columns:
                self._check_range(self.max_row, self.max_col, declared=False)

    def _declared(self, ref: str) -> None:
        ends = ref.split(":")
        cells = [_CELL_REF.match(e.strip()) for e in ends]
        if not all(cells):
            return
        rows = [int(c.group(2)) for c in cells if c]
        cols = [column_number(c.group(1)) for c in cells if c]
        self._check_range(
            max(rows) - min(rows) + 1 if len(rows) > 1 else max(rows),
            max(cols) - min(cols) + 1 if len(cols) > 1 else max(cols),
            declared=True,
        )

    def finish(self) -> None:
        self.feed(b"", last=True)
        self.sheet.rows = self.max_row
        self.sheet.columns = self.max_col


# --- the zip container -------------------------------------------------------------------------


def _end_record(path: Path, file: str) -> tuple[int, int]:
    """Number of entries and size of the central directory, from the zip's end record."""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 65_557))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise InputError(
            "The file is not an XLSX workbook (no zip directory found).",
            file=file,
            rule="xlsx",
            fix="Check that the file is not damaged and that its extension matches its content.",
        )
    entries, cd_size = struct.unpack("<HI", tail[at + 10 : at + 16])
    return entries, cd_size


def _workbook_sheets(zf: zipfile.ZipFile) -> list[tuple[str, str, bool]]:
    """(name, part, hidden) of each worksheet, in workbook order."""

    def attrs(tag: bytes) -> dict[str, str]:
        # attributes by local name (``r:id`` → ``id``), entities decoded
        found = re.findall(rb"([\w:]+)\s*=\s*\"([^\"]*)\"", tag)
        return {
            k.decode().split(":")[-1]: html.unescape(v.decode("utf-8", "replace")) for k, v in found
        }

    names = set(zf.namelist())
    if "xl/workbook.xml" not in names:
        return []
    book = zf.read("xl/workbook.xml")
    rels = zf.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
    targets: dict[str, str] = {}
    for tag in re.findall(rb"<(?:\w+:)?Relationship\b[^>]*>", rels):
        a = attrs(tag)
        target = a.get("Target", "")
        part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        targets[a.get("Id", "")] = part
    out = []
    for tag in re.findall(rb"<(?:\w+:)?sheet\b[^>]*>", book):
        a = attrs(tag)
        hidden = a.get("state", "visible") != "visible"
        out.append((a.get("name", ""), targets.get(a.get("id", ""), ""), hidden))
    return out


def check_xlsx(path: str | Path, limits: Limits | None = None) -> list[SheetScan]:
    """Check an XLSX file against ``limits`` before reading it; return what each sheet holds.

    Raises :class:`InputError` (rule ``input_limit``) when the file, a part or a sheet is over a
    limit, or the file is not a zip that can be checked.
    """
    p = Path(path)
    file = str(p)
    lim = limits or Limits.from_settings()
    entries, cd_size = _end_record(p, file)
    if entries > MAX_PARTS or cd_size > MAX_PARTS * 1024:
        raise InputError(
            f"The XLSX file has {entries:,} parts; at most {MAX_PARTS:,} are read.",
            file=file,
            rule="input_limit",
            fix=_FIX_SIZE,
        )
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(
            f"The file is not a readable XLSX workbook: {exc}",
            file=file,
            rule="xlsx",
            fix="Check that the file is not damaged and that its extension matches its content.",
        ) from None
    with zf:
        infos = zf.infolist()
        declared = sum(i.file_size for i in infos)
        if declared > lim.max_bytes:
            raise InputError(
                f"The XLSX file unpacks to {declared:,} bytes; at most {lim.max_bytes:,} are "
                "read (DONGXI_MAX_INPUT_BYTES).",
                file=file,
                rule="input_limit",
                fix=_FIX_SIZE,
            )
        for info in infos:
            _check_member_header(info, lim, file)
        # workbook.xml and its relations are small XML; their real size is checked first
        for name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
            small = next((i for i in infos if i.filename == name), None)
            if small is not None:
                _inflate(p, small, lim, file, None, budget=min(lim.max_bytes, _SMALL_PART))
        sheets = [
            SheetScan(name=n, part=part, hidden=hidden) for n, part, hidden in _workbook_sheets(zf)
        ]
        by_part = {s.part: s for s in sheets}
        total = 0
        for info in infos:
            sheet = by_part.get(info.filename)
            if sheet is None:
                total += _inflate(p, info, lim, file, None, budget=lim.max_bytes - total)
                continue
            scanner = _SheetScanner(sheet, lim, file)
            total += _inflate(p, info, lim, file, scanner.feed, budget=lim.max_bytes - total)
            scanner.finish()
    return sheets


def _check_member_header(info: zipfile.ZipInfo, lim: Limits, file: str) -> None:
    if info.flag_bits & 0x1:
        raise InputError(
            "The XLSX file is password-protected.",
            file=file,
            rule="xlsx",
            fix="Open it in Excel, remove the password (File → Info → Protect Workbook), save.",
        )
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise InputError(
            f"Part '{info.filename}' of the XLSX file uses a compression method Excel does not "
            f"write ({info.compress_type}).",
            file=file,
            rule="xlsx",
            fix="Open the file in Excel or WPS and save it again as .xlsx.",
        )
    ratio_ok = info.file_size <= RATIO_FLOOR or info.file_size <= lim.max_ratio * max(
        info.compress_size, 1
    )
    if not ratio_ok:
        raise InputError(
            f"Part '{info.filename}' of the XLSX file declares {info.file_size:,} bytes packed "
            f"into {info.compress_size:,} (ratio above {lim.max_ratio}, DONGXI_MAX_ZIP_RATIO): "
            "a zip bomb, not a spreadsheet.",
            file=file,
            rule="input_limit",
            fix=_FIX_SIZE,
        )


def _inflate(
    path: Path,
    info: zipfile.ZipInfo,
    lim: Limits,
    file: str,
    sink: Callable[[bytes], None] | None,
    *,
    budget: int,
) -> int:
    """Unpack one part block by block into ``sink``; return its real size.

    Stops as soon as the part is larger than ``budget`` (what is left of DONGXI_MAX_INPUT_BYTES)
    or, beyond :data:`RATIO_FLOOR`, than ``DONGXI_MAX_ZIP_RATIO`` times its packed size.
    """
    with path.open("rb") as fh:
        fh.seek(info.header_offset)
        head = fh.read(30)
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise InputError(
                f"Part '{info.filename}' of the XLSX file is damaged.",
                file=file,
                rule="xlsx",
                fix="Open the file in Excel or WPS and save it again as .xlsx.",
            )
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        fh.seek(info.header_offset + 30 + name_len + extra_len)
        left = info.compress_size
        inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        limit = min(budget, max(RATIO_FLOOR, lim.max_ratio * max(info.compress_size, 1)))
        size = 0

        def take(out: bytes) -> None:
            nonlocal size
            size += len(out)
            if size > limit:
                over_total = size > budget
                raise InputError(
                    f"Part '{info.filename}' of the XLSX file unpacks to more than {limit:,} "
                    + (
                        "bytes, over DONGXI_MAX_INPUT_BYTES for the whole file."
                        if over_total
                        else f"bytes from {info.compress_size:,} (ratio above {lim.max_ratio}, "
                        "DONGXI_MAX_ZIP_RATIO): a zip bomb, not a spreadsheet."
                    ),
                    file=file,
                    rule="input_limit",
                    fix=_FIX_SIZE,
                )
            if out and sink is not None:
                sink(out)

        try:
            while left > 0:
                data = fh.read(min(_CHUNK, left))
                if not data:
                    break
                left -= len(data)
                if inflater is None:
                    take(data)
                    continue
                out = inflater.decompress(data, _CHUNK)
                take(out)
                while inflater.unconsumed_tail:
                    out = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
                    take(out)
                if inflater.eof:
                    break
            if inflater is not None:
                take(inflater.flush())
        except zlib.error as exc:
            raise InputError(
                f"Part '{info.filename}' of the XLSX file is damaged: {exc}",
                file=file,
                rule="xlsx",
                fix="Open the file in Excel or WPS and save it again as .xlsx.",
            ) from None
    return size
