"""防止返贫动态监测 (monitoring to prevent relapse into poverty): a pure engine, tables in,
tables out.

Rules are data (:func:`load_rules`: ``monitor/data/rules.toml`` or an office's own file). The
inputs are plain pandas tables with the registry's column names — ``households``, ``people``
(without ID numbers and names), ``measures``, ``income_months`` (one row per household and
month), optionally the households' status history and the open cases — with the monitoring line
of the year and the date of the check. Every decision is a row with the rule that made it and
the facts it used, in Chinese and English; missing facts give ``undecided``, never a silent
decision. Vectorised over households (NumPy), no per-household loop in the rules.

- :func:`sweep` — who the rules put in monitoring (category, reasons, kind of help).
- :func:`risk_removal` — whether a monitored household's risk may be marked removed (风险消除).
- :func:`household_exit`, :func:`area_exit`, :func:`transition` — exit from poverty (脱贫), village
  and county exit, the transition period (四个不摘).
- :func:`missed`, :func:`outside_system` — audits: 应纳未纳, 体外循环.
- :func:`focus_households` — the focus groups (重点人群) of the yearly sweep.

No database, no web: :mod:`dongxi.services.monitoring` reads the registry or a snapshot.

- :mod:`dongxi.monitor.procedures` — the identification, risk-removal and exit procedures as state
  machines with deadlines (data in ``monitor/data/procedures.toml``).
- :mod:`dongxi.monitor.score` — the learned risk score (orders sweeps; the rules decide inclusion).
"""

from __future__ import annotations

from dongxi.monitor._audit import AUDIT_COLUMNS, missed, monitoring_exits, outside_system
from dongxi.monitor._exit import (
    EXIT_COLUMNS,
    area_exit,
    household_exit,
    risk_removal,
    stable_income,
    transition,
)
from dongxi.monitor._panel import month_index, month_text, span_text
from dongxi.monitor._rules import Rules, load_rules
from dongxi.monitor._sweep import SWEEP_COLUMNS, check_window, focus_households, sweep
from dongxi.monitor.procedures import (
    Procedure,
    Procedures,
    allowed_transitions,
    check_transition,
    load_procedures,
    overdue,
)

__all__ = [
    "AUDIT_COLUMNS",
    "EXIT_COLUMNS",
    "SWEEP_COLUMNS",
    "Procedure",
    "Procedures",
    "Rules",
    "allowed_transitions",
    "area_exit",
    "check_transition",
    "check_window",
    "focus_households",
    "household_exit",
    "load_procedures",
    "load_rules",
    "missed",
    "monitoring_exits",
    "month_index",
    "month_text",
    "outside_system",
    "overdue",
    "risk_removal",
    "span_text",
    "stable_income",
    "sweep",
    "transition",
]
