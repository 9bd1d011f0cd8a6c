"""Job posts (岗位): acceptability and scores of the labour-cooperation kind of offer.

Seekers (employment needs) and job posts are tables (columns in ``docs/market.md``). The kind
turns them into numeric arrays once, then one compiled kernel walks each seeker's acceptable
places, checks every post there against both sides' hard rules, scores the acceptable ones and
writes them best first. Only the final pairs are stored, so memory grows with the acceptable pairs
(about 50 a seeker), never with seekers × posts.

Rules (hard, both sides): the post's place is one the seeker lists; wage + subsidy ≥ the seeker's
minimum wage; a seeker who needs a dormitory gets a post with one; the seeker's age is in the
post's range, education ≥ its minimum, the one required skill (if any) is held, and physically
demanding work needs at least normal labour capacity. **Sex and ethnicity are never read.**

Scores (documented in ``docs/market.md``):

- seeker's score of a post, yuan a month: ``wage + subsidy − living − travel + sector_bonus``
  where ``living`` is the post's living cost unless it provides a dormitory and ``travel`` is the
  monthly share of trips home by distance class (same county, same prefecture, same province,
  other province);
- post's score of a seeker: ``1000 × priority tier + fit``; tier 2 registered-poor or monitored,
  1 escaped, 0 other (a lawful priority); fit (< 1000) adds the required skill held, education
  above the minimum and skilled labour;
- welfare of a pair: ``priority weight × seeker score / 1000 + fit / 100``.

Ties are broken by a seeded random permutation of the other side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, cast

import numba
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dongxi.errors import InputError
from dongxi.market._instance import Instance, build_presorted

__all__ = [
    "EDUCATION_LEVEL",
    "LABOUR_LEVEL",
    "PRIORITY_TIER",
    "JobPosts",
    "OfferArrays",
    "SeekerArrays",
]

EDUCATION_LEVEL = {
    "none": 0,
    "preschool": 0,
    "primary": 1,
    "junior": 2,
    "senior": 3,
    "vocational": 3,
    "college": 4,
}
LABOUR_LEVEL = {"none": 0, "lost": 0, "weak": 1, "normal": 2, "skilled": 3}
PRIORITY_TIER = {"registered_poor": 2, "monitored": 2, "escaped": 1, "never": 0}

SEEKER_COLUMNS = (
    "seeker_id",
    "county_code",
    "status",
    "age",
    "education",
    "labour_capacity",
    "skills",
    "sectors",
    "places",
    "min_wage",
    "needs_dormitory",
)
OFFER_COLUMNS = (
    "offer_id",
    "place_code",
    "sector",
    "monthly_wage",
    "subsidy",
    "positions",
    "age_min",
    "age_max",
    "min_education",
    "skill_required",
    "physical",
    "dormitory",
    "living_cost",
)

F8 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int64]
I4 = npt.NDArray[np.int32]


@dataclass(frozen=True, eq=False)
class SeekerArrays:
    """Seekers as numeric arrays (``place_ptr``/``place`` is each seeker's list of places)."""

    place_ptr: I8
    place: I4
    home: I8
    age: I8
    education: I8
    labour: I8
    skills: I8
    sectors: I8
    min_wage: F8
    needs_dorm: npt.NDArray[np.bool_]
    tier: I8


@dataclass(frozen=True, eq=False)
class OfferArrays:
    """Posts as numeric arrays, with the CSR of posts by place (``by_place_ptr``/``by_place``).

    Attributes are stored in place order: position ``j`` describes post ``by_place[j]``, so the
    kernels read them sequentially. ``capacity`` stays in input order.
    """

    by_place_ptr: I8
    by_place: I8
    place_code: I8
    sector: I8
    wage: F8
    subsidy: F8
    capacity: I8
    age_min: I8
    age_max: I8
    min_education: I8
    skill: I8
    physical: npt.NDArray[np.bool_]
    dormitory: npt.NDArray[np.bool_]
    living: F8


def _missing(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"the {what} table lacks column(s) {', '.join(missing)}.",
            fix=f"Give the {what} table the columns {', '.join(columns)} (see docs/market.md).",
        )


def _codes(values: pd.Series, mapping: dict[str, int], column: str, what: str) -> I8:
    mapped = values.astype("string").map(mapping)
    bad = mapped.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"unknown value in the {what} table.",
            row=i + 2,
            column=column,
            value=values.iloc[i],
            fix=f"Use one of: {', '.join(sorted(mapping))}.",
        )
    out: I8 = np.asarray(mapped.to_numpy(), dtype=np.int64)
    return out


def _numbers(values: pd.Series, column: str, what: str, *, minimum: float = 0.0) -> F8:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = (numbers.isna() | (numbers < minimum)).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"not a number ≥ {minimum:g} in the {what} table.",
            row=i + 2,
            column=column,
            value=values.iloc[i],
            fix=f"Write a number ≥ {minimum:g}.",
        )
    return numbers.to_numpy(dtype=np.float64)


def _flags(values: pd.Series) -> npt.NDArray[np.bool_]:
    text = values.astype("string").str.strip().str.lower()
    return text.isin(["1", "true", "yes", "y", "是"]).to_numpy(dtype=bool)


def _split(values: pd.Series) -> tuple[I8, pa.Array]:
    """`;`-separated lists → (row, trimmed name) of every name, in pyarrow (no Python objects)."""
    arr = pc.fill_null(pa.array(values.astype("string"), type=pa.string()), "")
    lists = pc.split_pattern(arr, pattern=";")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    owner = np.asarray(pc.list_parent_indices(lists), dtype=np.int64)
    return owner, flat


def _lookup(flat: pa.Array, vocab: pd.Index) -> I8:
    """Position of every name in ``vocab`` (-1 when absent or empty)."""
    value_set = pa.array([str(v) for v in vocab], type=pa.string())
    codes = pc.fill_null(pc.index_in(flat, value_set=value_set), -1)
    return np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int64)


def _vocabulary(values: pd.Series, column: str) -> pd.Index:
    names = pd.unique(values.astype("string").fillna("").str.strip().to_numpy(dtype=object))
    vocab: pd.Index = pd.Index([str(n) for n in names if n])
    if len(vocab) > 63:
        raise InputError(
            f"more than 63 distinct values in the offers' {column}.",
            column=column,
            value=len(vocab),
            fix="Group the values into at most 63 categories.",
        )
    return vocab


def _bits(owner: I8, flat: pa.Array, vocab: pd.Index, n: int) -> I8:
    """Bit masks per row: bit ``i`` set when the row names ``vocab[i]`` (others are ignored)."""
    code = _lookup(flat, vocab)
    ok = code >= 0
    out = np.zeros(n, dtype=np.int64)
    np.bitwise_or.at(out, owner[ok], np.left_shift(np.int64(1), code[ok]))
    return out


@dataclass(frozen=True, kw_only=True)
class JobPosts:
    """The job-post kind: parameters of its rules and scores (keyword-only, stored as given)."""

    travel_cost: tuple[float, float, float, float] = (0.0, 100.0, 250.0, 400.0)
    sector_bonus: float = 500.0
    priority_weight: tuple[float, float, float] = (1.0, 1.5, 2.0)
    name: str = "job"
    #: The kind of need job posts are matched with.
    need_kind: ClassVar[str] = "employment"

    def seeker_arrays(
        self, seekers: pd.DataFrame, places: pd.Index, vocabulary: dict[str, pd.Index]
    ) -> SeekerArrays:
        """Validate the seekers table and turn it into arrays.

        ``places`` indexes the posts' place codes; ``vocabulary`` holds the skill and sector
        names the posts use (from :meth:`offer_arrays`), which become bits.
        """
        _missing(seekers, SEEKER_COLUMNS, "seekers")
        frame = seekers.reset_index(drop=True)
        n = len(frame)
        owner, names = _split(frame["places"])
        idx = _lookup(names, places)
        keep = idx >= 0  # a place with no posts at all can simply never match
        owner = owner[keep]
        counts = np.bincount(owner, minlength=len(frame)).astype(np.int64)
        ptr = np.zeros(len(frame) + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        order = np.argsort(owner, kind="stable")
        return SeekerArrays(
            place_ptr=ptr,
            place=idx[keep][order].astype(np.int32),
            home=pd.to_numeric(frame["county_code"], errors="coerce").fillna(0).to_numpy(np.int64),
            age=_numbers(frame["age"], "age", "seekers").astype(np.int64),
            education=_codes(frame["education"], EDUCATION_LEVEL, "education", "seekers"),
            labour=_codes(frame["labour_capacity"], LABOUR_LEVEL, "labour_capacity", "seekers"),
            skills=_bits(*_split(frame["skills"]), vocabulary["skill"], n),
            sectors=_bits(*_split(frame["sectors"]), vocabulary["sector"], n),
            min_wage=_numbers(frame["min_wage"], "min_wage", "seekers"),
            needs_dorm=_flags(frame["needs_dormitory"]),
            tier=_codes(frame["status"], PRIORITY_TIER, "status", "seekers"),
        )

    def offer_arrays(
        self, offers: pd.DataFrame, vocabulary: dict[str, pd.Index]
    ) -> tuple[OfferArrays, pd.Index]:
        """Validate the posts table; arrays plus the index of place codes.

        Fills ``vocabulary`` with the skill and sector names the posts use.
        """
        _missing(offers, OFFER_COLUMNS, "offers")
        frame = offers.reset_index(drop=True)
        place_codes, places = pd.factorize(frame["place_code"].astype("string"))
        counts = np.bincount(place_codes, minlength=len(places)).astype(np.int64)
        ptr = np.zeros(len(places) + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        n = len(frame)
        vocabulary["skill"] = _vocabulary(frame["skill_required"], "skill_required")
        vocabulary["sector"] = _vocabulary(frame["sector"], "sector")
        skill_bits = _bits(*_split(frame["skill_required"]), vocabulary["skill"], n)
        sector_bits = _bits(*_split(frame["sector"]), vocabulary["sector"], n)
        positions = _numbers(frame["positions"], "positions", "offers")
        by_place = np.argsort(place_codes, kind="stable").astype(np.int64)
        q = by_place  # post attributes are stored in place order (j), ids stay by_place[j]
        arrays = OfferArrays(
            by_place_ptr=ptr,
            by_place=by_place,
            place_code=pd.to_numeric(frame["place_code"], errors="coerce")
            .fillna(0)
            .to_numpy(np.int64)[q],
            sector=sector_bits[q],
            wage=_numbers(frame["monthly_wage"], "monthly_wage", "offers")[q],
            subsidy=_numbers(frame["subsidy"].fillna(0), "subsidy", "offers")[q],
            capacity=positions.astype(np.int64),
            age_min=_numbers(frame["age_min"], "age_min", "offers").astype(np.int64)[q],
            age_max=_numbers(frame["age_max"], "age_max", "offers").astype(np.int64)[q],
            min_education=_codes(
                frame["min_education"], EDUCATION_LEVEL, "min_education", "offers"
            )[q],
            skill=skill_bits[q],
            physical=_flags(frame["physical"])[q],
            dormitory=_flags(frame["dormitory"])[q],
            living=_numbers(frame["living_cost"].fillna(0), "living_cost", "offers")[q],
        )
        return arrays, pd.Index(places.astype(str))

    def instance(
        self, seekers: pd.DataFrame, offers: pd.DataFrame, *, seed: int
    ) -> tuple[Instance, SeekerArrays, OfferArrays]:
        """Acceptable pairs ranked on both sides (ties by a permutation drawn from ``seed``)."""
        vocabulary: dict[str, pd.Index] = {}
        o, places = self.offer_arrays(offers, vocabulary)
        s = self.seeker_arrays(seekers, places, vocabulary)
        rng = np.random.default_rng(seed)
        seeker_tb = rng.permutation(len(seekers)).astype(np.int64)
        offer_tb = rng.permutation(len(offers)).astype(np.int64)
        ptr, pair_offer, offer_key, welfare = cast(Any, _pairs)(
            *_kernel_args(s, o, self),
            seeker_tb,
            offer_tb,
            np.arange(len(seekers), dtype=np.int64),
        )
        inst = build_presorted(
            seeker_ids=seekers["seeker_id"].astype(str).to_numpy(dtype=object),
            offer_ids=offers["offer_id"].astype(str).to_numpy(dtype=object),
            capacity=o.capacity,
            seeker_ptr=ptr,
            seeker_offer=pair_offer,
            offer_key=offer_key,
            welfare=welfare,
        )
        return inst, s, o

    def considered(
        self,
        s: SeekerArrays,
        o: OfferArrays,
        subset: I8,
        *,
        seed: int,
        n_seekers: int,
        n_offers: int,
    ) -> pd.DataFrame:
        """For the seekers in ``subset``: every post in their places that passes the seeker's own
        rules (place, wage, dormitory), best first by the seeker's score, with the reason bits of
        the post's rules that fail, the score parts and the post's score of the seeker.
        """
        rng = np.random.default_rng(seed)
        seeker_tb = rng.permutation(n_seekers).astype(np.int64)
        offer_tb = rng.permutation(n_offers).astype(np.int64)
        cols = cast(Any, _considered)(*_kernel_args(s, o, self), seeker_tb, offer_tb, subset)
        names = (
            "seeker_key",
            "seeker",
            "offer",
            "reasons",
            "seeker_score",
            "wage",
            "subsidy",
            "living",
            "travel",
            "sector_bonus",
            "offer_score",
            "priority_tier",
            "fit",
        )
        return pd.DataFrame(dict(zip(names, cols, strict=True)))


def _kernel_args(s: SeekerArrays, o: OfferArrays, kind: JobPosts) -> tuple[Any, ...]:
    return (
        s.place_ptr,
        s.place,
        s.home,
        s.age,
        s.education,
        s.labour,
        s.skills,
        s.sectors,
        s.min_wage,
        s.needs_dorm,
        s.tier,
        o.by_place_ptr,
        o.by_place,
        o.place_code,
        o.sector,
        o.wage,
        o.subsidy,
        o.age_min,
        o.age_max,
        o.min_education,
        o.skill,
        o.physical,
        o.dormitory,
        o.living,
        np.asarray(kind.travel_cost, dtype=np.float64),
        float(kind.sector_bonus),
        np.asarray(kind.priority_weight, dtype=np.float64),
    )


@numba.njit(cache=True, inline="always")
def _distance_class(home: int, place: int) -> int:  # pragma: no cover - compiled
    # place codes are 6-digit county or prefecture codes
    if home == place:
        return 0
    if home // 100 == place // 100:
        return 1
    if home // 10000 == place // 10000:
        return 2
    return 3


@numba.njit(cache=True, inline="always")
def _acceptable(
    pay: float,
    min_wage: float,
    needs_dorm: bool,
    dormitory: bool,
    age: int,
    age_min: int,
    age_max: int,
    education: int,
    min_education: int,
    skills: int,
    skill: int,
    labour: int,
    physical: bool,
) -> bool:  # pragma: no cover - compiled
    """The hard rules of both sides for one seeker and one post (the flat form of _evaluate's
    bits 2–64, for the hot loops; inlined by numba)."""
    if pay < min_wage or (needs_dorm and not dormitory):
        return False
    if age < age_min or age > age_max or education < min_education:
        return False
    if skill != 0 and (skills & skill) == 0:
        return False
    return not (labour < 1 or (physical and labour < 2))


@numba.njit(cache=True)
def _evaluate(
    s: int,
    o: int,
    home: I8,
    age: I8,
    education: I8,
    labour: I8,
    skills: I8,
    sectors: I8,
    min_wage: F8,
    needs_dorm: npt.NDArray[np.bool_],
    tier: I8,
    place_code: I8,
    sector: I8,
    wage: F8,
    subsidy: F8,
    age_min: I8,
    age_max: I8,
    min_education: I8,
    skill: I8,
    physical: npt.NDArray[np.bool_],
    dormitory: npt.NDArray[np.bool_],
    living: F8,
    travel_cost: F8,
    sector_bonus: float,
) -> tuple[int, float, float, float, float, float]:  # pragma: no cover - compiled
    """(reason bits, seeker score, living, travel, sector bonus, fit)."""
    bits = 0
    pay = wage[o] + subsidy[o]
    if pay < min_wage[s]:
        bits |= 2
    if needs_dorm[s] and not dormitory[o]:
        bits |= 4
    if age[s] < age_min[o] or age[s] > age_max[o]:
        bits |= 8
    if education[s] < min_education[o]:
        bits |= 16
    if skill[o] != 0 and (skills[s] & skill[o]) == 0:
        bits |= 32
    if labour[s] < 1 or (physical[o] and labour[s] < 2):
        bits |= 64
    live = 0.0 if dormitory[o] else living[o]
    trav = travel_cost[_distance_class(home[s], place_code[o])]
    bonus = sector_bonus if (sectors[s] & sector[o]) != 0 else 0.0
    score = pay - live - trav + bonus
    fit = 0.0
    if skill[o] != 0 and (skills[s] & skill[o]) != 0:
        fit += 400.0
    extra = education[s] - min_education[o]
    if extra > 0:
        fit += 100.0 * min(extra, 3)
    if labour[s] == 3:
        fit += 200.0
    return bits, score, live, trav, bonus, fit


@numba.njit(cache=True)
def _fill(
    s: int,
    m: int,
    base: int,
    age: I8,
    education: I8,
    labour: I8,
    skills: I8,
    min_wage: F8,
    needs_dorm: npt.NDArray[np.bool_],
    home: I8,
    sectors: I8,
    tier: I8,
    priority_weight: F8,
    place_ptr: I8,
    place: I4,
    by_place_ptr: I8,
    by_place: I8,
    place_code: I8,
    sector: I8,
    wage: F8,
    subsidy: F8,
    age_min: I8,
    age_max: I8,
    min_education: I8,
    skill: I8,
    physical: npt.NDArray[np.bool_],
    dormitory: npt.NDArray[np.bool_],
    living: F8,
    travel_cost: F8,
    sector_bonus: float,
    seeker_tb: I8,
    offer_tb: I8,
    scale: np.int64,
    loc_offer: I8,
    loc_key: I8,
    loc_okey: I8,
    loc_w: F8,
    out_offer: I4,
    out_okey: I8,
    out_w: F8,
) -> None:  # pragma: no cover - compiled
    """Score seeker ``s``'s ``m`` acceptable posts and write them, best first, at ``base``."""

    if m == 0:
        return
    a_s, e_s, l_s = age[s], education[s], labour[s]
    k_s, w_s, d_s = skills[s], min_wage[s], needs_dorm[s]
    h_s, sec_s, t_s = home[s], sectors[s], tier[s]
    weight = priority_weight[t_s]
    c = 0
    for k in range(place_ptr[s], place_ptr[s + 1]):
        p = place[k]
        for j in range(by_place_ptr[p], by_place_ptr[p + 1]):
            o = by_place[j]
            pay = wage[j] + subsidy[j]
            if not _acceptable(
                pay, w_s, d_s, dormitory[j], a_s, age_min[j], age_max[j], e_s,
                min_education[j], k_s, skill[j], l_s, physical[j],
            ):  # fmt: skip
                continue
            live = 0.0 if dormitory[j] else living[j]
            dclass = _distance_class(h_s, place_code[j])
            bonus = sector_bonus if (sec_s & sector[j]) != 0 else 0.0
            score = pay - live - travel_cost[dclass] + bonus
            fit = 0.0
            if skill[j] != 0:
                fit += 400.0
            extra = e_s - min_education[j]
            if extra > 0:
                fit += 100.0 * min(extra, 3)
            if l_s == 3:
                fit += 200.0
            loc_offer[c] = o
            loc_key[c] = np.int64(np.round(-score * 100.0)) * scale + offer_tb[o]
            oscore = 1000.0 * t_s + fit
            loc_okey[c] = np.int64(np.round(-oscore * 100.0)) * scale + seeker_tb[s]
            loc_w[c] = weight * score / 1000.0 + fit / 100.0
            c += 1
    order = np.argsort(loc_key[:m])
    for j in range(m):
        q = order[j]
        out_offer[base + j] = loc_offer[q]
        out_okey[base + j] = loc_okey[q]
        out_w[base + j] = loc_w[q]


@numba.njit(cache=True, parallel=True)
def _pairs(
    place_ptr: I8,
    place: I4,
    home: I8,
    age: I8,
    education: I8,
    labour: I8,
    skills: I8,
    sectors: I8,
    min_wage: F8,
    needs_dorm: npt.NDArray[np.bool_],
    tier: I8,
    by_place_ptr: I8,
    by_place: I8,
    place_code: I8,
    sector: I8,
    wage: F8,
    subsidy: F8,
    age_min: I8,
    age_max: I8,
    min_education: I8,
    skill: I8,
    physical: npt.NDArray[np.bool_],
    dormitory: npt.NDArray[np.bool_],
    living: F8,
    travel_cost: F8,
    sector_bonus: float,
    priority_weight: F8,
    seeker_tb: I8,
    offer_tb: I8,
    subset: I8,
) -> tuple[I8, I4, I8, F8]:  # pragma: no cover - compiled
    # The rules of _evaluate, written out flat: this loop runs ~10**8 times at national scale.
    n = len(subset)
    counts = np.zeros(n, dtype=np.int64)
    for i in numba.prange(n):
        s = subset[i]
        a_s, e_s, l_s = age[s], education[s], labour[s]
        k_s, w_s, d_s = skills[s], min_wage[s], needs_dorm[s]
        c = 0
        for k in range(place_ptr[s], place_ptr[s + 1]):
            p = place[k]
            for j in range(by_place_ptr[p], by_place_ptr[p + 1]):
                if _acceptable(
                    wage[j] + subsidy[j], w_s, d_s, dormitory[j], a_s, age_min[j], age_max[j],
                    e_s, min_education[j], k_s, skill[j], l_s, physical[j],
                ):  # fmt: skip
                    c += 1
        counts[i] = c
    ptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        ptr[i + 1] = ptr[i] + counts[i]
    total = ptr[n]
    out_offer = np.empty(total, dtype=np.int32)
    out_okey = np.empty(total, dtype=np.int64)
    out_w = np.empty(total, dtype=np.float64)
    scale = np.int64(2**31)
    # Seekers in contiguous chunks, one chunk per task of the parallel loop; each chunk has one set
    # of per-seeker buffers, reused (allocating per seeker costs more than the work). Chunks write
    # disjoint slices of the output, so the result does not depend on the number of threads.
    n_chunks = min(n, 256)
    for chunk in numba.prange(n_chunks):
        lo = chunk * n // n_chunks
        hi = (chunk + 1) * n // n_chunks
        longest = 0
        for i in range(lo, hi):
            longest = max(longest, counts[i])
        loc_offer = np.empty(longest, dtype=np.int64)
        loc_key = np.empty(longest, dtype=np.int64)
        loc_okey = np.empty(longest, dtype=np.int64)
        loc_w = np.empty(longest, dtype=np.float64)
        for i in range(lo, hi):
            _fill(
                subset[i],
                counts[i],
                ptr[i],
                age,
                education,
                labour,
                skills,
                min_wage,
                needs_dorm,
                home,
                sectors,
                tier,
                priority_weight,
                place_ptr,
                place,
                by_place_ptr,
                by_place,
                place_code,
                sector,
                wage,
                subsidy,
                age_min,
                age_max,
                min_education,
                skill,
                physical,
                dormitory,
                living,
                travel_cost,
                sector_bonus,
                seeker_tb,
                offer_tb,
                scale,
                loc_offer,
                loc_key,
                loc_okey,
                loc_w,
                out_offer,
                out_okey,
                out_w,
            )
    return ptr, out_offer, out_okey, out_w


@numba.njit(cache=True)
def _considered(
    place_ptr: I8,
    place: I4,
    home: I8,
    age: I8,
    education: I8,
    labour: I8,
    skills: I8,
    sectors: I8,
    min_wage: F8,
    needs_dorm: npt.NDArray[np.bool_],
    tier: I8,
    by_place_ptr: I8,
    by_place: I8,
    place_code: I8,
    sector: I8,
    wage: F8,
    subsidy: F8,
    age_min: I8,
    age_max: I8,
    min_education: I8,
    skill: I8,
    physical: npt.NDArray[np.bool_],
    dormitory: npt.NDArray[np.bool_],
    living: F8,
    travel_cost: F8,
    sector_bonus: float,
    priority_weight: F8,
    seeker_tb: I8,
    offer_tb: I8,
    subset: I8,
) -> tuple[I8, I8, I8, I8, F8, F8, F8, F8, F8, F8, F8, I8, F8]:  # pragma: no cover
    total = 0
    for s in subset:
        for k in range(place_ptr[s], place_ptr[s + 1]):
            p = place[k]
            total += by_place_ptr[p + 1] - by_place_ptr[p]
    seeker_o = np.empty(total, dtype=np.int64)
    offer_o = np.empty(total, dtype=np.int64)
    bits_o = np.empty(total, dtype=np.int64)
    key = np.empty(total, dtype=np.int64)
    score_o = np.empty(total, dtype=np.float64)
    wage_o = np.empty(total, dtype=np.float64)
    sub_o = np.empty(total, dtype=np.float64)
    live_o = np.empty(total, dtype=np.float64)
    trav_o = np.empty(total, dtype=np.float64)
    bonus_o = np.empty(total, dtype=np.float64)
    oscore_o = np.empty(total, dtype=np.float64)
    tier_o = np.empty(total, dtype=np.int64)
    fit_o = np.empty(total, dtype=np.float64)
    c = 0
    scale = np.int64(2**31)
    for s in subset:
        for k in range(place_ptr[s], place_ptr[s + 1]):
            p = place[k]
            for j in range(by_place_ptr[p], by_place_ptr[p + 1]):
                o = by_place[j]
                r = _evaluate(
                    s, j, home, age, education, labour, skills, sectors, min_wage, needs_dorm,
                    tier, place_code, sector, wage, subsidy, age_min, age_max, min_education,
                    skill, physical, dormitory, living, travel_cost, sector_bonus,
                )  # fmt: skip
                if r[0] & 6:  # fails the seeker's own rules: not in the seeker's list at all
                    continue
                seeker_o[c] = s
                offer_o[c] = o
                bits_o[c] = r[0]
                key[c] = np.int64(np.round(-r[1] * 100.0)) * scale + offer_tb[o]
                score_o[c] = r[1]
                wage_o[c] = wage[j]
                sub_o[c] = subsidy[j]
                live_o[c] = r[2]
                trav_o[c] = r[3]
                bonus_o[c] = r[4]
                oscore_o[c] = 1000.0 * tier[s] + r[5]
                tier_o[c] = tier[s]
                fit_o[c] = r[5]
                c += 1
    return (
        key[:c],
        seeker_o[:c],
        offer_o[:c],
        bits_o[:c],
        score_o[:c],
        wage_o[:c],
        sub_o[:c],
        live_o[:c],
        trav_o[:c],
        bonus_o[:c],
        oscore_o[:c],
        tier_o[:c],
        fit_o[:c],
    )
