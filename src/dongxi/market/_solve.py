"""One call for either matching method."""

from __future__ import annotations

from dongxi.market._instance import Instance, IntArray
from dongxi.market._report import MethodName, method_name
from dongxi.market._stable import deferred_acceptance

__all__ = ["solve"]


def solve(instance: Instance, method: MethodName) -> IntArray:
    """Per seeker, the matched entry (-1: unmatched) of ``method`` on ``instance``."""
    if method_name(method) == "stable":
        return deferred_acceptance(instance)
    from dongxi.market._optimal import welfare_optimal  # OR-Tools only when asked for

    return welfare_optimal(instance)
