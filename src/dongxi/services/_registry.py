"""Opening the registry for a use case (private to :mod:`dongxi.services`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from dongxi.errors import BackendError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["registry"]


@contextmanager
def registry(
    url: str | None = None, *, engine: Engine | None = None, at_head: bool = True
) -> Iterator[Engine]:
    """The given ``engine`` (left open), or an engine on ``url`` disposed of at the end.

    A SQLite registry that does not exist is refused (``BackendError``: run ``dongxi db
    upgrade``), never created empty. ``at_head`` refuses a registry that is not at the current
    schema (``BackendError``: run ``dongxi db upgrade``); use cases never change the schema.
    """
    if engine is not None:
        yield engine
        return
    from dongxi.store.db import current_revision, head_revision, make_engine, public_url

    opened = make_engine(url, must_exist=True)
    try:
        if at_head:
            current = current_revision(opened)
            if current is None or current != head_revision():
                raise BackendError(
                    f"The registry at {public_url(opened.url)} is not at the current schema "
                    f"(revision {current}).",
                    fix="Run 'dongxi db upgrade' first (set DONGXI_DATABASE_URL for PostgreSQL).",
                )
        yield opened
    finally:
        opened.dispose()
