"""Running the web service: checks before start, then uvicorn on the app."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from dongxi.errors import BackendError, InputError

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.engine import Engine

__all__ = ["app_from_environment", "serve"]

log = logging.getLogger(__name__)

_URL_VAR = "DONGXI_SERVE_URL"


def _ready_engine(url: str | None) -> Engine:
    from dongxi.store.db import current_revision, head_revision, make_engine, public_url

    engine = make_engine(url, must_exist=True)
    current = current_revision(engine)
    if current is None or current != head_revision():
        engine.dispose()
        raise BackendError(
            f"The registry at {public_url(engine.url)} is not at the current schema "
            f"(revision {current}).",
            fix="Run 'dongxi db upgrade' first, then 'dongxi user add NAME --role admin'.",
        )
    return engine


def app_from_environment() -> FastAPI:
    """The app for uvicorn's worker processes (registry URL from the parent's environment)."""
    from dongxi.api.app import create_app

    return create_app(_ready_engine(os.environ.get(_URL_VAR) or None), warm=True)


def serve(*, url: str | None, host: str, port: int, workers: int = 1) -> None:
    """Start uvicorn; several workers need PostgreSQL (SQLite has one writer)."""
    import uvicorn

    engine = _ready_engine(url)
    if workers < 1:
        raise InputError("--workers must be at least 1.", column="--workers", value=workers)
    if workers > 1:
        if engine.dialect.name == "sqlite":
            engine.dispose()
            raise InputError(
                "Several workers need PostgreSQL; SQLite serves one process.",
                column="--workers",
                value=workers,
                fix="Use --workers 1, or a PostgreSQL registry (--url postgresql+psycopg://…).",
            )
        engine.dispose()
        if url:
            os.environ[_URL_VAR] = url
        uvicorn.run(
            "dongxi.services.service:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            log_level="info",
        )
        return
    from dongxi.api.app import create_app

    log.info("serving on http://%s:%d", host, port)
    uvicorn.run(
        create_app(engine, warm=True), host=host, port=port, proxy_headers=True, log_level="info"
    )
