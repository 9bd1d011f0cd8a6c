"""Use cases: long work (an import, a snapshot, a measurement, a matching round) as background
jobs whose progress a page polls and whose outcome is stored once.

A :class:`JobRunner` belongs to one server process: a pool of ``DONGXI_JOB_WORKERS`` threads
runs the jobs, so a job goes on when the client that asked for it disconnects. Each job calls the
existing use case (:func:`dongxi.services.imports.import_file`,
:func:`~dongxi.services.snapshots.take_snapshot`,
:func:`~dongxi.services.measurement.measure_snapshot`,
:func:`~dongxi.services.matching.run_round`) as the principal who submitted it: the permission
is checked at submission (:func:`require_submit`) and again by the use case.

The life cycle is data (:data:`TRANSITIONS`): ``queued → running → succeeded | failed``, and
``queued → failed`` for a job whose process died before it started. A new runner marks the
unfinished jobs of dead processes on its host failed (``interrupted``). Files (the uploaded
input, error reports, snapshots, result tables) live under ``DONGXI_DATA_DIR/jobs/<job id>/``,
folders 0700, files 0600. Parameters and results hold no personal value; an error is stored as
its class and its redacted message (:func:`dongxi.redaction.scrub_debug`).

A job of another user does not exist for a principal (``NotFoundError``); administrators see
every job.
"""

from __future__ import annotations

import contextvars
import logging
import math
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from dongxi.errors import (
    BackendError,
    DongxiError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from dongxi.redaction import scrub_debug
from dongxi.services.principal import Permission, Principal
from dongxi.settings import Settings, get_settings, use_settings

if TYPE_CHECKING:
    import datetime as dt

    import pandas as pd
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from dongxi.store.job_models import Job

__all__ = [
    "IMPORT_SUFFIXES",
    "INTERRUPTED",
    "STATES",
    "SUBMIT_PERMISSIONS",
    "TRANSITIONS",
    "UPLOAD_HOURS",
    "JobRunner",
    "JobView",
    "require_submit",
]

log = logging.getLogger(__name__)

#: States of a job, in order.
STATES = ("queued", "running", "succeeded", "failed")
#: Allowed moves: state → states it may go to.
TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"running", "failed"}),
    "running": frozenset({"succeeded", "failed"}),
    "succeeded": frozenset(),
    "failed": frozenset(),
}
#: What a principal needs to submit each kind of job (the use case checks it again).
SUBMIT_PERMISSIONS: dict[str, Permission] = {
    "import": "registry:import",
    "snapshot": "snapshot:create",
    "measurement": "measure:run",
    "matching_round": "market:run",
}
#: Files an import job takes.
IMPORT_SUFFIXES = (".csv", ".xlsx")
#: Hours a checked upload waits for its confirmation before its file is removed.
UPLOAD_HOURS = 24
#: The error class of a job whose process ended before the job did.
INTERRUPTED = "interrupted"

_FOLDER_MODE = 0o700
_FILE_MODE = 0o600
_CHUNK = 1 << 20
#: Seconds between two progress writes to the database.
_PROGRESS_EVERY = 0.5
#: Runners alive in this process (a new runner leaves their jobs alone).
_LIVE: set[str] = set()

Work = Callable[[Callable[[str, int, int | None], None]], tuple[dict[str, Any], Path | None]]


def require_submit(principal: Principal, kind: str) -> None:
    """Refuse (``PermissionDeniedError``) a principal who may not submit a job of ``kind``."""
    principal.require(SUBMIT_PERMISSIONS[kind])
    if kind == "matching_round" and not principal.scope.unrestricted:
        raise PermissionDeniedError(
            "A principal whose scope is restricted may not run a matching round on the registry.",
            fix="Ask an administrator (or an officer with an unrestricted scope) to do it.",
        )


@dataclass(frozen=True)
class JobView:
    """A job as its owner (or an administrator) sees it."""

    job_id: str
    kind: str
    owner: str
    owner_role: str
    state: str
    done: int
    total: int | None
    message: str | None
    parameters: dict[str, Any]
    result: dict[str, Any] | None
    error: dict[str, str] | None
    has_report: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


def _plain(value: Any) -> Any:
    """``value`` as plain JSON (numpy scalars unwrapped, NaN as ``None``)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _error_text(exc: BaseException) -> str:
    message = exc.message if isinstance(exc, DongxiError) else str(exc)
    return scrub_debug(message)[:2000]


def _not_found() -> NotFoundError:
    return NotFoundError(
        "No such job (or it belongs to another user).",
        fix="List your jobs with GET /api/v1/jobs.",
    )


def _private_copy(source: BinaryIO, target: Path, *, limit: int) -> int:
    """Copy ``source`` into a new file ``target`` (mode 0600); refuse more than ``limit`` bytes."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    size = 0
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                break
            out.write(chunk)
    if size > limit:
        target.unlink()
        raise InputError(
            f"The uploaded file is larger than {limit} bytes.",
            column="file",
            rule="max_input_bytes",
            fix="Split the file, or raise DONGXI_MAX_INPUT_BYTES.",
        )
    return size


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobRunner:
    """The job pool of one server process on one registry.

    ``settings`` (default: those in force) give the jobs folder and the number of workers; every
    job runs with them in force.
    """

    def __init__(
        self, engine: Engine, *, settings: Settings | None = None, workers: int | None = None
    ) -> None:
        self.engine = engine
        self.settings = settings or get_settings()
        self.runner_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._pool = ThreadPoolExecutor(
            max_workers=workers or self.settings.job_workers, thread_name_prefix="dongxi-job"
        )
        self._progress: dict[str, tuple[int, int | None, str | None]] = {}
        self._lock = threading.Lock()
        _LIVE.add(self.runner_id)

    # ----------------------------------------------------------------- life of the process
    def recover(self) -> int:
        """Mark failed (``interrupted``) the unfinished jobs of dead processes on this host;
        how many were. Jobs of runners alive in this process or of live processes are left."""
        from dongxi.store._jobs import fail_jobs, unfinished_jobs
        from dongxi.store.base import utcnow

        host = socket.gethostname()
        dead = []
        for job_id, runner in unfinished_jobs(self.engine, ("queued", "running")):
            their_host, _, rest = runner.partition(":")
            pid_text, _, _ = rest.partition(":")
            if their_host != host or runner in _LIVE or not pid_text.isdigit():
                continue
            pid = int(pid_text)
            if pid == os.getpid() or not _alive(pid):
                dead.append(job_id)
        count = fail_jobs(
            self.engine,
            dead,
            from_states=("queued", "running"),
            error_class=INTERRUPTED,
            message="The server process running this job ended before the job did.",
            at=utcnow(),
        )
        if count:
            log.warning("marked %d interrupted job(s) failed", count)
        self.purge_expired_uploads()
        return count

    def close(self, *, wait: bool = True) -> None:
        """Stop taking jobs; with ``wait``, let the running and queued ones finish first."""
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
        _LIVE.discard(self.runner_id)

    # ----------------------------------------------------------------------- submission
    @property
    def folder(self) -> Path:
        """The jobs folder: ``DONGXI_DATA_DIR/jobs``."""
        return self.settings.data_dir / "jobs"

    def _job_folder(self, job_id: str) -> Path:
        self.folder.parent.mkdir(parents=True, exist_ok=True)  # DONGXI_DATA_DIR, if new
        for path in (self.folder, self.folder / job_id):
            path.mkdir(mode=_FOLDER_MODE, exist_ok=True)
            path.chmod(_FOLDER_MODE)
        return self.folder / job_id

    def _submit(
        self,
        principal: Principal,
        kind: str,
        parameters: dict[str, Any],
        work: Work,
        *,
        job_id: str | None = None,
    ) -> str:
        from dongxi.store._jobs import add_job

        job_id = job_id or uuid.uuid4().hex
        add_job(
            self.engine,
            job_id=job_id,
            kind=kind,
            owner=principal.name,
            owner_role=principal.role,
            runner=self.runner_id,
            parameters=_plain(parameters),
        )
        context = contextvars.copy_context()
        try:
            self._pool.submit(context.run, self._run, job_id, work)
        except RuntimeError:  # the pool was shut down: the server is stopping
            from dongxi.store._jobs import fail_jobs
            from dongxi.store.base import utcnow

            message = "The server was stopping and did not start the job."
            fail_jobs(
                self.engine,
                [job_id],
                from_states=("queued",),
                error_class=INTERRUPTED,
                message=message,
                at=utcnow(),
            )
            raise BackendError(message, fix="Submit the job again once the server is up.") from None
        return job_id

    def submit_import(
        self,
        principal: Principal,
        *,
        upload: BinaryIO,
        filename: str,
        kind: str | None = None,
        partial: bool = False,
        check: bool = False,
    ) -> str:
        """Save an uploaded CSV/XLSX file (0600) and import it in the background. The result
        holds each kind's counts and, when cells were rejected, the error report's file.

        With ``check`` the job only validates (nothing is written): the file stays in the job's
        folder until :meth:`confirm_import` imports it, :meth:`discard_upload` removes it, or it
        expires (:data:`UPLOAD_HOURS`); a file with rejected cells is removed at once (there is
        nothing to confirm)."""
        require_submit(principal, "import")
        self.purge_expired_uploads()
        from dongxi.services.imports import parse_kind

        if kind is not None:
            parse_kind(kind)
        suffix = Path(filename).suffix.lower()
        if suffix not in IMPORT_SUFFIXES:
            raise InputError(
                "An import job takes a CSV or XLSX file.",
                column="file",
                value=suffix or None,
                rule="file_type",
                fix=f"Upload a file ending in {' or '.join(IMPORT_SUFFIXES)}.",
            )
        job_id = uuid.uuid4().hex
        folder = self._job_folder(job_id)
        source = folder / f"input{suffix}"
        try:
            size = _private_copy(upload, source, limit=self.settings.max_input_bytes)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        parameters = {
            "kind": kind,
            "partial": partial,
            "file_type": suffix,
            "bytes": size,
            "check": check,
        }
        work = self._import_work(principal, source, kind=kind, partial=partial, check=check)
        return self._submit(principal, "import", parameters, work, job_id=job_id)

    def _import_work(
        self,
        principal: Principal,
        source: Path,
        *,
        kind: str | None,
        partial: bool,
        check: bool,
        confirms: str | None = None,
    ) -> Work:
        from dongxi.services.imports import import_file

        report = source.parent / "report.csv"

        def work(
            progress: Callable[[str, int, int | None], None],
        ) -> tuple[dict[str, Any], Path | None]:
            try:
                outcome = import_file(
                    principal=principal,
                    file=source,
                    kind=kind,
                    partial=partial,
                    report=report,
                    engine=self.engine,
                    progress=lambda what, done, total: progress(str(what), done, total),
                    check=check,
                )
            except BaseException:
                if check or confirms is not None:  # nothing left to confirm: not kept
                    source.unlink(missing_ok=True)
                raise
            if outcome.report is not None:
                outcome.report.chmod(_FILE_MODE)
            if confirms is not None or (check and outcome.errors):
                source.unlink(missing_ok=True)  # imported, or nothing to confirm: not kept
            kinds = {
                str(k): {
                    "rows": r.rows,
                    "created": r.created,
                    "updated": r.updated,
                    "unchanged": r.unchanged,
                    "rejected_rows": r.rejected_rows,
                    "rejected_cells": len(r.errors),
                    "written": r.written,
                }
                for k, r in outcome.results.items()
            }
            summary = {
                "kinds": kinds,
                "ignored_sheets": len(outcome.ignored),
                "rejected_cells": len(outcome.errors),
                "written": any(r.written for r in outcome.results.values()),
                "report": outcome.report is not None,
                "check": check,
            }
            if confirms is not None:
                summary["confirms"] = confirms
            return summary, outcome.report

        return work

    def _upload_of(self, job: Job) -> Path | None:
        """The kept file of a checked upload (``None`` once imported, removed or expired)."""
        folder = self.folder / job.job_id
        suffix = str((job.parameters or {}).get("file_type") or "")
        if suffix not in IMPORT_SUFFIXES:
            return None
        path = folder / f"input{suffix}"
        return path if path.is_file() else None

    def upload_waiting(self, session: Session, principal: Principal, job_id: str) -> bool:
        """Whether a checked upload of the principal can still be confirmed: the check
        succeeded without a rejected cell and its file is kept."""
        job = self._visible(session, principal, job_id)
        return (
            job.kind == "import"
            and bool((job.parameters or {}).get("check"))
            and job.state == "succeeded"
            and not (job.result or {}).get("rejected_cells")
            and self._upload_of(job) is not None
        )

    def confirm_import(self, session: Session, principal: Principal, job_id: str) -> str:
        """Import a checked upload (all or nothing, validated again) in a new job; its file
        moves to the new job's folder and is removed when that job ends. ``ConflictError`` when
        the upload is no longer waiting (confirmed, cancelled, expired or rejected)."""
        require_submit(principal, "import")
        from dongxi.errors import ConflictError

        job = self._visible(session, principal, job_id)
        params = dict(job.parameters or {})
        if not self.upload_waiting(session, principal, job_id):
            raise ConflictError(
                "This upload cannot be imported: it was not checked cleanly, or it was already "
                "imported, cancelled or expired.",
                fix="Upload the file again.",
            )
        source = self._upload_of(job)
        assert source is not None
        new_id = uuid.uuid4().hex
        target = self._job_folder(new_id) / source.name
        try:
            source.rename(target)  # atomic: a second confirmation finds no file
        except FileNotFoundError:
            raise ConflictError(
                "This upload was confirmed or cancelled meanwhile.",
                fix="Open the import's page again.",
            ) from None
        kind = params.get("kind")
        work = self._import_work(
            principal, target, kind=kind, partial=False, check=False, confirms=job_id
        )
        parameters = {
            "kind": kind,
            "partial": False,
            "file_type": params.get("file_type"),
            "bytes": params.get("bytes"),
            "check": False,
            "confirms": job_id,
        }
        return self._submit(principal, "import", parameters, work, job_id=new_id)

    def discard_upload(self, session: Session, principal: Principal, job_id: str) -> bool:
        """Remove the kept file of a checked upload (cancel); whether there was one."""
        job = self._visible(session, principal, job_id)
        if job.kind != "import":
            raise _not_found()
        path = self._upload_of(job)
        if path is None:
            return False
        path.unlink(missing_ok=True)
        return True

    def purge_expired_uploads(self, *, now: float | None = None) -> int:
        """Remove kept upload files older than :data:`UPLOAD_HOURS`; how many were."""
        if not self.folder.is_dir():
            return 0
        limit = (now if now is not None else time.time()) - UPLOAD_HOURS * 3600
        count = 0
        for suffix in IMPORT_SUFFIXES:
            for path in self.folder.glob(f"*/input{suffix}"):
                try:
                    if path.stat().st_mtime < limit:
                        path.unlink()
                        count += 1
                except FileNotFoundError:
                    continue
        return count

    def report_rows(
        self, session: Session, principal: Principal, job_id: str, *, limit: int = 200
    ) -> tuple[list[dict[str, Any]], int]:
        """The first ``limit`` rejected cells of an import job's report (row, column, value,
        rule, messages) and how many there are in all."""
        import pandas as pd

        path = self.report(session, principal, job_id)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        rows = [{str(k): v for k, v in rec.items()} for rec in frame.head(limit).to_dict("records")]
        return rows, len(frame)

    def submit_snapshot(
        self, principal: Principal, *, as_of: dt.date | None = None, label: str | None = None
    ) -> str:
        """Write a snapshot of the registry under the job's folder in the background."""
        require_submit(principal, "snapshot")
        from dongxi.services.snapshots import take_snapshot

        job_id = uuid.uuid4().hex

        def work(
            progress: Callable[[str, int, int | None], None],
        ) -> tuple[dict[str, Any], Path | None]:
            progress("snapshot", 0, 1)
            folder = self._job_folder(job_id) / "snapshot"
            info = take_snapshot(
                principal=principal, folder=folder, as_of=as_of, label=label, engine=self.engine
            )
            progress("snapshot", 1, 1)
            rows = {name: entry["rows"] for name, entry in info.manifest["tables"].items()}
            return {"snapshot_id": info.snapshot_id, "rows": rows}, info.folder

        parameters = {"as_of": as_of.isoformat() if as_of else None, "label": label}
        return self._submit(principal, "snapshot", parameters, work, job_id=job_id)

    def submit_measurement(
        self,
        session: Session,
        principal: Principal,
        *,
        spec: str,
        snapshot_id: str,
        year: int | None = None,
        spec_file: BinaryIO | None = None,
        by: tuple[str, ...] = (),
    ) -> str:
        """Measure a recorded snapshot under a built-in spec (or an uploaded TOML spec,
        ``spec_file``, read and checked before the job is queued) in the background; the full
        table is written as CSV, the headline measures are the result. ``by`` adds groups
        (``county``, ``township``); groups of fewer than ``DONGXI_MIN_CELL`` units are
        suppressed in the stored table (:func:`dongxi.services.measurement.suppress_small`)."""
        require_submit(principal, "measurement")
        from dongxi.measure import builtin_specs, load_spec
        from dongxi.services.measurement import GROUPS, measure_snapshot, suppress_small
        from dongxi.store._jobs import snapshot_folder
        from dongxi.tables import write_table

        for name in by:
            if name not in GROUPS:
                raise InputError(
                    "Unknown grouping of a measurement.",
                    column="by",
                    value=name,
                    rule="by",
                    fix=f"Use one of: {', '.join(GROUPS)}.",
                )
        job_id = uuid.uuid4().hex
        loaded = None
        if spec_file is not None:
            spec_folder = self._job_folder(job_id)
            spec_path = spec_folder / "spec.toml"
            try:
                _private_copy(spec_file, spec_path, limit=self.settings.max_input_bytes)
                loaded = load_spec(spec_path)
            except BaseException:
                shutil.rmtree(spec_folder, ignore_errors=True)
                raise
            spec = loaded.name
        elif spec not in builtin_specs():
            raise InputError(
                "Unknown measurement spec.",
                column="spec",
                value=spec,
                rule="spec",
                fix=f"Use one of: {', '.join(builtin_specs())}.",
            )
        folder = snapshot_folder(session, snapshot_id)
        if folder is None:
            if loaded is not None:
                shutil.rmtree(self.folder / job_id, ignore_errors=True)
            raise NotFoundError(
                "No such snapshot.", fix="Take a snapshot first (POST /api/v1/jobs/snapshots)."
            )
        min_cell = self.settings.min_cell

        def work(
            progress: Callable[[str, int, int | None], None],
        ) -> tuple[dict[str, Any], Path | None]:
            progress("measurement", 0, 1)
            outcome = measure_snapshot(
                principal=principal,
                snapshot=Path(folder),
                spec=loaded if loaded is not None else load_spec(spec),
                year=year,
                by=by,
                source=f"snapshot {snapshot_id}",
            )
            out = self._job_folder(job_id) / "measures.csv"
            table = suppress_small(outcome.result, min_cell) if by else outcome.result
            written = write_table(table, out, option="result")
            written.chmod(_FILE_MODE)
            progress("measurement", 1, 1)
            return {"year": outcome.year, "headline": outcome.headline()}, written

        parameters = {
            "spec": spec,
            "snapshot_id": snapshot_id,
            "year": year,
            "uploaded_spec": loaded is not None,
            "by": list(by),
        }
        return self._submit(principal, "measurement", parameters, work, job_id=job_id)

    def result_download(
        self, session: Session, principal: Principal, job_id: str, *, suffix: str
    ) -> Path:
        """The stored table of a succeeded measurement job as ``.csv`` (the stored file) or
        ``.xlsx`` (written once beside it, 0600)."""
        from dongxi.tables import write_table

        table = self.result_table(session, principal, job_id)  # checks owner and state
        job = self._visible(session, principal, job_id)
        stored = Path(str(job.result_file))
        if suffix == ".csv":
            return stored
        if suffix != ".xlsx":
            raise InputError(
                "A result downloads as CSV or XLSX.",
                column="format",
                value=suffix,
                rule="file_type",
                fix="Ask for .csv or .xlsx.",
            )
        target = stored.with_suffix(".xlsx")
        if not target.is_file():
            write_table(table, target, option="result", private=True)
        return target

    def result_table(self, session: Session, principal: Principal, job_id: str) -> pd.DataFrame:
        """The stored table of a succeeded measurement job (``NotFoundError`` otherwise)."""
        import pandas as pd

        job = self._visible(session, principal, job_id)
        path = Path(job.result_file) if job.kind == "measurement" and job.result_file else None
        if job.state != "succeeded" or path is None or not path.is_file():
            raise NotFoundError(
                "This job has no result table.",
                fix="Only a measurement that succeeded has one; see the job's state.",
            )
        text = {"spec": str, "by": str, "group": str, "measure": str, "indicator": str}
        frame = pd.read_csv(path, dtype=text, keep_default_na=False, encoding="utf-8-sig")
        for column in frame.columns:
            if column not in text:
                frame[column] = pd.to_numeric(frame[column], errors="coerce")
        return frame

    def submit_matching_round(
        self, principal: Principal, *, method: str = "stable", after: str | None = None
    ) -> str:
        """Run and store a matching round (the next one of ``after``) in the background."""
        require_submit(principal, "matching_round")
        from dongxi.services.matching import parse_method, run_round

        name = parse_method(method)

        def work(
            progress: Callable[[str, int, int | None], None],
        ) -> tuple[dict[str, Any], Path | None]:
            progress("matching", 0, 1)
            done = run_round(principal, self.engine, method=name, after=after)
            progress("matching", 1, 1)
            overall = done.overall.iloc[0].to_dict()
            summary = {
                "run_id": done.run_id,
                "round_no": done.round_no,
                "method": done.method,
                "proposals": len(done.proposals),
                "kept": done.kept,
                "overall": overall,
            }
            return summary, None

        return self._submit(principal, "matching_round", {"method": name, "after": after}, work)

    # -------------------------------------------------------------------------- running
    def _move(self, job_id: str, source: str, target: str, **values: Any) -> bool:
        if target not in TRANSITIONS[source]:
            raise ValueError(f"a job may not go from {source} to {target}")
        from dongxi.store._jobs import update_job

        return update_job(self.engine, job_id, from_states=(source,), state=target, **values)

    def _progress_writer(self, job_id: str) -> Callable[[str, int, int | None], None]:
        from dongxi.store._jobs import update_job

        # SQLite has one writer: a separate write while the job's own transaction is open
        # would wait for it, so progress stays in memory there until the job ends.
        persist = self.engine.dialect.name != "sqlite"
        last = [0.0]

        def progress(message: str, done: int, total: int | None) -> None:
            with self._lock:
                self._progress[job_id] = (done, total, message[:200])
            now = time.monotonic()
            if persist and now - last[0] >= _PROGRESS_EVERY:
                last[0] = now
                update_job(
                    self.engine,
                    job_id,
                    from_states=("running",),
                    progress_done=done,
                    progress_total=total,
                    progress_message=message[:200],
                )

        return progress

    def _run(self, job_id: str, work: Work) -> None:
        from dongxi.store.base import utcnow

        with use_settings(self.settings):
            if not self._move(job_id, "queued", "running", started_at=utcnow()):
                return
            state = "failed"
            values: dict[str, Any]
            try:
                summary, result_file = work(self._progress_writer(job_id))
                state = "succeeded"
                values = {
                    "result": _plain(summary),
                    "result_file": None if result_file is None else str(result_file),
                }
            except Exception as exc:  # every failure is the job's outcome, never the server's
                log.warning("job %s failed: %s", job_id, type(exc).__name__)
                values = {"error_class": type(exc).__name__, "error_message": _error_text(exc)}
            values.update(self._last_progress(job_id))
            with self._lock:
                self._progress.pop(job_id, None)
            try:
                self._move(job_id, "running", state, finished_at=utcnow(), **values)
            except Exception as exc:  # the outcome could not be stored: say so, if we can
                log.error(
                    "job %s: its outcome could not be stored (%s)", job_id, type(exc).__name__
                )
                self._move(
                    job_id,
                    "running",
                    "failed",
                    finished_at=utcnow(),
                    error_class=type(exc).__name__,
                    error_message="The job ended but its outcome could not be stored: "
                    + _error_text(exc),
                )

    def _last_progress(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            seen = self._progress.get(job_id)
        if seen is None:
            return {}
        done, total, message = seen
        return {"progress_done": done, "progress_total": total, "progress_message": message}

    # -------------------------------------------------------------------------- reading
    def _visible(self, session: Session, principal: Principal, job_id: str) -> Job:
        from dongxi.store._jobs import get_job

        job = get_job(session, job_id)
        if job is None or (job.owner != principal.name and principal.role != "admin"):
            raise _not_found()
        return job

    def _view(self, job: Job) -> JobView:
        done, total, message = job.progress_done, job.progress_total, job.progress_message
        with self._lock:
            live = self._progress.get(job.job_id)
        if live is not None and job.state == "running":
            done, total, message = live
        error = None
        if job.error_class is not None:
            error = {"class": job.error_class, "message": job.error_message or ""}
        return JobView(
            job_id=job.job_id,
            kind=job.kind,
            owner=job.owner,
            owner_role=job.owner_role,
            state=job.state,
            done=done,
            total=total,
            message=message,
            parameters=dict(job.parameters or {}),
            result=None if job.result is None else dict(job.result),
            error=error,
            has_report=job.kind == "import" and bool((job.result or {}).get("report")),
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )

    def get(self, session: Session, principal: Principal, job_id: str) -> JobView:
        """A job of the principal (any job for an administrator); ``NotFoundError`` otherwise."""
        return self._view(self._visible(session, principal, job_id))

    def list(self, session: Session, principal: Principal, *, limit: int = 50) -> list[JobView]:
        """The principal's newest jobs (everyone's for an administrator)."""
        from dongxi.store._jobs import list_jobs

        owner = None if principal.role == "admin" else principal.name
        return [self._view(j) for j in list_jobs(session, owner=owner, limit=limit)]

    def report(self, session: Session, principal: Principal, job_id: str) -> Path:
        """The error report of an import job (``NotFoundError`` when it has none)."""
        job = self._visible(session, principal, job_id)
        path = Path(job.result_file) if job.kind == "import" and job.result_file else None
        if path is None or not path.is_file():
            raise NotFoundError(
                "This job has no error report.",
                fix="Only an import that rejected cells has one; see the job's result.",
            )
        return path
