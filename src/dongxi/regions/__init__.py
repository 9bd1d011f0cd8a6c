"""Administrative divisions (GB/T 2260 and NBS statistical codes) and East–West pairings.

Pure data access: the packaged tables of Guangxi (45, the west side) and Guangdong (44, the east
side) at five levels for the 2017 and 2023 vintages, the national county list, the Guangdong →
Guangxi pairings of 2016–2020 and of the 2021 adjustment (2021–2025), and the 33 paired Guangxi
poverty counties. Sources and licences are in ``data/README.md``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import pandas as pd

from dongxi.errors import InputError

__all__ = [
    "PAIRING_FILES",
    "Vintage",
    "county_changes",
    "divisions",
    "national_counties",
    "pairings",
    "poverty_counties",
    "side_of",
]

Vintage = Literal[2017, 2023]
_PROVINCES = {"44": "guangdong", "45": "guangxi"}


def _read(name: str) -> pd.DataFrame:
    path = resources.files("dongxi.regions") / "data" / name
    with resources.as_file(path) as real:
        return pd.read_csv(real, dtype=str, keep_default_na=False, compression="infer")


@cache
def _divisions(province: str, vintage: int) -> pd.DataFrame:
    suffix = "" if vintage == 2023 else f"_{vintage}"
    frame = _read(f"{province}_divisions{suffix}.csv.gz")
    frame["parent_code"] = frame["parent_code"].replace("", None)
    frame["side"] = "east" if province == "guangdong" else "west"
    frame["vintage"] = vintage
    return frame


def divisions(vintage: Vintage = 2023, provinces: tuple[str, ...] = ("45", "44")) -> pd.DataFrame:
    """All divisions of the given provinces (``45`` Guangxi, ``44`` Guangdong) for one vintage.

    Columns: ``code, name, level, parent_code, side, vintage``. A new frame each call.
    """
    if vintage not in (2017, 2023):
        raise InputError(
            "Region data exist for the 2017 and 2023 vintages only.",
            value=vintage,
            fix="Use vintage 2017 or 2023.",
        )
    frames = []
    for code in provinces:
        if code not in _PROVINCES:
            raise InputError(
                "Full division data are packaged for Guangxi (45) and Guangdong (44) only.",
                value=code,
                fix="Use province code 45 or 44, or national_counties() for county level.",
            )
        frames.append(_divisions(_PROVINCES[code], vintage))
    return pd.concat(frames, ignore_index=True)


def national_counties() -> pd.DataFrame:
    """Province, prefecture and county rows of the whole country (2023 vintage)."""
    frame = _read("china_counties.csv.gz")
    frame["parent_code"] = frame["parent_code"].replace("", None)
    return frame


#: The pairing rounds packaged: 2016–2020 (粤桂扶贫协作) and the 2021 adjustment (2021–2025).
PAIRING_FILES = ("pairings_guangdong_guangxi.csv", "pairings_guangdong_guangxi_2021.csv")


def _in_force(period: str, year: int) -> bool:
    start, _, end = period.partition("-")
    return int(start) <= year <= (int(end) if end else 9999)


def pairings(year: int | None = None) -> pd.DataFrame:
    """Guangdong prefecture → Guangxi prefecture pairs with their ``period`` (``2016-2020``,
    ``2017-2020``, ``2021-2025``), ``confidence`` and ``source``: those in force in ``year``, or
    every round when ``year`` is ``None``."""
    frame = pd.concat([_read(name) for name in PAIRING_FILES], ignore_index=True)
    if year is not None:
        frame = frame[[_in_force(p, int(year)) for p in frame["period"]]].reset_index(drop=True)
    return frame


def poverty_counties() -> pd.DataFrame:
    """The 33 paired Guangxi poverty counties with their Guangdong helper city (and county)."""
    return _read("guangxi_33_counties_pairing.csv")


def county_changes() -> pd.DataFrame:
    """County-level code changes between the 2017 and 2023 vintages (provinces 44 and 45)."""
    return _read("county_changes_2017_2023.csv")


def side_of(code: str) -> Literal["east", "west"] | None:
    """``east`` for Guangdong codes, ``west`` for Guangxi codes, ``None`` otherwise."""
    if code.startswith("44"):
        return "east"
    if code.startswith("45"):
        return "west"
    return None
