"""A page of a list and its cursor, shared by the list use cases (keyset pagination)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dongxi.errors import InputError

__all__ = ["Page", "columns", "int_cursor", "limit_of", "make_page", "split_cursor"]

MAX_LIMIT = 200


@dataclass(frozen=True)
class Page:
    """Rows of one page; ``next_after`` is the cursor of the next page (``None`` at the end)."""

    items: list[dict[str, Any]]
    next_after: str | None


def limit_of(limit: int) -> int:
    """``limit`` checked (1…200)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(
            f"limit must be between 1 and {MAX_LIMIT}.",
            column="limit",
            value=limit,
            rule="limit",
            fix=f"Ask for at most {MAX_LIMIT} rows and follow next_after for more.",
        )
    return limit


def split_cursor(after: str | None) -> tuple[str, int] | None:
    """A two-part cursor ``KEY:NUMBER`` (a code and a year or vintage)."""
    if after is None:
        return None
    key, sep, number = after.rpartition(":")
    if not sep or not key or not number.isdigit():
        raise InputError(
            "The cursor is not one this list gave.",
            column="after",
            value=after,
            rule="cursor",
            fix="Pass the next_after of the previous page unchanged.",
        )
    return key, int(number)


def int_cursor(after: str | None) -> int | None:
    """A numeric cursor (an id)."""
    if after is None:
        return None
    if not after.isdigit():
        raise InputError(
            "The cursor is not one this list gave.",
            column="after",
            value=after,
            rule="cursor",
            fix="Pass the next_after of the previous page unchanged.",
        )
    return int(after)


def columns(row: Any, *, leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The mapped columns of an ORM row as a dict (without ``leave_out``)."""
    return {
        c.key: getattr(row, c.key) for c in row.__mapper__.column_attrs if c.key not in leave_out
    }


def make_page(
    rows: Sequence[Any],
    limit: int,
    present: Callable[[Any], dict[str, Any]],
    cursor: Callable[[Any], str],
) -> Page:
    """The first ``limit`` of ``rows`` (the store was asked for one more) and the next cursor."""
    shown = list(rows[:limit])
    more = len(rows) > limit
    return Page(items=[present(r) for r in shown], next_after=cursor(shown[-1]) if more else None)
