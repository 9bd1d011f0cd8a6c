"""The years after 2020: a monthly panel with shocks whose process is known (防返贫监测).

:func:`extend` continues the latent population of :mod:`dongxi.synth._population` from January
2021 to December of ``through``, month by month, with its own random stream (the years up to
2020 stay exactly as they were). Each household-month has a base income (the yearly income of
:func:`dongxi.synth._rounds.compute_round` for that year, lifted to a household-specific floor
above the monitoring line, spread over the months with seasonal shares and noise) and the
effects of six kinds of shock, all drawn with numpy over whole arrays:

- ``illness``: serious illness of a member (hazard rising with age, doubled for the chronically
  ill, times a household frailty); out-of-pocket costs over 1–4 months, the member's wage or farm
  work lost for 2–9 months; the member counts as seriously ill in the rounds of those months.
- ``disability``: a member becomes disabled (hazard rising with age); grade 1–2 ends their work,
  grade 3–4 halves it, for the rest of the panel; some out-of-pocket costs.
- ``disaster``: floods and typhoons by county and year (each county has its own yearly risk,
  higher in some years); hit villages lose a share of their households' farm income for three
  months and the households record a loss of property; a few houses are damaged.
- ``job_loss``: a migrant worker loses the job for 1–10 months (monthly hazard by county and year,
  higher in 2022; higher for workers without a skill).
- ``schooling``: a child starting senior school, vocational school or college: a lump sum in
  September and monthly costs during the school year (education costs of every student are
  recorded every month; the shock row marks the start).
- ``house_damage``: a house damaged (by a disaster or on its own): the repair cost is recorded
  as a loss and the house counts as unsafe (grade C/D) until repaired 6–18 months later (one in
  five not by the end of the panel).

Every figure is an assumption of this module (named constants below) unless a source is given;
``docs/synthetic-data.md`` documents the process and the relapse rate it produces.

The registry's monitoring state of each round (``status`` ``monitored`` with a
``monitoring_category``) is what a county would have recorded at the end of the year: a
household is eligible when its income per person over the 12 months is below the year's
monitoring line, or its rigid spending (medical, schooling, disaster losses) over the 12 months
reaches half its net income, or its only house became unsafe; 85 % of the eligible are identified
(the others are the missed households, 应纳未纳, an audit should find); a monitored household
stays monitored while eligible and leaves (风险消除) with probability 0.8 in a year it is not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from dongxi.synth._arrow import codes as _codes
from dongxi.synth._arrow import text
from dongxi.synth._places import Places
from dongxi.synth._population import NEVER, Population
from dongxi.synth._rounds import RoundArrays, _household_status, compute_round
from dongxi.synth._stats import monitoring_line
from dongxi.vocab import SHOCK_KINDS

if TYPE_CHECKING:
    from dongxi.policy import PolicyValue

__all__ = ["SHOCK_KINDS", "MonthlyPanel", "county_lines", "extend"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

FIRST_YEAR = 2021
_ILLNESS = SHOCK_KINDS.codes.index("illness")
_DISABILITY = SHOCK_KINDS.codes.index("disability")
_DISASTER = SHOCK_KINDS.codes.index("disaster")
_JOB_LOSS = SHOCK_KINDS.codes.index("job_loss")
_SCHOOLING = SHOCK_KINDS.codes.index("schooling")
_HOUSE = SHOCK_KINDS.codes.index("house_damage")

# ---- assumptions of the process (yuan, shares, yearly or monthly hazards) -------------------
#: Share of never-registered households living around the monitoring line without a shock
#: (边缘户: their income floor is 0.8–1.25 times the line); more in remote villages.
EDGE_SHARE = 0.03
#: Income floor of the other households: the line times 1 + Gamma(2, 0.15) (mean 1.3; with it
#: the mean income per person grows about 10 % from 2020 to 2021, as Guangxi's rural income did).
FLOOR_SHAPE, FLOOR_SCALE = 2.0, 0.15
#: Monthly shares of the year's wages (Spring Festival: January and February low), farm income
#: (harvests in June–July and October–November) and production costs (planting in March–May).
WAGE_SHARES = np.array([0.05, 0.04, 0.09, 0.09, 0.09, 0.09, 0.09, 0.09, 0.09, 0.09, 0.09, 0.1])
FARM_SHARES = np.array([0.04, 0.03, 0.04, 0.05, 0.07, 0.12, 0.13, 0.08, 0.08, 0.14, 0.14, 0.08])
COST_SHARES = np.array([0.05, 0.06, 0.14, 0.14, 0.12, 0.08, 0.07, 0.07, 0.08, 0.08, 0.06, 0.05])
#: Household-month noise (log-normal sigma) of wages and of farm income.
WAGE_NOISE, FARM_NOISE = 0.08, 0.2
#: Serious illness: yearly hazard 0.4 % + 0.06 % per year of age over 40, doubled for the
#: chronically ill, times a household frailty (log-normal, sigma 0.5, mean 1); total cost
#: log-normal around 30,000 yuan; out-of-pocket share 15 % for households ever registered poor
#: (basic insurance, 大病保险 and 医疗救助, 三重保障), 35 % for others, all when uninsured.
ILLNESS_BASE, ILLNESS_AGE = 0.004, 0.0006
ILLNESS_COST = 30_000.0
OOP_POOR, OOP_OTHER = 0.15, 0.35
FRAILTY_SIGMA = 0.5
#: Ongoing out-of-pocket medical costs a month: chronic 40, serious 250, disabled 60 yuan.
MONTHLY_MEDICAL = np.array([0.0, 40.0, 250.0, 60.0])
#: Disability: yearly hazard 0.08 % + 0.004 % per year of age; costs log-normal around 8,000.
DISABILITY_BASE, DISABILITY_AGE, DISABILITY_COST = 0.0008, 0.00004, 8_000.0
#: Job loss of a migrant: monthly hazard 0.5 % times the county's factor (log-normal, sigma 0.3)
#: and the year's (2022: 1.5, the pandemic's disruptions; 2023: 1.2), times 1.3 without a skill.
JOB_LOSS_MONTHLY = 0.005
JOB_LOSS_YEAR = {2021: 1.0, 2022: 1.5, 2023: 1.2, 2024: 1.0, 2025: 1.0}
#: Disasters: each county's yearly probability of a flood or typhoon is Beta(2, 6) (mean 0.25),
#: times the year's factor (2022 and 2024: 1.3, years of large floods in Guangxi, assumption);
#: in a hit county each village's share of households hit is Beta(1.5, 6) × (0.5 + remoteness);
#: a hit household loses 30–100 % of its farm income for three months and property log-normal
#: around 2,500 yuan × its productivity; 6 % of hit houses are damaged.
DISASTER_YEAR = {2022: 1.3, 2024: 1.3}
DISASTER_ASSET = 2_500.0
DISASTER_HOUSE = 0.06
#: House damage without a disaster: yearly hazard 0.1 % + 0.2 % × remoteness; repair cost
#: log-normal around 25,000 yuan; repaired after 6–18 months (80 %).
HOUSE_BASE, HOUSE_REMOTE, HOUSE_COST = 0.001, 0.002, 25_000.0
#: Schooling costs (yuan a month of the school year, ten months; lump sum each September):
#: senior school 300 and 1,500, vocational school 200 and 1,000, college 1,000 and 5,000.
SCHOOL_MONTHLY = {4: 300.0, 5: 200.0, 6: 1000.0}
SCHOOL_LUMP = {4: 1500.0, 5: 1000.0, 6: 5000.0}
SCHOOL_MONTHS = np.array([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1], dtype=bool)
#: Recorded monitoring: share of eligible households identified each year; share of monitored
#: households no longer eligible whose risk is removed that year; rigid spending share of income.
IDENTIFIED, REMOVED, RIGID_SHARE = 0.85, 0.8, 0.5


@dataclass
class MonthlyPanel:
    """The panel after 2020: rounds (arrays), monthly rows, shocks and the relapse figures."""

    years: tuple[int, ...]
    rounds: dict[int, RoundArrays]
    income_months: pd.DataFrame
    shocks: pd.DataFrame
    relapse: pd.DataFrame  # per year: households and people below the line / eligible / recorded


@dataclass
class _Events:
    """Shock events as parallel arrays (one entry per event)."""

    hh: list[IntArray] = dataclasses.field(default_factory=list)
    t: list[IntArray] = dataclasses.field(default_factory=list)
    kind: list[IntArray] = dataclasses.field(default_factory=list)
    size: list[FloatArray] = dataclasses.field(default_factory=list)

    def add(self, hh: IntArray, t: IntArray, kind: int, size: FloatArray) -> None:
        self.hh.append(hh.astype(np.int64))
        self.t.append(t.astype(np.int64))
        self.kind.append(np.full(len(hh), kind, dtype=np.int64))
        self.size.append(size.astype(np.float64))


def _spread(
    index: IntArray, start: IntArray, length: IntArray, amount: FloatArray, horizon: int
) -> tuple[IntArray, IntArray, FloatArray]:
    """Expand (row, first month, months, amount a month) into one entry per row-month (clipped
    to the panel's ``horizon`` months)."""
    length = np.clip(np.minimum(length, horizon - start), 0, None)
    rep = np.repeat(np.arange(len(index)), length)
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(length) - length, length)
    return index[rep], start[rep] + offset, amount[rep]


def _lognormal(rng: np.random.Generator, mean: float, sigma: float, n: int) -> FloatArray:
    """Log-normal draws with the given mean."""
    return mean * np.exp(rng.normal(-0.5 * sigma**2, sigma, n))


def _age(pop: Population, year: int) -> FloatArray:
    end = np.datetime64(f"{year}-12-31", "D")
    return np.floor((end - pop.p_birth).astype(np.int64) / 365.25)


def _lift(pop: Population, r: RoundArrays, floor: FloatArray) -> dict[str, FloatArray]:
    """Yearly income parts of a round lifted to at least ``floor`` (yuan per household)."""
    net = r.wage + r.operating + r.property_ + r.transfer - r.costs
    gap = np.maximum(floor - net, 0.0)
    gap_op = 0.5 * gap / (1.0 - pop.h_cost)
    return {
        "wage": r.wage,
        "operating": r.operating + gap_op,
        "property": r.property_,
        "transfer": r.transfer + 0.5 * gap,
        "costs": r.costs + gap_op * pop.h_cost,
    }


def county_lines(
    county_codes: Sequence[str], year: int, overrides: Sequence[PolicyValue] = ()
) -> FloatArray:
    """The monitoring line of ``year`` for each county: the office's own figures
    (``overrides``, most specific region first) and ``dongxi.policy``'s, else the assumption of
    :func:`dongxi.synth._stats.monitoring_line`."""
    default = monitoring_line(year)
    if not overrides:
        return np.full(len(county_codes), default)
    from dongxi.errors import NotFoundError
    from dongxi.policy import get_parameter

    out = np.empty(len(county_codes))
    for i, code in enumerate(county_codes):  # 33 counties at most
        try:
            found = get_parameter("monitoring_line", year=year, scope=code, overrides=overrides)
        except NotFoundError:
            out[i] = default
        else:
            out[i] = float(found.value)
    return out


def extend(
    pop: Population,
    places: Places,
    fixes: dict[str, Any],
    *,
    seed: int,
    through: int,
    previous: RoundArrays | None = None,
    overrides: Sequence[PolicyValue] = (),
) -> MonthlyPanel:
    """The monthly panel January 2021 – December ``through`` (see the module's description).

    ``previous`` is the round of 2020 when the caller has it (else it is computed);
    ``overrides`` are an office's own policy figures: its ``monitoring_line`` of a year (for the
    province or for single counties) replaces the default line of that year."""
    rng = np.random.default_rng([seed, FIRST_YEAR])  # a stream of its own: earlier years unchanged
    years = tuple(range(FIRST_YEAR, through + 1))
    n_h, n_p = len(pop.h_code), len(pop.p_hh)
    horizon = 12 * len(years)
    hh = pop.p_hh
    county = pop.h_county
    n_county = int(county.max()) + 1 if n_h else 1
    n_village = int(pop.h_village.max()) + 1 if n_h else 1

    # ---- traits of the post-2020 process -----------------------------------------------------
    frailty = np.exp(rng.normal(-0.5 * FRAILTY_SIGMA**2, FRAILTY_SIGMA, n_h))
    edge = (pop.h_year_registered == NEVER) & (
        rng.random(n_h) < EDGE_SHARE * (0.5 + pop.h_remote) / 0.9
    )
    margin = np.where(
        edge, rng.uniform(0.8, 1.25, n_h), 1.0 + rng.gamma(FLOOR_SHAPE, FLOOR_SCALE, n_h)
    )
    job_county = np.exp(rng.normal(0.0, 0.3, n_county))
    disaster_county = rng.beta(2.0, 6.0, n_county)
    oop = np.where(pop.h_year_registered != NEVER, OOP_POOR, OOP_OTHER)

    if previous is None:
        previous = compute_round(pop, places, FIRST_YEAR - 1, fixes)
    codes = [str(c) for c in places.counties["county_code"]]
    lines = {y: county_lines(codes, y, overrides)[county] for y in years}  # per household
    base = {y: compute_round(pop, places, y, fixes) for y in years}

    # ---- monthly base income per household (H × months) ---------------------------------------
    wage = np.empty((n_h, horizon))
    farm = np.empty((n_h, horizon))
    rest = np.empty((n_h, horizon))  # property income and transfers: not hit by shocks
    costs = np.empty((n_h, horizon))
    property_month = np.empty((n_h, len(years)))
    transfer_month = np.empty((n_h, len(years)))
    for i, y in enumerate(years):
        r = base[y]
        parts = _lift(pop, r, lines[y] * margin * np.maximum(r.size, 1))
        cols = slice(12 * i, 12 * i + 12)
        noise_w = np.exp(rng.normal(-0.5 * WAGE_NOISE**2, WAGE_NOISE, (n_h, 12)))
        noise_f = np.exp(rng.normal(-0.5 * FARM_NOISE**2, FARM_NOISE, (n_h, 12)))
        wage[:, cols] = parts["wage"][:, None] * WAGE_SHARES[None, :] * noise_w
        farm[:, cols] = parts["operating"][:, None] * FARM_SHARES[None, :] * noise_f
        costs[:, cols] = parts["costs"][:, None] * COST_SHARES[None, :]
        property_month[:, i] = np.round(parts["property"] / 12.0, 2)
        transfer_month[:, i] = np.round(parts["transfer"] / 12.0, 2)
        rest[:, cols] = (property_month[:, i] + transfer_month[:, i])[:, None]

    events = _Events()
    wage_loss = np.zeros(n_h * horizon)
    farm_loss = np.zeros(n_h * horizon)  # share of the month's farm income lost
    medical = np.zeros(n_h * horizon)
    schooling = np.zeros(n_h * horizon)
    disaster = np.zeros(n_h * horizon)

    # person-level state over the years: who is seriously ill / disabled when
    ill_until = np.full(n_p, -1, dtype=np.int64)  # last month (panel index) of a serious illness
    ill_from = np.full(n_p, NEVER, dtype=np.int64)
    disabled_from = np.full(n_p, NEVER, dtype=np.int64)
    grade_new = np.zeros(n_p, dtype=np.int64)
    jobless_until = np.full(n_p, -1, dtype=np.int64)
    jobless_from = np.full(n_p, NEVER, dtype=np.int64)
    house_from = np.full(n_h, NEVER, dtype=np.int64)
    house_until = np.full(n_h, -1, dtype=np.int64)
    house_grade = np.full(n_h, 2, dtype=np.int64)

    def add_loss(target: FloatArray, h: IntArray, t: IntArray, amount: FloatArray) -> None:
        np.add.at(target, h * horizon + t, amount)

    for i, y in enumerate(years):
        r = base[y]
        t0 = 12 * i
        age = _age(pop, y)
        alive = r.present
        # a member's average monthly contribution to the household's wages this year
        contrib = np.nan_to_num(r.monthly_wage) * np.maximum(r.months, 0) / 12.0
        works_farm = (r.employment == 3) | (r.employment == 4)
        farmers = np.bincount(hh, weights=(alive & works_farm).astype(float), minlength=n_h)
        farm_share = np.where(works_farm, 1.0 / np.maximum(farmers[hh], 1.0), 0.0)

        # illness
        over40 = np.maximum(age - 40.0, 0.0)
        lam = (ILLNESS_BASE + ILLNESS_AGE * over40) * np.where(r.health == 1, 2.0, 1.0)
        lam = lam * frailty[hh]
        sick = alive & (r.health != 2) & (ill_until < t0) & (rng.random(n_p) < lam)
        p = np.flatnonzero(sick)
        start = t0 + rng.integers(0, 12, len(p))
        cost = _lognormal(rng, ILLNESS_COST, 0.8, len(p)) * np.where(r.medical[p], oop[hh[p]], 1.0)
        spell = rng.integers(1, 5, len(p))
        h_, t_, a_ = _spread(hh[p], start, spell, cost / spell, horizon)
        add_loss(medical, h_, t_, a_)
        away = rng.integers(2, 10, len(p))
        h_, t_, a_ = _spread(hh[p], start, away, contrib[p], horizon)
        add_loss(wage_loss, h_, t_, a_)
        h_, t_, a_ = _spread(hh[p], start, away, farm_share[p], horizon)
        add_loss(farm_loss, h_, t_, a_)
        ill_from[p] = start
        ill_until[p] = start + away - 1
        lost = contrib[p] * np.minimum(away, horizon - start) + cost
        events.add(hh[p], start, _ILLNESS, lost)

        # disability (permanent)
        lam = DISABILITY_BASE + DISABILITY_AGE * age
        new = alive & (r.health != 3) & (disabled_from == NEVER) & (rng.random(n_p) < lam)
        p = np.flatnonzero(new)
        start = t0 + rng.integers(0, 12, len(p))
        grade = rng.choice([1, 2, 3, 4], len(p), p=[0.1, 0.2, 0.3, 0.4])
        share = np.where(grade <= 2, 1.0, 0.5)
        cost = _lognormal(rng, DISABILITY_COST, 0.7, len(p)) * np.where(
            r.medical[p], oop[hh[p]], 1.0
        )
        medical_idx = hh[p] * horizon + start
        np.add.at(medical, medical_idx, cost)
        # wage lost for the rest of the panel: this year's contribution (later years below)
        months_left = horizon - start
        h_, t_, a_ = _spread(hh[p], start, months_left, contrib[p] * share, horizon)
        add_loss(wage_loss, h_, t_, a_)
        h_, t_, a_ = _spread(hh[p], start, months_left, farm_share[p] * share, horizon)
        add_loss(farm_loss, h_, t_, a_)
        disabled_from[p] = start
        grade_new[p] = grade
        events.add(hh[p], start, _DISABILITY, cost + contrib[p] * share * (t0 + 12 - start))

        # job loss of migrant workers
        migrant = alive & (r.employment <= 1) & (jobless_until < t0)
        lam = JOB_LOSS_MONTHLY * job_county[county[hh]] * JOB_LOSS_YEAR.get(y, 1.0)
        lam = lam * np.where(r.skilled, 1.0, 1.3)
        lose = migrant & (rng.random(n_p) < 12.0 * lam)
        p = np.flatnonzero(lose)
        start = t0 + rng.integers(0, 12, len(p))
        spell = np.minimum(1 + rng.geometric(0.3, len(p)), 10)
        amount = np.nan_to_num(r.monthly_wage[p])
        h_, t_, a_ = _spread(hh[p], start, spell, amount, horizon)
        add_loss(wage_loss, h_, t_, a_)
        jobless_from[p] = start
        jobless_until[p] = start + spell - 1
        events.add(hh[p], start, _JOB_LOSS, amount * np.minimum(spell, horizon - start))

        # disasters: county-years, then villages, then households
        p_year = np.clip(disaster_county * DISASTER_YEAR.get(y, 1.0), 0.0, 0.9)
        county_hit = rng.random(n_county) < p_year
        month = rng.choice([5, 6, 7, 8], n_county, p=[0.3, 0.3, 0.2, 0.2])  # June–September
        severity = rng.beta(1.5, 6.0, n_village)
        v = pop.h_village
        hit = county_hit[county] & (rng.random(n_h) < severity[v] * (0.5 + pop.h_remote))
        h = np.flatnonzero(hit)
        start = t0 + month[county[h]]
        cut = rng.uniform(0.3, 1.0, len(h))
        h_, t_, a_ = _spread(h, start, np.full(len(h), 3), cut, horizon)
        add_loss(farm_loss, h_, t_, a_)
        asset = _lognormal(rng, DISASTER_ASSET, 0.9, len(h)) * pop.h_prod[h]
        np.add.at(disaster, h * horizon + start, asset)
        season = np.minimum(start[:, None] + np.arange(3)[None, :], horizon - 1)
        farm_lost = cut * farm[h[:, None], season].sum(axis=1)
        events.add(h, start, _DISASTER, asset + farm_lost)
        damaged = h[rng.random(len(h)) < DISASTER_HOUSE]
        damaged_t = t0 + month[county[damaged]]
        # house damage on its own
        lam = HOUSE_BASE + HOUSE_REMOTE * pop.h_remote
        spared = np.ones(n_h, dtype=bool)
        spared[damaged] = False
        own = np.flatnonzero((rng.random(n_h) < lam) & spared)
        damaged = np.concatenate([damaged, own])
        damaged_t = np.concatenate([damaged_t, t0 + rng.integers(0, 12, len(own))])
        fresh = house_until[damaged] < damaged_t
        damaged, damaged_t = damaged[fresh], damaged_t[fresh]
        repair = _lognormal(rng, HOUSE_COST, 0.6, len(damaged))
        np.add.at(disaster, damaged * horizon + damaged_t, repair)
        fixed_in = np.where(rng.random(len(damaged)) < 0.8, rng.integers(6, 19, len(damaged)), 999)
        house_from[damaged] = damaged_t
        house_until[damaged] = damaged_t + fixed_in
        house_grade[damaged] = np.where(rng.random(len(damaged)) < 0.6, 2, 3)
        events.add(damaged, damaged_t, _HOUSE, repair)

        # schooling: Jan–Aug by last year's school status, Sep–Dec by this year's
        last = previous if i == 0 else base[years[i - 1]]
        school = schooling.reshape(n_h, horizon)
        for rr, span in ((last, range(8)), (r, range(8, 12))):
            level = np.where(rr.present, rr.school, 0)
            monthly = np.zeros(n_p)
            for code, cost_m in SCHOOL_MONTHLY.items():
                monthly = np.where(level == code, cost_m, monthly)
            per_h = np.bincount(hh, weights=monthly, minlength=n_h)
            for m in span:
                if SCHOOL_MONTHS[m]:
                    school[:, t0 + m] += per_h
        level = np.where(r.present, r.school, 0)
        lump = np.zeros(n_p)
        for code, cost_l in SCHOOL_LUMP.items():
            lump = np.where(level == code, cost_l, lump)
        school[:, t0 + 8] += np.bincount(hh, weights=lump, minlength=n_h)
        before = np.where(last.present, last.school, 0)
        p = np.flatnonzero((level >= 4) & (level <= 6) & (before != level))
        yearly = np.zeros(n_p)
        for code in SCHOOL_LUMP:
            yearly = np.where(level == code, SCHOOL_LUMP[code] + 10 * SCHOOL_MONTHLY[code], yearly)
        events.add(hh[p], np.full(len(p), t0 + 8), _SCHOOLING, yearly[p])

        # ongoing medical costs of the chronically ill, seriously ill and disabled
        state = np.where(r.present, r.health, 0)
        per_h = np.bincount(
            hh, weights=MONTHLY_MEDICAL[state] * np.where(r.medical, oop[hh], 1.0), minlength=n_h
        )
        medical.reshape(n_h, horizon)[:, t0 : t0 + 12] += per_h[:, None]

    # later years of a disability: the contribution changes with the year's wage level; the
    # expansion above used the year of onset's contribution for every later month (assumption)

    # ---- monthly net income ---------------------------------------------------------------------
    # in place: at a million people each of these arrays holds 20 million months
    wage_m = wage
    wage_m -= wage_loss.reshape(n_h, horizon)
    np.maximum(wage_m, 0.0, out=wage_m)
    del wage_loss
    farm_m = farm
    kept = farm_loss.reshape(n_h, horizon)
    np.clip(kept, 0.0, 1.0, out=kept)
    np.subtract(1.0, kept, out=kept)
    farm_m *= kept
    del farm_loss, kept
    for part in (wage_m, farm_m, costs, rest, medical, schooling, disaster):
        np.round(part, 2, out=part)
    net = wage_m + farm_m
    net += rest
    net -= costs
    np.round(net, 2, out=net)
    medical_m = medical.reshape(n_h, horizon)
    schooling_m = schooling.reshape(n_h, horizon)
    disaster_m = disaster.reshape(n_h, horizon)

    # ---- rounds: people's states, incomes from the months, recorded monitoring ------------------
    rounds: dict[int, RoundArrays] = {}
    relapse_rows = []
    monitored = np.full(n_h, -1, dtype=np.int64)
    u_id = rng.random((len(years), n_h))
    u_out = rng.random((len(years), n_h))
    for i, y in enumerate(years):
        r = base[y]
        t0, t1 = 12 * i, 12 * i + 11
        cols = slice(t0, t0 + 12)
        size = np.maximum(r.size, 1)
        wage_y = np.round(wage_m[:, cols].sum(axis=1), 2)
        farm_y = np.round(farm_m[:, cols].sum(axis=1), 2)
        costs_y = np.round(costs[:, cols].sum(axis=1), 2)
        prop_y = np.round(12 * property_month[:, i], 2)
        transfer_y = np.round(12 * transfer_month[:, i], 2)
        net_y = net[:, cols].sum(axis=1)
        rigid = (medical_m[:, cols] + schooling_m[:, cols] + disaster_m[:, cols]).sum(axis=1)
        line = lines[y]
        per_person = net_y / size
        below = per_person < line
        burden = rigid >= RIGID_SHARE * np.maximum(net_y, 0.0)
        unsafe = (house_from <= t1) & (house_until > t1)  # damaged, not repaired by December
        eligible = below | burden | unsafe
        status, year_registered, year_exited = _household_status(pop, y)
        escaped = status == 1
        identified = eligible & (u_id[i] < IDENTIFIED)
        stays = (monitored >= 0) & (eligible | (u_out[i] >= REMOVED))
        category = np.where(escaped, 0, np.where(below, 1, 2))
        monitored = np.where(stays, monitored, np.where(identified, category, -1)).astype(np.int64)
        status = np.where(monitored >= 0, 2, status).astype(np.int64)
        year_exited = np.where(status == 1, year_exited, NEVER).astype(np.int64)

        # people: serious illness and disability in force in December, job losses then
        health = r.health.copy()
        labour = r.labour.copy()
        employment = r.employment.copy()
        monthly_wage = r.monthly_wage.copy()
        months = r.months.copy()
        adult = labour != 4
        ill_now = (ill_from <= t1) & (ill_until >= t0)
        health = np.where(ill_now & (health != 3), 2, health)
        dis_now = disabled_from <= t1
        health = np.where(dis_now, 3, health)
        grade = np.where(dis_now & (grade_new > 0), grade_new, pop.p_grade)
        labour = np.where(adult & ill_now, np.maximum(labour, 2), labour)
        labour = np.where(adult & dis_now, np.where(grade <= 2, 3, 2), labour)
        lost_work = adult & (labour == 3)
        out_of_job = (jobless_from <= t1) & (jobless_until >= t1) & (employment <= 1)
        employment = np.where(out_of_job, 5, employment)
        employment = np.where(lost_work, 6, employment)
        no_wage = lost_work | out_of_job
        monthly_wage = np.where(no_wage, np.nan, monthly_wage)
        months = np.where(no_wage, -1, months)
        housing = np.where(unsafe, house_grade, r.housing)
        work_region = np.where(no_wage, 0, r.work_region)
        sector = np.where(no_wage, -1, r.sector)
        rounds[y] = dataclasses.replace(
            r,
            status=status,
            monitoring=monitored.copy(),
            year_registered=year_registered,
            year_exited=year_exited,
            housing=housing.astype(np.int64),
            wage=wage_y,
            operating=farm_y,
            property_=prop_y,
            transfer=transfer_y,
            costs=costs_y,
            size=size.astype(np.int64),
            health=health.astype(np.int64),
            labour=labour.astype(np.int64),
            employment=employment.astype(np.int64),
            monthly_wage=monthly_wage,
            months=months.astype(np.int64),
            work_region=work_region.astype(np.int64),
            sector=sector.astype(np.int64),
            grade=grade.astype(np.int64),
        )
        people = np.bincount(hh, weights=r.present.astype(float), minlength=n_h)
        relapse_rows.append(
            {
                "year": y,
                "line": float(np.median(line)) if n_h else monitoring_line(y),
                "households": n_h,
                "below_line": int(below.sum()),
                "below_line_escaped": int((below & escaped).sum()),
                "rigid_burden": int(burden.sum()),
                "house_unsafe": int(unsafe.sum()),
                "eligible": int(eligible.sum()),
                "monitored": int((monitored >= 0).sum()),
                "people": int(people.sum()),
                "people_eligible": int(people[eligible].sum()),
                "people_monitored": int(people[monitored >= 0].sum()),
            }
        )

    sizes = np.stack([np.maximum(base[y].size, 1) for y in years], axis=1)
    income_months = _month_frame(pop, years, net, medical_m, schooling_m, disaster_m, sizes)
    shocks = _shock_frame(pop, years, events)
    return MonthlyPanel(
        years=years,
        rounds=rounds,
        income_months=income_months,
        shocks=shocks,
        relapse=pd.DataFrame(relapse_rows),
    )


def _month_labels(years: tuple[int, ...]) -> list[str]:
    return [f"{y:04d}-{m:02d}" for y in years for m in range(1, 13)]


def _month_frame(
    pop: Population,
    years: tuple[int, ...],
    net: FloatArray,
    medical: FloatArray,
    schooling: FloatArray,
    disaster: FloatArray,
    sizes: IntArray,
) -> pd.DataFrame:
    """One row per household and month, ordered by household code and month."""
    n_h, horizon = net.shape
    if n_h > 1 and not (pop.h_code[:-1] <= pop.h_code[1:]).all():
        order = np.argsort(pop.h_code, kind="stable")
        net, medical, schooling = net[order], medical[order], schooling[order]
        disaster, sizes = disaster[order], sizes[order]
    else:
        order = np.arange(n_h)
    rows = np.repeat(order, horizon)
    month_idx = np.tile(np.arange(horizon, dtype=np.int64), n_h)
    return pd.DataFrame(
        {
            "household_code": text(pop.h_code_arrow.take(pa.array(rows))),
            "month": _codes(_month_labels(years), month_idx),
            "net_income": net.ravel(),
            "medical_spending": medical.ravel(),
            "schooling_spending": schooling.ravel(),
            "disaster_loss": disaster.ravel(),
            "household_size": np.repeat(sizes, 12, axis=1).ravel().astype(np.int64),
        },
        copy=False,
    )


def _shock_frame(pop: Population, years: tuple[int, ...], events: _Events) -> pd.DataFrame:
    """The ground truth: one row per shock (household, month of onset, kind, size in yuan)."""
    if events.hh:
        h = np.concatenate(events.hh)
        t = np.concatenate(events.t)
        kind = np.concatenate(events.kind)
        size = np.concatenate(events.size)
    else:
        h = t = kind = np.zeros(0, dtype=np.int64)
        size = np.zeros(0)
    order = np.lexsort((kind, t, pop.h_code[h]))
    h, t, kind, size = h[order], t[order], kind[order], size[order]
    return pd.DataFrame(
        {
            "household_code": text(pop.h_code_arrow.take(pa.array(h))),
            "month": _codes(_month_labels(years), t),
            "kind": _codes(SHOCK_KINDS, kind),
            "size": np.round(size, 2),
        }
    )
