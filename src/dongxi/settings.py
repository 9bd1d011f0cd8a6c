"""The one table of settings.

Every setting is a field of :class:`Settings`, read from ``DONGXI_``-prefixed environment
variables (or a ``.env`` file in the working directory). Each field carries a description;
``docs/settings.md`` is generated from them and a test fails when the two disagree.

The two ID-number keys have no default: :meth:`Settings.id_keys` takes each from the environment
(``DONGXI_ENCRYPTION_KEY``, ``DONGXI_LOOKUP_KEY``) or else from the key file (``DONGXI_KEY_FILE``,
by default ``dongxi-keys.toml`` in ``DONGXI_DATA_DIR``, written by ``dongxi db upgrade`` on first
set-up) and raises :class:`~dongxi.errors.ConfigError` saying how to create them when neither
holds them.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dongxi.errors import ConfigError

__all__ = [
    "KEY_FILE_NAME",
    "IdKeys",
    "Settings",
    "get_settings",
    "settings_markdown",
    "use_settings",
]

#: Name of the key file in ``DONGXI_DATA_DIR`` when ``DONGXI_KEY_FILE`` is unset.
KEY_FILE_NAME = "dongxi-keys.toml"

#: Fewest characters of a key outside development and test.
MIN_KEY_LENGTH = 32


@dataclass(frozen=True)
class IdKeys:
    """The two secrets of ID-number protection and where they came from (never printed)."""

    encryption: str
    lookup: str
    source: str  # "environment", the key file's path, or "environment + <path>"

    def __repr__(self) -> str:
        return f"IdKeys(source={self.source!r})"


class Settings(BaseSettings):
    """Settings of dongxi, from ``DONGXI_*`` environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="DONGXI_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Literal["development", "test", "production"] = Field(
        default="development",
        description=(
            "Where dongxi runs. Outside 'development' and 'test', keys shorter than 32 "
            "characters are refused."
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
    encryption_key: SecretStr | None = Field(
        default=None,
        description=(
            "Secret from which the AES-256-GCM key for resident ID numbers is derived. "
            "Unset: taken from the key file (DONGXI_KEY_FILE). At least 32 characters "
            "outside development and test."
        ),
    )
    lookup_key: SecretStr | None = Field(
        default=None,
        description=(
            "Secret for the keyed hash (HMAC-SHA-256) of ID numbers used for look-up and "
            "de-duplication. Unset: taken from the key file (DONGXI_KEY_FILE). At least 32 "
            "characters outside development and test."
        ),
    )
    key_file: Path | None = Field(
        default=None,
        description=(
            "TOML file holding 'encryption_key' and 'lookup_key' (owner-only, mode 0600), read "
            "for a key that is not in the environment. Unset: 'dongxi-keys.toml' in "
            "DONGXI_DATA_DIR. 'dongxi db upgrade' creates it with random keys on first set-up "
            "when no key is configured; keep it apart from the database and back it up."
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
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed logins in a row after which a user is locked.",
    )
    login_lockout_minutes: int = Field(
        default=15, ge=1, description="How long a user stays locked after too many failures."
    )
    session_hours: int = Field(
        default=8, ge=1, description="Lifetime of a browser session (the user logs in again)."
    )
    token_days: int = Field(
        default=90,
        ge=0,
        description="Lifetime of an API bearer token in days (0: until revoked).",
    )
    min_cell: int = Field(
        default=5,
        ge=1,
        description=(
            "Smallest number of people an aggregate cell may show; smaller cells (and the cells"
            " that would reveal them) are suppressed."
        ),
    )
    login_rate_per_minute: int = Field(
        default=10,
        ge=1,
        description="Login attempts allowed per client address and minute (per server process).",
    )
    secure_cookies: bool = Field(
        default=False,
        description=(
            "Mark session cookies Secure even when the request reached dongxi over plain HTTP "
            "(set it behind a reverse proxy that terminates TLS)."
        ),
    )
    import_lock_wait: float = Field(
        default=600.0,
        gt=0,
        description=(
            "Seconds an import waits for another import of the same kind (PostgreSQL) or any "
            "other writer (SQLite) to finish before it gives up with a message saying so. "
            "Imports queue: the second starts when the first has committed."
        ),
    )
    max_input_bytes: int = Field(
        default=2 * 1024**3,
        ge=1024,
        description=(
            "Largest input file dongxi reads (bytes), and the most an XLSX file may hold once "
            "unpacked (the sum of its parts). Larger files are refused before they are read."
        ),
    )
    max_input_rows: int = Field(
        default=10_000_000,
        ge=1,
        description=(
            "Most rows of an input table (a province's people fit); an XLSX sheet that declares "
            "or holds a cell below this row is refused before it is read."
        ),
    )
    max_input_columns: int = Field(
        default=1_000,
        ge=1,
        description="Most columns of an input table (the widest kind has about 25).",
    )
    max_input_cells: int = Field(
        default=50_000_000,
        ge=1,
        description=(
            "Most cells (rows x columns of the used range) of one XLSX sheet: the reader holds "
            "the whole range in memory (about 32 bytes a cell, even for empty ones)."
        ),
    )
    max_zip_ratio: int = Field(
        default=100,
        ge=2,
        description=(
            "Highest compression ratio (unpacked / packed size) of a part larger than 16 MiB "
            "of an XLSX file; office files stay well below, zip bombs far above."
        ),
    )
    direct_edit_roles: str = Field(
        default="county_officer,city_officer,province_officer,admin",
        description=(
            "Roles whose edits through the API are applied at once (comma-separated); an edit "
            "by any other role with `registry:write` becomes a change request that the next "
            "level up approves."
        ),
    )
    job_workers: int = Field(
        default=2,
        ge=1,
        description=(
            "Threads of a server process that run background jobs (imports, snapshots, "
            "measurements, matching rounds); further jobs wait in the queue."
        ),
    )
    notice_days: int = Field(
        default=7,
        ge=1,
        le=60,
        description=(
            "Days a public notice (公示) stays open for objections when its window is not given; "
            "a notice cannot be closed before its window ends or while an objection is open."
        ),
    )
    procedures_file: Path | None = Field(
        default=None,
        description=(
            "An office's own procedures file (TOML, the shape of the package's "
            "`monitor/data/procedures.toml`: states, steps, roles, deadlines); unset: the "
            "package's."
        ),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING",
        description="Logging level of the dongxi command line (`--debug` sets DEBUG).",
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="Time zone (an IANA name such as `Asia/Shanghai` or `UTC`) in which the "
        "command line and reports show times; the registry and the change log store UTC.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone '{value}' (use an IANA name such as Asia/Shanghai or UTC)"
            ) from None
        return value

    @field_validator("direct_edit_roles")
    @classmethod
    def _known_roles(cls, value: str) -> str:
        from dongxi.vocab import USER_ROLES

        unknown = sorted({r.strip() for r in value.split(",") if r.strip()} - set(USER_ROLES))
        if unknown:
            raise ValueError(
                f"unknown role(s) {', '.join(unknown)}; use roles of: {', '.join(USER_ROLES)}"
            )
        return value

    @property
    def direct_edit_role_set(self) -> frozenset[str]:
        """The roles of ``direct_edit_roles`` as a set."""
        return frozenset(r.strip() for r in self.direct_edit_roles.split(",") if r.strip())

    @property
    def registry_url(self) -> str:
        """The registry URL, with the SQLite default filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'dongxi.db').resolve()}"

    @property
    def key_file_path(self) -> Path:
        """The key file: ``DONGXI_KEY_FILE`` or ``dongxi-keys.toml`` in ``DONGXI_DATA_DIR``."""
        return self.key_file if self.key_file is not None else self.data_dir / KEY_FILE_NAME

    def keys_configured(self) -> bool:
        """Whether any key is set in the environment or a key file exists."""
        return (
            self.encryption_key is not None
            or self.lookup_key is not None
            or self.key_file_path.exists()
        )

    def id_keys(self) -> IdKeys:
        """The encryption and look-up keys: environment first, then the key file.

        Raises :class:`ConfigError` when a key is missing (saying how to create the keys), when
        the key file is unreadable, malformed or readable by others than its owner, and when a
        key is shorter than 32 characters outside development and test.
        """
        env = {
            "encryption_key": self.encryption_key.get_secret_value()
            if self.encryption_key is not None
            else None,
            "lookup_key": self.lookup_key.get_secret_value()
            if self.lookup_key is not None
            else None,
        }
        path = self.key_file_path
        from_file: dict[str, str] = {}
        if any(v is None for v in env.values()) and path.exists():
            from_file = _read_key_file(path)
        values: dict[str, str] = {}
        for name, value in env.items():
            chosen = value if value is not None else from_file.get(name)
            if not chosen:
                raise ConfigError(
                    f"No {_LABEL[name]} key is configured: DONGXI_{name.upper()} is not set and "
                    f"the key file {path} {_absent(path, name)}.",
                    fix=(
                        "On first set-up run 'dongxi db upgrade', which creates the key file with "
                        "random keys; otherwise set DONGXI_ENCRYPTION_KEY and DONGXI_LOOKUP_KEY, "
                        "or point DONGXI_KEY_FILE at the registry's key file."
                    ),
                )
            if self.environment not in ("development", "test") and len(chosen) < MIN_KEY_LENGTH:
                raise ConfigError(
                    f"The {_LABEL[name]} key is shorter than {MIN_KEY_LENGTH} characters while "
                    f"DONGXI_ENVIRONMENT={self.environment}.",
                    fix=f"Use a random secret of at least {MIN_KEY_LENGTH} characters.",
                )
            values[name] = chosen
        sources = {"environment" if env[n] is not None else str(path) for n in env}
        return IdKeys(
            encryption=values["encryption_key"],
            lookup=values["lookup_key"],
            source=" + ".join(sorted(sources)),
        )


_LABEL = {"encryption_key": "encryption", "lookup_key": "look-up"}


def _absent(path: Path, name: str) -> str:
    return f"has no {name}" if path.exists() else "does not exist"


def _read_key_file(path: Path) -> dict[str, str]:
    """The keys of a key file (refused when others than the owner may read it).

    Every use checks the file's mode; its content is parsed again only when the file changed
    (the keys are needed by every registry write and every page, so not read from disk each time).
    """
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigError(
            f"The key file {path} cannot be read ({exc.strerror}).",
            fix="Check the path (DONGXI_KEY_FILE) and that this user owns the file.",
        ) from None
    if os.name == "posix":
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"The key file {path} is open to others than its owner (mode {mode:04o}).",
                fix=f"Run 'chmod 600 {path}' (and check who has had access to it).",
            )
    return dict(_parse_key_file(str(path), info.st_mtime_ns, info.st_size, info.st_ino))


@lru_cache(maxsize=8)
def _parse_key_file(path: str, mtime_ns: int, size: int, inode: int) -> tuple[tuple[str, str], ...]:
    """The keys of one version of a key file (cached by its path, time, size and inode)."""
    del mtime_ns, size, inode  # the cache key: a changed file is parsed again
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"The key file {path} cannot be read ({exc.strerror}).",
            fix="Check the path (DONGXI_KEY_FILE) and that this user owns the file.",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"The key file {path} is not valid TOML ({exc}).",
            fix="Restore it from your backup; it must hold encryption_key and lookup_key.",
        ) from None
    return tuple((k, v) for k, v in data.items() if k in _LABEL and isinstance(v, str))


@lru_cache(maxsize=1)
def _from_environment() -> Settings:
    return Settings()


_ACTIVE: ContextVar[Settings | None] = ContextVar("dongxi_active_settings", default=None)


class _SettingsGetter:
    """``get_settings()``: the settings in force (an override of :func:`use_settings`, else the
    process's settings read once from the environment; ``get_settings.cache_clear()`` re-reads)."""

    def __call__(self) -> Settings:
        active = _ACTIVE.get()
        return active if active is not None else _from_environment()

    def cache_clear(self) -> None:
        """Forget the settings read from the environment (tests change the environment)."""
        _from_environment.cache_clear()


get_settings = _SettingsGetter()


@contextmanager
def use_settings(settings: Settings) -> Iterator[Settings]:
    """Run a block with ``settings`` in force (the demo works under its own key file)."""
    token = _ACTIVE.set(settings)
    try:
        yield settings
    finally:
        _ACTIVE.reset(token)


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
        default_text = "(unset)" if default is None else f"`{default}`"
        lines.append(f"| `DONGXI_{name.upper()}` | {default_text} | {info.description} |")
    return "\n".join(lines) + "\n"
