"""Background jobs: submit an import, a snapshot, a measurement or a matching round; poll it.

Submitting answers ``202 Accepted`` with the job's id and its ``Location``; the job runs in the
server's job pool (:class:`dongxi.services.jobs.JobRunner`) whatever the client does next. The
permission to submit is checked before the request body is read (a dependency), and again by
the use case when the job runs. A job of another user is 404, like a missing one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from dongxi.api.deps import CurrentPrincipal, DbSession
from dongxi.services import jobs as use
from dongxi.services.jobs import JobRunner, JobView
from dongxi.services.principal import Principal

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])

_ID = Path(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")


def _runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.jobs
    return runner


Runner = Annotated[JobRunner, Depends(_runner)]


def _may_submit(kind: str) -> Any:
    def check(me: CurrentPrincipal) -> Principal:
        use.require_submit(me, kind)
        return me

    return Depends(check)


class Progress(BaseModel):
    """How far a job got."""

    done: int
    total: int | None
    message: str | None


class JobError(BaseModel):
    """Why a job failed: the error's class and its (redacted) message."""

    error_class: str = Field(alias="class")
    message: str


class JobOut(BaseModel):
    """A job: state, progress, and once done its stored result or error."""

    job_id: str
    kind: str
    owner: str
    owner_role: str
    state: str
    progress: Progress
    parameters: dict[str, Any]
    result: dict[str, Any] | None
    error: JobError | None
    report_url: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class Submitted(BaseModel):
    """A job was queued: poll ``url``."""

    job_id: str
    state: str
    url: str


class SnapshotJob(BaseModel):
    """A snapshot of the registry (as of a date, default today)."""

    as_of: dt.date | None = None
    label: str | None = Field(default=None, max_length=200)


class MeasurementJob(BaseModel):
    """Measure a recorded snapshot under a built-in spec."""

    spec: str = Field(min_length=1, max_length=100, pattern=r"^[0-9A-Za-z_.-]+$")
    snapshot_id: str = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_.:-]+$")
    year: int | None = Field(default=None, ge=1990, le=2100)


class MatchingJob(BaseModel):
    """A matching round on the registry's current needs and job offers."""

    method: Literal["stable", "optimal"] = "stable"
    after: str | None = Field(default=None, min_length=1, max_length=64)


def _url(job_id: str) -> str:
    return f"/api/v1/jobs/{job_id}"


def _utc(value: dt.datetime) -> dt.datetime:
    """A stored time as UTC with its offset (SQLite returns times without their zone)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _out(view: JobView) -> JobOut:
    return JobOut(
        job_id=view.job_id,
        kind=view.kind,
        owner=view.owner,
        owner_role=view.owner_role,
        state=view.state,
        progress=Progress(done=view.done, total=view.total, message=view.message),
        parameters=view.parameters,
        result=view.result,
        error=None if view.error is None else JobError.model_validate(view.error),
        report_url=f"{_url(view.job_id)}/report" if view.has_report else None,
        created_at=_utc(view.created_at),
        started_at=None if view.started_at is None else _utc(view.started_at),
        finished_at=None if view.finished_at is None else _utc(view.finished_at),
    )


def _accepted(response: Response, job_id: str) -> Submitted:
    response.status_code = 202
    response.headers["Location"] = _url(job_id)
    return Submitted(job_id=job_id, state="queued", url=_url(job_id))


_SUBMITTED: dict[int | str, dict[str, Any]] = {202: {"description": "Queued; poll Location"}}


@router.post(
    "/imports",
    status_code=202,
    response_model=Submitted,
    summary="Import a CSV/XLSX file in the background",
    responses=_SUBMITTED,
)
def submit_import(
    response: Response,
    runner: Runner,
    me: Annotated[Principal, _may_submit("import")],
    file: Annotated[UploadFile, File(description="The CSV or XLSX file")],
    kind: Annotated[str | None, Form(max_length=40)] = None,
    partial: Annotated[bool, Form()] = False,
) -> Submitted:
    """Upload a file; the job validates and imports it (all or nothing unless ``partial``).
    Its result holds the counts per kind and, when cells were rejected, a report to download."""
    job_id = runner.submit_import(
        me, upload=file.file, filename=file.filename or "", kind=kind, partial=partial
    )
    return _accepted(response, job_id)


@router.post(
    "/snapshots",
    status_code=202,
    response_model=Submitted,
    summary="Take a snapshot of the registry in the background",
    responses=_SUBMITTED,
)
def submit_snapshot(
    body: SnapshotJob,
    response: Response,
    runner: Runner,
    me: Annotated[Principal, _may_submit("snapshot")],
) -> Submitted:
    """Write the registry as Parquet plus manifest under the job's folder, verified."""
    return _accepted(response, runner.submit_snapshot(me, as_of=body.as_of, label=body.label))


@router.post(
    "/measurements",
    status_code=202,
    response_model=Submitted,
    summary="Measure a snapshot in the background",
    responses={**_SUBMITTED, 404: {"description": "No such snapshot"}},
)
def submit_measurement(
    body: MeasurementJob,
    response: Response,
    db: DbSession,
    runner: Runner,
    me: Annotated[Principal, _may_submit("measurement")],
) -> Submitted:
    """Alkire–Foster and income measures of a recorded snapshot under a built-in spec."""
    job_id = runner.submit_measurement(
        db, me, spec=body.spec, snapshot_id=body.snapshot_id, year=body.year
    )
    return _accepted(response, job_id)


@router.post(
    "/matching-rounds",
    status_code=202,
    response_model=Submitted,
    summary="Run a matching round in the background",
    responses=_SUBMITTED,
)
def submit_matching_round(
    body: MatchingJob,
    response: Response,
    runner: Runner,
    me: Annotated[Principal, _may_submit("matching_round")],
) -> Submitted:
    """Match current needs with current job offers (the next round of ``after``) and store it."""
    return _accepted(
        response, runner.submit_matching_round(me, method=body.method, after=body.after)
    )


@router.get("", response_model=list[JobOut], summary="My jobs (administrators: all)")
def list_jobs(
    db: DbSession,
    me: CurrentPrincipal,
    runner: Runner,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[JobOut]:
    """The newest jobs first."""
    return [_out(v) for v in runner.list(db, me, limit=limit)]


@router.get(
    "/{job_id}",
    response_model=JobOut,
    summary="A job's state, progress and result",
    responses={404: {"description": "No such job of yours"}},
)
def get_job(
    job_id: Annotated[str, _ID], db: DbSession, me: CurrentPrincipal, runner: Runner
) -> JobOut:
    """Poll this until ``state`` is ``succeeded`` or ``failed``."""
    return _out(runner.get(db, me, job_id))


@router.get(
    "/{job_id}/report",
    response_class=FileResponse,
    summary="The error report of an import job (CSV)",
    responses={404: {"description": "No such job of yours, or no report"}},
)
def job_report(
    job_id: Annotated[str, _ID], db: DbSession, me: CurrentPrincipal, runner: Runner
) -> FileResponse:
    """Every rejected cell: file, row, column, value (masked), rule, messages in zh and en."""
    path = runner.report(db, me, job_id)
    return FileResponse(path, media_type="text/csv", filename=f"job-{job_id}-report.csv")
