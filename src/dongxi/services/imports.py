"""Use case: import a file (or frames) into the registry, with the report of rejected cells.

Permission ``registry:import``. The importer writes one change-log entry per created or changed
row (monthly income: per household and year, holding its months) under the principal's
:attr:`~dongxi.services.Principal.actor`.

A department's alert file (kind ``department_alerts`` of
:data:`dongxi.intake.columns.FILE_KINDS`: 部门, 预警日期, 预警类型, …) is recognised from its
headers too (or named with ``kind``) and routed to
:func:`dongxi.services.cases.import_department_alerts`, which checks every cell and opens the
cases all or nothing (``monitor:open`` as well); :attr:`ImportOutcome.alerts` tells what it did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dongxi.errors import InputError, RowError
from dongxi.intake.columns import FILE_KINDS, KINDS
from dongxi.services._registry import registry

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Engine

    from dongxi.intake.headers import Kind
    from dongxi.services.cases import AlertImport
    from dongxi.services.principal import Principal
    from dongxi.store.importer import ImportResult, Progress

__all__ = [
    "KINDS",
    "REPORT_COLUMNS",
    "ImportOutcome",
    "import_file",
    "import_tables",
    "is_alert_file",
    "parse_effective_date",
    "parse_kind",
    "write_report",
]

ALERTS = "department_alerts"
#: The columns of an error report (CSV or XLSX), in order.
REPORT_COLUMNS = ("file", "row", "column", "value", "rule", "message_zh", "message_en")


@dataclass(frozen=True)
class ImportOutcome:
    """What an import did: one result per kind (a workbook's sheets each by kind), the empty
    sheets skipped, and the report file written (if any). A department's alert file has no
    results but ``alerts`` (the cases opened, the rejected cells)."""

    results: dict[Kind, ImportResult]
    ignored: tuple[str, ...] = ()
    report: Path | None = None
    alerts: AlertImport | None = None

    @property
    def kind(self) -> Kind:
        """The kind of a one-table file (the first kind of a workbook)."""
        if self.alerts is not None:
            return "department_alerts"
        return next(iter(self.results))

    @property
    def result(self) -> ImportResult:
        """The result of a one-table file (the first kind of a workbook)."""
        return self.results[self.kind]

    @property
    def errors(self) -> list[RowError]:
        """Every rejected cell of every table."""
        found = [e for r in self.results.values() for e in r.errors]
        return found + (list(self.alerts.errors) if self.alerts is not None else [])


def parse_kind(kind: str) -> Kind:
    """The kind of table named ``kind`` (``InputError`` listing the kinds otherwise)."""
    for known in KINDS:
        if kind == known:
            return known
    raise InputError(
        f"Unknown kind '{kind}'.", value=kind, rule="kind",
        fix=f"Use one of: {', '.join(FILE_KINDS)}.",
    )  # fmt: skip


def is_alert_file(file: Path, kind: str | None = None) -> bool:
    """Whether ``file`` is a department's alert file: named so (``kind``), or, without a kind,
    one table whose headers are those of ``department_alerts`` (and of no importable kind)."""
    if kind is not None:
        return kind == ALERTS
    from dongxi.errors import DongxiError
    from dongxi.intake.headers import detect_kind
    from dongxi.tables import read_sheets

    try:
        sheets = [s for s in read_sheets(Path(file)) if not s.empty]
        if len(sheets) != 1:
            return False
        headers = [str(c) for c in sheets[0].frame.columns]
        return detect_kind(headers, kinds=FILE_KINDS) == ALERTS
    except DongxiError:  # unreadable, or no kind fits: the import says why
        return False


def parse_effective_date(text: str | None) -> dt.date | None:
    """The ``--effective-date`` of an import (ISO ``YYYY-MM-DD``, not after today)."""
    if text is None:
        return None
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            "The effective date is not a date.",
            column="--effective-date",
            value=text,
            fix="Write it as YYYY-MM-DD, e.g. --effective-date 2019-12-31.",
        ) from None
    if day > dt.date.today():
        raise InputError(
            "The effective date is in the future: status history records what has happened.",
            column="--effective-date",
            value=text,
            fix="Give the date the statuses in the file took effect (today or earlier).",
        )
    return day


def write_report(errors: list[RowError], path: Path, *, inputs: Sequence[Path | None] = ()) -> Path:
    """Write the rejected cells (row, column, value, rule, zh, en) as CSV (UTF-8 BOM) or XLSX.

    ``inputs`` are the files of the import, which the report must never overwrite."""
    import pandas as pd

    from dongxi.tables import write_table

    frame = pd.DataFrame(
        [
            {
                "file": e.file,
                "row": e.row,
                "column": e.column,
                "value": e.value,
                "rule": e.rule,
                "message_zh": e.message_zh,
                "message_en": e.message_en,
            }
            for e in errors
        ],
        columns=list(REPORT_COLUMNS),
    )
    return write_table(frame, path, option="--report", inputs=list(inputs))


def import_file(
    *,
    principal: Principal,
    file: Path,
    kind: str | None = None,
    partial: bool = False,
    report: Path | None = None,
    mapping: Path | None = None,
    url: str | None = None,
    engine: Engine | None = None,
    progress: Progress | None = None,
    effective_date: dt.date | None = None,
    check: bool = False,
) -> ImportOutcome:
    """Validate ``file`` and write it to the registry (all or nothing unless ``partial``).

    With ``check`` the file is planned and validated against the registry and nothing is
    written (the first step of the pages' upload → report → confirm).

    The kind is detected from the headers unless given; ``mapping`` is a CSV/TOML file of
    ``source_header,column``. When rows are rejected and ``report`` is given, every rejected
    cell is written there. Households' status history entries are dated by their 状态变更日期
    cell, else ``effective_date``, else today.

    A department's alert file (:func:`is_alert_file`) opens monitoring cases instead
    (:func:`dongxi.services.cases.import_department_alerts`, all or nothing, same report); it is
    not taken in ``check`` mode (the pages' two-step upload) nor with a ``mapping``.
    """
    principal.require("registry:import")
    from dongxi.outputs import output_file
    from dongxi.store.importer import import_frames, plan_file

    if report is not None:  # checked before anything is read or written
        output_file(report, option="--report", inputs=[file, mapping])
    if kind == ALERTS:
        return _alerts(principal, file, report=report, mapping=mapping, check=check,
                       partial=partial, url=url, engine=engine)  # fmt: skip
    # the file is read and its tables recognised before the registry is opened: a bad file is
    # reported as such even where no registry exists yet
    try:
        plan = plan_file(file, kind=parse_kind(kind) if kind else None, mapping=mapping)
    except InputError:
        # not a registry or market table: a department's alert file, if its headers say so
        if kind is not None or mapping is not None or not is_alert_file(file):
            raise
        return _alerts(principal, file, report=report, mapping=mapping, check=check,
                       partial=partial, url=url, engine=engine)  # fmt: skip
    with registry(url, engine=engine) as opened:
        results = import_frames(
            opened,
            plan.frames,
            actor=principal.actor,
            partial=partial,
            source_name=plan.source,
            mapping=plan.mapping,
            progress=progress,
            sources=plan.sources,
            effective_date=effective_date,
            check=check,
        )
    ignored = plan.ignored
    errors = [e for r in results.values() for e in r.errors]
    written = None
    if errors and report is not None:
        written = write_report(errors, report, inputs=[file, mapping])
    return ImportOutcome(results=dict(results), ignored=tuple(ignored), report=written)


def _alerts(
    principal: Principal,
    file: Path,
    *,
    report: Path | None,
    mapping: Path | None,
    check: bool,
    partial: bool,
    url: str | None,
    engine: Engine | None,
) -> ImportOutcome:
    """A department's alert file: the cases it opens (all or nothing, report as any import)."""
    if check or partial or mapping is not None:
        raise InputError(
            "A department's alert file opens monitoring cases at once, all or nothing: it has no "
            "check step, no --partial and no header mapping.",
            file=Path(file).name, rule="kind",
            fix="Import it with 'dongxi import FILE' or 'dongxi monitor alerts FILE', with "
            "the headers of docs/data-dictionary.md.",
        )  # fmt: skip
    from dongxi.services.cases import import_department_alerts

    alerts = import_department_alerts(
        principal=principal, file=file, report=report, url=url, engine=engine
    )
    return ImportOutcome(results={}, report=alerts.report, alerts=alerts)


def import_tables(
    *,
    principal: Principal,
    frames: Mapping[Kind, pd.DataFrame],
    source_name: str,
    url: str | None = None,
    engine: Engine | None = None,
    effective_date: dt.date | None = None,
) -> dict[Kind, ImportResult]:
    """Import several tables in dependency order in one transaction (all or nothing).

    ``effective_date`` dates the households' status history entries (default: today), e.g. the
    end of the year a round of a panel describes."""
    principal.require("registry:import")
    from dongxi.store.importer import import_frames

    with registry(url, engine=engine) as opened:
        return import_frames(
            opened,
            dict(frames),
            actor=principal.actor,
            source_name=source_name,
            effective_date=effective_date,
        )
