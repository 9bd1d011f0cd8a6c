"""Income poverty measures: FGT(α = 0, 1, 2), Watts and the Gini coefficient, with design-based
standard errors (Taylor linearisation) and intervals. See ``docs/income-poverty.md``."""

from __future__ import annotations

from dongxi.measure._income import INCOME_MEASURES, OUTPUT_COLUMNS, income_poverty

__all__ = ["INCOME_MEASURES", "OUTPUT_COLUMNS", "income_poverty"]
