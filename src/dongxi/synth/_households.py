"""Household traits that the rounds share: deprivations and their repair, poverty causes, helpers.

Deprivations (unsafe housing, drinking water, road, electricity) are drawn with probabilities that
rise with the village's remoteness and the household's poverty, and are repaired in a year drawn
between 2016 and 2020 for registered-poor households (危房改造, 农村饮水安全工程) — mostly before
their exit — and less often for others, so that change over time shows in the measures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from dongxi.synth._arrow import codes, text
from dongxi.synth._population import NEVER, Population
from dongxi.synth._rounds import RoundArrays
from dongxi.vocab import CAUSES, HOUSEHOLD_STATUSES, HOUSING_GRADES, MONITORING_CATEGORIES

__all__ = ["household_frame", "make_causes", "make_fixes"]

IntArray = npt.NDArray[np.int64]

_ALWAYS = 1900


def make_fixes(rng: np.random.Generator, pop: Population) -> dict[str, Any]:
    """Deprivations of each household and the year each is repaired (``NEVER`` if not)."""
    n = len(pop.h_code)
    r = pop.h_remote
    poor = pop.h_poor
    exit_year = np.where(poor, np.minimum(pop.h_year_exited, 2020), 2020)
    repair_poor = np.minimum(rng.integers(2016, 2021, n), exit_year)
    # others: most repaired by the 2016–2020 programmes too (they served whole villages)
    repair_other = np.where(rng.random(n) < 0.85, rng.integers(2016, 2021, n), NEVER)
    repair = np.where(poor, repair_poor, repair_other)

    # about 3 in 10 registered households lived in a C/D house (7.9 million poor households'
    # houses renovated 2016–2020 of ~29 million registered); far fewer of the others
    unsafe = rng.random(n) < 0.01 + 0.05 * r + 0.3 * poor
    housing = np.where(
        unsafe, np.where(rng.random(n) < 0.7, 2, 3), np.where(rng.random(n) < 0.3, 0, 1)
    )
    housing_safe = np.where(rng.random(n) < 0.4, 0, 1)
    housing_fix = np.where(unsafe, repair, NEVER)

    # per criterion (quantity, quality, convenience, guarantee); any of the four fails for about
    # 1 in 4 registered and 1 in 8 other households in 2016 (17.1 million registered poor people
    # had their water made safe 2016–2020)
    p_fail = (
        np.array([0.015, 0.025, 0.03, 0.02])[None, :]
        * (0.5 + 2.5 * r[:, None])
        * (1.0 + poor[:, None])
    )
    water_bad = rng.random((n, 4)) < p_fail
    water_fix = np.where(water_bad.any(axis=1), np.where(poor, repair, repair_other), NEVER)

    # roads and power: village-wide, in the most remote villages, built 2016–2019
    village_year = rng.integers(2016, 2020, int(pop.h_village.max()) + 1)
    road_bad = r > 0.75
    road_fix = np.where(road_bad, village_year[pop.h_village], _ALWAYS)
    power_bad = (r > 0.85) & (rng.random(n) < 0.3)
    electricity_fix = np.where(power_bad, np.minimum(village_year[pop.h_village], 2017), _ALWAYS)
    return {
        "housing": housing.astype(np.int64),
        "housing_safe": housing_safe.astype(np.int64),
        "housing_fix": housing_fix.astype(np.int64),
        "water": ~water_bad,
        "water_fix": water_fix.astype(np.int64),
        "road_fix": road_fix.astype(np.int64),
        "electricity_fix": electricity_fix.astype(np.int64),
    }


def make_causes(
    rng: np.random.Generator, pop: Population, first: RoundArrays, fixes: dict[str, Any]
) -> tuple[IntArray, pd.Series]:
    """Primary cause and the ``;``-separated causes of each ever-registered household."""
    n = len(pop.h_code)
    hh = pop.p_hh
    w = first.present.astype(float)
    ill = np.bincount(hh, weights=w * np.isin(first.health, (1, 2)), minlength=n) > 0
    dis = np.bincount(hh, weights=w * (first.health == 3), minlength=n) > 0
    students = np.bincount(hh, weights=w * (first.school >= 4) * (first.school <= 6), minlength=n)
    able = np.bincount(hh, weights=w * (first.labour <= 1), minlength=n)
    unskilled = np.bincount(hh, weights=w * (first.labour == 1), minlength=n) > 0
    r = pop.h_remote
    score = np.stack(
        [
            2.0 * ill,
            2.0 * dis,
            1.5 * (students >= 1),
            0.3 * np.ones(n),
            0.4 + 0.4 * r,
            0.8 * ~fixes["water"].all(axis=1),
            1.0 * unskilled,
            2.2 * (able == 0),
            1.2 * np.ones(n),
            1.0 * r,
            0.35 * np.ones(n),
            0.1 * np.ones(n),
        ],
        axis=1,
    ) * rng.gamma(2.0, 0.5, (n, len(CAUSES)))
    order = np.argsort(-score, axis=1)
    primary = order[:, 0].astype(np.int64)
    extra = rng.integers(0, 3, n)  # 0-2 further causes
    k = len(CAUSES)
    # one integer per combination (primary, second, third, how many); labels built per combination
    combo = ((order[:, 0] * k + order[:, 1]) * k + order[:, 2]) * 3 + extra
    ever = pop.h_poor
    combo = np.where(ever, combo, -1)
    unique, inverse = np.unique(combo, return_inverse=True)
    labels = []
    for c in unique.tolist():
        if c < 0:
            labels.append("")
            continue
        rest, count = divmod(c, 3)
        rest, third = divmod(rest, k)
        one, two = divmod(rest, k)
        labels.append(";".join(CAUSES.codes[i] for i in (one, two, third)[: count + 1]))
    primary = np.where(ever, primary, -1).astype(np.int64)
    causes = codes(tuple(labels), inverse.astype(np.int64).ravel())
    return primary, causes.where(ever, None)


def household_frame(
    pop: Population,
    r: RoundArrays,
    village_codes: npt.NDArray[np.str_],
    primary: IntArray,
    causes: pd.Series,
    helper: pd.Series,
) -> pd.DataFrame:
    """The households table of one round (columns of the data dictionary)."""
    registered = r.year_registered != NEVER
    vcode = village_codes[pop.h_village]
    frame = pd.DataFrame(
        {
            "household_code": text(pop.h_code_arrow),
            "village_code": text(vcode),
            "county_code": text(vcode.astype("U6")),
            "status": codes(HOUSEHOLD_STATUSES, r.status),
            "monitoring_category": pd.Series(
                np.array((*MONITORING_CATEGORIES, ""))[r.monitoring]
            ).replace("", None),
            "year_registered": pd.array(np.where(registered, r.year_registered, 0), dtype="Int64"),
            "year_exited": pd.array(
                np.where(r.year_exited != NEVER, r.year_exited, 0), dtype="Int64"
            ),
            "primary_cause": pd.Series(np.array((*CAUSES, ""))[primary]).replace("", None),
            "poverty_causes": causes,
            "housing_grade": codes(HOUSING_GRADES, r.housing),
            "water_quantity_ok": r.water[:, 0],
            "water_quality_ok": r.water[:, 1],
            "water_convenience_ok": r.water[:, 2],
            "water_guarantee_ok": r.water[:, 3],
            "road_access": r.road,
            "electricity": r.electricity,
            "helper_id": helper,
            "latitude": np.full(len(vcode), np.nan),
            "longitude": np.full(len(vcode), np.nan),
        }
    )
    frame["year_registered"] = frame["year_registered"].mask(~registered)
    frame["year_exited"] = frame["year_exited"].mask(r.year_exited == NEVER)
    keep_helper = (registered | (r.status == 2)) & helper.notna().to_numpy()
    frame["helper_id"] = text(
        pa.array(helper.to_numpy(dtype=object), type=pa.string()), keep_helper
    )
    return frame


def income_frame(pop: Population, r: RoundArrays) -> pd.DataFrame:
    """The income ledger rows of one year (one per household)."""
    size = np.maximum(r.size, 1)
    net = r.wage + r.operating + r.property_ + r.transfer - r.costs
    return pd.DataFrame(
        {
            "household_code": text(pop.h_code_arrow),
            "year": np.full(len(size), r.year, dtype=np.int64),
            "wage_income": r.wage,
            "operating_income": r.operating,
            "property_income": r.property_,
            "transfer_income": r.transfer,
            "production_costs": r.costs,
            "household_size": size.astype(np.int64),
            "net_income_per_capita": np.round(net / size, 2),
        }
    )
