"""One call for either matching method."""

from __future__ import annotations

from dongxi.market._instance import Instance, IntArray
from dongxi.market._report import MethodName, method_name
from dongxi.market._stable import deferred_acceptance, deferred_acceptance_rounds

__all__ = ["solve"]


def solve(instance: Instance, method: MethodName, *, light: bool = False) -> IntArray:
    """Per seeker, the matched entry (-1: unmatched) of ``method`` on ``instance``.

    ``light``: for a process that matches once (a command's start-up counts), find the stable
    matching with NumPy rounds first (:func:`dongxi.market.deferred_acceptance_rounds`, no
    numba import) and run the compiled kernel only when the rounds would take long. Both give
    the same matching."""
    if method_name(method) == "stable":
        if light:
            rounds = deferred_acceptance_rounds(instance)
            if rounds is not None:
                return rounds
        return deferred_acceptance(instance)
    from dongxi.market._optimal import welfare_optimal  # OR-Tools only when asked for

    return welfare_optimal(instance)
