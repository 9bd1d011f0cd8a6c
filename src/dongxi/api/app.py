"""The FastAPI application of ``dongxi serve``.

:func:`create_app` builds the app on one registry engine: routers per resource, one error handler
family (problem+json), security headers on every response. Routes parse, call one use case from
:mod:`dongxi.services` and present the result; they never build SQL.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dongxi import __version__
from dongxi.api.problems import document_problems, register_handlers
from dongxi.api.routes import auth, changes, health, jobs, lists, monitoring, registry
from dongxi.services.jobs import JobRunner
from dongxi.settings import get_settings
from dongxi.web import (
    STATIC_DIR,
    household_pages,
    import_pages,
    market_pages,
    measure_pages,
    notice_pages,
    overview_pages,
    pages,
)

__all__ = ["SECURITY_HEADERS", "create_app"]

#: Sent with every response. The CSP allows no inline script and no foreign origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
}
_DOCS_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>dongxi API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/js/swagger-init.js"></script></body></html>
"""


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response (static files may be cached an hour).

    A plain ASGI middleware: it only rewrites the response's start message, so it holds no
    streams of its own (Starlette's ``BaseHTTPMiddleware`` would put every body through memory
    streams).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if static:
                    headers["Cache-Control"] = "public, max-age=3600"
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AdmissionLimit:
    """At most ``limit`` requests of one worker are inside the app at once; the others wait at
    the door in arrival order (an ``asyncio.Semaphore``, which wakes its waiters first come,
    first served).

    ``limit`` is the number of pooled database connections the requests can count on (the pool
    less the background jobs' share). Without it, under saturation, more requests than
    connections were inside at once and waited in SQLAlchemy's pool, which does not serve its
    waiters in order: a few requests lost every race for a freed connection and waited 30 s
    (the pool's timeout) while the others were answered in under a second (docs/benchmarks.md,
    "Service"). Static files and ``/healthz`` need no connection and pass freely.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = max(1, limit)
        self._doors: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _door(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()  # one per loop: tests run an app in several
        door = self._doors.get(loop)
        if door is None:
            door = self._doors[loop] = asyncio.Semaphore(self.limit)
        return door

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith("/static/") or path == "/healthz":
            await self.app(scope, receive, send)
            return
        async with self._door():
            await self.app(scope, receive, send)


def request_capacity(engine: Engine, job_workers: int) -> int:
    """How many requests can hold a pooled connection at once: the pool's connections (with
    its overflow) less one per background job worker; at least 1."""
    pool = engine.pool
    size = getattr(pool, "size", None)
    if not callable(size):  # a pool without a size (NullPool, StaticPool): no pool to wait
        return 64  # in; a bound all the same
    connections = int(size()) + max(0, int(getattr(pool, "_max_overflow", 0)))
    return max(1, connections - job_workers)


def create_app(engine: Engine, *, warm: bool = False) -> FastAPI:
    """The application serving the registry behind ``engine``.

    Its job pool starts with it (marking the jobs of dead processes failed) and, at shutdown,
    lets the jobs it holds finish. With ``warm`` (``dongxi serve``), the start also does what a
    first request would otherwise do (:func:`dongxi.web.pages.warm_up`: the templates compiled,
    the division names and policy figures loaded), before the worker takes connections, so the
    first users of a new worker do not wait seconds behind it.
    """
    settings = get_settings()  # the app keeps the settings in force when it was made

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        # a pool per start: an app started again after a shutdown (tests) takes jobs again
        runner = JobRunner(engine, settings=settings)
        started.state.jobs.close(wait=False)  # the placeholder made with the app never ran a job
        started.state.jobs = runner
        runner.recover()
        if warm:
            pages.warm_up()
        try:
            yield
        finally:
            runner.close(wait=True)

    app = FastAPI(
        lifespan=lifespan,
        title="dongxi 东西",
        version=__version__,
        summary="East–West collaboration in poverty alleviation (东西部协作): the registry's API",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.jobs = JobRunner(engine, settings=settings)  # the lifespan's replaces it at start
    register_handlers(app)

    app.add_middleware(AdmissionLimit, limit=request_capacity(engine, settings.job_workers))
    app.add_middleware(SecurityHeaders)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """The API reference (Swagger UI, vendored; no inline script)."""
        return HTMLResponse(_DOCS_PAGE)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(registry.router)
    app.include_router(changes.router)
    app.include_router(jobs.router)
    app.include_router(lists.router)
    app.include_router(monitoring.router)
    app.include_router(pages.router)
    app.include_router(overview_pages.router)
    app.include_router(import_pages.router)
    app.include_router(measure_pages.router)
    app.include_router(notice_pages.router)
    app.include_router(household_pages.router)
    app.include_router(market_pages.router)
    app.add_exception_handler(pages.LoginRequired, pages.login_required_handler)

    generate_schema = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's schema with every error declared as a problem (cached by FastAPI)."""
        if app.openapi_schema is None:
            document_problems(generate_schema())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
