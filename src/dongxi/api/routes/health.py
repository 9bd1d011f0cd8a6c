"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dongxi.errors import DongxiError
from dongxi.store.db import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    """Always ``{"status": "ok"}`` while the process serves requests."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: database reachable and schema at head",
    responses={503: {"description": "Database unreachable or schema behind"}},
)
def readyz(request: Request) -> Any:
    """200 when the registry answers and its schema is at this version's head, else 503."""
    head = head_revision()
    try:
        current = current_revision(request.app.state.engine)
    except DongxiError:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    if current != head:
        return JSONResponse(
            {"status": "unavailable", "schema": current, "expected": head}, status_code=503
        )
    return {"status": "ready", "schema": current}
