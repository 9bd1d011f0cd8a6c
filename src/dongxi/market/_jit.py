"""numba kernels compiled on their first call, not when their module is imported.

Importing numba costs ~0.3 s of CPU and loading a cached kernel another ~0.3 s (numba sets up
its typing and target contexts on the first call). Modules whose kernels only some callers need
— the instance, deferred acceptance, the blocking-pair count — wrap them with :func:`njit_lazy`,
so the rank-list files of ``dongxi match`` (NumPy only, :mod:`dongxi.market._rankfiles`) never
import numba. The kernel is the same Python function numba would have compiled at import: same
module, name and line, so numba's on-disk cache (``cache=True``) finds it as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

__all__ = ["njit_lazy"]

F = TypeVar("F", bound=Callable[..., Any])


class _LazyKernel:
    """Calls ``numba.njit(**options)(func)``, compiled (or loaded from the cache) on first use."""

    def __init__(self, func: Callable[..., Any], options: dict[str, Any]) -> None:
        self._func = func
        self._options = options
        self._compiled: Callable[..., Any] | None = None
        self.__name__ = func.__name__
        self.__doc__ = func.__doc__

    def __call__(self, *args: Any) -> Any:
        compiled = self._compiled
        if compiled is None:
            import numba

            compiled = self._compiled = numba.njit(**self._options)(self._func)
        return compiled(*args)


def njit_lazy(**options: Any) -> Callable[[F], F]:
    """Like ``numba.njit(**options)``, but numba is imported and the kernel compiled (or loaded
    from numba's cache) on the kernel's first call. Only for kernels called from Python: a
    compiled function cannot call a lazy one."""

    def wrap(func: F) -> F:
        return cast(F, _LazyKernel(func, options))

    return wrap
