"""The exception tree of dongxi.

Every error the package raises on purpose derives from :class:`DongxiError`, and mixes in the
built-in exception a Python user would expect::

    DongxiError
     ├── InputError(ValueError)        bad data or arguments: which file, row, column, value, rule
     │    ├── SpecError                 a bad measurement spec (file, key, what to write instead)
     │    └── ValidationReportError     many row errors at once (carries them all)
     ├── ConfigError(RuntimeError)     bad settings (unsafe key outside development, bad URL)
     ├── NotFoundError(LookupError)    a record, built-in spec or file that does not exist
     ├── PermissionDeniedError(PermissionError)  the acting principal's role does not allow it
     ├── RateLimitedError(RuntimeError)  too many attempts (logins) in a short time
     ├── ConflictError(RuntimeError)   an edit based on a stale version (optimistic locking)
     └── BackendError(RuntimeError)    a database or engine failure, translated at the boundary

Messages say what is wrong, the value seen and what to do next. They never contain ID numbers or
names: cite the row and a keyed hash instead. As a safety net, the text of every error and the
value of every :class:`RowError` go through :func:`dongxi.redaction.scrub` (any ID-like token
masked, wherever it sits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dongxi.redaction import scrub

__all__ = [
    "BackendError",
    "ConfigError",
    "ConflictError",
    "DongxiError",
    "InputError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RowError",
    "SpecError",
    "ValidationReportError",
]


class DongxiError(Exception):
    """Base of every error dongxi raises on purpose."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.fix:
            return scrub(f"{self.message} Fix: {self.fix}")
        return scrub(self.message)


class InputError(DongxiError, ValueError):
    """Bad input data or arguments, located as precisely as possible.

    ``row`` is 1-based and counts data rows as a spreadsheet user sees them (the header is row 1,
    so the first data row is row 2) when ``file`` is a table; ``None`` when the error is not tied
    to one row.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        rule: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        self.rule = rule
        super().__init__(message, fix=fix)

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        prefix = (", ".join(where) + ": ") if where else ""
        text = prefix + self.message
        if self.value is not None:
            text += f" (value: {self.value!r})"
        if self.fix:
            text += f" Fix: {self.fix}"
        return scrub(text)


class SpecError(InputError):
    """A measurement spec that cannot be used; ``column`` holds the TOML key path."""


@dataclass(frozen=True)
class RowError:
    """One rule broken by one cell (or one row) of an input table."""

    row: int | None
    column: str | None
    value: str | None
    rule: str
    message_zh: str
    message_en: str
    file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.value is not None:  # an ID number never reaches a report, whatever the column
            object.__setattr__(self, "value", scrub(self.value))


class ValidationReportError(InputError):
    """Many row errors at once; ``errors`` holds every one of them."""

    def __init__(
        self, message: str, errors: Sequence[RowError], *, file: str | None = None
    ) -> None:
        self.errors = list(errors)
        super().__init__(message, file=file)


class ConfigError(DongxiError, RuntimeError):
    """Settings that cannot be used (for example a placeholder key outside development)."""


class NotFoundError(DongxiError, LookupError):
    """A record, built-in name or file that does not exist."""


class PermissionDeniedError(DongxiError, PermissionError):
    """The acting principal's role does not grant what was asked."""


class RateLimitedError(DongxiError, RuntimeError):
    """Too many attempts in a short time (for example logins from one address)."""


class ConflictError(DongxiError, RuntimeError):
    """An update based on a stale version of a record (optimistic locking).

    ``fields`` names the fields that changed since the version the caller saw, when known
    (names only, never their values).
    """

    def __init__(self, message: str, *, fix: str | None = None, fields: Sequence[str] = ()) -> None:
        self.fields = tuple(fields)
        super().__init__(message, fix=fix)


class BackendError(DongxiError, RuntimeError):
    """A database or analytics-engine failure, translated at the boundary."""
