"""Helpers shared by the offices' work pages (overview, imports, measurement): the server's job
pool and the words for a job's state. No query of its own: everything goes through
:mod:`dongxi.services`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from dongxi.services.jobs import JobRunner, JobView
from dongxi.services.principal import Principal
from dongxi.web.pages import language, render

__all__ = ["JOB_STATES", "Runner", "job_runner", "job_status", "job_words", "percent"]

#: A job's state in words (zh, en).
JOB_STATES = {
    "queued": ("排队中", "queued"),
    "running": ("进行中", "running"),
    "succeeded": ("已完成", "finished"),
    "failed": ("失败", "failed"),
}
#: What a job does, in words (zh, en).
JOB_KINDS = {
    "import": ("导入", "import"),
    "snapshot": ("快照", "snapshot"),
    "measurement": ("贫困测量", "measurement"),
    "matching_round": ("匹配轮次", "matching round"),
}


def job_runner(request: Request) -> JobRunner:
    """The server process's job pool."""
    runner: JobRunner = request.app.state.jobs
    return runner


Runner = Annotated[JobRunner, Depends(job_runner)]


def job_words(job: JobView, lang: str) -> dict[str, Any]:
    """A job's state, kind and progress for a template."""
    pick = 1 if lang == "en" else 0
    finished = job.state in ("succeeded", "failed")
    share = None
    if job.total:
        share = min(100, round(100 * job.done / job.total))
    elif finished:
        share = 100
    return {
        "state": JOB_STATES.get(job.state, (job.state, job.state))[pick],
        "kind": JOB_KINDS.get(job.kind, (job.kind, job.kind))[pick],
        "finished": finished,
        "percent": share,
    }


def job_status(request: Request, me: Principal, job: JobView, page_url: str) -> HTMLResponse:
    """The progress block of the job shown at ``page_url`` alone (htmx polls it at
    ``{page_url}/status``); once the job ended, the response tells htmx to reload the page."""
    response = render(
        request,
        "_job_status.html",
        me=me,
        title="",
        job=job,
        words=job_words(job, language(request)),
        status_url=f"{page_url}/status",
        page_url=page_url,
    )
    if job.state in ("succeeded", "failed"):
        response.headers["HX-Refresh"] = "true"
    return response


def percent(part: int | None, whole: int | None) -> str | None:
    """``part`` of ``whole`` as a percentage with one decimal (``None`` when either is hidden
    or the whole is zero)."""
    if part is None or whole is None or whole == 0:
        return None
    return f"{100 * part / whole:.1f}%"
