"""Small helpers shared by the use-case tests."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi.intake.headers import Kind
from dongxi.services import Principal
from dongxi.services.imports import import_tables
from dongxi.synth import SynthData


def load_round(engine: Engine, principal: Principal, data: SynthData, year: int) -> None:
    """Import one round of the panel (helpers and partners first) through the use case."""
    state = data.rounds[year]
    frames: dict[Kind, pd.DataFrame] = {
        "partners": data.partners,
        "helpers": data.helpers,
        "households": state.households,
        "people": state.people,
        "income": state.income,
    }
    results = import_tables(
        principal=principal, engine=engine, frames=frames, source_name=f"synth-{year}"
    )
    assert all(r.ok for r in results.values()), {k: r.errors[:2] for k, r in results.items()}


def log_entries(engine: Engine, action: str | None = None) -> list[dict[str, Any]]:
    """Change-log entries (oldest first), ``after`` parsed, optionally of one action."""
    query = "SELECT actor, action, entity, entity_key, after FROM change_log ORDER BY seq"
    with engine.connect() as conn:
        rows = conn.execute(sa.text(query)).all()
    entries = [
        {
            "actor": r[0],
            "action": r[1],
            "entity": r[2],
            "key": r[3],
            "after": json.loads(r[4]) if r[4] else None,
        }
        for r in rows
    ]
    return [e for e in entries if action is None or e["action"] == action]
