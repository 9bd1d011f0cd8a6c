"""Use cases shared by the command line, the demo and the web service.

Each use case takes the acting :class:`Principal` (who, role, scope) as its first keyword,
checks its permission, calls the engines and the registry, and returns a result object; the
callers parse their input, call one use case and present the result. No rule or query lives in
a caller. One module per concern: :mod:`~dongxi.services.imports`,
:mod:`~dongxi.services.exports`, :mod:`~dongxi.services.snapshots`,
:mod:`~dongxi.services.measurement`, :mod:`~dongxi.services.keys`,
:mod:`~dongxi.services.registry` (schema upkeep), :mod:`~dongxi.services.synthetic`.

The names below are loaded on first use, so importing a use-case module (or this package) does
not pull in the registry's libraries until a use case runs (``dongxi --help`` stays fast).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dongxi.services.principal import PERMISSIONS, ROLES, Permission, Principal, Role
    from dongxi.store.scope import Scope

__all__ = ["PERMISSIONS", "ROLES", "Permission", "Principal", "Role", "Scope"]

_WHERE = {
    "PERMISSIONS": "dongxi.services.principal",
    "ROLES": "dongxi.services.principal",
    "Permission": "dongxi.services.principal",
    "Principal": "dongxi.services.principal",
    "Role": "dongxi.services.principal",
    "Scope": "dongxi.store.scope",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'dongxi.services' has no attribute {name!r}")
