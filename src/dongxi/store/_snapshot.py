"""Snapshots: freeze the registry into Parquet so a measurement can be reproduced later.

``create_snapshot`` reads every table in one transaction (REPEATABLE READ on PostgreSQL, one
SQLite read transaction) and writes one Parquet file per table with exactly the columns of
``docs/data-dictionary.md`` — people without name or clear ID (only ``id_masked`` and
``id_hash``) and with their birth year instead of the birth date (``docs/security.md``), partners
without their contact — plus ``manifest.json``: snapshot id, creation time,
as-of date, registry URL without password, schema revision, the head of the change log, and per
file the row count and SHA-256. A row in the ``snapshots`` table and a change-log entry record it.
The manifest's ``change_log_head`` is signed (``seq``, ``position``, ``entry_hash``, ``seal``:
an anchor, :mod:`dongxi.store._seal`), and the ``snapshots`` row keeps the head and the manifest's
SHA-256. ``verify_snapshot`` refuses a malformed or emptied manifest and any file name that leaves
the folder, rechecks every file against the manifest and, given the registry, the manifest against
the registry's record of the snapshot.

``as_of`` (a date) freezes the registry as it stood that day as far as the data allow: status
history up to that date (and each household's status from it), income years up to that year,
income months up to that month,
measures started by then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dongxi import __version__
from dongxi.errors import InputError, NotFoundError
from dongxi.intake.columns import TABLE_KINDS
from dongxi.outputs import output_folder
from dongxi.pii.idnumber import mask_ids
from dongxi.store._changelog import anchor_of, record_change
from dongxi.store.db import public_url, translate_errors
from dongxi.store.models import (
    Household,
    HouseholdStatus,
    Income,
    IncomeMonth,
    Measure,
    Pairing,
    Partner,
    Person,
    PolicyParameter,
    Region,
    Snapshot,
)

__all__ = ["SNAPSHOT_TABLES", "SnapshotInfo", "create_snapshot", "verify_snapshot"]

log = logging.getLogger(__name__)

_S, _I, _F, _B, _D = pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.date32()


@dataclass(frozen=True)
class _Spec:
    model: Any
    columns: tuple[tuple[str, pa.DataType], ...]
    order: tuple[str, ...]


_HOUSEHOLD_COLUMNS = (
    ("household_code", _S),
    ("village_code", _S),
    ("status", _S),
    ("monitoring_category", _S),
    ("year_registered", _I),
    ("year_exited", _I),
    ("primary_cause", _S),
    ("poverty_causes", _S),
    ("housing_grade", _S),
    ("water_quantity_ok", _B),
    ("water_quality_ok", _B),
    ("water_convenience_ok", _B),
    ("water_guarantee_ok", _B),
    ("road_access", _B),
    ("electricity", _B),
    ("helper_id", _S),
    ("latitude", _F),
    ("longitude", _F),
)

_SPECS: dict[str, _Spec] = {
    "households": _Spec(Household, _HOUSEHOLD_COLUMNS, TABLE_KINDS["households"].order),
    "people": _Spec(
        Person,
        (
            ("household_code", _S),
            ("member_no", _I),
            ("id_masked", _S),
            ("id_hash", _S),
            ("relation", _S),
            ("sex", _S),
            ("birth_date", _D),
            ("ethnicity", _S),
            ("education", _S),
            ("school_status", _S),
            ("health", _S),
            ("disability_grade", _I),
            ("medical_insurance", _B),
            ("pension_insurance", _B),
            ("labour_capacity", _S),
            ("employment", _S),
            ("work_region_code", _S),
            ("sector", _S),
            ("monthly_wage", _F),
            ("months_worked", _I),
            ("skills", _S),
        ),
        TABLE_KINDS["people"].order,
    ),
    "income": _Spec(
        Income,
        (
            ("household_code", _S),
            ("year", _I),
            ("wage_income", _F),
            ("operating_income", _F),
            ("property_income", _F),
            ("transfer_income", _F),
            ("production_costs", _F),
            ("household_size", _I),
            ("net_income_per_capita", _F),
        ),
        TABLE_KINDS["income"].order,
    ),
    "income_months": _Spec(
        IncomeMonth,
        (
            ("household_code", _S),
            ("month", _S),
            ("net_income", _F),
            ("medical_spending", _F),
            ("schooling_spending", _F),
            ("disaster_loss", _F),
            ("household_size", _I),
        ),
        TABLE_KINDS["income_months"].order,
    ),
    "measures": _Spec(
        Measure,
        (
            ("measure_code", _S),
            ("household_code", _S),
            ("region_code", _S),
            ("batch", _S),
            ("subtype", _S),
            ("helper_id", _S),
            ("partner_code", _S),
            ("funds", _F),
            ("fund_source", _S),
            ("start_date", _D),
            ("end_date", _D),
            ("status", _S),
            ("outcome", _S),
        ),
        TABLE_KINDS["measures"].order,
    ),
    "partners": _Spec(
        Partner,
        (
            ("partner_code", _S),
            ("name", _S),
            ("kind", _S),
            ("region_code", _S),
            ("sector", _S),
        ),
        TABLE_KINDS["partners"].order,
    ),
    "household_status": _Spec(
        HouseholdStatus,
        (
            ("household_code", _S),
            ("status", _S),
            ("monitoring_category", _S),
            ("effective_date", _D),
            ("reason", _S),
        ),
        ("household_code", "effective_date", "id"),
    ),
    "regions": _Spec(
        Region,
        (
            ("code", _S),
            ("name", _S),
            ("level", _S),
            ("parent_code", _S),
            ("side", _S),
            ("vintage", _I),
        ),
        ("vintage", "code"),
    ),
    "pairings": _Spec(
        Pairing,
        (
            ("east_code", _S),
            ("east_name", _S),
            ("west_code", _S),
            ("west_name", _S),
            ("level", _S),
            ("period_start", _I),
            ("period_end", _I),
            ("confidence", _S),
            ("source", _S),
        ),
        ("level", "west_code", "east_code", "period_start"),
    ),
    "policy_parameters": _Spec(
        PolicyParameter,
        (
            ("name", _S),
            ("scope", _S),
            ("value", _S),
            ("unit", _S),
            ("effective_from", _D),
            ("effective_to", _D),
            ("status", _S),
            ("source", _S),
        ),
        ("name", "scope", "effective_from"),
    ),
}

#: The tables a snapshot holds, in manifest order.
SNAPSHOT_TABLES: tuple[str, ...] = tuple(_SPECS)


@dataclass(frozen=True)
class SnapshotInfo:
    """A written snapshot: its id, folder and manifest."""

    snapshot_id: str
    folder: Path
    manifest: dict[str, Any]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _query(name: str, spec: _Spec, as_of: dt.date | None) -> sa.Select[Any]:
    table = spec.model.__table__
    columns = [table.c[c] for c, _ in spec.columns]
    query = sa.select(*columns).order_by(*(table.c[c] for c in spec.order))
    if as_of is not None:
        if name == "household_status":
            query = query.where(table.c.effective_date <= as_of)
        elif name == "income":
            query = query.where(table.c.year <= as_of.year)
        elif name == "income_months":
            query = query.where(table.c.month <= as_of.strftime("%Y-%m"))
        elif name == "measures":
            query = query.where(sa.or_(table.c.start_date.is_(None), table.c.start_date <= as_of))
    return query


def _arrow(spec: _Spec, rows: Sequence[Sequence[Any]]) -> pa.Table:
    names = [c for c, _ in spec.columns]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = []
    for (column, kind), values in zip(spec.columns, columns, strict=True):
        if column == "value":
            values = tuple(None if v is None else json.dumps(v, sort_keys=True) for v in values)
        arrays.append(pa.array(values, type=kind))
    return pa.Table.from_arrays(arrays, names=names)


def _status_as_of(rows: list[tuple[Any, ...]], history: list[tuple[Any, ...]]) -> None:
    """Replace each household's status by its last history entry up to the as-of date."""
    latest: dict[str, tuple[Any, Any]] = {}
    for code, status, category, _date, _reason in history:  # ordered by date
        latest[code] = (status, category)
    for index, row in enumerate(rows):
        if row[0] in latest:
            status, category = latest[row[0]]
            rows[index] = (row[0], row[1], status, category, *row[4:])


def _read_all(connection: Connection, as_of: dt.date | None) -> dict[str, pa.Table]:
    raw: dict[str, list[tuple[Any, ...]]] = {}
    for name, spec in _SPECS.items():
        raw[name] = [tuple(r) for r in connection.execute(_query(name, spec, as_of))]
    if as_of is not None:
        _status_as_of(raw["households"], raw["household_status"])
    tables = {name: _arrow(_SPECS[name], rows) for name, rows in raw.items()}
    counties = pa.array(
        [None if v is None else v[:6] for v in tables["households"]["village_code"].to_pylist()],
        type=_S,
    )
    tables["households"] = tables["households"].add_column(2, "county_code", counties)
    tables["people"] = _people_for_analysts(tables["people"])
    return tables


def _people_for_analysts(people: pa.Table) -> pa.Table:
    """Birth year instead of the birth date, and the current masked ID form (stored masks of an
    older form re-masked): with the county, sex and household beside them, no row narrows an ID
    number to fewer than ~180,000 candidates (``docs/security.md``)."""
    at = people.schema.get_field_index("birth_date")
    years = pc.year(people["birth_date"]).cast(_I)
    people = people.set_column(at, "birth_year", years)
    at = people.schema.get_field_index("id_masked")
    masked = pa.array(mask_ids([str(v) for v in people["id_masked"].to_pylist()]), type=_S)
    return people.set_column(at, "id_masked", masked)


def create_snapshot(
    engine: Engine,
    *,
    folder: Path | str,
    as_of: dt.date | None = None,
    label: str | None = None,
    actor: str = "dongxi",
) -> SnapshotInfo:
    """Write the registry to ``folder`` (new or empty) as Parquet files plus ``manifest.json``."""
    from dongxi.store.db import current_revision

    registry = engine.url.database if engine.dialect.name == "sqlite" else None
    target = output_folder(folder, option="--out", inputs=[registry], create=False)
    if target.exists() and any(target.iterdir()):
        raise InputError(
            "The snapshot folder exists and is not empty.",
            file=str(target),
            column="--out",
            rule="snapshot_folder",
            fix="Give a new folder (snapshots are never overwritten).",
        )
    output_folder(target, option="--out")
    created = dt.datetime.now(dt.UTC)
    snapshot_id = f"{created:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    revision = current_revision(engine)
    with translate_errors("Reading the registry for a snapshot"):
        connection_options: dict[str, Any] = {}
        if engine.dialect.name == "postgresql":
            connection_options["isolation_level"] = "REPEATABLE READ"
        with (
            engine.connect().execution_options(**connection_options) as connection,
            connection.begin(),
        ):
            tables = _read_all(connection, as_of)
            head = anchor_of(connection)
    files: dict[str, dict[str, Any]] = {}
    for name, table in tables.items():
        path = target / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd")
        files[name] = {"file": path.name, "rows": table.num_rows, "sha256": _sha256(path)}
    manifest: dict[str, Any] = {
        "snapshot_id": snapshot_id,
        "label": label,
        "created_at": created.isoformat(timespec="seconds"),
        "as_of": as_of.isoformat() if as_of else None,
        "registry_url": public_url(engine.url),
        "schema_revision": revision,
        "change_log_head": None if head is None else head.as_dict(),
        "dongxi_version": __version__,
        "tables": files,
    }
    manifest_path = target / "manifest.json"
    manifest_path.write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    with translate_errors("Recording the snapshot"), engine.begin() as connection:
        connection.execute(
            sa.insert(Snapshot).values(
                snapshot_id=snapshot_id,
                created_at=created,
                as_of=as_of,
                label=label,
                folder=str(target.resolve()),
                schema_revision=revision,
                row_counts={name: info["rows"] for name, info in files.items()},
                manifest_sha256=_sha256(manifest_path),
                log_seq=None if head is None else head.seq,
                log_head=None if head is None else head.entry_hash,
            )
        )
        record_change(
            connection,
            actor=actor,
            action="snapshot",
            entity="snapshots",
            key=snapshot_id,
            after={"label": label, "as_of": manifest["as_of"], "tables": manifest["tables"]},
        )
    log.info("snapshot %s written to %s", snapshot_id, target)
    return SnapshotInfo(snapshot_id=snapshot_id, folder=target, manifest=manifest)


def _manifest_error(path: Path, what: str) -> InputError:
    return InputError(
        f"The snapshot manifest {what}.",
        file=str(path),
        rule="snapshot_manifest",
        fix="Restore manifest.json from a backup of the snapshot, or take a new snapshot.",
    )


def _read_manifest(manifest_path: Path) -> dict[str, Any]:
    """The manifest, checked for shape: every table of :data:`SNAPSHOT_TABLES` with a file
    name, a row count and a SHA-256."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _manifest_error(manifest_path, "cannot be read as JSON") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("snapshot_id"), str):
        raise _manifest_error(manifest_path, "has no snapshot_id")
    entries = manifest.get("tables")
    if not isinstance(entries, dict):
        raise _manifest_error(manifest_path, "has no 'tables' object")
    if not entries:
        raise _manifest_error(manifest_path, "lists no files (it was emptied)")
    missing = [name for name in SNAPSHOT_TABLES if name not in entries]
    if missing:
        raise _manifest_error(manifest_path, f"lacks the tables {', '.join(missing)}")
    for name, info in entries.items():
        if not (
            isinstance(info, dict)
            and isinstance(info.get("file"), str)
            and isinstance(info.get("rows"), int)
            and not isinstance(info.get("rows"), bool)
            and isinstance(info.get("sha256"), str)
        ):
            raise _manifest_error(
                manifest_path, f"entry '{name}' needs a file name, a row count and a SHA-256"
            )
    return manifest


def _inside(target: Path, name: str) -> Path | None:
    """``target / name`` when ``name`` is a plain relative path that stays in ``target``."""
    from pathlib import PurePosixPath, PureWindowsPath

    if not name or PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute():
        return None
    if PureWindowsPath(name).drive or ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return None
    path = target / name
    try:
        path.resolve().relative_to(target.resolve())
    except ValueError:  # a symbolic link out of the folder
        return None
    return path


def verify_snapshot(folder: Path | str, *, engine: Engine | None = None) -> dict[str, Any]:
    """Recheck every file of a snapshot against its manifest; returns the manifest.

    Raises :class:`InputError` for a malformed or emptied manifest, a file name that is absolute
    or leaves the folder, and (naming every one) missing, changed or miscounted files. With
    ``engine``, the manifest must also be the one recorded in the registry when the snapshot
    was taken (same SHA-256).
    """
    target = Path(folder)
    manifest_path = target / "manifest.json"
    if not manifest_path.is_file():
        raise NotFoundError(
            f"No snapshot manifest in {target}.",
            fix="Give the folder written by 'dongxi snapshot --out'.",
        )
    manifest = _read_manifest(manifest_path)
    entries: dict[str, dict[str, Any]] = manifest["tables"]
    outside = [name for name, info in entries.items() if _inside(target, info["file"]) is None]
    if outside:
        raise InputError(
            "The snapshot manifest names files outside the snapshot folder (tables "
            + ", ".join(outside)
            + ").",
            file=str(manifest_path),
            rule="snapshot_path",
            fix="Do not use this manifest: it was altered. Restore the snapshot from a backup.",
        )
    if engine is not None:
        _check_record(engine, manifest, manifest_path)
    problems = []
    for name, info in entries.items():
        path = target / info["file"]
        if not path.is_file():
            problems.append(f"{name}: file {info['file']} is missing")
            continue
        if _sha256(path) != info["sha256"]:
            problems.append(f"{name}: SHA-256 differs from the manifest (file changed)")
            continue
        rows = pq.read_metadata(path).num_rows
        if rows != info["rows"]:
            problems.append(f"{name}: {rows} rows, manifest says {info['rows']}")
    if problems:
        raise InputError(
            "The snapshot does not match its manifest: " + "; ".join(problems) + ".",
            file=str(target),
            rule="snapshot_hash",
            fix="Use an intact copy of the snapshot, or take a new one.",
        )
    return manifest


def _check_record(engine: Engine, manifest: dict[str, Any], manifest_path: Path) -> None:
    """The manifest is the one the registry recorded for its snapshot id."""
    snapshot_id = manifest["snapshot_id"]
    with translate_errors("Reading the registry's snapshot records"), engine.connect() as conn:
        recorded = conn.execute(
            sa.select(Snapshot.manifest_sha256).where(Snapshot.snapshot_id == snapshot_id)
        ).scalar_one_or_none()
    if recorded is None:
        raise InputError(
            f"The registry has no record of snapshot {snapshot_id[:40]}.",
            file=str(manifest_path),
            value=snapshot_id[:40],
            rule="snapshot_record",
            fix="Check against the registry the snapshot was taken from (--url), or use "
            "--no-registry to check the files against the manifest only.",
        )
    if recorded != _sha256(manifest_path):
        raise InputError(
            f"The manifest of snapshot {snapshot_id} differs from the one recorded in the "
            "registry when it was taken.",
            file=str(manifest_path),
            rule="snapshot_record",
            fix="Do not use this manifest: it was altered. Restore the snapshot from a backup.",
        )
