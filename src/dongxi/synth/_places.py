"""Where the synthetic households live: real villages of the 33 paired Guangxi poverty counties.

Each rural village (村委会; urban 社区/居委会 and farm living areas are left out) gets a remoteness
score in [0, 1] from its code and a seeded draw: villages of 乡 (township codes 200–299) are more
remote than those of 镇 (100–199), which are more remote than 街道 (001–099); the county seat's
town (the first 镇 of the county) is the least remote; national key counties are more remote than
contiguous-area counties. Deprivations and low incomes cluster where remoteness is high.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import pandas as pd

from dongxi import regions
from dongxi.errors import InputError
from dongxi.synth._stats import HOUSEHOLDS_PER_VILLAGE

__all__ = ["Places", "pick_villages", "rural_villages"]

#: Share of 壮族 by Guangxi prefecture (assumption from the 2010 census picture of each city).
_ZHUANG_SHARE = {
    "450100": 0.65,
    "450200": 0.3,
    "450300": 0.08,
    "451000": 0.8,
    "451100": 0.08,
    "451200": 0.6,
    "451300": 0.6,
    "451400": 0.85,
}
#: The titular people of autonomous counties (from the county name).
_TITULAR = {
    "瑶族": "瑶族",
    "苗族": "苗族",
    "侗族": "侗族",
    "仫佬族": "仫佬族",
    "毛南族": "毛南族",
}
ETHNICITIES = ("汉族", "壮族", "瑶族", "苗族", "侗族", "仫佬族", "毛南族")


@dataclass(frozen=True)
class Places:
    """The villages chosen for one data set, with their county attributes (one row per village)."""

    villages: pd.DataFrame  # code, county_code, county_index, remoteness, weight
    counties: pd.DataFrame  # one row per county of the 33 with codes, pairing, ethnic mix
    ethnic_mix: npt.NDArray[np.float64]  # counties x ETHNICITIES shares


@cache
def _counties(vintage: int) -> pd.DataFrame:
    pc = regions.poverty_counties()
    frame = pd.DataFrame(
        {
            "county_code": pc[f"county_code_{vintage}"].to_numpy(),
            "county_code_2017": pc["county_code_2017"].to_numpy(),
            "name": pc[f"county_name_{vintage}"].to_numpy(),
            "west_city_code": pc["west_city_code"].to_numpy(),
            "east_city_code": pc["east_city_code"].to_numpy(),
            "east_county_code": pc["east_county_code"].to_numpy(),
            "key_county": (pc["category"] == "national_key_county").to_numpy(),
            "exit_year": pd.to_numeric(pc["exit_year"].str[:4], errors="coerce")
            .fillna(2019)
            .astype(int)
            .to_numpy(),
        }
    )
    return frame


def _ethnic_mix(counties: pd.DataFrame) -> npt.NDArray[np.float64]:
    mix = np.zeros((len(counties), len(ETHNICITIES)))
    for i, (name, city) in enumerate(
        zip(counties["name"], counties["west_city_code"], strict=True)
    ):
        zhuang = _ZHUANG_SHARE.get(city, 0.5)
        titular = next((v for k, v in _TITULAR.items() if k in name), None)
        if titular is not None:
            mix[i, ETHNICITIES.index(titular)] = 0.4
            zhuang *= 0.6
        elif "各族" in name:
            mix[i, ETHNICITIES.index("苗族")] = 0.2
            mix[i, ETHNICITIES.index("瑶族")] = 0.2
            mix[i, ETHNICITIES.index("侗族")] = 0.1
            zhuang *= 0.5
        mix[i, ETHNICITIES.index("壮族")] = zhuang
        mix[i, 0] = 1.0 - mix[i].sum()
    return mix


@cache
def rural_villages(vintage: int) -> pd.DataFrame:
    """Rural villages of the 33 counties: ``code, county_code, township_kind, first_town``."""
    counties = _counties(vintage)
    div = regions.divisions(vintage, provinces=("45",))  # type: ignore[arg-type]
    vil = div[div["level"] == "village"]
    vil = vil[vil["code"].str[:6].isin(set(counties["county_code"]))]
    urban = vil["name"].str.contains("社区|居委会|生活区", regex=True)
    vil = vil[~urban].sort_values("code", kind="stable")
    code = vil["code"].to_numpy(dtype=str)
    town = pd.Series(code).str[6:9].astype(int).to_numpy()
    county = pd.Series(code).str[:6].to_numpy(dtype=str)
    frame = pd.DataFrame({"code": code, "county_code": county, "town": town})
    first = (
        frame[(frame["town"] >= 100) & (frame["town"] < 200)].groupby("county_code")["town"].min()
    )
    frame["first_town"] = frame["town"].to_numpy() == frame["county_code"].map(first).to_numpy()
    index = {c: i for i, c in enumerate(counties["county_code"])}
    frame["county_index"] = frame["county_code"].map(index).astype(int)
    return frame


def _remoteness(
    rng: np.random.Generator, frame: pd.DataFrame, key: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    town = frame["town"].to_numpy()
    base = np.where(town < 100, 0.1, np.where(town < 200, 0.4, 0.65))
    base = np.where(frame["first_town"].to_numpy(), 0.2, base)
    base = base + np.where(key[frame["county_index"].to_numpy()], 0.08, -0.05)
    noisy = base + rng.normal(0.0, 0.15, len(frame))
    return np.clip(noisy, 0.0, 1.0)


def pick_villages(
    rng: np.random.Generator,
    *,
    households: int | None,
    scale: str | None,
    vintage: int,
) -> tuple[Places, int]:
    """Choose the villages (and the number of households) for a data set of this size or scale."""
    if vintage not in (2017, 2023):
        raise InputError(
            "Village codes exist for the 2017 and 2023 vintages only.",
            value=vintage,
            fix="Pass vintage=2017 or vintage=2023.",
        )
    counties = _counties(vintage)
    allv = rural_villages(vintage)
    remote_all = _remoteness(rng, allv, counties["key_county"].to_numpy())
    if scale == "village":
        chosen = np.array([int(rng.integers(0, len(allv)))])
    elif scale == "county":
        county = int(rng.integers(0, len(counties)))
        chosen = np.flatnonzero(allv["county_index"].to_numpy() == county)
    elif scale == "city":
        cities = counties["west_city_code"].to_numpy()
        city = cities[int(rng.integers(0, len(counties)))]
        members = np.flatnonzero(cities == city)
        chosen = np.flatnonzero(np.isin(allv["county_index"].to_numpy(), members))
    elif scale == "province" or scale is None:
        chosen = np.arange(len(allv))
    else:
        raise InputError(
            "Unknown scale.",
            value=scale,
            fix="Use one of village, county, city, province.",
        )
    if households is None:
        households = len(chosen) * HOUSEHOLDS_PER_VILLAGE
    elif scale is None:
        # a given number of households lives in about HOUSEHOLDS_PER_VILLAGE-sized villages spread
        # over the 33 counties
        wanted = max(1, min(len(chosen), round(households / HOUSEHOLDS_PER_VILLAGE)))
        chosen = np.sort(rng.choice(chosen, size=wanted, replace=False))
    villages = allv.iloc[chosen].reset_index(drop=True).copy()
    villages["remoteness"] = remote_all[chosen]
    villages["weight"] = rng.gamma(6.0, 1.0, len(villages))
    return Places(villages, counties, _ethnic_mix(counties)), int(households)
