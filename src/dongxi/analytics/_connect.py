"""Open Ibis backends from URLs; translate their failures to :class:`BackendError`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from dongxi.errors import BackendError, ConfigError

__all__ = ["Backend", "Capabilities", "connect"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, for code that must adapt without naming the backend.

    ``in_memory``: data lives in this process (pandas frames can be registered without copying
    over a network). ``temp_tables``: uploaded tables are session-scoped temporary tables.
    """

    in_memory: bool
    temp_tables: bool


@dataclass(frozen=True)
class Backend:
    """An open Ibis backend with its capability flags."""

    ibis: Any
    url: str
    capabilities: Capabilities

    def table(self, frame: pd.DataFrame, *, name: str) -> Any:
        """Make ``frame`` available to the backend and return it as an Ibis table."""
        try:
            import pyarrow as pa

            arrow = pa.Table.from_pandas(frame, preserve_index=False)
            if self.capabilities.in_memory:
                import ibis

                return ibis.memtable(arrow)
            return self.ibis.create_table(
                name, arrow, temp=self.capabilities.temp_tables, overwrite=True
            )
        except Exception as exc:
            raise BackendError(
                f"Could not load a table into the analytics backend at {_redact(self.url)}: "
                f"{type(exc).__name__}.",
                fix="Check that the server is running and that the data has plain column types.",
            ) from exc

    def execute(self, expr: Any) -> pd.DataFrame:
        """Run an Ibis expression on this backend and return a pandas frame."""
        try:
            out = self.ibis.to_pyarrow(expr).to_pandas()
        except Exception as exc:
            raise BackendError(
                f"The analytics backend at {_redact(self.url)} failed: {type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:200]}",
                fix="Run again with --debug to see the query; check column types in the data.",
            ) from exc
        return out if isinstance(out, pd.DataFrame) else pd.DataFrame(out)

    def close(self) -> None:
        """Disconnect."""
        try:
            self.ibis.disconnect()
        except Exception:  # closing a broken connection must not hide the original error
            log.debug("disconnect failed", exc_info=True)


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def connect(url: str = "duckdb://") -> Backend:
    """Open an Ibis backend from a URL (``duckdb://`` default, ``postgresql://…``)."""
    scheme = urlsplit(url).scheme.lower()
    base = scheme.split("+", 1)[0]
    try:
        import ibis
    except ImportError as exc:  # pragma: no cover - ibis is a core dependency
        raise ConfigError("Ibis is not installed.", fix="pip install 'ibis-framework'") from exc
    try:
        if base == "duckdb":
            path = url.split("://", 1)[1].lstrip("/") if "://" in url else ""
            backend = ibis.duckdb.connect(("/" + path) if path else ":memory:")
            caps = Capabilities(in_memory=True, temp_tables=True)
        elif base in ("postgresql", "postgres"):
            plain = urlunsplit(urlsplit(url)._replace(scheme="postgres"))
            backend = ibis.connect(plain)
            caps = Capabilities(in_memory=False, temp_tables=True)
        else:
            raise ConfigError(
                f"Unknown analytics backend URL scheme '{scheme}'.",
                fix="Use duckdb:// (default) or postgresql://user@host:port/database.",
            )
    except ConfigError:
        raise
    except ImportError as exc:
        raise ConfigError(
            f"The backend for '{base}' is not installed.",
            fix=f"pip install 'ibis-framework[{base}]'",
        ) from exc
    except Exception as exc:
        raise BackendError(
            f"Could not connect to {_redact(url)}: {type(exc).__name__}.",
            fix="Check the URL, that the server runs and accepts connections.",
        ) from exc
    return Backend(ibis=backend, url=url, capabilities=caps)
