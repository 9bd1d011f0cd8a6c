"""The latent population: households and people with every trait that does not change by year.

Everything is drawn at once with numpy (no Python loop over households or people); the per-year
states of :mod:`dongxi.synth._rounds` are deterministic functions of these arrays and the year.
Ages refer to the end of the reference year (the last year of the panel): a child born after a
round's year is not yet a member in that round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from scipy.special import ndtr

from dongxi.synth._idnumber import id_numbers
from dongxi.synth._names import make_names, make_surnames
from dongxi.synth._places import Places
from dongxi.synth._stats import POOR_REMAINING, REGISTERED_SHARE

__all__ = ["Population", "make_population"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]

HEAD, SPOUSE, CHILD, IN_LAW, GRANDCHILD, PARENT = range(6)
NEVER = 9999  # a year that never comes

# household sizes 1..8 (registered members): other households mean ~2.95, registered poor ~3.7
_SIZE_P_OTHER = np.array([0.17, 0.27, 0.23, 0.18, 0.09, 0.04, 0.015, 0.005])
_SIZE_P_POOR = np.array([0.12, 0.17, 0.19, 0.21, 0.15, 0.09, 0.045, 0.025])
# share of households headed by someone aged 55+ (three generations or elderly couples), by size
_ELDER_P = np.array([0.55, 0.55, 0.16, 0.13, 0.28, 0.4, 0.45, 0.45])

# final education (0 none, 1 primary, 2 junior, 3 senior, 4 vocational, 5 college) by birth cohort:
# cumulative shares (assumption, shaped on the census pictures of rural Guangxi)
_EDU_COHORTS = (1960, 1976, 1991)
_EDU_CDF = np.cumsum(
    np.array(
        [
            [0.25, 0.50, 0.20, 0.04, 0.01, 0.00],  # born before 1960
            [0.07, 0.38, 0.43, 0.07, 0.03, 0.02],  # 1960–1975
            [0.02, 0.18, 0.55, 0.10, 0.10, 0.05],  # 1976–1990
            [0.00, 0.04, 0.42, 0.18, 0.22, 0.14],  # 1991 and later
        ]
    ),
    axis=1,
)


@dataclass
class Population:
    """Latent arrays of households (``h_*``, length H) and people (``p_*``, length P)."""

    ref_year: int
    first_year: int
    # households
    h_village: IntArray
    h_county: IntArray
    h_remote: FloatArray
    h_poor: BoolArray
    h_size: IntArray
    h_year_registered: IntArray  # NEVER when never registered
    h_year_exited: IntArray  # first exit; NEVER when not exited
    h_relapse: IntArray  # year of relapse into poverty; NEVER if none
    h_reexit: IntArray  # year of the second exit; NEVER if none
    h_prod: FloatArray
    h_cost: FloatArray
    h_poor_target: FloatArray
    h_exit_margin: FloatArray
    h_u_monitor: FloatArray
    h_ethnic: IntArray
    h_code: StrArray
    h_code_arrow: Any  # the same codes as a pyarrow array (gathered per person quickly)
    # people
    p_hh: IntArray
    p_member: IntArray
    p_relation: IntArray
    p_male: BoolArray
    p_birth: npt.NDArray[np.datetime64]
    p_birth_year: IntArray
    p_ethnic: IntArray
    p_edu: IntArray
    p_u_school: FloatArray
    p_health: IntArray  # 0 healthy, 1 chronic, 2 serious, 3 disabled
    p_grade: IntArray  # 1-4 when disabled, else 0
    p_onset: IntArray  # year of a serious illness; NEVER if none
    p_skill_year: IntArray  # year from which skilled; NEVER if never
    p_u_mig: FloatArray
    p_u_out: FloatArray
    p_u_loc: FloatArray
    p_wage: FloatArray
    p_months: IntArray
    p_u_dest: FloatArray
    p_u_sector: FloatArray
    p_u_med: FloatArray
    p_u_pension: FloatArray
    p_skill: IntArray
    p_name: Any  # pyarrow string array
    p_id: Any  # a pyarrow string array (kept in arrow: millions of IDs)


def _categorical(rng: np.random.Generator, probs: FloatArray) -> IntArray:
    """One draw per row of a (n, k) matrix of probabilities."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    drawn: IntArray = (u > cum).sum(axis=1).astype(np.int64)
    return drawn


def _soft_floor(rng: np.random.Generator, age: FloatArray, low: float) -> FloatArray:
    """Ages under ``low`` redrawn uniformly in [low, low + 5) (no pile of equal birth dates)."""
    return np.where(age < low, rng.uniform(low, low + 5.0, len(age)), age)


def _sizes(rng: np.random.Generator, poor: BoolArray) -> IntArray:
    probs = np.where(poor[:, None], _SIZE_P_POOR[None, :], _SIZE_P_OTHER[None, :])
    return _categorical(rng, probs) + 1


def _composition(
    rng: np.random.Generator, size: IntArray
) -> tuple[BoolArray, IntArray, IntArray, IntArray, IntArray, IntArray, FloatArray]:
    """Counts of spouse, children, in-laws, grandchildren, parents and the head's age."""
    n = len(size)
    elder = rng.random(n) < _ELDER_P[np.minimum(size, 8) - 1]
    spouse = (size >= 2) & (rng.random(n) < np.where(elder, 0.75, 0.88))
    rest = size - 1 - spouse
    # younger heads: children and possibly parents
    parents = np.where(rest >= 3, rng.choice([0, 1, 2], n, p=[0.55, 0.3, 0.15]), 0)
    parents = np.where((rest == 2) & (rng.random(n) < 0.15), 1, parents)
    parents = np.where(elder, 0, parents)
    # older heads: adult children, an in-law, grandchildren
    old_children = np.where(rest >= 1, np.where(rest >= 4, 2, 1), 0)
    in_law = np.where(rest - old_children >= 2, 1, 0)
    grandchildren = rest - old_children - in_law
    children = np.where(elder, old_children, rest - parents)
    in_law = np.where(elder, in_law, 0)
    grandchildren = np.where(elder, grandchildren, 0)
    young_age = rng.triangular(22.0, 32.0, 55.0, n)
    old_age = 55.0 + rng.gamma(2.2, 5.5, n)
    head_age = np.where(
        elder, np.where(old_age > 94.0, rng.uniform(80.0, 94.0, n), old_age), young_age
    )
    # a head with parents is younger; a single young head is more often a man in his thirties
    head_age = np.where((parents > 0) & (head_age > 50.0), rng.uniform(24.0, 50.0, n), head_age)
    return (
        spouse,
        children.astype(np.int64),
        in_law.astype(np.int64),
        grandchildren.astype(np.int64),
        parents.astype(np.int64),
        elder.astype(np.int64),
        head_age,
    )


def make_population(
    rng: np.random.Generator,
    places: Places,
    *,
    households: int,
    ref_year: int,
    first_year: int,
) -> Population:
    """Draw the latent population of ``households`` households in the chosen villages."""
    n = households
    vil = places.villages
    weight = vil["weight"].to_numpy()
    village = np.sort(rng.choice(len(vil), size=n, p=weight / weight.sum()))
    if n >= len(vil):  # every chosen village gets at least one household
        village[: len(vil)] = np.arange(len(vil))
        village = np.sort(village)
    county = vil["county_index"].to_numpy()[village]
    remote = vil["remoteness"].to_numpy()[village]

    # who is (ever) registered poor: the most deprived REGISTERED_SHARE by a remoteness-laden score
    score = 2.5 * remote + rng.logistic(0.0, 1.0, n)
    cut = np.quantile(score, 1.0 - REGISTERED_SHARE) if n > 1 else np.inf
    poor = score > cut
    size = _sizes(rng, poor)
    spouse, children, in_law, grandchildren, parents, _elder, head_age = _composition(rng, size)

    # ---- people: expand the household counts into member rows ---------------------------------
    counts = np.stack(
        [
            np.ones(n, dtype=np.int64),
            spouse.astype(np.int64),
            children,
            in_law,
            grandchildren,
            parents,
        ],
        axis=1,
    )
    per_hh = counts.sum(axis=1)
    p_hh = np.repeat(np.arange(n), per_hh)
    m = len(p_hh)
    relation = np.repeat(np.tile(np.arange(6), n), counts.ravel())
    start = np.repeat(np.cumsum(per_hh) - per_hh, per_hh)
    member = np.arange(m) - start + 1
    # rank of a member within its relation group (0 for the first child, 1 for the second …)
    group_start = np.repeat(np.cumsum(counts.ravel()) - counts.ravel(), counts.ravel())
    rank = np.arange(m) - group_start

    h_age = head_age[p_hh]
    age = np.empty(m)
    is_ = [relation == r for r in range(6)]
    age[is_[HEAD]] = h_age[is_[HEAD]]
    k = int(is_[SPOUSE].sum())
    age[is_[SPOUSE]] = _soft_floor(rng, h_age[is_[SPOUSE]] + rng.normal(-2.5, 3.0, k), 18.0)
    k = int(is_[CHILD].sum())
    child_age = h_age[is_[CHILD]] - rng.uniform(20.0, 28.0, k) - 2.4 * rank[is_[CHILD]]
    child_age = np.where(child_age < 0, rng.uniform(0.0, 4.0, k), child_age)
    age[is_[CHILD]] = child_age
    k = int(is_[PARENT].sum())
    parent_age = h_age[is_[PARENT]] + rng.uniform(23.0, 32.0, k)
    age[is_[PARENT]] = np.where(parent_age > 98.0, rng.uniform(85.0, 98.0, k), parent_age)
    # in-laws and grandchildren: relative to an adult child aged head - 27
    eldest_child = h_age - 26.0
    k = int(is_[IN_LAW].sum())
    age[is_[IN_LAW]] = _soft_floor(rng, eldest_child[is_[IN_LAW]] + rng.normal(-1.0, 3.0, k), 18.0)
    k = int(is_[GRANDCHILD].sum())
    gc = eldest_child[is_[GRANDCHILD]] - rng.uniform(19.0, 27.0, k) - 2.4 * rank[is_[GRANDCHILD]]
    age[is_[GRANDCHILD]] = np.where(gc < 0, rng.uniform(0.0, 5.0, k), gc)

    # sex: heads mostly men, spouses the other sex
    male = rng.random(m) < 0.52
    head_male = rng.random(n) < 0.86
    male = np.where(is_[HEAD], head_male[p_hh], male)
    male = np.where(is_[SPOUSE], ~head_male[p_hh], male)
    male = np.where(is_[IN_LAW], rng.random(m) < 0.1, male)  # mostly daughters-in-law

    # birth dates: age at the end of the reference year
    ref_end = np.datetime64(f"{ref_year}-12-31", "D")
    birth = ref_end - np.floor(age * 365.25).astype("timedelta64[D]")
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970

    # ethnicity: by household from the county mix; spouses of another people sometimes
    h_ethnic = _categorical(rng, places.ethnic_mix[county])
    ethnic = h_ethnic[p_hh]
    married_in = np.flatnonzero((is_[SPOUSE] | is_[IN_LAW]) & (rng.random(m) < 0.25))
    ethnic[married_in] = _categorical(rng, places.ethnic_mix[county[p_hh[married_in]]])

    # education: ordered draw by cohort, lower for the poor and the remote
    cohort = np.searchsorted(np.array(_EDU_COHORTS), birth_year, side="right")
    latent = rng.normal(0.0, 1.0, m) - 0.45 * poor[p_hh] - 0.6 * (remote[p_hh] - 0.4)
    u_edu = ndtr(latent)
    edu = (u_edu[:, None] > _EDU_CDF[cohort][:, :-1]).sum(axis=1).astype(np.int64)
    edu = np.where(birth_year >= 1996, np.maximum(edu, 2), edu)  # compulsory education

    # health: rises with age, higher in poor households
    over40 = np.maximum(age - 40.0, 0.0)
    p_dis = 0.02 + 0.0006 * age + 0.04 * poor[p_hh]
    p_ser = 0.004 + 0.0008 * over40 + 0.02 * poor[p_hh]
    p_chr = 0.02 + 0.005 * over40 + 0.06 * poor[p_hh]
    hp = np.stack([np.ones(m), p_chr, p_ser, p_dis], axis=1)
    hp[:, 0] = 1.0 - hp[:, 1:].sum(axis=1)
    health = _categorical(rng, hp)
    grade = np.where(health == 3, rng.choice([1, 2, 3, 4], m, p=[0.1, 0.2, 0.3, 0.4]), 0)
    onset_hazard = 0.004 + 0.0006 * over40
    years_span = np.arange(first_year, ref_year + 1)
    onset = np.full(m, NEVER, dtype=np.int64)
    for y in years_span[::-1]:
        hit = rng.random(m) < onset_hazard
        onset = np.where(hit & (health != 2), y, onset)

    # skills: some adults are skilled from the start, training adds more over the years
    p_skill0 = 0.05 + 0.04 * np.maximum(edu - 2, 0) - 0.03 * poor[p_hh]
    skill_year = np.where(rng.random(m) < np.clip(p_skill0, 0.01, 1), 0, NEVER)
    trained = rng.random(m) < np.where(poor[p_hh], 0.18, 0.05)
    skill_year = np.where(
        (skill_year == NEVER) & trained, rng.integers(2016, 2021, m), skill_year
    ).astype(np.int64)

    wage = np.exp(rng.normal(-0.03, 0.25, m)) * (1.0 + 0.07 * (edu - 2))
    months = rng.choice([7, 8, 9, 10, 11, 12], m, p=[0.05, 0.1, 0.2, 0.3, 0.2, 0.15])

    surname = make_surnames(rng, n)
    own_surname = make_surnames(rng, m)
    # children and grandchildren of a male head carry the head's surname
    same = is_[HEAD] | is_[CHILD] | is_[GRANDCHILD] | (is_[PARENT] & male)
    names = make_names(rng, np.where(same, surname[p_hh], own_surname), male)

    county_2017 = places.counties["county_code_2017"].to_numpy().astype(np.int64)
    birth_county = county_2017[county[p_hh]]
    away = (is_[SPOUSE] | is_[IN_LAW] | is_[PARENT]) & (rng.random(m) < 0.2)
    birth_county = np.where(away, county_2017[rng.integers(0, len(county_2017), m)], birth_county)
    ids = id_numbers(rng, birth_county, birth, male)

    vcode = vil["code"].to_numpy().astype(str)[village]
    seq_in_village = np.arange(n) - np.searchsorted(village, village)
    hh_code = (vcode.astype(np.int64) * 10_000 + seq_in_village + 1).astype("U16")

    # ---- poverty dynamics -----------------------------------------------------------------------
    reg_year = np.where(
        poor, rng.choice([2014, 2015, 2016, 2017], n, p=[0.8, 0.08, 0.07, 0.05]), NEVER
    ).astype(np.int64)
    working = np.bincount(
        p_hh, weights=((age >= 18) & (age < 60) & (health <= 1)).astype(float), minlength=n
    )
    ease = -1.2 * remote - 0.5 * (working == 0) + 0.15 * working + rng.normal(0.0, 0.6, n)
    exit_year = np.full(n, NEVER, dtype=np.int64)
    idx = np.flatnonzero(poor)
    if len(idx):
        order = np.argsort(-ease[idx], kind="stable")
        q = np.empty(len(idx))
        q[order] = (np.arange(len(idx)) + 0.5) / len(idx)
        cdf_years = np.array(sorted(y for y in POOR_REMAINING if y >= 2015))
        cdf = np.array([1.0 - POOR_REMAINING[y] for y in cdf_years])
        exit_year[idx] = cdf_years[np.minimum(np.searchsorted(cdf, q), len(cdf_years) - 1)]
        exit_year = np.where(
            poor & (exit_year <= reg_year), np.minimum(reg_year + 1, 2020), exit_year
        )
    # a few relapse (返贫) after a serious illness, and exit again the next year
    relapse = np.full(n, NEVER, dtype=np.int64)
    reexit = np.full(n, NEVER, dtype=np.int64)
    can = poor & (exit_year <= 2018)
    pick = can & (rng.random(n) < 0.03)
    relapse_year = np.minimum(exit_year + rng.integers(1, 3, n), 2019)
    relapse = np.where(pick, relapse_year, NEVER).astype(np.int64)
    reexit = np.where(pick, relapse + 1, NEVER).astype(np.int64)
    # the illness that caused the relapse: the head falls seriously ill that year
    heads = np.flatnonzero(is_[HEAD])
    onset[heads] = np.where(pick & (health[heads] != 2), relapse, onset[heads])

    return Population(
        ref_year=ref_year,
        first_year=first_year,
        h_village=village.astype(np.int64),
        h_county=county.astype(np.int64),
        h_remote=remote,
        h_poor=poor,
        h_size=size.astype(np.int64),
        h_year_registered=reg_year,
        h_year_exited=exit_year,
        h_relapse=relapse,
        h_reexit=reexit,
        h_prod=np.exp(rng.normal(0.0, 0.35, n)),
        h_cost=rng.uniform(0.3, 0.45, n),
        h_poor_target=rng.uniform(0.55, 1.0, n),
        h_exit_margin=rng.uniform(1.1, 1.8, n),
        h_u_monitor=rng.random(n),
        h_ethnic=h_ethnic,
        h_code=hh_code,
        h_code_arrow=pa.array(hh_code),
        p_hh=p_hh.astype(np.int64),
        p_member=member.astype(np.int64),
        p_relation=relation.astype(np.int64),
        p_male=male,
        p_birth=birth,
        p_birth_year=birth_year,
        p_ethnic=ethnic.astype(np.int64),
        p_edu=edu,
        p_u_school=rng.random(m),
        p_health=health,
        p_grade=grade.astype(np.int64),
        p_onset=onset,
        p_skill_year=skill_year,
        p_u_mig=rng.random(m),
        p_u_out=rng.random(m),
        p_u_loc=rng.random(m),
        p_wage=wage,
        p_months=months.astype(np.int64),
        p_u_dest=rng.random(m),
        p_u_sector=rng.random(m),
        p_u_med=rng.random(m),
        p_u_pension=rng.random(m),
        p_skill=rng.integers(0, 12, m).astype(np.int64),
        p_name=pa.array(names),
        p_id=ids,
    )
