"""Resident identity card numbers (公民身份号码, GB 11643-1999): checksum, parsing, masking.

Pure functions, no key material: validation, the ISO 7064 MOD 11-2 check digit, parsing of the
address code (county of registration), birth date and sex digit, masking, and building valid
numbers (for synthetic data). Encryption and the keyed hash live in :mod:`dongxi.pii.protect`.

Structure of the 18 characters: 6-digit address code · 8-digit birth date ``YYYYMMDD`` · 3-digit
sequence (odd for men, even for women) · check character (``0``–``9`` or ``X``).

Errors never show the number: they cite a masked form only.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from dongxi.errors import InputError
from dongxi.redaction import mask_id_text

__all__ = [
    "IdInfo",
    "build_id",
    "check_character",
    "check_codes",
    "id_problem",
    "id_problems",
    "is_valid_id",
    "mask_id",
    "mask_ids",
    "normalise_id",
    "parse_id",
    "validate_id",
]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")  # ASCII digits only (\d would take any script)


@dataclass(frozen=True)
class IdInfo:
    """What an ID number says about its holder."""

    region_code: str
    birth_date: dt.date
    sex: Literal["male", "female"]
    sequence: int


def check_character(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise InputError(
            "The first 17 characters of an ID number must be digits.",
            rule="id_format",
            fix="Give exactly 17 digits.",
        )
    return _check(first17)


# sum((code - 48) * weight) = sum(code * weight) - 48 * sum(weights), all in C
_OFFSET = 48 * sum(_WEIGHTS)


def _check(first17: str) -> str:
    """The check character of 17 ASCII digits (not checked again here)."""
    return _CHECK[(sum(map(operator.mul, first17.encode("ascii"), _WEIGHTS)) - _OFFSET) % 11]


def normalise_id(text: str) -> str:
    """Strip blanks and upper-case a trailing ``x``; no validation."""
    return text.strip().replace(" ", "").upper()


def mask_id(text: str) -> str:
    """The masked form shown everywhere by default: ``4501**************`` (first four characters;
    see :func:`dongxi.redaction.mask_id_text` and ``docs/security.md``). Masking an older masked
    form (``4501**********1234``) gives the current one."""
    return mask_id_text(text)


_LAST_DAY_SEEN = dt.date.today()


def _refresh_today() -> dt.date:
    global _LAST_DAY_SEEN
    _LAST_DAY_SEEN = dt.date.today()
    return _LAST_DAY_SEEN


def _after(birth: dt.date, today: dt.date | None) -> bool:
    if today is not None:
        return birth > today
    return birth > _LAST_DAY_SEEN and birth > _refresh_today()


def _birth(value: str) -> dt.date | None:
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def id_problem(text: str, *, today: dt.date | None = None) -> str | None:
    """The rule an ID number breaks (``id_format``, ``id_birth_date``, ``id_checksum``) or None."""
    return _problem(normalise_id(text), today)


def _problem(value: str, today: dt.date | None) -> str | None:
    if not _PATTERN.match(value):
        return "id_format"
    birth = _birth(value)
    # the clock is re-read only when needed (the process may have run past midnight)
    if birth is None or birth.year < 1880 or _after(birth, today):
        return "id_birth_date"
    if _check(value[:17]) != value[17]:
        return "id_checksum"
    return None


_PROBLEMS: tuple[str | None, ...] = (None, "id_format", "id_birth_date", "id_checksum")
_WEIGHT_VECTOR = np.array(_WEIGHTS, dtype=np.int64)
_CHECK_CODES = np.frombuffer(_CHECK.encode("ascii"), dtype=np.uint8)


def check_codes(digits: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    """ASCII codes of the check characters of many ID bodies, given as an ``(n, 17)`` matrix of
    digits (vectorised :func:`check_character`)."""
    codes: npt.NDArray[np.uint8] = _CHECK_CODES[(digits @ _WEIGHT_VECTOR) % 11]
    return codes


def id_problems(values: Sequence[str], *, today: dt.date | None = None) -> list[str | None]:
    """:func:`id_problem` of many **normalised** numbers at once (same rules, same order).

    Vectorised: the 18-character numbers become one byte matrix; the digits, the birth date
    (a real day, not before 1880, not after ``today``) and the check character are tested on
    whole columns.
    """
    n = len(values)
    out: list[str | None] = ["id_format"] * n
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)
    at = np.flatnonzero(lengths == 18)
    if not len(at):
        return out
    # a non-ASCII character becomes one "?" (not a digit), so every number keeps 18 bytes
    text = "".join([values[i] for i in at.tolist()]).encode("ascii", "replace")
    b = np.frombuffer(text, dtype=np.uint8).reshape(-1, 18)
    is_digit = (b >= 48) & (b <= 57)
    fmt_ok = is_digit[:, :17].all(axis=1) & (is_digit[:, 17] | (b[:, 17] == ord("X")))
    d = np.where(is_digit, b.astype(np.int64) - 48, 0)
    year = d[:, 6] * 1000 + d[:, 7] * 100 + d[:, 8] * 10 + d[:, 9]
    month = d[:, 10] * 10 + d[:, 11]
    day = d[:, 12] * 10 + d[:, 13]
    month_ok = (month >= 1) & (month <= 12)
    first = ((year - 1970) * 12 + np.where(month_ok, month, 1) - 1).astype("datetime64[M]")
    days_in_month = ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(
        np.int64
    )
    birth = first.astype("datetime64[D]") + (day - 1)
    limit = np.datetime64(today if today is not None else _refresh_today(), "D")
    date_ok = month_ok & (day >= 1) & (day <= days_in_month) & (year >= 1880) & (birth <= limit)
    check_ok = check_codes(d[:, :17]) == b[:, 17]
    code = np.where(~fmt_ok, 1, np.where(~date_ok, 2, np.where(~check_ok, 3, 0)))
    for i, c in zip(at.tolist(), code.tolist(), strict=True):
        out[i] = _PROBLEMS[c]
    return out


_MASK_TAIL = "*" * 14


def mask_ids(values: Sequence[str]) -> list[str]:
    """:func:`mask_id` of many **normalised** 18-character numbers (or already masked ones)."""
    tail = _MASK_TAIL
    return [v[:4] + tail if len(v) == 18 else mask_id(v) for v in values]


def is_valid_id(text: str) -> bool:
    """True when ``text`` is an 18-character ID number with a real birth date and checksum."""
    return id_problem(text) is None


_MESSAGES = {
    "id_format": "is not 17 digits followed by a digit or X",
    "id_birth_date": "does not contain a real birth date (characters 7–14)",
    "id_checksum": "has a wrong check character (GB 11643 MOD 11-2)",
}


def validate_id(
    text: str, *, file: str | None = None, row: int | None = None, column: str | None = None
) -> str:
    """The normalised ID number, or :class:`InputError` citing only its masked form."""
    value = normalise_id(text)
    problem = _problem(value, None)
    if problem is not None:
        raise InputError(
            f"The ID number {_MESSAGES[problem]}.",
            file=file,
            row=row,
            column=column,
            value=mask_id(text),
            rule=problem,
            fix="Copy the 18-character number again from the ID card or household register.",
        )
    return value


def parse_id(text: str) -> IdInfo:
    """Region of registration, birth date, sex and sequence of a valid ID number."""
    value = validate_id(text)
    birth = _birth(value)
    assert birth is not None
    sequence = int(value[14:17])
    return IdInfo(
        region_code=value[:6],
        birth_date=birth,
        sex="male" if sequence % 2 == 1 else "female",
        sequence=sequence,
    )


def build_id(*, region_code: str, birth_date: dt.date, sequence: int) -> str:
    """A valid ID number; ``sequence`` 0–999 (odd: male, even: female)."""
    if len(region_code) < 6 or not region_code[:6].isdigit():
        raise InputError(
            "The region code of an ID number must start with 6 digits.",
            value=region_code,
            fix="Give a county code such as '450123'.",
        )
    if not 0 <= sequence <= 999:
        raise InputError(
            "The sequence of an ID number must be between 0 and 999.",
            value=sequence,
            fix="Give a sequence in 0–999 (odd for men, even for women).",
        )
    first17 = f"{region_code[:6]}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)
