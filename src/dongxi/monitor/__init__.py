"""Relapse-prevention monitoring (防返贫动态监测): pure engines, tables in, tables out.

``procedures`` — the identification, risk-removal and exit procedures as state machines with
deadlines (data in ``monitor/data/procedures.toml``). Other parts (rules, sweep, audits, risk
score) live in their own modules.
"""

from __future__ import annotations

from dongxi.monitor.procedures import (
    Procedure,
    Procedures,
    allowed_transitions,
    check_transition,
    load_procedures,
    overdue,
)

__all__ = [
    "Procedure",
    "Procedures",
    "allowed_transitions",
    "check_transition",
    "load_procedures",
    "overdue",
]
