"""CLI command ``dongxi serve``: the web service (FastAPI under uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["register"]


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    url: Annotated[
        str | None,
        typer.Option("--url", help="Registry URL (default: DONGXI_DATABASE_URL or ./dongxi.db)."),
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only).")] = 1,
) -> None:
    """Serve the registry's API (and pages) on HOST:PORT; /api/docs lists the API."""
    from dongxi.services.service import serve

    serve(url=url, host=host, port=port, workers=workers)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the main app."""
    app.command("serve")(serve_command)
