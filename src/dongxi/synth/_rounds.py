"""Per-year states: the households, people and income of one round of the panel.

A round is a deterministic function of the latent population and the year: people age (children
enter school, finish it, leave it), adults fall ill, gain skills and migrate more as labour
cooperation grows, wages follow the migrant-wage series, poor households exit in their exit year
(with income above the line), a few relapse, and after 2020 households under the monitoring line
or hit by illness become monitored (防返贫监测).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from dongxi.synth._arrow import codes as _codes
from dongxi.synth._arrow import date_text, int_text, text
from dongxi.synth._places import ETHNICITIES, Places
from dongxi.synth._population import NEVER, Population
from dongxi.synth._stats import (
    LOCAL_WAGE_RATIO,
    monitoring_line,
    pension,
    poverty_line,
    rural_income,
    wage_level,
)
from dongxi.vocab import (
    EDUCATION,
    EMPLOYMENT,
    HEALTH,
    LABOUR_CAPACITY,
    RELATIONS,
    SCHOOL_STATUS,
    SECTORS,
    SEXES,
)

__all__ = ["RoundArrays", "compute_round"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SKILLS = (
    "电工",
    "焊工",
    "厨师",
    "家政服务",
    "汽车驾驶",
    "种植技术",
    "养殖技术",
    "电子商务",
    "缝纫",
    "建筑施工",
    "美容美发",
    "机械维修",
)
# Guangdong destinations of out-of-province migrants (prefecture codes) and their shares
# (assumption: the Pearl River Delta cities that employ most Guangxi migrants)
_DEST = np.array([440300, 440100, 441900, 440600, 442000, 441300, 440400], dtype=np.int64)
_DEST_P = np.array([0.28, 0.22, 0.2, 0.14, 0.08, 0.05, 0.03])
_MIGRANT_SECTOR = np.cumsum([0.5, 0.2, 0.25, 0.0, 0.05])
_LOCAL_SECTOR = np.cumsum([0.2, 0.25, 0.35, 0.15, 0.05])


@dataclass
class RoundArrays:
    """One round as arrays (people restricted to those born by the end of the year)."""

    year: int
    present: BoolArray  # over all people
    # households
    status: IntArray
    monitoring: IntArray  # -1 none
    year_registered: IntArray  # NEVER when null
    year_exited: IntArray  # NEVER when null
    housing: IntArray  # 0..3 = A..D
    water: BoolArray  # (H, 4)
    road: BoolArray
    electricity: BoolArray
    # income
    wage: FloatArray
    operating: FloatArray
    property_: FloatArray
    transfer: FloatArray
    costs: FloatArray
    size: IntArray
    # people (full length; only ``present`` rows are used)
    education: IntArray
    school: IntArray
    health: IntArray
    labour: IntArray
    employment: IntArray
    monthly_wage: FloatArray  # NaN when not wage-employed
    months: IntArray  # -1 when null
    work_region: IntArray  # 0 when null
    sector: IntArray  # -1 when null
    skilled: BoolArray
    medical: BoolArray
    pension_ins: BoolArray
    grade: IntArray | None = None  # disability grades when they differ from the population's


def _age_at(pop: Population, year: int) -> FloatArray:
    end = np.datetime64(f"{year}-12-31", "D")
    days = (end - pop.p_birth).astype(np.int64)
    return np.floor(days / 365.25)


def _schooling(
    pop: Population, age: FloatArray, year: int, poor_now: BoolArray
) -> tuple[IntArray, IntArray]:
    edu = pop.p_edu
    u = pop.p_u_school
    school = np.zeros(len(age), dtype=np.int64)  # not_in_school
    education = edu.copy()
    pre = age < 6
    education = np.where(pre, 6, education)
    school = np.where((age >= 3) & pre & (u < 0.85), 1, school)
    prim = (age >= 6) & (age <= 11)
    education = np.where(prim, 1, education)
    school = np.where(prim, 2, school)
    jun = (age >= 12) & (age <= 14)
    education = np.where(jun, 2, education)
    # dropouts of compulsory school, mostly in poor households, until 控辍保学 ends them by 2019
    drop_rate = max(0.0, 0.03 - 0.01 * (year - 2016)) * np.where(poor_now, 1.0, 0.3)
    dropped = jun & (u < drop_rate)
    school = np.where(jun, np.where(dropped, 7, 3), school)
    sen = (age >= 15) & (age <= 17)
    cont = sen & (edu >= 3)
    education = np.where(
        sen, np.where(cont, np.where(edu == 4, 4, 3), np.minimum(edu, 2)), education
    )
    school = np.where(cont, np.where(edu == 4, 5, 4), school)
    col = (age >= 18) & (age <= 21) & (edu == 5)
    education = np.where(col, 5, education)
    school = np.where(col, 6, school)
    return education.astype(np.int64), school


def _household_status(pop: Population, year: int) -> tuple[IntArray, IntArray, IntArray]:
    reg = pop.h_year_registered <= year
    exited = pop.h_year_exited <= year
    relapsed = (pop.h_relapse <= year) & (pop.h_reexit > year)
    poor_now = reg & (~exited | relapsed)
    escaped = reg & exited & ~relapsed
    status = np.where(poor_now, 0, np.where(escaped, 1, 3)).astype(np.int64)
    year_registered = np.where(reg, pop.h_year_registered, NEVER).astype(np.int64)
    last_exit = np.where(pop.h_reexit <= year, pop.h_reexit, pop.h_year_exited)
    year_exited = np.where(escaped, last_exit, NEVER).astype(np.int64)
    return status, year_registered, year_exited


def compute_round(pop: Population, places: Places, year: int, fixes: dict[str, Any]) -> RoundArrays:
    """The state of every household and person at the end of ``year``."""
    n = len(pop.h_code)
    status, year_registered, year_exited = _household_status(pop, year)
    poor_h = status == 0
    ever_h = year_registered != NEVER
    age = _age_at(pop, year)
    present = pop.p_birth_year <= year
    hh = pop.p_hh
    poor_p = poor_h[hh]

    education, school = _schooling(pop, age, year, poor_p)
    in_school = school > 0
    health = np.where((pop.p_onset <= year) & (pop.p_health != 3), 2, pop.p_health)
    skilled = pop.p_skill_year <= year

    # labour capacity
    adult = (age >= 16) & ~in_school
    labour = np.full(len(age), 1, dtype=np.int64)  # normal
    labour = np.where(skilled & (age < 60), 0, labour)
    labour = np.where(health == 1, 2, labour)
    labour = np.where(health == 2, np.where(pop.p_u_loc < 0.5, 3, 2), labour)
    labour = np.where((health == 3) & (pop.p_grade <= 2), 3, labour)
    labour = np.where((health == 3) & (pop.p_grade >= 3), 2, labour)
    labour = np.where((age >= 60) & (age < 65) & (labour <= 1) & (pop.p_u_loc < 0.4), 2, labour)
    labour = np.where((age >= 65) & (labour <= 2), 2, labour)
    labour = np.where(age >= 75, 3, labour)
    labour = np.where(adult, labour, 4)

    # employment: migration grows with labour cooperation and after exit; the poor migrate less
    able = labour <= 2
    base = np.select([age < 30, age < 45, age < 55, age < 65], [0.3, 0.22, 0.12, 0.03], default=0.0)
    p_mig = (
        base
        + 0.07 * (education >= 3)
        + 0.06 * skilled
        - 0.15 * (pop.h_remote[hh] - 0.4)
        + 0.012 * (year - 2016)
        - 0.12 * poor_p
        + 0.05 * (ever_h[hh] & ~poor_p)
    )
    p_mig = np.where(labour == 2, p_mig * 0.3, p_mig)
    migrant = able & (pop.p_u_mig < p_mig)
    out = migrant & (pop.p_u_out < 0.72)
    u = pop.p_u_loc
    local_kind = np.select(
        [u < 0.14, u < 0.19, u < 0.92], [2, 4, 3], default=5
    )  # local, self_employed, farming, unemployed
    local_kind = np.where((labour == 2) & (local_kind == 4), 3, local_kind)
    employment = np.where(migrant, np.where(out, 0, 1), local_kind)
    employment = np.where(able, employment, 6).astype(np.int64)

    wage_job = employment <= 2
    level = wage_level(year)
    ratio = np.select([employment == 0, employment == 1], [1.0, 0.94], default=LOCAL_WAGE_RATIO)
    wage_p = level * ratio * pop.p_wage * np.where(skilled, 1.15, 1.0)
    wage_p = np.where(labour == 2, wage_p * 0.7, wage_p)
    monthly = np.where(wage_job, np.round(wage_p, -1), np.nan)
    months = np.where(
        wage_job, np.where(employment == 2, np.maximum(pop.p_months - 2, 4), pop.p_months), -1
    ).astype(np.int64)
    county_code = places.counties["county_code"].to_numpy().astype(np.int64)
    city_code = places.counties["west_city_code"].to_numpy().astype(np.int64)
    east_city = places.counties["east_city_code"].to_numpy().astype(np.int64)
    home_county = county_code[pop.h_county[hh]]
    dest_i = np.minimum(np.searchsorted(np.cumsum(_DEST_P), pop.p_u_dest), len(_DEST) - 1)
    dest = np.where(pop.p_u_dest < 0.3, east_city[pop.h_county[hh]], _DEST[dest_i])
    inprov = np.where(
        pop.p_u_dest < 0.6,
        city_code[pop.h_county[hh]],
        np.where(pop.p_u_dest < 0.85, 450100, 450200),
    )
    work_region = np.select(
        [employment == 0, employment == 1, (employment == 2) | (employment == 4)],
        [dest, inprov, home_county],
        default=0,
    ).astype(np.int64)
    sector = np.where(
        employment <= 1,
        np.searchsorted(_MIGRANT_SECTOR, pop.p_u_sector, side="right"),
        np.where(
            (employment == 2) | (employment == 4),
            np.searchsorted(_LOCAL_SECTOR, pop.p_u_sector, side="right"),
            -1,
        ),
    )
    sector = np.where(sector > 4, 4, sector).astype(np.int64)

    # basic medical insurance: ~98 % of rural people; registered poor up to all by 2019
    medical = pop.p_u_med < np.where(ever_h[hh], 0.97 + 0.01 * (year - 2016), 0.98)
    pension_ins = adult & (age >= 16) & (pop.p_u_pension < np.where(age >= 60, 0.97, 0.8))

    # ---- income of the household -------------------------------------------------------------
    w = present.astype(float)
    size = np.bincount(hh, weights=w, minlength=n).astype(np.int64)
    wage_h = np.bincount(
        hh, weights=w * np.nan_to_num(monthly) * np.maximum(months, 0), minlength=n
    )
    farm = np.bincount(hh, weights=w * (employment == 3), minlength=n)
    selfemp = np.bincount(hh, weights=w * (employment == 4), minlength=n)
    weak_farm = np.bincount(hh, weights=w * ((labour == 2) & (employment == 6)), minlength=n)
    elderly = np.bincount(hh, weights=w * (age >= 60), minlength=n)
    level_income = rural_income(year)
    farm_unit = 0.5 * level_income * (1.0 - 0.45 * pop.h_remote) * pop.h_prod
    operating = farm_unit * (farm + 0.3 * weak_farm) + 2.2 * level_income * pop.h_prod * selfemp
    costs = operating * pop.h_cost
    property_ = np.where(pop.h_u_monitor < 0.25, 0.02 * level_income * pop.h_prod, 0.0)
    transfer = elderly * 12 * pension(year) + 0.1 * level_income * size
    line = poverty_line(year)

    # registered poor: net income around/below the line; escaped: above it with a margin
    def per_capita() -> FloatArray:
        return (wage_h + operating + property_ + transfer - costs) / np.maximum(size, 1)

    target_poor = line * pop.h_poor_target * size
    net = per_capita() * size
    excess = np.where(poor_h, np.maximum(net - target_poor, 0.0), 0.0)
    net_farm = operating - costs
    cut = np.minimum(excess, np.maximum(net_farm, 0.0))
    share = np.where(net_farm > 0, 1.0 - cut / np.where(net_farm > 0, net_farm, 1.0), 1.0)
    operating = operating * share
    costs = costs * share
    escaped_h = status == 1
    floor = line * pop.h_exit_margin * size
    # households never registered: most of those under the line are lifted above it (those left
    # under it are the ones identification missed, 漏评)
    lift = escaped_h | ((status == 3) & (pop.h_u_monitor > 0.15) & (year <= 2020))
    gap = np.where(lift, np.maximum(floor - per_capita() * size, 0.0), 0.0)
    gap_op = 0.5 * gap / (1.0 - pop.h_cost)
    operating = operating + gap_op
    costs = costs + gap_op * pop.h_cost
    transfer = transfer + 0.5 * gap

    monitoring = np.full(n, -1, dtype=np.int64)
    if year >= 2021:
        mline = monitoring_line(year)
        pc = per_capita()
        sick = np.bincount(hh, weights=w * (pop.p_onset == year), minlength=n) > 0
        low = pc < mline
        unstable = escaped_h & ((low & (pop.h_u_monitor < 0.3)) | (sick & (pop.h_u_monitor < 0.6)))
        never_h = status == 3
        marginal = never_h & low & (pop.h_u_monitor < 0.12)
        sudden = never_h & ~marginal & sick & (pop.h_u_monitor < 0.35)
        monitoring = np.select([unstable, marginal, sudden], [0, 1, 2], default=-1).astype(np.int64)
        status = np.where(monitoring >= 0, 2, status).astype(np.int64)
        year_exited = np.where(status == 1, year_exited, NEVER).astype(np.int64)

    housing = np.where(fixes["housing_fix"] <= year, fixes["housing_safe"], fixes["housing"])
    water = fixes["water"] | (fixes["water_fix"] <= year)[:, None]
    road = fixes["road_fix"] <= year
    electricity = fixes["electricity_fix"] <= year

    return RoundArrays(
        year=year,
        present=present,
        status=status,
        monitoring=monitoring,
        year_registered=year_registered,
        year_exited=year_exited,
        housing=housing.astype(np.int64),
        water=water,
        road=road,
        electricity=electricity,
        wage=np.round(wage_h, 2),
        operating=np.round(operating, 2),
        property_=np.round(property_, 2).astype(np.float64),
        transfer=np.round(transfer, 2),
        costs=np.round(costs, 2),
        size=size,
        education=education,
        school=school,
        health=health.astype(np.int64),
        labour=labour,
        employment=employment,
        monthly_wage=monthly,
        months=months,
        work_region=work_region,
        sector=sector,
        skilled=skilled,
        medical=medical,
        pension_ins=pension_ins,
    )


def _nullable_int(values: IntArray, null: int) -> pd.Series:
    return pd.Series(pd.array(np.where(values == null, 0, values), dtype="Int64")).mask(
        values == null
    )


def people_frame(pop: Population, r: RoundArrays) -> pd.DataFrame:
    """The people table of one round (columns of the data dictionary)."""
    keep = np.flatnonzero(r.present)
    hh = pop.p_hh[keep]
    grade = (pop.p_grade if r.grade is None else r.grade)[keep]
    health = r.health[keep]
    wage_job = ~np.isnan(r.monthly_wage[keep])
    skills = np.array(SKILLS)[pop.p_skill[keep]]
    skilled = r.skilled[keep] & (r.labour[keep] == 0)
    frame = pd.DataFrame(
        {
            "household_code": text(pop.h_code_arrow.take(pa.array(hh))),
            "member_no": pop.p_member[keep],
            "id_number": text(pop.p_id.take(pa.array(keep))),
            "name": text(pop.p_name.take(pa.array(keep))),
            "relation": _codes(RELATIONS, pop.p_relation[keep]),
            "sex": _codes(SEXES.codes[::-1], pop.p_male[keep].astype(np.int64)),  # 0 female, 1 male
            "birth_date": text(date_text(pop.p_birth[keep])),
            "ethnicity": _codes(ETHNICITIES, pop.p_ethnic[keep]),
            "education": _codes(EDUCATION, r.education[keep]),
            "school_status": _codes(SCHOOL_STATUS, r.school[keep]),
            "health": _codes(HEALTH, health),
            "disability_grade": _nullable_int(np.where(health == 3, grade, 0), 0),
            "medical_insurance": r.medical[keep],
            "pension_insurance": r.pension_ins[keep],
            "labour_capacity": _codes(LABOUR_CAPACITY, r.labour[keep]),
            "employment": _codes(EMPLOYMENT, r.employment[keep]),
            "work_region_code": text(int_text(r.work_region[keep]), r.work_region[keep] != 0),
            "sector": _codes(SECTORS, r.sector[keep]),
            "monthly_wage": r.monthly_wage[keep],
            "months_worked": _nullable_int(np.where(wage_job, r.months[keep], -1), -1),
            "skills": text(skills, skilled),
        }
    )
    return frame
