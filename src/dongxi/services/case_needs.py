"""Use case: the market's needs drafted from monitoring cases (帮扶需求：监测对象的开发式帮扶).

Issue 12, "help by kind": a household that agreed to its identification (its case reached
'consent', or a later state other than 'not_included') and whose help kind is development gets a
**draft** need of kind ``employment`` for each working-age member (:data:`WORKING_AGE`, not in
school) with labour capacity (the rules' ``[labour] capacity``), with the member's education,
labour capacity and skills from ``people``. A draft is never a stated need: the matching reads
stated needs only (``market_models.current_needs``) until a cadre confirms it by importing the
drafts' file back with ``dongxi import`` (the row becomes a stated need; a row deleted from the
file stays a draft).

Safety-net households get no drafts: those without a member with labour capacity (the engine's
help kind ``safety_net``) and those with a measure of a safety-net kind (the rules' ``[help]
safety_net_batches``, 低保/特困 as 社会保障兜底) that is not cancelled.

Permissions ``monitor:advance`` and ``registry:read``; only households in the principal's scope.
The seeker of a draft is ``<household code>-<member no>`` (no ID number, no name).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dongxi.services.principal import Principal

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

__all__ = ["WORKING_AGE", "DraftRun", "draft_needs", "export_draft_needs"]

#: Working age (years, inclusive) of a drafted need's seeker — the offers' default age range.
WORKING_AGE = (16, 60)
#: School statuses of a member who may be drafted (not at school).
_OUT_OF_SCHOOL = ("not_in_school", "dropout")
#: The case's state the household agrees in, and the final state that refuses identification.
_CONSENT = "consent"
_REFUSED = ("not_included",)


@dataclass(frozen=True)
class DraftRun:
    """What drafting did: the seekers drafted now, the households considered (consented), the
    safety-net households given none, and the file written (every current draft in scope)."""

    drafted: list[str]
    households: int
    safety_net: list[str] = field(default_factory=list)
    rows: int = 0
    path: Path | None = None


def _age(born: Any, on: dt.date) -> int | None:
    if born is None:
        return None
    day = born if isinstance(born, dt.date) else dt.date.fromisoformat(str(born)[:10])
    return on.year - day.year - ((on.month, on.day) < (day.month, day.day))


def draft_needs(
    session: Session, principal: Principal, *, as_of: dt.date | None = None
) -> DraftRun:
    """Draft the needs of the consented development households in scope (one transaction with
    the caller's session; change-log entries for every draft)."""
    principal.require("monitor:advance")
    principal.require("registry:read")
    from dongxi.monitor import load_rules
    from dongxi.services.cases import today
    from dongxi.store import _cases as store
    from dongxi.store.market_models import save_draft_needs

    day = as_of or today()
    rules = load_rules(None)
    cases = store.consented_cases(session, scope=principal.scope, state=_CONSENT, refused=_REFUSED)
    facts = store.draft_facts(session, cases)
    people: dict[str, list[dict[str, Any]]] = {}
    for p in facts["people"]:
        people.setdefault(str(p["household_code"]), []).append(p)
    net_measure = {
        str(m["household_code"])
        for m in facts["measures"]
        if m["batch"] in rules.safety_net_batches and m["status"] != "cancelled"
    }
    rows: list[dict[str, Any]] = []
    safety_net: list[str] = []
    low, high = WORKING_AGE
    for household in sorted(facts["households"], key=lambda h: str(h["household_code"])):
        code = str(household["household_code"])
        members = people.get(code, [])
        able = [m for m in members if m["labour_capacity"] in rules.labour_capacity]
        if not able or code in net_measure:
            safety_net.append(code)
            continue
        for member in sorted(able, key=lambda m: int(m["member_no"])):
            age = _age(member["birth_date"], day)
            if age is None or not low <= age <= high:
                continue
            if member["school_status"] not in _OUT_OF_SCHOOL:
                continue
            rows.append(
                {
                    "seeker_id": f"{code}-{int(member['member_no'])}",
                    "household_code": code,
                    "county_code": str(household["village_code"])[:6],
                    "kind": "employment",
                    "status": household["status"],
                    "age": age,
                    "education": member["education"],
                    "labour_capacity": member["labour_capacity"],
                    "skills": member["skills"],
                    "willingness": "willing",
                    "stated_on": day,
                    "details": f"起草自监测案件{cases[code]}（农户已同意），待干部核实确认 / "
                    f"drafted from monitoring case {cases[code]}; a cadre confirms it",
                }
            )
    drafted = save_draft_needs(session, rows, actor=principal.actor) if rows else []
    return DraftRun(drafted=drafted, households=len(cases), safety_net=safety_net)


def drafts_table(session: Session, principal: Principal) -> pd.DataFrame:
    """Every current draft of the households in scope, in the needs' import format (Chinese
    headers and words: what ``dongxi import`` reads back)."""
    principal.require("registry:read")
    from dongxi.intake.headers import localize
    from dongxi.store import _cases as store
    from dongxi.store.market_models import draft_needs_of

    cases = store.consented_cases(session, scope=principal.scope, state=_CONSENT, refused=_REFUSED)
    return localize(draft_needs_of(session, cases), kind="needs")


def export_draft_needs(
    *,
    principal: Principal,
    out: Path,
    url: str | None = None,
    engine: Engine | None = None,
    as_of: dt.date | None = None,
) -> DraftRun:
    """Draft the needs (:func:`draft_needs`) and write every current draft in scope to ``out``
    (.xlsx or .csv, the needs' import format) for the cadres to check and import back."""
    from dataclasses import replace

    from dongxi.outputs import output_file
    from dongxi.services._registry import registry
    from dongxi.store.db import session_scope
    from dongxi.tables import write_table

    output_file(Path(out), option="--out", inputs=[])
    with registry(url, engine=engine) as opened, session_scope(opened) as session:
        run = draft_needs(session, principal, as_of=as_of)
        frame = drafts_table(session, principal)
    path = write_table(frame, Path(out), option="--out")
    return replace(run, rows=len(frame), path=path)
