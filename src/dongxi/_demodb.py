"""The demo's registry on PostgreSQL: build it only in an empty database or a previous demo's.

``dongxi demo --url postgresql://…`` (or ``DONGXI_DATABASE_URL``) builds the demo in that
database. The database itself is the administrator's: the demo never creates or drops a
database. It writes its tables into an **empty** database (no table in its schema), first
stamping it with a marker table :data:`MARKER_TABLE` holding the run's random identity. A
database that holds tables is refused, with nothing changed, unless it carries that marker and
holds nothing but the demo's tables (dongxi's registry tables, ``alembic_version`` and the
marker): then ``--force`` drops those tables (and the append-only tables' trigger functions)
and the demo is built again; without ``--force`` it is refused too.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi.errors import InputError

__all__ = ["MARKER_TABLE", "prepare_database"]

#: The table that says "a dongxi demo built this registry" (one row: the run's identity).
MARKER_TABLE = "dongxi_demo_marker"
_SHOWN = 5


def _tables(engine: Engine) -> list[str]:
    return sorted(sa.inspect(engine).get_table_names())


def _demo_tables() -> set[str]:
    import dongxi.store.all_models  # noqa: F401
    from dongxi.store.base import Base

    return {*Base.metadata.tables, "alembic_version", MARKER_TABLE}


def _refuse(message: str, where: str, fix: str) -> InputError:
    return InputError(message, file=where, column="--url", rule="demo_registry", fix=fix)


def _drop_demo(engine: Engine, tables: list[str]) -> None:
    """Drop a previous demo's tables (every one checked to be the demo's) in one transaction.

    Dropped, not downgraded: the migrations' way down checks the registry's ID-number keys,
    which were the previous run's own (in its folder, maybe gone); the append-only tables'
    trigger functions go with them.
    """
    from dongxi.store._append_only import drop_append_only_sql
    from dongxi.store.db import translate_errors

    quote = engine.dialect.identifier_preparer.quote_identifier
    with translate_errors("Removing the previous demo's registry"), engine.begin() as conn:
        for table in tables:
            # names checked against the demo's own tables (plain identifiers)
            for statement in drop_append_only_sql(table, "postgresql"):
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(table)} CASCADE")


def prepare_database(engine: Engine, *, force: bool) -> int:
    """Make the PostgreSQL database of ``engine`` ready for a demo; returns the run's identity.

    Refused (``InputError``, nothing changed): a database holding tables that no demo created,
    or a previous demo's registry without ``force``.
    """
    from dongxi.store.db import public_url, translate_errors

    where = public_url(engine.url)
    with translate_errors("Opening the demo's PostgreSQL registry"):
        present = _tables(engine)
    if present:
        if MARKER_TABLE not in present:
            shown = ", ".join(present[:_SHOWN]) + (
                f" and {len(present) - _SHOWN} more" if len(present) > _SHOWN else ""
            )
            raise _refuse(
                f"The database holds tables that no dongxi demo created ({shown}); the demo "
                "only writes into an empty database or a previous demo's, so nothing was "
                "changed.",
                where,
                "Create an empty database for the demo (createdb dongxi_demo) and pass its URL "
                "with --url.",
            )
        foreign = [t for t in present if t not in _demo_tables()]
        if foreign:
            raise _refuse(
                f"The demo's database also holds tables the demo did not write "
                f"({', '.join(foreign[:_SHOWN])}); --force empties only a demo's registry, so "
                "nothing was changed.",
                where,
                "Move those tables away, or give --url an empty database.",
            )
        if not force:
            raise _refuse(
                "The database already holds a dongxi demo.",
                where,
                "Pass --force to replace it, or give --url another (empty) database.",
            )
        _drop_demo(engine, present)
    demo_id = secrets.randbelow(2**31 - 1) + 1
    marker = sa.Table(
        MARKER_TABLE,
        sa.MetaData(),
        sa.Column("demo_id", sa.Integer, nullable=False),
        sa.Column("about", sa.Text, nullable=False),
    )
    with translate_errors("Marking the demo's PostgreSQL registry"), engine.begin() as conn:
        marker.create(conn)
        conn.execute(
            marker.insert().values(
                demo_id=demo_id,
                about="Written by 'dongxi demo': this registry is a demo's ('--force' replaces "
                "it).",
            )
        )
    return demo_id
