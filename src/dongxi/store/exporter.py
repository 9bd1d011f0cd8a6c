"""Exports of the registry in exactly the format ``dongxi import`` reads.

:func:`export_frame` returns a table with the Chinese headers and value labels of
:mod:`dongxi.intake.headers` (what offices write), in the row order of the kind's description
(:data:`dongxi.intake.columns.TABLE_KINDS`); :func:`export_file` writes it as CSV (UTF-8 with
BOM, so Excel shows the Chinese) or XLSX. Importing the file again changes nothing (a round trip).

ID numbers are masked (``4501**********1234``) unless ``unmask=True``. A masked export can still
be edited and re-imported: the importer accepts a masked number for a person already in the
registry at the same household and member number. An unmasked export decrypts the numbers,
writes a change-log entry (who, when, which table, how many rows) and creates the file readable by
its owner only (mode 0600). The output path is checked before anything is read or recorded
(:mod:`dongxi.outputs`); text cells that a spreadsheet would run as formulas are neutralised.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi.errors import InputError
from dongxi.intake.headers import KINDS, TABLE_KINDS, Kind, canonical_columns, localize
from dongxi.outputs import output_file
from dongxi.pii.protect import get_protector
from dongxi.store._keys import verify_keys
from dongxi.store.db import translate_errors
from dongxi.tables import write_table

__all__ = ["EXPORT_FORMATS", "ExportResult", "export_file", "export_frame"]

log = logging.getLogger(__name__)

EXPORT_FORMATS = (".csv", ".xlsx")


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    kind: Kind
    path: Path
    rows: int
    unmasked: bool


def _canonical(engine: Engine, kind: Kind, *, unmask: bool) -> pd.DataFrame:
    import dongxi.store.all_models  # noqa: F401
    from dongxi.store.base import Base

    table = Base.metadata.tables[kind]
    wanted = [c for c in canonical_columns(kind) if c in table.c]
    extra = ["id_masked", "id_hash", "id_encrypted"] if kind == "people" else []
    if kind == "people" and not unmask:
        extra = ["id_masked"]
    cols = [table.c[c] for c in [*wanted, *extra]]
    stmt = sa.select(*cols).order_by(*[table.c[c] for c in TABLE_KINDS[kind].order])
    with translate_errors(f"Exporting {kind}"), engine.connect() as conn:
        rows = conn.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=[*wanted, *extra])
    if kind == "households":
        frame.insert(2, "county_code", frame["village_code"].astype(str).str.slice(0, 6))
    if kind == "people":
        if unmask:
            protector = get_protector()
            with translate_errors("Checking the registry's keys"), engine.connect() as conn:
                verify_keys(conn, protector, keys=("encryption",), record=False)
            ids: list[Any] = [
                protector.decrypt(bytes(b), id_hash=str(h))
                for h, b in zip(frame["id_hash"], frame["id_encrypted"], strict=True)
            ]
            frame = frame.drop(columns=["id_encrypted", "id_hash", "id_masked"])
        else:
            ids = list(frame["id_masked"])
            frame = frame.drop(columns=["id_masked"])
        frame.insert(2, "id_number", pd.Series(ids, index=frame.index, dtype=object))
    return frame


def export_frame(engine: Engine, *, kind: Kind, unmask: bool = False) -> pd.DataFrame:
    """The registry's ``kind`` table as an import file (Chinese headers and labels).

    Unmasked exports should go through :func:`export_file`, which records them in the change log.
    """
    if kind not in KINDS:
        raise InputError(
            f"Unknown kind '{kind}'.", value=kind, rule="kind", fix=f"Use one of {KINDS}."
        )
    return localize(_canonical(engine, kind, unmask=unmask), kind=kind)


def export_file(
    engine: Engine, *, kind: Kind, out: str | Path, unmask: bool = False, actor: str
) -> ExportResult:
    """Write the ``kind`` table to ``out`` (``.csv`` UTF-8 with BOM, or ``.xlsx``).

    ``unmask=True`` writes clear ID numbers and records who exported how many rows, and when, in
    the change log (action ``export_unmasked``) before the file is written.
    """
    path = Path(out)
    if path.suffix.lower() not in EXPORT_FORMATS and not path.is_dir():
        raise InputError(
            f"Exports are written as CSV or XLSX, not '{path.suffix}'.",
            file=str(path),
            fix="Give an output file ending in .csv or .xlsx.",
        )
    # checked before anything is read or recorded: a folder, an unwritable place or the
    # registry file itself is refused here
    registry = engine.url.database if engine.dialect.name == "sqlite" else None
    output_file(path, option="--out", inputs=[registry])
    frame = export_frame(engine, kind=kind, unmask=unmask)
    if unmask and kind == "people":
        from dongxi.store._changelog import record_change

        with translate_errors("Recording the unmasked export"), engine.begin() as conn:
            record_change(
                conn,
                actor=actor,
                action="export_unmasked",
                entity=kind,
                key=f"export {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}",
                after={"rows": len(frame), "file": path.name, "unmasked": True},
            )
    write_table(frame, path, option="--out", inputs=[registry], private=unmask)
    log.info("exported %d %s rows to %s (unmasked=%s)", len(frame), kind, path.name, unmask)
    return ExportResult(kind=kind, path=path, rows=len(frame), unmasked=unmask)
