"""The one table of settings.

Every setting is a field of :class:`Settings`, read from ``DONGXI_``-prefixed environment
variables (or a ``.env`` file in the working directory). Each field carries a description;
``docs/settings.md`` is generated from them and a test fails when the two disagree.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dongxi.errors import ConfigError

__all__ = ["PLACEHOLDER_KEY", "Settings", "get_settings", "settings_markdown"]

#: The value the key settings have until someone sets them. Accepted only in development.
PLACEHOLDER_KEY = "dev-only-insecure-key-change-me"


class Settings(BaseSettings):
    """Settings of dongxi, from ``DONGXI_*`` environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="DONGXI_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Literal["development", "test", "production"] = Field(
        default="development",
        description=(
            "Where dongxi runs. Outside 'development' and 'test', placeholder keys are refused."
        ),
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the registry (system of record). Unset: a SQLite file "
            "'dongxi.db' in DONGXI_DATA_DIR. PostgreSQL: 'postgresql+psycopg://user@host/db'."
        ),
    )
    data_dir: Path = Field(
        default=Path("."),
        description="Folder for the default SQLite registry, snapshots and reports.",
    )
    analytics_url: str = Field(
        default="duckdb://",
        description=(
            "Where analytics (Ibis expressions) run: 'duckdb://' (in memory, default), "
            "'duckdb:///path.ddb', or 'postgresql://user@host/db'."
        ),
    )
    encryption_key: SecretStr = Field(
        default=SecretStr(PLACEHOLDER_KEY),
        description=(
            "Secret from which the AES-256-GCM key for resident ID numbers is derived. "
            "Must be set (at least 32 characters) outside development."
        ),
    )
    lookup_key: SecretStr = Field(
        default=SecretStr(PLACEHOLDER_KEY),
        description=(
            "Secret for the keyed hash (HMAC-SHA-256) of ID numbers used for look-up and "
            "de-duplication. Must be set (at least 32 characters) outside development."
        ),
    )
    import_bulk_min_rows: int = Field(
        default=50_000,
        ge=1,
        description=(
            "Fewest new rows for a bulk load on PostgreSQL: an import that adds at least this "
            "many rows to a table, and no fewer than the table held, re-creates the table's "
            "constraints after its COPY instead of checking them row by row (faster; readers "
            "of the table wait until the import commits). A very large value turns it off."
        ),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING",
        description="Logging level of the dongxi command line (`--debug` sets DEBUG).",
    )

    @property
    def registry_url(self) -> str:
        """The registry URL, with the SQLite default filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'dongxi.db').resolve()}"

    def check_secrets(self) -> None:
        """Refuse placeholder or short keys outside development and test."""
        if self.environment in ("development", "test"):
            return
        for name in ("encryption_key", "lookup_key"):
            value = getattr(self, name).get_secret_value()
            if value == PLACEHOLDER_KEY or len(value) < 32:
                raise ConfigError(
                    f"The setting DONGXI_{name.upper()} is a placeholder or shorter than 32 "
                    f"characters while DONGXI_ENVIRONMENT={self.environment}.",
                    fix=f"Set DONGXI_{name.upper()} to a random secret of at least 32 characters.",
                )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once; call ``get_settings.cache_clear()`` in tests)."""
    return Settings()


def settings_markdown() -> str:
    """The reference table of settings, as written to ``docs/settings.md``."""
    lines = [
        "# Settings",
        "",
        "dongxi reads its settings from environment variables with the prefix `DONGXI_` (or a",
        "`.env` file in the working directory). This page is generated from",
        "`dongxi.settings.Settings`; a test keeps it in step.",
        "",
        "| variable | default | description |",
        "| --- | --- | --- |",
    ]
    for name, info in Settings.model_fields.items():
        default = info.default
        if isinstance(default, SecretStr):
            default_text = "(placeholder, development only)"
        elif default is None:
            default_text = "(unset)"
        else:
            default_text = f"`{default}`"
        lines.append(f"| `DONGXI_{name.upper()}` | {default_text} | {info.description} |")
    return "\n".join(lines) + "\n"
