"""The demo's working folder: what a demo wrote, so that ``--force`` removes that and nothing else.

A demo run writes a marker file ``.dongxi-demo.json`` into its folder listing every file and
folder it created, with the identity of its registry: a random number stored in the SQLite
file's header (``PRAGMA application_id``) when the demo creates ``dongxi.db``. ``--force``
removes only what a marker lists, and only when everything under the demo's names is listed
and ``dongxi.db`` carries the marker's identity. A registry or a file the demo did not write is
never deleted: the run is refused, with nothing removed.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dongxi.errors import InputError
from dongxi.outputs import atomic_write, create_private_file

__all__ = ["MARKER", "REGISTRY", "prepare_folder", "record_outputs", "registry_identity"]

#: The marker file listing what the demo wrote.
MARKER = ".dongxi-demo.json"
#: The demo's registry file.
REGISTRY = "dongxi.db"

_SQLITE_MAGIC = b"SQLite format 3\x00"
_SHOWN = 5


def registry_identity(path: Path) -> int | None:
    """The ``application_id`` in a SQLite file's header; ``None`` if it is not a SQLite file."""
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError:
        return None
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        return None
    return int.from_bytes(header[68:72], "big", signed=True)


def _read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("demo_id"), int):
        return None
    return data


def _entries(folder: Path, names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Files (symbolic links included) and folders under ``names``, as folder-relative paths."""
    files: list[str] = []
    folders: list[str] = []
    for name in names:
        top = folder / name
        if top.is_symlink() or (top.exists() and not top.is_dir()):
            files.append(name)
            continue
        if not top.is_dir():
            continue
        for root, dirnames, filenames in os.walk(top):
            here = Path(root)
            folders.append((here.relative_to(folder)).as_posix())
            for d in list(dirnames):
                if (here / d).is_symlink():
                    dirnames.remove(d)
                    files.append((here / d).relative_to(folder).as_posix())
            files.extend((here / f).relative_to(folder).as_posix() for f in filenames)
    return files, folders


def _listing(paths: Sequence[str]) -> str:
    shown = ", ".join(sorted(paths)[:_SHOWN])
    return shown + (f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else "")


def _remove_previous(folder: Path, names: Sequence[str], marker: dict[str, Any] | None) -> None:
    """Remove what a previous demo wrote, after checking that it wrote all of it."""
    files, folders = _entries(folder, names)
    if (folder / REGISTRY).exists():
        stamp = registry_identity(folder / REGISTRY)
        if marker is None or stamp is None or stamp != marker["demo_id"]:
            raise InputError(
                f"The folder holds a registry {REGISTRY} that no dongxi demo created here; "
                "--force deletes only what a demo wrote, so nothing was deleted.",
                file=str(folder),
                column="--dir",
                rule="demo_folder",
                fix="Choose another folder with --dir, or move the registry away yourself.",
            )
    listed_files = set(marker.get("files", [])) if marker else set()
    listed_folders = set(marker.get("folders", [])) if marker else set()
    unknown = [f for f in files if f not in listed_files]
    unknown += [d for d in folders if d not in listed_folders]
    if unknown:
        raise InputError(
            f"The folder holds files the demo did not write ({_listing(unknown)}); --force "
            "deletes only what a demo wrote, so nothing was deleted.",
            file=str(folder),
            column="--dir",
            rule="demo_folder",
            fix="Move those files away, or choose another folder with --dir.",
        )
    for name in files:
        (folder / name).unlink()
    for name in sorted(folders, key=lambda d: d.count("/"), reverse=True):
        (folder / name).rmdir()


def prepare_folder(
    folder: Path, names: Sequence[str], *, force: bool, registry_file: bool = True
) -> int:
    """Make ``folder`` ready for a demo whose outputs are ``names``; returns the registry's id.

    Creates ``dongxi.db`` (mode 0600) stamped with a new random identity and writes the marker;
    with ``registry_file=False`` (the registry is elsewhere: PostgreSQL) only the marker.
    """
    if folder.exists() and not folder.is_dir():
        raise InputError(
            "The demo folder is a file.",
            file=str(folder),
            column="--dir",
            fix="Give --dir a folder path (it is created when missing).",
        )
    present = [n for n in names if (folder / n).exists() or (folder / n).is_symlink()]
    marker = _read_marker(folder)
    if present and not force:
        if marker is None:
            raise InputError(
                f"The folder holds files the demo did not write ({', '.join(present)}).",
                file=str(folder),
                column="--dir",
                rule="demo_folder",
                fix="Choose another folder with --dir (a demo never deletes files it did not "
                "write).",
            )
        raise InputError(
            f"The folder already holds a demo ({', '.join(present)}).",
            file=str(folder),
            column="--dir",
            rule="demo_folder",
            fix="Pass --force to replace it, or choose another folder with --dir.",
        )
    if present:
        _remove_previous(folder, names, marker)
    folder.mkdir(parents=True, exist_ok=True)
    demo_id = secrets.randbelow(2**31 - 1) + 1
    if not registry_file:
        _write_marker(folder, demo_id, [], [])
        return demo_id
    registry = folder / REGISTRY
    create_private_file(registry)
    connection = sqlite3.connect(registry)
    try:
        connection.execute(f"PRAGMA application_id = {demo_id:d}")
        connection.commit()
    finally:
        connection.close()
    _write_marker(folder, demo_id, [REGISTRY], [])
    return demo_id


def record_outputs(folder: Path, names: Sequence[str], demo_id: int) -> None:
    """Rewrite the marker with everything now under ``names`` (all written by this run)."""
    files, folders = _entries(folder, names)
    _write_marker(folder, demo_id, files, folders)


def _write_marker(folder: Path, demo_id: int, files: list[str], folders: list[str]) -> None:
    content = {
        "about": "Written by 'dongxi demo': what it created here ('--force' removes only these).",
        "demo_id": demo_id,
        "registry": REGISTRY,
        "files": sorted(files),
        "folders": sorted(folders),
    }
    with atomic_write(folder / MARKER, option="--dir") as handle:
        handle.write((json.dumps(content, indent=2) + "\n").encode("utf-8"))
