"""Synthetic needs (employment intentions) and offers (job posts) for the two-sided market.

Two sizes, both deterministic by seed and fully vectorised:

- :func:`market_2017` — the 2017 Guangdong–Guangxi labour cooperation at its reported scale:
  23,908 job seekers from the 33 paired Guangxi poverty counties and 859 Guangdong enterprises
  offering 51,629 positions (the seed paper's figures). Positions per enterprise are lognormal
  (σ = 1.1: a few large factories, many small firms), rounded so they sum exactly to 51,629.
  Enterprises sit in Guangdong's 21 prefecture cities, weighted towards the Pearl River Delta,
  with a few plants in the poverty counties themselves (East–West industrial parks).
- :func:`market_national` — a national benchmark instance (default 3,000,000 seekers and 100,000
  enterprises) over China's ~2,975 counties, tuned so that a seeker has about 50 acceptable posts.

Columns follow the contract of :mod:`dongxi.market` (see ``docs/market.md``); ``sex`` and
``ethnicity`` are carried so that tests can prove they change nothing. Distributions are
assumptions for demonstration, not statistics.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from dongxi import regions, vocab
from dongxi.market import MarketResult, run_market

__all__ = [
    "ENTERPRISES_2017",
    "POSITIONS_2017",
    "SEEKERS_2017",
    "market_2017",
    "market_national",
    "positions_per_enterprise",
    "run_demo_market",
    "seekers_from_people",
]

SEEKERS_2017 = 23_908
ENTERPRISES_2017 = 859
POSITIONS_2017 = 51_629

SECTORS = ("manufacturing", "electronics", "textiles", "construction", "logistics", "services")
SKILLS = (
    "welding",
    "sewing",
    "electrician",
    "cooking",
    "driving",
    "assembly",
    "childcare",
    "masonry",
)
#: The levels of education seekers have (the first five of the vocabulary).
EDUCATION = vocab.EDUCATION.codes[:5]
EDUCATION_P = (0.04, 0.24, 0.52, 0.12, 0.08)
#: Weights of Guangdong cities as work places (Pearl River Delta heavy; an assumption).
CITY_WEIGHT = {
    "440300": 20.0,  # 深圳
    "441900": 17.0,  # 东莞
    "440100": 15.0,  # 广州
    "440600": 12.0,  # 佛山
    "442000": 6.0,  # 中山
    "441300": 6.0,  # 惠州
    "440700": 4.0,  # 江门
    "440400": 3.0,  # 珠海
    "441200": 2.0,  # 肇庆
    "440500": 1.5,  # 汕头
    "440800": 1.5,  # 湛江
    "440900": 1.5,  # 茂名
    "441800": 1.2,  # 清远
    "445200": 1.0,  # 揭阳
    "440200": 0.8,  # 韶关
    "441700": 0.8,  # 阳江
    "441600": 0.6,  # 河源
    "441400": 0.6,  # 梅州
    "445100": 0.6,  # 潮州
    "445300": 0.6,  # 云浮
    "441500": 0.5,  # 汕尾
}
#: Monthly living cost (rent and food) without a dormitory, by city (assumption, yuan).
LIVING_COST = {"440300": 1500.0, "440100": 1400.0, "441900": 1100.0, "440600": 1100.0}
DEFAULT_LIVING = 900.0
HOME_LIVING = 500.0
STATUS = vocab.HOUSEHOLD_STATUSES.codes
#: The labour capacities of people able to work (skilled, normal, weak).
ABLE = vocab.LABOUR_CAPACITY.codes[:3]
STATUS_P = (0.62, 0.20, 0.05, 0.13)
ETHNICITY = ("壮族", "汉族", "瑶族", "苗族", "侗族")
ETHNICITY_P = (0.5, 0.35, 0.08, 0.04, 0.03)


def positions_per_enterprise(
    rng: np.random.Generator, n: int, total: int, *, sigma: float = 1.1
) -> npt.NDArray[np.int64]:
    """``n`` lognormal sizes (at least 1 each) rounded to sum exactly to ``total``."""
    raw = rng.lognormal(0.0, sigma, n)
    share = raw / raw.sum() * (total - n)
    base = np.floor(share).astype(np.int64)
    rest = int(total - n - base.sum())
    order = np.argsort(-(share - base), kind="stable")
    base[order[:rest]] += 1
    out: npt.NDArray[np.int64] = base + 1
    return out


def _pick_sets(
    rng: np.random.Generator, n: int, names: tuple[str, ...], low: int, high: int
) -> npt.NDArray[np.object_]:
    """``n`` `;`-joined sets of ``low``..``high`` distinct names (vectorised over a few sizes)."""
    k = rng.integers(low, high + 1, n)
    scores = rng.random((n, len(names)))
    order = np.argsort(scores, axis=1)
    table = np.asarray(names, dtype=object)
    out = np.full(n, "", dtype=object)
    for size in range(1, high + 1):
        rows = np.flatnonzero(k == size)
        if len(rows):
            chosen = table[order[rows, :size]]
            out[rows] = [";".join(r) for r in chosen] if size > 1 else chosen[:, 0]
    return out


def _seekers_common(rng: np.random.Generator, n: int) -> dict[str, object]:
    age = np.clip(np.round(rng.normal(33, 9, n)), 16, 59).astype(np.int64)
    labour = rng.choice(ABLE, n, p=[0.12, 0.76, 0.12])
    return {
        "status": rng.choice(STATUS, n, p=STATUS_P),
        "age": age,
        "sex": rng.choice(vocab.SEXES.codes, n, p=[0.56, 0.44]),
        "ethnicity": rng.choice(ETHNICITY, n, p=ETHNICITY_P),
        "education": rng.choice(EDUCATION, n, p=EDUCATION_P),
        "labour_capacity": labour,
        "skills": _pick_sets(rng, n, SKILLS, 0, 2),
        "sectors": _pick_sets(rng, n, SECTORS, 1, 2),
        "min_wage": np.round(np.clip(rng.normal(2900, 450, n), 1800, 4500), -1),
        "needs_dormitory": rng.random(n) < 0.6,
        "willingness": rng.choice(["willing", "conditional"], n, p=[0.85, 0.15]),
    }


def _offers_common(rng: np.random.Generator, n: int) -> dict[str, object]:
    age_min = rng.choice([16, 18], n, p=[0.3, 0.7])
    age_max = rng.choice([40, 45, 50, 55], n, p=[0.2, 0.35, 0.3, 0.15])
    skill = pd.Series(rng.choice(SKILLS, n), dtype=object).where(rng.random(n) < 0.25, None)
    return {
        "kind": np.full(n, "job", dtype=object),
        "sector": rng.choice(SECTORS, n, p=[0.3, 0.2, 0.12, 0.12, 0.12, 0.14]),
        "monthly_wage": np.round(np.clip(rng.normal(3700, 650, n), 2000, 8000), -1),
        "subsidy": np.where(rng.random(n) < 0.3, rng.choice([100.0, 200.0, 300.0], n), 0.0),
        "age_min": age_min,
        "age_max": age_max,
        "min_education": rng.choice(EDUCATION[:3], n, p=[0.3, 0.35, 0.35]),
        "skill_required": skill,
        "physical": rng.random(n) < 0.4,
        "dormitory": rng.random(n) < 0.75,
    }


def market_2017(*, seed: int, n_seekers: int = SEEKERS_2017) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(seekers, offers) at the 2017 scale (``n_seekers`` smaller for tests; offers scale along)."""
    rng = np.random.default_rng(seed)
    counties = regions.poverty_counties()
    n_enterprises = max(1, round(ENTERPRISES_2017 * n_seekers / SEEKERS_2017))
    n_positions = max(n_enterprises, round(POSITIONS_2017 * n_seekers / SEEKERS_2017))

    # seekers: home county weighted by a seeded draw; places = paired city / others / home
    county_w = rng.dirichlet(np.full(len(counties), 4.0))
    home_i = rng.choice(len(counties), n_seekers, p=county_w)
    home = counties["county_code_2017"].to_numpy(dtype=object)[home_i]
    paired = counties["east_city_code"].to_numpy(dtype=object)[home_i]
    cities = np.asarray(list(CITY_WEIGHT), dtype=object)
    city_p = np.asarray(list(CITY_WEIGHT.values()))
    city_p = city_p / city_p.sum()
    first = np.where(rng.random(n_seekers) < 0.35, paired, rng.choice(cities, n_seekers, p=city_p))
    second = rng.choice(cities, n_seekers, p=city_p)
    want_second = rng.random(n_seekers) < 0.5
    want_home = rng.random(n_seekers) < 0.3
    places = pd.Series(first, dtype="string")
    places = places.where(~(want_second & (second != first)), places + ";" + second)
    places = places.where(~want_home, places + ";" + pd.Series(home, dtype="string"))
    common = _seekers_common(rng, n_seekers)
    seekers = pd.DataFrame(
        {
            "seeker_id": [f"S{seed % 1000:03d}{i:07d}" for i in range(n_seekers)],
            "household_code": [f"H{seed % 1000:03d}{i // 2:07d}" for i in range(n_seekers)],
            "county_code": home.astype(str),
            **common,
            "places": places.to_numpy(dtype=object),
            "stated_on": "2017-03-01",
        }
    )

    # offers: one job post per enterprise, positions lognormal; a few plants in the counties
    positions = positions_per_enterprise(rng, n_enterprises, n_positions)
    in_county = rng.random(n_enterprises) < 0.06
    place = np.where(
        in_county,
        rng.choice(counties["county_code_2017"].to_numpy(dtype=object), n_enterprises),
        rng.choice(cities, n_enterprises, p=city_p),
    ).astype(str)
    living = np.asarray([LIVING_COST.get(p, DEFAULT_LIVING) for p in place])
    living[in_county] = HOME_LIVING
    offers = pd.DataFrame(
        {
            "offer_id": [f"J{seed % 1000:03d}{i:05d}" for i in range(n_enterprises)],
            "partner_code": [f"E{seed % 1000:03d}{i:05d}" for i in range(n_enterprises)],
            "place_code": place,
            "positions": positions,
            **_offers_common(rng, n_enterprises),
            "living_cost": living,
            "posted_on": "2017-03-01",
        }
    )
    return seekers, offers


def market_national(
    *, seed: int, n_seekers: int = 3_000_000, n_enterprises: int = 100_000, mean_positions: int = 25
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(seekers, offers) of a national benchmark instance over China's counties.

    Enterprises are spread over counties with lognormal weights (σ = 1); a seeker accepts the home
    county and one other county drawn by the same weights, which gives about 50 acceptable posts a
    seeker at the default sizes.
    """
    rng = np.random.default_rng(seed)
    counties = regions.national_counties()
    codes = counties.loc[counties["level"] == "county", "code"].to_numpy(dtype=object)
    weight = rng.lognormal(0.0, 1.0, len(codes))
    weight /= weight.sum()
    place_i = rng.choice(len(codes), n_enterprises, p=weight)
    positions = positions_per_enterprise(rng, n_enterprises, n_enterprises * mean_positions)
    offers = pd.DataFrame(
        {
            "offer_id": np.char.add("N", np.arange(n_enterprises).astype(str)).astype(object),
            "place_code": codes[place_i].astype(str),
            "positions": positions,
            **_offers_common(rng, n_enterprises),
            "living_cost": np.round(rng.uniform(500, 1500, n_enterprises), -1),
        }
    )
    home = codes[rng.integers(0, len(codes), n_seekers)].astype(str)
    dest = codes[rng.choice(len(codes), n_seekers, p=weight)].astype(str)
    places = np.char.add(np.char.add(home, ";"), dest)
    common = _seekers_common(rng, n_seekers)
    seekers = pd.DataFrame(
        {
            "seeker_id": np.char.add("P", np.arange(n_seekers).astype(str)).astype(object),
            "county_code": home,
            **common,
            "places": places.astype(object),
        }
    )
    return seekers, offers


def seekers_from_people(
    people: pd.DataFrame, households: pd.DataFrame, *, seed: int, limit: int | None = None
) -> pd.DataFrame:
    """Job seekers drawn from a registry-shaped population (``people`` and ``households`` frames
    with the columns of ``docs/data-dictionary.md``): working-age members able to work who are
    unemployed or farming; their employment intention (sectors, places, minimum wage, dormitory)
    is synthesised. Keeps at most ``limit`` seekers (a seeded sample).
    """
    rng = np.random.default_rng(seed)
    frame = people.merge(
        households[["household_code", "village_code", "status"]], on="household_code", how="inner"
    )
    birth = pd.to_datetime(frame["birth_date"], errors="coerce")
    age = (2017 - birth.dt.year).fillna(0).astype(int)
    able = frame["labour_capacity"].isin(ABLE)
    idle = frame["employment"].isin(["unemployed", "farming"])
    frame = frame[able & idle & age.between(16, 59)].assign(age=age)
    if limit is not None and len(frame) > limit:
        frame = frame.sample(n=limit, random_state=seed)
    frame = frame.reset_index(drop=True)
    n = len(frame)
    county = frame["village_code"].astype(str).str[:6]
    pairing = regions.poverty_counties().set_index("county_code_2017")["east_city_code"]
    paired = county.map(pairing).fillna("440300").to_numpy(dtype=object)
    cities = np.asarray(list(CITY_WEIGHT), dtype=object)
    city_p = np.asarray(list(CITY_WEIGHT.values()))
    city_p = city_p / city_p.sum()
    first = np.where(rng.random(n) < 0.35, paired, rng.choice(cities, n, p=city_p))
    places = pd.Series(first, dtype="string")
    places = places.where(rng.random(n) >= 0.3, places + ";" + county.astype("string"))
    common = _seekers_common(rng, n)
    return pd.DataFrame(
        {
            "seeker_id": [f"R{i:07d}" for i in range(n)],
            "household_code": frame["household_code"].astype(str),
            "county_code": county,
            "status": frame["status"].astype(str),
            "age": frame["age"].to_numpy(),
            "sex": frame["sex"].astype(str),
            "ethnicity": frame["ethnicity"].astype(str),
            "education": frame["education"].astype(str).replace({"college": "senior"}),
            "labour_capacity": frame["labour_capacity"].astype(str),
            "skills": frame["skills"].fillna("").astype(str)
            if "skills" in frame
            else common["skills"],
            "sectors": common["sectors"],
            "min_wage": common["min_wage"],
            "needs_dormitory": common["needs_dormitory"],
            "willingness": common["willingness"],
            "places": places.to_numpy(dtype=object),
            "stated_on": "2017-03-01",
        }
    )


def run_demo_market(
    *,
    seed: int,
    households_frame: pd.DataFrame | None = None,
    people_frame: pd.DataFrame | None = None,
    methods: tuple[Literal["stable", "optimal"], ...] = ("stable", "optimal"),
) -> MarketResult:
    """The demo's market: 2017-scale needs and offers, both methods, report and explanations.

    With ``households_frame`` and ``people_frame`` (the demo's synthetic registry), the seekers
    are drawn from that population (at most 23,908); otherwise they are synthesised. The
    report tables are in ``result.tables`` (see :class:`dongxi.market.MarketResult`).
    """
    seekers, offers = market_2017(seed=seed)
    if households_frame is not None and people_frame is not None:
        drawn = seekers_from_people(people_frame, households_frame, seed=seed, limit=SEEKERS_2017)
        if len(drawn):
            seekers = drawn
    return run_market(seekers, offers, seed=seed, methods=methods)
