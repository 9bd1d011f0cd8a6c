"""Identification of the poor (精准识别): the Alkire–Foster multidimensional method.

Compose small steps: a :class:`MeasureSpec` (``load_spec``) says what deprivation means; the
engine evaluates the indicators on a table, builds the weighted count table over
(group, deprivation profile) with one GROUP BY, and derives every measure, standard error and
interval from it. Income poverty (FGT, Watts, Gini) lives in :mod:`dongxi.measure.income`.
"""

from dongxi.measure._af import OUTPUT_COLUMNS
from dongxi.measure._compute import count_table, identify, measure
from dongxi.measure._spec import (
    Aggregate,
    Comparison,
    Cutoff,
    Design,
    Dimension,
    IncomeSpec,
    Indicator,
    MeasureSpec,
    Param,
    Rounds,
    Unit,
    builtin_specs,
    load_spec,
)
from dongxi.measure._validate import add_age

__all__ = [
    "OUTPUT_COLUMNS",
    "Aggregate",
    "Comparison",
    "Cutoff",
    "Design",
    "Dimension",
    "IncomeSpec",
    "Indicator",
    "MeasureSpec",
    "Param",
    "Rounds",
    "Unit",
    "add_age",
    "builtin_specs",
    "count_table",
    "identify",
    "load_spec",
    "measure",
]
