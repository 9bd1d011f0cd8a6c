"""Fast construction of pandas ``str`` columns through pyarrow (millions of rows in milliseconds).

numpy's string conversions (``astype(str)``, ``np.char``) and pandas' conversion of object arrays
walk Python objects one by one; pyarrow's casts and dictionary decoding do the same in C++.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["codes", "date_text", "int_text", "join", "text"]


def text(values: Any, keep: npt.NDArray[np.bool_] | None = None) -> pd.Series:
    """A pandas ``str`` column from numpy strings or a pyarrow array; ``keep=False`` → missing."""
    arr = values if isinstance(values, pa.Array) else pa.array(values)
    if keep is not None:
        arr = pc.if_else(pa.array(keep), arr, pa.scalar(None, arr.type))
    return pd.Series(arr, dtype="str")


def codes(labels: Iterable[str], idx: npt.NDArray[np.int64], null: int = -1) -> pd.Series:
    """Labels of integer codes (``null`` → missing) by dictionary decoding; ``labels`` in code
    order (a tuple or a :class:`dongxi.vocab.Vocabulary`)."""
    indices = pa.array(np.maximum(idx, 0).astype(np.int32), mask=idx == null)
    decoded = pa.DictionaryArray.from_arrays(indices, pa.array(list(labels))).cast(pa.string())
    return pd.Series(decoded, dtype="str")


def int_text(values: npt.NDArray[np.int64]) -> pa.Array:
    """Decimal strings of integers."""
    return pa.array(values).cast(pa.string())


def date_text(days: npt.NDArray[np.datetime64]) -> pa.Array:
    """ISO ``YYYY-MM-DD`` strings of dates."""
    return pa.array(days.astype("datetime64[D]")).cast(pa.string())


def join(*parts: Any) -> pa.Array:
    """Element-wise concatenation of string arrays (or scalars)."""
    return pc.binary_join_element_wise(*parts, "")
