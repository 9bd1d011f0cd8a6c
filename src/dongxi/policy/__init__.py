"""Versioned policy parameters as data (政策参数): poverty lines, monitoring lines, criteria.

Every figure is a :class:`PolicyValue` with the period it is in force, the region it applies to,
how far it is confirmed (``status``) and its ``source``. :func:`get_parameter` finds the figure for
a year and a region (the most specific region wins; user overrides win over built-in figures);
:func:`income_line` is the rule of which line a year's identification uses (the poverty line
through 2020, the relapse-monitoring line after it); :func:`load_overrides` reads a province's
own standard (省定标准) from a file. Sources of the built-in figures:
``dongxi/policy/data/README.md`` and ``docs/policy.md``.
"""

from __future__ import annotations

from dongxi.policy._lookup import (
    LAST_POVERTY_LINE_YEAR,
    all_parameters,
    describe_parameters,
    get_parameter,
    income_line,
    parameter_names,
)
from dongxi.policy._model import NATIONAL, STATUSES, PolicyValue, normalise_scope, scope_chain
from dongxi.policy._overrides import OVERRIDE_COLUMNS, load_overrides

__all__ = [
    "LAST_POVERTY_LINE_YEAR",
    "NATIONAL",
    "OVERRIDE_COLUMNS",
    "STATUSES",
    "PolicyValue",
    "all_parameters",
    "describe_parameters",
    "get_parameter",
    "income_line",
    "load_overrides",
    "normalise_scope",
    "parameter_names",
    "scope_chain",
]
