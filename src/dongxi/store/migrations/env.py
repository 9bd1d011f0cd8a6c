"""Alembic environment of the registry: runs on the connection given by ``dongxi.store.db``.

``dongxi.store.db.upgrade`` passes its open connection in ``config.attributes["connection"]``;
without one (e.g. the ``alembic`` command with ``-x url=…``) an engine is made from the URL or the
settings.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from dongxi.store.all_models import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from dongxi.store.db import make_engine

    url = context.get_x_argument(as_dictionary=True).get("url")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("dongxi migrations run online only: use 'dongxi db upgrade'.")
run_migrations_online()
