"""Pages: measure poverty on a registry snapshot in the browser — choose a spec (built-in, or
an uploaded TOML file) and a snapshot, run it as a background job, read the headline measures
and the county table with the standard errors and 95% intervals the engine gives (and a chart
of them), download the table as CSV or XLSX.

For analysts and others with ``measure:run``: the results are aggregates; a county with fewer
than ``DONGXI_MIN_CELL`` people is suppressed in the stored table (and so in every download).
Snapshots are listed and taken with ``snapshot:create`` and an unrestricted scope.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from dongxi.api.deps import DbSession
from dongxi.errors import DongxiError, InputError, NotFoundError
from dongxi.services.jobs import JobView, require_submit
from dongxi.services.principal import Principal
from dongxi.services.reference import list_snapshots
from dongxi.services.regions import place_name
from dongxi.web._work import Runner, job_status, job_words
from dongxi.web.pages import PagePrincipal, language, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
JobId = Annotated[str, Path(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")]
#: Measures shown on the page (zh, en); the downloads hold every row the engine gives.
SHOWN = {
    "H": ("贫困发生率 H（多维）", "headcount ratio H"),
    "M0": ("调整后贫困发生率 M0", "adjusted headcount ratio M0"),
    "A": ("平均剥夺份额 A", "intensity A"),
    "FGT0": ("收入贫困发生率 FGT0", "income headcount FGT0"),
    "FGT1": ("贫困距指数 FGT1", "poverty gap FGT1"),
    "FGT2": ("平方贫困距 FGT2", "squared gap FGT2"),
}


def _measurer(me: PagePrincipal) -> Principal:
    """The logged-in principal, refused (403) unless it may measure (checked before the body)."""
    me.require("measure:run")
    return me


def _snapshotter(me: PagePrincipal) -> Principal:
    """The logged-in principal, refused (403) unless it may take snapshots."""
    require_submit(me, "snapshot")
    return me


Measurer = Annotated[Principal, Depends(_measurer)]
Snapshotter = Annotated[Principal, Depends(_snapshotter)]


def _snapshots(db: DbSession, me: Principal) -> list[dict[str, Any]] | None:
    """The snapshots one may measure (``None``: one may not list them)."""
    if not me.can("snapshot:create") or not me.scope.unrestricted:
        return None
    return list_snapshots(db, me, limit=200).items[::-1]


def _specs() -> list[str]:
    from dongxi.measure import builtin_specs

    return list(builtin_specs())


def _form(
    request: Request,
    db: DbSession,
    me: Principal,
    runner: Runner,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = language(request)
    jobs = [
        (j, job_words(j, lang))
        for j in runner.list(db, me, limit=50)
        if j.kind in ("measurement", "snapshot")
    ]
    return render(
        request,
        "measure.html",
        me=me,
        title="Measurement" if lang == "en" else "贫困测量",
        specs=_specs(),
        snapshots=_snapshots(db, me),
        may_snapshot=me.can("snapshot:create") and me.scope.unrestricted,
        jobs=jobs,
        error=error,
        status_code=status_code,
    )


@router.get("/measure")
def measure_page(request: Request, db: DbSession, me: Measurer, runner: Runner) -> HTMLResponse:
    """The form: spec, snapshot, year; one's recent measurements and snapshots."""
    return _form(request, db, me, runner)


def _error_words(exc: DongxiError, lang: str) -> str:
    if lang == "en":
        return exc.message + (f" {exc.fix}" if exc.fix else "")
    return "无法开始测量，请检查所选方案、快照和年份。原因（英文）：" + exc.message


@router.post("/measure")
def run_measure(
    request: Request,
    db: DbSession,
    me: Measurer,
    runner: Runner,
    snapshot_id: Annotated[str, Form(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_.:-]+$")],
    spec: Annotated[str, Form(max_length=100)] = "",
    year: Annotated[str, Form(max_length=4)] = "",
    spec_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Queue a measurement by county; to the job's page."""
    lang = language(request)
    upload = spec_file if spec_file is not None and spec_file.filename else None
    try:
        year_value = _year(year)
        if upload is None and not spec:
            raise InputError(
                "Choose a built-in spec or upload a TOML spec.", column="spec", rule="spec"
            )
        job_id = runner.submit_measurement(
            db,
            me,
            spec=spec,
            snapshot_id=snapshot_id,
            year=year_value,
            spec_file=upload.file if upload is not None else None,
            by=("county",),
        )
    except (InputError, NotFoundError) as exc:
        return _form(request, db, me, runner, error=_error_words(exc, lang), status_code=422)
    return RedirectResponse(f"/measure/{job_id}", status_code=303)


def _year(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 1990 <= int(text) <= 2100:
        raise InputError("The year is not a year.", column="year", value=text, rule="year")
    return int(text)


@router.post("/measure/snapshots")
def take_snapshot(
    db: DbSession,
    me: Snapshotter,
    runner: Runner,
    label: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    """Queue a snapshot of the registry; to the job's page."""
    job_id = runner.submit_snapshot(me, label=label or None)
    return RedirectResponse(f"/measure/{job_id}", status_code=303)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _tables(
    runner: Runner, db: DbSession, me: Principal, job: JobView, lang: str
) -> dict[str, Any]:
    """The overall and county tables of a finished measurement."""
    table = runner.result_table(db, me, job.job_id)
    pick = 1 if lang == "en" else 0
    table = table[table["measure"].isin(list(SHOWN)) & (table["indicator"].fillna("") == "")]
    overall: list[dict[str, Any]] = []
    counties: dict[str, list[dict[str, Any]]] = {}
    for rec in table.to_dict("records"):
        row = {
            "measure": str(rec["measure"]),
            "label": SHOWN[str(rec["measure"])][pick],
            "k": _number(rec.get("k")),
            "estimate": _number(rec.get("estimate")),
            "se": _number(rec.get("se")),
            "low": _number(rec.get("ci_low")),
            "high": _number(rec.get("ci_high")),
            "n": _number(rec.get("n")),
            "suppressed": str(rec.get("suppressed", "")).lower() == "true",
        }
        by = str(rec.get("by") or "")
        if not by:
            overall.append(row)
        elif by == "county":
            row["group"] = str(rec["group"])
            row["place"] = place_name(str(rec["group"]))
            counties.setdefault(str(rec["measure"]), []).append(row)
    return {"overall": overall, "counties": counties}


@router.get("/measure/{job_id}")
def measure_job(
    request: Request, job_id: JobId, db: DbSession, me: Measurer, runner: Runner
) -> HTMLResponse:
    """A measurement (or snapshot) job: progress, then the tables and the chart."""
    lang = language(request)
    job = runner.get(db, me, job_id)
    if job.kind not in ("measurement", "snapshot"):
        raise NotFoundError("No such measurement.", fix="Open it from the measurement page.")
    tables = None
    if job.kind == "measurement" and job.state == "succeeded":
        tables = _tables(runner, db, me, job, lang)
    return render(
        request,
        "measure_job.html",
        me=me,
        title=("Measurement" if lang == "en" else "测量结果")
        if job.kind == "measurement"
        else ("Snapshot" if lang == "en" else "快照"),
        job=job,
        words=job_words(job, lang),
        tables=tables,
        shown=SHOWN,
        failure=None if job.error is None else job.error["message"],
    )


@router.get("/measure/{job_id}/status")
def measure_status(
    request: Request, job_id: JobId, db: DbSession, me: Measurer, runner: Runner
) -> HTMLResponse:
    """The progress block alone (polled by htmx); once the job ended, htmx reloads the page."""
    return job_status(request, me, runner.get(db, me, job_id), f"/measure/{job_id}")


@router.get("/measure/{job_id}/result.{fmt}")
def measure_download(
    job_id: JobId, fmt: str, db: DbSession, me: Measurer, runner: Runner
) -> FileResponse:
    """The result table (small counties suppressed) as CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        raise NotFoundError("No such download.", fix="Use result.csv or result.xlsx.")
    path = runner.result_download(db, me, job_id, suffix=f".{fmt}")
    media = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return FileResponse(path, media_type=media, filename=f"measures-{job_id[:8]}.{fmt}")
