"""Use case: export a registry table as an import file, masked or with clear ID numbers.

Permission ``registry:export``; clear ID numbers (``unmask``) also need ``pii:reveal``. Only the
rows inside the principal's scope are written. Every export, masked or not, appends one
change-log entry (action ``export``) with the absolute output path, the outcome (``written``
with the row count, or ``failed`` with the error class) and whether IDs were in clear; an
unmasked export of people is also recorded by the exporter itself (``export_unmasked``) before
the numbers are decrypted.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dongxi.services._registry import registry

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from dongxi.services.principal import Principal
    from dongxi.store.exporter import ExportResult

__all__ = ["export_table"]

log = logging.getLogger(__name__)


def export_table(
    *,
    principal: Principal,
    kind: str,
    out: Path,
    unmask: bool = False,
    url: str | None = None,
    engine: Engine | None = None,
) -> ExportResult:
    """Write the ``kind`` table (rows in the principal's scope) to ``out`` (.csv or .xlsx)."""
    principal.require("registry:export")
    if unmask:
        principal.require("pii:reveal")
    from dongxi.services.imports import parse_kind
    from dongxi.store.exporter import export_file

    target = Path(out).expanduser().resolve()
    with registry(url, engine=engine) as opened:
        try:
            result = export_file(
                opened,
                kind=parse_kind(kind),
                out=target,
                scope=principal.scope,
                unmask=unmask,
                actor=principal.actor,
            )
        except Exception as exc:
            _audit(
                opened,
                principal,
                kind,
                {"path": str(target), "outcome": "failed", "error": type(exc).__name__},
                unmask,
            )
            raise
        _audit(
            opened,
            principal,
            kind,
            {"path": str(target), "outcome": "written", "rows": result.rows},
            unmask,
        )
    return result


def _audit(
    engine: Engine, principal: Principal, kind: str, after: dict[str, Any], unmask: bool
) -> None:
    """Append the ``export`` entry; a failure to log a failed export does not hide its cause."""
    from dongxi.errors import DongxiError
    from dongxi.store._changelog import record_change
    from dongxi.store.db import translate_errors

    entry = {**after, "unmasked": unmask}
    from dongxi.intake.headers import KINDS

    entity = kind if kind in KINDS else "exports"
    key = f"export {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%S.%fZ}"
    try:
        with translate_errors("Recording the export"), engine.begin() as conn:
            record_change(
                conn, actor=principal.actor, action="export", entity=entity, key=key, after=entry
            )
    except DongxiError:
        if after["outcome"] == "written":
            raise
        log.warning("could not record the failed export of %s in the change log", entity)
