"""Where analytics run: Ibis connections (DuckDB by default, PostgreSQL) and their capabilities.

``connect(url)`` takes ``duckdb://`` (in memory, the default), ``duckdb:///path/file.duckdb`` or
``postgresql://…`` (also SQLAlchemy's ``postgresql+psycopg://…``). Backends are imported lazily.
Code in the engines never asks which backend it runs on; it reads :class:`Capabilities` flags.
"""

from dongxi.analytics._connect import Backend, Capabilities, connect

__all__ = ["Backend", "Capabilities", "connect"]
