"""Instances given as explicit rank lists (the research mode of ``dongxi match``).

Three tables: ``seeker_id, offer_id, rank`` (each seeker's list, 1 = best), ``offer_id,
seeker_id, rank`` (each offer's list) and ``offer_id, capacity``. A pair is acceptable only when
both sides list it. Every rule broken is reported with file, row (the header is row 1) and column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dongxi.errors import InputError
from dongxi.market._instance import Instance, build_instance
from dongxi.market._rankfiles import unmatched_reason_array
from dongxi.market._report import Matching, MethodName, method_name, summarise
from dongxi.market._solve import solve

__all__ = ["RankListMatch", "instance_from_rank_lists", "match_rank_lists", "unmatched_reasons"]


def _require(frame: pd.DataFrame, columns: tuple[str, ...], file: str) -> pd.DataFrame:
    present = {str(c).strip().lower(): c for c in frame.columns}
    missing = [c for c in columns if c not in present]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}.",
            file=file,
            row=1,
            fix=f"The header must name the columns {', '.join(columns)}.",
        )
    return frame[[present[c] for c in columns]].set_axis(list(columns), axis=1)


def _ids(frame: pd.DataFrame, column: str, file: str) -> pd.Series:
    values = frame[column].astype("string").str.strip()
    bad = values.isna() | (values == "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            "empty identifier.", file=file, row=i + 2, column=column, fix="Fill in the identifier."
        )
    return values


def _integers(frame: pd.DataFrame, column: str, file: str, *, minimum: int) -> np.ndarray:
    raw = frame[column].astype("string").str.strip()
    numbers = pd.to_numeric(raw, errors="coerce")
    whole = numbers.notna() & (numbers == np.floor(numbers.fillna(0)))
    bad = ~whole.to_numpy(dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            "not a whole number.",
            file=file,
            row=i + 2,
            column=column,
            value=raw.iloc[i],
            fix=f"Write a whole number ≥ {minimum}.",
        )
    values = numbers.to_numpy(dtype=np.float64).astype(np.int64)
    low = values < minimum
    if low.any():
        i = int(np.flatnonzero(low)[0])
        raise InputError(
            f"must be ≥ {minimum}.",
            file=file,
            row=i + 2,
            column=column,
            value=int(values[i]),
            fix=f"Write a whole number ≥ {minimum}.",
        )
    return values


def _first_duplicate(keys: pd.DataFrame) -> int | None:
    dup = keys.duplicated(keep="first").to_numpy()
    return int(np.flatnonzero(dup)[0]) if dup.any() else None


def _check_list(
    ids_a: pd.Series, ids_b: pd.Series, rank: np.ndarray, *, file: str, a: str, b: str
) -> None:
    frame = pd.DataFrame({"a": ids_a, "b": ids_b, "r": rank})
    i = _first_duplicate(frame[["a", "b"]])
    if i is not None:
        raise InputError(
            f"the pair ({a}, {b}) is listed twice.",
            file=file,
            row=i + 2,
            column=b,
            fix="List each pair once.",
        )
    i = _first_duplicate(frame[["a", "r"]])
    if i is not None:
        raise InputError(
            f"duplicate rank within one {a}'s list (ties are not allowed).",
            file=file,
            row=i + 2,
            column="rank",
            value=int(rank[i]),
            fix="Give each entry of a list its own rank (1 = best); break ties before matching.",
        )


def instance_from_rank_lists(
    seeker_ranks: pd.DataFrame,
    offer_ranks: pd.DataFrame,
    capacities: pd.DataFrame,
    *,
    files: tuple[str, str, str] = ("seeker-ranks", "offer-ranks", "capacities"),
) -> Instance:
    """Validate three rank-list tables and build the instance of mutually acceptable pairs.

    Seekers are those named in either list (in order of first appearance); a seeker named only
    by offers has an empty list and stays unmatched. Offers are the rows of ``capacities``.
    """
    f_s, f_o, f_c = files
    sr = _require(seeker_ranks, ("seeker_id", "offer_id", "rank"), f_s)
    orr = _require(offer_ranks, ("offer_id", "seeker_id", "rank"), f_o)
    cp = _require(capacities, ("offer_id", "capacity"), f_c)

    cap_offer = _ids(cp, "offer_id", f_c)
    cap = _integers(cp, "capacity", f_c, minimum=0)
    i = _first_duplicate(cap_offer.to_frame())
    if i is not None:
        raise InputError(
            "offer listed twice.",
            file=f_c,
            row=i + 2,
            column="offer_id",
            fix="Give each offer one row.",
        )
    offer_ids = cap_offer.to_numpy(dtype=object)
    offer_index = pd.Index(offer_ids)

    s_seeker = _ids(sr, "seeker_id", f_s)
    s_offer = _ids(sr, "offer_id", f_s)
    s_rank = _integers(sr, "rank", f_s, minimum=1)
    o_offer = _ids(orr, "offer_id", f_o)
    o_seeker = _ids(orr, "seeker_id", f_o)
    o_rank = _integers(orr, "rank", f_o, minimum=1)

    for ids, file in ((s_offer, f_s), (o_offer, f_o)):
        pos = offer_index.get_indexer(ids.to_numpy(dtype=object))
        unknown = pos < 0
        if unknown.any():
            j = int(np.flatnonzero(unknown)[0])
            raise InputError(
                "rank list names an offer that is not in the capacities file.",
                file=file,
                row=j + 2,
                column="offer_id",
                value=ids.iloc[j],
                fix=f"Add the offer to {f_c} with its capacity, or remove the row.",
            )
    _check_list(s_seeker, s_offer, s_rank, file=f_s, a="seeker_id", b="offer_id")
    _check_list(o_offer, o_seeker, o_rank, file=f_o, a="offer_id", b="seeker_id")

    seeker_ids = pd.unique(
        pd.concat([s_seeker, o_seeker], ignore_index=True).to_numpy(dtype=object)
    )
    seeker_index = pd.Index(seeker_ids)
    left = pd.DataFrame({"seeker": s_seeker, "offer": s_offer, "s_rank": s_rank})
    right = pd.DataFrame({"seeker": o_seeker, "offer": o_offer, "o_rank": o_rank})
    both = left.merge(right, on=["seeker", "offer"], how="inner")
    return build_instance(
        seeker_ids=np.asarray(seeker_ids, dtype=object),
        offer_ids=offer_ids,
        capacity=cap,
        pair_seeker=seeker_index.get_indexer(both["seeker"].to_numpy(dtype=object)),
        pair_offer=offer_index.get_indexer(both["offer"].to_numpy(dtype=object)),
        seeker_key=both["s_rank"].to_numpy(dtype=np.int64),
        offer_key=both["o_rank"].to_numpy(dtype=np.int64),
    )


def unmatched_reasons(
    instance: Instance,
    match_entry: np.ndarray,
    *,
    method: str = "stable",
    listed: np.ndarray | None = None,
) -> pd.Series:
    """Per seeker, why unmatched (empty string when matched), in English.

    ``listed`` (per seeker, how many offers the seeker listed before the acceptability check)
    separates "listed no offer" from "no offer listed lists the seeker back".
    """
    reasons = unmatched_reason_array(instance, match_entry, method=method, listed=listed)
    return pd.Series(reasons, index=instance.seeker_ids, dtype="string", name="reason")


@dataclass(frozen=True, eq=False)
class RankListMatch:
    """The result of matching explicit rank lists.

    ``pairs``: one row per seeker, ``seeker_id, offer_id`` (empty string when unmatched);
    ``reasons``: per seeker, why unmatched (empty when matched); ``overall``: the one-row report
    of :func:`dongxi.market.summarise`.
    """

    matching: Matching
    pairs: pd.DataFrame
    reasons: pd.Series
    overall: pd.DataFrame


def match_rank_lists(
    seeker_ranks: pd.DataFrame,
    offer_ranks: pd.DataFrame,
    capacities: pd.DataFrame,
    *,
    method: MethodName = "stable",
    files: tuple[str, str, str] = ("seeker-ranks", "offer-ranks", "capacities"),
) -> RankListMatch:
    """Validate the three rank-list tables, match them with ``method`` and explain the unmatched."""
    method = method_name(method)
    instance = instance_from_rank_lists(seeker_ranks, offer_ranks, capacities, files=files)
    entry = solve(instance, method)
    matching = Matching(method, instance, entry)
    named = _require(seeker_ranks, ("seeker_id",), files[0])["seeker_id"]
    listed = (
        named.astype("string")
        .str.strip()
        .value_counts()
        .reindex(pd.Index(instance.seeker_ids), fill_value=0)
        .to_numpy()
    )
    reasons = unmatched_reasons(instance, entry, method=method, listed=np.asarray(listed))
    pairs = matching.pairs()
    table = pd.DataFrame(
        {"seeker_id": pairs["seeker_id"], "offer_id": pairs["offer_id"].fillna("")}
    )
    return RankListMatch(
        matching=matching, pairs=table, reasons=reasons, overall=summarise(matching)["overall"]
    )
