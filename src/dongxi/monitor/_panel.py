"""The monthly income panel as dense arrays (households × months), for vectorised windows.

``income_months`` rows are placed in a households × months grid once (NumPy fancy indexing, no
per-household loop); sums over any window of months are then differences of cumulative sums, so
the 12 months before the check, the 12 before those and each of the last months of an exit test
are all O(households) array operations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dongxi.errors import InputError

__all__ = ["Panel", "Window", "build_panel", "month_index", "month_text"]

#: The monthly columns of ``income_months`` the rules read (amounts in yuan).
AMOUNTS = ("net_income", "medical_spending", "schooling_spending", "disaster_loss")


def month_index(value: str | dt.date) -> int:
    """A calendar month as a number (year × 12 + month − 1) from 'YYYY-MM' or a date."""
    if isinstance(value, dt.date):
        return value.year * 12 + value.month - 1
    text = str(value).strip()
    try:
        year, month = int(text[:4]), int(text[5:7])
        if len(text) != 7 or text[4] != "-" or not 1 <= month <= 12:
            raise ValueError(text)
    except ValueError:
        raise InputError(
            "月份格式有误 / A month is not written as YYYY-MM.",
            column="month",
            value=text,
            rule="month",
            fix="Write months as 2024-07.",
        ) from None
    return year * 12 + month - 1


def month_text(index: int) -> str:
    """'YYYY-MM' of a month number."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def span_text(first: int, last: int) -> str:
    """'2024-03..2025-02'."""
    return f"{month_text(first)}..{month_text(last)}"


def household_positions(codes: pd.Index, column: pd.Series) -> np.ndarray:
    """Position of each row's household in ``codes`` (−1: not a household of ``codes``).

    A categorical column is looked up once per category (fast on tens of millions of rows).
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        per_category = codes.get_indexer(pd.Index(column.cat.categories.astype(str)))
        raw = column.cat.codes.to_numpy()
        return np.where(raw >= 0, per_category[raw], -1)
    return codes.get_indexer(pd.Index(column.astype(str)))


def month_positions(column: pd.Series) -> np.ndarray:
    """Month number of each row (each distinct text parsed once)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        cats = np.array([month_index(c) for c in column.cat.categories], dtype=np.int64)
        raw = column.cat.codes.to_numpy()
        if (raw < 0).any():
            raise InputError(
                "月份为空 / A row of income_months has no month.",
                column="month",
                rule="required",
                fix="Give every row its month (YYYY-MM).",
            )
        return cats[raw]
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    if (codes < 0).any():
        raise InputError(
            "月份为空 / A row of income_months has no month.",
            column="month",
            rule="required",
            fix="Give every row its month (YYYY-MM).",
        )
    parsed = np.array([month_index(u) for u in uniques], dtype=np.int64)
    return parsed[codes]


@dataclass(frozen=True)
class Window:
    """Sums over a window of months for every household (arrays aligned with the codes)."""

    first: int
    last: int
    months: np.ndarray  # months present
    net_income: np.ndarray
    size_sum: np.ndarray
    spending: dict[str, np.ndarray]

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    @property
    def complete(self) -> np.ndarray:
        return np.asarray(self.months == self.length)

    @property
    def mean_size(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(self.size_sum / self.months, dtype=np.float64)

    @property
    def per_person(self) -> np.ndarray:
        """Net income per person over the window (NaN where no month is present)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(self.net_income / self.mean_size, dtype=np.float64)


@dataclass(frozen=True)
class Panel:
    """Cumulative sums along months for each household, and which months are present."""

    codes: pd.Index
    start: int
    present: np.ndarray  # (H, n) bool
    cumulative: dict[str, np.ndarray]  # (H, n + 1): net_income, size, spending columns, months

    @property
    def months(self) -> int:
        return int(self.present.shape[1])

    def window(self, first: int, last: int, rows: np.ndarray | None = None) -> Window:
        """Sums over months ``first``..``last`` (month numbers, inclusive); months outside the
        panel count as missing. ``rows`` picks households (default: all)."""
        a = min(max(first - self.start, 0), self.months)
        b = min(max(last - self.start + 1, 0), self.months)
        sel = slice(None) if rows is None else rows

        def total(name: str) -> np.ndarray:
            c = self.cumulative[name]
            return np.asarray(c[sel, b] - c[sel, a], dtype=np.float64)

        return Window(
            first=first,
            last=last,
            months=total("months").astype(np.int64),
            net_income=total("net_income"),
            size_sum=total("household_size"),
            spending={n: total(n) for n in AMOUNTS[1:]},
        )

    def present_grid(self, first: int, last: int, rows: np.ndarray) -> np.ndarray:
        """Which months ``first``..``last`` are present, for the households ``rows``."""
        grid = np.zeros((len(rows), last - first + 1), dtype=bool)
        lo, hi = max(first, self.start), min(last, self.start + self.months - 1)
        if hi >= lo:
            grid[:, lo - first : hi - first + 1] = self.present[
                rows, lo - self.start : hi - self.start + 1
            ]
        return grid

    def missing(self, first: int, last: int, rows: np.ndarray) -> list[list[str]]:
        """The missing months of the window ``first``..``last`` for the households ``rows``."""
        labels = np.array([month_text(m) for m in range(first, last + 1)], dtype=object)
        return [list(labels[~row]) for row in self.present_grid(first, last, rows)]


def build_panel(income_months: pd.DataFrame, codes: pd.Index, start: int, months: int) -> Panel:
    """Place the rows of ``income_months`` with a month in ``start .. start + months − 1`` and a
    household of ``codes`` in a dense grid and take cumulative sums along months.

    A household and month given twice is refused (the registry's key forbids it)."""
    n_h = len(codes)
    missing_cols = [
        c for c in (*AMOUNTS, "household_size", "household_code", "month") if c not in income_months
    ]
    if missing_cols:
        raise InputError(
            f"income_months 缺少列 / income_months lacks columns: {', '.join(missing_cols)}.",
            column=missing_cols[0],
            rule="required",
            fix="Give the registry's income_months table (household_code, month, net_income, …).",
        )
    hh = household_positions(codes, income_months["household_code"])
    mo = month_positions(income_months["month"]) - start
    keep = (hh >= 0) & (mo >= 0) & (mo < months)
    hh, mo = hh[keep], mo[keep]
    flat = hh.astype(np.int64) * months + mo
    present = np.zeros(n_h * months, dtype=bool)
    present[flat] = True
    if int(present.sum()) != len(flat):
        raise InputError(
            "income_months 同一户同一月份出现两次 / A household has two rows for one month.",
            column="month",
            rule="unique",
            fix="Keep one row per household and month (the registry's key).",
        )
    cumulative: dict[str, np.ndarray] = {}
    for name in (*AMOUNTS, "household_size"):
        grid = np.zeros(n_h * months, dtype=np.float64)
        values = income_months[name].to_numpy(dtype=np.float64, na_value=np.nan)[keep]
        if np.isnan(values).any():
            raise InputError(
                f"income_months 的 {name} 有空值 / {name} is empty in a row of income_months.",
                column=name,
                rule="required",
                fix="Fill every month's amounts (0 when there was none).",
            )
        grid[flat] = values
        cumulative[name] = _cumsum(grid.reshape(n_h, months))
    present_grid = present.reshape(n_h, months)
    cumulative["months"] = _cumsum(present_grid.astype(np.float64))
    return Panel(codes=codes, start=start, present=present_grid, cumulative=cumulative)


def _cumsum(grid: np.ndarray) -> np.ndarray:
    out = np.zeros((grid.shape[0], grid.shape[1] + 1), dtype=np.float64)
    np.cumsum(grid, axis=1, out=out[:, 1:])
    return out
