"""Finding the figure that applies to a year and a region."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pandas as pd

from dongxi.errors import NotFoundError
from dongxi.policy._builtin import builtin_parameters
from dongxi.policy._model import PolicyValue, normalise_scope, scope_chain

__all__ = [
    "LAST_POVERTY_LINE_YEAR",
    "all_parameters",
    "describe_parameters",
    "get_parameter",
    "income_line",
    "parameter_names",
]

#: The last year of China's national rural poverty line (扶贫标准). After it the relapse-monitoring
#: line (防返贫监测线, ``monitoring_line``) is the income line: see :func:`income_line`.
LAST_POVERTY_LINE_YEAR = 2020

#: The commands that read policy figures and take an override file (``--policy FILE``).
POLICY_COMMANDS = (
    "dongxi measure",
    "dongxi report",
    "dongxi synth",
    "dongxi monitor sweep",
    "dongxi monitor audit",
    "dongxi monitor score",
    "dongxi policy show",
    "dongxi policy list",
)
_OVERRIDE_FIX = (
    "Supply the figure in an override file (CSV or XLSX with columns name, scope, value, unit, "
    "year — or effective_from/effective_to — and source) and give it with --policy FILE to "
    + ", ".join(POLICY_COMMANDS)
    + " (in Python: overrides=load_overrides(path))."
)
#: After 2020 no national poverty line was published; the monitoring line took its place.
_AFTER_2020 = (
    " After 2020 no national poverty line is published: the relapse-monitoring line "
    "(monitoring_line, 6,000 yuan in 2021, then set by each province) is the income line of "
    "those years: income_line(year) chooses it, and dongxi measure and dongxi report use it for "
    "a spec's poverty_line."
)


def all_parameters() -> list[PolicyValue]:
    """Every built-in figure (a new list; the values are immutable)."""
    return list(builtin_parameters())


def parameter_names(overrides: Sequence[PolicyValue] = ()) -> list[str]:
    """The names of all known parameters, built-in and overridden, sorted."""
    return sorted({v.name for v in builtin_parameters()} | {v.name for v in overrides})


def _pick(
    tier: Sequence[PolicyValue], name: str, year: int, chain: Sequence[str]
) -> PolicyValue | None:
    for scope in chain:
        found = [v for v in tier if v.name == name and v.scope == scope and v.applies_to_year(year)]
        if found:
            # the latest start wins; among equal starts the last one given (later files win)
            best = found[0]
            for v in found[1:]:
                if v.effective_from >= best.effective_from:
                    best = v
            return best
    return None


def _summarise(values: Sequence[PolicyValue]) -> str:
    """``national 2010–2020; 420300 2022 (example)``: the years each scope has figures for."""
    years: dict[str, set[int]] = {}
    statuses: dict[str, set[str]] = {}
    open_ended: dict[str, int] = {}
    for v in values:
        last = v.effective_to.year if v.effective_to is not None else v.effective_from.year
        years.setdefault(v.scope, set()).update(range(v.effective_from.year, last + 1))
        statuses.setdefault(v.scope, set()).add(v.status)
        if v.effective_to is None:
            open_ended[v.scope] = min(open_ended.get(v.scope, 9999), v.effective_from.year)
    parts = []
    for scope, found in years.items():
        ordered = sorted(found)
        runs: list[str] = []
        start = prev = ordered[0]
        for y in [*ordered[1:], None]:
            if y is not None and y == prev + 1:
                prev = y
                continue
            open_run = scope in open_ended and prev >= open_ended[scope]
            if open_run:
                runs.append(f"{start}–")
            else:
                runs.append(str(start) if start == prev else f"{start}–{prev}")
            if y is not None:
                start = prev = y
        kinds = ", ".join(sorted(statuses[scope]))
        parts.append(f"{scope} {', '.join(runs)} ({kinds})")
    return "; ".join(parts)


def get_parameter(
    name: str,
    *,
    year: int,
    scope: str = "national",
    overrides: Sequence[PolicyValue] = (),
) -> PolicyValue:
    """The figure of parameter ``name`` in force in ``year`` for region ``scope``.

    Resolution: user ``overrides`` win over built-in figures; within each, the most specific scope
    that applies wins (village → township → county → prefecture → province → national, by GB/T 2260
    code prefixes); within one scope, the figure that started last. Raises
    :class:`~dongxi.errors.NotFoundError` when no figure applies, saying which years and scopes
    exist and how to supply an override.
    """
    chain = scope_chain(scope)
    known = parameter_names(overrides)
    if name not in known:
        raise NotFoundError(
            f"There is no policy parameter named {name!r}. Known: {', '.join(known)}.",
            fix="Use one of the known names, or add the parameter in an override file.",
        )
    for tier in (tuple(overrides), builtin_parameters()):
        value = _pick(tier, name, int(year), chain)
        if value is not None:
            return value
    existing = [v for v in (*overrides, *builtin_parameters()) if v.name == name]
    listed = _summarise(existing)
    hint = _AFTER_2020 if name == "poverty_line" and int(year) > 2020 else ""
    raise NotFoundError(
        f"No figure of {name!r} applies to {year} in scope {normalise_scope(scope)} or the regions "
        f"containing it. Figures exist for: {listed}.{hint}",
        fix=_OVERRIDE_FIX,
    )


def income_line(
    year: int,
    *,
    scope: str = "national",
    overrides: Sequence[PolicyValue] = (),
) -> PolicyValue:
    """The income line of ``year`` for region ``scope``: the one rule every use case follows.

    Through :data:`LAST_POVERTY_LINE_YEAR` (2020): the poverty line (``poverty_line``) of the year.
    After it no poverty line is published: an office's own ``poverty_line`` of the year (an
    override, which the office means) if it gave one, else the relapse-monitoring line
    (``monitoring_line``) of the year — income below it is the income criterion of a monitored
    household (监测对象). Resolution of each figure as :func:`get_parameter`. The returned
    figure's ``name`` says which line it is. Raises :class:`~dongxi.errors.NotFoundError`, in
    Chinese and English, naming the figures that exist and the override file, when no line
    applies.
    """
    year = int(year)
    if year <= LAST_POVERTY_LINE_YEAR:
        return get_parameter("poverty_line", year=year, scope=scope, overrides=overrides)
    chain = scope_chain(scope)
    own = _pick(tuple(overrides), "poverty_line", year, chain)
    if own is not None:
        return own
    try:
        return get_parameter("monitoring_line", year=year, scope=scope, overrides=overrides)
    except NotFoundError:
        pass
    existing = [v for v in (*overrides, *builtin_parameters()) if v.name == "monitoring_line"]
    raise NotFoundError(
        f"{year} 年没有可用的收入线：2020 年后无贫困线，按防返贫监测线识别，但没有适用于 "
        f"{normalise_scope(scope)} 的 {year} 年监测线。No income line applies to {year} in scope "
        f"{normalise_scope(scope)}: after {LAST_POVERTY_LINE_YEAR} no poverty line is published "
        "and the relapse-monitoring line (monitoring_line) is used, but no figure of it applies "
        f"to that year and region. Figures of monitoring_line exist for: {_summarise(existing)}.",
        fix="在政策文件中写明本省（或本县）当年的监测线（参数 monitoring_line）。" + _OVERRIDE_FIX,
    )


def describe_parameters(
    *, name: str | None = None, overrides: Sequence[PolicyValue] = ()
) -> pd.DataFrame:
    """All figures (overrides first) as a table for people: one row per figure.

    Columns ``name, scope, years, value, unit, status, source, note, effective_from,
    effective_to``; ``name`` keeps only that parameter.
    """
    values = [*overrides, *builtin_parameters()]
    if name is not None:
        if name not in parameter_names(overrides):
            raise NotFoundError(
                f"There is no policy parameter named {name!r}. "
                f"Known: {', '.join(parameter_names(overrides))}.",
                fix="Use one of the known names.",
            )
        values = [v for v in values if v.name == name]
    rows = []
    for v in values:
        row = dataclasses.asdict(v)
        row["years"] = v.years
        rows.append(row)
    columns = [
        "name",
        "scope",
        "years",
        "value",
        "unit",
        "status",
        "source",
        "note",
        "effective_from",
        "effective_to",
    ]
    return pd.DataFrame(rows, columns=columns)
