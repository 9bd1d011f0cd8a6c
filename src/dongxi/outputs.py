"""Where dongxi writes: one check for every output path, and files readable by their owner only.

Every command that writes goes through :func:`output_file` (a file) or :func:`output_folder` (a
folder) before it writes anything. They refuse, with one :class:`~dongxi.errors.InputError` naming
the option and the path:

- an output that is the same file as one of the command's inputs (``import X --report X`` would
  overwrite the file being imported);
- a folder where a file is expected, and a file where a folder is expected (also a file standing
  where a parent folder should be);
- a place that cannot be written (no permission, read-only file system).

A missing parent folder is created (``--out results/2019/x.csv``); only when it cannot be created
is the command refused.

:func:`atomic_write` writes a file under a temporary name in the same folder and renames it into
place, so a failed write never leaves half a file. ``private=True`` creates the file with mode
0600 (readable and writable by the owner only) from the start, through ``os.open``, never by a
``chmod`` afterwards: unmasked exports and the SQLite registry are written this way.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from dongxi.errors import InputError

__all__ = [
    "FORMULA_STARTS",
    "PRIVATE_MODE",
    "atomic_write",
    "create_private_file",
    "escape_formula",
    "output_file",
    "output_folder",
    "unescape_formula",
    "write_csv_rows",
]

#: Mode of private files: read and write for the owner, nothing for anyone else.
PRIVATE_MODE = 0o600

#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _needs_quote(text: str) -> bool:
    rest = text.lstrip("'")
    return rest[:1] in FORMULA_STARTS and rest != "" and _NUMBER.fullmatch(rest) is None


#: First characters of a text that may need escaping: a formula start, or apostrophes before one.
_MAY_NEED_QUOTE = frozenset(FORMULA_STARTS) | {"'"}


def escape_formula(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet runs: ``'`` in front of a formula-like text."""
    if text[:1] not in _MAY_NEED_QUOTE:  # most text: one look at the first character
        return text
    return "'" + text if _needs_quote(text) else text


def unescape_formula(text: str) -> str:
    """The inverse of :func:`escape_formula` (other text is returned unchanged)."""
    if text[:1] == "'" and _needs_quote(text[1:]):
        return text[1:]
    return text


_RULE = "output_path"


def _error(message: str, path: Path, option: str, fix: str) -> InputError:
    return InputError(message, file=str(path), column=option, rule=_RULE, fix=fix)


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _check_inputs(path: Path, inputs: Iterable[str | Path | None], option: str) -> None:
    for given in inputs:
        if given is None:
            continue
        source = Path(given).expanduser()
        if _same_file(path, source):
            raise _error(
                f"The {option} path is the input file itself; writing it would destroy the input.",
                path,
                option,
                f"Give {option} another file name than the input {source.name}.",
            )


def _make_folder(folder: Path, option: str) -> None:
    """Create ``folder`` and its parents, or refuse with one clear error."""
    for parent in (folder, *folder.parents):
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise _error(
                    f"The {option} path goes through {parent}, which is a file, not a folder.",
                    folder,
                    option,
                    f"Give {option} a path inside a folder (rename or move the file {parent}).",
                )
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _error(
            f"The folder for {option} cannot be created ({exc.strerror or exc}).",
            folder,
            option,
            f"Give {option} a place you can write to.",
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _error(
            f"The folder for {option} cannot be written to.",
            folder,
            option,
            f"Give {option} a place you can write to.",
        )


def output_file(
    path: str | Path, *, option: str = "output", inputs: Iterable[str | Path | None] = ()
) -> Path:
    """Check that ``path`` may be written as a file (its parent folder is created when missing).

    ``option`` names the path in messages (``--out``, ``--report``); ``inputs`` are the files the
    command reads, which the output must not be.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        raise _error(
            f"The {option} path is a folder, but a file is expected.",
            p,
            option,
            f"Give {option} a file name, e.g. {p / 'out.csv'}.",
        )
    _check_inputs(p, inputs, option)
    _make_folder(p.parent, option)
    if p.exists() and not os.access(p, os.W_OK):
        raise _error(
            f"The {option} file exists and cannot be written to.",
            p,
            option,
            f"Give {option} another file name, or make the file writable.",
        )
    return p


def output_folder(
    path: str | Path,
    *,
    option: str = "output",
    inputs: Iterable[str | Path | None] = (),
    create: bool = True,
) -> Path:
    """Check that ``path`` may be written as a folder (created with ``create=True``).

    No input may lie inside it or be it.
    """
    p = Path(path).expanduser()
    if (p.exists() or p.is_symlink()) and not p.is_dir():
        raise _error(
            f"The {option} path is a file, but a folder is expected.",
            p,
            option,
            f"Give {option} a folder (new or existing), not a file.",
        )
    for given in inputs:
        if given is None:
            continue
        source = Path(given).expanduser()
        if _same_file(p, source):
            raise _error(
                f"The {option} folder is the input itself.",
                p,
                option,
                f"Give {option} a folder apart from the input {source.name}.",
            )
    if create:
        _make_folder(p, option)
    return p


def create_private_file(path: str | Path) -> bool:
    """Create ``path`` empty with mode 0600 if it does not exist; ``True`` when created here."""
    try:
        fd = os.open(Path(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


@contextlib.contextmanager
def atomic_write(
    path: str | Path, *, private: bool = False, option: str = "output"
) -> Iterator[BinaryIO]:
    """A binary file handle whose content replaces ``path`` when the block ends without error.

    The data go to a temporary file beside ``path`` (created 0600 when ``private``, else with the
    usual permissions of the user's umask); on success it is renamed over ``path``, on failure it
    is removed and ``path`` is left as it was.
    """
    p = Path(path)
    try:
        tmp_name = str(p.parent / f".{p.name}.{secrets.token_hex(6)}.tmp")
        mode = PRIVATE_MODE if private else 0o666
        fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise _error(
            f"The {option} file cannot be created ({exc.strerror or exc}).",
            p,
            option,
            f"Give {option} a place you can write to.",
        ) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, p)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _error(
            f"The {option} file cannot be written ({exc.strerror or exc}).",
            p,
            option,
            f"Give {option} a place you can write to, and close the file if another program "
            "has it open.",
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_csv_rows(
    path: str | Path,
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    option: str = "output",
    inputs: Iterable[str | Path | None] = (),
) -> Path:
    """Write rows of text as CSV the way :func:`dongxi.tables.write_table` writes a table of text
    (UTF-8 with BOM, CRLF rows, formula-like text escaped), without pandas: for commands whose
    start-up time counts (the rank-list mode of ``dongxi match``)."""
    p = output_file(Path(path), option=option, inputs=inputs)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([escape_formula(h) for h in header])
    writer.writerows([escape_formula(v) for v in row] for row in rows)
    with atomic_write(p, option=option) as handle:
        handle.write(buffer.getvalue().encode("utf-8-sig"))
    return p
