"""Append-only tables: database triggers that refuse UPDATE and DELETE (and TRUNCATE).

One definition for every append-only table (the change log, its seals, the market's transitions),
used by the migrations that create them. PostgreSQL: a PL/pgSQL trigger function per table that
raises ``insufficient_privilege``, fired BEFORE UPDATE OR DELETE per row and BEFORE TRUNCATE per
statement. SQLite: one ``RAISE(ABORT)`` trigger per verb (SQLite has no TRUNCATE). The message is
``<table> is append-only: <verb> refused`` on both.
"""

from __future__ import annotations

__all__ = ["append_only_sql", "drop_append_only_sql"]


def append_only_sql(table: str, dialect: str) -> list[str]:
    """The statements that make ``table`` append-only on ``dialect`` (``postgresql``/``sqlite``)."""
    if dialect == "postgresql":
        function = f"dongxi_{table}_append_only"
        return [
            f"""
CREATE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    return [
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
        for verb in ("UPDATE", "DELETE")
    ]


def drop_append_only_sql(table: str, dialect: str) -> list[str]:
    """The statements that undo :func:`append_only_sql`."""
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"DROP FUNCTION IF EXISTS dongxi_{table}_append_only()",
        ]
    return [f"DROP TRIGGER IF EXISTS {table}_no_{verb}" for verb in ("update", "delete")]
