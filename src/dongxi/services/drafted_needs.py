"""Use case: needs drafted from the registry's people (草拟就业需求，待干部与农户核实).

Issue 13: "needs can be drafted from the registry's people (working-age members with labour
capacity, their education and skills) for cadres to confirm with the household — drafts, never
stated needs". :func:`draft_rows` is the one rule of who gets a draft, shared with the drafts of
monitoring cases (:mod:`dongxi.services.case_needs`):

- a member of working age (:data:`WORKING_AGE`, on the day of the draft), out of school
  (:data:`OUT_OF_SCHOOL`), with labour capacity (the monitoring rules' ``[labour] capacity``:
  skilled, normal, weak);
- of a household inside the principal's scope that has no safety-net measure (the rules' ``[help]
  safety_net_batches``, 低保/特困 as 社会保障兜底, not cancelled): those get safety-net help;
- who has no current need yet, stated or drafted, of any kind (``store._need_drafts``: the person
  is named as seeker by their keyed hash or as ``<household code>-<member no>``).

Each gets a draft need of kind ``employment`` (``draft`` true, migration 0013) with the member's
age, education, labour capacity and skills and the household's status; the seeker is ``<household
code>-<member no>`` (no ID number, no name). A draft is kept out of matching until a cadre confirms
it: the file (:func:`export_registry_drafts`) is in the needs' import format, and ``dongxi import``
of it makes each row a stated need (the draft closed, a new version).

The registry's drafts (:func:`draft_registry_needs`) cover the households the East–West help is
for (:data:`DRAFTED_STATUSES`: registered poor, escaped, monitored; not 一般农户), optionally one
region inside the scope. Permissions: ``registry:read``; writing drafts also
``market:answer_seeker`` and ``registry:write`` (as recording a need on the household's page);
writing the file ``registry:export``. Set-based: one query selects the people
(``store._need_drafts.draft_candidates``); the drafts are written in batches with their change-log
entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dongxi.errors import InputError
from dongxi.services.principal import Principal

if TYPE_CHECKING:
    import pandas as pd
    import sqlalchemy as sa
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from dongxi.store.scope import Scope

__all__ = [
    "DRAFTED_STATUSES",
    "OUT_OF_SCHOOL",
    "WORKING_AGE",
    "RegistryDrafts",
    "draft_registry_needs",
    "draft_rows",
    "drafts_frame",
    "export_registry_drafts",
]

#: Working age (years, inclusive, on the day of the draft) of a drafted need's seeker — the
#: offers' default age range (``market_offers.age_min``/``age_max``).
WORKING_AGE = (16, 60)
#: School statuses of a member who may be drafted (not at school).
OUT_OF_SCHOOL = ("not_in_school", "dropout")
#: Household statuses whose people the registry's drafts cover: those the help is for.
DRAFTED_STATUSES = ("registered_poor", "escaped", "monitored")
#: What a draft of the registry says in 具体需求.
_REGISTRY_NOTE = (
    "起草自登记库（劳动年龄、有劳动能力），待干部与农户核实确认 / "
    "drafted from the registry's people; a cadre confirms it with the household"
)


def _years_before(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier (28 February for 29 February in a common year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _age(born: Any, on: dt.date) -> int:
    day = born if isinstance(born, dt.date) else dt.date.fromisoformat(str(born)[:10])
    return on.year - day.year - ((on.month, on.day) < (day.month, day.day))


def draft_rows(
    session: Session,
    *,
    scope: Scope,
    as_of: dt.date,
    note: str | Callable[[str], str],
    statuses: Sequence[str] | None = None,
    households: sa.Select[Any] | None = None,
) -> list[dict[str, Any]]:
    """The drafted needs (rows of ``market_needs``, not yet written) of the people who get one
    (the module's rule) in ``scope``, of ``statuses`` and ``households`` (a SELECT of household
    codes) when given; ``note`` is the 具体需求 text (or a function of the household code)."""
    from dongxi.monitor import load_rules
    from dongxi.store._need_drafts import draft_candidates, member_seeker

    rules = load_rules(None)
    low, high = WORKING_AGE
    people = draft_candidates(
        session,
        scope=scope,
        born_after=_years_before(as_of, high + 1),
        born_by=_years_before(as_of, low),
        capacities=tuple(rules.labour_capacity),
        out_of_school=OUT_OF_SCHOOL,
        safety_net_batches=tuple(rules.safety_net_batches),
        statuses=statuses,
        households=households,
    )
    return [
        {
            "seeker_id": member_seeker(str(p["household_code"]), p["member_no"]),
            "household_code": str(p["household_code"]),
            "county_code": str(p["village_code"])[:6],
            "kind": "employment",
            "status": p["status"],
            "age": _age(p["birth_date"], as_of),
            "education": p["education"],
            "labour_capacity": p["labour_capacity"],
            "skills": p["skills"],
            "willingness": "willing",
            "stated_on": as_of,
            "details": note if isinstance(note, str) else note(str(p["household_code"])),
        }
        for p in people
    ]


def drafts_frame(
    session: Session,
    scope: Scope,
    *,
    households: sa.Select[Any] | None = None,
    pending: Sequence[dict[str, Any]] = (),
) -> pd.DataFrame:
    """Every current draft in ``scope`` (and ``households``), with ``pending`` drafts not
    written, in the needs' import format (Chinese headers and words: what ``dongxi import``
    reads back), by seeker."""
    import pandas as pd

    from dongxi.intake.headers import localize
    from dongxi.store._need_drafts import current_drafts

    frame = current_drafts(session, scope=scope, households=households)
    if pending:
        extra = pd.DataFrame(list(pending)).reindex(columns=frame.columns)
        frame = extra if frame.empty else pd.concat([frame, extra], ignore_index=True)
    frame = frame.sort_values("seeker_id", kind="stable").reset_index(drop=True)
    return localize(frame, kind="needs")


def _region_scope(principal: Principal, region: str | None) -> Scope:
    return principal.scope if region is None else principal.scope.narrowed(region)


@dataclass(frozen=True)
class RegistryDrafts:
    """What drafting from the registry did: the people selected (``drafted``: their seekers),
    whether the drafts were written, the rows of the file and its path."""

    drafted: list[str]
    written: bool
    rows: int = 0
    path: Path | None = None


def draft_registry_needs(
    session: Session,
    principal: Principal,
    *,
    region: str | None = None,
    write: bool = False,
    as_of: dt.date | None = None,
) -> tuple[list[dict[str, Any]], Scope]:
    """The drafts of the registry's people in the principal's scope (``region``: one division
    inside it), written (``write``) in the caller's transaction with change-log entries;
    returns the drafts and the scope they cover."""
    principal.require("registry:read")
    if write:
        principal.require("market:answer_seeker")
        principal.require("registry:write")
    from dongxi.services.cases import today
    from dongxi.store.market_models import save_draft_needs

    scope = _region_scope(principal, region)
    rows = draft_rows(
        session, scope=scope, as_of=as_of or today(), note=_REGISTRY_NOTE, statuses=DRAFTED_STATUSES
    )
    if write and rows:
        drafted = set(save_draft_needs(session, rows, actor=principal.actor))
        rows = [r for r in rows if r["seeker_id"] in drafted]
    return rows, scope


def export_registry_drafts(
    *,
    principal: Principal,
    out: Path | None = None,
    write: bool = False,
    region: str | None = None,
    url: str | None = None,
    engine: Engine | None = None,
    as_of: dt.date | None = None,
) -> RegistryDrafts:
    """Draft the needs of the registry's people (:func:`draft_registry_needs`) and/or write the
    drafts to ``out`` (.xlsx or .csv, the needs' import format): every current draft in the
    scope, and, without ``write``, the drafts this run would add."""
    if out is None and not write:
        raise InputError(
            "Nothing to do: neither a file nor writing the drafts was asked for.",
            rule="required",
            fix="Give --out FILE.xlsx (the drafts for the cadres), --write (keep them in the "
            "registry), or both（请给出 --out 或 --write）.",
        )
    if out is not None:
        principal.require("registry:export")
        from dongxi.outputs import output_file

        output_file(Path(out), option="--out", inputs=[])
    from dongxi.services._registry import registry
    from dongxi.store.db import session_scope

    with registry(url, engine=engine) as opened, session_scope(opened) as session:
        rows, scope = draft_registry_needs(
            session, principal, region=region, write=write, as_of=as_of
        )
        frame = None
        if out is not None:
            frame = drafts_frame(session, scope, pending=() if write else rows)
    drafted = [str(r["seeker_id"]) for r in rows]
    if frame is None or out is None:
        return RegistryDrafts(drafted=drafted, written=write)
    from dongxi.tables import write_table

    path = write_table(frame, Path(out), option="--out")
    return RegistryDrafts(drafted=drafted, written=write, rows=len(frame), path=path)
