"""Pages: import a CSV/XLSX file in the browser — upload, read the validation report, download
the error file, then confirm or cancel.

The same rules as ``dongxi import``: a file is first *checked* (planned and validated against
the registry, nothing written) in a background job; a file with any rejected cell cannot be
confirmed (all or nothing); confirming imports it in a second job, which validates again in the
transaction that writes. The uploaded file is kept in the job's private folder (0700/0600) only
while it waits for the confirmation: removed on confirm (after the import), on cancel, when its
check rejected cells, or after :data:`dongxi.services.jobs.UPLOAD_HOURS`. Size limit:
``DONGXI_MAX_INPUT_BYTES``. Permission ``registry:import``; a job of another user is "not found".
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from dongxi.api.deps import DbSession
from dongxi.errors import DongxiError, NotFoundError
from dongxi.intake.columns import KINDS
from dongxi.services.imports import parse_kind
from dongxi.services.jobs import UPLOAD_HOURS, JobView
from dongxi.services.principal import Principal
from dongxi.settings import get_settings
from dongxi.web._work import Runner, job_status, job_words
from dongxi.web.pages import PagePrincipal, language, render

__all__ = ["KIND_LABELS", "router"]

router = APIRouter(include_in_schema=False)
_ID = Path(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")
JobId = Annotated[str, _ID]
#: Words for each kind of table (zh, en); the upload form lists them in the order of
#: :data:`dongxi.intake.columns.KINDS` (a test checks that every kind has its words).
KIND_LABELS: dict[str, tuple[str, str]] = {
    "households": ("农户", "households"),
    "people": ("家庭成员", "people"),
    "income": ("收入台账", "income"),
    "income_months": ("月度收支", "monthly income and spending"),
    "measures": ("帮扶措施", "measures"),
    "partners": ("东部协作单位", "partners"),
    "helpers": ("帮扶责任人", "helpers"),
    "needs": ("帮扶需求", "needs"),
    "offers": ("岗位与培训名额", "offers"),
}
#: Rejected cells shown on the page (all of them are in the error file).
SHOWN_ERRORS = 200


def _importer(me: PagePrincipal) -> Principal:
    """The logged-in principal, refused (403) unless it may import (checked before the body)."""
    me.require("registry:import")
    return me


Importer = Annotated[Principal, Depends(_importer)]


def _kinds(lang: str) -> list[tuple[str, str]]:
    pick = 1 if lang == "en" else 0
    return [(k, KIND_LABELS[k][pick]) for k in KINDS]


def _imports_page(
    request: Request,
    db: DbSession,
    me: Importer,
    runner: Runner,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The upload form (with ``error`` above it) and one's recent imports."""
    lang = language(request)
    jobs: list[JobView] = [j for j in runner.list(db, me, limit=50) if j.kind == "import"]
    return render(
        request,
        "imports.html",
        me=me,
        title="Imports" if lang == "en" else "数据导入",
        kinds=_kinds(lang),
        jobs=[(j, job_words(j, lang)) for j in jobs],
        max_mb=round(get_settings().max_input_bytes / 1_000_000, 1),
        upload_hours=UPLOAD_HOURS,
        error=error,
        status_code=status_code,
    )


@router.get("/imports")
def imports_page(request: Request, db: DbSession, me: Importer, runner: Runner) -> HTMLResponse:
    """The upload form and one's recent imports."""
    return _imports_page(request, db, me, runner)


@router.post("/imports")
def upload(
    request: Request,
    db: DbSession,
    me: Importer,
    runner: Runner,
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Save the file privately and check it in a background job; to the job's page."""
    lang = language(request)
    try:
        if kind:
            parse_kind(kind)
        job_id = runner.submit_import(
            me, upload=file.file, filename=file.filename or "", kind=kind or None, check=True
        )
    except DongxiError as exc:  # shown on the form, in the page's language
        return _imports_page(
            request, db, me, runner, error=_upload_error(exc, lang), status_code=422
        )
    return RedirectResponse(f"/imports/{job_id}", status_code=303)


def _upload_error(exc: DongxiError, lang: str) -> str:
    if lang == "en":
        return exc.message + (f" {exc.fix}" if exc.fix else "")
    rule = getattr(exc, "rule", None)
    words = {
        "max_input_bytes": "文件超过了允许的大小（DONGXI_MAX_INPUT_BYTES）。请拆分文件后分别导入。",
        "file_type": "只能导入 CSV 或 XLSX 文件。请另存为其中一种格式后再上传。",
        "kind": "表的类型不正确。请选择“自动识别”或正确的表类型。",
    }
    return words.get(str(rule), "文件无法接收。") + f"（{exc.message}）"


def _job_context(
    request: Request, db: DbSession, me: Importer, runner: Runner, job_id: str
) -> dict[str, Any]:
    lang = language(request)
    job = runner.get(db, me, job_id)
    if job.kind != "import":
        raise NotFoundError("No such import.", fix="Open it from the imports page.")
    errors: list[dict[str, Any]] = []
    total_errors = 0
    if job.has_report:
        errors, total_errors = runner.report_rows(db, me, job_id, limit=SHOWN_ERRORS)
    result = job.result or {}
    pick = 1 if lang == "en" else 0
    kinds = [
        (KIND_LABELS.get(k, (k, k))[pick], counts)
        for k, counts in (result.get("kinds") or {}).items()
    ]
    return {
        "job": job,
        "words": job_words(job, lang),
        "errors": errors,
        "total_errors": total_errors,
        "kinds": kinds,
        "check": bool(job.parameters.get("check")),
        "waiting": runner.upload_waiting(db, me, job_id),
        "failure": _failure(job, lang),
        "confirms": job.parameters.get("confirms"),
        "upload_hours": UPLOAD_HOURS,
    }


def _failure(job: JobView, lang: str) -> str | None:
    if job.error is None:
        return None
    message = job.error["message"]
    if lang == "en":
        return message
    return "文件未能读取或导入，没有写入任何数据。原因（英文）：" + message


@router.get("/imports/{job_id}")
def import_job(
    request: Request, job_id: JobId, db: DbSession, me: Importer, runner: Runner
) -> HTMLResponse:
    """An import: its progress, then its validation report and the confirm / cancel forms."""
    lang = language(request)
    context = _job_context(request, db, me, runner, job_id)
    return render(
        request,
        "import_job.html",
        me=me,
        title="Import" if lang == "en" else "导入结果",
        **context,
    )


@router.get("/imports/{job_id}/status")
def import_status(
    request: Request, job_id: JobId, db: DbSession, me: Importer, runner: Runner
) -> HTMLResponse:
    """The progress block alone (polled by htmx); once the job ended, htmx reloads the page."""
    return job_status(request, me, runner.get(db, me, job_id), f"/imports/{job_id}")


@router.get("/imports/{job_id}/errors.csv")
def import_errors(job_id: JobId, db: DbSession, me: Importer, runner: Runner) -> FileResponse:
    """The error file: every rejected cell (file, row, column, value, rule, zh, en), CSV."""
    path = runner.report(db, me, job_id)
    return FileResponse(
        path, media_type="text/csv; charset=utf-8", filename=f"import-errors-{job_id[:8]}.csv"
    )


@router.post("/imports/{job_id}/confirm")
def confirm(job_id: JobId, db: DbSession, me: Importer, runner: Runner) -> RedirectResponse:
    """Import a cleanly checked upload (a new job); to its page."""
    new_id = runner.confirm_import(db, me, job_id)
    return RedirectResponse(f"/imports/{new_id}", status_code=303)


@router.post("/imports/{job_id}/cancel")
def cancel(job_id: JobId, db: DbSession, me: Importer, runner: Runner) -> RedirectResponse:
    """Remove the kept upload; back to the imports."""
    runner.discard_upload(db, me, job_id)
    return RedirectResponse("/imports", status_code=303)
