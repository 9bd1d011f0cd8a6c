"""Use case: the market's needs drafted from monitoring cases (帮扶需求：监测对象的开发式帮扶).

Issue 12, "help by kind": a household that agreed to its identification (its case reached
'consent', or a later state other than 'not_included') and whose help kind is development gets a
**draft** need of kind ``employment`` for each working-age member with labour capacity, out of
school, who has no need yet — the same rule as the drafts of the registry's people
(:func:`dongxi.services.drafted_needs.draft_rows`, one function for both), restricted to the
consented households, whatever their status. A draft is never a stated need: the matching reads
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
from typing import TYPE_CHECKING

from dongxi.services.drafted_needs import WORKING_AGE, draft_rows, drafts_frame
from dongxi.services.principal import Principal

if TYPE_CHECKING:
    import pandas as pd
    import sqlalchemy as sa
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

__all__ = ["WORKING_AGE", "DraftRun", "draft_needs", "export_draft_needs"]

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


def _consented(principal: Principal) -> sa.Select[str, int]:
    from dongxi.store import _cases as store

    return store.consented_query(scope=principal.scope, state=_CONSENT, refused=_REFUSED)


def draft_needs(
    session: Session, principal: Principal, *, as_of: dt.date | None = None
) -> DraftRun:
    """Draft the needs of the consented development households in scope (one transaction with
    the caller's session; change-log entries for every draft)."""
    principal.require("monitor:advance")
    principal.require("registry:read")
    import sqlalchemy as sa

    from dongxi.monitor import load_rules
    from dongxi.services.cases import today
    from dongxi.store._need_drafts import safety_net_households
    from dongxi.store.market_models import save_draft_needs

    rules = load_rules(None)
    consented = _consented(principal)
    cases = {str(code): int(case) for code, case in session.execute(consented)}
    codes = sa.select(consented.subquery().c.household_code)
    rows = draft_rows(
        session,
        scope=principal.scope,
        as_of=as_of or today(),
        note=lambda code: (
            f"起草自监测案件{cases[code]}（农户已同意），待干部核实确认 / "
            f"drafted from monitoring case {cases[code]}; a cadre confirms it"
        ),
        households=codes,
    )
    safety_net = safety_net_households(
        session,
        households=codes,
        capacities=tuple(rules.labour_capacity),
        safety_net_batches=tuple(rules.safety_net_batches),
    )
    drafted = save_draft_needs(session, rows, actor=principal.actor) if rows else []
    return DraftRun(drafted=drafted, households=len(cases), safety_net=safety_net)


def drafts_table(session: Session, principal: Principal) -> pd.DataFrame:
    """Every current draft of the consented households in scope, in the needs' import format
    (Chinese headers and words: what ``dongxi import`` reads back)."""
    principal.require("registry:read")
    import sqlalchemy as sa

    codes = sa.select(_consented(principal).subquery().c.household_code)
    return drafts_frame(session, principal.scope, households=codes)


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
