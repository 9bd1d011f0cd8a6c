"""Resident ID numbers (GB 11643-1999): 6-digit region of birth, birth date, sequence, check digit.

The sequence's last digit is odd for men and even for women. The check character (ISO 7064
MOD 11-2) comes from :mod:`dongxi.pii.idnumber`, the registry's own checker.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from dongxi.errors import InputError
from dongxi.pii.idnumber import check_character, check_codes
from dongxi.synth._arrow import int_text, join

__all__ = ["check_digit", "check_digits", "id_numbers"]


def check_digit(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of an ID number."""
    return check_character(first17)


def check_digits(body: npt.NDArray[np.int64]) -> npt.NDArray[np.str_]:
    """Check characters of 17-digit ID bodies given as integers (vectorised)."""
    digits = np.empty((len(body), 17), dtype=np.int64)
    rest = body.copy()
    for position in range(16, -1, -1):
        digits[:, position] = rest % 10
        rest //= 10
    return check_codes(digits).view("S1").astype(str)


def id_numbers(
    rng: np.random.Generator,
    region: npt.NDArray[np.int64],
    birth: npt.NDArray[np.datetime64],
    male: npt.NDArray[np.bool_],
) -> pa.Array:
    """Unique valid ID numbers for people born in ``region`` (6-digit codes) on ``birth`` (days).

    Sequences start at a random number for each group of people of one sex born on one day in one
    place and count up from there (odd for men, even for women), so no two people share a number.
    """
    n = len(region)
    days = birth.astype("datetime64[D]")
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    date_part = years * 10_000 + months * 100 + dom
    stem = region.astype(np.int64) * 10**11 + date_part * 1000
    sex_bit = np.where(male, 1, 0).astype(np.int64)
    # people sharing region, birth date and sex get consecutive sequence numbers from a random
    # start (modulo 500): unique by construction while a group has at most 500 people
    key = stem * 2 + sex_bit
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = sorted_key[1:] != sorted_key[:-1]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    rank = np.arange(n) - group_start
    if n and int(rank.max()) >= 500:
        raise InputError(
            "More than 500 people of one sex share a birth date and county of birth.",
            value=int(rank.max()) + 1,
            fix="Generate fewer households per county.",
        )
    offset = rng.integers(0, 500, n)[group_start]
    seq = np.empty(n, dtype=np.int64)
    seq[order] = ((offset + rank) % 500) * 2 + sex_bit[order]
    body = stem + seq
    return join(int_text(body), pa.array(check_digits(body)))
