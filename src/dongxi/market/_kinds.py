"""Training seats (培训名额) and workshop places (帮扶车间岗位): two more kinds of offer.

Like :class:`dongxi.market.JobPosts`, a kind turns a needs table and an offers table into an
:class:`~dongxi.market.Instance` (the acceptable pairs, ranked on both sides) and explains, pair
by pair, which rule excludes what. The matching methods are the same for every kind.

These kinds are vectorised with NumPy over candidate pairs (all pairs for training seats; pairs
in the same county for workshop places), built in chunks: they are meant for a county's or a
province's courses and workshops (thousands of offers), not for the national job market.

Training seats (``kind = training``), matched with training needs:

- the person's own rules: the course teaches what the person asked to learn — one of the need's
  ``sectors`` is the course's ``sector``, or the need's ``details`` (具体需求) name the course's
  ``sector`` or ``skill_required`` — whenever the person said what they want
  (``course_not_wanted``); the course is in the person's home
  province or in a place the person lists (``too_far``); a person who needs a dormitory gets
  one for a course away from the home county (``no_dormitory``); the daily hours fit the hours
  the person can give, when the person states them (``hours_too_long``);
- the course's rules: age within ``age_min``–``age_max``, education ≥ ``min_education``, the
  prerequisite ``skill_required`` held (``age_out_of_range``, ``education_below_required``,
  ``skill_missing``); the course has not ended before the need was stated (or before the round's
  date ``as_of``) (``course_over``).

Workshop places (``kind = workshop``), matched with employment needs:

- the person's own rules: the workshop is in the person's home county (``not_near_home``); the
  person wants work near home — lists no places, or a place in the home county
  (``place_not_wanted``); wage + subsidy ≥ the person's minimum (``wage_below_minimum``); the
  daily hours fit (``hours_too_long``);
- the workshop's rules: age, education, skill as for job posts, and labour capacity: at least
  weak, and at least normal for ``physical`` work, so that light work is what weak labour
  capacity is offered (``labour_capacity_insufficient``).

Scores (yuan-like units; documented in ``docs/market.md``):

- training, the person's: ``subsidy − living − travel + wish_bonus + named_bonus`` (living cost
  only for a course away from the home county without a dormitory); the course's
  ``1000 × priority tier + fit``, fit = 300 when the person asked for this trade + 100 per
  education level above the minimum (max 3);
- workshop, the person's: ``wage + subsidy + township_bonus`` (same township as the person's
  home: ``home_code``, a village or township code); the workshop's ``1000 × priority tier +
  fit``, fit = 400 for the required skill held, 300 for a person who states limited hours (a
  carer), 200 for weak labour capacity (light work is for them);
- welfare of a pair: ``priority weight × person's score / 1000 + fit / 100``.

Ties are broken by a seeded random permutation of the other side, as for job posts. **Sex and
ethnicity are never read.**
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from dongxi.errors import InputError
from dongxi.market._instance import Instance, build_instance, rank_key
from dongxi.market._jobs import EDUCATION_LEVEL, LABOUR_LEVEL, PRIORITY_TIER, _codes, _numbers

__all__ = ["TableKind", "TrainingSeats", "WorkshopPlaces"]

I8 = npt.NDArray[np.int64]
F8 = npt.NDArray[np.float64]
B1 = npt.NDArray[np.bool_]

#: Pairs evaluated at once (seekers × offers of one chunk).
_CHUNK = 2_000_000


def _need(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"the {what} table lacks column(s) {', '.join(missing)}.",
            fix=f"Give the {what} table the columns {', '.join(columns)} (see docs/market.md).",
        )


def _text(frame: pd.DataFrame, column: str) -> npt.NDArray[np.object_]:
    if column not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    values = frame[column].astype("string").fillna("").str.strip()
    return np.asarray(values.to_numpy(dtype=object), dtype=object)


def _names(frame: pd.DataFrame, column: str) -> list[frozenset[str]]:
    """``;``-separated lists as sets of trimmed names."""
    return [
        frozenset(p.strip() for p in str(v).split(";") if p.strip()) for v in _text(frame, column)
    ]


def _code(frame: pd.DataFrame, column: str) -> npt.NDArray[np.object_]:
    """Region codes as digit strings ('' when missing)."""
    return _text(frame, column)


def _hours(frame: pd.DataFrame, what: str) -> F8:
    """``hours_per_day`` (NaN when not stated); checked to lie in (0, 24]."""
    if "hours_per_day" not in frame.columns:
        return np.full(len(frame), np.nan)
    values = pd.to_numeric(frame["hours_per_day"], errors="coerce")
    stated = frame["hours_per_day"].notna() & (frame["hours_per_day"].astype("string") != "")
    bad = (stated & (values.isna() | (values <= 0) | (values > 24))).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"hours a day outside (0, 24] in the {what} table.",
            row=i + 2,
            column="hours_per_day",
            value=frame["hours_per_day"].iloc[i],
            fix="Write the hours a day as a number from 0.5 to 24, or leave the cell empty.",
        )
    return values.to_numpy(dtype=np.float64)


def _optional(frame: pd.DataFrame, column: str, default: float, what: str) -> F8:
    """Numbers of an optional column, ``default`` where the column or a cell is empty."""
    values = frame.get(column, pd.Series(np.full(len(frame), float(default)), index=frame.index))
    return _numbers(values.fillna(default), column, what)


def _eligibility(frame: pd.DataFrame) -> dict[str, Any]:
    """An offer's age range (16–60 unless stated) and least education (none unless stated)."""
    education = frame.get("min_education", pd.Series(["none"] * len(frame), index=frame.index))
    return {
        "age_min": _optional(frame, "age_min", 16, "offers").astype(np.int64),
        "age_max": _optional(frame, "age_max", 60, "offers").astype(np.int64),
        "min_education": _codes(
            education.fillna("none"), EDUCATION_LEVEL, "min_education", "offers"
        ),
    }


def _dates(frame: pd.DataFrame, column: str) -> npt.NDArray[np.datetime64]:
    if column not in frame.columns:
        return np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    values = pd.to_datetime(frame[column], errors="coerce")
    return np.asarray(values.to_numpy(dtype="datetime64[D]"))


def _flags(frame: pd.DataFrame, column: str) -> B1:
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    text = frame[column].astype("string").str.strip().str.lower()
    return text.isin(["1", "true", "yes", "y", "是"]).to_numpy(dtype=bool)


@dataclass(frozen=True, eq=False)
class Sides:
    """The validated tables of one kind (the engine's form of needs and offers)."""

    seekers: pd.DataFrame
    offers: pd.DataFrame
    s: dict[str, Any]
    o: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class TableKind:
    """What the training and workshop kinds share: candidate pairs evaluated with NumPy, then
    ranked on both sides by :func:`dongxi.market.build_instance`.

    A subclass gives :meth:`_seekers`, :meth:`_offers`, :meth:`_candidates` and
    :meth:`_evaluate`; ``SEEKER_BITS`` are the reason bits of the person's own rules (a pair that
    fails one is not in the person's list at all, so :meth:`considered` leaves it out).
    """

    priority_weight: tuple[float, float, float] = (1.0, 1.5, 2.0)
    name: ClassVar[str] = ""
    need_kind: ClassVar[str] = ""
    SEEKER_BITS: ClassVar[int] = 0
    PARTS: ClassVar[tuple[str, ...]] = ()

    # --- to be given by each kind ---
    def _seekers(self, frame: pd.DataFrame) -> dict[str, Any]:
        raise NotImplementedError

    def _offers(self, frame: pd.DataFrame) -> dict[str, Any]:
        raise NotImplementedError

    def _candidates(self, sides: Sides, subset: I8) -> tuple[I8, I8]:
        """Candidate (seeker, offer) pairs for the seekers in ``subset``, in chunks' order."""
        n_o = len(sides.offers)
        return np.repeat(subset, n_o), np.tile(np.arange(n_o, dtype=np.int64), len(subset))

    def _evaluate(self, sides: Sides, si: I8, oi: I8) -> dict[str, Any]:
        raise NotImplementedError

    # --- shared ---
    def sides(self, seekers: pd.DataFrame, offers: pd.DataFrame) -> Sides:
        """Both tables validated and read into arrays."""
        s_frame = seekers.reset_index(drop=True)
        o_frame = offers.reset_index(drop=True)
        return Sides(s_frame, o_frame, self._seekers(s_frame), self._offers(o_frame))

    def _pairs(self, sides: Sides, subset: I8, *, every: bool = False) -> dict[str, Any]:
        """Every candidate pair of the seekers in ``subset`` with reason bits and scores
        (``every``: all seeker × offer pairs, not only the kind's candidates)."""
        n_o = max(len(sides.offers), 1)
        step = max(1, _CHUNK // n_o)
        candidates = TableKind._candidates if every else type(self)._candidates
        parts: list[dict[str, Any]] = []
        for start in range(0, len(subset), step):
            si, oi = candidates(self, sides, subset[start : start + step])
            parts.append({"seeker": si, "offer": oi, **self._evaluate(sides, si, oi)})
        if not parts:
            si = np.zeros(0, dtype=np.int64)
            parts.append({"seeker": si, "offer": si.copy(), **self._evaluate(sides, si, si)})
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def _keys(self, pairs: dict[str, Any], seed: int, n_s: int, n_o: int) -> tuple[I8, I8]:
        rng = np.random.default_rng(seed)
        seeker_tb = rng.permutation(n_s).astype(np.int64)
        offer_tb = rng.permutation(n_o).astype(np.int64)
        s_key = rank_key(pairs["seeker_score"], offer_tb[pairs["offer"]], resolution=0.01)
        o_key = rank_key(pairs["offer_score"], seeker_tb[pairs["seeker"]], resolution=0.01)
        return s_key, o_key

    def instance(
        self, seekers: pd.DataFrame, offers: pd.DataFrame, *, seed: int
    ) -> tuple[Instance, Sides, Sides]:
        """Acceptable pairs ranked on both sides (ties by a permutation drawn from ``seed``)."""
        sides = self.sides(seekers, offers)
        n_s, n_o = len(sides.seekers), len(sides.offers)
        pairs = self._pairs(sides, np.arange(n_s, dtype=np.int64))
        ok = pairs["reasons"] == 0
        pairs = {k: v[ok] for k, v in pairs.items()}
        s_key, o_key = self._keys(pairs, seed, n_s, n_o)
        tier = pairs["priority_tier"]
        weight = np.asarray(self.priority_weight, dtype=np.float64)[tier]
        welfare = weight * pairs["seeker_score"] / 1000.0 + pairs["fit"] / 100.0
        inst = build_instance(
            seeker_ids=sides.seekers["seeker_id"].astype(str).to_numpy(dtype=object),
            offer_ids=sides.offers["offer_id"].astype(str).to_numpy(dtype=object),
            capacity=sides.o["capacity"],
            pair_seeker=pairs["seeker"],
            pair_offer=pairs["offer"],
            seeker_key=s_key,
            offer_key=o_key,
            welfare=welfare,
        )
        return inst, sides, sides

    def considered(
        self,
        s: Sides,
        o: Sides,
        subset: I8,
        *,
        seed: int,
        n_seekers: int,
        n_offers: int,
    ) -> pd.DataFrame:
        """For the seekers in ``subset``: every offer that passes the person's own rules, with
        the reason bits of the offer's rules that fail, the score parts and the offer's score
        (the columns :meth:`dongxi.market.MarketResult.explain` reads)."""
        pairs = self._pairs(s, np.asarray(subset, dtype=np.int64))
        keep = (pairs["reasons"] & self.SEEKER_BITS) == 0
        pairs = {k: v[keep] for k, v in pairs.items()}
        s_key, _ = self._keys(pairs, seed, n_seekers, n_offers)
        columns = {
            "seeker_key": s_key,
            "seeker": pairs["seeker"],
            "offer": pairs["offer"],
            "reasons": pairs["reasons"],
        }
        columns.update({p: pairs[p] for p in self.PARTS})
        return pd.DataFrame(columns)

    def nearest_misses(self, s: Sides, subset: I8) -> dict[int, int]:
        """For the seekers in ``subset`` whose own rules exclude every candidate offer of the
        kind: seeker → the reason bits of the person's own rules failed by the candidate that
        fails the fewest of them (a seeker with no candidate at all, or with a candidate that
        passes them, is left out). What tells a carer that the hours, not the place, kept the
        county's only workshop out of their list."""
        pairs = self._pairs(s, np.asarray(subset, dtype=np.int64))
        own = pairs["reasons"] & self.SEEKER_BITS
        if not len(own):
            return {}
        count = np.zeros(len(own), dtype=np.int64)
        for bit in range(int(own.max()).bit_length()):
            count += (own >> bit) & 1
        order = np.lexsort((count, pairs["seeker"]))
        seekers, first = np.unique(pairs["seeker"][order], return_index=True)
        best = own[order][first]
        return {int(k): int(b) for k, b in zip(seekers, best, strict=True) if b}

    def hard_rules(self, seekers: pd.DataFrame, offers: pd.DataFrame) -> pd.DataFrame:
        """Every seeker × offer pair with its reason bits (``seeker_id, offer_id, reasons``):
        what the rules say of each pair, for checking a matching against them."""
        sides = self.sides(seekers, offers)
        pairs = self._pairs(sides, np.arange(len(sides.seekers), dtype=np.int64), every=True)
        return pd.DataFrame(
            {
                "seeker_id": sides.seekers["seeker_id"].astype(str).to_numpy()[pairs["seeker"]],
                "offer_id": sides.offers["offer_id"].astype(str).to_numpy()[pairs["offer"]],
                "reasons": pairs["reasons"],
            }
        )


def _distance_class(home: npt.NDArray[np.object_], place: npt.NDArray[np.object_]) -> I8:
    """0 same county, 1 same prefecture, 2 same province, 3 elsewhere (6-digit prefixes)."""
    h = np.asarray([str(x)[:6] for x in home], dtype=object)
    p = np.asarray([str(x)[:6] for x in place], dtype=object)
    out = np.full(len(h), 3, dtype=np.int64)
    prov = np.asarray([a[:2] == b[:2] and a != "" for a, b in zip(h, p, strict=True)], dtype=bool)
    pref = np.asarray([a[:4] == b[:4] and a != "" for a, b in zip(h, p, strict=True)], dtype=bool)
    same = np.asarray([a == b and a != "" for a, b in zip(h, p, strict=True)], dtype=bool)
    out[prov] = 2
    out[pref] = 1
    out[same] = 0
    return out


def _listed(places: list[frozenset[str]], si: I8, place: npt.NDArray[np.object_], oi: I8) -> B1:
    """Whether the offer's place lies in (or contains) a place the person lists."""
    out = np.zeros(len(si), dtype=bool)
    for k, (s, o) in enumerate(zip(si.tolist(), oi.tolist(), strict=True)):
        code = str(place[o])
        out[k] = any(code.startswith(p) or p.startswith(code) for p in places[s]) if code else False
    return out


def _hours_fit(need_h: F8, offer_h: F8) -> B1:
    """True where the person states no limit, or the offer states hours within it."""
    limited = ~np.isnan(need_h)
    fits = ~np.isnan(offer_h) & (offer_h <= np.where(limited, need_h, np.inf))
    out: B1 = ~limited | fits
    return out


@dataclass(frozen=True, kw_only=True)
class TrainingSeats(TableKind):
    """The training-seat kind (技能培训名额): parameters of its rules and scores.

    ``as_of`` is the round's date: a course that ended before it is not proposed (by default the
    date each need was stated is used). ``travel_cost`` by distance class (same county, same
    prefecture, same province, other province); ``wish_bonus`` when the course's trade is one
    the person asked for (``sectors``); ``named_bonus`` when the need's ``details`` name the
    course's trade or skill.
    """

    travel_cost: tuple[float, float, float, float] = (0.0, 100.0, 250.0, 400.0)
    wish_bonus: float = 500.0
    named_bonus: float = 300.0
    as_of: dt.date | None = None
    name: ClassVar[str] = "training"
    need_kind: ClassVar[str] = "training"
    # course_not_wanted, too_far, no_dormitory, hours_too_long
    SEEKER_BITS: ClassVar[int] = 256 | 1024 | 4 | 4096
    PARTS: ClassVar[tuple[str, ...]] = (
        "seeker_score",
        "subsidy",
        "living",
        "travel",
        "wish_bonus",
        "offer_score",
        "priority_tier",
        "fit",
    )

    def _seekers(self, frame: pd.DataFrame) -> dict[str, Any]:
        _need(frame, ("seeker_id", "county_code", "status", "age", "education"), "training needs")
        return {
            "home": _code(frame, "county_code"),
            "age": _numbers(frame["age"], "age", "needs").astype(np.int64),
            "education": _codes(frame["education"], EDUCATION_LEVEL, "education", "needs"),
            "tier": _codes(frame["status"], PRIORITY_TIER, "status", "needs"),
            "skills": _names(frame, "skills"),
            "sectors": _names(frame, "sectors"),
            "places": _names(frame, "places"),
            "details": _text(frame, "details"),
            "needs_dorm": _flags(frame, "needs_dormitory"),
            "hours": _hours(frame, "needs"),
            "stated_on": _dates(frame, "stated_on"),
        }

    def _offers(self, frame: pd.DataFrame) -> dict[str, Any]:
        _need(frame, ("offer_id", "place_code", "positions"), "training seats")
        return {
            "capacity": _numbers(frame["positions"], "positions", "offers").astype(np.int64),
            "place": _code(frame, "place_code"),
            "sector": _text(frame, "sector"),
            "skill": _text(frame, "skill_required"),
            "subsidy": _optional(frame, "subsidy", 0, "offers"),
            "living": _optional(frame, "living_cost", 0, "offers"),
            **_eligibility(frame),
            "dormitory": _flags(frame, "dormitory"),
            "hours": _hours(frame, "offers"),
            "ends_on": _dates(frame, "ends_on"),
        }

    def _evaluate(self, sides: Sides, si: I8, oi: I8) -> dict[str, Any]:
        s, o = sides.s, sides.o
        n = len(si)
        bits = np.zeros(n, dtype=np.int64)
        sector = o["sector"][oi]
        skill = o["skill"][oi]
        wished = np.asarray(
            [bool(c) and c in s["sectors"][a] for a, c in zip(si.tolist(), sector, strict=True)],
            dtype=bool,
        )
        named = np.asarray(
            [
                bool(d) and ((bool(c) and c in d) or (bool(k) and k in d))
                for d, c, k in zip(s["details"][si], sector, skill, strict=True)
            ],
            dtype=bool,
        )
        asked = np.asarray(
            [bool(s["sectors"][a]) or bool(s["details"][a]) for a in si.tolist()], dtype=bool
        )
        bits[asked & ~(wished | named)] |= 256  # course_not_wanted
        dclass = _distance_class(s["home"][si], o["place"][oi])
        listed = _listed(s["places"], si, o["place"], oi)
        bits[(dclass == 3) & ~listed] |= 1024  # too_far
        away = dclass > 0
        bits[away & s["needs_dorm"][si] & ~o["dormitory"][oi]] |= 4  # no_dormitory
        bits[~_hours_fit(s["hours"][si], o["hours"][oi])] |= 4096  # hours_too_long
        age = s["age"][si]
        bits[(age < o["age_min"][oi]) | (age > o["age_max"][oi])] |= 8
        extra = s["education"][si] - o["min_education"][oi]
        bits[extra < 0] |= 16
        has_skill = np.asarray(
            [not k or k in s["skills"][a] for a, k in zip(si.tolist(), skill, strict=True)],
            dtype=bool,
        )
        bits[~has_skill] |= 32
        reference = s["stated_on"][si]
        if self.as_of is not None:
            reference = np.full(n, np.datetime64(self.as_of, "D"))
        ends = o["ends_on"][oi]
        over = ~np.isnat(ends) & ~np.isnat(reference)
        over[over] = ends[over] < reference[over]
        bits[over] |= 512  # course_over
        travel = np.asarray(self.travel_cost, dtype=np.float64)[dclass]
        living = np.where(away & ~o["dormitory"][oi], o["living"][oi], 0.0)
        wish = np.where(wished, self.wish_bonus, 0.0) + np.where(named, self.named_bonus, 0.0)
        subsidy = o["subsidy"][oi]
        score = subsidy - living - travel + wish
        fit = np.where(wished | named, 300.0, 0.0) + 100.0 * np.clip(extra, 0, 3)
        tier = s["tier"][si]
        return {
            "reasons": bits,
            "seeker_score": score,
            "subsidy": subsidy,
            "living": living,
            "travel": travel,
            "wish_bonus": wish,
            "offer_score": 1000.0 * tier + fit,
            "priority_tier": tier,
            "fit": fit,
        }


@dataclass(frozen=True, kw_only=True)
class WorkshopPlaces(TableKind):
    """The workshop kind (帮扶车间 / 扶贫车间岗位): local work near home.

    ``township_bonus`` when the workshop is in the person's own township (the first 9 digits of
    the need's ``home_code``, a village or township code, and of the workshop's ``place_code``).
    ``carer_fit`` and ``weak_fit`` raise the workshop's score of a person who states limited
    hours a day (a carer) and of a person with weak labour capacity (light work is for them).
    """

    township_bonus: float = 300.0
    skill_fit: float = 400.0
    carer_fit: float = 300.0
    weak_fit: float = 200.0
    name: ClassVar[str] = "workshop"
    need_kind: ClassVar[str] = "employment"
    # place_not_wanted, wage_below_minimum, not_near_home, hours_too_long
    SEEKER_BITS: ClassVar[int] = 1 | 2 | 2048 | 4096
    PARTS: ClassVar[tuple[str, ...]] = (
        "seeker_score",
        "wage",
        "subsidy",
        "township_bonus",
        "offer_score",
        "priority_tier",
        "fit",
    )

    def _seekers(self, frame: pd.DataFrame) -> dict[str, Any]:
        _need(
            frame,
            ("seeker_id", "county_code", "status", "age", "education", "labour_capacity"),
            "employment needs",
        )
        return {
            "home": _code(frame, "county_code"),
            "home_code": _code(frame, "home_code"),
            "age": _numbers(frame["age"], "age", "needs").astype(np.int64),
            "education": _codes(frame["education"], EDUCATION_LEVEL, "education", "needs"),
            "labour": _codes(frame["labour_capacity"], LABOUR_LEVEL, "labour_capacity", "needs"),
            "tier": _codes(frame["status"], PRIORITY_TIER, "status", "needs"),
            "skills": _names(frame, "skills"),
            "places": _names(frame, "places"),
            "min_wage": _optional(frame, "min_wage", 0, "needs"),
            "hours": _hours(frame, "needs"),
        }

    def _offers(self, frame: pd.DataFrame) -> dict[str, Any]:
        _need(frame, ("offer_id", "place_code", "positions"), "workshop places")
        place = _code(frame, "place_code")
        return {
            "capacity": _numbers(frame["positions"], "positions", "offers").astype(np.int64),
            "place": place,
            "county": np.asarray([p[:6] for p in place], dtype=object),
            "skill": _text(frame, "skill_required"),
            "wage": _optional(frame, "monthly_wage", 0, "offers"),
            "subsidy": _optional(frame, "subsidy", 0, "offers"),
            **_eligibility(frame),
            "physical": _flags(frame, "physical"),
            "hours": _hours(frame, "offers"),
        }

    def _evaluate(self, sides: Sides, si: I8, oi: I8) -> dict[str, Any]:
        s, o = sides.s, sides.o
        n = len(si)
        bits = np.zeros(n, dtype=np.int64)
        home = np.asarray([str(h)[:6] for h in s["home"][si]], dtype=object)
        county = o["county"][oi]
        bits[home != county] |= 2048  # not_near_home
        local = np.asarray(
            [
                not s["places"][a] or any(p[:6] == str(s["home"][a])[:6] for p in s["places"][a])
                for a in si.tolist()
            ],
            dtype=bool,
        )
        bits[~local] |= 1  # place_not_wanted: the person wants work away from home
        pay = o["wage"][oi] + o["subsidy"][oi]
        bits[pay < s["min_wage"][si]] |= 2
        limited = ~np.isnan(s["hours"][si])
        bits[~_hours_fit(s["hours"][si], o["hours"][oi])] |= 4096
        age = s["age"][si]
        bits[(age < o["age_min"][oi]) | (age > o["age_max"][oi])] |= 8
        bits[s["education"][si] < o["min_education"][oi]] |= 16
        skill = o["skill"][oi]
        held = np.asarray(
            [not k or k in s["skills"][a] for a, k in zip(si.tolist(), skill, strict=True)],
            dtype=bool,
        )
        bits[~held] |= 32
        labour = s["labour"][si]
        bits[(labour < 1) | (o["physical"][oi] & (labour < 2))] |= 64
        township = np.asarray(
            [
                len(h) >= 9 and len(p) >= 9 and h[:9] == p[:9]
                for h, p in zip(s["home_code"][si], o["place"][oi], strict=True)
            ],
            dtype=bool,
        )
        near = np.where(township, self.township_bonus, 0.0)
        fit = (
            np.where(held & (skill != ""), self.skill_fit, 0.0)
            + np.where(limited, self.carer_fit, 0.0)
            + np.where(labour == 1, self.weak_fit, 0.0)
        )
        tier = s["tier"][si]
        return {
            "reasons": bits,
            "seeker_score": pay + near,
            "wage": o["wage"][oi],
            "subsidy": o["subsidy"][oi],
            "township_bonus": near,
            "offer_score": 1000.0 * tier + fit,
            "priority_tier": tier,
            "fit": fit,
        }

    def _candidates(self, sides: Sides, subset: I8) -> tuple[I8, I8]:
        """Only the workshops of each person's county (the others are never near home); the
        explanation of a person lists them all the same (``not_near_home`` is the person's own
        rule, so they are left out of the list anyway)."""
        by_county: dict[str, list[int]] = {}
        for j, c in enumerate(sides.o["county"].tolist()):
            by_county.setdefault(str(c), []).append(j)
        si: list[int] = []
        oi: list[int] = []
        for a in subset.tolist():
            offers = by_county.get(str(sides.s["home"][a])[:6], [])
            si.extend([a] * len(offers))
            oi.extend(offers)
        return np.asarray(si, dtype=np.int64), np.asarray(oi, dtype=np.int64)
