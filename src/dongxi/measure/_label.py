"""Group labels shared by every output row: values joined by commas, integral floats as ints."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["label", "label_values"]


def label(value: Any) -> str:
    """One subgroup value as text (``2.0`` → ``"2"``; missing → ``""``)."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        if math.isfinite(value) and float(value).is_integer():
            return str(int(value))
    return str(value)


def label_values(frame: pd.DataFrame, cols: Sequence[str]) -> pd.Series:
    """The group label of every row for the cross-classification ``cols``."""
    parts = [frame[c].map(label).astype(str) for c in cols]
    out = parts[0]
    for p in parts[1:]:
        out = out + "," + p
    return out
