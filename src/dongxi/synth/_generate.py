"""``generate()``: the one synthetic data set of dongxi, deterministic by seed."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from dongxi.errors import InputError
from dongxi.synth._extras import make_helpers, make_measures, make_partners, status_history
from dongxi.synth._households import household_frame, income_frame, make_causes, make_fixes
from dongxi.synth._months import extend
from dongxi.synth._places import Places, pick_villages
from dongxi.synth._population import Population, make_population
from dongxi.synth._rounds import RoundArrays, compute_round, people_frame

if TYPE_CHECKING:
    from dongxi.policy import PolicyValue

__all__ = ["SCALES", "Rounds", "Scale", "SynthData", "generate"]

logger = logging.getLogger(__name__)

Scale = Literal["village", "county", "city", "province"]
SCALES: tuple[Scale, ...] = ("village", "county", "city", "province")
TABLES = ("households", "household_status", "people", "income", "measures", "partners", "helpers")
#: The last year ``through`` may name (the monthly panel runs from January 2021).
LAST_MONTHLY_YEAR = 2030


@dataclass(frozen=True)
class Rounds:
    """The state of one year: households, their members and that year's income rows."""

    year: int
    households: pd.DataFrame
    people: pd.DataFrame
    income: pd.DataFrame


class _LazyRounds(Mapping[int, Rounds]):
    """Rounds built on first access (a province of several years does not sit in memory)."""

    def __init__(self, build: dict[int, RoundArrays], make: _RoundMaker) -> None:
        self._arrays = build
        self._make = make
        self._cache: dict[int, Rounds] = {}

    def __getitem__(self, year: int) -> Rounds:
        if year not in self._arrays:
            raise KeyError(year)
        if year not in self._cache:
            self._cache[year] = self._make(self._arrays[year])
        return self._cache[year]

    def __iter__(self) -> Iterator[int]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)


@dataclass
class _RoundMaker:
    pop: Population
    places: Places
    primary: np.ndarray
    causes: pd.Series
    helper: pd.Series

    def __call__(self, r: RoundArrays) -> Rounds:
        village_codes = self.places.villages["code"].to_numpy().astype(str)
        households = household_frame(
            self.pop, r, village_codes, self.primary, self.causes, self.helper
        )
        people = people_frame(self.pop, r)
        return Rounds(
            year=r.year, households=households, people=people, income=income_frame(self.pop, r)
        )


@dataclass(frozen=True)
class SynthData:
    """The tables of a synthetic registry (columns exactly those of ``docs/data-dictionary.md``).

    ``households`` and ``people`` are the state at the end of the last year; ``income`` holds
    one row per household and year; ``rounds`` maps each year to that year's state. With
    ``generate(through=...)``, ``income_months`` holds one row per household and month from
    2021-01, ``shocks`` the shocks that hit them (ground truth for evaluation, not a registry
    table) and ``relapse`` the yearly counts of households below the monitoring line, eligible
    for monitoring and recorded as monitored; otherwise these three are ``None``.
    """

    households: pd.DataFrame
    household_status: pd.DataFrame
    people: pd.DataFrame
    income: pd.DataFrame
    measures: pd.DataFrame
    partners: pd.DataFrame
    helpers: pd.DataFrame
    rounds: Mapping[int, Rounds]
    seed: int
    vintage: int
    years: tuple[int, ...] = field(default=())
    income_months: pd.DataFrame | None = None
    shocks: pd.DataFrame | None = None
    relapse: pd.DataFrame | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The registry tables by name (the current state; ``income_months`` when made)."""
        out = {name: getattr(self, name) for name in TABLES}
        if self.income_months is not None:
            out["income_months"] = self.income_months
        return out


def _check_years(years: Sequence[int]) -> tuple[int, ...]:
    try:
        clean = tuple(sorted({int(y) for y in years}))
    except (TypeError, ValueError):
        raise InputError(
            "Years must be whole numbers.", value=list(years), fix="Pass e.g. years=(2016, 2017)."
        ) from None
    if not clean or clean[0] < 2014 or clean[-1] > 2030:
        raise InputError(
            "Years of the panel must lie within 2014–2030 (registration began in 2014).",
            value=list(years),
            fix="Pass years between 2014 and 2030, e.g. (2016, 2017, 2018, 2019, 2020).",
        )
    return clean


def _check_through(through: int | None, years: tuple[int, ...]) -> None:
    if through is None:
        return
    if isinstance(through, bool) or not isinstance(through, int | np.integer):
        raise InputError(
            "The last year of the monthly panel must be a whole number.",
            column="--through",
            value=through,
            fix="Pass e.g. through=2025.",
        )
    if not 2021 <= through <= LAST_MONTHLY_YEAR:
        raise InputError(
            f"The monthly panel runs from 2021 to a year no later than {LAST_MONTHLY_YEAR}.",
            column="--through",
            value=through,
            fix="Pass a year from 2021 to 2030, e.g. through=2025.",
        )
    if years[-1] > 2020:
        raise InputError(
            "With a monthly panel (through), the yearly years must end by 2020: the years after "
            "2020 come from the months.",
            column="--years",
            value=list(years),
            fix="Pass years up to 2020 (e.g. 2016-2020) and through=2025.",
        )


def generate(
    *,
    households: int | None = None,
    scale: Scale | None = None,
    seed: int = 0,
    years: Sequence[int] = (2016, 2017, 2018, 2019, 2020),
    vintage: int = 2017,
    through: int | None = None,
    overrides: Sequence[PolicyValue] = (),
) -> SynthData:
    """A synthetic registry of Guangxi's 33 paired poverty counties, deterministic by ``seed``.

    ``households`` sets the number of households (spread over villages of ~330 households across
    the 33 counties unless ``scale`` restricts the area); ``scale`` alone takes every rural village
    of one village, county, city (the paired counties of one prefecture) or of all 33 counties
    (``province``, ~1.5 million households). Without either, one county. ``years`` are the rounds
    of the panel; ``vintage`` (2017 or 2023) the division codes used.

    ``through`` (2021–2030) continues the panel month by month from January 2021 to December of
    that year with shocks (illness, disability, disaster, job loss, schooling, house damage;
    :mod:`dongxi.synth._months`): yearly rounds 2021..``through`` are added, and
    ``income_months``, ``shocks`` and ``relapse`` filled. ``years`` must then end by 2020; the
    years up to 2020 are the same as without ``through`` (the months draw from a stream of their
    own). ``overrides`` (:func:`dongxi.policy.load_overrides`) give the office's own monitoring
    lines of the years after 2020, for the province or single counties.
    """
    if households is not None and (
        isinstance(households, bool)
        or not isinstance(households, int | np.integer)
        or households < 1
    ):
        raise InputError(
            "The number of households must be a positive whole number.",
            value=households,
            fix="Pass households=1000 or more.",
        )
    if scale is not None and scale not in SCALES:
        raise InputError("Unknown scale.", value=scale, fix=f"Use one of {', '.join(SCALES)}.")
    if households is None and scale is None:
        scale = "county"
    year_list = _check_years(years)
    _check_through(through, year_list)
    rng = np.random.default_rng(seed)
    count = None if households is None else int(households)
    places, n = pick_villages(rng, households=count, scale=scale, vintage=vintage)
    logger.info("synthesising %d households in %d villages", n, len(places.villages))
    pop = make_population(
        rng, places, households=n, ref_year=year_list[-1], first_year=year_list[0]
    )
    fixes = make_fixes(rng, pop)
    arrays = {y: compute_round(pop, places, y, fixes) for y in year_list}
    primary, causes = make_causes(rng, pop, arrays[year_list[0]], fixes)
    helpers, helper = make_helpers(rng, pop, places)
    partners = make_partners(rng, places, counties_used=np.unique(pop.h_county))
    measures = make_measures(
        rng, pop, places, primary, causes, helper, partners, fixes, last_year=year_list[-1]
    )
    panel = None
    if through is not None:
        panel = extend(
            pop,
            places,
            fixes,
            seed=seed,
            through=through,
            previous=arrays.get(2020),
            overrides=overrides,
        )
        arrays.update(panel.rounds)
        year_list = (*year_list, *panel.years)
    history = status_history(pop, [arrays[y] for y in year_list])
    rounds = _LazyRounds(arrays, _RoundMaker(pop, places, primary, causes, helper))
    last = rounds[year_list[-1]]
    income = pd.concat([income_frame(pop, arrays[y]) for y in year_list], ignore_index=True)
    return SynthData(
        households=last.households,
        household_status=history,
        people=last.people,
        income=income,
        measures=measures,
        partners=partners,
        helpers=helpers,
        rounds=rounds,
        seed=seed,
        vintage=vintage,
        years=year_list,
        income_months=None if panel is None else panel.income_months,
        shocks=None if panel is None else panel.shocks,
        relapse=None if panel is None else panel.relapse,
    )
