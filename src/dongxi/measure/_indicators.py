"""Indicators as Ibis expressions: rules on raw columns, aggregation of members to households.

The result of :func:`unit_table` is one row per unit of identification (a household, or a row when
the spec names no household id) with the columns the count table needs: the design columns, the
subgroup columns, the effective weight ``__w`` (sampling weight × household size when people are
counted) and one 0/1 column per indicator after the missing-value policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from dongxi.errors import SpecError
from dongxi.measure._spec import (
    AllOf,
    AnyOf,
    Comparison,
    Indicator,
    MeasureSpec,
    Param,
    Threshold,
)

__all__ = ["UNIT_KEY", "WEIGHT_KEY", "condition_columns", "referenced_columns", "unit_table"]

WEIGHT_KEY = "__w"
SIZE_KEY = "__size"
UNIT_KEY = "__unit"


def resolve(value: Any, params: Mapping[str, Any]) -> Any:
    """A literal, or the value of ``{param = name}`` from ``params``."""
    if isinstance(value, Param):
        if value.param not in params:
            raise SpecError(
                f"The spec uses the parameter '{value.param}' but no value was given for it.",
                column=value.param,
                rule="param",
                fix=f"Pass params={{'{value.param}': …}} (the CLI reads it from policy data with "
                "--year and --province).",
            )
        return params[value.param]
    if isinstance(value, list):
        return [resolve(v, params) for v in value]
    return value


def condition_columns(cond: Any) -> list[str]:
    """Columns a condition reads."""
    if cond is None:
        return []
    if isinstance(cond, Comparison):
        return [cond.column]
    items = cond.all if isinstance(cond, AllOf) else cond.any
    return [c for item in items for c in condition_columns(item)]


def _indicator_columns(ind: Indicator) -> list[str]:
    cols: list[str] = []
    if ind.column is not None:
        cols.append(ind.column)
    cols += condition_columns(ind.rule)
    if ind.aggregate is not None:
        cols += condition_columns(ind.aggregate.members)
        if ind.aggregate.column is not None:
            cols.append(ind.aggregate.column)
    return cols


def referenced_columns(spec: MeasureSpec, by: Sequence[str]) -> list[str]:
    """Every input column the spec (and the subgroups ``by``) reads, without duplicates."""
    cols: list[str] = []
    for ind in spec.indicators:
        cols += _indicator_columns(ind)
    u, d = spec.unit, spec.design
    cols += [c for c in (u.household, u.size, d.weight, d.strata, d.psu) if c]
    if spec.rounds is not None:
        cols.append(spec.rounds.column)
        if spec.rounds.year:
            cols.append(spec.rounds.year)
    cols += list(by)
    return list(dict.fromkeys(cols))


def _compare(col: Any, op: str, value: Any) -> Any:
    if op == "<":
        return col < value
    if op == "<=":
        return col <= value
    if op == ">":
        return col > value
    if op == ">=":
        return col >= value
    if op == "==":
        return col == value
    if op == "!=":
        return col != value
    if op == "in":
        return col.isin(value)
    if op == "not in":
        return col.notin(value)
    if op == "is null":
        return col.isnull()
    return col.notnull()


def _literal(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        import ibis

        return ibis.literal(value)
    return value


def condition_expr(table: Any, cond: Any, params: Mapping[str, Any]) -> Any:
    """A boolean Ibis expression (SQL three-valued: null where inputs are missing)."""
    if isinstance(cond, Comparison):
        value = resolve(cond.value, params)
        value = [_literal(v) for v in value] if isinstance(value, list) else _literal(value)
        return _compare(table[cond.column], cond.op, value)
    if isinstance(cond, AllOf):
        exprs = [condition_expr(table, c, params) for c in cond.all]
        out = exprs[0]
        for e in exprs[1:]:
            out = out & e
        return out
    if isinstance(cond, AnyOf):
        exprs = [condition_expr(table, c, params) for c in cond.any]
        out = exprs[0]
        for e in exprs[1:]:
            out = out | e
        return out
    raise SpecError(f"Unknown condition {cond!r}.", rule="condition")  # pragma: no cover


def _as_int(flag: Any) -> Any:
    """Boolean → 0/1, keeping nulls (PostgreSQL casts boolean to int4, not int8)."""
    return flag.cast("int32").cast("int64")


def _threshold(value: Any, th: Threshold, params: Mapping[str, Any]) -> Any:
    return _compare(value, th.op, resolve(th.value, params))


def unit_table(
    table: Any,
    spec: MeasureSpec,
    *,
    by: Sequence[str],
    params: Mapping[str, Any],
    extra: Sequence[str] = (),
) -> Any:
    """One row per unit of identification with design, subgroup, weight and indicator columns."""
    import ibis

    names = spec.indicator_names
    hh = spec.unit.household
    d = spec.design
    keep = [c for c in (d.strata, d.psu) if c]
    if spec.rounds is not None:
        keep.append(spec.rounds.column)
        if spec.rounds.year:
            keep.append(spec.rounds.year)
    keep += [c for c in by if c not in keep]
    keep += [c for c in extra if c not in keep]
    weight = table[d.weight].cast("float64") if d.weight else ibis.literal(1.0)

    if hh is None:
        for ind in spec.indicators:
            if ind.aggregate is not None:
                raise SpecError(
                    f"Indicator '{ind.name}' aggregates members to households, but the spec "
                    "names no household id column.",
                    column="unit.household",
                    rule="aggregate",
                    fix="Set [unit] household = '<household id column>' for person-level data.",
                )
        values: dict[str, Any] = {}
        for ind in spec.indicators:
            if ind.column is not None:
                values[ind.name] = table[ind.column].cast("int64")
            else:
                values[ind.name] = _as_int(condition_expr(table, ind.rule, params))
        size = (
            table[spec.unit.size].cast("float64")
            if (spec.unit.size and spec.unit.analysis == "people")
            else ibis.literal(1.0)
        )
        units = table.select(
            *[table[c] for c in keep],
            **{SIZE_KEY: size, "__weight": weight},
            **values,
        )
    else:
        row_vals: dict[str, Any] = {"__weight": weight}
        aggs: dict[str, Any] = {}
        for i, ind in enumerate(spec.indicators):
            agg = ind.aggregate
            if ind.column is not None:
                row_vals[f"__v{i}"] = table[ind.column].cast("int64")
                continue
            if agg is None:
                row_vals[f"__v{i}"] = _as_int(condition_expr(table, ind.rule, params))
                continue
            elig = (
                condition_expr(table, agg.members, params).fill_null(False)
                if agg.members is not None
                else ibis.literal(True)
            )
            row_vals[f"__e{i}"] = ibis.ifelse(elig, 1, 0)
            if agg.how in ("min", "max", "sum"):
                assert agg.column is not None
                member = table[agg.column].cast("float64")
            else:
                member = _as_int(condition_expr(table, ind.rule, params))
            row_vals[f"__v{i}"] = ibis.ifelse(elig, member, ibis.null("float64"))
        rows = table.mutate(**row_vals)
        for i, ind in enumerate(spec.indicators):
            v = rows[f"__v{i}"]
            agg = ind.aggregate
            if agg is None:
                aggs[f"__a{i}"] = v.max()
                continue
            aggs[f"__n{i}"] = rows[f"__e{i}"].sum()
            how = agg.how
            if how == "any":
                aggs[f"__a{i}"] = v.max()
            elif how == "all":
                aggs[f"__a{i}"] = v.min()
            elif how == "count":
                aggs[f"__a{i}"] = v.sum()
            elif how == "share":
                aggs[f"__a{i}"] = v.sum() / v.count()
            elif how == "min":
                aggs[f"__a{i}"] = v.min()
            elif how == "max":
                aggs[f"__a{i}"] = v.max()
            else:
                aggs[f"__a{i}"] = v.sum()
        size_agg = (
            rows[spec.unit.size].cast("float64").max()
            if spec.unit.size
            else rows.count().cast("float64")
        )
        grouped = rows.group_by(rows[hh].name(UNIT_KEY)).aggregate(
            *[rows[c].max().name(c) for c in keep],
            **{SIZE_KEY: size_agg, "__weight": rows["__weight"].max()},
            **aggs,
        )
        values = {}
        for i, ind in enumerate(spec.indicators):
            a = grouped[f"__a{i}"]
            agg = ind.aggregate
            if agg is None:
                values[ind.name] = a.cast("int64")
                continue
            if agg.how in ("any", "all"):
                deprived = a.cast("int64")
            else:
                assert agg.deprived is not None
                deprived = _as_int(_threshold(a, agg.deprived, params))
            empty = 1 if agg.empty == "deprived" else 0
            values[ind.name] = ibis.ifelse(grouped[f"__n{i}"] == 0, empty, deprived).cast("int64")
        units = grouped.select(
            grouped[UNIT_KEY],
            *[grouped[c] for c in keep],
            **{SIZE_KEY: grouped[SIZE_KEY], "__weight": grouped["__weight"]},
            **values,
        )

    # Missing values: per indicator policy (default: the spec's).
    filled: dict[str, Any] = {}
    listwise: list[Any] = []
    for ind in spec.indicators:
        policy = ind.missing or spec.missing
        col = units[ind.name]
        if policy == "deprived":
            filled[ind.name] = col.fill_null(1)
        elif policy == "not_deprived":
            filled[ind.name] = col.fill_null(0)
        else:
            listwise.append(col.notnull())
    if filled:
        units = units.mutate(**filled)
    for cond in listwise:
        units = units.filter(cond)
    people = spec.unit.analysis == "people"
    w = units["__weight"] * units[SIZE_KEY] if people else units["__weight"]
    ids = [units[UNIT_KEY]] if hh is not None else []
    return units.select(
        *ids, *[units[c] for c in keep], *[units[n] for n in names], **{WEIGHT_KEY: w}
    )
