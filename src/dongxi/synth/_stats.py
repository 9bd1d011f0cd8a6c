"""Public statistics the synthetic data are calibrated to, with their sources.

Every figure is marked as a public statistic (with its source) or as an assumption of this module.
The generators read only these constants, so changing a target happens in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

__all__ = [
    "AGE_STRUCTURE",
    "GUANGXI_RURAL_INCOME",
    "HOUSEHOLDS_PER_VILLAGE",
    "INCOME_LEVEL_FACTOR",
    "INCOME_SPLIT_2015",
    "MIGRANT_WAGE",
    "PENSION_MONTHLY",
    "POOR_REMAINING",
    "POVERTY_INCIDENCE",
    "REGISTERED_SHARE",
    "monitoring_line",
    "poverty_line",
    "wage_level",
]

logger = logging.getLogger(__name__)

#: Guangxi rural income per person (yuan). 2015: 9,467 and 2016: 10,359 (Guangxi statistics
#: bureau, reported by gxcounty.com 2016-02-25 and Xinhua 2017-03-15); 2019: 13,676 (issue 3).
#: 2017 11,325, 2018 12,435 and 2020 14,815: the bureau's communiqué figures as commonly cited
#: (unverified here).
GUANGXI_RURAL_INCOME: Mapping[int, float] = {
    2015: 9467.0,
    2016: 10359.0,
    2017: 11325.0,
    2018: 12435.0,
    2019: 13676.0,
    2020: 14815.0,
}

#: Split of the 2015 figure: wages 2,549, household operating (net) 4,360, property 116, transfers
#: 2,442 yuan (Guangxi statistics bureau, gxcounty.com 2016-02-25). Shares sum to 1.
INCOME_SPLIT_2015: Mapping[str, float] = {
    "wage": 2549 / 9467,
    "operating": 4360 / 9467,
    "property": 116 / 9467,
    "transfer": 2442 / 9467,
}

#: Assumption: the 33 paired poverty counties earn this share of the provincial rural average
#: (Guangxi's poverty counties grow faster but from a lower level; no county-level series used).
INCOME_LEVEL_FACTOR = 0.8

#: Monthly income of migrant workers (yuan), national, NBS 农民工监测调查报告: 2016 3,275;
#: 2017 3,485; 2018 3,721; 2019 3,962; 2020 4,072. Guangxi 2015: outgoing migrants 3,031, local
#: 2,677 (Guangxi survey team via gxcounty.com), hence local wages at 0.88 of outgoing ones.
MIGRANT_WAGE: Mapping[int, float] = {
    2015: 3072.0,
    2016: 3275.0,
    2017: 3485.0,
    2018: 3721.0,
    2019: 3962.0,
    2020: 4072.0,
}
LOCAL_WAGE_RATIO = 2677 / 3031

#: Age structure of Guangxi (2020 census): 0–14 23.6 %, 15–59 59.7 %, 60+ 16.7 %.
AGE_STRUCTURE: Mapping[str, float] = {"0-14": 0.236, "15-59": 0.597, "60+": 0.167}

#: Mean household size 2.87 (2020 census, resident members). The registry counts registered
#: members, including those working away, so registered households are somewhat larger
#: (assumption: about 3.0 for other households, 3.7 for registered-poor households).
CENSUS_HOUSEHOLD_SIZE = 2.87

#: Poverty incidence in Guangxi: 12.6 % in 2014, 5.7 % in 2017 (issue 3; Guangxi poverty office).
POVERTY_INCIDENCE: Mapping[int, float] = {2014: 0.126, 2017: 0.057}

#: Assumption: share of households ever registered poor in the 33 paired poverty counties (about
#: twice the provincial incidence, as registered-poor households concentrate there).
REGISTERED_SHARE = 0.22

#: Share of the registered poor still poor at the end of each year (Guangxi's registered poor fell
#: from 5.38 million at the end of 2014 to 4.52 (2015), 3.41 (2016), 2.67 (2017), 1.46 (2018),
#: 0.24 (2019) and 0 (2020) million, as reported by the Guangxi poverty office; approximate).
POOR_REMAINING: Mapping[int, float] = {
    2014: 1.0,
    2015: 4.52 / 5.38,
    2016: 3.41 / 5.38,
    2017: 2.67 / 5.38,
    2018: 1.46 / 5.38,
    2019: 0.24 / 5.38,
    2020: 0.0,
}

#: Assumption: households per administrative village (Guangxi villages hold a few hundred
#: households; with ~4,500 rural villages in the 33 counties this gives ~1.5 million households).
HOUSEHOLDS_PER_VILLAGE = 330

#: Assumption: basic rural pension per month (national minimum 70 yuan, 88 from 2018, 93 from
#: 2020, plus a Guangxi top-up).
PENSION_MONTHLY: Mapping[int, float] = {
    2014: 75.0,
    2015: 80.0,
    2016: 85.0,
    2017: 90.0,
    2018: 108.0,
    2019: 113.0,
    2020: 118.0,
}

#: Poverty line (yuan per person and year, current prices; NBS; 2017–2019 unverified, 2020 approx.)
_POVERTY_LINE: Mapping[int, float] = {
    2010: 2300.0,
    2011: 2536.0,
    2012: 2625.0,
    2013: 2736.0,
    2014: 2800.0,
    2015: 2855.0,
    2016: 2952.0,
    2017: 2952.0,
    2018: 2995.0,
    2019: 3218.0,
    2020: 4000.0,
}


def _extrapolate(table: Mapping[int, float], year: int, growth: float) -> float:
    if year in table:
        return table[year]
    first, last = min(table), max(table)
    if year > last:
        return table[last] * (1 + growth) ** (year - last)
    return table[first] / (1 + growth) ** (first - year)


def _policy_value(name: str, year: int) -> float | None:
    """The figure of ``dongxi.policy`` when that module is installed and knows it."""
    try:
        from dongxi import policy
    except ImportError:
        return None
    getter = getattr(policy, "get_parameter", None)
    if getter is None:
        return None
    try:
        found = getter(name, year=year)
    except Exception:  # not known there: use the table of this module
        return None
    value = getattr(found, "value", found)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def poverty_line(year: int) -> float:
    """National rural poverty line of a year (``dongxi.policy`` when available)."""
    found = _policy_value("poverty_line", year) if year <= 2020 else None
    if found is not None:
        return found
    return _extrapolate(_POVERTY_LINE, min(year, 2020), 0.03)


def monitoring_line(year: int) -> float:
    """Relapse-monitoring line: 6,000 yuan in 2021 (1.5 x the line), then +5 %/year (assumption)."""
    found = _policy_value("monitoring_line", year)
    if found is not None:
        return found
    return 6000.0 * 1.05 ** max(year - 2021, 0)


def wage_level(year: int) -> float:
    """Mean monthly wage of a migrant worker working outside the province in ``year``."""
    return _extrapolate(MIGRANT_WAGE, year, 0.05)


def rural_income(year: int) -> float:
    """Guangxi rural income per person in ``year`` (extrapolated at 8 %/year outside 2015–2020)."""
    return _extrapolate(GUANGXI_RURAL_INCOME, year, 0.08)


def pension(year: int) -> float:
    """Basic monthly rural pension in ``year``."""
    return _extrapolate(PENSION_MONTHLY, year, 0.04)
