"""Helpers (帮扶责任人), eastern partners (东部帮扶主体), assistance measures and status history."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dongxi import regions
from dongxi.synth._arrow import codes, date_text, int_text, join, text
from dongxi.synth._names import make_names, make_surnames
from dongxi.synth._places import Places
from dongxi.synth._population import NEVER, Population
from dongxi.synth._rounds import RoundArrays
from dongxi.vocab import CAUSES, HOUSEHOLD_STATUSES, MONITORING_CATEGORIES

__all__ = ["make_helpers", "make_measures", "make_partners", "status_history"]

IntArray = npt.NDArray[np.int64]

_WEST_UNITS = (
    "农业农村局",
    "教育局",
    "卫生健康局",
    "人力资源和社会保障局",
    "财政局",
    "交通运输局",
    "水利局",
    "自然资源局",
    "供电公司",
    "农村信用合作联社",
    "乡镇人民政府",
)
_EAST_UNITS = ("挂职干部", "对口帮扶工作队", "驻村工作队")
_BRANDS = (
    "华盛",
    "鹏程",
    "粤海",
    "南方",
    "嘉禾",
    "新宏",
    "恒达",
    "金穗",
    "远景",
    "富源",
    "宏图",
    "利民",
    "顺通",
    "安康",
    "德信",
    "康达",
    "汇丰",
    "永泰",
    "瑞丰",
    "创新",
)
_INDUSTRIES = (
    ("农业科技有限公司", "agriculture"),
    ("食品有限公司", "food"),
    ("电子科技有限公司", "manufacturing"),
    ("服装有限公司", "manufacturing"),
    ("物流有限公司", "logistics"),
    ("建筑工程有限公司", "construction"),
    ("电子商务有限公司", "e-commerce"),
    ("人力资源服务有限公司", "services"),
)
_ORG_KINDS = (
    ("enterprise", 0.7),
    ("organisation", 0.12),
    ("government", 0.06),
    ("school", 0.06),
    ("hospital", 0.06),
)

# measure subtypes: (batch, subtype, typical funds in yuan, outcome)
_MEASURES = {
    "illness": ("health", "medical_assistance", 3000.0, "medical_costs_covered"),
    "disability": ("social_security", "disability_subsidy", 1500.0, "subsidy_paid"),
    "education": ("education", "education_subsidy", 3000.0, "child_in_school"),
    "disaster": ("production", "disaster_recovery", 5000.0, "production_restored"),
    "lack_land": ("production", "land_transfer", 2000.0, "income_increased"),
    "lack_water": ("production", "irrigation", 4000.0, "water_secured"),
    "lack_skills": ("employment", "training", 1500.0, "skill_certificate"),
    "lack_labour": ("social_security", "minimum_living_allowance", 4000.0, "income_floor"),
    "lack_funds": ("production", "microcredit", 50000.0, "dividend_received"),
    "poor_transport": ("relocation", "relocation", 60000.0, "relocated"),
    "lack_motivation": ("production", "livestock", 5000.0, "income_increased"),
    "other": ("production", "planting", 3000.0, "income_increased"),
}


def _serials(prefix: str, n: int, width: int) -> npt.NDArray[np.str_]:
    """``prefix`` followed by 1..n zero-padded to ``width`` digits."""
    numbers = pc.utf8_lpad(int_text(np.arange(1, n + 1, dtype=np.int64)), width=width, padding="0")
    out: npt.NDArray[np.str_] = np.asarray(join(prefix, numbers).to_numpy(zero_copy_only=False))
    return out.astype(f"U{len(prefix) + width}")


def make_helpers(
    rng: np.random.Generator, pop: Population, places: Places
) -> tuple[pd.DataFrame, pd.Series]:
    """West-side cadres (about one per five registered households) and a few eastern cadres."""
    poor = np.flatnonzero(pop.h_poor)
    counties = places.counties
    county_codes = counties["county_code"].to_numpy().astype(str)
    names_c = counties["name"].to_numpy().astype(str)
    # helpers per county proportional to its registered households
    per_county = np.bincount(pop.h_county[poor], minlength=len(counties))
    in_use = np.bincount(pop.h_county, minlength=len(counties)) > 0
    n_west = np.where(in_use, np.maximum(1, -(-per_county // 5)), 0)
    west_county = np.repeat(np.arange(len(counties)), n_west)
    n_w = len(west_county)
    east_per = np.where(in_use, np.maximum(1, per_county // 200), 0)
    east_county = np.repeat(np.arange(len(counties)), east_per)
    n_e = len(east_county)
    total = n_w + n_e
    ids = _serials("H", total, 7)
    male = rng.random(total) < 0.7
    names = make_names(rng, make_surnames(rng, total), male)
    unit_w = np.char.add(
        names_c[west_county], np.array(_WEST_UNITS)[rng.integers(0, len(_WEST_UNITS), n_w)]
    )
    east_region = np.where(
        counties["east_county_code"].to_numpy().astype(str) != "",
        counties["east_county_code"].to_numpy().astype(str),
        counties["east_city_code"].to_numpy().astype(str),
    )
    unit_e = np.array(_EAST_UNITS)[rng.integers(0, len(_EAST_UNITS), n_e)]
    helpers = pd.DataFrame(
        {
            "helper_id": ids,
            "name": names,
            "unit": np.concatenate([unit_w, unit_e]),
            "side": np.array(["west"] * n_w + ["east"] * n_e),
            "region_code": np.concatenate([county_codes[west_county], east_region[east_county]]),
        }
    ).astype("str")
    # assign each registered household a west helper of its county
    first = np.concatenate([[0], np.cumsum(n_west)[:-1]])
    hcounty = pop.h_county[poor]
    rank_in_county = np.zeros(len(poor), dtype=np.int64)
    order = np.argsort(hcounty, kind="stable")
    sorted_c = hcounty[order]
    starts = np.searchsorted(sorted_c, sorted_c)
    rank_in_county[order] = np.arange(len(poor)) - starts
    chosen = first[hcounty] + rank_in_county // 5
    assigned = np.full(len(pop.h_code), None, dtype=object)
    assigned[poor] = ids[chosen]
    # households monitored later get the helper of a neighbour: the county's first helper
    has = n_west[pop.h_county] > 0
    fallback = np.where(has, first[pop.h_county], -1)
    none = np.full(len(pop.h_code), None, dtype=object)
    extra = np.where((~pop.h_poor) & has, ids[np.maximum(fallback, 0)].astype(object), none)
    assigned = np.where(pop.h_poor, assigned, extra)
    return helpers, pd.Series(assigned, dtype="object")


@cache
def _east() -> tuple[pd.DataFrame, dict[str, str]]:
    """Guangdong's counties and the names of its prefectures and counties (2023 codes)."""
    div = regions.divisions(2023, provinces=("44",))
    upper = div[div["level"].isin(["prefecture", "county"])]
    names = dict(zip(upper["code"].tolist(), upper["name"].tolist(), strict=True))
    return upper[upper["level"] == "county"].reset_index(drop=True), names


def make_partners(
    rng: np.random.Generator, places: Places, *, counties_used: IntArray
) -> pd.DataFrame:
    """Guangdong enterprises and organisations helping the counties in use (real region codes)."""
    counties = places.counties.iloc[counties_used]
    east_counties, names = _east()
    rows: list[dict[str, str]] = []
    kinds = [k for k, _ in _ORG_KINDS]
    kind_p = np.array([p for _, p in _ORG_KINDS])
    for east_city, east_county in zip(
        counties["east_city_code"], counties["east_county_code"], strict=True
    ):
        pool = east_counties[east_counties["parent_code"] == east_city]["code"].to_numpy()
        for _ in range(int(rng.integers(8, 16))):
            region = (
                east_county
                if east_county and rng.random() < 0.6
                else (str(pool[int(rng.integers(0, len(pool)))]) if len(pool) else east_city)
            )
            kind = kinds[int(rng.choice(len(kinds), p=kind_p))]
            place = names.get(region, "")
            brand = _BRANDS[int(rng.integers(0, len(_BRANDS)))]
            if kind == "enterprise":
                suffix, sector = _INDUSTRIES[int(rng.integers(0, len(_INDUSTRIES)))]
                name = f"{place}{brand}{suffix}"
            elif kind == "organisation":
                name, sector = f"{place}{brand}慈善会", "charity"
            elif kind == "government":
                name, sector = f"{place}人民政府", "public_administration"
            elif kind == "school":
                name, sector = f"{place}第{int(rng.integers(1, 9))}中学", "education"
            else:
                name, sector = f"{place}第{int(rng.integers(1, 5))}人民医院", "health"
            rows.append({"name": name, "kind": kind, "region_code": region, "sector": sector})
    frame = pd.DataFrame(rows, columns=["name", "kind", "region_code", "sector"])
    frame = frame.drop_duplicates("name").reset_index(drop=True)
    n = len(frame)
    frame.insert(0, "partner_code", _serials("P", n, 5))
    frame["contact"] = make_names(rng, make_surnames(rng, n), rng.random(n) < 0.6)
    return frame.astype("str")


def _pick_partner(
    rng: np.random.Generator,
    county: IntArray,
    wanted: npt.NDArray[np.bool_],
    places: Places,
    partners: pd.DataFrame,
) -> npt.NDArray[np.object_]:
    """A partner of each county's paired eastern city where ``wanted`` (else ``None``)."""
    east_city = places.counties["east_city_code"].to_numpy().astype(str)
    region = partners["region_code"].to_numpy().astype(str)
    codes = partners["partner_code"].to_numpy().astype(object)
    city_of_partner = np.char.add(np.char.ljust(region, 4).astype("U4"), "00")
    order = np.argsort(city_of_partner, kind="stable")
    sorted_city = city_of_partner[order]
    lo = np.searchsorted(sorted_city, east_city[county], side="left")
    hi = np.searchsorted(sorted_city, east_city[county], side="right")
    count = hi - lo
    pick = lo + np.floor(rng.random(len(county)) * np.maximum(count, 1)).astype(np.int64)
    ok = wanted & (count > 0)
    out = np.full(len(county), None, dtype=object)
    if len(order):
        out[ok] = codes[order[np.minimum(pick[ok], len(order) - 1)]]
    return out


def make_measures(
    rng: np.random.Generator,
    pop: Population,
    places: Places,
    primary: IntArray,
    causes: pd.Series,
    helper: pd.Series,
    partners: pd.DataFrame,
    fixes: dict[str, Any],
    *,
    last_year: int,
) -> pd.DataFrame:
    """Assistance measures for the registered households (and village-wide ones)."""
    poor = np.flatnonzero(pop.h_poor)
    reg = pop.h_year_registered[poor]
    ex = np.minimum(pop.h_year_exited[poor], 2020)
    table = [_MEASURES[c] for c in CAUSES] + [
        ("housing", "house_renovation", 20000.0, "house_safe")
    ]
    housing_kind = len(CAUSES)
    # one measure for the primary cause, often one for a further cause, one per unsafe house
    cause_index = {c: i for i, c in enumerate(CAUSES)}
    causes_poor = causes.to_numpy()[poor]
    second = np.array(
        [
            cause_index[str(t).split(";")[1]] if str(t).count(";") else cause_index["lack_skills"]
            for t in causes_poor
        ],
        dtype=np.int64,
    )
    take = rng.random(len(poor)) < 0.7
    unsafe = fixes["housing_fix"][poor] != NEVER
    hh_idx = np.concatenate([np.arange(len(poor)), np.flatnonzero(take), np.flatnonzero(unsafe)])
    kind = np.concatenate(
        [primary[poor], second[take], np.full(int(unsafe.sum()), housing_kind)]
    ).astype(np.int64)
    households = poor[hh_idx]
    span = np.maximum(ex[hh_idx], reg[hh_idx]) + 1 - reg[hh_idx]
    year = reg[hh_idx] + np.floor(rng.random(len(hh_idx)) * span).astype(np.int64)
    year = np.where(kind == housing_kind, fixes["housing_fix"][households], year)
    batch = np.array([t[0] for t in table])[kind]
    subtype = np.array([t[1] for t in table])[kind]
    base_funds = np.array([t[2] for t in table])[kind]
    outcome = np.array([t[3] for t in table])[kind]
    k = len(kind)
    partner = _pick_partner(rng, pop.h_county[households], rng.random(k) < 0.35, places, partners)
    east = partner != None  # noqa: E711 - elementwise comparison on an object array
    u = rng.random(k)
    source = np.where(
        east,
        np.where(u < 0.3, "east_social", "east_fiscal"),
        np.where(
            subtype == "microcredit", "credit", np.where(u < 0.08, "west_social", "west_fiscal")
        ),
    )
    household_part = pd.DataFrame(
        {
            "household_code": pop.h_code[households].astype(object),
            "region_code": np.full(k, None, dtype=object),
            "batch": batch,
            "subtype": subtype,
            "helper_id": helper.to_numpy()[households],
            "partner_code": partner,
            "funds": np.round(base_funds * rng.lognormal(0.0, 0.3, k), -1),
            "fund_source": source,
            "start": year,
            "outcome": outcome,
        }
    )
    # village-wide measures: consumption assistance and industry projects in the villages in use
    used = np.unique(pop.h_village)
    village_codes = places.villages["code"].to_numpy().astype(object)
    village_county = places.villages["county_index"].to_numpy().astype(np.int64)
    parts = [household_part]
    for v_batch, v_subtype, v_funds in (
        ("consumption", "purchase", 80000.0),
        ("production", "industrial_project", 300000.0),
    ):
        chosen = used[rng.random(len(used)) < 0.5]
        kv = len(chosen)
        v_partner = _pick_partner(
            rng, village_county[chosen], np.ones(kv, dtype=bool), places, partners
        )
        parts.append(
            pd.DataFrame(
                {
                    "household_code": np.full(kv, None, dtype=object),
                    "region_code": village_codes[chosen],
                    "batch": np.full(kv, v_batch),
                    "subtype": np.full(kv, v_subtype),
                    "helper_id": np.full(kv, None, dtype=object),
                    "partner_code": v_partner,
                    "funds": np.round(v_funds * rng.lognormal(0.0, 0.5, kv), -1),
                    "fund_source": np.where(v_partner != None, "east_fiscal", "west_fiscal"),  # noqa: E711
                    "start": rng.integers(2016, 2021, kv),
                    "outcome": np.full(kv, "income_increased"),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    start_year = frame.pop("start").to_numpy().astype(np.int64)
    n = len(frame)
    start = (start_year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + rng.integers(
        0, 200, n
    ).astype("timedelta64[D]")
    end = start + rng.integers(30, 330, n).astype("timedelta64[D]")
    end_year = end.astype("datetime64[Y]").astype(np.int64) + 1970
    status = np.where(
        end_year < last_year,
        "completed",
        np.where(start_year <= last_year, "in_progress", "planned"),
    )
    frame.insert(0, "measure_code", _serials("M", n, 8))
    for column in ("household_code", "region_code", "helper_id"):
        frame[column] = text(pa.array(frame[column].to_numpy(dtype=object), type=pa.string()))
    frame["start_date"] = text(date_text(start))
    frame["end_date"] = text(date_text(end))
    frame["status"] = text(status)
    outcomes = frame.pop("outcome")
    frame["outcome"] = outcomes.where(frame["status"] == "completed", None)
    frame["funds"] = frame["funds"].astype(float)
    return frame[
        [
            "measure_code",
            "household_code",
            "region_code",
            "batch",
            "subtype",
            "helper_id",
            "partner_code",
            "funds",
            "fund_source",
            "start_date",
            "end_date",
            "status",
            "outcome",
        ]
    ]


def status_history(pop: Population, rounds: list[RoundArrays]) -> pd.DataFrame:
    """One row per household for its first state and one per change of status or category."""
    frames = []
    prev_status: IntArray | None = None
    prev_cat: IntArray | None = None
    reasons = {
        (3, 0): "registered",
        (0, 1): "exited",
        (1, 0): "relapsed",
        (1, 2): "monitoring_started",
        (3, 2): "monitoring_started",
        (2, 1): "risk_removed",
        (2, 3): "risk_removed",
    }
    for r in rounds:
        status, cat = r.status, r.monitoring
        if prev_status is None or prev_cat is None:
            changed = np.ones(len(status), dtype=bool)
            reason = np.where(status == 3, "initial", "registered")
            reason = np.where((status == 1), "exited", reason)
        else:
            changed = (status != prev_status) | (cat != prev_cat)
            reason = np.full(len(status), "changed", dtype=object)
            for (a, b), why in reasons.items():
                reason = np.where((prev_status == a) & (status == b), why, reason)
        idx = np.flatnonzero(changed)
        # effective date: registration in October, exits and monitoring decisions at year end
        eff = np.where(
            (status[idx] == 0) & (r.year_registered[idx] == r.year),
            f"{r.year}-10-01",
            f"{r.year}-12-31",
        )
        frames.append(
            pd.DataFrame(
                {
                    "household_code": text(pop.h_code_arrow.take(pa.array(idx))),
                    "status": codes(HOUSEHOLD_STATUSES, status[idx]),
                    "monitoring_category": codes(MONITORING_CATEGORIES, cat[idx]),
                    "effective_date": text(eff),
                    "reason": text(np.asarray(reason)[idx].astype(str)),
                }
            )
        )
        prev_status, prev_cat = status, cat
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["household_code", "effective_date"], kind="stable")
    return out.reset_index(drop=True)
