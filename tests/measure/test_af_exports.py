"""The public surface of dongxi.measure and dongxi.analytics is pinned."""

from __future__ import annotations

import dongxi.analytics
import dongxi.measure


def test_measure_exports() -> None:
    assert sorted(dongxi.measure.__all__) == sorted(
        [
            "OUTPUT_COLUMNS", "Aggregate", "Comparison", "Cutoff", "Design", "Dimension",
            "IncomeSpec", "Indicator", "MeasureSpec", "Param", "Rounds", "Unit",
            "add_age", "builtin_specs", "count_table", "identify", "load_spec", "measure",
        ]
    )  # fmt: skip
    for name in dongxi.measure.__all__:
        assert hasattr(dongxi.measure, name)


def test_analytics_exports() -> None:
    assert sorted(dongxi.analytics.__all__) == ["Backend", "Capabilities", "connect"]
