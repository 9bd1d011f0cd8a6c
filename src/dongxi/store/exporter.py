"""Exports of the registry in exactly the format ``dongxi import`` reads.

:func:`export_frame` returns a table with the Chinese headers and value labels of
:mod:`dongxi.intake.headers` (what offices write), in the row order of the kind's description
(:data:`dongxi.intake.columns.TABLE_KINDS`); :func:`export_file` writes it as CSV (UTF-8 with
BOM, so Excel shows the Chinese) or XLSX. Importing the file again changes nothing (a round trip).

ID numbers are masked (``4501**************``, first four characters) and birth dates shown as
their year (``1984-**-**``) unless ``unmask=True``: with the county, sex and household beside
them, the full date and the last characters would pin the number (``docs/security.md``). Stored
masks of an older form are re-masked as they are read. A masked export can still be edited and
re-imported: the importer accepts a masked number for a person already in the registry at the
same household and member number, and takes the masked birth date from the registry. An unmasked
export of people decrypts the numbers and writes a change-log entry (action ``export_unmasked``:
who, when, which table, how many rows) before returning, whichever function is called:
``export_frame(unmask=True)`` needs the ``actor`` and records it itself; :func:`export_file`
creates the file readable by its owner only (mode 0600). The output path is checked before
anything is read or recorded (:mod:`dongxi.outputs`); text cells that a spreadsheet would run as
formulas are neutralised.

Both take the caller's :class:`~dongxi.store.scope.Scope` (keyword, required): only the rows inside
it are exported (households by village; people and income by their household; measures by their
household, region or partner; partners by code or region; helpers by region).
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

import dongxi.store.all_models  # noqa: F401  (every table in Base.metadata)
from dongxi.errors import InputError
from dongxi.intake.columns import REGISTRY_KINDS
from dongxi.intake.headers import TABLE_KINDS, Kind, canonical_columns, localize
from dongxi.outputs import output_file
from dongxi.pii.idnumber import mask_ids
from dongxi.pii.protect import get_protector
from dongxi.store._keys import verify_keys
from dongxi.store.base import Base
from dongxi.store.db import translate_errors
from dongxi.store.scope import Scope
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


def _where(table: sa.Table, kind: Kind, scope: Scope) -> Any:
    """The condition that keeps the rows of ``kind`` inside ``scope``."""
    households = Base.metadata.tables["households"]
    in_scope = sa.select(households.c.household_code).where(
        scope.where_region(households.c.village_code)
    )
    if kind == "households":
        return scope.where_region(table.c.village_code)
    if kind in ("people", "income", "income_months"):
        return table.c.household_code.in_(in_scope)
    if kind == "measures":
        return sa.or_(
            table.c.household_code.in_(in_scope),
            scope.where_region(table.c.region_code),
            scope.where_partner(table.c.partner_code),
        )
    if kind == "partners":
        return sa.or_(
            scope.where_partner(table.c.partner_code), scope.where_region(table.c.region_code)
        )
    return scope.where_region(table.c.region_code)  # helpers


def _canonical(engine: Engine, kind: Kind, *, unmask: bool, scope: Scope) -> pd.DataFrame:
    table = Base.metadata.tables[kind]
    wanted = [c for c in canonical_columns(kind) if c in table.c]
    extra = ["id_masked", "id_hash", "id_encrypted"] if kind == "people" else []
    if kind == "people" and not unmask:
        extra = ["id_masked"]
    cols = [table.c[c] for c in [*wanted, *extra]]
    stmt = sa.select(*cols).order_by(*[table.c[c] for c in TABLE_KINDS[kind].order])
    if not scope.unrestricted:
        stmt = stmt.where(_where(table, kind, scope))
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
            ids = mask_ids([str(v) for v in frame["id_masked"]])
            frame = frame.drop(columns=["id_masked"])
        frame.insert(2, "id_number", pd.Series(ids, index=frame.index, dtype=object))
    return frame


def _record_unmasked(
    engine: Engine, *, kind: Kind, actor: str, rows: int, file: str | None
) -> None:
    from dongxi.store._changelog import record_change

    after: dict[str, Any] = {"rows": rows, "unmasked": True}
    if file is not None:
        after["file"] = file
    with translate_errors("Recording the unmasked export"), engine.begin() as conn:
        record_change(
            conn,
            actor=actor,
            action="export_unmasked",
            entity=kind,
            key=f"export {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}",
            after=after,
        )


def _frame(
    engine: Engine, *, kind: Kind, scope: Scope, unmask: bool, actor: str | None, file: str | None
) -> pd.DataFrame:
    if kind not in REGISTRY_KINDS:
        raise InputError(
            f"Unknown kind '{kind}'.", value=kind, rule="kind", fix=f"Use one of {REGISTRY_KINDS}."
        )
    audited = unmask and kind == "people"
    if audited and not (actor and actor.strip()):
        raise InputError(
            "An export with clear ID numbers needs the name of who exports (it is audited).",
            column="actor",
            rule="required",
            fix="Pass actor='<user>' (the use case passes the acting principal).",
        )
    frame = localize(_canonical(engine, kind, unmask=unmask, scope=scope), kind=kind)
    if kind == "people" and not unmask:
        born = _header(kind, "birth_date")
        frame[born] = frame[born].map(lambda v: f"{str(v)[:4]}-**-**", na_action="ignore")
    if audited:
        assert actor is not None
        _record_unmasked(engine, kind=kind, actor=actor, rows=len(frame), file=file)
    return frame


def export_frame(
    engine: Engine, *, kind: Kind, scope: Scope, unmask: bool = False, actor: str | None = None
) -> pd.DataFrame:
    """The registry's ``kind`` table inside ``scope`` as an import file (Chinese headers, labels).

    ``unmask=True`` (people) needs ``actor`` and appends an ``export_unmasked`` change-log entry
    before the clear numbers are returned.
    """
    return _frame(engine, kind=kind, scope=scope, unmask=unmask, actor=actor, file=None)


def _header(kind: Kind, column: str) -> str:
    """The Chinese header of ``column`` in ``kind``'s import format."""
    from dongxi.intake.columns import COLUMNS

    return next(c.zh for c in COLUMNS[kind] if c.name == column)


def export_file(
    engine: Engine,
    *,
    kind: Kind,
    out: str | Path,
    scope: Scope,
    unmask: bool = False,
    actor: str,
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
    frame = _frame(engine, kind=kind, scope=scope, unmask=unmask, actor=actor, file=path.name)
    write_table(frame, path, option="--out", inputs=[registry], private=unmask)
    log.info("exported %d %s rows to %s (unmasked=%s)", len(frame), kind, path.name, unmask)
    return ExportResult(kind=kind, path=path, rows=len(frame), unmasked=unmask)
