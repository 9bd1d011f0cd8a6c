"""Who acts: the principal every use case takes (who, role, scope).

The web service will pass the logged-in user; the command line passes the operating-system user
with an explicit role (:meth:`Principal.local_operator`). Roles are named here once; what each
role may do is data (:data:`PERMISSIONS`), consulted through :meth:`Principal.require`.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from typing import Literal, get_args

from dongxi.errors import InputError, PermissionDeniedError
from dongxi.store.scope import Scope
from dongxi.vocab import USER_ROLES

__all__ = ["PERMISSIONS", "ROLES", "Permission", "Principal", "Role"]

#: A role is a code of :data:`dongxi.vocab.USER_ROLES` (checked when a principal is made).
Role = str
ROLES: tuple[Role, ...] = tuple(USER_ROLES.codes)

Permission = Literal[
    "registry:read",
    "registry:write",
    "registry:import",
    "registry:export",
    "pii:reveal",
    "snapshot:create",
    "measure:run",
    "market:run",
    "market:answer_seeker",
    "market:answer_partner",
    "monitor:sweep",
    "monitor:audit",
    "audit:read",
    "monitor:read",
    "monitor:open",
    "monitor:advance",
    "notice:read",
    "notice:manage",
    "keys:rotate",
    "users:manage",
]

_WEST_OFFICER: frozenset[Permission] = frozenset(
    {
        "registry:read",
        "registry:write",
        "registry:import",
        "registry:export",
        "market:answer_seeker",
        "monitor:sweep",
        "monitor:read",
        "monitor:open",
        "monitor:advance",
        "notice:read",
        "notice:manage",
    }
)
_SENIOR_OFFICER: frozenset[Permission] = _WEST_OFFICER | {
    "pii:reveal",
    "snapshot:create",
    "measure:run",
    "market:run",
    "monitor:audit",
}

#: Role → what it may do. Scope (which rows) is separate: it comes with the principal.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    "admin": frozenset(get_args(Permission)),
    "village_officer": _WEST_OFFICER,
    "township_officer": _WEST_OFFICER,
    "county_officer": _SENIOR_OFFICER,
    "city_officer": _SENIOR_OFFICER,
    "province_officer": _SENIOR_OFFICER,
    "east_partner": frozenset({"market:answer_partner"}),
    "east_office": frozenset({"measure:run"}),
    "analyst": frozenset({"snapshot:create", "measure:run", "monitor:sweep"}),
    "auditor": frozenset(
        {
            "registry:read",
            "audit:read",
            "monitor:sweep",
            "monitor:read",
            "monitor:audit",
            "notice:read",
        }
    ),
}


@dataclass(frozen=True)
class Principal:
    """The acting user: a name for the audit trail, a role and the rows in scope."""

    name: str
    role: Role
    scope: Scope = field(default_factory=Scope.everything)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InputError("A principal needs a name.", rule="principal", fix="Give a user name.")
        if self.role not in ROLES:
            raise InputError(
                "Unknown role.",
                column="role",
                value=self.role,
                rule="role",
                fix=f"Use one of: {', '.join(ROLES)}.",
            )

    @classmethod
    def local_operator(cls, role: Role = "admin") -> Principal:
        """The operating-system user at the command line, with an explicit role (all rows)."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (containers)
            user = "unknown"
        return cls(name=f"os:{user}", role=role, scope=Scope.everything())

    @property
    def actor(self) -> str:
        """How this principal is written in the change log: ``name (role)``."""
        return f"{self.name} ({self.role})"

    def can(self, permission: Permission) -> bool:
        """Whether the role grants ``permission``."""
        return permission in PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """Refuse (``PermissionDeniedError``) unless the role grants ``permission``."""
        if not self.can(permission):
            raise PermissionDeniedError(
                f"The role '{self.role}' may not do this ({permission}).",
                fix="Ask an administrator for a role that includes this permission.",
            )
