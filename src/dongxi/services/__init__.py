"""Use cases shared by the command line, the demo and the web service.

Each use case takes the acting :class:`Principal` (who, role, scope), checks its permission,
calls the engines and the registry, and returns a result object; the callers parse their input,
call one use case and present the result. No rule or query lives in a caller.
"""

from __future__ import annotations

from dongxi.services.principal import PERMISSIONS, ROLES, Permission, Principal, Role

__all__ = ["PERMISSIONS", "ROLES", "Permission", "Principal", "Role"]
