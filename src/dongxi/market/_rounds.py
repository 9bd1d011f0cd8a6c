"""Rounds of consent: the life cycle of a proposal as an explicit state machine, and re-matching.

States and the allowed transitions are data (:data:`TRANSITIONS`): who may move a proposal from
one state to the next. The store keeps every transition with its time and actor; this module only
checks and computes (pure).

::

    proposed ──seeker──► accepted ──partner──► confirmed ──partner/cadre──► hired
       │                    │                      │
       ├─seeker─► declined_by_seeker              └─partner/cadre─► not_hired
       ├─system─► expired   └─partner─► declined_by_partner
       └─system─► superseded (re-matched elsewhere in a later round)

A new round (:func:`rematch`) strikes every declined or expired pair, keeps the seekers whose
proposal was accepted, confirmed or hired (and their places), and re-runs the method on the rest.
The history of a chain of rounds is reduced to one current state per pair by
:func:`current_states` (so a pair declined in any earlier round stays struck), and
:func:`carried_states` gives the state each pair of the next round starts in.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from dongxi.errors import InputError
from dongxi.market._instance import Instance
from dongxi.market._report import Matching, MethodName
from dongxi.market._solve import solve
from dongxi.vocab import PROPOSAL_STATES

__all__ = [
    "ACTORS",
    "FINAL_STATES",
    "INITIAL_STATE",
    "KEPT_STATES",
    "STATES",
    "STRUCK_STATES",
    "TRANSITIONS",
    "carried_states",
    "check_transition",
    "current_states",
    "rematch",
]

#: The states of a proposal, in order (labels: :data:`dongxi.vocab.PROPOSAL_STATES`).
STATES = PROPOSAL_STATES.codes
#: The state of a pair a round proposes for the first time.
INITIAL_STATE = "proposed"
ACTORS = ("seeker", "partner", "cadre", "system")
#: (from, to) → roles allowed to make that change.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("proposed", "accepted"): frozenset({"seeker", "cadre"}),
    ("proposed", "declined_by_seeker"): frozenset({"seeker", "cadre"}),
    ("proposed", "expired"): frozenset({"system"}),
    ("proposed", "superseded"): frozenset({"system"}),
    ("accepted", "confirmed"): frozenset({"partner"}),
    ("accepted", "declined_by_partner"): frozenset({"partner"}),
    ("accepted", "expired"): frozenset({"system"}),
    ("confirmed", "hired"): frozenset({"partner", "cadre"}),
    ("confirmed", "not_hired"): frozenset({"partner", "cadre"}),
}
KEPT_STATES = frozenset({"accepted", "confirmed", "hired"})
STRUCK_STATES = frozenset({"declined_by_seeker", "declined_by_partner", "expired", "not_hired"})
FINAL_STATES = frozenset(
    {"declined_by_seeker", "declined_by_partner", "expired", "superseded", "hired", "not_hired"}
)


def check_transition(current: str, new: str, role: str) -> None:
    """Raise :class:`InputError` unless ``role`` may move a proposal from ``current`` to ``new``."""
    for value, name in ((current, "current state"), (new, "new state")):
        if value not in STATES:
            raise InputError(
                f"unknown {name}.", value=value, fix=f"Use one of: {', '.join(STATES)}."
            )
    if role not in ACTORS:
        raise InputError("unknown actor role.", value=role, fix=f"Use one of: {', '.join(ACTORS)}.")
    allowed = TRANSITIONS.get((current, new))
    if allowed is None:
        nexts = sorted(to for (frm, to) in TRANSITIONS if frm == current)
        raise InputError(
            f"a proposal cannot go from '{current}' to '{new}'.",
            rule="state_machine",
            fix=(f"From '{current}' it can go to: {', '.join(nexts)}." if nexts else
                 f"'{current}' is final; start a new round instead."),
        )  # fmt: skip
    if role not in allowed:
        raise InputError(
            f"a {role} may not move a proposal from '{current}' to '{new}'.",
            rule="state_machine",
            fix=f"Only {', '.join(sorted(allowed))} may do that.",
        )


def current_states(history: pd.DataFrame, *, order: Sequence[str] = ()) -> pd.DataFrame:
    """One row per (seeker, offer) pair of a chain of rounds: the pair's latest state.

    ``history`` holds every proposal of the earlier rounds (``seeker_id, offer_id, state``); a
    pair proposed in several rounds appears several times. ``order`` names the columns that sort
    the rows from oldest to newest change (e.g. ``updated_at, proposal_id``); the last row of each
    pair wins, except that a pair struck in any round (declined, expired, not hired) stays struck:
    a declined pair is never proposed again.
    """
    missing = ({"seeker_id", "offer_id", "state"} | set(order)) - set(history.columns)
    if missing:
        raise InputError(
            f"history lacks column(s) {', '.join(sorted(missing))}.",
            fix="Pass seeker_id, offer_id and state of every earlier proposal.",
        )
    frame = history.sort_values(list(order), kind="stable") if order else history
    frame = frame[["seeker_id", "offer_id", "state"]].astype({"seeker_id": str, "offer_id": str})
    latest = frame.drop_duplicates(["seeker_id", "offer_id"], keep="last")
    struck = frame[frame["state"].isin(STRUCK_STATES)].drop_duplicates(
        ["seeker_id", "offer_id"], keep="last"
    )
    out = pd.concat([latest, struck], ignore_index=True).drop_duplicates(
        ["seeker_id", "offer_id"], keep="last"
    )
    return out.sort_values(["seeker_id", "offer_id"], kind="stable").reset_index(drop=True)


def carried_states(pairs: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """The state each pair of a new round starts in.

    A pair whose current state (``history`` as from :func:`current_states`) is kept (accepted,
    confirmed, hired) carries that state into the new round; every other pair is proposed anew
    (:data:`INITIAL_STATE`). ``pairs`` has ``seeker_id, offer_id``; the result is aligned to it.
    """
    key = pd.MultiIndex.from_arrays([pairs["seeker_id"].astype(str), pairs["offer_id"].astype(str)])
    kept = history[history["state"].isin(KEPT_STATES)]
    known = pd.Series(
        kept["state"].to_numpy(dtype=object),
        index=pd.MultiIndex.from_arrays(
            [kept["seeker_id"].astype(str), kept["offer_id"].astype(str)]
        ),
    )
    states = known.reindex(key).fillna(INITIAL_STATE).to_numpy(dtype=object)
    return pd.Series(states, index=pairs.index, dtype=object, name="state")


def rematch(
    instance: Instance,
    history: pd.DataFrame,
    *,
    method: MethodName = "stable",
) -> tuple[Matching, npt.NDArray[np.bool_]]:
    """The next round's matching, given the states of all earlier proposals.

    ``history`` has columns ``seeker_id, offer_id, state`` (every proposal of earlier rounds; a
    seeker may appear several times). Pairs in a struck state are removed; seekers with a kept
    proposal stay with it (their place is taken out of the offer's capacity) and the remaining
    seekers are matched again on what is left. Returns the matching of the full instance
    (kept pairs included) and a per-seeker flag ``kept``.
    """
    missing = {"seeker_id", "offer_id", "state"} - set(history.columns)
    if missing:
        raise InputError(
            f"history lacks column(s) {', '.join(sorted(missing))}.",
            fix="Pass seeker_id, offer_id and state of every earlier proposal.",
        )
    bad = ~history["state"].isin(STATES)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            "unknown state.", row=i + 2, column="state", value=history["state"].iloc[i]
        )
    s_index = pd.Index(instance.seeker_ids)
    o_index = pd.Index(instance.offer_ids)
    s_pos = s_index.get_indexer(pd.Index(history["seeker_id"].astype(str).to_numpy(dtype=object)))
    o_pos = o_index.get_indexer(pd.Index(history["offer_id"].astype(str).to_numpy(dtype=object)))
    unknown = (s_pos < 0) | (o_pos < 0)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise InputError(
            "history names a seeker or offer that is not in this instance.",
            row=i + 2,
            fix="Re-match on the instance the earlier rounds used.",
        )
    n_s = instance.n_seekers
    seeker = instance.entry_seeker()
    # pair code per entry for lookups
    code = seeker * instance.n_offers + instance.seeker_offer.astype(np.int64)
    hist_code = s_pos.astype(np.int64) * instance.n_offers + o_pos
    state = history["state"].to_numpy(dtype=object)
    struck_codes = hist_code[np.isin(state, list(STRUCK_STATES))]
    kept_rows = np.isin(state, list(KEPT_STATES))
    kept_codes = hist_code[kept_rows]
    kept_seekers = np.zeros(n_s, dtype=bool)
    kept_seekers[s_pos[kept_rows]] = True
    if np.bincount(s_pos[kept_rows], minlength=n_s).max(initial=0) > 1:
        raise InputError(
            "a seeker holds more than one accepted proposal.",
            rule="one_place",
            fix="Decline all but one before the next round.",
        )
    entry_kept = np.isin(code, kept_codes)
    if kept_rows.any() and entry_kept.sum() != kept_rows.sum():
        raise InputError(
            "an accepted proposal is not an acceptable pair of this instance.",
            fix="Re-match on the instance the earlier rounds used.",
        )
    keep = ~np.isin(code, struck_codes) & ~kept_seekers[seeker]
    taken = np.bincount(instance.seeker_offer[entry_kept], minlength=instance.n_offers).astype(
        np.int64
    )
    if (taken > instance.capacity).any():
        raise InputError(
            "more accepted proposals than places at an offer.",
            value=str(instance.offer_ids[int(np.argmax(taken - instance.capacity))]),
            fix="Decline the extra proposals.",
        )
    rest = instance.restrict(keep=keep, capacity=instance.capacity - taken)
    sub = solve(rest, method)
    # map the sub-instance's entries back to the full instance
    full_entry_of_sub = np.flatnonzero(keep)
    match = np.full(n_s, -1, dtype=np.int64)
    got = sub >= 0
    match[got] = full_entry_of_sub[sub[got]]
    kept_entries = np.flatnonzero(entry_kept)
    match[seeker[kept_entries]] = kept_entries
    return Matching(method, instance, match), kept_seekers
