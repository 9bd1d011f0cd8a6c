"""Use cases of the two-sided market: matching rounds, answers, outcomes and re-matching.

Every use case takes the acting :class:`Principal` first and checks its permission before it
reads anything:

- :func:`run_round` (``market:run``) — a round on the registry's current needs and offers of
  every kind matched (job posts, training seats, workshop places; ``kinds=`` restricts), stored
  as one run per kind with its proposals (one placement per person per kind); ``after=`` a run
  of the previous round makes it the next round of that round's chains: accepted, confirmed and
  hired placements are kept, and a pair declined (or expired, or not hired) in *any* earlier
  round of the chain is never proposed again.
- :func:`rematch` (``market:run``) — the next round of a run: those left are matched again.
- :func:`match_tables` (``market:run``) — needs and job posts given as tables or files; nothing
  is stored; :func:`match_table_kinds` does the same for every kind present.
- :func:`match_rank_lists` (``market:run``) — research mode: explicit rank lists and capacities.
- :func:`answer_proposal` — a proposal's answer (accept, decline, confirm, …) checked against
  the life cycle of :mod:`dongxi.market` (``TRANSITIONS``); the permission follows the side that
  answers (:data:`SIDE_PERMISSIONS`), and so does the scope (:data:`SIDE_SCOPES`): a seeker-side
  answer needs the seeker inside the principal's region, a partner's the offer of its partner.
- :func:`record_outcome` — what a confirmed placement became (hired, wage, retention).

A registry round matches every current need with every current offer, so it needs an
unrestricted scope; a proposal outside the principal's scope does not exist for it
(``NotFoundError``).

The life cycle itself (states, who may move a proposal where, which states are kept or struck)
is data in :mod:`dongxi.market`; nothing here restates it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dongxi.errors import InputError, NotFoundError, PermissionDeniedError
from dongxi.services.principal import Permission, Principal

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from dongxi.market import MarketResult, MethodName, RankListMatch, Reason

__all__ = [
    "SIDE_PERMISSIONS",
    "SIDE_SCOPES",
    "KindResults",
    "RoundResult",
    "answer_proposal",
    "market_table",
    "match_rank_files",
    "match_rank_lists",
    "match_table_kinds",
    "match_tables",
    "record_outcome",
    "rematch",
    "run_round",
]

#: The permission a principal needs to move a proposal for each side of the state machine
#: (``dongxi.market.ACTORS``): a cadre answers for the seekers of its area.
SIDE_PERMISSIONS: dict[str, Permission] = {
    "seeker": "market:answer_seeker",
    "cadre": "market:answer_seeker",
    "partner": "market:answer_partner",
    "system": "market:run",
}
#: Where a proposal must lie in the principal's scope for each side to move it: the seeker's
#: region, the offer's partner, or (system moves) an unrestricted scope.
SIDE_SCOPES: dict[str, Literal["seeker_region", "offer_partner", "everything"]] = {
    "seeker": "seeker_region",
    "cadre": "seeker_region",
    "partner": "offer_partner",
    "system": "everything",
}
#: The kinds of need and offer a file's row has when its kind column is empty (job posts).
_NEED_KIND = "employment"
_OFFER_KIND = "job"


def round_kinds(kinds: Sequence[str] | None = None) -> list[str]:
    """The kinds of offer a round matches (``dongxi.market.KIND_CLASSES``, in that order), or
    those of ``kinds`` (``InputError`` for a kind that is not matched)."""
    from dongxi.market import KIND_CLASSES, kind_named

    if not kinds:
        return list(KIND_CLASSES)
    for name in kinds:
        kind_named(name)
    return [k for k in KIND_CLASSES if k in set(kinds)]


@dataclass(frozen=True, eq=False)
class RoundResult:
    """A round stored in the registry: one run per kind of offer matched (``runs``, kind →
    run id; ``run_id`` is the first of them, job posts first).

    ``proposals``: the pairs of the round (``kind, seeker_id, offer_id, seeker_rank,
    offer_rank, welfare, state``): kept placements carry their state, new pairs are proposed.
    ``tables``: the report of :class:`dongxi.market.MarketResult` (``overall``, ``by_county``, …)
    of every kind, each row with its ``kind``. ``placements``: one row per need and kind, by
    name, in Chinese (:data:`PLACEMENT_COLUMNS`): kind, person, household, village, county,
    offer, partner, place, wage, state, and for the unmatched why.
    """

    run_id: str
    round_no: int
    method: MethodName
    proposals: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    placements: pd.DataFrame | None = None
    runs: dict[str, str] = field(default_factory=dict)

    @property
    def overall(self) -> pd.DataFrame:
        """The one-row summary of the round (seekers, matched, blocking pairs, welfare, …)."""
        return self.tables["overall"]

    @property
    def kept(self) -> int:
        """How many placements of earlier rounds the round kept."""
        from dongxi.market import INITIAL_STATE

        return int((self.proposals["state"] != INITIAL_STATE).sum())

    def kept_of(self, kind: str) -> int:
        """How many placements of one kind of offer the round kept from earlier rounds."""
        from dongxi.market import INITIAL_STATE

        mine = self.proposals[self.proposals["kind"] == kind]
        return int((mine["state"] != INITIAL_STATE).sum())


def run_round(
    principal: Principal,
    registry: Engine,
    *,
    method: str = "stable",
    seed: int = 2017,
    after: str | None = None,
    kinds: Sequence[str] | None = None,
) -> RoundResult:
    """Match the registry's current needs with its current offers and store the round.

    Every kind of offer present (job posts and workshop places with employment needs, training
    seats with training needs; ``kinds`` restricts the round to some) is matched by the same
    method on its own, so a person gets at most one placement per kind; each kind is stored as
    a run of its own (the runs name each other in their reports). With ``after`` (a run of the
    previous round), each kind continues its chain: the history of every earlier round is
    reduced to each pair's current state (:func:`dongxi.market.current_states`), accepted
    placements keep their places and state, struck pairs are left out, and the rest are matched
    again. A kind new in this round starts a chain of its own.
    """
    principal.require("market:run")
    _require_everything(principal, "run a matching round on the registry")
    import uuid

    import pandas as pd

    from dongxi.market import kind_named, method_name
    from dongxi.store.market_models import current_needs, current_offers, round_runs

    name = method_name(method)
    names = round_kinds(kinds)
    previous = round_runs(registry, after) if after is not None else {}
    present = []
    for kind_code in names:
        kind = kind_named(kind_code)
        needs = current_needs(registry, kind=kind.need_kind)
        offers = current_offers(registry, kind=kind_code)
        if not needs.empty and not offers.empty:
            present.append((kind_code, needs, offers))
    if not present:
        raise InputError(
            "the registry holds no current needs or no current offers of the kinds matched "
            f"({', '.join(names)}).",
            rule="market_round",
            fix="Import needs and offers first (or match needs and offers files).",
        )
    runs = {kind_code: str(uuid.uuid4()) for kind_code, _, _ in present}
    parts = [
        _kind_round(
            principal, registry, kind_code, needs, offers,
            method=name, seed=seed, parent=previous.get(kind_code), runs=runs,
        )
        for kind_code, needs, offers in present
    ]  # fmt: skip
    tables: dict[str, pd.DataFrame] = {}
    for table in dict.fromkeys(t for part in parts for t in part.tables):
        frames = [
            part.tables[table].assign(kind=code).pipe(_kind_first)
            for code, part in zip(runs, parts, strict=True)
            if table in part.tables
        ]
        tables[table] = pd.concat(frames, ignore_index=True)
    placements = [p.placements for p in parts if p.placements is not None]
    return RoundResult(
        run_id=parts[0].run_id,
        round_no=max(p.round_no for p in parts),
        method=name,
        proposals=pd.concat([p.proposals for p in parts], ignore_index=True),
        tables=tables,
        placements=pd.concat(placements, ignore_index=True) if placements else None,
        runs=runs,
    )


def _kind_first(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["kind", *[c for c in frame.columns if c != "kind"]]]


def _kind_round(
    principal: Principal,
    registry: Engine,
    kind_code: str,
    needs: pd.DataFrame,
    offers: pd.DataFrame,
    *,
    method: MethodName,
    seed: int,
    parent: str | None,
    runs: dict[str, str],
) -> RoundResult:
    """One kind of a round: matched, stored as the run ``runs[kind_code]``."""
    from dongxi.market import INITIAL_STATE, carried_states, current_states, kind_named, run_market
    from dongxi.store.market_models import (
        names_for_round,
        proposal_history,
        record_run,
        run_lineage,
    )

    kind = kind_named(kind_code)
    lineage = run_lineage(registry, parent) if parent is not None else []
    if kind_code == "workshop" and "household_code" in needs.columns:
        # the person's village (for "same township"), where the registry holds the household
        villages, _ = names_for_round(registry, needs["household_code"].dropna(), [])
        needs = needs.assign(
            home_code=[villages.get(str(h), "") for h in needs["household_code"].tolist()]
        )
    history = None
    if lineage:
        history = current_states(
            proposal_history(registry, lineage), order=("updated_at", "proposal_id")
        )
    result = run_market(needs, offers, seed=seed, kind=kind, methods=(method,), history=history)
    proposals = result.proposals(method)
    if history is not None:
        proposals = proposals.assign(state=carried_states(proposals, history))
    else:
        proposals = proposals.assign(state=INITIAL_STATE)
    overall = {str(k): v for k, v in result.tables["overall"].iloc[0].items()}
    overall["offers"] = len(offers)
    reasons = seeker_reasons(result, method, needs, proposals)
    tables = {**result.tables, "unmatched": _count_reasons(reasons)}
    # each explained seeker's reason in Chinese is kept with the round (for the reports)
    explained = reasons.loc[reasons["reason"] != _NOT_EXPLAINED[0], ["seeker_id", "reason_zh"]]
    report: dict[str, object] = {k: v.to_dict("records") for k, v in tables.items()}
    report["unmatched_seekers"] = explained.to_dict("records")
    report["round_runs"] = [{"kind": k, "run_id": r} for k, r in runs.items()]
    run_id = record_run(
        registry,
        method=method,
        kind=kind_code,
        seed=seed,
        actor=principal.actor,
        proposals=proposals,
        overall=overall,
        report=report,
        parent_run_id=parent,
        run_id=runs[kind_code],
    )
    return RoundResult(
        run_id=run_id,
        round_no=len(lineage) + 1,
        method=method,
        proposals=proposals.assign(kind=kind_code).pipe(_kind_first),
        tables=tables,
        placements=_placements(registry, needs, offers, proposals, result, method),
    )


#: Seekers explained one by one for the report's ``unmatched`` table (a larger round counts the
#: rest as ``not_explained``: the explanation costs a pass over each seeker's posts).
MAX_EXPLAINED = 20_000
_NOT_EXPLAINED = ("not_explained", "未逐一解释（本轮人数过多）", "not explained (a large round)")
#: Per kind of offer: the unmatched person's reason when no offer meets the person's own rules.
_NO_OFFER = {
    "job": (
        "no_post_wanted",
        "没有符合本人意向（地点、工资、宿舍）的岗位",
        "no post meets the person's own place, wage and dormitory wishes",
    ),
    "training": (
        "no_course_wanted",
        "没有符合本人意愿（想学的内容、地点、住宿、时长）的培训",
        "no course meets the person's own wishes (what to learn, place, dormitory, hours)",
    ),
    "workshop": (
        "no_workshop_wanted",
        "本县没有符合本人意向（就近务工、工资、时长）的帮扶车间岗位",
        "no workshop in the home county meets the person's wishes (work near home, wage, hours)",
    ),
}
#: Per kind: the placement's reason when no offer is acceptable to both sides.
_NONE_ACCEPTABLE = {
    "job": "没有双方都可接受的岗位（地点、工资、住宿、年龄、文化程度、技能或劳动能力不符）",
    "training": (
        "没有双方都可接受的培训（想学的内容、地点、住宿、时长、年龄、文化程度、技能或培训日期不符）"
    ),
    "workshop": (
        "没有双方都可接受的帮扶车间岗位（不在本县、工资、时长、年龄、文化程度、技能或劳动能力不符）"
    ),
}


def _no_offer(kind: str, unmet: Sequence[Reason] | None) -> tuple[str, str, str]:
    """The reason of a seeker no offer of ``kind`` suits, with the rules the nearest offer
    fails when the kind can say (``本县没有…的帮扶车间岗位：每天工作（培训）时长超过…``)."""
    code, zh, en = _NO_OFFER[kind]
    if not unmet:
        return code, zh, en
    return (
        code,
        f"{zh}：{'；'.join(r.zh for r in unmet)}",
        f"{en}: {'; '.join(r.en for r in unmet)}",
    )


def seeker_reasons(
    result: MarketResult, method: MethodName, needs: pd.DataFrame, proposals: pd.DataFrame
) -> pd.DataFrame:
    """Why each unmatched seeker of a round was not placed, one row each: no offer meets their
    own wishes (per kind: ``no_post_wanted``, ``no_course_wanted``, ``no_workshop_wanted``); a
    wanted offer was full with seekers it ranks higher (``full``); or their favourite offer's
    own rules exclude them (its first reason code: ``skill_missing``, ``course_over``, …);
    beyond :data:`MAX_EXPLAINED` seekers, ``not_explained``.
    Columns ``seeker_id, county_code, reason, reason_zh, reason_en``."""
    import pandas as pd

    matched = set(proposals["seeker_id"].astype(str))
    left = needs.loc[~needs["seeker_id"].astype(str).isin(matched), ["seeker_id", "county_code"]]
    columns = ["seeker_id", "county_code", "reason", "reason_zh", "reason_en"]
    if left.empty:
        return pd.DataFrame(columns=columns)
    explained = left.iloc[:MAX_EXPLAINED]
    why = result.explain(explained["seeker_id"].astype(str).tolist(), method=method)
    first: dict[str, tuple[str, str, str]] = {}
    for seeker, rows in why.groupby("seeker_id", sort=False):
        full = rows[rows["outcome"] == "full"]
        pick = full.iloc[0] if len(full) else rows.iloc[0]
        code = str(pick["reason_codes"]).split(";")[0]
        first[str(seeker)] = (code, str(pick["reason_zh"]), str(pick["reason_en"]))
    unmet = result.unmet_wishes([s for s in explained["seeker_id"].astype(str) if s not in first])
    records = []
    for seeker, county in explained.itertuples(index=False):
        reason = first.get(str(seeker)) or _no_offer(result.kind.name, unmet.get(str(seeker)))
        records.append((str(seeker), str(county), *reason))
    for seeker, county in left.iloc[MAX_EXPLAINED:].itertuples(index=False):
        records.append((str(seeker), str(county), *_NOT_EXPLAINED))
    return pd.DataFrame(records, columns=columns)


def unmatched_reasons(
    result: MarketResult, method: MethodName, needs: pd.DataFrame, proposals: pd.DataFrame
) -> pd.DataFrame:
    """The unmatched seekers of a round counted by county and main reason
    (:func:`seeker_reasons`). Columns ``county_code, reason, reason_zh, reason_en, seekers``."""
    return _count_reasons(seeker_reasons(result, method, needs, proposals))


def _count_reasons(reasons: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    keys = ["county_code", "reason", "reason_zh", "reason_en"]
    if reasons.empty:
        return pd.DataFrame(columns=[*keys, "seekers"])
    return (
        reasons.groupby(keys, as_index=False)
        .size()
        .rename(columns={"size": "seekers"})
        .sort_values(["county_code", "seekers"], ascending=[True, False], kind="stable")
        .reset_index(drop=True)
    )


#: The columns of a round's placements (what cadres read).
PLACEMENT_COLUMNS = (
    "类型",
    "人员编号",
    "户编号",
    "村",
    "县",
    "岗位编号",
    "东部帮扶单位",
    "工作地",
    "月工资(元)",
    "状态",
    "未匹配原因",
)


def _placements(
    registry: Engine,
    needs: pd.DataFrame,
    offers: pd.DataFrame,
    proposals: pd.DataFrame,
    result: MarketResult,
    method: MethodName,
) -> pd.DataFrame:
    """One row per need: who, where (names, not codes), which offer of which partner, and why
    not for the unmatched (in Chinese)."""
    import pandas as pd

    from dongxi import vocab
    from dongxi.market import REASONS
    from dongxi.services.regions import place_name
    from dongxi.store.market_models import names_for_round

    kind = result.kind.name

    zh = {r.code: r.zh for r in REASONS}
    villages, partners = names_for_round(
        registry, needs.get("household_code", pd.Series(dtype=object)).dropna(),
        offers.get("partner_code", pd.Series(dtype=object)).dropna(),
    )  # fmt: skip
    by_seeker = proposals.set_index("seeker_id")
    offer_rows = offers.set_index("offer_id")
    inst = result.instance
    lengths = dict(zip(inst.seeker_ids.tolist(), inst.list_length().tolist(), strict=True))
    # the unmatched with no acceptable offer: which of their own rules the nearest one fails
    unmet = result.unmet_wishes(
        [str(s) for s in needs["seeker_id"] if lengths.get(s, 0) == 0 and s not in by_seeker.index]
    )
    rows = []
    for need in needs.to_dict("records"):
        sid = need["seeker_id"]
        household = need.get("household_code") or ""
        village = villages.get(household, "")
        row = {
            "类型": vocab.OFFER_KINDS.zh[kind],
            "人员编号": sid,
            "户编号": household,
            "村": place_name(village, levels=2) if village else "",
            "县": place_name(need.get("county_code"), levels=1),
            "岗位编号": "",
            "东部帮扶单位": "",
            "工作地": "",
            "月工资(元)": None,
            "状态": "",
            "未匹配原因": "",
        }
        if sid in by_seeker.index:
            pair = by_seeker.loc[sid]
            offer = offer_rows.loc[pair["offer_id"]]
            partner = offer.get("partner_code") or ""
            row.update(
                {
                    "岗位编号": pair["offer_id"],
                    "东部帮扶单位": partners.get(partner, partner),
                    "工作地": place_name(offer.get("place_code"), levels=2),
                    "月工资(元)": offer.get("monthly_wage"),
                    "状态": str(pair["state"]),
                }
            )
        elif lengths.get(sid, 0) == 0:
            wishes = unmet.get(str(sid))
            row["未匹配原因"] = (
                f"{_NONE_ACCEPTABLE[kind].split('（')[0]}：{'；'.join(r.zh for r in wishes)}"
                if wishes
                else _NONE_ACCEPTABLE[kind]
            )
        else:
            row["未匹配原因"] = zh["full"] if method == "stable" else zh["not_chosen"]
        rows.append(row)
    return pd.DataFrame(rows, columns=list(PLACEMENT_COLUMNS))


def rematch(
    principal: Principal,
    registry: Engine,
    run_id: str,
    *,
    method: str = "stable",
    seed: int = 2017,
    kinds: Sequence[str] | None = None,
) -> RoundResult:
    """The next round of ``run_id``: keep the accepted placements, match those left again."""
    return run_round(principal, registry, method=method, seed=seed, after=run_id, kinds=kinds)


def _frame(table: pd.DataFrame | Path) -> tuple[pd.DataFrame, str | None]:
    if isinstance(table, Path):
        from dongxi.tables import read_table

        return read_table(table, as_text=True), table.name
    return table, None


#: What the engine reads where a needs or offers file leaves a cell empty.
_ENGINE_DEFAULTS = {
    "needs": {
        "kind": _NEED_KIND,
        "status": "never",
        "skills": "",
        "sectors": "",
        "places": "",
        "needs_dormitory": False,
        "willingness": "willing",
    },
    "offers": {
        "kind": _OFFER_KIND,
        "subsidy": 0.0,
        "living_cost": 0.0,
        "age_min": 16,
        "age_max": 60,
        "min_education": "none",
        "physical": False,
        "dormitory": False,
    },
}


def market_table(table: pd.DataFrame | Path, kind: Literal["needs", "offers"]) -> pd.DataFrame:
    """A needs or offers table as the engine reads it, through the data dictionary of
    ``dongxi import`` (Chinese or English headers, labels or codes); every rejected cell is
    reported at once (:class:`~dongxi.errors.ValidationReportError`, each with row, column, rule
    and message in Chinese and English)."""
    from dongxi.errors import ValidationReportError
    from dongxi.intake.headers import to_canonical
    from dongxi.intake.validate import RegistryView, validate_frame

    frame, name = _frame(table)
    canon, headers = to_canonical(frame, kind)
    # no registry here: region codes are checked for their form, not looked up
    view = RegistryView(check_regions=False)
    checked = validate_frame(canon, kind=kind, registry=view, headers=headers, file=name)
    if checked.errors:
        raise ValidationReportError(
            f"{len(checked.errors)} cell(s) of the {kind} table are rejected.",
            checked.errors,
            file=name,
        )
    typed = checked.frame.drop(columns=["_row"])
    for column, value in _ENGINE_DEFAULTS[kind].items():
        typed[column] = typed[column].astype(object).where(typed[column].notna(), value)
    for column in ("age", "age_min", "age_max", "positions"):
        if column in typed.columns and typed[column].notna().all():
            typed[column] = typed[column].astype("int64")
    for column in ("min_wage", "monthly_wage", "subsidy", "living_cost"):
        if column in typed.columns:
            typed[column] = typed[column].astype("float64")
    for column in ("needs_dormitory", "physical", "dormitory"):
        if column in typed.columns:
            typed[column] = typed[column].astype(bool)
    return typed.reset_index(drop=True)


def _market_frames(
    needs: pd.DataFrame | Path, offers: pd.DataFrame | Path
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables checked (every rejected cell of both at once) and typed for the engine."""
    from dongxi.errors import ValidationReportError

    frames, errors = {}, []
    for kind, table in (("needs", needs), ("offers", offers)):
        try:
            frames[kind] = market_table(table, kind)  # type: ignore[arg-type]
        except ValidationReportError as exc:  # both files checked: every rejected cell at once
            errors.extend(exc.errors)
    if errors:
        raise ValidationReportError(f"{len(errors)} cell(s) of the tables are rejected.", errors)
    return frames["needs"], frames["offers"]


def match_tables(
    principal: Principal,
    needs: pd.DataFrame | Path,
    offers: pd.DataFrame | Path,
    *,
    seed: int = 2017,
    methods: Sequence[str] = ("stable", "optimal"),
) -> MarketResult:
    """Match needs with job offers given as tables (or CSV/XLSX/Parquet files); nothing stored."""
    principal.require("market:run")
    from dongxi.market import method_name, run_market

    names = [method_name(m) for m in methods]
    seekers_frame, offers_frame = _market_frames(needs, offers)
    seekers_frame = seekers_frame[seekers_frame["kind"] == _NEED_KIND].reset_index(drop=True)
    offers_frame = offers_frame[offers_frame["kind"] == _OFFER_KIND].reset_index(drop=True)
    return run_market(seekers_frame, offers_frame, seed=seed, methods=names)


@dataclass(frozen=True, eq=False)
class KindResults:
    """What :func:`match_table_kinds` matched: one :class:`~dongxi.market.MarketResult` per kind
    of offer (``results``, kind code → result, in the order of ``KIND_CLASSES``)."""

    results: dict[str, MarketResult]

    def tables(self, method: MethodName) -> dict[str, pd.DataFrame]:
        """The report tables of every kind for one method (the ``comparison`` keeps both), each
        row with its ``kind`` first."""
        import pandas as pd

        frames: dict[str, list[pd.DataFrame]] = {}
        for code, result in self.results.items():
            for name, table in result.tables.items():
                rows = table[table["method"] == method] if "method" in table.columns else table
                frames.setdefault(name, []).append(rows.assign(kind=code))
        return {n: _kind_first(pd.concat(f, ignore_index=True)) for n, f in frames.items()}

    def pairs(self, method: MethodName) -> pd.DataFrame:
        """One row per person and kind: ``kind, seeker_id, offer_id`` (missing when unmatched),
        ranks and welfare."""
        import pandas as pd

        return pd.concat(
            [
                r.matchings[method].pairs().assign(kind=code).pipe(_kind_first)
                for code, r in self.results.items()
            ],
            ignore_index=True,
        )


def match_table_kinds(
    principal: Principal,
    needs: pd.DataFrame | Path,
    offers: pd.DataFrame | Path,
    *,
    seed: int = 2017,
    methods: Sequence[str] = ("stable", "optimal"),
    kinds: Sequence[str] | None = None,
) -> KindResults:
    """Match needs with offers of every kind present in the tables (or of ``kinds``), each kind
    on its own (one placement per person per kind); nothing stored. Only the kinds that have
    both needs and offers are matched (``InputError`` when none has)."""
    principal.require("market:run")
    from dongxi.market import kind_named, method_name, run_market

    names = [method_name(m) for m in methods]
    wanted = round_kinds(kinds)
    seekers_frame, offers_frame = _market_frames(needs, offers)
    out: dict[str, MarketResult] = {}
    for code in wanted:
        kind = kind_named(code)
        seekers = seekers_frame[seekers_frame["kind"] == kind.need_kind].reset_index(drop=True)
        posts = offers_frame[offers_frame["kind"] == code].reset_index(drop=True)
        if len(seekers) and len(posts):
            out[code] = run_market(seekers, posts, seed=seed, kind=kind, methods=names)
    if not out:
        raise InputError(
            f"the tables hold no needs and offers of a kind matched ({', '.join(wanted)}).",
            rule="market_round",
            fix="Give needs and offers of the same kind (e.g. 就业 needs and 岗位 offers).",
        )
    return KindResults(out)


def match_rank_lists(
    principal: Principal,
    seeker_ranks: pd.DataFrame | Path,
    offer_ranks: pd.DataFrame | Path,
    capacities: pd.DataFrame | Path,
    *,
    method: str = "stable",
) -> RankListMatch:
    """Research mode: match explicit rank lists and capacities, and explain the unmatched."""
    principal.require("market:run")
    from dongxi.market import match_rank_lists as match
    from dongxi.market import method_name

    name = method_name(method)

    frames = [_frame(t) for t in (seeker_ranks, offer_ranks, capacities)]
    defaults = ("seeker-ranks", "offer-ranks", "capacities")
    files = tuple(n or d for (_, n), d in zip(frames, defaults, strict=True))
    return match(
        *(f for f, _ in frames),
        method=name,
        files=(files[0], files[1], files[2]),
    )


@dataclass(frozen=True, eq=False)
class RankFileResult:
    """What :func:`match_rank_files` did: the ``overall`` summary row (method, seekers, matched,
    match_rate, blocking_pairs, total_welfare, …), how many seekers are unmatched for each
    ``reason``, the ``rows`` written to ``out`` and whether the files were read the ``fast`` way."""

    overall: dict[str, object]
    reasons: dict[str, int]
    rows: int
    out: Path
    fast: bool

    @property
    def reasons_zh(self) -> dict[str, int]:
        """The same counts keyed by the reason in Chinese."""
        from dongxi.market import RANK_LIST_REASONS_ZH

        return {RANK_LIST_REASONS_ZH.get(k, k): n for k, n in self.reasons.items()}


def match_rank_files(
    principal: Principal,
    seeker_ranks: Path,
    offer_ranks: Path,
    capacities: Path,
    out: Path,
    *,
    method: str = "stable",
) -> RankFileResult:
    """Research mode on files: match explicit rank lists and write ``seeker_id, offer_id`` to
    ``out`` (empty ``offer_id`` for the unmatched).

    Valid UTF-8 CSV and Parquet files are read with Arrow into integer codes, without pandas
    (:func:`dongxi.market.match_rank_files`); any other file, and any file with a problem, is
    read the careful way (:func:`match_rank_lists`), which names the file, row and column of the
    problem. Both give the same matching.
    """
    principal.require("market:run")
    from collections import Counter

    from dongxi.market import match_rank_files as fast_match
    from dongxi.market import method_name

    name = method_name(method)
    inputs = (seeker_ranks, offer_ranks, capacities)
    fast = fast_match(seeker_ranks, offer_ranks, capacities, method=name)
    if fast is None:
        ranked = match_rank_lists(principal, seeker_ranks, offer_ranks, capacities, method=name)
        from dongxi.tables import write_table

        write_table(ranked.pairs, out, inputs=inputs)
        unmatched = ranked.reasons[ranked.reasons != ""]
        return RankFileResult(
            overall={str(k): v for k, v in ranked.overall.to_dict("records")[0].items()},
            reasons={str(k): int(v) for k, v in unmatched.value_counts().items()},
            rows=len(ranked.pairs),
            out=out,
            fast=False,
        )
    ids = fast.seeker_ids
    if out.suffix.lower() == ".csv":
        from dongxi.outputs import write_csv_rows

        write_csv_rows(
            out,
            ("seeker_id", "offer_id"),
            zip(ids.tolist(), fast.offer_of.tolist(), strict=True),
            inputs=inputs,
        )
    else:
        import pandas as pd

        from dongxi.tables import write_table

        frame = pd.DataFrame({"seeker_id": ids.astype(str), "offer_id": fast.offer_of.astype(str)})
        write_table(frame, out, inputs=inputs)
    counts = Counter(r for r in fast.reasons.tolist() if r)
    return RankFileResult(
        overall=fast.overall,
        reasons=dict(counts.most_common()),
        rows=len(ids),
        out=out,
        fast=True,
    )


def _require_everything(principal: Principal, what: str) -> None:
    if not principal.scope.unrestricted:
        raise PermissionDeniedError(
            f"A principal whose scope is restricted may not {what}.",
            fix="Ask an administrator (or an officer with an unrestricted scope) to do it.",
        )


def _in_scope(
    principal: Principal, registry: Engine | Session, proposal_id: int, side: str
) -> bool:
    where = SIDE_SCOPES[side]
    if where == "everything":
        _require_everything(principal, f"move proposals as '{side}'")
        return True
    from dongxi.store.market_models import proposal_in_scope

    return proposal_in_scope(registry, proposal_id, scope=principal.scope, by=where)


def _not_found(proposal_id: int) -> NotFoundError:
    return NotFoundError(
        f"proposal {proposal_id} does not exist (or lies outside your scope).",
        fix="List the proposals of a run you may see.",
    )


def _side_permission(side: str) -> Permission:
    from dongxi.market import ACTORS

    if side not in SIDE_PERMISSIONS:
        raise InputError(
            "unknown side of a proposal.",
            column="role",
            value=side,
            fix=f"Use one of: {', '.join(ACTORS)}.",
        )
    return SIDE_PERMISSIONS[side]


def answer_proposal(
    principal: Principal,
    registry: Engine | Session,
    proposal_id: int,
    *,
    to_state: str,
    side: str,
    note: str | None = None,
) -> None:
    """Move a proposal to ``to_state`` for one side (seeker, cadre, partner, system).

    The principal needs the permission of that side (:data:`SIDE_PERMISSIONS`) and the proposal
    must lie in its scope for that side (:data:`SIDE_SCOPES`). Only the latest round of a chain
    takes answers (a kept placement is carried into the next round, where it is answered); the
    state machine then decides whether that side may make that move from the proposal's state.
    """
    principal.require(_side_permission(side))
    if not _in_scope(principal, registry, proposal_id, side):
        raise _not_found(proposal_id)
    from dongxi.store.market_models import next_run_of_proposal, record_transition

    later = next_run_of_proposal(registry, proposal_id)
    if later is not None:
        raise InputError(
            "this proposal's round has been followed by a later round.",
            value=proposal_id,
            rule="latest_round",
            fix=f"Answer the proposals of the latest round (run {later} or its successors).",
        )

    record_transition(
        registry, proposal_id, to_state=to_state, actor=principal.actor, role=side, note=note
    )


def record_outcome(
    principal: Principal,
    registry: Engine | Session,
    proposal_id: int,
    *,
    hired: bool,
    start_date: dt.date | None = None,
    monthly_wage: float | None = None,
    retained_3m: bool | None = None,
    retained_6m: bool | None = None,
) -> None:
    """Record what a confirmed placement became.

    Allowed to the sides the state machine lets decide a hire (``confirmed → hired``): the
    principal needs the permission of one of them, and the proposal must lie in its scope for
    that side.
    """
    from dongxi.market import TRANSITIONS

    sides = sorted(TRANSITIONS[("confirmed", "hired")])
    mine = [side for side in sides if principal.can(_side_permission(side))]
    if not mine:
        needed = sorted({_side_permission(side) for side in sides})
        raise PermissionDeniedError(
            f"The role '{principal.role}' may not record outcomes ({' or '.join(needed)}).",
            fix="Ask an administrator for a role that includes one of these permissions.",
        )
    if not any(_in_scope(principal, registry, proposal_id, side) for side in mine):
        raise _not_found(proposal_id)
    from dongxi.store.market_models import record_outcome as store_outcome

    store_outcome(
        registry,
        proposal_id,
        hired=hired,
        actor=principal.actor,
        start_date=start_date,
        monthly_wage=monthly_wage,
        retained_3m=retained_3m,
        retained_6m=retained_6m,
    )


@contextmanager
def open_registry(url: str | None = None) -> Iterator[Engine]:
    """The registry at ``url`` (the configured one when ``None``) for a caller that holds only a
    URL (the command line), at the current schema; disposed of at the end."""
    from dongxi.services._registry import registry

    with registry(url) as engine:
        yield engine


def parse_method(value: str) -> MethodName:
    """``stable`` or ``optimal`` (``InputError`` naming the choices otherwise)."""
    from dongxi.market import method_name

    return method_name(value)
